#include "microvm/virtio_net.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <linux/virtio_ids.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "config/net.h"
#include "microvm/cleanup.h"
#include "microvm/log.h"

#define TUN_DEVICE "/dev/net/tun"
#define VIRTIO_NET_HOST_ERRORS_LOGGED 8
/* Frames moved per wake-up of the I/O thread before it serves other devices. */
#define VIRTIO_NET_RX_BUDGET 256

enum { VIRTIO_NET_RXQ = 0, VIRTIO_NET_TXQ = 1 };

_Static_assert(sizeof(struct virtio_net_hdr_v1) == VIRTIO_NET_HDR_LEN, "virtio-net header size");

int virtio_net_attach(struct virtio_net *n, int fd, const char *name, const uint8_t *mac,
		      const struct rate_limiter_config *rx, const struct rate_limiter_config *tx,
		      struct diag *d)
{
	static const struct rate_limiter_config none;
	cleanup_fd int efd = -1;
	int ret;

	memset(n, 0, sizeof(*n));
	n->tap_fd = n->rx_kick_efd = -1;
	n->rx_throttle.timer_fd = n->tx_throttle.timer_fd = -1;
	if (strlen(name) >= sizeof(n->tap_name))
		return diag_fail(d, "--net tap=%s: name longer than %zu bytes", name, sizeof(n->tap_name) - 1);
	efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (efd < 0)
		return diag_fail_errno(d, -errno, "--net: eventfd: %s", strerror(errno));
	memcpy(n->tap_name, name, strlen(name));
	if (mac) {
		memcpy(n->config.mac, mac, sizeof(n->config.mac));
		n->has_mac = true;
	}
	ret = throttle_open(&n->rx_throttle, rx ? rx : &none, d);
	if (!ret)
		ret = throttle_open(&n->tx_throttle, tx ? tx : &none, d);
	if (ret) {
		throttle_close(&n->rx_throttle);
		return ret;
	}
	n->tap_fd = fd;
	n->rx_kick_efd = steal_fd(&efd);
	return 0;
}

int virtio_net_open(void *dev, const void *config, struct diag *d)
{
	const struct net_config *c = config;
	const char *tap = c->tap;
	const uint8_t *mac = c->has_mac ? c->mac : NULL;
	cleanup_fd int fd = -1;
	struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR };
	int hdr_len = VIRTIO_NET_HDR_LEN;
	int ret;

	if (strlen(tap) >= sizeof(ifr.ifr_name))
		return diag_fail(d, "--net tap=%s: name longer than %zu bytes", tap, sizeof(ifr.ifr_name) - 1);
	fd = open(TUN_DEVICE, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return diag_fail_errno(d, -errno, "--net tap=%s: cannot open " TUN_DEVICE ": %s", tap,
				       strerror(errno));
	memcpy(ifr.ifr_name, tap, strlen(tap));
	if (ioctl(fd, TUNSETIFF, &ifr) < 0)
		return diag_fail_errno(d, -errno, "--net tap=%s: cannot attach to the tap device: %s",
				       tap, strerror(errno));
	if (ioctl(fd, TUNSETVNETHDRSZ, &hdr_len) < 0)
		return diag_fail_errno(d, -errno, "--net tap=%s: cannot set the virtio-net header size: %s",
				       tap, strerror(errno));
	ret = virtio_net_attach(dev, fd, tap, mac, &c->rx_limiter, &c->tx_limiter, d);
	if (ret == 0)
		fd = -1; /* the device owns it now */
	return ret;
}

void virtio_net_close(void *dev)
{
	struct virtio_net *n = dev;

	if (n->tap_fd >= 0)
		close(n->tap_fd);
	if (n->rx_kick_efd >= 0)
		close(n->rx_kick_efd);
	n->tap_fd = n->rx_kick_efd = -1;
	throttle_close(&n->rx_throttle);
	throttle_close(&n->tx_throttle);
}

static void virtio_net_host_error(struct virtio_net *n, const char *what, int err)
{
	if (n->host_errors_logged >= VIRTIO_NET_HOST_ERRORS_LOGGED)
		return;
	n->host_errors_logged++;
	log_warn("virtio-net (tap %s): %s: %s%s", n->tap_name, what, strerror(err),
		 n->host_errors_logged == VIRTIO_NET_HOST_ERRORS_LOGGED ? "; not logging further ones" : "");
}

/* One frame from the driver to the tap; nothing is written back to the chain. */
static uint32_t virtio_net_tx(void *ctx, const struct virtq_chain *c)
{
	struct virtio_net *n = ctx;

	if (c->read_len <= VIRTIO_NET_HDR_LEN || c->read_len > sizeof(n->tx_buf)) {
		virtio_mmio_guest_error(n->t, "transmit chain %u of %llu bytes", c->head,
					(unsigned long long)c->read_len);
		return 0;
	}
	if (virtq_chain_read(c, n->t->mem, 0, n->tx_buf, c->read_len))
		return 0;
	/* No offloads were offered: whatever the driver put there, the frame is plain. */
	memset(n->tx_buf, 0, VIRTIO_NET_HDR_LEN);
	if (write(n->tap_fd, n->tx_buf, c->read_len) < 0 && errno != EAGAIN)
		virtio_net_host_error(n, "write to the tap", errno);
	return 0;
}

/*
 * Moves frames from the tap into receive buffers until the tap is empty or the
 * driver has no buffer left (the frame then waits in rx_buf). Lock held.
 */
static void virtio_net_rx(struct virtio_net *n)
{
	const struct gmem *mem = n->t->mem;
	bool delivered = false;
	unsigned int budget = VIRTIO_NET_RX_BUDGET;
	uint64_t one = 1;

	while (virtio_mmio_queue_live(n->t, VIRTIO_NET_RXQ)) {
		const struct virtq_chain *c;
		struct virtio_net_hdr_v1 hdr = { .num_buffers = htole16(1) };

		/* Other devices get their turn; the eventfd brings the thread back here. */
		if (budget-- == 0) {
			if (write(n->rx_kick_efd, &one, sizeof(one)) < 0)
				virtio_net_host_error(n, "eventfd write", errno);
			break;
		}
		if (n->rx_len == 0) {
			ssize_t r = read(n->tap_fd, n->rx_buf, sizeof(n->rx_buf));

			if (r < 0) {
				if (errno != EAGAIN && errno != EINTR)
					virtio_net_host_error(n, "read from the tap", errno);
				if (errno != EINTR)
					break;
				continue;
			}
			if (r <= VIRTIO_NET_HDR_LEN)
				continue;
			n->rx_len = (size_t)r;
		}
		c = virtio_mmio_pop(n->t, VIRTIO_NET_RXQ);
		if (!c)
			break;
		/* Over the limit: the frame waits in rx_buf, the buffer in the ring, for the timer. */
		if (!throttle_admit(&n->rx_throttle, n->t, 1, n->rx_len - VIRTIO_NET_HDR_LEN)) {
			virtio_mmio_unpop(n->t, VIRTIO_NET_RXQ);
			break;
		}
		memcpy(n->rx_buf, &hdr, sizeof(hdr));
		if (c->write_len < n->rx_len) {
			virtio_mmio_guest_error(n->t, "receive buffer of %llu bytes for a %zu-byte frame: frame dropped",
						(unsigned long long)c->write_len, n->rx_len);
			virtio_mmio_push(n->t, VIRTIO_NET_RXQ, c->head, 0);
		} else if (virtq_chain_write(c, mem, 0, n->rx_buf, n->rx_len) == 0) {
			virtio_mmio_push(n->t, VIRTIO_NET_RXQ, c->head, (uint32_t)n->rx_len);
		}
		n->rx_len = 0;
		delivered = true;
	}
	if (delivered)
		virtio_mmio_signal(n->t, VIRTIO_NET_RXQ);
}

static void virtio_net_tap_ready(void *ctx, uint32_t events)
{
	struct virtio_net *n = ctx;

	(void)events;
	virtio_mmio_lock(n->t);
	virtio_net_rx(n);
	virtio_mmio_unlock(n->t);
}

static void virtio_net_kick_ready(void *ctx, uint32_t events)
{
	struct virtio_net *n = ctx;
	uint64_t v;

	(void)events;
	if (read(n->rx_kick_efd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		virtio_net_host_error(n, "eventfd read", errno);
	virtio_net_tap_ready(n, events);
}

/* One frame and its bytes (the header aside) for the transmit limiter. */
static bool virtio_net_tx_admit(void *ctx, const struct virtq_chain *c)
{
	struct virtio_net *n = ctx;

	return throttle_admit(&n->tx_throttle, n->t, 1,
			      c->read_len > VIRTIO_NET_HDR_LEN ? c->read_len - VIRTIO_NET_HDR_LEN : 0);
}

/* The transmit limiter's timer fired (the I/O thread): send what waited. */
static void virtio_net_tx_resume(void *ctx)
{
	struct virtio_net *n = ctx;

	virtio_mmio_lock(n->t);
	virtio_mmio_drain_admitted(n->t, VIRTIO_NET_TXQ, virtio_net_tx_admit, virtio_net_tx, n);
	virtio_mmio_unlock(n->t);
}

/* The receive limiter's timer fired: deliver what waited. */
static void virtio_net_rx_resume(void *ctx)
{
	virtio_net_tap_ready(ctx, EPOLLIN);
}

static void virtio_net_notify(void *ctx, unsigned int queue)
{
	struct virtio_net *n = ctx;
	uint64_t one = 1;

	if (queue == VIRTIO_NET_TXQ) {
		virtio_mmio_drain_admitted(n->t, queue, virtio_net_tx_admit, virtio_net_tx, n);
		return;
	}
	/* Receive buffers: the I/O thread fills them. */
	if (write(n->rx_kick_efd, &one, sizeof(one)) < 0)
		virtio_net_host_error(n, "eventfd write", errno);
}

static void virtio_net_reset(void *ctx)
{
	struct virtio_net *n = ctx;

	n->rx_len = 0;
}

static const struct virtio_device_ops virtio_net_ops = {
	.name = "virtio-net",
	.device_id = VIRTIO_ID_NET,
	.nr_queues = 2,
	.notify = virtio_net_notify,
	.reset = virtio_net_reset,
};

void virtio_net_device(void *dev, struct virtio_mmio *t, struct virtio_device *out)
{
	struct virtio_net *n = dev;

	n->t = t;
	*out = (struct virtio_device){
		.ops = &virtio_net_ops,
		.ctx = n,
		.features = n->has_mac ? 1ULL << VIRTIO_NET_F_MAC : 0,
		.config = &n->config,
		.config_size = sizeof(n->config.mac),
	};
}

int virtio_net_watch(void *dev, struct iothread *io)
{
	struct virtio_net *n = dev;
	int ret;

	n->tap_handler = (struct io_handler){ .ready = virtio_net_tap_ready, .ctx = n };
	n->kick_handler = (struct io_handler){ .ready = virtio_net_kick_ready, .ctx = n };
	/* Edge-triggered: the tap is read until empty, or until the driver has no buffer. */
	ret = iothread_watch(io, n->tap_fd, EPOLLIN | EPOLLET, &n->tap_handler);
	if (!ret)
		ret = iothread_watch(io, n->rx_kick_efd, EPOLLIN, &n->kick_handler);
	if (!ret)
		ret = throttle_watch(&n->rx_throttle, io, virtio_net_rx_resume, n);
	if (!ret)
		ret = throttle_watch(&n->tx_throttle, io, virtio_net_tx_resume, n);
	return ret;
}

/* New rate limiters (PATCH /network-interfaces), full; a queue that waited resumes. */
static int virtio_net_update(void *dev, const void *config, unsigned int changes, struct diag *d)
{
	struct virtio_net *n = dev;
	const struct net_config *c = config;

	if (changes & ~DEVICE_CHANGE_LIMITS)
		return diag_fail_errno(d, -EOPNOTSUPP, "a network interface changes only its rate limiters");
	virtio_mmio_lock(n->t);
	throttle_set(&n->rx_throttle, &c->rx_limiter);
	throttle_set(&n->tx_throttle, &c->tx_limiter);
	virtio_mmio_unlock(n->t);
	return 0;
}

/* Frames either limiter held back before the snapshot go again (throttle_restore). */
static int virtio_net_restore(void *dev, const struct snapshot *s, unsigned int slot, const char **why)
{
	struct virtio_net *n = dev;

	(void)s;
	(void)slot;
	(void)why;
	throttle_restore(&n->rx_throttle);
	throttle_restore(&n->tx_throttle);
	return 0;
}

const struct device_ops virtio_net_device_ops = {
	/* Transmit in the notifying vCPU; receive in the I/O thread. */
	.threads = DEVICE_THREAD_VCPU | DEVICE_THREAD_IO,
	.size = sizeof(struct virtio_net),
	.open = virtio_net_open,
	.attach = virtio_net_device,
	.watch = virtio_net_watch,
	.update = virtio_net_update,
	.restore = virtio_net_restore,
	.close = virtio_net_close,
};
