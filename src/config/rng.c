#include "config/rng.h"

#include <stddef.h>

#include "config/devices.h"
#include "microvm/compiler.h"

#define RNG_BUCKET_RULE(key) key " must be SIZE:REFILL_MS[:BURST] in decimal"

static const struct devspec_field rng_fields[] = {
	{ .key = "bw", .type = DEVSPEC_BUCKET, .offset = offsetof(struct rng_config, limiter.bandwidth),
	  .rule = RNG_BUCKET_RULE("bw") },
	{ .key = "ops", .type = DEVSPEC_BUCKET, .offset = offsetof(struct rng_config, limiter.ops),
	  .rule = RNG_BUCKET_RULE("ops") },
};

/* --rng: a virtio-rng device (src/dev/virtio_rng.c), rate-limited if asked. */
const struct device_spec rng_spec = {
	.name = "virtio-rng",
	.option = "rng",
	.usage = "  --rng[=bw=SIZE:MS[:BURST][,ops=SIZE:MS[:BURST]]]\n"
		 "                    a virtio-rng device fed by getrandom(); bw and ops limit the\n"
		 "                    bytes and requests it serves (token buckets, see --drive)\n",
	.grammar = "[bw=SIZE:MS[:BURST]][,ops=SIZE:MS[:BURST]]",
	.value_optional = true,
	.max = 1,
	.too_many = "only one rng device is supported",
	.config_size = sizeof(struct rng_config),
	.fields = rng_fields,
	.nr_fields = ARRAY_SIZE(rng_fields),
};
