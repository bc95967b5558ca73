/*
 * kvm_irq_pulse from two threads: each pulse must reach KVM as its own rise and fall.
 * The test links with --wrap=ioctl, so KVM_IRQ_LINE lands here: the first thread's
 * rising level waits (up to a bound) for another thread to reach the line, which only
 * a pulse not serialized with it can do; the levels KVM saw are then checked in order.
 */
#include <errno.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <cmocka.h>

#include "microvm/kvm.h"

#define GSI 1
#define WAIT_FOR_OTHER_MS 300

int __wrap_ioctl(int fd, unsigned long request, ...);

static pthread_mutex_t seen_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t seen_cond = PTHREAD_COND_INITIALIZER;
static int levels[8];
static unsigned int nr_levels;
static bool first_rising_held;

int __wrap_ioctl(int fd, unsigned long request, ...)
{
	const struct kvm_irq_level *irq;
	bool hold;
	va_list ap;

	(void)fd;
	if (request != KVM_IRQ_LINE) {
		errno = ENOTTY;
		return -1;
	}
	va_start(ap, request);
	irq = va_arg(ap, const struct kvm_irq_level *);
	va_end(ap);

	pthread_mutex_lock(&seen_lock);
	if (nr_levels < sizeof(levels) / sizeof(levels[0]))
		levels[nr_levels++] = (int)irq->level;
	hold = nr_levels == 1;
	if (hold) {
		struct timespec until;

		first_rising_held = true;
		pthread_cond_broadcast(&seen_cond);
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += WAIT_FOR_OTHER_MS * 1000000L;
		until.tv_sec += until.tv_nsec / 1000000000L;
		until.tv_nsec %= 1000000000L;
		while (nr_levels == 1 && pthread_cond_timedwait(&seen_cond, &seen_lock, &until) == 0)
			;
	} else {
		pthread_cond_broadcast(&seen_cond);
	}
	pthread_mutex_unlock(&seen_lock);
	return 0;
}

static const struct kvm fake_vm = { .kvm_fd = -1, .vm_fd = 1000 };

static void *pulse(void *arg)
{
	(void)arg;
	kvm_irq_pulse(&fake_vm, GSI);
	return NULL;
}

static void concurrent_pulses_each_rise(void **state)
{
	pthread_t first;

	(void)state;
	assert_int_equal(pthread_create(&first, NULL, pulse, NULL), 0);
	pthread_mutex_lock(&seen_lock);
	while (!first_rising_held)
		pthread_cond_wait(&seen_cond, &seen_lock);
	pthread_mutex_unlock(&seen_lock);
	/* The first pulse has raised the line and not lowered it: pulse again. */
	kvm_irq_pulse(&fake_vm, GSI);
	assert_int_equal(pthread_join(first, NULL), 0);

	assert_int_equal(nr_levels, 4);
	assert_int_equal(levels[0], 1);
	assert_int_equal(levels[1], 0);
	assert_int_equal(levels[2], 1);
	assert_int_equal(levels[3], 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(concurrent_pulses_each_rise),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
