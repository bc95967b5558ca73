#include "microvm/virtio_rng.h"

#include <errno.h>
#include <linux/virtio_ids.h>
#include <string.h>
#include <sys/random.h>

#include "config/rng.h"
#include "microvm/log.h"

static int virtio_rng_open(void *dev, const void *config, struct diag *d)
{
	struct virtio_rng *r = dev;
	const struct rng_config *c = config;

	return throttle_open(&r->throttle, &c->limiter, d);
}

static void virtio_rng_close(void *dev)
{
	struct virtio_rng *r = dev;

	throttle_close(&r->throttle);
}

/* The bytes a request will get, for the limiter. */
static uint64_t virtio_rng_len(const struct virtq_chain *c)
{
	return c->write_len < VIRTIO_RNG_MAX_PER_REQUEST ? c->write_len : VIRTIO_RNG_MAX_PER_REQUEST;
}

/* Fills the writable part of one request; returns the bytes written. */
static uint32_t virtio_rng_request(void *ctx, const struct virtq_chain *c)
{
	struct virtio_rng *r = ctx;
	uint32_t done = 0;
	int n = virtq_chain_map(c, r->t->mem, VIRTQ_WRITE, 0, virtio_rng_len(c), r->iov, VIRTQ_MAX_SEGS);

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

static bool virtio_rng_admit(void *ctx, const struct virtq_chain *c)
{
	struct virtio_rng *r = ctx;

	return throttle_admit(&r->throttle, r->t, 1, virtio_rng_len(c));
}

static void virtio_rng_notify(void *ctx, unsigned int queue)
{
	struct virtio_rng *r = ctx;

	virtio_mmio_drain_admitted(r->t, queue, virtio_rng_admit, virtio_rng_request, r);
}

/* The rate limiter's timer fired (the I/O thread): serve what waited. */
static void virtio_rng_resume(void *ctx)
{
	struct virtio_rng *r = ctx;

	virtio_mmio_lock(r->t);
	virtio_rng_notify(r, 0);
	virtio_mmio_unlock(r->t);
}

static int virtio_rng_watch(void *dev, struct iothread *io)
{
	struct virtio_rng *r = dev;

	return throttle_watch(&r->throttle, io, virtio_rng_resume, r);
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

/* Requests the limiter held back before the snapshot are served again (throttle_restore). */
static int virtio_rng_restore(void *dev, const struct snapshot *s, unsigned int slot, const char **why)
{
	struct virtio_rng *r = dev;

	(void)s;
	(void)slot;
	(void)why;
	throttle_restore(&r->throttle);
	return 0;
}

const struct device_ops virtio_rng_device_ops = {
	/* Requests in the notifying vCPU; those the rate limiter held back, in the I/O thread. */
	.threads = DEVICE_THREAD_VCPU | DEVICE_THREAD_IO,
	.size = sizeof(struct virtio_rng),
	.open = virtio_rng_open,
	.attach = virtio_rng_device,
	.watch = virtio_rng_watch,
	.restore = virtio_rng_restore,
	.close = virtio_rng_close,
};
