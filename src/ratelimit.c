#include "microvm/ratelimit.h"

#include <string.h>

#define RATELIMIT_NS_PER_MS 1000000u

typedef unsigned __int128 u128;

static uint64_t ratelimit_clamp(u128 v)
{
	return v > UINT64_MAX ? UINT64_MAX : (uint64_t)v;
}

static uint64_t ratelimit_add_sat(uint64_t a, uint64_t b)
{
	uint64_t sum;

	return add_overflows_u64(a, b, &sum) ? UINT64_MAX : sum;
}

/* How long tokens take to refill in b, rounded up: ceil(tokens * refill_ns / size). */
static uint64_t bucket_time_for(const struct token_bucket *b, uint64_t tokens)
{
	u128 num = (u128)tokens * b->refill_ns;

	return ratelimit_clamp((num + b->size - 1) / b->size);
}

bool bucket_config_limits(const struct bucket_config *c)
{
	return c->size && c->refill_time_ms;
}

bool rate_limiter_config_limits(const struct rate_limiter_config *c)
{
	return bucket_config_limits(&c->bandwidth) || bucket_config_limits(&c->ops);
}

static bool bucket_init(struct token_bucket *b, const struct bucket_config *c, uint64_t now_ns)
{
	memset(b, 0, sizeof(*b));
	if (!bucket_config_limits(c))
		return true;
	if (c->refill_time_ms > RATELIMIT_REFILL_MS_MAX)
		return false;
	*b = (struct token_bucket){
		.size = c->size,
		.burst = c->one_time_burst,
		.refill_ns = c->refill_time_ms * RATELIMIT_NS_PER_MS,
		.budget = c->size,
		.last_ns = now_ns,
	};
	return true;
}

bool rate_limiter_init(struct rate_limiter *rl, const struct rate_limiter_config *c, uint64_t now_ns)
{
	memset(rl, 0, sizeof(*rl));
	if (bucket_init(&rl->b[RATELIMIT_BYTES], &c->bandwidth, now_ns) &&
	    bucket_init(&rl->b[RATELIMIT_OPS], &c->ops, now_ns))
		return true;
	memset(rl, 0, sizeof(*rl));
	return false;
}

bool rate_limiter_active(const struct rate_limiter *rl)
{
	return rl->b[RATELIMIT_BYTES].size || rl->b[RATELIMIT_OPS].size;
}

/*
 * Adds what has refilled since last_ns. last_ns moves on only by the time the added
 * tokens took, so no fraction of a token is lost between calls; it may lie in the
 * future after an over-consumption, and nothing refills until then.
 */
static void bucket_refill(struct token_bucket *b, uint64_t now_ns)
{
	uint64_t elapsed, tokens;

	if (!b->size || now_ns <= b->last_ns)
		return;
	elapsed = now_ns - b->last_ns;
	tokens = ratelimit_clamp((u128)elapsed * b->size / b->refill_ns);
	if (b->budget >= b->size || tokens >= b->size - b->budget) {
		b->budget = b->size;
		b->last_ns = now_ns;
		return;
	}
	if (tokens == 0)
		return;
	b->budget += tokens;
	/* At most elapsed: tokens * refill_ns / size <= elapsed, so the ceiling is too. */
	b->last_ns += bucket_time_for(b, tokens);
}

/* What taking need tokens from a refilled bucket would do. */
struct bucket_take {
	uint64_t from_burst, from_budget;
	uint64_t ready_ns;  /* the bucket cannot give them before this; 0: it can now */
	uint64_t debt_ns;   /* an over-consumption: the refill pauses this long */
};

static struct bucket_take bucket_plan(const struct token_bucket *b, uint64_t need)
{
	struct bucket_take t = { .from_burst = 0 };
	uint64_t rest;

	if (!b->size)
		return t;
	t.from_burst = need < b->burst ? need : b->burst;
	rest = need - t.from_burst;
	if (rest <= b->budget) {
		t.from_budget = rest;
	} else if (rest > b->size) {
		/* Larger than the bucket: through once, the excess paid for by a pause. */
		t.from_budget = b->budget;
		t.debt_ns = bucket_time_for(b, rest - b->budget);
	} else {
		t.ready_ns = ratelimit_add_sat(b->last_ns, bucket_time_for(b, rest - b->budget));
	}
	return t;
}

static void bucket_take(struct token_bucket *b, const struct bucket_take *t, uint64_t now_ns)
{
	b->burst -= t->from_burst;
	b->budget -= t->from_budget;
	if (t->debt_ns)
		b->last_ns = ratelimit_add_sat(b->last_ns > now_ns ? b->last_ns : now_ns, t->debt_ns);
}

/* Refuses a request: blocked until ready_ns. */
static bool rate_limiter_refuse(struct rate_limiter *rl, uint64_t ready_ns, uint64_t now_ns,
				uint64_t *wait_ns)
{
	rl->blocked_until_ns = ready_ns > now_ns ? ready_ns : ratelimit_add_sat(now_ns, 1);
	/* At the very end of time the block cannot lie ahead: the wait is still 1. */
	*wait_ns = rl->blocked_until_ns > now_ns ? rl->blocked_until_ns - now_ns : 1;
	rl->throttled++;
	return false;
}

bool rate_limiter_consume(struct rate_limiter *rl, uint64_t ops, uint64_t bytes, uint64_t now_ns,
			  uint64_t *wait_ns)
{
	const uint64_t need[RATELIMIT_BUCKETS] = { [RATELIMIT_BYTES] = bytes, [RATELIMIT_OPS] = ops };
	struct bucket_take plan[RATELIMIT_BUCKETS];
	uint64_t ready = 0;

	if (rl->blocked_until_ns > now_ns)
		return rate_limiter_refuse(rl, rl->blocked_until_ns, now_ns, wait_ns);
	rl->blocked_until_ns = 0;
	/* Both buckets must give, or neither takes anything. */
	for (int i = 0; i < RATELIMIT_BUCKETS; i++) {
		bucket_refill(&rl->b[i], now_ns);
		plan[i] = bucket_plan(&rl->b[i], need[i]);
		if (plan[i].ready_ns > ready)
			ready = plan[i].ready_ns;
	}
	if (ready)
		return rate_limiter_refuse(rl, ready, now_ns, wait_ns);
	for (int i = 0; i < RATELIMIT_BUCKETS; i++) {
		bucket_take(&rl->b[i], &plan[i], now_ns);
		/* Paying a debt: nothing goes until it is paid, or large requests would never wait. */
		if (plan[i].debt_ns && rl->b[i].last_ns > rl->blocked_until_ns)
			rl->blocked_until_ns = rl->b[i].last_ns;
	}
	return true;
}
