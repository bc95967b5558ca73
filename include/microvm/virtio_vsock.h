/*
 * virtio-vsock bridged to Unix sockets, in Firecracker's model (stream sockets only):
 * - host-initiated: a host program connects to the listening socket PATH and writes
 *   "CONNECT PORT\n"; the device asks the guest for a connection to PORT from a fresh
 *   host port, and once the guest accepts it writes "OK HOSTPORT\n" back;
 * - guest-initiated: a guest connection to host (CID 2) port P is a connection to
 *   the socket PATH_P, refused (RST) when nobody listens there.
 * Everything runs in the I/O thread: the host sockets' readiness, and the guest's
 * notifications, which the vCPU threads pass on through an eventfd. Each direction
 * of each connection honours the peer's credit; a guest that sends beyond ours has
 * its connection reset.
 */
#ifndef MICROVM_VIRTIO_VSOCK_H
#define MICROVM_VIRTIO_VSOCK_H

#include <linux/virtio_vsock.h>
#include <stdbool.h>
#include <stdint.h>

#include "microvm/compiler.h"
#include "microvm/device_ops.h"
#include "microvm/diag.h"
#include "microvm/iothread.h"
#include "microvm/virtio_mmio.h"

#define VSOCK_MAX_CONNS 64
/* What each connection buffers from the guest for its host socket: our credit. */
#define VSOCK_CONN_BUF 65536
/* Host data waiting for a receive buffer, per connection. */
#define VSOCK_STAGE_SIZE 4096
/* Resets owed to the guest for packets that match no connection. */
#define VSOCK_MAX_ORPHAN_RSTS 16
#define VSOCK_CONNECT_LINE_MAX 32
/* The listening socket's path: sun_path (108 bytes) must also hold "PATH_4294967295". */
#define VSOCK_UDS_MAX 96

enum vsock_conn_state {
	VSOCK_FREE,
	VSOCK_CONNECT_LINE,   /* host connected; reading "CONNECT PORT\n" */
	VSOCK_REQUESTED,      /* REQUEST sent (or owed) to the guest; waiting for RESPONSE */
	VSOCK_ESTABLISHED,
	VSOCK_CLOSING,        /* an RST is owed to the guest; then the slot is freed */
};

struct vsock_conn {
	enum vsock_conn_state state;
	int fd;                       /* the host socket */
	uint32_t host_port, guest_port;
	unsigned int owed;            /* control packets owed to the guest (VSOCK_OWE_*) */
	/* Host to guest: the guest's credit, and data read but not yet delivered. */
	uint32_t peer_buf_alloc, peer_fwd_cnt, tx_cnt;
	uint8_t *stage;
	uint32_t stage_len, stage_off;
	bool host_readable;           /* the socket may have data (edge-triggered) */
	bool host_eof;                /* the host closed its side: SHUTDOWN once delivered */
	bool peer_shut_rcv, peer_shut_send;
	/* Guest to host: bytes accepted but not yet written to the socket. */
	uint8_t *buf;
	uint32_t buf_len;
	uint32_t fwd_cnt, fwd_cnt_told;
	char line[VSOCK_CONNECT_LINE_MAX];
	uint32_t line_len;
	struct io_handler handler;
	struct virtio_vsock *v;
};

struct vsock_orphan {
	uint32_t src_port, dst_port;  /* as the guest named them */
};

struct virtio_vsock {
	uint64_t guest_cid;
	struct virtio_vsock_config config;
	char uds[VSOCK_UDS_MAX + 1];
	int listen_fd;
	int kick_efd;                 /* the driver notified a queue */
	bool reset_pending;           /* the driver reset the device: drop what it knew of */
	struct iothread *io;
	struct virtio_mmio *t;
	struct io_handler listen_handler, kick_handler;
	uint32_t next_host_port;
	struct vsock_conn conns[VSOCK_MAX_CONNS];
	unsigned int next_conn;       /* round-robin start for the receive queue */
	struct vsock_orphan orphans[VSOCK_MAX_ORPHAN_RSTS];
	unsigned int nr_orphans;
	unsigned int host_errors_logged;
};

/*
 * The kind's struct device_ops (virtio_vsock_device_ops), dev a struct virtio_vsock:
 * open binds and listens on the uds of a struct vsock_config (src/config/vsock.h),
 * which must not exist, for the guest with its cid.
 */
extern const struct device_ops virtio_vsock_device_ops;
MUST_CHECK int virtio_vsock_open(void *dev, const void *config, struct diag *d);
void virtio_vsock_close(void *dev);
/* The device model to give the transport t, which it serves through. */
void virtio_vsock_device(void *dev, struct virtio_mmio *t, struct virtio_device *out);
/* Has the I/O thread watch the listening socket, the connections and the notifications. */
MUST_CHECK int virtio_vsock_watch(void *dev, struct iothread *io);

#endif
