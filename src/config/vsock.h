/* --vsock: virtio-vsock bridged to Unix sockets (the device: src/dev/vsock/). */
#ifndef MICROVM_CONFIG_VSOCK_H
#define MICROVM_CONFIG_VSOCK_H

#include <stdint.h>

/* sockaddr_un holds 107 bytes of path; guest-initiated connections add "_PORT". */
#define VSOCK_CONFIG_UDS_MAX 96
#define VSOCK_CONFIG_CID_MIN 3             /* 0-2 are the hypervisor, local and host */
#define VSOCK_CONFIG_CID_MAX 4294967294ULL

struct vsock_config {
	uint32_t cid;
	char *uds;          /* the socket the VMM creates and listens on */
};

#endif
