/* --net: a virtio-net device on a tap (the device: src/dev/virtio_net.c). */
#ifndef MICROVM_CONFIG_NET_H
#define MICROVM_CONFIG_NET_H

#include <stdbool.h>
#include <stdint.h>

#define NET_TAP_NAME_MAX 15 /* IFNAMSIZ - 1 */
#define NET_ID_MAX 64       /* the API's iface_id */

struct net_config {
	char tap[NET_TAP_NAME_MAX + 1];
	bool has_mac;       /* else the guest picks its own */
	uint8_t mac[6];
	char id[NET_ID_MAX + 1];  /* default "netN", N its place among the interfaces */
};

#endif
