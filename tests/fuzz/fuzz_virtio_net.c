/*
 * virtio-net's transmit and receive paths behind their transport, driven by a
 * hostile driver (virtio_script.h). The tap is one end of a datagram socket
 * pair, which keeps a tap's framing (one read or write per frame, the virtio-net
 * header in front); the harness holds the other end. The receive side runs in
 * the I/O thread's loop, polled after every operation as the thread would.
 *
 * Header fields: flags bit 1 gives the device a (fixed) MAC address.
 * Host events: width bit 0 clear: a frame of value % 65549 bytes (header
 * included) arrives from the network; set: the harness takes every frame the
 * device sent.
 *
 * Checked besides the transport's invariants: every frame the device sends
 * is longer than the header, fits a tap's largest frame, and has an all-zero
 * header (no offloads were offered, whatever the driver wrote there).
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "microvm/iothread.h"
#include "microvm/virtio_net.h"
#include "virtio_script.h"

#define FUZZ_NET_MAC (1U << 1)

static struct {
	struct iothread io;
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
	FUZZ_CHECK(virtio_net_watch(&net.net, &net.io) == 0);
}

static void net_poll(void)
{
	FUZZ_CHECK(iothread_poll(&net.io, 0) == 0);
}

/* Takes every frame the device sent, checking each. */
static void net_drain(void)
{
	static const uint8_t zero_header[VIRTIO_NET_HDR_LEN];

	for (;;) {
		ssize_t n = recv(net.peer, net.frame, sizeof(net.frame), 0);

		if (n < 0) {
			FUZZ_CHECK(errno == EAGAIN);
			return;
		}
		FUZZ_CHECK(n > VIRTIO_NET_HDR_LEN && n <= VIRTIO_NET_BUF_SIZE);
		FUZZ_CHECK(memcmp(net.frame, zero_header, sizeof(zero_header)) == 0);
	}
}

static void net_host(const struct virtio_script_op *op)
{
	size_t len = op->value % (VIRTIO_NET_BUF_SIZE + 1);

	if (op->width & 1) {
		net_drain();
		return;
	}
	for (size_t i = 0; i < len; i++)
		net.frame[i] = (uint8_t)(i ^ op->offset);
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
