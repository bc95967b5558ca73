#include "dev/vsock/vsock.h"

#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "microvm/log.h"

void vsock_conn_free(struct vsock_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->state = VSOCK_FREE;
}

struct vsock_conn *vsock_conn_new(struct virtio_vsock *v, int fd, enum vsock_conn_state state)
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

struct vsock_conn *vsock_conn_find(struct virtio_vsock *v, uint32_t guest_port, uint32_t host_port)
{
	for (unsigned int i = 0; i < VSOCK_MAX_CONNS; i++) {
		struct vsock_conn *c = &v->conns[i];

		if (c->state != VSOCK_FREE && c->state != VSOCK_CONNECT_LINE &&
		    c->guest_port == guest_port && c->host_port == host_port)
			return c;
	}
	return NULL;
}

void vsock_conn_reset(struct vsock_conn *c)
{
	c->state = VSOCK_CLOSING;
	c->owed = VSOCK_OWE_RST;
}

uint32_t vsock_credit(const struct vsock_conn *c)
{
	uint32_t in_flight = c->tx_cnt - c->peer_fwd_cnt;

	return in_flight > c->peer_buf_alloc ? 0 : c->peer_buf_alloc - in_flight;
}

void vsock_credit_check(struct vsock_conn *c)
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

uint16_t vsock_next_op(struct vsock_conn *c)
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

void vsock_conn_sent(struct vsock_conn *c, uint16_t op, uint32_t len)
{
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
}

void vsock_orphan_rst(struct virtio_vsock *v, uint32_t src_port, uint32_t dst_port)
{
	if (v->nr_orphans == VSOCK_MAX_ORPHAN_RSTS)
		return;
	v->orphans[v->nr_orphans++] = (struct vsock_orphan){ .src_port = src_port, .dst_port = dst_port };
}

void vsock_guest_connect(struct virtio_vsock *v, const struct virtio_vsock_hdr *hdr)
{
	uint32_t guest_port = le32toh(hdr->src_port), host_port = le32toh(hdr->dst_port);
	int fd = vsock_uds_connect(v, host_port);
	struct vsock_conn *c = fd < 0 ? NULL : vsock_conn_new(v, fd, VSOCK_ESTABLISHED);

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

/* The host program's first line named the guest port: the guest is asked to accept. */
static void vsock_connect_line(struct vsock_conn *c)
{
	struct virtio_vsock *v = c->v;
	uint32_t port;
	int ret = vsock_uds_connect_line(c, &port);

	if (ret <= 0) {
		if (ret < 0)
			vsock_conn_free(c);
		return;
	}
	c->guest_port = port;
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

void vsock_conn_event(struct vsock_conn *c, uint32_t events)
{
	if (c->state == VSOCK_CONNECT_LINE) {
		vsock_connect_line(c);
	} else if (c->state != VSOCK_FREE) {
		if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
			c->host_readable = true;
		if ((events & EPOLLOUT) && vsock_flush(c) == 0)
			vsock_credit_check(c);
	}
}

/* The guest accepted a host-initiated connection: the host program learns its port. */
static void vsock_established(struct vsock_conn *c)
{
	c->state = VSOCK_ESTABLISHED;
	if (vsock_uds_send_ok(c))
		vsock_conn_reset(c);
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

void vsock_conn_packet(struct vsock_conn *c, const struct virtio_vsock_hdr *hdr,
		       const struct virtq_chain *ch)
{
	struct virtio_vsock *v = c->v;
	uint32_t len = le32toh(hdr->len), flags = le32toh(hdr->flags);
	uint16_t op = le16toh(hdr->op);

	c->peer_buf_alloc = le32toh(hdr->buf_alloc);
	c->peer_fwd_cnt = le32toh(hdr->fwd_cnt);
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
		virtio_mmio_guest_error(v->t, "operation %u on connection %u:%u", op, c->guest_port,
					c->host_port);
		vsock_conn_reset(c);
		break;
	}
}
