/*
 * xfer: moves one file over one stream connection, for the real-KVM tests. It
 * runs in the test guests (linked statically, next to busybox) and on the
 * host, so both ends of a TCP or vsock test are the same small program.
 *
 *   xfer send ENDPOINT FILE   connect or accept, write FILE, half-close, and
 *                             wait for the peer to close (so it has all of it)
 *   xfer recv ENDPOINT FILE   connect or accept, write what arrives to FILE
 *                             until the peer half-closes, then close
 *
 * ENDPOINT: tcp:ADDR:PORT, vsock:CID:PORT, unix:PATH (connect), fcvsock:PATH:PORT
 * (connect to a Firecracker-style vsock Unix socket and ask for guest PORT),
 * tcp-listen:PORT, vsock-listen:PORT, unix-listen:PATH (accept one connection).
 * A connect is retried for up to XFER_CONNECT_SECONDS, since the other end may
 * not listen yet. Exit status 0 on success, 1 with a message otherwise.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/vm_sockets.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define XFER_CONNECT_SECONDS 120
#define XFER_RETRY_US 100000

union xfer_addr {
	struct sockaddr sa;
	struct sockaddr_in in;
	struct sockaddr_vm vm;
	struct sockaddr_un un;
};

struct xfer_endpoint {
	union xfer_addr addr;
	socklen_t len;
	bool listen;
	long fc_port; /* fcvsock: the guest port to ask for; -1 otherwise */
};

static void xfer_die(const char *what)
{
	fprintf(stderr, "xfer: %s: %s\n", what, errno ? strerror(errno) : "invalid");
	exit(1);
}

static unsigned long xfer_number(const char *s, unsigned long max, const char *what)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v > max) {
		errno = 0;
		xfer_die(what);
	}
	return v;
}

static void xfer_unix_path(struct xfer_endpoint *e, const char *path)
{
	if (strlen(path) >= sizeof(e->addr.un.sun_path)) {
		errno = ENAMETOOLONG;
		xfer_die(path);
	}
	e->addr.un.sun_family = AF_UNIX;
	strcpy(e->addr.un.sun_path, path);
	e->len = sizeof(e->addr.un);
}

static void xfer_parse(struct xfer_endpoint *e, char *spec)
{
	char *colon = strchr(spec, ':'), *rest, *last;

	memset(e, 0, sizeof(*e));
	e->fc_port = -1;
	if (!colon)
		xfer_die(spec);
	*colon = '\0';
	rest = colon + 1;
	last = strrchr(rest, ':');
	e->listen = strstr(spec, "-listen") != NULL;
	if (!strcmp(spec, "tcp") && last) {
		*last = '\0';
		e->addr.in.sin_family = AF_INET;
		e->addr.in.sin_port = htons((uint16_t)xfer_number(last + 1, 65535, "TCP port"));
		if (inet_pton(AF_INET, rest, &e->addr.in.sin_addr) != 1)
			xfer_die(rest);
		e->len = sizeof(e->addr.in);
	} else if (!strcmp(spec, "tcp-listen")) {
		e->addr.in.sin_family = AF_INET;
		e->addr.in.sin_port = htons((uint16_t)xfer_number(rest, 65535, "TCP port"));
		e->len = sizeof(e->addr.in);
	} else if (!strcmp(spec, "vsock") && last) {
		*last = '\0';
		e->addr.vm.svm_family = AF_VSOCK;
		e->addr.vm.svm_cid = (unsigned int)xfer_number(rest, UINT32_MAX, "vsock CID");
		e->addr.vm.svm_port = (unsigned int)xfer_number(last + 1, UINT32_MAX, "vsock port");
		e->len = sizeof(e->addr.vm);
	} else if (!strcmp(spec, "vsock-listen")) {
		e->addr.vm.svm_family = AF_VSOCK;
		e->addr.vm.svm_cid = VMADDR_CID_ANY;
		e->addr.vm.svm_port = (unsigned int)xfer_number(rest, UINT32_MAX, "vsock port");
		e->len = sizeof(e->addr.vm);
	} else if (!strcmp(spec, "unix") || !strcmp(spec, "unix-listen")) {
		xfer_unix_path(e, rest);
	} else if (!strcmp(spec, "fcvsock") && last) {
		*last = '\0';
		e->fc_port = (long)xfer_number(last + 1, UINT32_MAX, "vsock port");
		xfer_unix_path(e, rest);
	} else {
		errno = 0;
		xfer_die(spec);
	}
}

/* Reads one line ("OK <host port>") of the VMM's answer to CONNECT, byte by byte. */
static bool xfer_fc_handshake(int fd, long port)
{
	char line[64];
	size_t n = 0;
	int len = snprintf(line, sizeof(line), "CONNECT %ld\n", port);

	if (write(fd, line, (size_t)len) != len)
		return false;
	while (n < sizeof(line) - 1) {
		if (read(fd, &line[n], 1) != 1)
			return false;
		if (line[n++] == '\n')
			break;
	}
	line[n] = '\0';
	return strncmp(line, "OK ", 3) == 0;
}

static int xfer_connect(const struct xfer_endpoint *e)
{
	time_t deadline = time(NULL) + XFER_CONNECT_SECONDS;

	for (;;) {
		int fd = socket(e->addr.sa.sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);

		if (fd < 0)
			xfer_die("socket");
		if (connect(fd, &e->addr.sa, e->len) == 0 &&
		    (e->fc_port < 0 || xfer_fc_handshake(fd, e->fc_port)))
			return fd;
		close(fd);
		if (time(NULL) >= deadline)
			xfer_die("connect");
		usleep(XFER_RETRY_US);
	}
}

static int xfer_accept(const struct xfer_endpoint *e)
{
	int one = 1, fd = socket(e->addr.sa.sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0), conn;

	if (fd < 0)
		xfer_die("socket");
	if (e->addr.sa.sa_family == AF_INET)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, &e->addr.sa, e->len) < 0)
		xfer_die("bind");
	if (listen(fd, 1) < 0)
		xfer_die("listen");
	conn = accept(fd, NULL, NULL);
	if (conn < 0)
		xfer_die("accept");
	close(fd);
	return conn;
}

/* Copies in to out until end of file; returns the byte count. */
static unsigned long long xfer_copy(int in, int out, const char *what)
{
	static char buf[1 << 16];
	unsigned long long total = 0;

	for (;;) {
		ssize_t n = read(in, buf, sizeof(buf)), done = 0;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			xfer_die(what);
		if (n == 0)
			return total;
		while (done < n) {
			ssize_t w = write(out, buf + done, (size_t)(n - done));

			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				xfer_die(what);
			done += w;
		}
		total += (unsigned long long)n;
	}
}

int main(int argc, char **argv)
{
	struct xfer_endpoint e;
	unsigned long long bytes;
	bool send;
	int fd, file;
	char rest;

	if (argc != 4 || (strcmp(argv[1], "send") && strcmp(argv[1], "recv"))) {
		fprintf(stderr, "usage: xfer send|recv ENDPOINT FILE\n");
		return 2;
	}
	send = !strcmp(argv[1], "send");
	xfer_parse(&e, argv[2]);
	file = send ? open(argv[3], O_RDONLY | O_CLOEXEC)
		    : open(argv[3], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (file < 0)
		xfer_die(argv[3]);
	fd = e.listen ? xfer_accept(&e) : xfer_connect(&e);
	if (send) {
		bytes = xfer_copy(file, fd, "send");
		if (shutdown(fd, SHUT_WR) < 0)
			xfer_die("shutdown");
		/* The peer closes once it has read everything; anything it sends is an error. */
		if (read(fd, &rest, 1) != 0)
			xfer_die("waiting for the peer to close");
	} else {
		bytes = xfer_copy(fd, file, "recv");
		if (fsync(file) < 0 && errno != EINVAL)
			xfer_die(argv[3]);
	}
	close(fd);
	close(file);
	fprintf(stderr, "xfer: %s %llu bytes\n", send ? "sent" : "received", bytes);
	return 0;
}
