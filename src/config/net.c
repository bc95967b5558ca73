#include "config/net.h"

#include <stddef.h>
#include <stdio.h>
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

static bool net_id_valid(const char *id)
{
	return strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") ==
	       strlen(id);
}

static void net_defaults(void *config, unsigned int index)
{
	struct net_config *c = config;

	if (!c->id[0])
		snprintf(c->id, sizeof(c->id), "net%u", index);
}

static const struct devspec_field net_fields[] = {
	{ .key = "tap", .type = DEVSPEC_NAME, .offset = offsetof(struct net_config, tap),
	  .max = NET_TAP_NAME_MAX, .valid = net_ifname_valid, .required = true,
	  .rule = "the tap name must be 1-" STRINGIFY(NET_TAP_NAME_MAX) " bytes without '/', ':' or spaces" },
	{ .key = "mac", .type = DEVSPEC_MAC, .offset = offsetof(struct net_config, mac),
	  .set_offset = offsetof(struct net_config, has_mac),
	  .rule = "mac must be a unicast address like 02:00:00:00:00:01" },
	{ .key = "id", .type = DEVSPEC_NAME, .offset = offsetof(struct net_config, id),
	  .max = NET_ID_MAX, .valid = net_id_valid,
	  .rule = "id must be 1-" STRINGIFY(NET_ID_MAX) " of A-Z a-z 0-9 . _ -" },
};

const struct device_spec net_spec = {
	.name = "virtio-net",
	.option = "net",
	.usage = "  --net tap=NAME[,mac=MAC][,id=ID]\n"
		 "                    a virtio-net device on the tap device NAME; ID (default net0)\n"
		 "                    names it to the API\n",
	.grammar = "tap=NAME[,mac=MAC][,id=ID]",
	.max = 1,
	.too_many = "only one network device is supported",
	.config_size = sizeof(struct net_config),
	.fields = net_fields,
	.nr_fields = ARRAY_SIZE(net_fields),
	.defaults = net_defaults,
};
