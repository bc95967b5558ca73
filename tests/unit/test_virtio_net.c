/*
 * virtio-net behind its transport, attached to one end of a datagram socket pair
 * (a tap's framing without the privileges), the test holding the network's end:
 * transmitted frames reach the network with the header zeroed, received frames
 * land in the driver's buffers with num_buffers 1, a frame that finds no buffer
 * waits for one, one that does not fit is dropped alone, and malformed transmit
 * chains are returned without reaching the network.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include <linux/virtio_ids.h>
#include <linux/virtio_mmio.h>

#include "microvm/iothread.h"
#include "microvm/log.h"
#include "microvm/virtio_net.h"
#include "virtio_driver.h"

#define RXQ 0
#define TXQ 1
#define RX_BUF(i) (VD_BUFS + 0x1000ULL * (i))
#define TX_BUF (VD_BUFS + 0x10000ULL)

struct fixture {
	int network;             /* the test's end of the pair */
	struct vd v;
	struct virtio_net net;
	struct virtio_mmio t;
	struct iothread io;
};

static struct fixture *make(const uint8_t *mac)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct virtio_device dev;
	struct virtio_irq irq;
	struct diag d;
	int sv[2];

	assert_non_null(f);
	assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
	f->network = sv[1];
	assert_int_equal(virtio_net_attach(&f->net, sv[0], "pair0", mac, NULL, NULL, &d), 0);
	vd_init(&f->v);
	f->v.t = &f->t;
	irq = vd_irq(&f->v);
	virtio_net_device(&f->net, &f->t, &dev);
	assert_int_equal(virtio_mmio_init(&f->t, &dev, &f->v.mem, &irq, 0xd0000000), 0);
	assert_int_equal(iothread_init(&f->io), 0);
	assert_int_equal(virtio_net_watch(&f->net, &f->io), 0);
	return f;
}

static int setup(void **state)
{
	*state = make(NULL);
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	iothread_destroy(&f->io);
	virtio_mmio_destroy(&f->t);
	virtio_net_close(&f->net);
	vd_free(&f->v);
	close(f->network);
	free(f);
	return 0;
}

/* Runs the I/O loop until it has nothing left to do. */
static void settle(struct fixture *f)
{
	for (int i = 0; i < 4; i++)
		assert_int_equal(iothread_poll(&f->io, 10), 0);
}

static void post_rx(struct fixture *f, unsigned int i, uint32_t len)
{
	struct vd_buf b = { RX_BUF(i), len, true };

	vd_submit(&f->v, RXQ, &b, 1);
}

/* The next used receive buffer holds want bytes. */
static void expect_received(struct fixture *f, uint32_t want)
{
	uint32_t id, len;

	assert_true(vd_used(&f->v, RXQ, &id, &len));
	assert_int_equal(len, want);
}

static void send_frame(struct fixture *f, size_t len, uint8_t fill)
{
	uint8_t frame[2048];

	assert_true(len <= sizeof(frame));
	memset(frame, 0x77, VIRTIO_NET_HDR_LEN);
	memset(frame + VIRTIO_NET_HDR_LEN, fill, len - VIRTIO_NET_HDR_LEN);
	assert_int_equal(send(f->network, frame, len, 0), (ssize_t)len);
}

static void identity_and_mac(void **state)
{
	static const uint8_t mac[6] = { 0x06, 0, 0xac, 0x10, 0, 2 };
	struct fixture *f = *state;
	struct fixture *g = make(mac);
	uint8_t got[6];

	assert_int_equal(vd_read32(&f->v, VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_NET);
	assert_false(vd_device_features(&f->v) & (1ULL << VIRTIO_NET_F_MAC));
	assert_true(vd_device_features(&g->v) & (1ULL << VIRTIO_NET_F_MAC));
	for (unsigned int i = 0; i < 6; i++)
		virtio_mmio_bus_ops.read(&g->t, VIRTIO_MMIO_CONFIG + i, &got[i], 1);
	assert_memory_equal(got, mac, sizeof(mac));
	teardown((void **)&g);
}

static void transmit(void **state)
{
	struct fixture *f = *state;
	/* The header and the frame in separate buffers, the header full of offload requests. */
	struct vd_buf bufs[] = { { TX_BUF, VIRTIO_NET_HDR_LEN, false },
				 { TX_BUF + 0x100, 60, false } };
	uint8_t frame[128];
	uint32_t id, len;
	uint16_t head;

	vd_start(&f->v, 2, false);
	memset(f->v.ram + TX_BUF, 0x55, VIRTIO_NET_HDR_LEN);
	for (int i = 0; i < 60; i++)
		f->v.ram[TX_BUF + 0x100 + i] = (uint8_t)i;
	head = vd_submit(&f->v, TXQ, bufs, 2);
	assert_true(vd_used(&f->v, TXQ, &id, &len));
	assert_int_equal(id, head);
	assert_int_equal(len, 0);
	assert_int_equal(recv(f->network, frame, sizeof(frame), 0), VIRTIO_NET_HDR_LEN + 60);
	for (int i = 0; i < VIRTIO_NET_HDR_LEN; i++)
		assert_int_equal(frame[i], 0);
	for (int i = 0; i < 60; i++)
		assert_int_equal(frame[VIRTIO_NET_HDR_LEN + i], i);
}

static void malformed_transmit(void **state)
{
	struct fixture *f = *state;
	/* A header and no frame; a frame in a device-writable buffer; then a good one. */
	struct vd_buf header_only = { TX_BUF, VIRTIO_NET_HDR_LEN, false };
	struct vd_buf writable = { TX_BUF, VIRTIO_NET_HDR_LEN + 20, true };
	struct vd_buf good = { TX_BUF, VIRTIO_NET_HDR_LEN + 20, false };
	uint32_t id, len;
	uint8_t frame[64];

	vd_start(&f->v, 2, false);
	vd_submit(&f->v, TXQ, &header_only, 1);
	vd_submit(&f->v, TXQ, &writable, 1);
	assert_true(vd_used(&f->v, TXQ, &id, &len));
	assert_true(vd_used(&f->v, TXQ, &id, &len));
	assert_int_equal(recv(f->network, frame, sizeof(frame), 0), -1);
	assert_int_equal(errno, EAGAIN);
	/* The device goes on. */
	vd_submit(&f->v, TXQ, &good, 1);
	assert_int_equal(recv(f->network, frame, sizeof(frame), 0), VIRTIO_NET_HDR_LEN + 20);
}

static void receive(void **state)
{
	struct fixture *f = *state;
	struct virtio_net_hdr_v1 hdr;

	vd_start(&f->v, 2, false);
	post_rx(f, 0, 1526);
	post_rx(f, 1, 1526);
	settle(f);
	send_frame(f, VIRTIO_NET_HDR_LEN + 100, 0xab);
	send_frame(f, VIRTIO_NET_HDR_LEN + 1514, 0xcd);
	settle(f);
	expect_received(f, VIRTIO_NET_HDR_LEN + 100);
	memcpy(&hdr, f->v.ram + RX_BUF(0), sizeof(hdr));
	assert_int_equal(hdr.num_buffers, 1);
	assert_int_equal(hdr.flags, 0);
	assert_int_equal(hdr.gso_type, 0);
	assert_int_equal(f->v.ram[RX_BUF(0) + VIRTIO_NET_HDR_LEN], 0xab);
	expect_received(f, VIRTIO_NET_HDR_LEN + 1514);
	assert_int_equal(f->v.ram[RX_BUF(1) + VIRTIO_NET_HDR_LEN + 1513], 0xcd);
	assert_true(f->v.irqs > 0);
}

static void frame_waits_for_a_buffer(void **state)
{
	struct fixture *f = *state;
	uint32_t id, len;

	vd_start(&f->v, 2, false);
	send_frame(f, VIRTIO_NET_HDR_LEN + 42, 0x11);
	send_frame(f, VIRTIO_NET_HDR_LEN + 43, 0x22);
	settle(f);
	assert_false(vd_used(&f->v, RXQ, &id, &len));
	/* Each buffer the driver adds takes the next frame, in order. */
	post_rx(f, 0, 1526);
	settle(f);
	expect_received(f, VIRTIO_NET_HDR_LEN + 42);
	assert_false(vd_used(&f->v, RXQ, &id, &len));
	post_rx(f, 1, 1526);
	settle(f);
	expect_received(f, VIRTIO_NET_HDR_LEN + 43);
	assert_int_equal(f->v.ram[RX_BUF(1) + VIRTIO_NET_HDR_LEN], 0x22);
}

static void frame_too_big_is_dropped(void **state)
{
	struct fixture *f = *state;

	vd_start(&f->v, 2, false);
	post_rx(f, 0, 64);
	post_rx(f, 1, 1526);
	settle(f);
	send_frame(f, VIRTIO_NET_HDR_LEN + 100, 0x33);
	send_frame(f, VIRTIO_NET_HDR_LEN + 50, 0x44);
	settle(f);
	/* The small buffer comes back empty and the big frame is gone; the next frame is fine. */
	expect_received(f, 0);
	expect_received(f, VIRTIO_NET_HDR_LEN + 50);
	assert_int_equal(f->v.ram[RX_BUF(1) + VIRTIO_NET_HDR_LEN], 0x44);
}

static void reset_drops_waiting_frame(void **state)
{
	struct fixture *f = *state;

	vd_start(&f->v, 2, false);
	send_frame(f, VIRTIO_NET_HDR_LEN + 42, 0x11);
	settle(f);
	vd_start(&f->v, 2, false);
	send_frame(f, VIRTIO_NET_HDR_LEN + 43, 0x22);
	post_rx(f, 0, 1526);
	settle(f);
	expect_received(f, VIRTIO_NET_HDR_LEN + 43);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(identity_and_mac, setup, teardown),
		cmocka_unit_test_setup_teardown(transmit, setup, teardown),
		cmocka_unit_test_setup_teardown(malformed_transmit, setup, teardown),
		cmocka_unit_test_setup_teardown(receive, setup, teardown),
		cmocka_unit_test_setup_teardown(frame_waits_for_a_buffer, setup, teardown),
		cmocka_unit_test_setup_teardown(frame_too_big_is_dropped, setup, teardown),
		cmocka_unit_test_setup_teardown(reset_drops_waiting_frame, setup, teardown),
	};

	/* The guest errors the tests provoke are logged as warnings: keep the output to failures. */
	log_init("test_virtio_net", LOG_ERROR);
	return cmocka_run_group_tests_name("virtio_net", tests, NULL, NULL);
}
