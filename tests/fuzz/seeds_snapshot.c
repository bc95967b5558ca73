/*
 * Seeds for the snapshot harness (fuzz_snapshot.c): a two-vCPU machine with a block
 * device whose one queue is ready and a vsock device at reset, its power button
 * pressed, as a flag byte (0: parse as is; 1: the harness reseals the checksum) and
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
	s->machine = (struct snap_machine){ .nr_vcpus = 2, .nr_devices = 2, .ram_size = 2 << 20 };
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
	snapstate_describe(&s->acpi, &(struct platform_config){ .vcpus = 2, .nr_virtio = 2,
		.virtio = { { .base = LAYOUT_VIRTIO_MMIO_START, .irq = LAYOUT_VIRTIO_IRQ_FIRST },
			    { .base = LAYOUT_VIRTIO_MMIO_START + LAYOUT_VIRTIO_MMIO_SIZE,
			      .irq = LAYOUT_VIRTIO_IRQ_FIRST + 1 } } }, true);
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
