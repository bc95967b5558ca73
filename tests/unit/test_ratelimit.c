/*
 * Token buckets on a clock the test drives: Firecracker's bandwidth and ops buckets,
 * one-time burst, over-consumption, the rate held over long runs, and arithmetic at the
 * edges of 64 bits.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "microvm/ratelimit.h"

#define MS 1000000ULL
#define SEC (1000 * MS)

static const struct rate_limiter_config kib_per_100ms = {
	.bandwidth = { .size = 1000, .refill_time_ms = 100 },
};

static void no_bucket_limits_nothing(void **state)
{
	(void)state;
	const struct rate_limiter_config none[] = {
		{ .bandwidth = { 0 } },
		{ .bandwidth = { .size = 1000 } },           /* no refill time */
		{ .ops = { .refill_time_ms = 100 } },        /* no size */
	};
	struct rate_limiter rl;
	uint64_t wait = 0;

	for (size_t i = 0; i < sizeof(none) / sizeof(none[0]); i++) {
		assert_false(rate_limiter_config_limits(&none[i]));
		assert_true(rate_limiter_init(&rl, &none[i], 0));
		assert_false(rate_limiter_active(&rl));
		for (int n = 0; n < 100; n++)
			assert_true(rate_limiter_consume(&rl, 1000, UINT64_MAX, 0, &wait));
	}
	assert_int_equal(rl.throttled, 0);
}

static void empty_bucket_waits_exactly_for_the_deficit(void **state)
{
	(void)state;
	struct rate_limiter rl;
	uint64_t wait = 0;

	assert_true(rate_limiter_init(&rl, &kib_per_100ms, 5 * SEC));
	assert_true(rate_limiter_active(&rl));
	assert_true(rate_limiter_consume(&rl, 1, 1000, 5 * SEC, &wait));
	/* One byte refills in 100 ms / 1000 = 100 us. */
	assert_false(rate_limiter_consume(&rl, 1, 1, 5 * SEC, &wait));
	assert_int_equal(wait, 100000);
	/* Blocked until then: even a request of nothing waits, for what is left. */
	assert_false(rate_limiter_consume(&rl, 0, 0, 5 * SEC + 40000, &wait));
	assert_int_equal(wait, 60000);
	assert_int_equal(rl.throttled, 2);
	assert_true(rate_limiter_consume(&rl, 1, 1, 5 * SEC + 100000, &wait));
	/* Half the refill time gives half the bucket, not more. */
	assert_true(rate_limiter_consume(&rl, 1, 500, 5 * SEC + 100000 + 50 * MS, &wait));
	assert_false(rate_limiter_consume(&rl, 1, 1, 5 * SEC + 100000 + 50 * MS, &wait));
	assert_int_equal(wait, 100000);
}

static void full_bucket_holds_no_more_than_its_size(void **state)
{
	(void)state;
	struct rate_limiter rl;
	uint64_t wait = 0;

	assert_true(rate_limiter_init(&rl, &kib_per_100ms, 0));
	/* An hour idle still gives one bucket. */
	assert_true(rate_limiter_consume(&rl, 1, 1000, 3600 * SEC, &wait));
	assert_false(rate_limiter_consume(&rl, 1, 1, 3600 * SEC, &wait));
}

static void one_time_burst_comes_first_and_once(void **state)
{
	(void)state;
	const struct rate_limiter_config c = {
		.bandwidth = { .size = 1000, .one_time_burst = 5000, .refill_time_ms = 100 },
	};
	struct rate_limiter rl;
	uint64_t wait = 0;

	assert_true(rate_limiter_init(&rl, &c, 0));
	assert_true(rate_limiter_consume(&rl, 1, 4500, 0, &wait));
	/* 500 of the burst and 500 of the bucket. */
	assert_true(rate_limiter_consume(&rl, 1, 1000, 0, &wait));
	assert_true(rate_limiter_consume(&rl, 1, 500, 0, &wait));
	assert_false(rate_limiter_consume(&rl, 1, 1, 0, &wait));
	/* The burst never comes back. */
	assert_true(rate_limiter_consume(&rl, 1, 1000, 10 * SEC, &wait));
	assert_false(rate_limiter_consume(&rl, 1, 1, 10 * SEC, &wait));
}

static void both_buckets_give_or_neither_takes(void **state)
{
	(void)state;
	const struct rate_limiter_config c = {
		.bandwidth = { .size = 1000, .refill_time_ms = 100 },
		.ops = { .size = 2, .refill_time_ms = 1000 },
	};
	struct rate_limiter rl;
	uint64_t wait = 0;

	assert_true(rate_limiter_init(&rl, &c, 0));
	assert_true(rate_limiter_consume(&rl, 1, 100, 0, &wait));
	assert_true(rate_limiter_consume(&rl, 1, 100, 0, &wait));
	/* No op left: one refills in 500 ms; the bytes stay in their bucket. */
	assert_false(rate_limiter_consume(&rl, 1, 100, 0, &wait));
	assert_int_equal(wait, 500 * MS);
	assert_int_equal(rl.b[RATELIMIT_BYTES].budget, 800);
	/* The longer of the two waits counts. */
	assert_true(rate_limiter_consume(&rl, 1, 800, 500 * MS, &wait));
	assert_false(rate_limiter_consume(&rl, 1, 1000, 500 * MS, &wait));
	assert_int_equal(wait, 500 * MS);
}

static void over_consumption_passes_then_pays(void **state)
{
	(void)state;
	struct rate_limiter rl;
	uint64_t wait = 0;

	assert_true(rate_limiter_init(&rl, &kib_per_100ms, 0));
	/* Three buckets' worth: through now, then 200 ms blocked without any refill. */
	assert_true(rate_limiter_consume(&rl, 1, 3000, 0, &wait));
	assert_false(rate_limiter_consume(&rl, 1, 1, 0, &wait));
	assert_int_equal(wait, 200 * MS);
	assert_false(rate_limiter_consume(&rl, 1, 1, 200 * MS, &wait));
	assert_int_equal(wait, 100000);
	assert_true(rate_limiter_consume(&rl, 1, 1, 200 * MS + 100000, &wait));
}

/* Requests of len bytes as fast as the limiter lets them through for duration ns. */
static uint64_t bytes_through(const struct rate_limiter_config *c, uint64_t len, uint64_t duration)
{
	struct rate_limiter rl;
	uint64_t now = 0, bytes = 0, wait = 0;

	assert_true(rate_limiter_init(&rl, c, now));
	while (now < duration) {
		if (rate_limiter_consume(&rl, 1, len, now, &wait)) {
			bytes += len;
			continue;
		}
		assert_true(wait >= 1);
		now += wait;
	}
	return bytes;
}

/* The long-run rate is the configured one, whether requests fit the bucket or not. */
static void long_run_rate_is_the_configured_one(void **state)
{
	(void)state;
	const struct rate_limiter_config mib_s = {
		.bandwidth = { .size = 1024 * 1024 / 10, .refill_time_ms = 100 },
	};
	const uint64_t lens[] = { 512, 4096, 65536, 1024 * 1024, 3 * 1024 * 1024 + 7 };

	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		uint64_t got = bytes_through(&mib_s, lens[i], 60 * SEC);
		uint64_t want = 60 * 1024 * 1024;

		/* One bucket and one request of slack at the ends, nothing more. */
		assert_true(got + lens[i] + mib_s.bandwidth.size >= want);
		assert_true(got <= want + lens[i] + mib_s.bandwidth.size);
	}
}

static void ops_rate_counts_requests(void **state)
{
	(void)state;
	const struct rate_limiter_config c = { .ops = { .size = 100, .refill_time_ms = 1000 } };

	/* The first full bucket, then one every 10 ms before 30 s; bytes are not limited. */
	assert_int_equal(bytes_through(&c, 1, 30 * SEC), 100 + 2999);
}

static void sixty_four_bit_edges(void **state)
{
	(void)state;
	const struct rate_limiter_config too_slow = {
		.bandwidth = { .size = 1, .refill_time_ms = RATELIMIT_REFILL_MS_MAX + 1 },
	};
	const struct rate_limiter_config huge = {
		.bandwidth = { .size = UINT64_MAX, .one_time_burst = UINT64_MAX,
			       .refill_time_ms = RATELIMIT_REFILL_MS_MAX },
		.ops = { .size = 1, .refill_time_ms = RATELIMIT_REFILL_MS_MAX },
	};
	const struct rate_limiter_config tiny = { .bandwidth = { .size = 1, .refill_time_ms = 1 } };
	struct rate_limiter rl;
	uint64_t wait = 0;

	assert_false(rate_limiter_init(&rl, &too_slow, 0));
	assert_false(rate_limiter_active(&rl));
	assert_true(rate_limiter_init(&rl, &huge, UINT64_MAX - 10));
	assert_true(rate_limiter_consume(&rl, 1, UINT64_MAX, UINT64_MAX - 10, &wait));
	assert_true(rate_limiter_consume(&rl, 0, UINT64_MAX, UINT64_MAX - 10, &wait));
	/* The op refills after the end of time: the wait saturates, never wraps. */
	assert_false(rate_limiter_consume(&rl, 1, 0, UINT64_MAX - 5, &wait));
	assert_int_equal(wait, 5);
	assert_false(rate_limiter_consume(&rl, 1, 0, UINT64_MAX, &wait));
	assert_int_equal(wait, 1);
	/* An over-consumption of 2^64 - 1 one-byte buckets: the pause saturates too. */
	assert_true(rate_limiter_init(&rl, &tiny, 0));
	assert_true(rate_limiter_consume(&rl, 1, UINT64_MAX, 0, &wait));
	assert_false(rate_limiter_consume(&rl, 1, 1, 1000 * SEC, &wait));
	assert_int_equal(wait, UINT64_MAX - 1000 * SEC);
	/* A clock that goes backwards refills nothing and breaks nothing. */
	assert_true(rate_limiter_init(&rl, &kib_per_100ms, 10 * SEC));
	assert_true(rate_limiter_consume(&rl, 1, 1000, 10 * SEC, &wait));
	assert_false(rate_limiter_consume(&rl, 1, 1, 1 * SEC, &wait));
	assert_int_equal(wait, 9 * SEC + 100000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(no_bucket_limits_nothing),
		cmocka_unit_test(empty_bucket_waits_exactly_for_the_deficit),
		cmocka_unit_test(full_bucket_holds_no_more_than_its_size),
		cmocka_unit_test(one_time_burst_comes_first_and_once),
		cmocka_unit_test(both_buckets_give_or_neither_takes),
		cmocka_unit_test(over_consumption_passes_then_pays),
		cmocka_unit_test(long_run_rate_is_the_configured_one),
		cmocka_unit_test(ops_rate_counts_requests),
		cmocka_unit_test(sixty_four_bit_edges),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
