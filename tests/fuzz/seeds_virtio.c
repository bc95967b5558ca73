/*
 * Seeds for the virtqueue harness (fuzz_virtq.c) and the virtio device
 * harnesses (virtio_script.h): rings laid out the way Linux lays them out,
 * holding the requests a driver makes of each device, valid ones and a few
 * the device must refuse.
 */
#include <linux/virtio_balloon.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_net.h>
#include <linux/virtio_ring.h>
#include <linux/virtio_vsock.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "seeds.h"
#include "virtio_script.h"

/* The guest memory a seed brings: three queues' rings, then the buffers. */
#define SEED_WINDOW 0x2000U
#define SEED_QUEUE_SIZE 8
#define SEED_DESC(q) (0x400U * (q))
#define SEED_AVAIL(q) (SEED_DESC(q) + 0x100U)
#define SEED_USED(q) (SEED_DESC(q) + 0x200U)
#define SEED_BUFS 0xc00U
#define SEED_MAX_OPS 64
#define SEED_GPA(off) (VIRTIO_SCRIPT_WINDOW + (off))

/* The fixed 5000 port harness program and a guest-side port (fuzz_virtio_vsock.c). */
#define SEED_VSOCK_HOST_PORT 5000
#define SEED_VSOCK_GUEST_PORT 1234
#define SEED_VSOCK_CID 3

struct seed_buf {
	uint32_t off;     /* in the window */
	uint32_t len;
	bool write;
};

struct script {
	struct virtio_script_header h;
	uint8_t win[SEED_WINDOW];
	struct virtio_script_op ops[SEED_MAX_OPS];
	unsigned int nr_ops;
	uint16_t next_desc[VIRTIO_MMIO_MAX_QUEUES];
	uint16_t avail_idx[VIRTIO_MMIO_MAX_QUEUES];   /* as the device will see it, eventually */
};

static void put(struct script *s, uint32_t off, const void *data, size_t len)
{
	memcpy(s->win + off, data, len);
}

static void put16(struct script *s, uint32_t off, uint16_t v)
{
	put(s, off, &v, sizeof(v));
}

static void script_init(struct script *s, uint64_t features, uint32_t flags, uint32_t device_arg,
			unsigned int nr_queues)
{
	memset(s, 0, sizeof(*s));
	s->h.features = features | (1ULL << VIRTIO_F_VERSION_1);
	s->h.flags = flags | VIRTIO_SCRIPT_BRING_UP;
	s->h.window_len = SEED_WINDOW;
	s->h.device_arg = device_arg;
	for (unsigned int q = 0; q < nr_queues; q++)
		s->h.queues[q] = (struct virtio_script_queue){
			.size = SEED_QUEUE_SIZE,
			.desc = SEED_DESC(q),
			.avail = SEED_AVAIL(q),
			.used = SEED_USED(q),
		};
}

static void op(struct script *s, enum virtio_script_kind kind, uint8_t width, uint16_t offset,
	       uint32_t value)
{
	if (s->nr_ops < SEED_MAX_OPS)
		s->ops[s->nr_ops++] = (struct virtio_script_op){ kind, width, offset, value };
}

static void mmio_write32(struct script *s, uint16_t reg, uint32_t value)
{
	op(s, VIRTIO_SCRIPT_MMIO_WRITE, 2, reg, value);
}

static void notify(struct script *s, unsigned int q)
{
	mmio_write32(s, VIRTIO_MMIO_QUEUE_NOTIFY, q);
}

/* Buffer i of n in a chain whose next descriptor is next. */
static struct vring_desc seed_desc(const struct seed_buf *b, unsigned int i, unsigned int n,
				   uint16_t next)
{
	return (struct vring_desc){
		.addr = SEED_GPA(b->off),
		.len = b->len,
		.flags = (uint16_t)((b->write ? VRING_DESC_F_WRITE : 0) | (i + 1 < n ? VRING_DESC_F_NEXT : 0)),
		.next = next,
	};
}

/* Writes a chain of direct descriptors on queue q; returns its head. */
static uint16_t chain(struct script *s, unsigned int q, const struct seed_buf *bufs, unsigned int n)
{
	uint16_t head = s->next_desc[q];

	for (unsigned int i = 0; i < n; i++) {
		uint16_t d = (uint16_t)((head + i) % SEED_QUEUE_SIZE);
		struct vring_desc desc = seed_desc(&bufs[i], i, n, (uint16_t)((d + 1) % SEED_QUEUE_SIZE));

		put(s, SEED_DESC(q) + 16U * d, &desc, sizeof(desc));
	}
	s->next_desc[q] = (uint16_t)((head + n) % SEED_QUEUE_SIZE);
	return head;
}

/* The same as one indirect table at table_off. */
static uint16_t indirect_chain(struct script *s, unsigned int q, const struct seed_buf *bufs,
			       unsigned int n, uint32_t table_off)
{
	uint16_t head = s->next_desc[q];
	struct vring_desc desc = {
		.addr = SEED_GPA(table_off), .len = 16 * n, .flags = VRING_DESC_F_INDIRECT,
	};

	for (unsigned int i = 0; i < n; i++) {
		struct vring_desc d = seed_desc(&bufs[i], i, n, (uint16_t)(i + 1));

		put(s, table_off + 16U * i, &d, sizeof(d));
	}
	put(s, SEED_DESC(q) + 16U * head, &desc, sizeof(desc));
	s->next_desc[q] = (uint16_t)((head + 1) % SEED_QUEUE_SIZE);
	return head;
}

/* Puts head in the avail ring. now: in the initial window; else by a guest store, later. */
static void offer(struct script *s, unsigned int q, uint16_t head, bool now)
{
	uint16_t idx = ++s->avail_idx[q];
	uint16_t first;

	put16(s, SEED_AVAIL(q) + 4 + 2U * ((idx - 1U) % SEED_QUEUE_SIZE), head);
	if (now) {
		put16(s, SEED_AVAIL(q) + 2, idx);
		return;
	}
	/* A 4-byte store at idx also covers ring[0]: it keeps what is there. */
	memcpy(&first, s->win + SEED_AVAIL(q) + 4, sizeof(first));
	op(s, VIRTIO_SCRIPT_STORE, 2, (uint16_t)(SEED_AVAIL(q) + 2), idx | (uint32_t)first << 16);
}

static void emit(const struct script *s, const char *target, const char *name)
{
	static uint8_t out[sizeof(struct script)];
	size_t n = 0;

	memcpy(out, &s->h, sizeof(s->h));
	n += sizeof(s->h);
	memcpy(out + n, s->win, SEED_WINDOW);
	n += SEED_WINDOW;
	memcpy(out + n, s->ops, s->nr_ops * sizeof(s->ops[0]));
	n += s->nr_ops * sizeof(s->ops[0]);
	write_seed(target, name, out, n);
}

/* The driver's side of the bring-up as operations, for a seed without VIRTIO_SCRIPT_BRING_UP. */
static void manual_bring_up(struct script *s, unsigned int nr_queues)
{
	const uint32_t ack = VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER;

	s->h.flags &= ~(uint32_t)VIRTIO_SCRIPT_BRING_UP;
	op(s, VIRTIO_SCRIPT_MMIO_READ, 2, VIRTIO_MMIO_MAGIC_VALUE, 0);
	op(s, VIRTIO_SCRIPT_MMIO_READ, 2, VIRTIO_MMIO_DEVICE_ID, 0);
	mmio_write32(s, VIRTIO_MMIO_STATUS, 0);
	mmio_write32(s, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE);
	mmio_write32(s, VIRTIO_MMIO_STATUS, ack);
	mmio_write32(s, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	op(s, VIRTIO_SCRIPT_MMIO_READ, 2, VIRTIO_MMIO_DEVICE_FEATURES, 0);
	mmio_write32(s, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	mmio_write32(s, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(s->h.features >> 32));
	mmio_write32(s, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	mmio_write32(s, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)s->h.features);
	mmio_write32(s, VIRTIO_MMIO_STATUS, ack | VIRTIO_CONFIG_S_FEATURES_OK);
	op(s, VIRTIO_SCRIPT_MMIO_READ, 2, VIRTIO_MMIO_STATUS, 0);
	for (unsigned int q = 0; q < nr_queues; q++) {
		mmio_write32(s, VIRTIO_MMIO_QUEUE_SEL, q);
		op(s, VIRTIO_SCRIPT_MMIO_READ, 2, VIRTIO_MMIO_QUEUE_NUM_MAX, 0);
		mmio_write32(s, VIRTIO_MMIO_QUEUE_NUM, SEED_QUEUE_SIZE);
		mmio_write32(s, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)SEED_GPA(SEED_DESC(q)));
		mmio_write32(s, VIRTIO_MMIO_QUEUE_AVAIL_LOW, (uint32_t)SEED_GPA(SEED_AVAIL(q)));
		mmio_write32(s, VIRTIO_MMIO_QUEUE_USED_LOW, (uint32_t)SEED_GPA(SEED_USED(q)));
		mmio_write32(s, VIRTIO_MMIO_QUEUE_READY, 1);
	}
	mmio_write32(s, VIRTIO_MMIO_STATUS, ack | VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK);
}

/* The virtq harness's own format (fuzz_virtq.c): registers, then the ring window. */
static void write_virtq(const char *name, const struct script *s, bool indirect)
{
	struct {
		uint16_t num;
		uint8_t flags, unused;
		uint32_t desc, avail, used;
	} h = { SEED_QUEUE_SIZE, indirect, 0, SEED_DESC(0), SEED_AVAIL(0), SEED_USED(0) };
	static uint8_t out[sizeof(h) + SEED_WINDOW];

	memcpy(out, &h, sizeof(h));
	memcpy(out + sizeof(h), s->win, SEED_WINDOW);
	write_seed("virtq", name, out, sizeof(out));
}

void synthetic_virtq(void)
{
	const struct seed_buf req[] = { { SEED_BUFS, 16, false }, { SEED_BUFS + 0x100, 512, true } };
	struct script s;
	struct vring_desc loop = { .addr = SEED_GPA(SEED_BUFS), .len = 16, .flags = VRING_DESC_F_NEXT };

	script_init(&s, 0, 0, 0, 1);
	offer(&s, 0, chain(&s, 0, req, 2), true);
	offer(&s, 0, chain(&s, 0, req, 1), true);
	write_virtq("chain", &s, false);

	script_init(&s, 0, 0, 0, 1);
	offer(&s, 0, indirect_chain(&s, 0, req, 2, SEED_BUFS + 0x400), true);
	write_virtq("indirect", &s, true);

	/* A chain whose next points back at itself: the walk must end. */
	script_init(&s, 0, 0, 0, 1);
	put(&s, SEED_DESC(0), &loop, sizeof(loop));
	offer(&s, 0, 0, true);
	write_virtq("loop", &s, false);
}

static void synthetic_blk(void)
{
	const uint32_t hdr = SEED_BUFS, data = SEED_BUFS + 0x100, status = SEED_BUFS + 0x600;
	const uint32_t disk = 64 * 512;
	struct virtio_blk_outhdr in = { .type = VIRTIO_BLK_T_IN, .sector = 3 };
	struct virtio_blk_outhdr out = { .type = VIRTIO_BLK_T_OUT, .sector = 5 };
	struct virtio_blk_outhdr flush = { .type = VIRTIO_BLK_T_FLUSH };
	struct virtio_blk_outhdr get_id = { .type = VIRTIO_BLK_T_GET_ID };
	const struct seed_buf read[] = { { hdr, 16, false }, { data, 1024, true }, { status, 1, true } };
	const struct seed_buf write[] = { { hdr + 16, 16, false }, { data, 1024, false }, { status + 1, 1, true } };
	const struct seed_buf id[] = { { hdr + 32, 16, false }, { data + 0x400, 20, true }, { status + 2, 1, true } };
	const struct seed_buf sync[] = { { hdr + 48, 16, false }, { status + 3, 1, true } };
	struct script s;

	script_init(&s, 0, 0, disk, 1);
	put(&s, hdr, &in, sizeof(in));
	offer(&s, 0, chain(&s, 0, read, 3), true);
	notify(&s, 0);
	emit(&s, "virtio_blk", "read");

	script_init(&s, 0, 0, disk, 1);
	put(&s, hdr + 16, &out, sizeof(out));
	memset(s.win + data, 0x5a, 1024);
	offer(&s, 0, chain(&s, 0, write, 3), true);
	notify(&s, 0);
	put(&s, hdr + 48, &flush, sizeof(flush));
	offer(&s, 0, chain(&s, 0, sync, 2), false);
	notify(&s, 0);
	put(&s, hdr + 32, &get_id, sizeof(get_id));
	offer(&s, 0, chain(&s, 0, id, 3), false);
	notify(&s, 0);
	emit(&s, "virtio_blk", "write-flush-id");

	/* Read-only: the write fails, the read still works. */
	script_init(&s, 1ULL << VIRTIO_BLK_F_RO, 1U << 1, disk, 1);
	put(&s, hdr + 16, &out, sizeof(out));
	put(&s, hdr, &in, sizeof(in));
	offer(&s, 0, chain(&s, 0, write, 3), true);
	offer(&s, 0, chain(&s, 0, read, 3), true);
	notify(&s, 0);
	emit(&s, "virtio_blk", "read-only");

	/* Indirect, and the image shrinking under the device between two reads. */
	script_init(&s, 1ULL << VIRTIO_RING_F_INDIRECT_DESC, 0, disk, 1);
	put(&s, hdr, &in, sizeof(in));
	offer(&s, 0, indirect_chain(&s, 0, read, 3, SEED_BUFS + 0xa00), true);
	notify(&s, 0);
	op(&s, VIRTIO_SCRIPT_HOST, 0, 0, 4 * 512);
	offer(&s, 0, chain(&s, 0, read, 3), false);
	notify(&s, 0);
	emit(&s, "virtio_blk", "indirect-shrink");

	/* The whole bring-up by register writes, then a read past the end. */
	script_init(&s, 0, 0, 2 * 512, 1);
	in.sector = 2;
	put(&s, hdr, &in, sizeof(in));
	manual_bring_up(&s, 1);
	offer(&s, 0, chain(&s, 0, read, 3), true);
	notify(&s, 0);
	op(&s, VIRTIO_SCRIPT_MMIO_READ, 2, VIRTIO_MMIO_INTERRUPT_STATUS, 0);
	mmio_write32(&s, VIRTIO_MMIO_INTERRUPT_ACK, 1);
	op(&s, VIRTIO_SCRIPT_MMIO_READ, 3, VIRTIO_MMIO_CONFIG, 0);
	emit(&s, "virtio_blk", "manual-past-end");
}

static void synthetic_rng(void)
{
	const struct seed_buf two[] = { { SEED_BUFS, 64, true }, { SEED_BUFS + 0x100, 16, true } };
	const struct seed_buf one[] = { { SEED_BUFS + 0x200, 512, true } };
	struct script s;

	script_init(&s, 0, 0, 0, 1);
	offer(&s, 0, chain(&s, 0, two, 2), true);
	offer(&s, 0, chain(&s, 0, one, 1), true);
	notify(&s, 0);
	emit(&s, "virtio_rng", "two-requests");

	script_init(&s, 1ULL << VIRTIO_RING_F_INDIRECT_DESC, 0, 0, 1);
	manual_bring_up(&s, 1);
	offer(&s, 0, indirect_chain(&s, 0, two, 2, SEED_BUFS + 0x800), true);
	notify(&s, 0);
	emit(&s, "virtio_rng", "manual-indirect");
}

static void synthetic_net(void)
{
	const uint32_t rx0 = SEED_BUFS, rx1 = SEED_BUFS + 0x600, tx = SEED_BUFS + 0xc00;
	const struct seed_buf rx_a[] = { { rx0, 12 + 1514, true } };
	const struct seed_buf rx_b[] = { { rx1, 12, true }, { rx1 + 12, 1514, true } };
	const struct seed_buf frame[] = { { tx, 12, false }, { tx + 12, 60, false } };
	struct script s;

	script_init(&s, 0, 0, 0, 2);
	memset(s.win + tx + 12, 0xff, 6);
	offer(&s, 1, chain(&s, 1, frame, 2), true);
	notify(&s, 1);
	op(&s, VIRTIO_SCRIPT_HOST, 1, 0, 0);
	emit(&s, "virtio_net", "transmit");

	script_init(&s, 0, 0, 0, 2);
	offer(&s, 0, chain(&s, 0, rx_a, 1), true);
	offer(&s, 0, chain(&s, 0, rx_b, 2), true);
	notify(&s, 0);
	op(&s, VIRTIO_SCRIPT_HOST, 0, 1, 12 + 60);
	op(&s, VIRTIO_SCRIPT_HOST, 0, 2, 12 + 1514);
	/* A frame that finds no buffer waits for the next one. */
	op(&s, VIRTIO_SCRIPT_HOST, 0, 3, 12 + 100);
	offer(&s, 0, chain(&s, 0, rx_a, 1), false);
	notify(&s, 0);
	emit(&s, "virtio_net", "receive");

	script_init(&s, 1ULL << VIRTIO_NET_F_MAC, 1U << 1, 0, 2);
	manual_bring_up(&s, 2);
	op(&s, VIRTIO_SCRIPT_MMIO_READ, 2, VIRTIO_MMIO_CONFIG, 0);
	op(&s, VIRTIO_SCRIPT_MMIO_READ, 1, VIRTIO_MMIO_CONFIG + 4, 0);
	offer(&s, 1, chain(&s, 1, frame, 2), true);
	notify(&s, 1);
	emit(&s, "virtio_net", "manual-mac");

	/* Offloads: a segment-offloaded frame out, and one in over merged buffers. */
	script_init(&s, (1ULL << VIRTIO_NET_F_CSUM) | (1ULL << VIRTIO_NET_F_HOST_TSO4) |
				(1ULL << VIRTIO_NET_F_GUEST_CSUM) | (1ULL << VIRTIO_NET_F_GUEST_TSO4) |
				(1ULL << VIRTIO_NET_F_MRG_RXBUF),
		    0, 0, 2);
	{
		const struct virtio_net_hdr_v1 tso = {
			.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM, .gso_type = VIRTIO_NET_HDR_GSO_TCPV4,
			.hdr_len = 54, .gso_size = 1448, .csum_start = 34, .csum_offset = 16,
		};
		const struct seed_buf gso_frame[] = { { tx, 12, false }, { tx + 12, 1500, false } };
		const struct seed_buf merged[] = { { rx0, 1536, true } };

		put(&s, tx, &tso, sizeof(tso));
		offer(&s, 1, chain(&s, 1, gso_frame, 2), true);
		notify(&s, 1);
		op(&s, VIRTIO_SCRIPT_HOST, 1, 0, 0);
		for (unsigned int i = 0; i < 3; i++)
			offer(&s, 0, chain(&s, 0, merged, 1), i == 2);
		notify(&s, 0);
		/* The TSO4 header of the harness's table, then a TSO6 one the driver did not accept. */
		op(&s, VIRTIO_SCRIPT_HOST, 3 << 1, 4, 4000);
		op(&s, VIRTIO_SCRIPT_HOST, 4 << 1, 5, 3000);
	}
	emit(&s, "virtio_net", "offloads");
}

static void vsock_packet(struct script *s, uint32_t off, uint16_t opcode, uint32_t src_port,
			 uint32_t dst_port, uint32_t len)
{
	struct virtio_vsock_hdr h = {
		.src_cid = SEED_VSOCK_CID,
		.dst_cid = 2,
		.src_port = src_port,
		.dst_port = dst_port,
		.len = len,
		.type = VIRTIO_VSOCK_TYPE_STREAM,
		.op = opcode,
		.flags = opcode == VIRTIO_VSOCK_OP_SHUTDOWN ? VIRTIO_VSOCK_SHUTDOWN_SEND : 0,
		.buf_alloc = 65536,
	};

	put(s, off, &h, sizeof(h));
}

/* Receive buffers for vsock: a header and 256 bytes each, n of them. */
static void vsock_rx_buffers(struct script *s, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		const struct seed_buf b[] = { { SEED_BUFS + 0x140U * i, 44, true },
					      { SEED_BUFS + 0x140U * i + 44, 256, true } };

		offer(s, 0, chain(s, 0, b, 2), true);
	}
}

static void synthetic_vsock(void)
{
	const uint32_t tx = SEED_BUFS + 0xa00;
	const struct seed_buf request[] = { { tx, 44, false } };
	const struct seed_buf rw[] = { { tx + 0x40, 44, false }, { tx + 0x80, 5, false } };
	const struct seed_buf shutdown[] = { { tx + 0xc0, 44, false } };
	const struct seed_buf rst[] = { { tx + 0x100, 44, false } };
	const struct seed_buf response[] = { { tx + 0x140, 44, false } };
	struct script s;

	/* The guest connects to the host program on port 5000, sends, shuts down. */
	script_init(&s, 0, 0, 0, 3);
	vsock_rx_buffers(&s, 6);
	notify(&s, 0);
	vsock_packet(&s, tx, VIRTIO_VSOCK_OP_REQUEST, SEED_VSOCK_GUEST_PORT, SEED_VSOCK_HOST_PORT, 0);
	offer(&s, 1, chain(&s, 1, request, 1), true);
	notify(&s, 1);
	op(&s, VIRTIO_SCRIPT_HOST, 3, 0, 0);
	vsock_packet(&s, tx + 0x40, VIRTIO_VSOCK_OP_RW, SEED_VSOCK_GUEST_PORT, SEED_VSOCK_HOST_PORT, 5);
	put(&s, tx + 0x80, "hello", 5);
	offer(&s, 1, chain(&s, 1, rw, 2), false);
	notify(&s, 1);
	op(&s, VIRTIO_SCRIPT_HOST, 1, 0, 99);
	vsock_packet(&s, tx + 0xc0, VIRTIO_VSOCK_OP_SHUTDOWN, SEED_VSOCK_GUEST_PORT,
		     SEED_VSOCK_HOST_PORT, 0);
	offer(&s, 1, chain(&s, 1, shutdown, 1), false);
	notify(&s, 1);
	emit(&s, "virtio_vsock", "guest-connect");

	/* A host program connects to guest port 1234; the guest accepts, then resets. */
	script_init(&s, 0, 0, 0, 3);
	vsock_rx_buffers(&s, 6);
	notify(&s, 0);
	op(&s, VIRTIO_SCRIPT_HOST, 0, 0, SEED_VSOCK_GUEST_PORT);
	op(&s, VIRTIO_SCRIPT_HOST, 1, 0, 31);
	/* The first host port the device hands out (src/dev/vsock/uds.c: VSOCK_FIRST_HOST_PORT). */
	vsock_packet(&s, tx + 0x140, VIRTIO_VSOCK_OP_RESPONSE, SEED_VSOCK_GUEST_PORT, 1U << 30, 0);
	offer(&s, 1, chain(&s, 1, response, 1), true);
	notify(&s, 1);
	op(&s, VIRTIO_SCRIPT_HOST, 1, 0, 200);
	vsock_packet(&s, tx + 0x100, VIRTIO_VSOCK_OP_RST, SEED_VSOCK_GUEST_PORT, 1U << 30, 0);
	offer(&s, 1, chain(&s, 1, rst, 1), false);
	notify(&s, 1);
	op(&s, VIRTIO_SCRIPT_HOST, 2, 0, 0);
	emit(&s, "virtio_vsock", "host-connect");

	/* Connections nobody listens for, a malformed CONNECT line, then a device reset. */
	script_init(&s, 0, 0, 0, 3);
	manual_bring_up(&s, 3);
	vsock_rx_buffers(&s, 4);
	notify(&s, 0);
	vsock_packet(&s, tx, VIRTIO_VSOCK_OP_REQUEST, SEED_VSOCK_GUEST_PORT, 7777, 0);
	offer(&s, 1, chain(&s, 1, request, 1), true);
	notify(&s, 1);
	op(&s, VIRTIO_SCRIPT_HOST, 4, 0, 0x41424344);
	mmio_write32(&s, VIRTIO_MMIO_STATUS, 0);
	emit(&s, "virtio_vsock", "refused-reset");
}

/* PFNs of pages in the window (the first buffers' page), a page outside RAM, a repeat. */
static void synthetic_balloon(void)
{
	const uint32_t pfns[] = { (uint32_t)(SEED_GPA(0x1000) >> 12), (uint32_t)(SEED_GPA(0x1000) >> 12) + 1,
				  0xfffff, (uint32_t)(SEED_GPA(0x1000) >> 12) };
	const struct seed_buf pfn_buf[] = { { SEED_BUFS, sizeof(pfns), false } };
	const struct seed_buf stats[] = { { SEED_BUFS + 0x100, 3 * 10, false } };
	const struct seed_buf page[] = { { 0x1000, 0x1000, true } };
	const uint8_t entries[3 * 10] = { VIRTIO_BALLOON_S_MEMFREE, 0, 0, 0x10, 0, 0, 0, 0, 0, 0,
					  VIRTIO_BALLOON_S_MEMTOT, 0, 0, 0x20, 0, 0, 0, 0, 0, 0,
					  99, 0, 1 };
	struct script s;

	script_init(&s, 0, 0, 0, 2);
	put(&s, SEED_BUFS, pfns, sizeof(pfns));
	offer(&s, 0, chain(&s, 0, pfn_buf, 1), true);
	notify(&s, 0);
	offer(&s, 1, chain(&s, 1, pfn_buf, 1), true);
	notify(&s, 1);
	mmio_write32(&s, VIRTIO_MMIO_CONFIG + 4, 2);
	mmio_write32(&s, VIRTIO_MMIO_CONFIG, 7);
	emit(&s, "virtio_balloon", "inflate-deflate");

	/* Statistics: the buffer held, handed back by the timer, offered again; a new target. */
	script_init(&s, 1ULL << VIRTIO_BALLOON_F_STATS_VQ, 0, 1 | 2, 3);
	put(&s, SEED_BUFS + 0x100, entries, sizeof(entries));
	offer(&s, 2, chain(&s, 2, stats, 1), true);
	notify(&s, 2);
	op(&s, VIRTIO_SCRIPT_HOST, 0, 0, 0);
	offer(&s, 2, chain(&s, 2, stats, 1), false);
	notify(&s, 2);
	op(&s, VIRTIO_SCRIPT_HOST, 1, 0, 64);
	op(&s, VIRTIO_SCRIPT_MMIO_READ, 2, VIRTIO_MMIO_CONFIG, 0);
	emit(&s, "virtio_balloon", "statistics");

	/* Free page reporting without statistics: the reporting queue is queue 2. */
	script_init(&s, 1ULL << VIRTIO_BALLOON_F_REPORTING, 0, 4, 3);
	offer(&s, 2, chain(&s, 2, page, 1), true);
	notify(&s, 2);
	emit(&s, "virtio_balloon", "reporting");
}

void synthetic_virtio(void)
{
	synthetic_blk();
	synthetic_rng();
	synthetic_net();
	synthetic_vsock();
	synthetic_balloon();
}
