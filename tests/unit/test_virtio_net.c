/*
 * virtio-net behind its transport, attached to one end of a datagram socket pair
 * (a tap's framing without the privileges), the test holding the network's end:
 * transmitted frames reach the network with the header zeroed (or as the driver
 * wrote it, once it accepted the offloads it asks for), received frames land in
 * the driver's buffers with num_buffers 1 (or spread over merged buffers), a frame
 * that finds no buffer waits for one, one that does not fit is dropped alone, and
 * malformed transmit chains and headers are returned without reaching the network.
 */
#include <errno.h>
#include <stdatomic.h>
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

/* A frame from the network behind header h (NULL: a plain one), its bytes fill + index. */
static void send_frame_with(struct fixture *f, const struct virtio_net_hdr_v1 *h, size_t len,
			    uint8_t fill)
{
	static uint8_t frame[VIRTIO_NET_BUF_SIZE];
	struct virtio_net_hdr_v1 plain = { .num_buffers = 0x7777 };

	assert_true(len <= sizeof(frame));
	memcpy(frame, h ? h : &plain, VIRTIO_NET_HDR_LEN);
	for (size_t i = VIRTIO_NET_HDR_LEN; i < len; i++)
		frame[i] = (uint8_t)(fill + i);
	assert_int_equal(send(f->network, frame, len, 0), (ssize_t)len);
}

static void send_frame(struct fixture *f, size_t len, uint8_t fill)
{
	send_frame_with(f, NULL, len, fill);
}

/* Brings the device up with VERSION_1 and the virtio-net features given. */
static void start_with(struct fixture *f, uint64_t features)
{
	assert_true(vd_negotiate(&f->v, (1ULL << VIRTIO_F_VERSION_1) | features));
	vd_setup_queue(&f->v, RXQ, VD_QUEUE_SIZE);
	vd_setup_queue(&f->v, TXQ, VD_QUEUE_SIZE);
	vd_driver_ok(&f->v);
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
	assert_int_equal(f->v.ram[RX_BUF(0) + VIRTIO_NET_HDR_LEN], (uint8_t)(0xab + VIRTIO_NET_HDR_LEN));
	expect_received(f, VIRTIO_NET_HDR_LEN + 1514);
	assert_int_equal(f->v.ram[RX_BUF(1) + VIRTIO_NET_HDR_LEN + 1513],
			 (uint8_t)(0xcd + VIRTIO_NET_HDR_LEN + 1513));
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
	assert_int_equal(f->v.ram[RX_BUF(1) + VIRTIO_NET_HDR_LEN], (uint8_t)(0x22 + VIRTIO_NET_HDR_LEN));
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
	assert_int_equal(f->v.ram[RX_BUF(1) + VIRTIO_NET_HDR_LEN], (uint8_t)(0x44 + VIRTIO_NET_HDR_LEN));
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


#define F(x) (1ULL << (x))
#define TSO_HDR(gso, mss)                                                                    \
	((struct virtio_net_hdr_v1){ .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM, .gso_type = (gso),   \
				     .hdr_len = 66, .gso_size = (mss), .csum_start = 34,          \
				     .csum_offset = 16 })

static uint64_t guest_errors(struct fixture *f)
{
	return atomic_load(&f->t.stats.guest_errors);
}

/* The driver's header at TX_BUF and len bytes of frame after it, as one chain. */
static void transmit_with(struct fixture *f, const struct virtio_net_hdr_v1 *h, uint32_t len)
{
	struct vd_buf b = { TX_BUF, VIRTIO_NET_HDR_LEN + len, false };
	uint32_t id, used_len;

	memcpy(f->v.ram + TX_BUF, h, sizeof(*h));
	memset(f->v.ram + TX_BUF + VIRTIO_NET_HDR_LEN, 0x5a, len);
	vd_submit(&f->v, TXQ, &b, 1);
	assert_true(vd_used(&f->v, TXQ, &id, &used_len));
}

/* The next frame on the network has header want; none if want is NULL. */
static void expect_sent(struct fixture *f, const struct virtio_net_hdr_v1 *want)
{
	static uint8_t frame[VIRTIO_NET_BUF_SIZE];

	if (!want) {
		assert_int_equal(recv(f->network, frame, sizeof(frame), 0), -1);
		assert_int_equal(errno, EAGAIN);
		return;
	}
	assert_true(recv(f->network, frame, sizeof(frame), 0) > VIRTIO_NET_HDR_LEN);
	assert_memory_equal(frame, want, VIRTIO_NET_HDR_LEN);
}

static void offers_offloads(void **state)
{
	struct fixture *f = *state;
	uint64_t offered = vd_device_features(&f->v);
	uint64_t want = F(VIRTIO_NET_F_CSUM) | F(VIRTIO_NET_F_HOST_TSO4) | F(VIRTIO_NET_F_HOST_TSO6) |
			F(VIRTIO_NET_F_HOST_ECN) | F(VIRTIO_NET_F_GUEST_CSUM) | F(VIRTIO_NET_F_GUEST_TSO4) |
			F(VIRTIO_NET_F_GUEST_TSO6) | F(VIRTIO_NET_F_GUEST_ECN) | F(VIRTIO_NET_F_MRG_RXBUF);

	assert_int_equal(offered & want, want);
	assert_false(offered & (F(VIRTIO_NET_F_GUEST_UFO) | F(VIRTIO_NET_F_HOST_UFO) | F(VIRTIO_NET_F_CTRL_VQ)));
}

static void transmit_offloads(void **state)
{
	struct fixture *f = *state;
	struct virtio_net_hdr_v1 tso4 = TSO_HDR(VIRTIO_NET_HDR_GSO_TCPV4, 1448);
	struct virtio_net_hdr_v1 tso6_ecn = TSO_HDR(VIRTIO_NET_HDR_GSO_TCPV6 | VIRTIO_NET_HDR_GSO_ECN, 1428);
	struct virtio_net_hdr_v1 csum = { .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM, .csum_start = 34,
					  .csum_offset = 6, .gso_size = 99, .num_buffers = 3 };
	struct virtio_net_hdr_v1 csum_sent = { .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM, .csum_start = 34,
					       .csum_offset = 6 };

	start_with(f, F(VIRTIO_NET_F_CSUM) | F(VIRTIO_NET_F_HOST_TSO4) | F(VIRTIO_NET_F_HOST_TSO6) |
			      F(VIRTIO_NET_F_HOST_ECN));
	/* A 64 KiB segment-offloaded frame goes to the tap whole, its header as written. */
	transmit_with(f, &tso4, 65536 - VIRTIO_NET_HDR_LEN);
	expect_sent(f, &tso4);
	transmit_with(f, &tso6_ecn, 9000);
	expect_sent(f, &tso6_ecn);
	/* Fields a plain checksummed frame does not use are cleared. */
	transmit_with(f, &csum, 60);
	expect_sent(f, &csum_sent);
	assert_int_equal(guest_errors(f), 0);
}

static void transmit_bad_headers(void **state)
{
	struct fixture *f = *state;
	const struct virtio_net_hdr_v1 bad[] = {
		TSO_HDR(VIRTIO_NET_HDR_GSO_TCPV6, 1448),                         /* TSO6 not accepted */
		TSO_HDR(VIRTIO_NET_HDR_GSO_TCPV4 | VIRTIO_NET_HDR_GSO_ECN, 1448), /* nor ECN */
		TSO_HDR(VIRTIO_NET_HDR_GSO_UDP, 1448),                           /* nor UFO */
		TSO_HDR(VIRTIO_NET_HDR_GSO_TCPV4, 0),                            /* no segment size */
		{ .gso_type = VIRTIO_NET_HDR_GSO_TCPV4, .gso_size = 1448 },       /* no checksum */
		{ .flags = VIRTIO_NET_HDR_F_DATA_VALID },                          /* a receive flag */
		{ .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM, .csum_start = 50, .csum_offset = 9 }, /* past the end */
	};
	struct virtio_net_hdr_v1 fits = { .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM, .csum_start = 50,
					  .csum_offset = 8 };

	start_with(f, F(VIRTIO_NET_F_CSUM) | F(VIRTIO_NET_F_HOST_TSO4));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		transmit_with(f, &bad[i], 60);
		expect_sent(f, NULL);
		assert_int_equal(guest_errors(f), i + 1);
	}
	/* The checksum's last byte on the frame's last byte. */
	transmit_with(f, &fits, 60);
	expect_sent(f, &fits);
}

static void receive_offloads(void **state)
{
	struct fixture *f = *state;
	struct virtio_net_hdr_v1 tso4 = TSO_HDR(VIRTIO_NET_HDR_GSO_TCPV4, 1448);
	struct virtio_net_hdr_v1 tso6 = TSO_HDR(VIRTIO_NET_HDR_GSO_TCPV6, 1428);
	struct virtio_net_hdr_v1 got;
	struct vd_buf big = { RX_BUF(0), VIRTIO_NET_BUF_SIZE, true };
	struct vd_buf small = { RX_BUF(20), 1526, true };
	uint32_t id, len;

	/* Big receive buffers (no merging): one per frame. */
	start_with(f, F(VIRTIO_NET_F_GUEST_CSUM) | F(VIRTIO_NET_F_GUEST_TSO4));
	vd_submit(&f->v, RXQ, &big, 1);
	vd_submit(&f->v, RXQ, &small, 1);
	settle(f);
	send_frame_with(f, &tso6, 3000, 1);   /* not accepted: dropped */
	send_frame_with(f, &tso4, 40000, 2);
	settle(f);
	expect_received(f, 40000);
	memcpy(&got, f->v.ram + RX_BUF(0), sizeof(got));
	tso4.num_buffers = 1;
	assert_memory_equal(&got, &tso4, sizeof(got));
	assert_int_equal(f->v.ram[RX_BUF(0) + 39999], (uint8_t)(2 + 39999));
	assert_false(vd_used(&f->v, RXQ, &id, &len));
}

static void receive_without_checksum_offload(void **state)
{
	struct fixture *f = *state;
	struct virtio_net_hdr_v1 valid = { .flags = VIRTIO_NET_HDR_F_DATA_VALID };
	struct virtio_net_hdr_v1 partial = { .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM, .csum_start = 34 };
	struct virtio_net_hdr_v1 got;

	vd_start(&f->v, 2, false);
	post_rx(f, 0, 1526);
	settle(f);
	send_frame_with(f, &partial, 100, 1);  /* a partial checksum it cannot finish: dropped */
	send_frame_with(f, &valid, 100, 2);    /* the hint is not for it: cleared */
	settle(f);
	expect_received(f, 100);
	memcpy(&got, f->v.ram + RX_BUF(0), sizeof(got));
	assert_int_equal(got.flags, 0);
	assert_int_equal(got.num_buffers, 1);
	assert_int_equal(f->v.ram[RX_BUF(0) + VIRTIO_NET_HDR_LEN], (uint8_t)(2 + VIRTIO_NET_HDR_LEN));
}

/* Every byte of a frame of len (fill as send_frame_with) across used buffers of RX_BUF(i), from first. */
static void expect_spread(struct fixture *f, unsigned int first, unsigned int nr, uint32_t buf_len,
			  size_t len, uint8_t fill)
{
	struct virtio_net_hdr_v1 got;
	size_t off = 0;

	memcpy(&got, f->v.ram + RX_BUF(first), sizeof(got));
	assert_int_equal(got.num_buffers, nr);
	for (unsigned int i = 0; i < nr; i++) {
		uint32_t id, used;
		uint32_t want = len - off < buf_len ? (uint32_t)(len - off) : buf_len;

		assert_true(vd_used(&f->v, RXQ, &id, &used));
		assert_int_equal(used, want);
		for (uint32_t k = i == 0 ? VIRTIO_NET_HDR_LEN : 0; k < used; k++)
			assert_int_equal(f->v.ram[RX_BUF(first + i) + k], (uint8_t)(fill + off + k));
		off += used;
	}
	assert_int_equal(off, len);
}

static void receive_merged(void **state)
{
	struct fixture *f = *state;
	uint32_t id, len;

	start_with(f, F(VIRTIO_NET_F_MRG_RXBUF));
	post_rx(f, 0, 1536);
	settle(f);
	/* Three buffers' worth: waits for the other two, then takes all three at once. */
	send_frame(f, 4000, 3);
	settle(f);
	assert_false(vd_used(&f->v, RXQ, &id, &len));
	post_rx(f, 1, 1536);
	settle(f);
	assert_false(vd_used(&f->v, RXQ, &id, &len));
	post_rx(f, 2, 1536);
	post_rx(f, 3, 1536);
	settle(f);
	expect_spread(f, 0, 3, 1536, 4000, 3);
	/* A small frame takes one buffer. */
	send_frame(f, 100, 4);
	settle(f);
	expect_spread(f, 3, 1, 1536, 100, 4);
	assert_int_equal(guest_errors(f), 0);
}

static void receive_merged_hostile_buffers(void **state)
{
	struct fixture *f = *state;
	struct vd_buf outside = { VD_RAM - 8, 64, true };   /* leaves guest RAM: malformed */
	uint32_t id, len;

	start_with(f, F(VIRTIO_NET_F_MRG_RXBUF));
	/* A buffer too small for a header goes back empty; the frame goes on into the next ones. */
	post_rx(f, 0, 8);
	post_rx(f, 1, 1536);
	post_rx(f, 2, 1536);
	settle(f);
	send_frame(f, 2000, 5);
	settle(f);
	assert_true(vd_used(&f->v, RXQ, &id, &len));
	assert_int_equal(len, 0);
	expect_spread(f, 1, 2, 1536, 2000, 5);
	/* A malformed chain between two gathered ones: the first goes back empty with it. */
	post_rx(f, 3, 1536);
	vd_submit(&f->v, RXQ, &outside, 1);
	post_rx(f, 5, 1536);
	post_rx(f, 6, 1536);
	send_frame(f, 2000, 6);
	settle(f);
	assert_true(vd_used(&f->v, RXQ, &id, &len));  /* the malformed one */
	assert_int_equal(len, 0);
	assert_true(vd_used(&f->v, RXQ, &id, &len));  /* buffer 3 */
	assert_int_equal(len, 0);
	expect_spread(f, 5, 2, 1536, 2000, 6);
	assert_int_equal(guest_errors(f), 2);
}

static void receive_merged_frame_larger_than_ring(void **state)
{
	struct fixture *f = *state;
	uint32_t id, len;

	start_with(f, F(VIRTIO_NET_F_MRG_RXBUF));
	for (unsigned int i = 0; i < VD_QUEUE_SIZE; i++)
		post_rx(f, i, 64);
	settle(f);
	/* 16 buffers of 64 bytes hold 1024: a 2000-byte frame is dropped, the buffers kept. */
	send_frame(f, 2000, 7);
	send_frame(f, 60, 8);
	settle(f);
	expect_spread(f, 0, 1, 64, 60, 8);
	assert_false(vd_used(&f->v, RXQ, &id, &len));
	assert_int_equal(guest_errors(f), 1);
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
		cmocka_unit_test_setup_teardown(offers_offloads, setup, teardown),
		cmocka_unit_test_setup_teardown(transmit_offloads, setup, teardown),
		cmocka_unit_test_setup_teardown(transmit_bad_headers, setup, teardown),
		cmocka_unit_test_setup_teardown(receive_offloads, setup, teardown),
		cmocka_unit_test_setup_teardown(receive_without_checksum_offload, setup, teardown),
		cmocka_unit_test_setup_teardown(receive_merged, setup, teardown),
		cmocka_unit_test_setup_teardown(receive_merged_hostile_buffers, setup, teardown),
		cmocka_unit_test_setup_teardown(receive_merged_frame_larger_than_ring, setup, teardown),
	};

	/* The guest errors the tests provoke are logged as warnings: keep the output to failures. */
	log_init("test_virtio_net", LOG_ERROR);
	return cmocka_run_group_tests_name("virtio_net", tests, NULL, NULL);
}
