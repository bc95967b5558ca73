#include "microvm/virtio_vsock.h"

#include <endian.h>
#include <errno.h>
#include <linux/virtio_ids.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "config/vsock.h"
#include "microvm/cleanup.h"
#include "microvm/log.h"
#include "microvm/strparse.h"

#define VSOCK_HOST_CID 2
#define VSOCK_HDR_LEN ((uint32_t)sizeof(struct virtio_vsock_hdr))
/* Host ports for host-initiated connections, as Firecracker numbers them. */
#define VSOCK_FIRST_HOST_PORT (1u << 30)
#define VSOCK_LISTEN_BACKLOG 16
#define VSOCK_ACCEPTS_PER_WAKEUP 8
/* Packets put in the receive queue per wake-up before other devices get their turn. */
#define VSOCK_RX_BUDGET 256
#define VSOCK_HOST_ERRORS_LOGGED 8

enum { VSOCK_RXQ = 0, VSOCK_TXQ = 1, VSOCK_EVQ = 2 };

/* Control packets a connection owes the guest. */
enum {
	VSOCK_OWE_REQUEST = 1u << 0,
	VSOCK_OWE_RESPONSE = 1u << 1,
	VSOCK_OWE_CREDIT = 1u << 2,
	VSOCK_OWE_SHUTDOWN = 1u << 3,
	VSOCK_OWE_RST = 1u << 4,
};

_Static_assert(sizeof(struct virtio_vsock_hdr) == 44, "vsock header size");
_Static_assert(VSOCK_CONFIG_UDS_MAX <= VSOCK_UDS_MAX, "--vsock uds= fits the device");

static void vsock_conn_ready(void *ctx, uint32_t events);

int virtio_vsock_open(void *dev, const void *config, struct diag *d)
{
	struct virtio_vsock *v = dev;
	const struct vsock_config *c = config;
	const char *uds = c->uds;
	uint32_t cid = c->cid;
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	cleanup_fd int fd = -1, efd = -1;

	memset(v, 0, sizeof(*v));
	v->listen_fd = v->kick_efd = -1;
	if (strlen(uds) > VSOCK_UDS_MAX)
		return diag_fail(d, "--vsock uds=%s: path longer than %d bytes", uds, VSOCK_UDS_MAX);
	memcpy(addr.sun_path, uds, strlen(uds));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return diag_fail_errno(d, -errno, "--vsock: socket: %s", strerror(errno));
	if (bind(fd, (const struct sockaddr *)&addr, sizeof(addr)) < 0)
		return diag_fail_errno(d, -errno, "--vsock uds=%s: cannot bind: %s%s", uds, strerror(errno),
				       errno == EADDRINUSE ? " (remove it first: a socket left by an earlier run?)" : "");
	if (listen(fd, VSOCK_LISTEN_BACKLOG) < 0)
		return diag_fail_errno(d, -errno, "--vsock uds=%s: cannot listen: %s", uds, strerror(errno));
	efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (efd < 0)
		return diag_fail_errno(d, -errno, "--vsock: eventfd: %s", strerror(errno));
	memcpy(v->uds, uds, strlen(uds));
	v->guest_cid = cid;
	v->config.guest_cid = htole64(cid);
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

static void vsock_host_error(struct virtio_vsock *v, const char *what, int err)
{
	if (v->host_errors_logged >= VSOCK_HOST_ERRORS_LOGGED)
		return;
	v->host_errors_logged++;
	log_warn("virtio-vsock (%s): %s: %s%s", v->uds, what, strerror(err),
		 v->host_errors_logged == VSOCK_HOST_ERRORS_LOGGED ? "; not logging further ones" : "");
}

/* Closes the host socket and frees the slot (its buffers stay for the next connection). */
static void vsock_conn_free(struct vsock_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->state = VSOCK_FREE;
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

/* A free slot for a connection on host socket fd (taken over), watched; NULL if none. */
static struct vsock_conn *vsock_conn_new(struct virtio_vsock *v, int fd, enum vsock_conn_state state)
{
	struct vsock_conn *c = NULL;
	int ret;

	for (unsigned int i = 0; i < VSOCK_MAX_CONNS && !c; i++)
		if (v->conns[i].state == VSOCK_FREE)
			c = &v->conns[i];
	if (c && !c->stage)
		c->stage = malloc(VSOCK_STAGE_SIZE);
	if (c && !c->buf)
		c->buf = malloc(VSOCK_CONN_BUF);
	if (!c || !c->stage || !c->buf) {
		vsock_host_error(v, "new connection", c ? ENOMEM : EMFILE);
		close(fd);
		return NULL;
	}
	ret = iothread_watch(v->io, fd, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, &c->handler);
	if (ret) {
		vsock_host_error(v, "epoll_ctl", -ret);
		close(fd);
		return NULL;
	}
	*c = (struct vsock_conn){
		.state = state, .fd = fd, .stage = c->stage, .buf = c->buf, .handler = c->handler, .v = v,
	};
	return c;
}

static struct vsock_conn *vsock_conn_find(struct virtio_vsock *v, uint32_t guest_port,
					  uint32_t host_port)
{
	for (unsigned int i = 0; i < VSOCK_MAX_CONNS; i++) {
		struct vsock_conn *c = &v->conns[i];

		if (c->state != VSOCK_FREE && c->state != VSOCK_CONNECT_LINE &&
		    c->guest_port == guest_port && c->host_port == host_port)
			return c;
	}
	return NULL;
}

/* Resets a connection: the guest is told, then the slot is freed. */
static void vsock_conn_reset(struct vsock_conn *c)
{
	c->state = VSOCK_CLOSING;
	c->owed = VSOCK_OWE_RST;
}

/* How many bytes the guest can take now on this connection. */
static uint32_t vsock_credit(const struct vsock_conn *c)
{
	uint32_t in_flight = c->tx_cnt - c->peer_fwd_cnt;

	return in_flight > c->peer_buf_alloc ? 0 : c->peer_buf_alloc - in_flight;
}

/* Owes the guest a credit update once its view of our free space falls below half. */
static void vsock_credit_check(struct vsock_conn *c)
{
	uint32_t in_flight_view = c->fwd_cnt + c->buf_len - c->fwd_cnt_told;

	if (c->fwd_cnt != c->fwd_cnt_told && in_flight_view > VSOCK_CONN_BUF / 2)
		c->owed |= VSOCK_OWE_CREDIT;
}

/* Writes what the guest sent and the socket takes; 0, or -errno on a broken socket. */
static int vsock_flush(struct vsock_conn *c)
{
	while (c->buf_len > 0) {
		ssize_t n = write(c->fd, c->buf, c->buf_len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN ? 0 : -errno;
		memmove(c->buf, c->buf + n, c->buf_len - (uint32_t)n);
		c->buf_len -= (uint32_t)n;
		c->fwd_cnt += (uint32_t)n;
	}
	if (c->peer_shut_send && shutdown(c->fd, SHUT_WR) < 0 && errno != ENOTCONN)
		return -errno;
	return 0;
}

/* Reads host data for the guest into the stage when it is empty and the guest has credit. */
static void vsock_fill(struct vsock_conn *c)
{
	uint32_t credit = vsock_credit(c);
	ssize_t n;

	if (c->state != VSOCK_ESTABLISHED || c->stage_off < c->stage_len || !c->host_readable ||
	    c->host_eof || c->peer_shut_rcv || credit == 0)
		return;
	n = read(c->fd, c->stage, credit < VSOCK_STAGE_SIZE ? credit : VSOCK_STAGE_SIZE);
	if (n > 0) {
		c->stage_len = (uint32_t)n;
		c->stage_off = 0;
	} else if (n == 0) {
		c->host_eof = true;
		c->owed |= VSOCK_OWE_SHUTDOWN;
	} else if (errno == EAGAIN) {
		c->host_readable = false;
	} else if (errno != EINTR) {
		vsock_host_error(c->v, "read from a connection", errno);
		vsock_conn_reset(c);
	}
}

/* The next packet this connection should send the guest, or OP_INVALID for none. */
static uint16_t vsock_next_op(struct vsock_conn *c)
{
	if (c->owed & VSOCK_OWE_RST)
		return VIRTIO_VSOCK_OP_RST;
	if (c->owed & VSOCK_OWE_REQUEST)
		return VIRTIO_VSOCK_OP_REQUEST;
	if (c->owed & VSOCK_OWE_RESPONSE)
		return VIRTIO_VSOCK_OP_RESPONSE;
	if (c->state == VSOCK_ESTABLISHED) {
		vsock_fill(c);
		if (c->owed & VSOCK_OWE_RST)
			return VIRTIO_VSOCK_OP_RST;
		if (c->stage_off < c->stage_len && vsock_credit(c) > 0 && !c->peer_shut_rcv)
			return VIRTIO_VSOCK_OP_RW;
		if ((c->owed & VSOCK_OWE_SHUTDOWN) && c->stage_off == c->stage_len)
			return VIRTIO_VSOCK_OP_SHUTDOWN;
	}
	if (c->owed & VSOCK_OWE_CREDIT)
		return VIRTIO_VSOCK_OP_CREDIT_UPDATE;
	return VIRTIO_VSOCK_OP_INVALID;
}

enum vsock_send_result { VSOCK_SENT, VSOCK_NO_BUFFER, VSOCK_BAD_BUFFER };

/*
 * One packet into the next receive buffer. For OP_RW, *len is the most to send and
 * becomes what fit. c is NULL for a reset answering no connection.
 */
static enum vsock_send_result vsock_send(struct virtio_vsock *v, const struct vsock_conn *c,
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

/* Sends the connection's next packet; the result of vsock_send. */
static enum vsock_send_result vsock_conn_send(struct vsock_conn *c, uint16_t op)
{
	uint32_t len = c->stage_len - c->stage_off, credit = vsock_credit(c);
	enum vsock_send_result r;

	if (len > credit)
		len = credit;
	r = vsock_send(c->v, c, c->host_port, c->guest_port, op, c->stage + c->stage_off, &len);
	if (r != VSOCK_SENT)
		return r;
	c->fwd_cnt_told = c->fwd_cnt;
	c->owed &= ~VSOCK_OWE_CREDIT;
	switch (op) {
	case VIRTIO_VSOCK_OP_RST:
		vsock_conn_free(c);
		break;
	case VIRTIO_VSOCK_OP_REQUEST:
		c->owed &= ~VSOCK_OWE_REQUEST;
		break;
	case VIRTIO_VSOCK_OP_RESPONSE:
		c->owed &= ~VSOCK_OWE_RESPONSE;
		break;
	case VIRTIO_VSOCK_OP_RW:
		c->stage_off += len;
		c->tx_cnt += len;
		break;
	case VIRTIO_VSOCK_OP_SHUTDOWN:
		c->owed &= ~VSOCK_OWE_SHUTDOWN;
		break;
	default:
		break;
	}
	return r;
}

/* Fills the receive queue: resets for strangers first, then the connections in turn. */
static void vsock_rx_pump(struct virtio_vsock *v)
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

/* Owes the guest a reset for a packet that matches no connection (dropped when too many). */
static void vsock_orphan_rst(struct virtio_vsock *v, uint32_t src_port, uint32_t dst_port)
{
	if (v->nr_orphans == VSOCK_MAX_ORPHAN_RSTS)
		return;
	v->orphans[v->nr_orphans++] = (struct vsock_orphan){ .src_port = src_port, .dst_port = dst_port };
}

/* The guest connects to host port: a connection to the socket PATH_PORT. */
static void vsock_guest_connect(struct virtio_vsock *v, const struct virtio_vsock_hdr *hdr)
{
	uint32_t guest_port = le32toh(hdr->src_port), host_port = le32toh(hdr->dst_port);
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct vsock_conn *c;
	int fd;

	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s_%u", v->uds, host_port);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		vsock_host_error(v, "socket", errno);
		vsock_orphan_rst(v, guest_port, host_port);
		return;
	}
	if (connect(fd, (const struct sockaddr *)&addr, sizeof(addr)) < 0) {
		close(fd);
		vsock_orphan_rst(v, guest_port, host_port);
		return;
	}
	c = vsock_conn_new(v, fd, VSOCK_ESTABLISHED);
	if (!c) {
		vsock_orphan_rst(v, guest_port, host_port);
		return;
	}
	c->guest_port = guest_port;
	c->host_port = host_port;
	c->peer_buf_alloc = le32toh(hdr->buf_alloc);
	c->peer_fwd_cnt = le32toh(hdr->fwd_cnt);
	c->owed = VSOCK_OWE_RESPONSE;
	c->host_readable = true;
}

/* The guest accepted a host-initiated connection: tell the host program its port. */
static void vsock_established(struct vsock_conn *c)
{
	char ok[32];
	int n = snprintf(ok, sizeof(ok), "OK %u\n", c->host_port);

	c->state = VSOCK_ESTABLISHED;
	if (write(c->fd, ok, (size_t)n) != n) {
		vsock_host_error(c->v, "write OK to the host", errno);
		vsock_conn_reset(c);
	}
}

/* RW: the payload goes to the host socket, or waits in the connection's buffer. */
static void vsock_forward(struct vsock_conn *c, const struct virtq_chain *ch, uint32_t len)
{
	struct virtio_vsock *v = c->v;
	struct iovec iov[VIRTQ_MAX_SEGS];
	int n;

	if (len > VSOCK_CONN_BUF - c->buf_len) {
		virtio_mmio_guest_error(v->t, "%u bytes beyond the credit of connection %u:%u", len,
					c->guest_port, c->host_port);
		vsock_conn_reset(c);
		return;
	}
	n = virtq_chain_map(ch, v->t->mem, VIRTQ_READ, VSOCK_HDR_LEN, len, iov, VIRTQ_MAX_SEGS);
	if (n < 0) {
		vsock_conn_reset(c);
		return;
	}
	for (int i = 0; i < n; i++) {
		memcpy(c->buf + c->buf_len, iov[i].iov_base, iov[i].iov_len);
		c->buf_len += (uint32_t)iov[i].iov_len;
	}
	if (vsock_flush(c)) {
		vsock_conn_reset(c);
		return;
	}
	vsock_credit_check(c);
}

/* One packet from the guest; nothing is written back to the chain. */
static uint32_t vsock_tx_packet(void *ctx, const struct virtq_chain *ch)
{
	struct virtio_vsock *v = ctx;
	struct virtio_vsock_hdr hdr;
	struct vsock_conn *c;
	uint32_t src_port, dst_port, len, flags;
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
	flags = le32toh(hdr.flags);
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
	c->peer_buf_alloc = le32toh(hdr.buf_alloc);
	c->peer_fwd_cnt = le32toh(hdr.fwd_cnt);
	switch (op) {
	case VIRTIO_VSOCK_OP_RESPONSE:
		if (c->state == VSOCK_REQUESTED && !(c->owed & VSOCK_OWE_REQUEST))
			vsock_established(c);
		else
			vsock_conn_reset(c);
		break;
	case VIRTIO_VSOCK_OP_RST:
		log_debug("virtio-vsock: the guest reset connection %u:%u (guest port:host port)",
			  c->guest_port, c->host_port);
		vsock_conn_free(c);
		break;
	case VIRTIO_VSOCK_OP_SHUTDOWN:
		c->peer_shut_rcv |= flags & VIRTIO_VSOCK_SHUTDOWN_RCV;
		c->peer_shut_send |= flags & VIRTIO_VSOCK_SHUTDOWN_SEND;
		if (c->peer_shut_rcv && c->peer_shut_send) {
			/* Both ways closed: what is buffered goes out if it can, then RST. */
			if (vsock_flush(c))
				vsock_host_error(v, "write to a connection", errno);
			vsock_conn_reset(c);
		} else if (vsock_flush(c)) {
			vsock_conn_reset(c);
		}
		break;
	case VIRTIO_VSOCK_OP_RW:
		if (c->state != VSOCK_ESTABLISHED || c->peer_shut_send)
			vsock_conn_reset(c);
		else
			vsock_forward(c, ch, len);
		break;
	case VIRTIO_VSOCK_OP_CREDIT_UPDATE:
		break;
	case VIRTIO_VSOCK_OP_CREDIT_REQUEST:
		c->owed |= VSOCK_OWE_CREDIT;
		break;
	case VIRTIO_VSOCK_OP_REQUEST:
	default:
		virtio_mmio_guest_error(v->t, "operation %u on connection %u:%u", op, src_port, dst_port);
		vsock_conn_reset(c);
		break;
	}
	return 0;
}

/* The host program's first line: "CONNECT PORT\n". Read a byte at a time, so no data is taken. */
static void vsock_connect_line(struct vsock_conn *c)
{
	struct virtio_vsock *v = c->v;
	uint64_t port;

	while (c->line_len < sizeof(c->line)) {
		ssize_t n = read(c->fd, &c->line[c->line_len], 1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			vsock_conn_free(c);
			return;
		}
		if (c->line[c->line_len] == '\n')
			break;
		c->line_len++;
	}
	if (c->line_len == sizeof(c->line)) {
		vsock_conn_free(c); /* no newline in sight */
		return;
	}
	c->line[c->line_len] = '\0';
	if (strncmp(c->line, "CONNECT ", 8) || !parse_decimal_u64(c->line + 8, 0, UINT32_MAX, &port)) {
		vsock_conn_free(c);
		return;
	}
	c->guest_port = (uint32_t)port;
	/* A host port no other connection to this guest port uses. */
	do
		c->host_port = v->next_host_port++;
	while (vsock_conn_find(v, c->guest_port, c->host_port));
	c->state = VSOCK_REQUESTED;
	c->owed = VSOCK_OWE_REQUEST;
	/* Until the guest says otherwise, it can take nothing. */
	c->peer_buf_alloc = 0;
	/* Whatever the host wrote after the line waits in the socket. */
	c->host_readable = true;
}

static void vsock_conn_ready(void *ctx, uint32_t events)
{
	struct vsock_conn *c = ctx;
	struct virtio_vsock *v = c->v;

	virtio_mmio_lock(v->t);
	if (c->state == VSOCK_CONNECT_LINE) {
		vsock_connect_line(c);
	} else if (c->state != VSOCK_FREE) {
		if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
			c->host_readable = true;
		if ((events & EPOLLOUT) && vsock_flush(c) == 0)
			vsock_credit_check(c);
	}
	vsock_rx_pump(v);
	virtio_mmio_unlock(v->t);
}

static void vsock_listen_ready(void *ctx, uint32_t events)
{
	struct virtio_vsock *v = ctx;

	(void)events;
	virtio_mmio_lock(v->t);
	for (unsigned int i = 0; i < VSOCK_ACCEPTS_PER_WAKEUP; i++) {
		int fd = accept4(v->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR)
				vsock_host_error(v, "accept4", errno);
			break;
		}
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

const struct device_ops virtio_vsock_device_ops = {
	.threads = DEVICE_THREAD_IO,
	.size = sizeof(struct virtio_vsock),
	.open = virtio_vsock_open,
	.attach = virtio_vsock_device,
	.watch = virtio_vsock_watch,
	.close = virtio_vsock_close,
};
