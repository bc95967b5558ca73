/* Firecracker's RateLimiter object (rate_limiter, rx_rate_limiter ...), in and out. */
#include "config/vmconfig.h"
#include "config/vmconfig_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* A TokenBucket: size and refill_time required, one_time_burst optional. */
static int limiter_bucket(const json_t *v, const char *name, const char *bucket,
			  struct bucket_config *out, struct diag *d)
{
	static const char *const keys[] = { "size", "one_time_burst", "refill_time" };
	uint64_t *fields[] = { &out->size, &out->one_time_burst, &out->refill_time_ms };
	char shown[VMCONFIG_NAME_SHOWN + 8], full[128];
	const char *key;
	json_t *field;
	int ret;

	if (!json_is_object(v))
		return diag_fail(d, "%s.%s: expected an object {size, one_time_burst, refill_time}", name,
				 bucket);
	*out = (struct bucket_config){ 0 };
	json_object_foreach(vmconfig_mutable(v), key, field) {
		size_t i = 0;

		while (i < ARRAY_SIZE(keys) && strcmp(keys[i], key))
			i++;
		if (i == ARRAY_SIZE(keys))
			return diag_fail(d, "%s.%s: unknown field '%s' (expected size, one_time_burst, "
					 "refill_time)", name, bucket, vmconfig_name(key, shown, sizeof(shown)));
		if (json_is_null(field) && i == 1)
			continue;
		snprintf(full, sizeof(full), "%s.%s.%s", name, bucket, key);
		if (!json_is_integer(field))
			return vmconfig_fail(d, full, field, "expected an integer");
		ret = vmconfig_u64(field, full, fields[i], d);
		if (ret)
			return ret;
	}
	if (!json_object_get(v, "size") || !json_object_get(v, "refill_time"))
		return diag_fail(d, "%s.%s: size and refill_time are required", name, bucket);
	if (out->refill_time_ms > RATELIMIT_REFILL_MS_MAX)
		return diag_fail(d, "%s.%s.refill_time %" PRIu64 ": at most %" PRIu64 " ms", name, bucket,
				 out->refill_time_ms, (uint64_t)RATELIMIT_REFILL_MS_MAX);
	return 0;
}

int vmconfig_rate_limiter(const json_t *v, const char *name, struct rate_limiter_config *c,
			  struct diag *d)
{
	struct rate_limiter_config next = *c;
	char shown[VMCONFIG_NAME_SHOWN + 8];
	const char *key;
	json_t *bucket;
	int ret;

	if (!json_is_object(v))
		return diag_fail(d, "%s: expected an object {bandwidth, ops}", name);
	json_object_foreach(vmconfig_mutable(v), key, bucket) {
		struct bucket_config *b = !strcmp(key, "bandwidth") ? &next.bandwidth
					: !strcmp(key, "ops") ? &next.ops : NULL;

		if (!b)
			return diag_fail(d, "%s: unknown field '%s' (expected bandwidth, ops)", name,
					 vmconfig_name(key, shown, sizeof(shown)));
		if (json_is_null(bucket))
			continue;
		ret = limiter_bucket(bucket, name, key, b, d);
		if (ret)
			return ret;
	}
	*c = next;
	return 0;
}

static json_t *limiter_export_bucket(const struct bucket_config *b)
{
	return json_pack("{s:I, s:I, s:I}", "size", (json_int_t)(b->size > INT64_MAX ? INT64_MAX : b->size),
			 "one_time_burst",
			 (json_int_t)(b->one_time_burst > INT64_MAX ? INT64_MAX : b->one_time_burst),
			 "refill_time", (json_int_t)b->refill_time_ms);
}

json_t *vmconfig_export_rate_limiter(const struct rate_limiter_config *c)
{
	json_t *o = json_object();

	if (o && bucket_config_limits(&c->bandwidth))
		json_object_set_new(o, "bandwidth", limiter_export_bucket(&c->bandwidth));
	if (o && bucket_config_limits(&c->ops))
		json_object_set_new(o, "ops", limiter_export_bucket(&c->ops));
	return o;
}
