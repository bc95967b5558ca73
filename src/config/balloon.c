#include "config/balloon.h"

#include <stddef.h>

#include "config/devices.h"
#include "microvm/compiler.h"

static const struct devspec_field balloon_fields[] = {
	{ .key = "amount_mib", .type = DEVSPEC_U32, .offset = offsetof(struct balloon_config, amount_mib),
	  .max = BALLOON_AMOUNT_MIB_MAX, .required = true,
	  .rule = "amount_mib must be a number of MiB from 0 to " STRINGIFY(BALLOON_AMOUNT_MIB_MAX) },
	{ .key = "deflate_on_oom", .type = DEVSPEC_FLAG,
	  .offset = offsetof(struct balloon_config, deflate_on_oom) },
	{ .key = "stats_polling_interval_s", .type = DEVSPEC_U32,
	  .offset = offsetof(struct balloon_config, stats_interval_s), .max = BALLOON_STATS_INTERVAL_MAX,
	  .rule = "stats_polling_interval_s must be a number of seconds from 0 to "
		  STRINGIFY(BALLOON_STATS_INTERVAL_MAX) },
	{ .key = "free_page_reporting", .type = DEVSPEC_FLAG,
	  .offset = offsetof(struct balloon_config, free_page_reporting) },
};

const struct device_spec balloon_spec = {
	.name = "virtio-balloon",
	.option = "balloon",
	.usage = "  --balloon amount_mib=N[,deflate_on_oom][,stats_polling_interval_s=S][,free_page_reporting]\n"
		 "                    a virtio-balloon device asking the guest for N MiB back\n"
		 "                    (PATCH /balloon changes it); deflate_on_oom lets the guest\n"
		 "                    take pages back when it runs out; S > 0 polls its memory\n"
		 "                    statistics (GET /balloon/statistics); free_page_reporting\n"
		 "                    lets it return the pages it frees\n",
	.grammar = "amount_mib=N[,deflate_on_oom][,stats_polling_interval_s=S][,free_page_reporting]",
	.max = 1,
	.too_many = "only one balloon device is supported",
	.config_size = sizeof(struct balloon_config),
	.fields = balloon_fields,
	.nr_fields = ARRAY_SIZE(balloon_fields),
};
