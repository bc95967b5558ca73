/*
 * virtio-net over a tap device (IFF_TAP | IFF_NO_PI | IFF_VNET_HDR), opened before
 * the sandbox. Offers checksum and TCP segmentation offloads both ways and merged
 * receive buffers: a frame the driver sends goes to the tap with its 12-byte header
 * once the header asks only for offloads it accepted (else it is dropped as a guest
 * error); the tap hands over frames with the offloads the driver accepted
 * (TUNSETOFFLOAD, set at DRIVER_OK and cleared at reset), each spread over as many
 * receive buffers as it needs with VIRTIO_NET_F_MRG_RXBUF. Transmit runs in the
 * notifying vCPU thread (a non-blocking write; the frame is dropped when the tap is
 * full). Receive runs in the I/O thread: when the tap has frames and when the driver
 * adds receive buffers (its notification reaches the thread by an eventfd). A frame
 * that finds too few buffers waits, and the tap is not read again until they come.
 * Rate limiters on either side hold frames back (in the ring for transmit, in rx_buf
 * for receive) until their timer fires in the I/O thread.
 */
#ifndef MICROVM_VIRTIO_NET_H
#define MICROVM_VIRTIO_NET_H

#include <linux/virtio_net.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

#include "microvm/compiler.h"
#include "microvm/device_ops.h"
#include "microvm/diag.h"
#include "microvm/iothread.h"
#include "microvm/ratelimit.h"
#include "microvm/throttle.h"
#include "microvm/virtio_mmio.h"

#define VIRTIO_NET_HDR_LEN 12 /* struct virtio_net_hdr_v1 */
/* A header and the largest frame a tap hands over or a driver sends (64 KiB with TSO). */
#define VIRTIO_NET_BUF_SIZE (VIRTIO_NET_HDR_LEN + 65536)

struct virtio_net {
	int tap_fd;
	int rx_kick_efd;                 /* the driver added receive buffers */
	char tap_name[IFNAMSIZ];
	struct virtio_net_config config;
	bool has_mac;
	bool tap;                        /* tap_fd is a tap: its offloads follow the driver's */
	struct virtio_mmio *t;
	struct io_handler tap_handler, kick_handler;
	size_t rx_len;                   /* the frame waiting in rx_buf, header included; 0: none */
	unsigned int host_errors_logged;
	struct throttle rx_throttle, tx_throttle;  /* frame bytes (headers aside), frames */
	uint8_t rx_buf[VIRTIO_NET_BUF_SIZE];
	uint8_t tx_buf[VIRTIO_NET_BUF_SIZE];
};

/*
 * The kind's struct device_ops (virtio_net_device_ops), dev a struct virtio_net:
 * open attaches to the tap of a struct net_config (src/config/net.h), created if
 * missing and allowed; without a MAC the guest picks its own.
 */
extern const struct device_ops virtio_net_device_ops;
MUST_CHECK int virtio_net_open(void *dev, const void *config, struct diag *d);
/*
 * The device over fd, a non-blocking descriptor that reads and writes whole frames
 * each behind a 12-byte virtio-net header (a tap as above; the fuzz harness uses a
 * datagram socket pair). Takes fd over on success; name is for messages; rx and tx
 * limit what is received and sent (NULL: nothing).
 */
MUST_CHECK int virtio_net_attach(struct virtio_net *n, int fd, const char *name, const uint8_t *mac,
				 const struct rate_limiter_config *rx,
				 const struct rate_limiter_config *tx, struct diag *d);
void virtio_net_close(void *dev);
/* The device model to give the transport t, which it serves through. */
void virtio_net_device(void *dev, struct virtio_mmio *t, struct virtio_device *out);
/* Has the I/O thread watch the tap and the receive notifications. */
MUST_CHECK int virtio_net_watch(void *dev, struct iothread *io);

#endif
