/*
 * virtio-vsock's packet handling behind its transport, driven by a hostile
 * driver (virtio_script.h), with the harness as the host programs on the Unix
 * socket side. The device's work runs in the I/O thread's loop, polled after
 * every operation as the thread would. Guest CID 3; a host program listens on
 * port 5000 (PATH_5000), so guest connections there are accepted, and refused
 * on any other port.
 *
 * Host events, by width % 4 (at most 8 host connections at a time):
 *   0  a host program connects to PATH and writes "CONNECT <value>\n" (with
 *      width bit 2, the four bytes of value and "\n" instead);
 *   1  host connection offset % n writes value % 4096 + 1 bytes;
 *   2  host connection offset % n closes;
 *   3  the port-5000 program accepts a guest connection.
 *
 * Checked besides the transport's invariants, after every operation: each
 * connection's buffers within their sizes, a socket exactly for each slot in
 * use, the owed resets bounded; and every descriptor closed at the end.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "config/vsock.h"
#include "microvm/iothread.h"
#include "microvm/virtio_vsock.h"
#include "virtio_script.h"

#define FUZZ_VSOCK_CID 3
#define FUZZ_VSOCK_PORT 5000
#define FUZZ_VSOCK_HOST_CONNS 8

static struct {
	struct iothread io;
	char dir[32], uds[64], port_path[80];
	pid_t owner;              /* the process that made dir: AFL++'s children share it */
	int port_listener;        /* the host program on port 5000 */
	int host[FUZZ_VSOCK_HOST_CONNS];
	unsigned int nr_host;
	struct virtio_vsock vs;
} vsock;

static int listen_on(const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	FUZZ_CHECK(fd >= 0 && strlen(path) < sizeof(addr.sun_path));
	memcpy(addr.sun_path, path, strlen(path));
	FUZZ_CHECK(bind(fd, (const struct sockaddr *)&addr, sizeof(addr)) == 0);
	FUZZ_CHECK(listen(fd, 64) == 0);
	return fd;
}

static void remove_dir(void)
{
	if (getpid() != vsock.owner)
		return;
	unlink(vsock.port_path);
	unlink(vsock.uds);
	rmdir(vsock.dir);
}

static void vsock_init(void)
{
	strcpy(vsock.dir, "/tmp/fuzz-vsock.XXXXXX");
	FUZZ_CHECK(mkdtemp(vsock.dir) != NULL);
	snprintf(vsock.uds, sizeof(vsock.uds), "%s/v.sock", vsock.dir);
	snprintf(vsock.port_path, sizeof(vsock.port_path), "%s_%d", vsock.uds, FUZZ_VSOCK_PORT);
	vsock.port_listener = listen_on(vsock.port_path);
	vsock.owner = getpid();
	FUZZ_CHECK(atexit(remove_dir) == 0);
	FUZZ_CHECK(iothread_init(&vsock.io) == 0);
}

static void vsock_open(const struct virtio_script_header *h, struct virtio_mmio *t,
		       struct virtio_device *dev)
{
	struct diag d;

	(void)h;
	/* An AFL++ child that crashed, or hung and was killed, left its socket behind. */
	unlink(vsock.uds);
	FUZZ_CHECK(virtio_vsock_open(&vsock.vs, &(struct vsock_config){ .cid = FUZZ_VSOCK_CID, .uds = vsock.uds },
				     &d) == 0);
	virtio_vsock_device(&vsock.vs, t, dev);
	FUZZ_CHECK(virtio_vsock_watch(&vsock.vs, &vsock.io) == 0);
}

static void vsock_poll(void)
{
	FUZZ_CHECK(iothread_poll(&vsock.io, 0) == 0);
	FUZZ_CHECK(vsock.vs.nr_orphans <= VSOCK_MAX_ORPHAN_RSTS);
	for (unsigned int i = 0; i < VSOCK_MAX_CONNS; i++) {
		const struct vsock_conn *c = &vsock.vs.conns[i];

		FUZZ_CHECK((c->state == VSOCK_FREE) == (c->fd < 0));
		FUZZ_CHECK(c->buf_len <= VSOCK_CONN_BUF);
		FUZZ_CHECK(c->stage_off <= c->stage_len && c->stage_len <= VSOCK_STAGE_SIZE);
		FUZZ_CHECK(c->line_len <= VSOCK_CONNECT_LINE_MAX);
	}
}

static void add_host(int fd)
{
	if (vsock.nr_host == FUZZ_VSOCK_HOST_CONNS) {
		close(fd);
		return;
	}
	vsock.host[vsock.nr_host++] = fd;
}

static void host_connect(const struct virtio_script_op *op)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	char line[32];
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int len;

	FUZZ_CHECK(fd >= 0);
	memcpy(addr.sun_path, vsock.uds, strlen(vsock.uds));
	/* The device's backlog may be full: the program then gives up. */
	if (connect(fd, (const struct sockaddr *)&addr, sizeof(addr)) < 0) {
		FUZZ_CHECK(errno == EAGAIN);
		close(fd);
		return;
	}
	if (op->width & 4) {
		memcpy(line, &op->value, sizeof(op->value));
		line[sizeof(op->value)] = '\n';
		len = (int)sizeof(op->value) + 1;
	} else {
		len = snprintf(line, sizeof(line), "CONNECT %u\n", op->value);
	}
	if (write(fd, line, (size_t)len) < 0)
		FUZZ_CHECK(errno == EAGAIN);
	add_host(fd);
}

static void host_write(const struct virtio_script_op *op)
{
	static uint8_t bytes[4096];
	size_t len = op->value % sizeof(bytes) + 1;

	if (vsock.nr_host == 0)
		return;
	for (size_t i = 0; i < len; i++)
		bytes[i] = (uint8_t)(i + op->offset);
	/* The device may have closed its end, or not be reading: both are fine. */
	if (send(vsock.host[op->offset % vsock.nr_host], bytes, len, MSG_NOSIGNAL) < 0)
		FUZZ_CHECK(errno == EAGAIN || errno == EPIPE || errno == ECONNRESET);
}

static void host_close(const struct virtio_script_op *op)
{
	unsigned int i;

	if (vsock.nr_host == 0)
		return;
	i = op->offset % vsock.nr_host;
	close(vsock.host[i]);
	vsock.host[i] = vsock.host[--vsock.nr_host];
}

static void vsock_host(const struct virtio_script_op *op)
{
	int fd;

	switch (op->width % 4) {
	case 0:
		host_connect(op);
		break;
	case 1:
		host_write(op);
		break;
	case 2:
		host_close(op);
		break;
	default:
		fd = accept4(vsock.port_listener, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd >= 0)
			add_host(fd);
		else
			FUZZ_CHECK(errno == EAGAIN);
		break;
	}
}

static void vsock_close(void)
{
	int fd;

	virtio_vsock_close(&vsock.vs);
	FUZZ_CHECK(unlink(vsock.uds) == 0);
	while (vsock.nr_host > 0)
		close(vsock.host[--vsock.nr_host]);
	/* Guest connections the program never took: the next input must not see them. */
	while ((fd = accept4(vsock.port_listener, NULL, NULL, SOCK_CLOEXEC)) >= 0)
		close(fd);
	FUZZ_CHECK(errno == EAGAIN);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct virtio_script_device device = {
		.init = vsock_init,
		.open = vsock_open,
		.poll = vsock_poll,
		.host = vsock_host,
		.close = vsock_close,
	};

	virtio_script_run(&device, data, size);
	return 0;
}
