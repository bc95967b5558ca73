/*
 * virtio-net over a tap device (IFF_TAP | IFF_NO_PI | IFF_VNET_HDR), opened before
 * the sandbox. No offloads are offered, so every frame is plain and the 12-byte
 * virtio-net header is all zeros both ways (num_buffers 1 on receive). Transmit runs
 * in the notifying vCPU thread (a non-blocking write; the frame is dropped when the
 * tap is full). Receive runs in the I/O thread: when the tap has frames and when the
 * driver adds receive buffers (its notification reaches the thread by an eventfd). A
 * frame that finds no buffer waits, and the tap is not read again until one comes.
 */
#ifndef MICROVM_VIRTIO_NET_H
#define MICROVM_VIRTIO_NET_H

#include <linux/virtio_net.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

#include "microvm/compiler.h"
#include "microvm/diag.h"
#include "microvm/iothread.h"
#include "microvm/virtio_mmio.h"

#define VIRTIO_NET_HDR_LEN 12 /* struct virtio_net_hdr_v1 */
/* A header and the largest frame a tap hands over. */
#define VIRTIO_NET_BUF_SIZE (VIRTIO_NET_HDR_LEN + 65536)

struct virtio_net {
	int tap_fd;
	int rx_kick_efd;                 /* the driver added receive buffers */
	char tap_name[IFNAMSIZ];
	struct virtio_net_config config;
	bool has_mac;
	struct virtio_mmio *t;
	struct io_handler tap_handler, kick_handler;
	size_t rx_len;                   /* the frame waiting in rx_buf, header included; 0: none */
	unsigned int host_errors_logged;
	uint8_t rx_buf[VIRTIO_NET_BUF_SIZE];
	uint8_t tx_buf[VIRTIO_NET_BUF_SIZE];
};

/* Attaches to tap device tap (created if missing and allowed); mac NULL lets the guest pick. */
MUST_CHECK int virtio_net_open(struct virtio_net *n, const char *tap, const uint8_t *mac,
			       struct diag *d);
/*
 * The device over fd, a non-blocking descriptor that reads and writes whole frames
 * each behind a 12-byte virtio-net header (a tap as above; the fuzz harness uses a
 * datagram socket pair). Takes fd over on success; name is for messages.
 */
MUST_CHECK int virtio_net_attach(struct virtio_net *n, int fd, const char *name, const uint8_t *mac,
				 struct diag *d);
void virtio_net_close(struct virtio_net *n);
/* The device model to give the transport t, which it serves through. */
void virtio_net_device(struct virtio_net *n, struct virtio_mmio *t, struct virtio_device *out);
/* Has the I/O thread watch the tap and the receive notifications. */
MUST_CHECK int virtio_net_watch(struct virtio_net *n, struct iothread *io);

#endif
