#include "dev/vsock/vsock.h"

#include <endian.h>
#include <errno.h>
#include <linux/virtio_ids.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "config/vsock.h"
#include "microvm/cleanup.h"
#include "microvm/log.h"

/* Host ports for host-initiated connections, as Firecracker numbers them. */
#define VSOCK_FIRST_HOST_PORT (1u << 30)
#define VSOCK_ACCEPTS_PER_WAKEUP 8
/* Packets put in the receive queue per wake-up before other devices get their turn. */
#define VSOCK_RX_BUDGET 256

_Static_assert(sizeof(struct virtio_vsock_hdr) == 44, "vsock header size");
_Static_assert(VSOCK_CONFIG_UDS_MAX <= VSOCK_UDS_MAX, "--vsock uds= fits the device");

static void vsock_conn_ready(void *ctx, uint32_t events);

int virtio_vsock_open(void *dev, const void *config, struct diag *d)
{
	struct virtio_vsock *v = dev;
	const struct vsock_config *c = config;
	cleanup_fd int fd = -1, efd = -1;

	memset(v, 0, sizeof(*v));
	v->listen_fd = v->kick_efd = -1;
	fd = vsock_uds_listen(c->uds, d);
	if (fd < 0)
		return fd;
	efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (efd < 0)
		return diag_fail_errno(d, -errno, "--vsock: eventfd: %s", strerror(errno));
	memcpy(v->uds, c->uds, strlen(c->uds));
	v->guest_cid = c->cid;
	v->config.guest_cid = htole64(c->cid);
	v->next_host_port = VSOCK_FIRST_HOST_PORT;
	for (unsigned int i = 0; i < VSOCK_MAX_CONNS; i++) {
		v->conns[i].fd = -1;
		v->conns[i].v = v;
		v->conns[i].handler = (struct io_handler){ .ready = vsock_conn_ready, .ctx = &v->conns[i] };
	}
	v->listen_fd = steal_fd(&fd);
	v->kick_efd = steal_fd(&efd);
	return 0;
}

void virtio_vsock_close(void *dev)
{
	struct virtio_vsock *v = dev;

	for (unsigned int i = 0; i < VSOCK_MAX_CONNS; i++) {
		vsock_conn_free(&v->conns[i]);
		free(v->conns[i].stage);
		free(v->conns[i].buf);
		v->conns[i].stage = v->conns[i].buf = NULL;
	}
	if (v->listen_fd >= 0)
		close(v->listen_fd);
	if (v->kick_efd >= 0)
		close(v->kick_efd);
	v->listen_fd = v->kick_efd = -1;
}

enum vsock_send_result vsock_send(struct virtio_vsock *v, const struct vsock_conn *c,
				  uint32_t src_port, uint32_t dst_port, uint16_t op,
				  const uint8_t *payload, uint32_t *len)
{
	const struct virtq_chain *ch = virtio_mmio_pop(v->t, VSOCK_RXQ);
	struct virtio_vsock_hdr hdr;
	uint32_t n = 0;

	if (!ch)
		return VSOCK_NO_BUFFER;
	if (ch->write_len < VSOCK_HDR_LEN + (op == VIRTIO_VSOCK_OP_RW ? 1 : 0)) {
		virtio_mmio_guest_error(v->t, "receive buffer of %llu bytes",
					(unsigned long long)ch->write_len);
		virtio_mmio_push(v->t, VSOCK_RXQ, ch->head, 0);
		return VSOCK_BAD_BUFFER;
	}
	if (op == VIRTIO_VSOCK_OP_RW) {
		n = *len;
		if (n > ch->write_len - VSOCK_HDR_LEN)
			n = (uint32_t)(ch->write_len - VSOCK_HDR_LEN);
		*len = n;
	}
	hdr = (struct virtio_vsock_hdr){
		.src_cid = htole64(VSOCK_HOST_CID),
		.dst_cid = htole64(v->guest_cid),
		.src_port = htole32(src_port),
		.dst_port = htole32(dst_port),
		.len = htole32(n),
		.type = htole16(VIRTIO_VSOCK_TYPE_STREAM),
		.op = htole16(op),
		.flags = htole32(op == VIRTIO_VSOCK_OP_SHUTDOWN ?
					 VIRTIO_VSOCK_SHUTDOWN_RCV | VIRTIO_VSOCK_SHUTDOWN_SEND : 0),
		.buf_alloc = htole32(c ? VSOCK_CONN_BUF : 0),
		.fwd_cnt = htole32(c ? c->fwd_cnt : 0),
	};
	if (virtq_chain_write(ch, v->t->mem, 0, &hdr, sizeof(hdr)) ||
	    virtq_chain_write(ch, v->t->mem, VSOCK_HDR_LEN, payload, n)) {
		virtio_mmio_push(v->t, VSOCK_RXQ, ch->head, 0);
		return VSOCK_BAD_BUFFER;
	}
	virtio_mmio_push(v->t, VSOCK_RXQ, ch->head, VSOCK_HDR_LEN + n);
	return VSOCK_SENT;
}

/* Sends the connection's next packet, op; the result of vsock_send. */
static enum vsock_send_result vsock_conn_send(struct vsock_conn *c, uint16_t op)
{
	uint32_t len = c->stage_len - c->stage_off, credit = vsock_credit(c);
	enum vsock_send_result r;

	if (len > credit)
		len = credit;
	r = vsock_send(c->v, c, c->host_port, c->guest_port, op, c->stage + c->stage_off, &len);
	if (r == VSOCK_SENT)
		vsock_conn_sent(c, op, len);
	return r;
}

void vsock_rx_pump(struct virtio_vsock *v)
{
	bool used = false;

	for (unsigned int budget = 0; budget < VSOCK_RX_BUDGET; budget++) {
		enum vsock_send_result r = VSOCK_NO_BUFFER;
		uint16_t op = VIRTIO_VSOCK_OP_INVALID;
		struct vsock_conn *c = NULL;

		if (!virtio_mmio_queue_live(v->t, VSOCK_RXQ))
			break;
		if (v->nr_orphans > 0) {
			const struct vsock_orphan *o = &v->orphans[v->nr_orphans - 1];
			uint32_t len = 0;

			r = vsock_send(v, NULL, o->dst_port, o->src_port, VIRTIO_VSOCK_OP_RST, NULL, &len);
			if (r == VSOCK_SENT)
				v->nr_orphans--;
		} else {
			for (unsigned int i = 0; i < VSOCK_MAX_CONNS && op == VIRTIO_VSOCK_OP_INVALID; i++) {
				c = &v->conns[(v->next_conn + i) % VSOCK_MAX_CONNS];
				if (c->state != VSOCK_FREE && c->state != VSOCK_CONNECT_LINE)
					op = vsock_next_op(c);
			}
			if (op == VIRTIO_VSOCK_OP_INVALID)
				break;
			v->next_conn = (unsigned int)(c - v->conns + 1) % VSOCK_MAX_CONNS;
			r = vsock_conn_send(c, op);
		}
		if (r == VSOCK_NO_BUFFER)
			break;
		used = true;
	}
	if (used)
		virtio_mmio_signal(v->t, VSOCK_RXQ);
}

/* One packet from the guest; nothing is written back to the chain. */
static uint32_t vsock_tx_packet(void *ctx, const struct virtq_chain *ch)
{
	struct virtio_vsock *v = ctx;
	struct virtio_vsock_hdr hdr;
	struct vsock_conn *c;
	uint32_t src_port, dst_port, len;
	uint16_t op;

	if (virtq_chain_read(ch, v->t->mem, 0, &hdr, sizeof(hdr))) {
		virtio_mmio_guest_error(v->t, "packet of %llu bytes, shorter than a header",
					(unsigned long long)ch->read_len);
		return 0;
	}
	src_port = le32toh(hdr.src_port);
	dst_port = le32toh(hdr.dst_port);
	len = le32toh(hdr.len);
	op = le16toh(hdr.op);
	if (le64toh(hdr.src_cid) != v->guest_cid || le64toh(hdr.dst_cid) != VSOCK_HOST_CID) {
		virtio_mmio_guest_error(v->t, "packet from CID %llu to CID %llu dropped",
					(unsigned long long)le64toh(hdr.src_cid),
					(unsigned long long)le64toh(hdr.dst_cid));
		return 0;
	}
	c = vsock_conn_find(v, src_port, dst_port);
	if (le16toh(hdr.type) != VIRTIO_VSOCK_TYPE_STREAM || len > ch->read_len - VSOCK_HDR_LEN) {
		virtio_mmio_guest_error(v->t, "malformed packet (type %u, length %u of %llu)",
					le16toh(hdr.type), len, (unsigned long long)ch->read_len);
		if (c)
			vsock_conn_reset(c);
		else if (op != VIRTIO_VSOCK_OP_RST)
			vsock_orphan_rst(v, src_port, dst_port);
		return 0;
	}
	if (!c) {
		if (op == VIRTIO_VSOCK_OP_REQUEST)
			vsock_guest_connect(v, &hdr);
		else if (op != VIRTIO_VSOCK_OP_RST)
			vsock_orphan_rst(v, src_port, dst_port);
		return 0;
	}
	vsock_conn_packet(c, &hdr, ch);
	return 0;
}

/* A connection's socket is ready: what it means for the connection, then the receive queue. */
static void vsock_conn_ready(void *ctx, uint32_t events)
{
	struct vsock_conn *c = ctx;
	struct virtio_vsock *v = c->v;

	virtio_mmio_lock(v->t);
	vsock_conn_event(c, events);
	vsock_rx_pump(v);
	virtio_mmio_unlock(v->t);
}

/* The host connects to the listening socket: each connection starts with its CONNECT line. */
static void vsock_listen_ready(void *ctx, uint32_t events)
{
	struct virtio_vsock *v = ctx;

	(void)events;
	virtio_mmio_lock(v->t);
	for (unsigned int i = 0; i < VSOCK_ACCEPTS_PER_WAKEUP; i++) {
		int fd = vsock_uds_accept(v);

		if (fd < 0)
			break;
		if (vsock_conn_new(v, fd, VSOCK_CONNECT_LINE))
			log_debug("virtio-vsock: host connection on %s", v->uds);
	}
	virtio_mmio_unlock(v->t);
}

static void vsock_kick_ready(void *ctx, uint32_t events)
{
	struct virtio_vsock *v = ctx;
	uint64_t count;

	(void)events;
	if (read(v->kick_efd, &count, sizeof(count)) < 0 && errno != EAGAIN)
		vsock_host_error(v, "eventfd read", errno);
	virtio_mmio_lock(v->t);
	if (v->reset_pending) {
		/* Connections the guest knew of are gone; host ones it has not heard of yet wait. */
		for (unsigned int i = 0; i < VSOCK_MAX_CONNS; i++) {
			struct vsock_conn *c = &v->conns[i];

			if (c->state != VSOCK_CONNECT_LINE &&
			    !(c->state == VSOCK_REQUESTED && (c->owed & VSOCK_OWE_REQUEST)))
				vsock_conn_free(c);
		}
		v->nr_orphans = 0;
		v->reset_pending = false;
	}
	if (virtio_mmio_queue_live(v->t, VSOCK_TXQ))
		virtio_mmio_drain(v->t, VSOCK_TXQ, vsock_tx_packet, v);
	vsock_rx_pump(v);
	virtio_mmio_unlock(v->t);
}

static void vsock_kick(struct virtio_vsock *v)
{
	uint64_t one = 1;

	if (write(v->kick_efd, &one, sizeof(one)) < 0)
		vsock_host_error(v, "eventfd write", errno);
}

static void vsock_notify(void *ctx, unsigned int queue)
{
	struct virtio_vsock *v = ctx;

	/* The event queue only holds buffers for events this device never sends. */
	if (queue != VSOCK_EVQ)
		vsock_kick(v);
}

/* The connections are the I/O thread's to close: it does so on the kick. */
static void vsock_reset(void *ctx)
{
	struct virtio_vsock *v = ctx;

	v->reset_pending = true;
	vsock_kick(v);
}

static const struct virtio_device_ops virtio_vsock_ops = {
	.name = "virtio-vsock",
	.device_id = VIRTIO_ID_VSOCK,
	.nr_queues = 3,
	.notify = vsock_notify,
	.reset = vsock_reset,
};

void virtio_vsock_device(void *dev, struct virtio_mmio *t, struct virtio_device *out)
{
	struct virtio_vsock *v = dev;

	v->t = t;
	*out = (struct virtio_device){
		.ops = &virtio_vsock_ops,
		.ctx = v,
		.config = &v->config,
		.config_size = sizeof(v->config),
	};
}

int virtio_vsock_watch(void *dev, struct iothread *io)
{
	struct virtio_vsock *v = dev;
	int ret;

	v->io = io;
	v->listen_handler = (struct io_handler){ .ready = vsock_listen_ready, .ctx = v };
	v->kick_handler = (struct io_handler){ .ready = vsock_kick_ready, .ctx = v };
	ret = iothread_watch(io, v->listen_fd, EPOLLIN, &v->listen_handler);
	if (!ret)
		ret = iothread_watch(io, v->kick_efd, EPOLLIN, &v->kick_handler);
	return ret;
}

/*
 * Restored from a snapshot: the guest's connections belonged to the process that took
 * it, and their sockets are gone. As Firecracker does, the guest gets
 * VIRTIO_VSOCK_EVENT_TRANSPORT_RESET on the event queue and drops every connection.
 */
static int virtio_vsock_restore(void *dev, const struct snapshot *s, unsigned int slot,
				const char **why)
{
	struct virtio_vsock *v = dev;
	const struct virtio_vsock_event ev = { .id = htole32(VIRTIO_VSOCK_EVENT_TRANSPORT_RESET) };
	const struct virtq_chain *c;

	(void)s;
	(void)slot;
	(void)why;
	virtio_mmio_lock(v->t);
	c = virtio_mmio_pop(v->t, VSOCK_EVQ);
	if (c) {
		int ret = virtq_chain_write(c, v->t->mem, 0, &ev, sizeof(ev));

		if (ret)
			virtio_mmio_guest_error(v->t, "event buffer %u too small for the transport reset", c->head);
		virtio_mmio_push(v->t, VSOCK_EVQ, c->head, ret ? 0 : sizeof(ev));
		virtio_mmio_signal(v->t, VSOCK_EVQ);
	} else if (virtio_mmio_queue_live(v->t, VSOCK_EVQ)) {
		virtio_mmio_guest_error(v->t, "no event buffer to tell of the transport reset");
	}
	virtio_mmio_unlock(v->t);
	return 0;
}

const struct device_ops virtio_vsock_device_ops = {
	.threads = DEVICE_THREAD_IO,
	.size = sizeof(struct virtio_vsock),
	.open = virtio_vsock_open,
	.attach = virtio_vsock_device,
	.watch = virtio_vsock_watch,
	.restore = virtio_vsock_restore,
	.close = virtio_vsock_close,
};
