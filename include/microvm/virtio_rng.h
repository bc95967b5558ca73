/*
 * virtio-rng: fills each buffer the driver offers from getrandom(), synchronously in
 * the notifying thread, at most VIRTIO_RNG_MAX_PER_REQUEST bytes per request; those
 * its rate limiter held back, in the I/O thread when the limiter's timer fires.
 */
#ifndef MICROVM_VIRTIO_RNG_H
#define MICROVM_VIRTIO_RNG_H

#include <sys/uio.h>

#include "microvm/device_ops.h"
#include "microvm/throttle.h"
#include "microvm/virtio_mmio.h"

#define VIRTIO_RNG_MAX_PER_REQUEST 65536

struct virtio_rng {
	struct virtio_mmio *t;
	struct iovec iov[VIRTQ_MAX_SEGS];
	struct throttle throttle;   /* random bytes, requests */
};

/* The kind's struct device_ops (virtio_rng_device_ops), dev a struct virtio_rng. */
extern const struct device_ops virtio_rng_device_ops;
/* The device model to give the transport t, which it serves through. */
void virtio_rng_device(void *dev, struct virtio_mmio *t, struct virtio_device *out);

#endif
