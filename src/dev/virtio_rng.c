#include "microvm/virtio_rng.h"

#include <errno.h>
#include <linux/virtio_ids.h>
#include <string.h>
#include <sys/random.h>

#include "microvm/log.h"

/* Fills the writable part of one request; returns the bytes written. */
static uint32_t virtio_rng_request(void *ctx, const struct virtq_chain *c)
{
	struct virtio_rng *r = ctx;
	uint64_t len = c->write_len < VIRTIO_RNG_MAX_PER_REQUEST ? c->write_len : VIRTIO_RNG_MAX_PER_REQUEST;
	uint32_t done = 0;
	int n = virtq_chain_map(c, r->t->mem, VIRTQ_WRITE, 0, len, r->iov, VIRTQ_MAX_SEGS);

	for (int i = 0; i < n; i++) {
		uint8_t *p = r->iov[i].iov_base;
		size_t left = r->iov[i].iov_len;

		while (left > 0) {
			ssize_t got = getrandom(p, left, 0);

			if (got < 0 && errno == EINTR)
				continue;
			if (got <= 0) {
				log_warn("virtio-rng: getrandom: %s", got < 0 ? strerror(errno) : "no bytes");
				return done;
			}
			p += got;
			left -= (size_t)got;
			done += (uint32_t)got;
		}
	}
	return done;
}

static void virtio_rng_notify(void *ctx, unsigned int queue)
{
	struct virtio_rng *r = ctx;

	virtio_mmio_drain(r->t, queue, virtio_rng_request, r);
}

static const struct virtio_device_ops virtio_rng_ops = {
	.name = "virtio-rng",
	.device_id = VIRTIO_ID_RNG,
	.nr_queues = 1,
	.notify = virtio_rng_notify,
};

void virtio_rng_device(void *dev, struct virtio_mmio *t, struct virtio_device *out)
{
	struct virtio_rng *r = dev;

	r->t = t;
	*out = (struct virtio_device){ .ops = &virtio_rng_ops, .ctx = r };
}

const struct device_ops virtio_rng_device_ops = {
	.threads = DEVICE_THREAD_VCPU,
	.size = sizeof(struct virtio_rng),
	.attach = virtio_rng_device,
};
