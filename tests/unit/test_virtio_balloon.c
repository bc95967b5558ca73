/*
 * virtio-balloon behind its transport, driven as Linux drives it: the target in the
 * config space, inflated pages given back (cleared here: the test's memory is not
 * gmem's mapping) and hostile PFNs skipped, deflate, the driver's actual, the
 * statistics buffer held and handed back by the timer, free page reporting, and the
 * queue numbering that follows the negotiated features.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_mmio.h>

#include "config/balloon.h"
#include "microvm/log.h"
#include "microvm/virtio_balloon.h"
#include "virtio_driver.h"

#define PAGE 4096u
#define PFNS VD_BUFS
#define STATS (VD_BUFS + 0x1000)

struct fixture {
	struct vd v;
	struct virtio_balloon b;
	struct virtio_mmio t;
};

static struct fixture *make(const struct balloon_config *c)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct virtio_device dev;
	struct virtio_irq irq;
	struct diag d;

	assert_non_null(f);
	assert_int_equal(virtio_balloon_open(&f->b, c, &d), 0);
	vd_init(&f->v);
	f->v.t = &f->t;
	irq = vd_irq(&f->v);
	virtio_balloon_device(&f->b, &f->t, &dev);
	assert_int_equal(virtio_mmio_init(&f->t, &dev, &f->v.mem, &irq, 0xd0004000), 0);
	return f;
}

static void destroy(struct fixture *f)
{
	virtio_mmio_destroy(&f->t);
	virtio_balloon_close(&f->b);
	vd_free(&f->v);
	free(f);
}

/* Negotiates features and sets up n queues. */
static void start(struct fixture *f, uint64_t features, unsigned int n)
{
	assert_true(vd_negotiate(&f->v, (1ULL << VIRTIO_F_VERSION_1) | features));
	for (unsigned int q = 0; q < n; q++)
		vd_setup_queue(&f->v, q, VD_QUEUE_SIZE);
	vd_driver_ok(&f->v);
}

/* Offers the PFNs on queue q as one readable buffer; true when the device used it. */
static bool send_pfns(struct fixture *f, unsigned int q, const uint32_t *pfns, uint32_t n)
{
	const struct vd_buf buf = { PFNS, n * 4, false };
	uint32_t id, len;

	memcpy(f->v.ram + PFNS, pfns, n * 4);
	vd_submit(&f->v, q, &buf, 1);
	return vd_used(&f->v, q, &id, &len);
}

static bool page_is(struct fixture *f, uint32_t pfn, uint8_t byte)
{
	for (uint32_t i = 0; i < PAGE; i++)
		if (f->v.ram[(uint64_t)pfn * PAGE + i] != byte)
			return false;
	return true;
}

static void config_and_features(void **state)
{
	(void)state;
	const struct balloon_config c = { .amount_mib = 3, .deflate_on_oom = true, .stats_interval_s = 1 };
	struct fixture *f = make(&c);
	uint64_t features = vd_device_features(&f->v);

	assert_int_equal(vd_read32(&f->v, VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_BALLOON);
	assert_true(features & (1ULL << VIRTIO_BALLOON_F_STATS_VQ));
	assert_true(features & (1ULL << VIRTIO_BALLOON_F_DEFLATE_ON_OOM));
	assert_false(features & (1ULL << VIRTIO_BALLOON_F_REPORTING));
	assert_false(features & (1ULL << VIRTIO_BALLOON_F_FREE_PAGE_HINT));
	assert_int_equal(vd_read32(&f->v, VIRTIO_MMIO_CONFIG), 3 * 256);
	/* The driver writes actual; num_pages is the host's. */
	start(f, 1ULL << VIRTIO_BALLOON_F_STATS_VQ, 3);
	vd_write32(&f->v, VIRTIO_MMIO_CONFIG + 4, 700);
	assert_int_equal(vd_read32(&f->v, VIRTIO_MMIO_CONFIG + 4), 700);
	vd_write32(&f->v, VIRTIO_MMIO_CONFIG, 1);
	assert_int_equal(vd_read32(&f->v, VIRTIO_MMIO_CONFIG), 3 * 256);
	assert_int_equal(atomic_load(&f->t.stats.guest_errors), 1);
	destroy(f);
}

static void inflate_and_deflate(void **state)
{
	(void)state;
	const struct balloon_config c = { .amount_mib = 1 };
	struct fixture *f = make(&c);
	/* Two runs, a page outside RAM, one past the 32-bit PFN space's RAM, a repeat. */
	const uint32_t pfns[] = { 0x300, 0x301, 0x302, 0x3ff, 0x400, 0xffffffff, 0x300 };
	uint32_t too_many[VIRTIO_BALLOON_PFNS_MAX + 1];

	memset(f->v.ram + 0x300 * PAGE, 0xaa, 0x100 * PAGE);
	start(f, 0, 2);
	assert_true(send_pfns(f, 0, pfns, 7));
	assert_true(page_is(f, 0x300, 0) && page_is(f, 0x301, 0) && page_is(f, 0x302, 0));
	assert_true(page_is(f, 0x3ff, 0));
	assert_true(page_is(f, 0x303, 0xaa) && page_is(f, 0x3fe, 0xaa));
	assert_int_equal(f->b.counts.inflated, 5);
	assert_int_equal(atomic_load(&f->t.stats.guest_errors), 2);
	assert_true(send_pfns(f, 1, pfns, 3));
	assert_int_equal(f->b.counts.deflated, 3);
	/* A chain of more PFNs than any driver sends is refused whole. */
	for (size_t i = 0; i < VIRTIO_BALLOON_PFNS_MAX + 1; i++)
		too_many[i] = 0x303;
	assert_true(send_pfns(f, 0, too_many, VIRTIO_BALLOON_PFNS_MAX + 1));
	assert_true(page_is(f, 0x303, 0xaa));
	assert_int_equal(f->b.counts.inflated, 5);
	/* A partial PFN is refused too. */
	{
		const struct vd_buf odd = { PFNS, 6, false };
		uint32_t id, len;

		vd_submit(&f->v, 0, &odd, 1);
		assert_true(vd_used(&f->v, 0, &id, &len));
		assert_int_equal(f->b.counts.inflated, 5);
	}
	destroy(f);
}

/* One statistics entry, packed as the driver writes it. */
static void stat(struct fixture *f, unsigned int i, uint16_t tag, uint64_t val)
{
	memcpy(f->v.ram + STATS + i * 10, &tag, 2);
	memcpy(f->v.ram + STATS + i * 10 + 2, &val, 8);
}

static void statistics(void **state)
{
	(void)state;
	const struct balloon_config c = { .amount_mib = 2, .stats_interval_s = 1 };
	struct fixture *f = make(&c);
	const struct vd_buf buf = { STATS, 3 * 10, false };
	struct virtio_balloon_stats st;
	struct iothread io;
	uint32_t id, len;

	start(f, 1ULL << VIRTIO_BALLOON_F_STATS_VQ, 3);
	assert_int_equal(iothread_init(&io), 0);
	assert_int_equal(virtio_balloon_device_ops.watch(&f->b, &io), 0);
	stat(f, 0, VIRTIO_BALLOON_S_MEMFREE, 1000);
	stat(f, 1, VIRTIO_BALLOON_S_MEMTOT, 2000);
	stat(f, 2, 99, 5);  /* a statistic this device does not know */
	vd_submit(&f->v, 2, &buf, 1);
	/* Held until the next poll. */
	assert_false(vd_used(&f->v, 2, &id, &len));
	virtio_balloon_get_stats(&f->b, &st);
	assert_int_equal(st.target_pages, 512);
	assert_int_equal(st.present, (1u << VIRTIO_BALLOON_S_MEMFREE) | (1u << VIRTIO_BALLOON_S_MEMTOT));
	assert_int_equal(st.values[VIRTIO_BALLOON_S_MEMFREE], 1000);
	assert_int_equal(st.values[VIRTIO_BALLOON_S_MEMTOT], 2000);
	/* The timer hands it back for fresh numbers. */
	while (!vd_used(&f->v, 2, &id, &len))
		assert_int_equal(iothread_poll(&io, 3000), 0);
	stat(f, 0, VIRTIO_BALLOON_S_MEMFREE, 900);
	vd_submit(&f->v, 2, &buf, 1);
	virtio_balloon_get_stats(&f->b, &st);
	assert_int_equal(st.values[VIRTIO_BALLOON_S_MEMFREE], 900);
	/* A second buffer while one is held: the held one goes back. */
	vd_submit(&f->v, 2, &buf, 1);
	assert_true(vd_used(&f->v, 2, &id, &len));
	assert_int_equal(f->b.counts.stats_updates, 3);
	iothread_destroy(&io);
	destroy(f);
}

/*
 * Linux primes the statistics queue before it sets DRIVER_OK: the buffer is taken then,
 * not lost, and the early notification is no guest error.
 */
static void statistics_primed_before_driver_ok(void **state)
{
	(void)state;
	const struct balloon_config c = { .amount_mib = 0, .stats_interval_s = 1 };
	struct fixture *f = make(&c);
	const struct vd_buf buf = { STATS, 10, false };
	struct virtio_balloon_stats st;

	assert_true(vd_negotiate(&f->v, (1ULL << VIRTIO_F_VERSION_1) | (1ULL << VIRTIO_BALLOON_F_STATS_VQ)));
	for (unsigned int q = 0; q < 3; q++)
		vd_setup_queue(&f->v, q, VD_QUEUE_SIZE);
	stat(f, 0, VIRTIO_BALLOON_S_MEMTOT, 4096);
	vd_submit(&f->v, 2, &buf, 1);
	assert_int_equal(f->b.counts.stats_updates, 0);
	vd_driver_ok(&f->v);
	assert_int_equal(f->b.counts.stats_updates, 1);
	virtio_balloon_get_stats(&f->b, &st);
	assert_int_equal(st.values[VIRTIO_BALLOON_S_MEMTOT], 4096);
	assert_int_equal(atomic_load(&f->t.stats.guest_errors), 0);
	/* A queue that is not ready is still an error to notify. */
	vd_notify(&f->v, 3);
	assert_int_equal(atomic_load(&f->t.stats.guest_errors), 1);
	destroy(f);
}

/* Reported free pages go back; the reporting queue's number follows the features. */
static void free_page_reporting(void **state)
{
	(void)state;
	const struct balloon_config with_stats = { .amount_mib = 0, .stats_interval_s = 5,
						   .free_page_reporting = true };
	const struct balloon_config alone = { .amount_mib = 0, .free_page_reporting = true };
	const struct balloon_config *configs[] = { &with_stats, &alone };

	for (unsigned int i = 0; i < 2; i++) {
		struct fixture *f = make(configs[i]);
		uint64_t features = (1ULL << VIRTIO_BALLOON_F_REPORTING) |
				    (i == 0 ? 1ULL << VIRTIO_BALLOON_F_STATS_VQ : 0);
		unsigned int q = i == 0 ? 3 : 2;
		const struct vd_buf bufs[] = { { 0x200000, 2 * PAGE, true }, { 0x300000 + 1, PAGE, true } };
		uint32_t id, len;

		memset(f->v.ram + 0x200000, 0xbb, 0x101000);
		start(f, features, q + 1);
		vd_submit(&f->v, q, bufs, 2);
		assert_true(vd_used(&f->v, q, &id, &len));
		assert_true(page_is(f, 0x200, 0) && page_is(f, 0x201, 0));
		assert_true(page_is(f, 0x202, 0xbb));
		/* Not whole pages: a guest error, the bytes kept. */
		assert_int_equal(f->v.ram[0x300000 + 1], 0xbb);
		assert_int_equal(f->b.counts.reported_bytes, 2 * PAGE);
		assert_int_equal(atomic_load(&f->t.stats.guest_errors), 1);
		destroy(f);
	}
}

/* PATCH /balloon: a new target tells the driver; statistics cannot appear after start. */
static void update(void **state)
{
	(void)state;
	const struct balloon_config c = { .amount_mib = 2, .stats_interval_s = 1 };
	const struct balloon_config more = { .amount_mib = 10, .stats_interval_s = 2 };
	const struct balloon_config off = { .amount_mib = 10 };
	struct fixture *f = make(&c);
	uint32_t gen, irqs;
	struct diag d;

	start(f, 1ULL << VIRTIO_BALLOON_F_STATS_VQ, 3);
	gen = vd_read32(&f->v, VIRTIO_MMIO_CONFIG_GENERATION);
	irqs = f->v.irqs;
	assert_int_equal(virtio_balloon_device_ops.update(&f->b, &more, DEVICE_CHANGE_BALLOON, &d), 0);
	assert_int_equal(vd_read32(&f->v, VIRTIO_MMIO_CONFIG), 10 * 256);
	assert_int_equal(vd_read32(&f->v, VIRTIO_MMIO_CONFIG_GENERATION), gen + 1);
	assert_int_equal(f->v.irqs, irqs + 1);
	assert_int_equal(f->b.stats_interval_s, 2);
	assert_int_equal(virtio_balloon_device_ops.update(&f->b, &off, DEVICE_CHANGE_BALLOON, &d), -EINVAL);
	assert_non_null(strstr(d.msg, "cannot be turned on or off"));
	assert_int_equal(f->b.stats_interval_s, 2);
	destroy(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(config_and_features),
		cmocka_unit_test(inflate_and_deflate),
		cmocka_unit_test(statistics),
		cmocka_unit_test(statistics_primed_before_driver_ok),
		cmocka_unit_test(free_page_reporting),
		cmocka_unit_test(update),
	};

	log_init("test_virtio_balloon", LOG_ERROR);
	return cmocka_run_group_tests_name("virtio_balloon", tests, NULL, NULL);
}
