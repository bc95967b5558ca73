#include "config/net.h"

#include <stddef.h>
#include <string.h>

#include "config/devices.h"
#include "microvm/compiler.h"

/* A network interface name as the kernel accepts it (dev_valid_name). */
static bool net_ifname_valid(const char *name)
{
	if (!strcmp(name, ".") || !strcmp(name, ".."))
		return false;
	for (const char *c = name; *c; c++) {
		if (*c == '/' || *c == ':' || *c <= ' ' || *c == 0x7f)
			return false;
	}
	return true;
}

static const struct devspec_field net_fields[] = {
	{ .key = "tap", .type = DEVSPEC_NAME, .offset = offsetof(struct net_config, tap),
	  .max = NET_TAP_NAME_MAX, .valid = net_ifname_valid, .required = true,
	  .rule = "the tap name must be 1-" STRINGIFY(NET_TAP_NAME_MAX) " bytes without '/', ':' or spaces" },
	{ .key = "mac", .type = DEVSPEC_MAC, .offset = offsetof(struct net_config, mac),
	  .set_offset = offsetof(struct net_config, has_mac),
	  .rule = "mac must be a unicast address like 02:00:00:00:00:01" },
};

const struct device_spec net_spec = {
	.name = "virtio-net",
	.option = "net",
	.usage = "  --net tap=NAME[,mac=MAC]\n"
		 "                    a virtio-net device on the tap device NAME\n",
	.grammar = "tap=NAME[,mac=MAC]",
	.max = 1,
	.too_many = "only one network device is supported",
	.config_size = sizeof(struct net_config),
	.fields = net_fields,
	.nr_fields = ARRAY_SIZE(net_fields),
};
