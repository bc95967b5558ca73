/*
 * The device table and the registry over it, without KVM: every kind's two halves
 * agree (the threads that serve it, the I/O thread's watch, and a kind whose
 * notifications may go to the I/O thread still served on a vCPU's exit); devices are opened in
 * the table's order whatever the order they were configured in, each with its own
 * window and interrupt line, announced on the command line and claimed on the bus;
 * a device that cannot open leaves nothing open.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "config/devices.h"
#include "microvm/registry.h"

#define TEST_OPS_DECLARE(spec, ops) extern const struct device_ops ops;
DEVICE_KINDS(TEST_OPS_DECLARE)

static void check_kind(const struct device_spec *spec, const struct device_ops *ops)
{
	if (!spec->name || !spec->option || spec->max == 0 || ops->size == 0 || !ops->attach ||
	    !(ops->threads & (DEVICE_THREAD_VCPU | DEVICE_THREAD_IO)) ||
	    !(ops->threads & DEVICE_THREAD_IO) != !ops->watch ||
	    (ops->io_notify && (ops->threads & DEVICE_THREAD_VCPU) == 0) ||
	    (ops->io_notify >> VIRTIO_MMIO_MAX_QUEUES) != 0)
		fail_msg("device kind %s: its spec and ops disagree", spec->name);
}

#define TEST_KIND_CHECK(spec, ops) check_kind(&spec, &ops);

static void every_kind_is_whole(void **state)
{
	(void)state;
	DEVICE_KINDS(TEST_KIND_CHECK)
}

static void pulse(void *ctx, unsigned int gsi)
{
	(void)ctx;
	(void)gsi;
}

/* An rng, then a read-only drive over the image at path. */
static void configure(struct vm_resources *res, const char *path)
{
	char spec[64];
	struct diag d;

	resources_init(res);
	assert_int_equal(resources_add_device(res, &rng_spec, NULL, &d), 0);
	snprintf(spec, sizeof(spec), "path=%s,ro", path);
	assert_int_equal(resources_add_device(res, &drive_spec, spec, &d), 0);
}

static void table_order_windows_and_lines(void **state)
{
	(void)state;
	static uint8_t ram[2 * 1024 * 1024];
	char path[] = "/tmp/test_registry.XXXXXX";
	int fd = mkstemp(path);
	struct vm_resources res;
	struct cmdline_buf cl = { .len = 0 };
	static struct registry r;
	struct gmem mem;
	struct bus mmio;
	uint8_t magic[4];
	struct diag d;

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 4096), 0);
	configure(&res, path);
	assert_int_equal(registry_open(&r, &res, &d), 0);
	assert_int_equal(r.nr, 2);
	/* The drive comes first: the table's order, not the command line's. */
	assert_ptr_equal(r.slots[0].spec, &drive_spec);
	assert_int_equal(r.slots[0].base, 0xd0000000);
	assert_int_equal(r.slots[0].irq, 5);
	assert_ptr_equal(r.slots[1].spec, &rng_spec);
	assert_int_equal(r.slots[1].base, 0xd0001000);
	assert_int_equal(r.slots[1].irq, 6);
	assert_int_equal(registry_cmdline(&r, &cl, &d), 0);
	assert_string_equal(cl.text, "virtio_mmio.device=4K@0xd0000000:5 virtio_mmio.device=4K@0xd0001000:6");

	assert_int_equal(gmem_wrap(&mem, ram, sizeof(ram)), 0);
	bus_init(&mmio, "MMIO");
	assert_int_equal(registry_attach(&r, &mmio, &mem, pulse, NULL), 0);
	assert_string_equal(bus_find(&mmio, 0xd0001000, 4)->name, "virtio-rng");
	assert_true(bus_read(&mmio, 0xd0000000, magic, sizeof(magic)));
	assert_memory_equal(magic, "virt", 4);
	/* Both kinds' rate limiters resume their queues in the I/O thread's loop. */
	assert_true(r.io_ready);
	registry_close(&r);
	resources_free(&res);
	close(fd);
	unlink(path);
}

/* The drive opens, then the vsock socket cannot be bound: the drive is closed again. */
static void a_failed_open_leaves_nothing(void **state)
{
	(void)state;
	char path[] = "/tmp/test_registry.XXXXXX";
	int fd = mkstemp(path);
	struct vm_resources res;
	static struct registry r;
	struct diag d;

	assert_true(fd >= 0);
	configure(&res, path);
	assert_int_equal(resources_add_device(&res, &vsock_spec, "cid=3,uds=/nonexistent/v.sock", &d), 0);
	assert_int_equal(registry_open(&r, &res, &d), -ENOENT);
	assert_non_null(strstr(d.msg, "uds=/nonexistent/v.sock: cannot bind"));
	assert_int_equal(r.nr, 0);
	resources_free(&res);
	close(fd);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_kind_is_whole),
		cmocka_unit_test(table_order_windows_and_lines),
		cmocka_unit_test(a_failed_open_leaves_nothing),
	};

	return cmocka_run_group_tests_name("registry", tests, NULL, NULL);
}
