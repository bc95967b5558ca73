/*
 * The vmstate parser (src/snapshot/: the container, the decoding), the transport
 * restore that re-validates each saved queue against guest memory (a balloon's into a
 * real virtio-balloon, which then takes its own section), and the check of
 * the saved ACPI platform against the restoring VMM's devices, as a restoring VMM
 * runs them on a hostile snapshot file.
 *
 * Input: one flag byte, then the file. Flag bit 0 set: the harness first makes the
 * header's body length and the CRC-32 trailer right, so mutations reach the sections
 * behind the checksum; clear: the bytes are parsed as they are.
 */
#include <endian.h>
#include <errno.h>
#include <linux/virtio_ids.h>
#include <stdlib.h>
#include <string.h>

#include "arch/x86/acpi.h"
#include "config/balloon.h"
#include "harness.h"
#include "microvm/virtio_balloon.h"
#include "microvm/virtio_mmio.h"
#include "snapshot/file.h"
#include "snapshot/format.h"

static void noop_notify(void *ctx, unsigned int queue)
{
	(void)ctx;
	(void)queue;
}

static void noop_pulse(void *ctx, unsigned int gsi)
{
	(void)ctx;
	(void)gsi;
}

/*
 * A balloon as the snapshot's configuration rebuilds it, then its section: refused
 * with a reason, or taken whole, its held buffer on the statistics queue.
 */
static void check_balloon(const struct snapshot *s, uint32_t slot, struct virtio_balloon *b)
{
	const struct snap_balloon *sb = &s->balloon;
	const char *why = NULL;

	if (virtio_balloon_device_ops.restore(b, s, slot, &why)) {
		FUZZ_CHECK(why != NULL);
		return;
	}
	FUZZ_CHECK(le32toh(b->config.num_pages) == sb->num_pages && le32toh(b->config.actual) == sb->actual);
	FUZZ_CHECK(!b->stats_held || (b->t->queues[2].ready && b->stats_head < b->t->queues[2].size));
}

/* A saved transport into a fresh one of its own kind over the fuzzer's RAM (a real balloon's). */
static void check_transport(const struct snapshot *s, uint32_t slot)
{
	const struct snap_transport *in = &s->devices[slot];
	const struct virtio_device_ops ops = { .name = "fuzz", .device_id = in->device_id,
					       .nr_queues = in->nr_queues, .notify = noop_notify };
	struct virtio_device dev = { .ops = &ops };
	const struct virtio_irq irq = { .pulse = noop_pulse, .gsi = 5 };
	const struct gmem *mem = fuzz_ram();
	struct virtio_mmio *t = malloc(sizeof(*t));
	struct virtio_balloon *b = NULL;
	const char *why = NULL;
	struct diag d;

	FUZZ_CHECK(t != NULL);
	if (in->device_id == VIRTIO_ID_BALLOON) {
		const struct balloon_config c = { .amount_mib = s->balloon.num_pages / 256,
						  .deflate_on_oom = s->balloon.deflate_on_oom,
						  .stats_interval_s = s->balloon.stats_interval_s,
						  .free_page_reporting = s->balloon.reporting };

		FUZZ_CHECK(s->has_balloon && s->balloon.slot == slot);
		b = calloc(1, sizeof(*b));
		FUZZ_CHECK(b != NULL && virtio_balloon_open(b, &c, &d) == 0);
		virtio_balloon_device(b, t, &dev);
	}
	FUZZ_CHECK(virtio_mmio_init(t, &dev, mem, &irq, 0xd0000000) == 0);
	if (virtio_mmio_restore(t, in, &why)) {
		FUZZ_CHECK(why != NULL && t->status == 0);
	} else {
		FUZZ_CHECK(t->status <= 0xff);
		for (unsigned int i = 0; i < in->nr_queues; i++) {
			const struct virtq *q = &t->queues[i];

			if (!q->ready)
				continue;
			FUZZ_CHECK(is_pow2_u64(q->size) && q->size <= VIRTQ_MAX_SIZE);
			FUZZ_CHECK(gmem_ptr(mem, q->desc, 16ULL * q->size) != NULL);
			FUZZ_CHECK(gmem_ptr(mem, q->avail, 6 + 2ULL * q->size) != NULL);
			FUZZ_CHECK(gmem_ptr(mem, q->used, 6 + 8ULL * q->size) != NULL);
			FUZZ_CHECK((uint16_t)(q->next_avail - q->next_used) <= q->size);
		}
		if (b)
			check_balloon(s, slot, b);
	}
	virtio_mmio_destroy(t);
	free(t);
	if (b) {
		virtio_balloon_close(b);
		free(b);
	}
}

/*
 * The saved platform: devices where it says are accepted, the tables for it can be
 * written (decode let through nothing they cannot describe), and a device elsewhere is
 * refused with one line.
 */
static void check_platform(const struct snap_acpi *a)
{
	struct platform_config cfg = { .vcpus = a->nr_vcpus, .nr_virtio = a->nr_slots };
	struct snap_acpi again;
	struct diag d;

	FUZZ_CHECK(a->nr_slots <= SNAP_MAX_DEVICES && a->button_pressed <= 1);
	for (uint32_t i = 0; i < a->nr_slots; i++)
		cfg.virtio[i] = (struct platform_virtio){ .base = a->slots[i].base, .irq = a->slots[i].irq };
	snapstate_describe(&again, &cfg, a->button_pressed);
	FUZZ_CHECK(memcmp(&again, a, sizeof(again)) == 0);
	FUZZ_CHECK(snapstate_check_platform(a, &cfg, &d) == 0);
	FUZZ_CHECK(acpi_write(fuzz_ram(), &cfg) == 0);
	if (a->nr_slots) {
		cfg.virtio[a->nr_slots - 1].irq ^= 1;
		FUZZ_CHECK(snapstate_check_platform(a, &cfg, &d) == -EINVAL);
		FUZZ_CHECK(d.msg[0] != '\0' && strchr(d.msg, '\n') == NULL);
	}
}

/* What decode accepted is within its bounds and reads back the same once re-encoded. */
static void check_snapshot(const struct snapshot *s)
{
	struct snapshot *again = NULL;
	struct snapfmt_writer w;
	const uint8_t *buf;
	struct diag d;
	size_t len;

	FUZZ_CHECK(s->machine.nr_vcpus >= 1 && s->machine.nr_vcpus <= SNAP_MAX_VCPUS);
	FUZZ_CHECK(s->machine.nr_devices <= SNAP_MAX_DEVICES);
	FUZZ_CHECK(s->config && strlen(s->config) >= 1 && strlen(s->config) <= SNAP_CONFIG_MAX);
	for (uint32_t i = 0; i < s->machine.nr_vcpus; i++)
		FUZZ_CHECK(s->cpuid[i].nr <= SNAP_MAX_CPUID && s->msrs[i].nr <= SNAP_MAX_MSRS &&
			   s->vcpus[i].xcrs.nr_xcrs <= KVM_MAX_XCRS);
	snapfmt_writer_init(&w);
	FUZZ_CHECK(snapstate_encode(s, &w) == 0 && snapfmt_finish(&w, &buf, &len) == 0);
	FUZZ_CHECK(snapshot_decode(buf, len, &again, &d) == 0);
	FUZZ_CHECK(memcmp(&again->machine, &s->machine, sizeof(s->machine)) == 0);
	FUZZ_CHECK(strcmp(again->config, s->config) == 0);
	FUZZ_CHECK(memcmp(again->devices, s->devices, sizeof(s->devices)) == 0);
	FUZZ_CHECK(memcmp(&again->acpi, &s->acpi, sizeof(s->acpi)) == 0);
	FUZZ_CHECK(again->has_balloon == s->has_balloon &&
		   memcmp(&again->balloon, &s->balloon, sizeof(s->balloon)) == 0);
	FUZZ_CHECK(!s->has_balloon || (s->balloon.num_pages <= s->machine.ram_size / 4096 &&
				       s->balloon.actual <= s->machine.ram_size / 4096));
	snapstate_free(again);
	free(again);
	snapfmt_writer_free(&w);
	for (uint32_t i = 0; i < s->machine.nr_devices; i++)
		check_transport(s, i);
	FUZZ_CHECK(s->acpi.nr_vcpus == s->machine.nr_vcpus && s->acpi.nr_slots == s->machine.nr_devices);
	check_platform(&s->acpi);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct snapshot *s = NULL;
	struct diag d;
	uint8_t *file;
	size_t len;

	if (size < 1)
		return 0;
	len = size - 1;
	/* An exact-size copy: ASan sees any read past the end. */
	file = malloc(len ? len : 1);
	FUZZ_CHECK(file != NULL);
	memcpy(file, data + 1, len);
	if ((data[0] & 1) && len >= SNAPFMT_HEADER_LEN + SNAPFMT_TRAILER_LEN) {
		uint64_t body = len - SNAPFMT_HEADER_LEN - SNAPFMT_TRAILER_LEN;
		uint32_t crc;

		memcpy(file + 16, &body, 8);
		crc = snapfmt_crc32(file, len - SNAPFMT_TRAILER_LEN);
		memcpy(file + len - SNAPFMT_TRAILER_LEN, &crc, 4);
		memset(file + len - 4, 0, 4);
	}
	if (snapshot_decode(file, len, &s, &d) == 0) {
		check_snapshot(s);
		snapstate_free(s);
		free(s);
	} else {
		FUZZ_CHECK(d.msg[0] != '\0' && strchr(d.msg, '\n') == NULL);
	}
	free(file);
	return 0;
}
