/*
 * Seeds for the snapshot harness (fuzz_snapshot.c): a two-vCPU machine with a block
 * device whose one queue is ready, a vsock device at reset and a balloon whose
 * statistics buffer is held on its ready statistics queue, its power button pressed, as a flag byte (0: parse as is; 1: the harness reseals the checksum) and
 * the vmstate file.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch/x86/layout.h"
#include "seeds.h"
#include "snapshot/state.h"

void synthetic_snapshot(void)
{
	struct snapshot *s = calloc(1, sizeof(*s));
	struct snapfmt_writer w;
	const uint8_t *buf;
	uint8_t *seed;
	size_t len;

	if (!s)
		abort();
	s->machine = (struct snap_machine){ .nr_vcpus = 2, .nr_devices = 3, .ram_size = 2 << 20 };
	s->config = strdup("{\"machine-config\": {\"vcpu_count\": 2, \"mem_size_mib\": 2}}");
	s->cpuid[0].nr = 1;
	s->cpuid[0].entries[0].function = 7;
	s->msrs[1].nr = 2;
	s->msrs[1].entries[1].index = 0x10;
	for (uint32_t i = 0; i < 3; i++)
		s->vm.chips[i].chip_id = i;
	s->devices[0] = (struct snap_transport){ .device_id = 2, .nr_queues = 1, .status = 0xf,
						 .driver_features = 1ULL << 32 };
	s->devices[0].queues[0] = (struct snap_queue){ .desc = 0x10000, .avail = 0x11000, .used = 0x12000,
						      .num = 16, .next_avail = 3, .next_used = 3, .ready = 1 };
	s->devices[1] = (struct snap_transport){ .device_id = 19, .nr_queues = 3 };
	/* virtio-balloon with VERSION_1 and STATS_VQ, its three queues ready. */
	s->devices[2] = (struct snap_transport){ .device_id = 5, .nr_queues = 4, .status = 0xf,
						 .driver_features = (1ULL << 32) | (1ULL << 1) };
	for (uint32_t q = 0; q < 3; q++)
		s->devices[2].queues[q] = (struct snap_queue){ .desc = 0x20000 + 0x1000 * q, .avail = 0x28000 + 0x1000 * q,
							      .used = 0x30000 + 0x1000 * q, .num = 16,
							      .next_avail = q == 2 ? 1 : 0, .ready = 1 };
	s->has_balloon = true;
	s->balloon = (struct snap_balloon){ .slot = 2, .num_pages = 256, .actual = 100, .stats_interval_s = 1,
					    .stats_held = 1, .stats_present = 1u << 4 };
	s->balloon.stats[4] = 1 << 20;
	snapstate_describe(&s->acpi, &(struct platform_config){ .vcpus = 2, .nr_virtio = 3,
		.virtio = { { .base = LAYOUT_VIRTIO_MMIO_START, .irq = LAYOUT_VIRTIO_IRQ_FIRST },
			    { .base = LAYOUT_VIRTIO_MMIO_START + LAYOUT_VIRTIO_MMIO_SIZE,
			      .irq = LAYOUT_VIRTIO_IRQ_FIRST + 1 },
			    { .base = LAYOUT_VIRTIO_MMIO_START + 2 * LAYOUT_VIRTIO_MMIO_SIZE,
			      .irq = LAYOUT_VIRTIO_IRQ_FIRST + 2 } } }, true);
	snapfmt_writer_init(&w);
	if (!s->config || snapstate_encode(s, &w) || snapfmt_finish(&w, &buf, &len))
		abort();
	seed = malloc(len + 1);
	if (!seed)
		abort();
	memcpy(seed + 1, buf, len);
	for (uint8_t flag = 0; flag < 2; flag++) {
		char name[32];

		seed[0] = flag;
		snprintf(name, sizeof(name), "machine-%u.bin", flag);
		write_seed("snapshot", name, seed, len + 1);
	}
	free(seed);
	snapfmt_writer_free(&w);
	snapstate_free(s);
	free(s);
}
