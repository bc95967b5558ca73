/*
 * virtio-rng: fills each buffer the driver offers from getrandom(), synchronously in
 * the notifying thread, at most VIRTIO_RNG_MAX_PER_REQUEST bytes per request.
 */
#ifndef MICROVM_VIRTIO_RNG_H
#define MICROVM_VIRTIO_RNG_H

#include <sys/uio.h>

#include "microvm/virtio_mmio.h"

#define VIRTIO_RNG_MAX_PER_REQUEST 65536

struct virtio_rng {
	struct virtio_mmio *t;
	struct iovec iov[VIRTQ_MAX_SEGS];
};

/* The device model to give the transport t, which it serves through. */
void virtio_rng_device(struct virtio_rng *r, struct virtio_mmio *t, struct virtio_device *out);

#endif
