/*
 * The rate limiter's timer (dev/throttle.c) against a timer that fires at once. The
 * test links with --wrap=timerfd_settime: arming the timer runs the I/O thread's
 * handler right there, as a timer of a few milliseconds does when the arming vCPU
 * thread is preempted between the syscall and what follows it. The handler's resume
 * then waits for the transport's lock, which the vCPU thread holds, so the queue is
 * served again only after the arming returned; the test runs it then. That queue is
 * refused again, and the refusal must arm the timer anew, or the queue waits for ever
 * (seen under real KVM: a throttled disk stopped for good after some hundred requests).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <cmocka.h>

#include "microvm/throttle.h"

int __real_timerfd_settime(int fd, int flags, const struct itimerspec *new_value,
			   struct itimerspec *old_value);
int __wrap_timerfd_settime(int fd, int flags, const struct itimerspec *new_value,
			   struct itimerspec *old_value);

static struct throttle th;
static struct virtio_mmio transport;
static unsigned int arms, fires_to_run;
static unsigned int resumes_due;

int __wrap_timerfd_settime(int fd, int flags, const struct itimerspec *new_value,
			   struct itimerspec *old_value)
{
	int ret = __real_timerfd_settime(fd, flags, new_value, old_value);

	arms++;
	if (fires_to_run) {
		fires_to_run--;
		th.handler.ready(th.handler.ctx, EPOLLIN);
	}
	return ret;
}

/* The device's resume, called by the fired handler: it has to wait for the lock. */
static void resume_later(void *ctx)
{
	(void)ctx;
	resumes_due++;
}

static void test_fire_during_arm_rearms(void **state)
{
	/* 4 KiB a second: after the first 4 KiB, each request waits about a second. */
	const struct rate_limiter_config c = { .bandwidth = { .size = 4096, .refill_time_ms = 1000 } };
	struct diag d = { 0 };
	struct iothread io;
	unsigned int arms_before;

	(void)state;
	assert_int_equal(throttle_open(&th, &c, &d), 0);
	assert_int_equal(iothread_init(&io), 0);
	assert_int_equal(throttle_watch(&th, &io, resume_later, NULL), 0);
	assert_true(throttle_admit(&th, &transport, 1, 4096));

	/* The vCPU thread's refusal arms the timer, which fires inside the arming. */
	fires_to_run = 1;
	assert_false(throttle_admit(&th, &transport, 1, 4096));
	assert_int_equal(arms, 1);
	assert_int_equal(resumes_due, 1);
	/* The resume, once the lock is free: still refused, so a timer must be pending again. */
	assert_false(throttle_admit(&th, &transport, 1, 4096));
	assert_int_equal(arms, 2);

	/* And a later refusal, with that timer pending, does not arm it again. */
	arms_before = arms;
	assert_false(throttle_admit(&th, &transport, 1, 4096));
	assert_int_equal(arms, arms_before);
	assert_int_equal(atomic_load(&transport.stats.throttled), 3);
	throttle_close(&th);
	iothread_destroy(&io);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fire_during_arm_rearms),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
