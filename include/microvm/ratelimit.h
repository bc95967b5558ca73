/*
 * Token-bucket rate limiters with Firecracker's shape: a limiter has a bandwidth
 * bucket (bytes) and an ops bucket (requests), each of `size` tokens refilled
 * linearly over `refill_time` ms, plus a `one_time_burst` spent before the bucket.
 * A bucket of size 0 or refill time 0 limits nothing. A request larger than a whole
 * bucket is let through once and the limiter then stays blocked for as long as the
 * excess takes to refill, as Firecracker's over-consumption does; a smaller one that
 * does not fit blocks the limiter until it will fit. While blocked every request is
 * refused at once: the caller arms one timer for rate_limiter_consume's wait and
 * retries only when it fires, so a guest that keeps notifying costs nothing.
 *
 * Pure and KVM-free: time is the caller's monotonic nanoseconds, so unit tests drive
 * a clock of their own. Every product is computed in 128 bits; nothing overflows
 * whatever the sizes and times are.
 */
#ifndef MICROVM_RATELIMIT_H
#define MICROVM_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

#include "microvm/compiler.h"

/* The largest refill_time: its nanoseconds fit 64 bits. */
#define RATELIMIT_REFILL_MS_MAX (UINT64_MAX / 1000000)

/* One bucket as configured (Firecracker's TokenBucket object). */
struct bucket_config {
	uint64_t size;            /* tokens; 0: no limit */
	uint64_t one_time_burst;  /* tokens spent before the bucket's, once */
	uint64_t refill_time_ms;  /* a whole bucket refills in this long; 0: no limit */
};

/* Firecracker's RateLimiter object: bandwidth in bytes, ops in requests. */
struct rate_limiter_config {
	struct bucket_config bandwidth, ops;
};

struct token_bucket {
	uint64_t size, burst, refill_ns;  /* size 0: this bucket limits nothing */
	uint64_t budget;                  /* tokens available now, at most size */
	uint64_t last_ns;                 /* the refill is counted from here */
};

enum rate_limiter_bucket { RATELIMIT_BYTES, RATELIMIT_OPS, RATELIMIT_BUCKETS };

struct rate_limiter {
	struct token_bucket b[RATELIMIT_BUCKETS];
	uint64_t blocked_until_ns;        /* 0: not blocked */
	uint64_t throttled;               /* requests refused since creation */
};

/* A bucket that limits anything: size and refill time both given. */
bool bucket_config_limits(const struct bucket_config *c);
/* Either bucket limits. */
bool rate_limiter_config_limits(const struct rate_limiter_config *c);
/*
 * A limiter from c at time now_ns, its buckets full; false when a refill time is
 * above RATELIMIT_REFILL_MS_MAX (then rl limits nothing).
 */
MUST_CHECK bool rate_limiter_init(struct rate_limiter *rl, const struct rate_limiter_config *c,
				  uint64_t now_ns);
/* Either bucket limits. */
bool rate_limiter_active(const struct rate_limiter *rl);
/*
 * Takes ops requests of bytes bytes at now_ns: true when they may go on. False when
 * they must wait: nothing is taken and *wait_ns (at least 1) is how long until a retry
 * can succeed; the limiter refuses everything until then.
 */
MUST_CHECK bool rate_limiter_consume(struct rate_limiter *rl, uint64_t ops, uint64_t bytes,
				     uint64_t now_ns, uint64_t *wait_ns);

#endif
