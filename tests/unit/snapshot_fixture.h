/*
 * The vmstate fixtures test_snapshot.c and test_snapshot_acpi.c share: a small machine
 * (one vCPU, one virtio device with one ready queue), its file, edits resealed so that
 * only the edit is judged, and where a section lies in the file. Include after <cmocka.h>.
 */
#ifndef MICROVM_TESTS_SNAPSHOT_FIXTURE_H
#define MICROVM_TESTS_SNAPSHOT_FIXTURE_H

#include <linux/virtio_config.h>

#include "arch/x86/layout.h"
#include "snapshot/file.h"
#include "snapshot/format.h"
#include "snapshot/state.h"

#define RAM (2ULL << 20)

/* A small machine: one vCPU, one virtio device with one ready queue. */
static inline struct snapshot *make_snapshot(void)
{
	struct snapshot *s = calloc(1, sizeof(*s));

	assert_non_null(s);
	s->machine = (struct snap_machine){ .nr_vcpus = 1, .nr_devices = 1, .ram_size = RAM, .tsc_khz = 1000 };
	s->config = strdup("{\"machine-config\": {\"vcpu_count\": 1, \"mem_size_mib\": 2}}");
	s->vcpus[0].regs.rip = 0x100200;
	s->vcpus[0].xcrs.nr_xcrs = 1;
	s->cpuid[0].nr = 2;
	s->cpuid[0].entries[0] = (struct kvm_cpuid_entry2){ .function = 1, .ecx = 1u << 31, .edx = 1 };
	s->cpuid[0].entries[1] = (struct kvm_cpuid_entry2){ .function = 7, .flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX,
							    .ebx = 1u << 3 };
	s->msrs[0].nr = 1;
	s->msrs[0].entries[0] = (struct kvm_msr_entry){ .index = 0x10, .data = 12345 };
	for (uint32_t i = 0; i < 3; i++)
		s->vm.chips[i].chip_id = i;
	s->legacy.serial.rx_count = 2;
	s->devices[0] = (struct snap_transport){ .device_id = 4, .nr_queues = 1, .status = 0xf,
						 .driver_features = 1ULL << VIRTIO_F_VERSION_1 };
	s->devices[0].queues[0] = (struct snap_queue){ .desc = 0x10000, .avail = 0x11000, .used = 0x12000,
						      .num = 16, .next_avail = 7, .next_used = 7, .ready = 1 };
	snapstate_describe(&s->acpi, &(struct platform_config){ .vcpus = 1, .nr_virtio = 1,
		.virtio = { { .base = LAYOUT_VIRTIO_MMIO_START, .irq = LAYOUT_VIRTIO_IRQ_FIRST } } }, false);
	return s;
}

static inline void free_snapshot(struct snapshot *s)
{
	snapstate_free(s);
	free(s);
}

/* The file for s, malloc'd. */
static inline uint8_t *encode(const struct snapshot *s, size_t *len)
{
	struct snapfmt_writer w;
	const uint8_t *buf;
	uint8_t *copy;

	snapfmt_writer_init(&w);
	assert_int_equal(snapstate_encode(s, &w), 0);
	assert_int_equal(snapfmt_finish(&w, &buf, len), 0);
	copy = malloc(*len);
	assert_non_null(copy);
	memcpy(copy, buf, *len);
	snapfmt_writer_free(&w);
	return copy;
}

/* After an edit: the checksum made right again, so only the edit is judged. */
static inline void reseal(uint8_t *buf, size_t len)
{
	uint32_t crc = snapfmt_crc32(buf, len - SNAPFMT_TRAILER_LEN);

	memcpy(buf + len - SNAPFMT_TRAILER_LEN, &crc, 4);
}

/* Decodes; returns the error and leaves the message in d. */
static inline int decode(const uint8_t *buf, size_t len, struct diag *d)
{
	struct snapshot *s = NULL;
	int ret = snapshot_decode(buf, len, &s, d);

	if (!ret)
		free_snapshot(s);
	return ret;
}

/* The offset of the first section with tag and index (the writer's order). */
static inline size_t section_offset(const uint8_t *buf, size_t len, uint32_t tag, uint32_t index)
{
	size_t off = SNAPFMT_HEADER_LEN;

	while (off + SNAPFMT_SECTION_LEN <= len - SNAPFMT_TRAILER_LEN) {
		uint32_t t, i;
		uint64_t l;

		memcpy(&t, buf + off, 4);
		memcpy(&i, buf + off + 4, 4);
		memcpy(&l, buf + off + 8, 8);
		if (t == tag && i == index)
			return off;
		off += SNAPFMT_SECTION_LEN + ((l + 7) & ~7ULL);
	}
	fail_msg("section %u %u not found", tag, index);
	return 0;
}

/* Writes n bytes of val at field offset within section (tag, index)'s payload, resealed; decodes. */
static inline int edit_section(const uint8_t *orig, size_t len, uint32_t tag, uint32_t index,
			       size_t field, const void *val, size_t n, struct diag *d)
{
	uint8_t *buf = malloc(len);
	int ret;

	assert_non_null(buf);
	memcpy(buf, orig, len);
	memcpy(buf + section_offset(buf, len, tag, index) + SNAPFMT_SECTION_LEN + field, val, n);
	reseal(buf, len);
	ret = decode(buf, len, d);
	free(buf);
	return ret;
}

/* The sections encode writes for make_snapshot's machine (empty CPUID and MSRs), but except. */
static inline void add_sections(struct snapfmt_writer *w, const struct snapshot *s, uint32_t except)
{
	const uint32_t empty[2] = { 0, 0 };

	snapfmt_add(w, SNAP_MACHINE, 0, &s->machine, sizeof(s->machine));
	snapfmt_add(w, SNAP_CONFIG, 0, s->config, strlen(s->config));
	snapfmt_add(w, SNAP_VCPU, 0, &s->vcpus[0], sizeof(s->vcpus[0]));
	snapfmt_add(w, SNAP_CPUID, 0, empty, sizeof(empty));
	snapfmt_add(w, SNAP_MSRS, 0, empty, sizeof(empty));
	snapfmt_add(w, SNAP_VM, 0, &s->vm, sizeof(s->vm));
	if (except != SNAP_LEGACY)
		snapfmt_add(w, SNAP_LEGACY, 0, &s->legacy, sizeof(s->legacy));
	snapfmt_add(w, SNAP_DEVICE, 0, &s->devices[0], sizeof(s->devices[0]));
	if (except != SNAP_ACPI)
		snapfmt_add(w, SNAP_ACPI, 0, &s->acpi, sizeof(s->acpi));
}

#endif
