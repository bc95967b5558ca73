/*
 * virtio-rng's request handling behind its transport, driven by a hostile
 * driver (virtio_script.h): it fills whatever writable buffers a chain names,
 * at most 64 KiB a request. No header fields or host events of its own.
 *
 * The bytes it writes are random, so an input whose rings overlap the buffers
 * it fills does not replay exactly; AFL++ counts that against stability.
 */
#include "microvm/virtio_rng.h"
#include "virtio_script.h"

static struct virtio_rng rng;

static void rng_open(const struct virtio_script_header *h, struct virtio_mmio *t,
		     struct virtio_device *dev)
{
	(void)h;
	virtio_rng_device(&rng, t, dev);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct virtio_script_device device = {
		.open = rng_open,
	};

	virtio_script_run(&device, data, size);
	return 0;
}
