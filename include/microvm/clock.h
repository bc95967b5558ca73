/* CLOCK_MONOTONIC in nanoseconds: the rate limiters' buckets, the console's quiet spell. */
#ifndef MICROVM_CLOCK_H
#define MICROVM_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t clock_monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

#endif
