#include "config/vsock.h"

#include <stddef.h>

#include "config/devices.h"
#include "microvm/compiler.h"

static const struct devspec_field vsock_fields[] = {
	{ .key = "cid", .type = DEVSPEC_U32, .offset = offsetof(struct vsock_config, cid),
	  .min = VSOCK_CONFIG_CID_MIN, .max = VSOCK_CONFIG_CID_MAX, .required = true,
	  .rule = "cid must be a number from " STRINGIFY(VSOCK_CONFIG_CID_MIN) " to 4294967294" },
	{ .key = "uds", .type = DEVSPEC_PATH, .offset = offsetof(struct vsock_config, uds),
	  .max = VSOCK_CONFIG_UDS_MAX, .required = true, .place = DEVSPEC_PLACE_CREATE,
	  .rule = "uds must be a path of 1-" STRINGIFY(VSOCK_CONFIG_UDS_MAX) " bytes" },
};

const struct device_spec vsock_spec = {
	.name = "virtio-vsock",
	.option = "vsock",
	.usage = "  --vsock cid=N,uds=PATH\n"
		 "                    a virtio-vsock device with guest CID N: the host connects\n"
		 "                    to the Unix socket PATH and writes \"CONNECT PORT\\n\";\n"
		 "                    guest connections to port P go to the socket PATH_P\n",
	.grammar = "cid=N,uds=PATH",
	.max = 1,
	.too_many = "only one vsock device is supported",
	.config_size = sizeof(struct vsock_config),
	.fields = vsock_fields,
	.nr_fields = ARRAY_SIZE(vsock_fields),
};
