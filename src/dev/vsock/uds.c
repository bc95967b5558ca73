#include "dev/vsock/vsock.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "microvm/cleanup.h"
#include "microvm/log.h"
#include "microvm/strparse.h"

#define VSOCK_LISTEN_BACKLOG 16
#define VSOCK_HOST_ERRORS_LOGGED 8

void vsock_host_error(struct virtio_vsock *v, const char *what, int err)
{
	if (v->host_errors_logged >= VSOCK_HOST_ERRORS_LOGGED)
		return;
	v->host_errors_logged++;
	log_warn("virtio-vsock (%s): %s: %s%s", v->uds, what, strerror(err),
		 v->host_errors_logged == VSOCK_HOST_ERRORS_LOGGED ? "; not logging further ones" : "");
}

int vsock_uds_listen(const char *uds, struct diag *d)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	cleanup_fd int fd = -1;

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
	return steal_fd(&fd);
}

int vsock_uds_accept(struct virtio_vsock *v)
{
	int fd = accept4(v->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (fd < 0 && errno != EAGAIN && errno != EINTR)
		vsock_host_error(v, "accept4", errno);
	return fd < 0 ? -1 : fd;
}

int vsock_uds_connect(struct virtio_vsock *v, uint32_t port)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd;

	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s_%u", v->uds, port);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		vsock_host_error(v, "socket", errno);
		return -1;
	}
	/* Nobody listening there is the guest's business: it gets a reset. */
	if (connect(fd, (const struct sockaddr *)&addr, sizeof(addr)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

int vsock_uds_connect_line(struct vsock_conn *c, uint32_t *port)
{
	uint64_t v;

	/* A byte at a time, so that no data after the line is taken. */
	while (c->line_len < sizeof(c->line)) {
		ssize_t n = read(c->fd, &c->line[c->line_len], 1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 0;
		if (n <= 0)
			return -1;
		if (c->line[c->line_len] == '\n')
			break;
		c->line_len++;
	}
	if (c->line_len == sizeof(c->line))
		return -1; /* no newline in sight */
	c->line[c->line_len] = '\0';
	if (strncmp(c->line, "CONNECT ", 8) || !parse_decimal_u64(c->line + 8, 0, UINT32_MAX, &v))
		return -1;
	*port = (uint32_t)v;
	return 1;
}

int vsock_uds_send_ok(struct vsock_conn *c)
{
	char ok[32];
	int n = snprintf(ok, sizeof(ok), "OK %u\n", c->host_port);

	if (write(c->fd, ok, (size_t)n) != n) {
		vsock_host_error(c->v, "write OK to the host", errno);
		return -EIO;
	}
	return 0;
}
