/*
 * The vmstate's balloon section and the transport's early notifications as hostile
 * input (page counts within guest RAM, flags, statistics, reserved bytes, a section
 * missing, short, repeated or for a device that is not a balloon), and virtio-balloon
 * saved and rebuilt from a snapshot: the driver's actual, the held statistics buffer
 * (handed back by the restored device's timer), the statistics, and the checks of the
 * state against the configuration that rebuilt the device.
 */
#include <endian.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <linux/virtio_balloon.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_mmio.h>

#include "config/balloon.h"
#include "microvm/log.h"
#include "microvm/virtio_balloon.h"
#include "snapshot_fixture.h"
#include "virtio_driver.h"

#define STATS (VD_BUFS + 0x1000)

/* make_snapshot's machine with a second device, a balloon with its section. */
static struct snapshot *make_balloon_snapshot(void)
{
	struct snapshot *s = make_snapshot();

	s->machine.nr_devices = 2;
	s->devices[1] = (struct snap_transport){ .device_id = VIRTIO_ID_BALLOON, .nr_queues = 4 };
	snapstate_describe(&s->acpi, &(struct platform_config){ .vcpus = 1, .nr_virtio = 2,
		.virtio = { { .base = LAYOUT_VIRTIO_MMIO_START, .irq = LAYOUT_VIRTIO_IRQ_FIRST },
			    { .base = LAYOUT_VIRTIO_MMIO_START + LAYOUT_VIRTIO_MMIO_SIZE,
			      .irq = LAYOUT_VIRTIO_IRQ_FIRST + 1 } } }, false);
	s->has_balloon = true;
	s->balloon = (struct snap_balloon){ .slot = 1, .num_pages = 256, .actual = 200,
					    .stats_interval_s = 5, .stats_held = 1, .stats_head = 3,
					    .stats_present = 1u << VIRTIO_BALLOON_S_MEMFREE };
	s->balloon.stats[VIRTIO_BALLOON_S_MEMFREE] = 1 << 20;
	return s;
}

static void test_section_roundtrip(void **state)
{
	struct snapshot *s = make_balloon_snapshot(), *back = NULL;
	struct diag d;
	size_t len;
	uint8_t *buf = encode(s, &len);

	(void)state;
	assert_int_equal(snapshot_decode(buf, len, &back, &d), 0);
	assert_true(back->has_balloon);
	assert_memory_equal(&back->balloon, &s->balloon, sizeof(s->balloon));
	free_snapshot(back);
	free(buf);
	/* No balloon, no section: the machine without one decodes without it. */
	free_snapshot(s);
	s = make_snapshot();
	buf = encode(s, &len);
	assert_int_equal(snapshot_decode(buf, len, &back, &d), 0);
	assert_false(back->has_balloon);
	free_snapshot(back);
	free_snapshot(s);
	free(buf);
}

#define EDIT(field, value)                                                                      \
	edit_section(buf, len, SNAP_BALLOON, 0, offsetof(struct snap_balloon, field),                   \
	     &(__typeof__(((struct snap_balloon *)0)->field)){ value },                           \
	     sizeof(((struct snap_balloon *)0)->field), &d)

static void test_section_hostile(void **state)
{
	struct snapshot *s = make_balloon_snapshot();
	struct diag d;
	size_t len;
	uint8_t *buf = encode(s, &len);

	(void)state;
	/* Page counts: all of the guest's 512 pages is the most. */
	assert_int_equal(EDIT(num_pages, 512), 0);
	assert_int_equal(EDIT(num_pages, 513), -EINVAL);
	assert_non_null(strstr(d.msg, "target 513 or actual 200 pages beyond the guest's 512"));
	assert_int_equal(EDIT(actual, 512), 0);
	assert_int_equal(EDIT(actual, UINT32_MAX), -EINVAL);
	/* The slot: a balloon device of the machine's. */
	assert_int_equal(EDIT(slot, 0), -EINVAL);
	assert_non_null(strstr(d.msg, "a balloon without its section"));
	assert_int_equal(EDIT(slot, 2), -EINVAL);
	assert_int_equal(EDIT(slot, UINT32_MAX), -EINVAL);
	assert_int_equal(EDIT(stats_interval_s, BALLOON_STATS_INTERVAL_MAX), 0);
	assert_int_equal(EDIT(stats_interval_s, BALLOON_STATS_INTERVAL_MAX + 1), -EINVAL);
	assert_non_null(strstr(d.msg, "statistics interval 86401 s"));
	assert_int_equal(EDIT(deflate_on_oom, 2), -EINVAL);
	assert_int_equal(EDIT(reporting, 0xff), -EINVAL);
	assert_int_equal(EDIT(stats_held, 2), -EINVAL);
	assert_int_equal(EDIT(reserved0, 1), -EINVAL);
	assert_int_equal(EDIT(reserved1, 1), -EINVAL);
	assert_int_equal(EDIT(reserved2, 1), -EINVAL);
	/* A held buffer needs a statistics queue; a head only with a held buffer. */
	assert_int_equal(EDIT(stats_interval_s, 0), -EINVAL);
	assert_non_null(strstr(d.msg, "without a statistics queue"));
	assert_int_equal(EDIT(stats_held, 0), -EINVAL);
	/* Statistics: only known tags, no value the driver did not send. */
	assert_int_equal(EDIT(stats_present, (1u << VIRTIO_BALLOON_S_MEMFREE) | (1u << VIRTIO_BALLOON_S_NR)), -EINVAL);
	assert_non_null(strstr(d.msg, "not one the device keeps"));
	assert_int_equal(EDIT(stats_present, (1u << VIRTIO_BALLOON_S_MEMFREE) | (1u << 31)), -EINVAL);
	assert_non_null(strstr(d.msg, "statistics beyond those kept"));
	assert_int_equal(EDIT(stats_present, 0), -EINVAL);
	assert_non_null(strstr(d.msg, "a value not sent"));
	assert_int_equal(EDIT(stats[SNAP_BALLOON_STATS - 1], 1), -EINVAL);
	assert_int_equal(EDIT(stats[VIRTIO_BALLOON_S_MEMFREE], 0), 0);
	free_snapshot(s);
	free(buf);
}

static void test_section_shape(void **state)
{
	struct snapshot *s = make_balloon_snapshot();
	struct diag d;
	size_t len;
	uint8_t *buf;
	uint32_t v;

	(void)state;
	/* Missing while a device is a balloon. */
	s->has_balloon = false;
	buf = encode(s, &len);
	assert_int_equal(decode(buf, len, &d), -EINVAL);
	assert_string_equal(d.msg, "section device 1: a balloon without its section");
	free(buf);
	/* Present while no device is one. */
	s->has_balloon = true;
	s->devices[1].device_id = 2;
	buf = encode(s, &len);
	assert_int_equal(decode(buf, len, &d), -EINVAL);
	assert_non_null(strstr(d.msg, "device 1 is not a balloon"));
	free(buf);
	s->devices[1].device_id = VIRTIO_ID_BALLOON;
	/* Index 1 of a section a machine has once. */
	buf = encode(s, &len);
	v = 1;
	memcpy(buf + section_offset(buf, len, SNAP_BALLOON, 0) + 4, &v, 4);
	reseal(buf, len);
	assert_int_equal(decode(buf, len, &d), -EINVAL);
	assert_non_null(strstr(d.msg, "index beyond the machine's 1"));
	free(buf);
	/* Cut anywhere: refused, never read past the end. */
	buf = encode(s, &len);
	for (size_t cut = 0; cut < len; cut += 8) {
		uint8_t *part = malloc(cut ? cut : 1);

		assert_non_null(part);
		memcpy(part, buf, cut);
		assert_int_equal(decode(part, cut, &d), -EINVAL);
		free(part);
	}
	/* One byte short: the section's length says so. */
	v = sizeof(struct snap_balloon) - 1;
	memcpy(buf + section_offset(buf, len, SNAP_BALLOON, 0) + 8, &v, 4);
	reseal(buf, len);
	assert_int_equal(decode(buf, len, &d), -EINVAL);
	free(buf);
	free_snapshot(s);
}

/* A transport's early notifications: ready queues only, and never after DRIVER_OK. */
static void test_early_notify(void **state)
{
	struct snapshot *s = make_snapshot();
	struct diag d;
	size_t len;
	uint8_t *buf;
	const size_t at = offsetof(struct snap_transport, early_notify);
	uint32_t v = 1;

	(void)state;
	s->devices[0].status &= ~(uint32_t)VIRTIO_CONFIG_S_DRIVER_OK;
	buf = encode(s, &len);
	assert_int_equal(edit_section(buf, len, SNAP_DEVICE, 0, at, &v, 4, &d), 0);
	v = 2;
	assert_int_equal(edit_section(buf, len, SNAP_DEVICE, 0, at, &v, 4, &d), -EINVAL);
	assert_non_null(strstr(d.msg, "an early notification for a queue not ready"));
	v = 1u << SNAP_MAX_QUEUES;
	assert_int_equal(edit_section(buf, len, SNAP_DEVICE, 0, at, &v, 4, &d), -EINVAL);
	v = 1;
	assert_int_equal(edit_section(buf, len, SNAP_DEVICE, 0, offsetof(struct snap_transport, reserved), &v, 4, &d),
			 -EINVAL);
	free(buf);
	s->devices[0].status |= VIRTIO_CONFIG_S_DRIVER_OK;
	buf = encode(s, &len);
	assert_int_equal(edit_section(buf, len, SNAP_DEVICE, 0, at, &v, 4, &d), -EINVAL);
	assert_non_null(strstr(d.msg, "after DRIVER_OK"));
	free(buf);
	free_snapshot(s);
}

/* ---- the device ---- */

struct fixture {
	struct vd v;
	struct virtio_balloon b;
	struct virtio_mmio t;
};

/* A fresh model and transport over v's memory, as a restoring process builds them. */
static void open_device(struct fixture *f, const struct balloon_config *c)
{
	struct virtio_device dev;
	struct virtio_irq irq = vd_irq(&f->v);
	struct diag d;

	assert_int_equal(virtio_balloon_open(&f->b, c, &d), 0);
	virtio_balloon_device(&f->b, &f->t, &dev);
	assert_int_equal(virtio_mmio_init(&f->t, &dev, &f->v.mem, &irq, 0xd0001000), 0);
}

static void close_device(struct fixture *f)
{
	virtio_mmio_destroy(&f->t);
	virtio_balloon_close(&f->b);
}

static const struct balloon_config config = { .amount_mib = 3, .deflate_on_oom = true,
					      .stats_interval_s = 1 };

/* A balloon whose driver wrote actual and left a statistics buffer held, saved into a snapshot. */
static struct fixture *saved(struct snapshot **out)
{
	struct fixture *f = calloc(1, sizeof(*f));
	const struct vd_buf buf = { STATS, 10, false };
	const uint16_t tag = VIRTIO_BALLOON_S_MEMFREE;
	const uint64_t val = 12345;
	struct snapshot *s = calloc(1, sizeof(*s));

	assert_non_null(f);
	assert_non_null(s);
	vd_init(&f->v);
	f->v.t = &f->t;
	open_device(f, &config);
	assert_true(vd_negotiate(&f->v, (1ULL << VIRTIO_F_VERSION_1) | (1ULL << VIRTIO_BALLOON_F_STATS_VQ)));
	for (unsigned int q = 0; q < 3; q++)
		vd_setup_queue(&f->v, q, VD_QUEUE_SIZE);
	vd_driver_ok(&f->v);
	vd_write32(&f->v, VIRTIO_MMIO_CONFIG + 4, 300);
	memcpy(f->v.ram + STATS, &tag, 2);
	memcpy(f->v.ram + STATS + 2, &val, 8);
	vd_submit(&f->v, 2, &buf, 1);
	assert_true(f->b.stats_held);
	virtio_mmio_save(&f->t, &s->devices[1]);
	virtio_balloon_device_ops.save(&f->b, s, 1);
	*out = s;
	return f;
}

static void test_device_roundtrip(void **state)
{
	struct snapshot *s;
	struct fixture *f = saved(&s);
	struct virtio_balloon_stats st;
	struct iothread io;
	const char *why = NULL;
	uint32_t id, len;

	(void)state;
	assert_true(s->has_balloon);
	assert_int_equal(s->balloon.slot, 1);
	assert_int_equal(s->balloon.num_pages, 3 * 256);
	assert_int_equal(s->balloon.actual, 300);
	assert_int_equal(s->balloon.stats_held, 1);
	assert_int_equal(s->balloon.deflate_on_oom, 1);
	/* A new process: the device from its config, then the snapshot's state. */
	close_device(f);
	open_device(f, &config);
	assert_int_equal(virtio_mmio_restore(&f->t, &s->devices[1], &why), 0);
	assert_int_equal(virtio_balloon_device_ops.restore(&f->b, s, 1, &why), 0);
	assert_int_equal(vd_read32(&f->v, VIRTIO_MMIO_CONFIG), 3 * 256);
	assert_int_equal(vd_read32(&f->v, VIRTIO_MMIO_CONFIG + 4), 300);
	virtio_balloon_get_stats(&f->b, &st);
	assert_int_equal(st.actual_pages, 300);
	assert_int_equal(st.present, 1u << VIRTIO_BALLOON_S_MEMFREE);
	assert_int_equal(st.values[VIRTIO_BALLOON_S_MEMFREE], 12345);
	/* The held buffer goes back to the driver at the restored device's first poll. */
	assert_int_equal(iothread_init(&io), 0);
	assert_int_equal(virtio_balloon_device_ops.watch(&f->b, &io), 0);
	assert_false(vd_used(&f->v, 2, &id, &len));
	while (!vd_used(&f->v, 2, &id, &len))
		assert_int_equal(iothread_poll(&io, 3000), 0);
	assert_false(f->b.stats_held);
	iothread_destroy(&io);
	close_device(f);
	vd_free(&f->v);
	free(f);
	free(s);
}

/* Restores s's balloon into a device rebuilt from c: NULL, or why not. */
static const char *restore_with(struct fixture *f, const struct snapshot *s, const struct balloon_config *c,
				unsigned int slot)
{
	const char *why = NULL;
	int ret;

	close_device(f);
	open_device(f, c);
	assert_int_equal(virtio_mmio_restore(&f->t, &s->devices[1], &why), 0);
	ret = virtio_balloon_device_ops.restore(&f->b, s, slot, &why);
	assert_int_equal(ret, why ? -EINVAL : 0);
	return why;
}

static void test_device_refused(void **state)
{
	struct snapshot *s;
	struct fixture *f = saved(&s);
	const struct balloon_config other_target = { .amount_mib = 4, .deflate_on_oom = true, .stats_interval_s = 1 };
	const struct balloon_config other_interval = { .amount_mib = 3, .deflate_on_oom = true, .stats_interval_s = 2 };
	const struct balloon_config no_oom = { .amount_mib = 3, .stats_interval_s = 1 };
	struct snapshot *bad = malloc(sizeof(*bad));

	(void)state;
	assert_non_null(bad);
	assert_null(restore_with(f, s, &config, 1));
	assert_non_null(strstr(restore_with(f, s, &other_target, 1), "differ from its configuration"));
	assert_non_null(restore_with(f, s, &other_interval, 1));
	assert_non_null(restore_with(f, s, &no_oom, 1));
	/* Another slot's state, or none. */
	assert_string_equal(restore_with(f, s, &config, 0), "no balloon state for it");
	memcpy(bad, s, sizeof(*s));
	bad->has_balloon = false;
	assert_string_equal(restore_with(f, bad, &config, 1), "no balloon state for it");
	/* A held buffer beyond the queue, or with nothing in flight. */
	memcpy(bad, s, sizeof(*s));
	bad->balloon.stats_head = VD_QUEUE_SIZE;
	assert_non_null(strstr(restore_with(f, bad, &config, 1), "not in flight"));
	memcpy(bad, s, sizeof(*s));
	bad->devices[1].queues[2].next_used = bad->devices[1].queues[2].next_avail;
	assert_non_null(strstr(restore_with(f, bad, &config, 1), "not in flight"));
	/* The refused state was not taken. */
	assert_int_equal(le32toh(f->b.config.actual), 0);
	assert_false(f->b.stats_held);
	close_device(f);
	vd_free(&f->v);
	free(f);
	free(bad);
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_section_roundtrip),
		cmocka_unit_test(test_section_hostile),
		cmocka_unit_test(test_section_shape),
		cmocka_unit_test(test_early_notify),
		cmocka_unit_test(test_device_roundtrip),
		cmocka_unit_test(test_device_refused),
	};

	log_init("test_snapshot_balloon", LOG_ERROR);
	return cmocka_run_group_tests_name("snapshot_balloon", tests, NULL, NULL);
}
