/*
 * A rate-limited virtqueue (a drive's, a network interface's rx or tx, the rng's): its
 * token-bucket limiter (microvm/ratelimit.h) and the timerfd that resumes it. A device
 * asks throttle_admit before it serves each chain; when the limiter refuses, the chain
 * goes back to the ring and the timer is armed for the exact wait, once. The I/O thread
 * watches the timer and calls the device's resume function when it fires; nothing
 * polls, and a guest that keeps notifying a throttled queue only meets the refusal.
 */
#ifndef MICROVM_THROTTLE_H
#define MICROVM_THROTTLE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "microvm/compiler.h"
#include "microvm/diag.h"
#include "microvm/iothread.h"
#include "microvm/ratelimit.h"
#include "microvm/virtio_mmio.h"

struct throttle {
	struct rate_limiter rl;    /* under the transport's lock */
	int timer_fd;              /* -1: closed */
	atomic_bool armed;         /* the timer will fire: no need to arm it again */
	struct io_handler handler;
	void (*resume)(void *ctx); /* in the I/O thread, lock not held */
	void *ctx;
};

/* Before any sandbox: the timer, and the limiter from c (which may limit nothing). */
MUST_CHECK int throttle_open(struct throttle *th, const struct rate_limiter_config *c,
			     struct diag *d);
/* Has the I/O thread call resume(ctx) when the timer fires. */
MUST_CHECK int throttle_watch(struct throttle *th, struct iothread *io, void (*resume)(void *ctx),
			      void *ctx);
/*
 * Under t's lock: true when ops requests of bytes bytes may be served now. Otherwise
 * the timer is armed (if it was not) and t's throttled counter goes up.
 */
MUST_CHECK bool throttle_admit(struct throttle *th, struct virtio_mmio *t, uint64_t ops,
			       uint64_t bytes);
/* Under the lock: a new limiter from c, full; a queue waiting on the old one resumes at once. */
void throttle_set(struct throttle *th, const struct rate_limiter_config *c);
/*
 * After a restore, before the I/O thread runs: the limiter is the configuration's, full
 * (a snapshot keeps a limiter's configuration, not its budgets), and a queue it held
 * back when the snapshot was taken is served again: the timer fires at once.
 */
void throttle_restore(struct throttle *th);
void throttle_close(struct throttle *th);

#endif
