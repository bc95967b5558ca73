#include "config/devices.h"

/* --rng: a virtio-rng device (src/dev/virtio_rng.c); it has nothing to configure. */
const struct device_spec rng_spec = {
	.name = "virtio-rng",
	.option = "rng",
	.usage = "  --rng             a virtio-rng device fed by getrandom()\n",
	.max = 1,
};
