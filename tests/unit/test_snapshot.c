/*
 * The vmstate file as hostile input: the container (truncated at every length, every
 * byte corrupted, a foreign version, lengths past the end, non-zero padding, repeated
 * sections), the decoding (sizes, indices beyond the machine, missing sections, counts
 * beyond their arrays), the host CPU check, the transport's restore against guest
 * memory (every check of QUEUE_READY, and the state of a live queue carried over).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>

#include "microvm/virtio_mmio.h"
#include "snapshot_fixture.h"

static void test_roundtrip(void **state)
{
	struct snapshot *s = make_snapshot(), *back = NULL;
	struct diag d;
	size_t len;
	uint8_t *buf = encode(s, &len);

	(void)state;
	assert_int_equal(snapshot_decode(buf, len, &back, &d), 0);
	assert_memory_equal(&back->machine, &s->machine, sizeof(s->machine));
	assert_string_equal(back->config, s->config);
	assert_memory_equal(&back->vcpus[0], &s->vcpus[0], sizeof(s->vcpus[0]));
	assert_int_equal(back->cpuid[0].nr, 2);
	assert_memory_equal(back->cpuid[0].entries, s->cpuid[0].entries, 2 * sizeof(s->cpuid[0].entries[0]));
	assert_int_equal(back->msrs[0].nr, 1);
	assert_int_equal(back->msrs[0].entries[0].data, 12345);
	assert_memory_equal(&back->vm, &s->vm, sizeof(s->vm));
	assert_memory_equal(&back->legacy, &s->legacy, sizeof(s->legacy));
	assert_memory_equal(&back->devices[0], &s->devices[0], sizeof(s->devices[0]));
	assert_memory_equal(&back->acpi, &s->acpi, sizeof(s->acpi));
	free_snapshot(back);
	free_snapshot(s);
	free(buf);
}

/* zlib's CRC-32: its check value, and bit by bit (the definition) over every length to 300. */
static void test_crc32(void **state)
{
	uint8_t buf[300];

	(void)state;
	assert_int_equal(snapfmt_crc32((const uint8_t *)"123456789", 9), 0xcbf43926u);
	assert_int_equal(snapfmt_crc32(buf, 0), 0);
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 37 + 11);
	for (size_t len = 1; len <= sizeof(buf); len++) {
		uint32_t crc = 0xffffffffu;

		for (size_t i = 0; i < len; i++) {
			crc ^= buf[i];
			for (int k = 0; k < 8; k++)
				crc = (crc & 1) ? 0xedb88320u ^ (crc >> 1) : crc >> 1;
		}
		assert_int_equal(snapfmt_crc32(buf, len), crc ^ 0xffffffffu);
	}
}

static void test_truncated_everywhere(void **state)
{
	struct snapshot *s = make_snapshot();
	struct diag d;
	size_t len;
	uint8_t *buf = encode(s, &len);

	(void)state;
	for (size_t cut = 0; cut < len; cut++)
		assert_int_not_equal(decode(buf, cut, &d), 0);
	assert_int_equal(decode(buf, len - 1, &d), -EINVAL);
	assert_non_null(strstr(d.msg, "truncated"));
	free_snapshot(s);
	free(buf);
}

static void test_corrupted_everywhere(void **state)
{
	struct snapshot *s = make_snapshot();
	struct diag d;
	size_t len;
	uint8_t *buf = encode(s, &len);

	(void)state;
	/* Any flipped bit: the magic, the version, the lengths, or the checksum notices. */
	for (size_t i = 0; i < len; i++) {
		buf[i] ^= 0x10;
		assert_int_not_equal(decode(buf, len, &d), 0);
		buf[i] ^= 0x10;
	}
	buf[len / 2] ^= 1;
	assert_int_equal(decode(buf, len, &d), -EINVAL);
	assert_non_null(strstr(d.msg, "checksum"));
	free_snapshot(s);
	free(buf);
}

static void test_foreign_version_and_magic(void **state)
{
	struct snapshot *s = make_snapshot();
	struct diag d;
	size_t len;
	uint8_t *buf = encode(s, &len);
	uint32_t v = SNAPFMT_VERSION + 1;

	(void)state;
	memcpy(buf + 8, &v, 4);
	reseal(buf, len);
	assert_int_equal(decode(buf, len, &d), -EINVAL);
	assert_string_equal(d.msg, "format version 4: this microvm reads version 3 only");
	/*
	 * Version 1 had no ACPI section, version 2 three queues per transport and no balloon:
	 * refused by their version, before any section is read.
	 */
	for (v = 1; v < SNAPFMT_VERSION; v++) {
		char want[64];

		memcpy(buf + 8, &v, 4);
		reseal(buf, len);
		assert_int_equal(decode(buf, len, &d), -EINVAL);
		snprintf(want, sizeof(want), "format version %u: this microvm reads version 3 only", v);
		assert_string_equal(d.msg, want);
	}
	v = SNAPFMT_VERSION;
	memcpy(buf + 8, &v, 4);
	buf[0] = 'X';
	reseal(buf, len);
	assert_int_equal(decode(buf, len, &d), -EINVAL);
	assert_non_null(strstr(d.msg, "not a vmstate file"));
	free_snapshot(s);
	free(buf);
}

static void test_bad_lengths(void **state)
{
	struct snapshot *s = make_snapshot();
	struct diag d;
	size_t len;
	uint8_t *buf = encode(s, &len);
	size_t off = section_offset(buf, len, SNAP_VCPU, 0);
	uint64_t orig, l;

	(void)state;
	memcpy(&orig, buf + off + 8, 8);
	/* Past the end, at the edge of overflow, and one byte short of the struct. */
	const uint64_t bad[] = { len, UINT64_MAX, UINT64_MAX - 7, orig - 8 };
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		l = bad[i];
		memcpy(buf + off + 8, &l, 8);
		reseal(buf, len);
		assert_int_equal(decode(buf, len, &d), -EINVAL);
	}
	l = len;
	memcpy(buf + off + 8, &l, 8);
	reseal(buf, len);
	assert_int_equal(decode(buf, len, &d), -EINVAL);
	assert_non_null(strstr(d.msg, "exceeds"));
	memcpy(buf + off + 8, &orig, 8);
	/* The header's body length disagreeing with the file. */
	memcpy(&l, buf + 16, 8);
	l += 8;
	memcpy(buf + 16, &l, 8);
	reseal(buf, len);
	assert_int_equal(decode(buf, len, &d), -EINVAL);
	assert_non_null(strstr(d.msg, "body length"));
	free_snapshot(s);
	free(buf);
}

static void test_bad_indices_and_sections(void **state)
{
	struct snapshot *s = make_snapshot();
	struct diag d;
	size_t len;
	uint8_t *buf = encode(s, &len);
	size_t off;
	uint32_t v;

	(void)state;
	/* A vCPU section for vCPU 5 of a 1-vCPU machine. */
	off = section_offset(buf, len, SNAP_VCPU, 0);
	v = 5;
	memcpy(buf + off + 4, &v, 4);
	reseal(buf, len);
	assert_int_equal(decode(buf, len, &d), -EINVAL);
	assert_non_null(strstr(d.msg, "index beyond the machine's 1"));
	v = 0;
	memcpy(buf + off + 4, &v, 4);
	/* A device section twice: the MSR section renamed to device 0. */
	off = section_offset(buf, len, SNAP_MSRS, 0);
	v = SNAP_DEVICE;
	memcpy(buf + off, &v, 4);
	reseal(buf, len);
	assert_int_equal(decode(buf, len, &d), -EINVAL);
	assert_non_null(strstr(d.msg, "appears twice"));
	/* An unknown tag. */
	v = 99;
	memcpy(buf + off, &v, 4);
	reseal(buf, len);
	assert_int_equal(decode(buf, len, &d), -EINVAL);
	assert_non_null(strstr(d.msg, "unknown tag 99"));
	free_snapshot(s);
	free(buf);
}

static void test_missing_section(void **state)
{
	struct snapshot *s = make_snapshot();
	struct snapfmt_writer w;
	const uint8_t *buf;
	struct diag d;
	size_t len;

	(void)state;
	/* Everything the writer puts in but the legacy devices. */
	snapfmt_writer_init(&w);
	add_sections(&w, s, SNAP_LEGACY);
	assert_int_equal(snapfmt_finish(&w, &buf, &len), 0);
	assert_int_equal(decode(buf, len, &d), -EINVAL);
	assert_string_equal(d.msg, "section legacy 0 is missing");
	snapfmt_writer_free(&w);
	free_snapshot(s);
}

static void test_bad_values(void **state)
{
	struct snapshot *s = make_snapshot();
	struct diag d;
	size_t len;
	uint8_t *buf;

	uint32_t vcpus = 65;

	(void)state;
	/* The writer refuses such a machine: edited in. */
	buf = encode(s, &len);
	memcpy(buf + section_offset(buf, len, SNAP_MACHINE, 0) + SNAPFMT_SECTION_LEN, &vcpus, 4);
	reseal(buf, len);
	assert_int_equal(decode(buf, len, &d), -EINVAL);
	assert_string_equal(d.msg, "section machine: 65 vCPUs (1 to 64)");
	free(buf);
	s->machine.ram_size = RAM + 1;
	buf = encode(s, &len);
	assert_int_equal(decode(buf, len, &d), -EINVAL);
	free(buf);
	s->machine.ram_size = RAM;
	s->legacy.serial.rx_head = 16;
	buf = encode(s, &len);
	assert_int_equal(decode(buf, len, &d), -EINVAL);
	assert_non_null(strstr(d.msg, "serial"));
	free(buf);
	s->legacy.serial.rx_head = 0;
	s->vcpus[0].xcrs.nr_xcrs = KVM_MAX_XCRS + 1;
	buf = encode(s, &len);
	assert_int_equal(decode(buf, len, &d), -EINVAL);
	assert_non_null(strstr(d.msg, "XCRs"));
	free(buf);
	s->vcpus[0].xcrs.nr_xcrs = 0;
	s->devices[0].nr_queues = SNAP_MAX_QUEUES + 1;
	buf = encode(s, &len);
	assert_int_equal(decode(buf, len, &d), -EINVAL);
	assert_non_null(strstr(d.msg, "queue count"));
	free(buf);
	free_snapshot(s);
}

static void test_counts_beyond_arrays(void **state)
{
	struct snapshot *s = make_snapshot();
	struct diag d;
	size_t len;
	uint8_t *buf = encode(s, &len);
	size_t off = section_offset(buf, len, SNAP_MSRS, 0);
	uint32_t count = SNAP_MAX_MSRS + 1;

	(void)state;
	memcpy(buf + off + SNAPFMT_SECTION_LEN, &count, 4);
	reseal(buf, len);
	assert_int_equal(decode(buf, len, &d), -EINVAL);
	assert_non_null(strstr(d.msg, "count 257"));
	/* A count that fits but disagrees with the length. */
	count = 2;
	memcpy(buf + off + SNAPFMT_SECTION_LEN, &count, 4);
	reseal(buf, len);
	assert_int_equal(decode(buf, len, &d), -EINVAL);
	assert_non_null(strstr(d.msg, "for 2 entries"));
	free_snapshot(s);
	free(buf);
}

static void test_padding_must_be_zero(void **state)
{
	struct snapshot *s = make_snapshot();
	struct diag d;
	size_t len, off;
	uint8_t *buf;
	uint64_t l;

	(void)state;
	free(s->config);
	s->config = strdup("{}");   /* 2 bytes: 6 of padding */
	buf = encode(s, &len);
	off = section_offset(buf, len, SNAP_CONFIG, 0);
	memcpy(&l, buf + off + 8, 8);
	assert_int_equal(l, 2);
	buf[off + SNAPFMT_SECTION_LEN + 3] = 1;
	reseal(buf, len);
	assert_int_equal(decode(buf, len, &d), -EINVAL);
	assert_non_null(strstr(d.msg, "padding"));
	free_snapshot(s);
	free(buf);
}

static void test_cpu_features(void **state)
{
	struct snapshot *s = make_snapshot();
	struct kvm_cpuid2 *host = calloc(1, sizeof(*host) + 4 * sizeof(struct kvm_cpuid_entry2));
	struct diag d;

	(void)state;
	host->nent = 2;
	host->entries[0] = (struct kvm_cpuid_entry2){ .function = 1, .edx = 1 };
	host->entries[1] = (struct kvm_cpuid_entry2){ .function = 7, .flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX,
						      .ebx = 1u << 3 };
	/* The hypervisor bit is the VMM's: not a missing feature. */
	assert_int_equal(snapstate_check_cpu(&s->cpuid[0], host, &d), 0);
	host->entries[1].ebx = 0;
	assert_int_equal(snapstate_check_cpu(&s->cpuid[0], host, &d), -ENOTSUP);
	assert_string_equal(d.msg, "the snapshot needs CPU features this host lacks: CPUID leaf 0x7.0 ebx bits 0x00000008");
	host->nent = 0;
	assert_int_equal(snapstate_check_cpu(&s->cpuid[0], host, &d), -ENOTSUP);
	assert_non_null(strstr(d.msg, "leaf 0x1.0 edx bits 0x00000001"));
	free(host);
	free_snapshot(s);
}

/* ---- the transport's restore ---- */

struct tfix {
	uint8_t *ram;
	struct gmem mem;
	struct virtio_mmio t;
	unsigned int notified;
};

static void t_notify(void *ctx, unsigned int queue)
{
	(void)queue;
	((struct tfix *)ctx)->notified++;
}

static void t_pulse(void *ctx, unsigned int gsi)
{
	(void)ctx;
	(void)gsi;
}

static const struct virtio_device_ops t_ops = { .name = "test", .device_id = 4, .nr_queues = 1,
						.notify = t_notify };

static int t_setup(void **state)
{
	struct tfix *f = calloc(1, sizeof(*f));
	struct virtio_device dev = { .ops = &t_ops, .ctx = f };
	struct virtio_irq irq = { .pulse = t_pulse, .ctx = f, .gsi = 5 };

	assert_non_null(f);
	f->ram = calloc(1, RAM);
	assert_int_equal(gmem_wrap(&f->mem, f->ram, RAM), 0);
	assert_int_equal(virtio_mmio_init(&f->t, &dev, &f->mem, &irq, 0xd0000000), 0);
	*state = f;
	return 0;
}

static int t_teardown(void **state)
{
	struct tfix *f = *state;

	virtio_mmio_destroy(&f->t);
	free(f->ram);
	free(f);
	return 0;
}

static const char *t_restore(struct tfix *f, const struct snap_transport *in)
{
	const char *why = NULL;

	return virtio_mmio_restore(&f->t, in, &why) ? why : NULL;
}

static void test_transport_roundtrip(void **state)
{
	struct tfix *f = *state;
	struct snapshot *s = make_snapshot();
	struct snap_transport back;

	assert_null(t_restore(f, &s->devices[0]));
	assert_true(virtio_mmio_queue_live(&f->t, 0));
	assert_int_equal(f->t.queues[0].size, 16);
	assert_int_equal(f->t.queues[0].next_avail, 7);
	virtio_mmio_save(&f->t, &back);
	assert_memory_equal(&back, &s->devices[0], sizeof(back));
	free_snapshot(s);
}

static void test_transport_refused(void **state)
{
	struct tfix *f = *state;
	struct snapshot *s = make_snapshot();
	struct snap_transport bad;

	bad = s->devices[0];
	bad.device_id = 2;
	assert_non_null(strstr(t_restore(f, &bad), "different device kind"));
	bad = s->devices[0];
	bad.queues[0].used = RAM - 8;
	assert_string_equal(t_restore(f, &bad), "used ring outside guest RAM");
	assert_false(virtio_mmio_queue_live(&f->t, 0));
	assert_int_equal(f->t.status, 0);
	bad = s->devices[0];
	bad.queues[0].num = 12;
	assert_string_equal(t_restore(f, &bad), "queue size not a power of two up to the maximum");
	bad = s->devices[0];
	bad.queues[0].desc = 0x10001;
	assert_string_equal(t_restore(f, &bad), "misaligned ring");
	bad = s->devices[0];
	bad.queues[0].next_avail = 7 + 17;
	assert_string_equal(t_restore(f, &bad), "more chains in flight than the queue holds");
	bad = s->devices[0];
	bad.driver_features |= 1ULL << 40;
	assert_string_equal(t_restore(f, &bad), "driver features the device does not offer");
	bad = s->devices[0];
	bad.status = VIRTIO_CONFIG_S_DRIVER_OK;
	assert_string_equal(t_restore(f, &bad), "DRIVER_OK without FEATURES_OK");
	bad = s->devices[0];
	bad.status = VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER;
	assert_string_equal(t_restore(f, &bad), "a queue ready before FEATURES_OK");
	bad = s->devices[0];
	bad.driver_features = 0;
	assert_string_equal(t_restore(f, &bad), "FEATURES_OK without VIRTIO_F_VERSION_1");
	bad = s->devices[0];
	bad.status = 0x1ff;
	assert_string_equal(t_restore(f, &bad), "status or interrupt bits out of range");
	free_snapshot(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_crc32),
		cmocka_unit_test(test_truncated_everywhere),
		cmocka_unit_test(test_corrupted_everywhere),
		cmocka_unit_test(test_foreign_version_and_magic),
		cmocka_unit_test(test_bad_lengths),
		cmocka_unit_test(test_bad_indices_and_sections),
		cmocka_unit_test(test_missing_section),
		cmocka_unit_test(test_bad_values),
		cmocka_unit_test(test_counts_beyond_arrays),
		cmocka_unit_test(test_padding_must_be_zero),
		cmocka_unit_test(test_cpu_features),
		cmocka_unit_test_setup_teardown(test_transport_roundtrip, t_setup, t_teardown),
		cmocka_unit_test_setup_teardown(test_transport_refused, t_setup, t_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
