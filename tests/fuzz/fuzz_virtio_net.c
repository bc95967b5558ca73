/*
 * virtio-net's transmit and receive paths behind their transport, driven by a
 * hostile driver (virtio_script.h). The tap is one end of a datagram socket
 * pair, which keeps a tap's framing (one read or write per frame, the virtio-net
 * header in front); the harness holds the other end. The receive side runs in
 * the I/O thread's loop, polled after every operation as the thread would.
 *
 * Header fields: flags bit 1 gives the device a (fixed) MAC address.
 * Host events: width bit 0 clear: a frame of value % 65549 bytes (header
 * included) arrives from the network, behind the header of table host_headers
 * picked by width bits 1-3 (a tap's offloads, some the driver may not have
 * accepted), or behind arbitrary bytes when those bits are all set; set: the
 * harness takes every frame the device sent.
 *
 * Checked besides the transport's invariants: every frame the device sends
 * is longer than the header, fits a tap's largest frame, and has a header that
 * asks only for the offloads the driver accepted, with the checksum inside the
 * frame (all zeros when it accepted no checksum offload).
 */
#include <endian.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "microvm/iothread.h"
#include "microvm/virtio_net.h"
#include "virtio_script.h"

#define FUZZ_NET_MAC (1U << 1)

static struct {
	struct iothread io;
	const struct virtio_mmio *t;
	int peer;                 /* the network's end */
	struct virtio_net net;
	uint8_t frame[VIRTIO_NET_BUF_SIZE + 1];
} net = { .peer = -1 };

static void net_init(void)
{
	FUZZ_CHECK(iothread_init(&net.io) == 0);
}

static void net_open(const struct virtio_script_header *h, struct virtio_mmio *t,
		     struct virtio_device *dev)
{
	static const uint8_t mac[6] = { 0x06, 0x00, 0xac, 0x10, 0x00, 0x02 };
	struct diag d;
	int sv[2];

	FUZZ_CHECK(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) == 0);
	net.peer = sv[1];
	FUZZ_CHECK(virtio_net_attach(&net.net, sv[0], "fuzz", (h->flags & FUZZ_NET_MAC) ? mac : NULL,
				     NULL, NULL, &d) == 0);
	virtio_net_device(&net.net, t, dev);
	net.t = t;
	FUZZ_CHECK(virtio_net_watch(&net.net, &net.io) == 0);
}

static void net_poll(void)
{
	FUZZ_CHECK(iothread_poll(&net.io, 0) == 0);
}

static bool accepted(unsigned int feature)
{
	return net.t->driver_features & (1ULL << feature);
}

/* A sent frame's header h, before len bytes of frame, as described above. */
static void check_sent_header(const struct virtio_net_hdr_v1 *h, size_t len)
{
	static const struct virtio_net_hdr_v1 zero;
	uint8_t gso = h->gso_type & (uint8_t)~VIRTIO_NET_HDR_GSO_ECN;

	if (!accepted(VIRTIO_NET_F_CSUM)) {
		FUZZ_CHECK(memcmp(h, &zero, sizeof(zero)) == 0);
		return;
	}
	FUZZ_CHECK((h->flags & ~VIRTIO_NET_HDR_F_NEEDS_CSUM) == 0 && h->num_buffers == 0);
	if (h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)
		FUZZ_CHECK((size_t)le16toh(h->csum_start) + le16toh(h->csum_offset) + 2 <= len);
	FUZZ_CHECK(gso == VIRTIO_NET_HDR_GSO_NONE ||
		   (gso == VIRTIO_NET_HDR_GSO_TCPV4 && accepted(VIRTIO_NET_F_HOST_TSO4)) ||
		   (gso == VIRTIO_NET_HDR_GSO_TCPV6 && accepted(VIRTIO_NET_F_HOST_TSO6)));
	FUZZ_CHECK(!(h->gso_type & VIRTIO_NET_HDR_GSO_ECN) || accepted(VIRTIO_NET_F_HOST_ECN));
}

/* Takes every frame the device sent, checking each. */
static void net_drain(void)
{
	for (;;) {
		ssize_t n = recv(net.peer, net.frame, sizeof(net.frame), 0);
		struct virtio_net_hdr_v1 h;

		if (n < 0) {
			FUZZ_CHECK(errno == EAGAIN);
			return;
		}
		FUZZ_CHECK(n > VIRTIO_NET_HDR_LEN && n <= VIRTIO_NET_BUF_SIZE);
		memcpy(&h, net.frame, sizeof(h));
		check_sent_header(&h, (size_t)n - VIRTIO_NET_HDR_LEN);
	}
}

/* What a tap puts in front of the frames it hands over, with each offload. */
static const struct virtio_net_hdr_v1 host_headers[7] = {
	{ .flags = 0 },
	{ .flags = VIRTIO_NET_HDR_F_DATA_VALID },
	{ .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM, .csum_start = 34, .csum_offset = 16 },
	{ .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM, .gso_type = VIRTIO_NET_HDR_GSO_TCPV4, .hdr_len = 66,
	  .gso_size = 1448, .csum_start = 34, .csum_offset = 16 },
	{ .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM, .gso_type = VIRTIO_NET_HDR_GSO_TCPV6, .hdr_len = 86,
	  .gso_size = 1428, .csum_start = 54, .csum_offset = 16 },
	{ .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM, .gso_type = VIRTIO_NET_HDR_GSO_TCPV4 | VIRTIO_NET_HDR_GSO_ECN,
	  .hdr_len = 66, .gso_size = 1448, .csum_start = 34, .csum_offset = 16 },
	{ .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM, .gso_type = VIRTIO_NET_HDR_GSO_UDP, .hdr_len = 42,
	  .gso_size = 1472, .csum_start = 34, .csum_offset = 6 },
};

static void net_host(const struct virtio_script_op *op)
{
	size_t len = op->value % (VIRTIO_NET_BUF_SIZE + 1);
	unsigned int header = (op->width >> 1) & 7;

	if (op->width & 1) {
		net_drain();
		return;
	}

	for (size_t i = 0; i < len; i++)
		net.frame[i] = (uint8_t)(i ^ op->offset);
	if (header < sizeof(host_headers) / sizeof(host_headers[0]))
		memcpy(net.frame, &host_headers[header],
		       len < VIRTIO_NET_HDR_LEN ? len : VIRTIO_NET_HDR_LEN);
	/* A full socket drops the frame, as a full tap queue would. */
	if (send(net.peer, net.frame, len, 0) < 0)
		FUZZ_CHECK(errno == EAGAIN || errno == ENOBUFS);
}

static void net_close(void)
{
	net_drain();
	virtio_net_close(&net.net);
	close(net.peer);
	net.peer = -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct virtio_script_device device = {
		.init = net_init,
		.open = net_open,
		.poll = net_poll,
		.host = net_host,
		.close = net_close,
	};

	virtio_script_run(&device, data, size);
	return 0;
}
