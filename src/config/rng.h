/* --rng: a virtio-rng device (the device: src/dev/virtio_rng.c). */
#ifndef MICROVM_CONFIG_RNG_H
#define MICROVM_CONFIG_RNG_H

#include "microvm/ratelimit.h"

struct rng_config {
	struct rate_limiter_config limiter;  /* random bytes handed out, requests */
};

#endif
