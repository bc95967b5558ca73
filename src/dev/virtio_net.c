#include "microvm/virtio_net.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
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

#define BIT(f) (1ULL << (f))
/*
 * Checksum and TCP segmentation offloads both ways, as a tap takes and gives them
 * (UDP fragmentation aside: Linux no longer sends it), and receive buffers merged
 * for large frames, so that a guest moves 64 KiB per frame, not 1.5.
 */
#define VIRTIO_NET_OFFLOADS                                                                  \
	(BIT(VIRTIO_NET_F_CSUM) | BIT(VIRTIO_NET_F_HOST_TSO4) | BIT(VIRTIO_NET_F_HOST_TSO6) |     \
	 BIT(VIRTIO_NET_F_HOST_ECN) | BIT(VIRTIO_NET_F_GUEST_CSUM) | BIT(VIRTIO_NET_F_GUEST_TSO4) | \
	 BIT(VIRTIO_NET_F_GUEST_TSO6) | BIT(VIRTIO_NET_F_GUEST_ECN) | BIT(VIRTIO_NET_F_MRG_RXBUF))

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
	/* A persistent tap keeps a previous user's offloads: none until a driver takes some. */
	if (ioctl(fd, TUNSETOFFLOAD, 0UL) < 0)
		return diag_fail_errno(d, -errno, "--net tap=%s: cannot clear the tap's offloads: %s",
				       tap, strerror(errno));
	ret = virtio_net_attach(dev, fd, tap, mac, &c->rx_limiter, &c->tx_limiter, d);
	if (ret == 0) {
		fd = -1; /* the device owns it now */
		((struct virtio_net *)dev)->tap = true;
	}
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

static bool virtio_net_has(const struct virtio_net *n, unsigned int feature)
{
	return n->t->driver_features & BIT(feature);
}

/*
 * Whether the driver's header h, in front of a frame of len bytes, asks only for
 * offloads it accepted, with the checksum inside the frame (virtio 1.x 5.1.6.2);
 * fields it does not use are cleared. The tap's kernel checks the rest (the segment
 * size against the headers). A driver that took no checksum offload sends plain
 * frames whatever it wrote there.
 */
static bool virtio_net_tx_header(struct virtio_net *n, struct virtio_net_hdr_v1 *h, uint64_t len)
{
	uint8_t gso = h->gso_type & (uint8_t)~VIRTIO_NET_HDR_GSO_ECN;
	uint64_t csum_end = (uint64_t)le16toh(h->csum_start) + le16toh(h->csum_offset) + 2;
	bool ok = true;

	if (!virtio_net_has(n, VIRTIO_NET_F_CSUM)) {
		memset(h, 0, sizeof(*h));
		return true;
	}
	if (h->flags & ~VIRTIO_NET_HDR_F_NEEDS_CSUM)
		ok = false;
	if ((h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) && csum_end > len)
		ok = false;
	if (gso == VIRTIO_NET_HDR_GSO_TCPV4)
		ok = ok && virtio_net_has(n, VIRTIO_NET_F_HOST_TSO4);
	else if (gso == VIRTIO_NET_HDR_GSO_TCPV6)
		ok = ok && virtio_net_has(n, VIRTIO_NET_F_HOST_TSO6);
	else if (h->gso_type != VIRTIO_NET_HDR_GSO_NONE)
		ok = false;
	if (h->gso_type & VIRTIO_NET_HDR_GSO_ECN)
		ok = ok && virtio_net_has(n, VIRTIO_NET_F_HOST_ECN);
	/* A segmented frame has its checksums filled in per segment: it must say where. */
	if (gso != VIRTIO_NET_HDR_GSO_NONE &&
	    (!(h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) || !h->gso_size || le16toh(h->hdr_len) > len))
		ok = false;
	if (!ok) {
		virtio_mmio_guest_error(n->t, "transmit header flags 0x%x, gso_type 0x%x, gso_size %u, hdr_len %u, checksum at %u+%u for a %llu-byte frame: frame dropped",
					h->flags, h->gso_type, le16toh(h->gso_size), le16toh(h->hdr_len),
					le16toh(h->csum_start), le16toh(h->csum_offset), (unsigned long long)len);
		return false;
	}
	if (!(h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM))
		h->csum_start = h->csum_offset = 0;
	if (gso == VIRTIO_NET_HDR_GSO_NONE)
		h->gso_size = h->hdr_len = 0;
	h->num_buffers = 0;
	return true;
}

/* One frame from the driver to the tap; nothing is written back to the chain. */
static uint32_t virtio_net_tx(void *ctx, const struct virtq_chain *c)
{
	struct virtio_net *n = ctx;
	struct virtio_net_hdr_v1 hdr;

	if (c->read_len <= VIRTIO_NET_HDR_LEN || c->read_len > sizeof(n->tx_buf)) {
		virtio_mmio_guest_error(n->t, "transmit chain %u of %llu bytes", c->head,
					(unsigned long long)c->read_len);
		return 0;
	}
	if (virtq_chain_read(c, n->t->mem, 0, n->tx_buf, c->read_len))
		return 0;
	memcpy(&hdr, n->tx_buf, sizeof(hdr));
	if (!virtio_net_tx_header(n, &hdr, c->read_len - VIRTIO_NET_HDR_LEN))
		return 0;
	memcpy(n->tx_buf, &hdr, sizeof(hdr));
	if (write(n->tap_fd, n->tx_buf, c->read_len) < 0 && errno != EAGAIN)
		virtio_net_host_error(n, "write to the tap", errno);
	return 0;
}

/*
 * Whether the tap's header h (a frame from the host) asks for nothing the driver did
 * not accept. Frames the tap queued before its offloads last changed may. DATA_VALID
 * is a hint, cleared for a driver that does not take checksum offloads.
 */
static bool virtio_net_rx_header(const struct virtio_net *n, struct virtio_net_hdr_v1 *h)
{
	uint8_t gso = h->gso_type & (uint8_t)~VIRTIO_NET_HDR_GSO_ECN;
	bool csum = virtio_net_has(n, VIRTIO_NET_F_GUEST_CSUM);

	h->num_buffers = htole16(1);
	if (!csum)
		h->flags &= (uint8_t)~VIRTIO_NET_HDR_F_DATA_VALID;
	if (h->flags & ~(VIRTIO_NET_HDR_F_NEEDS_CSUM | VIRTIO_NET_HDR_F_DATA_VALID))
		return false;
	if ((h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) && !csum)
		return false;
	if ((h->gso_type & VIRTIO_NET_HDR_GSO_ECN) && !virtio_net_has(n, VIRTIO_NET_F_GUEST_ECN))
		return false;
	if (gso == VIRTIO_NET_HDR_GSO_TCPV4)
		return virtio_net_has(n, VIRTIO_NET_F_GUEST_TSO4);
	if (gso == VIRTIO_NET_HDR_GSO_TCPV6)
		return virtio_net_has(n, VIRTIO_NET_F_GUEST_TSO6);
	return h->gso_type == VIRTIO_NET_HDR_GSO_NONE;
}

enum virtio_net_rx_result {
	VIRTIO_NET_RX_DONE,  /* the frame is delivered or dropped */
	VIRTIO_NET_RX_WAIT,  /* not enough buffers, or over the limit: it stays in rx_buf */
};

/* The frame in rx_buf into one buffer (no VIRTIO_NET_F_MRG_RXBUF): dropped if it does not fit. */
static enum virtio_net_rx_result virtio_net_rx_whole(struct virtio_net *n)
{
	const struct virtq_chain *c = virtio_mmio_pop(n->t, VIRTIO_NET_RXQ);

	if (!c)
		return VIRTIO_NET_RX_WAIT;
	/* Over the limit: the frame waits in rx_buf, the buffer in the ring, for the timer. */
	if (!throttle_admit(&n->rx_throttle, n->t, 1, n->rx_len - VIRTIO_NET_HDR_LEN)) {
		virtio_mmio_unpop(n->t, VIRTIO_NET_RXQ);
		return VIRTIO_NET_RX_WAIT;
	}
	if (c->write_len < n->rx_len) {
		virtio_mmio_guest_error(n->t, "receive buffer of %llu bytes for a %zu-byte frame: frame dropped",
					(unsigned long long)c->write_len, n->rx_len);
		virtio_mmio_push(n->t, VIRTIO_NET_RXQ, c->head, 0);
	} else if (virtq_chain_write(c, n->t->mem, 0, n->rx_buf, n->rx_len) == 0) {
		virtio_mmio_push(n->t, VIRTIO_NET_RXQ, c->head, (uint32_t)n->rx_len);
	}
	return VIRTIO_NET_RX_DONE;
}

/* Buffers gathered for one frame, in order. */
struct virtio_net_spread {
	uint16_t heads[VIRTQ_MAX_SIZE];
	uint32_t lens[VIRTQ_MAX_SIZE];
	unsigned int nr;
	size_t bytes;              /* of the frame, in them */
	struct iovec count_at[2];  /* the first buffer's num_buffers field */
	int count_pieces;
};

/* Hands the gathered buffers back empty (a malformed buffer among them): they are the driver's again. */
static void virtio_net_spread_return(struct virtio_net *n, struct virtio_net_spread *sp)
{
	memset(sp->lens, 0, sizeof(sp->lens[0]) * sp->nr);
	virtio_mmio_push_many(n->t, VIRTIO_NET_RXQ, sp->heads, sp->lens, sp->nr);
	virtio_mmio_signal(n->t, VIRTIO_NET_RXQ);
	sp->nr = 0;
	sp->bytes = 0;
}

static void virtio_net_spread_undo(struct virtio_net *n, struct virtio_net_spread *sp)
{
	for (unsigned int i = 0; i < sp->nr; i++)
		virtio_mmio_unpop(n->t, VIRTIO_NET_RXQ);
	sp->nr = 0;
}

/*
 * The frame in rx_buf over as many buffers as it needs (VIRTIO_NET_F_MRG_RXBUF), the
 * count in the first one's header, all handed back at once. Every buffer must hold a
 * header (virtio 1.x 5.1.6.3.1). Without enough buffers they go back in the ring and
 * the frame waits; a frame that even the whole ring cannot hold is dropped.
 */
static enum virtio_net_rx_result virtio_net_rx_spread(struct virtio_net *n)
{
	struct virtio_net_spread sp = { .nr = 0 };
	uint16_t ring = n->t->queues[VIRTIO_NET_RXQ].size;

	while (sp.bytes < n->rx_len) {
		uint16_t before = virtio_mmio_taken(n->t, VIRTIO_NET_RXQ);
		const struct virtq_chain *c;
		size_t piece;

		if (sp.nr == ring) {
			virtio_mmio_guest_error(n->t, "a %zu-byte frame does not fit the %u receive buffers: frame dropped",
						n->rx_len, ring);
			virtio_net_spread_undo(n, &sp);
			return VIRTIO_NET_RX_DONE;
		}
		c = virtio_mmio_pop(n->t, VIRTIO_NET_RXQ);
		if (!c) {
			virtio_net_spread_undo(n, &sp);
			return VIRTIO_NET_RX_WAIT;
		}
		/* Malformed chains met on the way were handed back: those gathered cannot go back in the ring. */
		if ((uint16_t)(virtio_mmio_taken(n->t, VIRTIO_NET_RXQ) - before) != 1)
			virtio_net_spread_return(n, &sp);
		if (c->write_len < VIRTIO_NET_HDR_LEN) {
			virtio_mmio_guest_error(n->t, "merged receive buffer of %llu bytes, smaller than the header",
						(unsigned long long)c->write_len);
			sp.heads[sp.nr++] = c->head;
			virtio_net_spread_return(n, &sp);
			continue;
		}
		piece = c->write_len < n->rx_len - sp.bytes ? (size_t)c->write_len : n->rx_len - sp.bytes;
		if (virtq_chain_write(c, n->t->mem, 0, n->rx_buf + sp.bytes, piece))
			piece = 0;
		if (sp.nr == 0)
			sp.count_pieces = virtq_chain_map(c, n->t->mem, VIRTQ_WRITE,
							  offsetof(struct virtio_net_hdr_v1, num_buffers),
							  sizeof(uint16_t), sp.count_at, 2);
		sp.heads[sp.nr] = c->head;
		sp.lens[sp.nr++] = (uint32_t)piece;
		sp.bytes += piece;
	}
	if (!throttle_admit(&n->rx_throttle, n->t, 1, n->rx_len - VIRTIO_NET_HDR_LEN)) {
		virtio_net_spread_undo(n, &sp);
		return VIRTIO_NET_RX_WAIT;
	}
	if (sp.count_pieces > 0) {
		uint16_t count = htole16((uint16_t)sp.nr);
		const uint8_t *bytes = (const uint8_t *)&count;

		for (int i = 0, done = 0; i < sp.count_pieces; done += (int)sp.count_at[i++].iov_len)
			memcpy(sp.count_at[i].iov_base, bytes + done, sp.count_at[i].iov_len);
	}
	virtio_mmio_push_many(n->t, VIRTIO_NET_RXQ, sp.heads, sp.lens, sp.nr);
	return VIRTIO_NET_RX_DONE;
}

/*
 * Moves frames from the tap into receive buffers until the tap is empty or the
 * driver has no buffer left (the frame then waits in rx_buf). Lock held.
 */
static void virtio_net_rx(struct virtio_net *n)
{
	bool delivered = false;
	unsigned int budget = VIRTIO_NET_RX_BUDGET;
	uint64_t one = 1;

	while (virtio_mmio_queue_live(n->t, VIRTIO_NET_RXQ)) {
		struct virtio_net_hdr_v1 hdr;

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
			memcpy(&hdr, n->rx_buf, sizeof(hdr));
			if (!virtio_net_rx_header(n, &hdr)) {
				log_debug("virtio-net (tap %s): a frame with offloads the driver did not accept (flags 0x%x, gso_type 0x%x): dropped",
					  n->tap_name, hdr.flags, hdr.gso_type);
				continue;
			}
			memcpy(n->rx_buf, &hdr, sizeof(hdr));
			n->rx_len = (size_t)r;
		}
		if ((virtio_net_has(n, VIRTIO_NET_F_MRG_RXBUF) ? virtio_net_rx_spread(n)
							       : virtio_net_rx_whole(n)) == VIRTIO_NET_RX_WAIT)
			break;
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

/* The tap hands over frames with the offloads the driver accepted, and no others. */
static void virtio_net_tap_offloads(struct virtio_net *n, uint64_t features)
{
	unsigned long offloads = 0;

	if (features & BIT(VIRTIO_NET_F_GUEST_CSUM)) {
		offloads = TUN_F_CSUM;
		if (features & BIT(VIRTIO_NET_F_GUEST_TSO4))
			offloads |= TUN_F_TSO4;
		if (features & BIT(VIRTIO_NET_F_GUEST_TSO6))
			offloads |= TUN_F_TSO6;
		if ((offloads & (TUN_F_TSO4 | TUN_F_TSO6)) && (features & BIT(VIRTIO_NET_F_GUEST_ECN)))
			offloads |= TUN_F_TSO_ECN;
	}
	if (n->tap && ioctl(n->tap_fd, TUNSETOFFLOAD, offloads) < 0)
		virtio_net_host_error(n, "setting the tap's offloads", errno);
}

static void virtio_net_driver_ok(void *ctx, uint64_t features)
{
	virtio_net_tap_offloads(ctx, features);
}

static void virtio_net_reset(void *ctx)
{
	struct virtio_net *n = ctx;

	n->rx_len = 0;
	virtio_net_tap_offloads(n, 0);
}

static const struct virtio_device_ops virtio_net_ops = {
	.name = "virtio-net",
	.device_id = VIRTIO_ID_NET,
	.nr_queues = 2,
	.notify = virtio_net_notify,
	.reset = virtio_net_reset,
	.driver_ok = virtio_net_driver_ok,
};

void virtio_net_device(void *dev, struct virtio_mmio *t, struct virtio_device *out)
{
	struct virtio_net *n = dev;

	n->t = t;
	*out = (struct virtio_device){
		.ops = &virtio_net_ops,
		.ctx = n,
		.features = VIRTIO_NET_OFFLOADS | (n->has_mac ? BIT(VIRTIO_NET_F_MAC) : 0),
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

/*
 * The tap takes the offloads the driver had accepted; both queues are served once, and
 * frames either limiter held back before the snapshot go again (throttle_restore).
 */
static int virtio_net_restore(void *dev, const struct snapshot *s, unsigned int slot, const char **why)
{
	struct virtio_net *n = dev;

	(void)s;
	(void)slot;
	(void)why;
	if (n->t->status & VIRTIO_CONFIG_S_DRIVER_OK)
		virtio_net_tap_offloads(n, n->t->driver_features);
	/* A notification KVM had signalled to the old process's I/O thread went with it. */
	virtio_mmio_lock(n->t);
	virtio_net_notify(n, VIRTIO_NET_TXQ);
	virtio_net_notify(n, VIRTIO_NET_RXQ);
	virtio_mmio_unlock(n->t);
	throttle_restore(&n->rx_throttle);
	throttle_restore(&n->tx_throttle);
	return 0;
}

const struct device_ops virtio_net_device_ops = {
	/*
	 * Both queues' notifications in the I/O thread where KVM takes them (the guest
	 * queues the next frames meanwhile: under real KVM a notification that left for
	 * the VMM cost guest-to-host TCP half its throughput); else transmit in the
	 * notifying vCPU. Receive in the I/O thread.
	 */
	.threads = DEVICE_THREAD_VCPU | DEVICE_THREAD_IO,
	.io_notify = 1u << VIRTIO_NET_RXQ | 1u << VIRTIO_NET_TXQ,
	.size = sizeof(struct virtio_net),
	.open = virtio_net_open,
	.attach = virtio_net_device,
	.watch = virtio_net_watch,
	.update = virtio_net_update,
	.restore = virtio_net_restore,
	.close = virtio_net_close,
};
