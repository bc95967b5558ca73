#include "microvm/throttle.h"

#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "microvm/clock.h"
#include "microvm/log.h"

/* Out of range: the limiter limits nothing (the config's parsers refuse such times). */
static void throttle_limiter(struct throttle *th, const struct rate_limiter_config *c)
{
	if (!rate_limiter_init(&th->rl, c, clock_monotonic_ns()))
		log_warn("rate limiter: refill time above %llu ms ignored",
			 (unsigned long long)RATELIMIT_REFILL_MS_MAX);
}

int throttle_open(struct throttle *th, const struct rate_limiter_config *c, struct diag *d)
{
	memset(th, 0, sizeof(*th));
	th->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (th->timer_fd < 0)
		return diag_fail_errno(d, -errno, "rate limiter: timerfd_create: %s", strerror(errno));
	throttle_limiter(th, c);
	return 0;
}

static void throttle_fired(void *ctx, uint32_t events)
{
	struct throttle *th = ctx;
	uint64_t expirations;

	(void)events;
	if (read(th->timer_fd, &expirations, sizeof(expirations)) < 0 && errno != EAGAIN)
		log_warn("rate limiter: timer read: %s", strerror(errno));
	/* Cleared before the device looks: a refusal from now on arms the timer again. */
	atomic_store(&th->armed, false);
	th->resume(th->ctx);
}

int throttle_watch(struct throttle *th, struct iothread *io, void (*resume)(void *ctx), void *ctx)
{
	th->resume = resume;
	th->ctx = ctx;
	th->handler = (struct io_handler){ .ready = throttle_fired, .ctx = th };
	return iothread_watch(io, th->timer_fd, EPOLLIN, &th->handler);
}

/* One shot, wait_ns from now (at least 1 ns: a zero it_value would disarm it). */
static void throttle_arm(struct throttle *th, uint64_t wait_ns)
{
	struct itimerspec when = { .it_value = { .tv_sec = (time_t)(wait_ns / 1000000000u),
						 .tv_nsec = (long)(wait_ns % 1000000000u) } };

	if (wait_ns / 1000000000u > INT32_MAX)
		when.it_value = (struct timespec){ .tv_sec = INT32_MAX };
	/*
	 * Marked before it is set: a short timer may fire in the I/O thread before this
	 * thread goes on, and its handler clears the mark; marked after, the mark would
	 * stay while no timer is pending, and the queue would never be resumed.
	 */
	atomic_store(&th->armed, true);
	if (timerfd_settime(th->timer_fd, 0, &when, NULL) < 0) {
		log_warn("rate limiter: timerfd_settime: %s", strerror(errno));
		atomic_store(&th->armed, false);
	}
}

bool throttle_admit(struct throttle *th, struct virtio_mmio *t, uint64_t ops, uint64_t bytes)
{
	uint64_t wait;

	if (!rate_limiter_active(&th->rl))
		return true;
	if (rate_limiter_consume(&th->rl, ops, bytes, clock_monotonic_ns(), &wait))
		return true;
	atomic_fetch_add_explicit(&t->stats.throttled, 1, memory_order_relaxed);
	if (!atomic_load(&th->armed))
		throttle_arm(th, wait);
	return false;
}

void throttle_set(struct throttle *th, const struct rate_limiter_config *c)
{
	throttle_limiter(th, c);
	if (atomic_load(&th->armed))
		throttle_arm(th, 1);
}

void throttle_restore(struct throttle *th)
{
	if (rate_limiter_active(&th->rl))
		throttle_arm(th, 1);
}

void throttle_close(struct throttle *th)
{
	if (th->timer_fd >= 0)
		close(th->timer_fd);
	th->timer_fd = -1;
}
