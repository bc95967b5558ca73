#include "dev/vsock/vsock.h"

#include <endian.h>
#include <errno.h>
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

/* Host ports for host-initiated connections, as Firecracker numbers them. */
#define VSOCK_FIRST_HOST_PORT (1u << 30)
#define VSOCK_LISTEN_BACKLOG 16
#define VSOCK_ACCEPTS_PER_WAKEUP 8
#define VSOCK_HOST_ERRORS_LOGGED 8

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

void vsock_host_error(struct virtio_vsock *v, const char *what, int err)
{
	if (v->host_errors_logged >= VSOCK_HOST_ERRORS_LOGGED)
		return;
	v->host_errors_logged++;
	log_warn("virtio-vsock (%s): %s: %s%s", v->uds, what, strerror(err),
		 v->host_errors_logged == VSOCK_HOST_ERRORS_LOGGED ? "; not logging further ones" : "");
}

int vsock_flush(struct vsock_conn *c)
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

void vsock_fill(struct vsock_conn *c)
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

void vsock_guest_connect(struct virtio_vsock *v, const struct virtio_vsock_hdr *hdr)
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

void vsock_established(struct vsock_conn *c)
{
	char ok[32];
	int n = snprintf(ok, sizeof(ok), "OK %u\n", c->host_port);

	c->state = VSOCK_ESTABLISHED;
	if (write(c->fd, ok, (size_t)n) != n) {
		vsock_host_error(c->v, "write OK to the host", errno);
		vsock_conn_reset(c);
	}
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

void vsock_listen_ready(void *ctx, uint32_t events)
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
