/*
 * iobench: the I/O benchmark's guest side (bench/kvmio.py), run from the guest's
 * /test.sh under microvm and under QEMU alike. Each measurement prints one line,
 *
 *   iobench: NAME bytes=B ops=N ns=T
 *
 * the bytes moved, the requests (disk) or 0 (network) and the nanoseconds they took
 * (CLOCK_MONOTONIC); kvmio.py turns them into MB/s and IOPS.
 *
 *   iobench blk DEVICE MODE MS        MODE: seq-read, seq-write (1 MiB requests, from
 *                                     offset 0, wrapping at the device's end),
 *                                     rand-read, rand-write (4 KiB requests at
 *                                     4 KiB-aligned offsets from a fixed-seed
 *                                     xorshift: the same sequence in every boot).
 *                                     O_DIRECT, so the guest's page cache is out of
 *                                     the way; one request at a time (queue depth
 *                                     1); as many as fit in MS milliseconds. The writes end
 *                                     with fdatasync, a virtio-blk flush, timed too.
 *   iobench tcp-send ADDR PORT BYTES  connect, write BYTES, half-close, wait for the
 *                                     peer's close (so it has them all): from the
 *                                     connection to that close
 *   iobench tcp-recv PORT             listen (printing "iobench: listening"),
 *                                     accept one connection, read until the peer
 *                                     half-closes: from the accept to the end
 * Exit status 0, or 1 with one line on stderr.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define IOBENCH_SEQ_SIZE (1u << 20)
#define IOBENCH_RAND_SIZE 4096u
#define IOBENCH_ALIGN 4096u
#define IOBENCH_NET_CHUNK (1u << 16)
#define IOBENCH_CONNECT_SECONDS 60
#define IOBENCH_SEED 0x9e3779b97f4a7c15ull

static void iobench_die(const char *what)
{
	fprintf(stderr, "iobench: %s: %s\n", what, errno ? strerror(errno) : "invalid");
	exit(1);
}

static uint64_t iobench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static unsigned long long iobench_number(const char *s, unsigned long long max, const char *what)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end || v == 0 || v > max) {
		errno = 0;
		iobench_die(what);
	}
	return v;
}

static void iobench_report(const char *name, unsigned long long bytes, unsigned long long ops,
			   uint64_t ns)
{
	printf("iobench: %s bytes=%llu ops=%llu ns=%llu\n", name, bytes, ops, (unsigned long long)ns);
	fflush(stdout);
}

static uint64_t iobench_xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void iobench_blk(const char *dev, const char *mode, unsigned long long ms)
{
	int write = !strcmp(mode, "seq-write") || !strcmp(mode, "rand-write");
	int seq = !strcmp(mode, "seq-read") || !strcmp(mode, "seq-write");
	size_t size = seq ? IOBENCH_SEQ_SIZE : IOBENCH_RAND_SIZE;
	unsigned long long ops = 0, dev_bytes, blocks;
	uint64_t seed = IOBENCH_SEED, start, end, pos = 0;
	unsigned char *buf;
	struct stat st;
	int fd;

	if (!seq && strcmp(mode, "rand-read") && strcmp(mode, "rand-write")) {
		errno = 0;
		iobench_die(mode);
	}
	fd = open(dev, (write ? O_RDWR : O_RDONLY) | O_DIRECT | O_CLOEXEC);
	if (fd < 0)
		iobench_die(dev);
	/* A regular file too, to try the tool on the host. */
	if (fstat(fd, &st) < 0)
		iobench_die(dev);
	if (S_ISREG(st.st_mode))
		dev_bytes = (unsigned long long)st.st_size;
	else if (ioctl(fd, BLKGETSIZE64, &dev_bytes) < 0)
		iobench_die("BLKGETSIZE64");
	blocks = dev_bytes / size;
	if (blocks == 0) {
		errno = 0;
		iobench_die("device smaller than one request");
	}
	errno = posix_memalign((void **)&buf, IOBENCH_ALIGN, size);
	if (errno)
		iobench_die("posix_memalign");
	/* Data, not zeros, in what the writes carry. */
	for (size_t i = 0; i < size; i += sizeof(uint64_t)) {
		uint64_t v = iobench_xorshift(&seed);

		memcpy(buf + i, &v, sizeof(v));
	}
	seed = IOBENCH_SEED;
	start = iobench_now_ns();
	end = start + ms * 1000000u;
	do {
		ssize_t n;

		if (seq)
			pos = ops % blocks;
		else
			pos = iobench_xorshift(&seed) % blocks;
		n = write ? pwrite(fd, buf, size, (off_t)(pos * size)) : pread(fd, buf, size, (off_t)(pos * size));
		if (n != (ssize_t)size) {
			if (n >= 0)
				errno = EIO;
			iobench_die(mode);
		}
		ops++;
	} while (iobench_now_ns() < end);
	if (write && fdatasync(fd) < 0)
		iobench_die("fdatasync");
	iobench_report(mode, ops * size, ops, iobench_now_ns() - start);
	free(buf);
	close(fd);
}

static void iobench_read_to_end(int fd, const char *what, unsigned long long *total)
{
	static char buf[IOBENCH_NET_CHUNK];

	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			iobench_die(what);
		if (n == 0)
			return;
		*total += (unsigned long long)n;
	}
}

static void iobench_tcp_send(const char *addr, const char *port, const char *count)
{
	static char buf[IOBENCH_NET_CHUNK];
	struct sockaddr_in sin = { .sin_family = AF_INET };
	unsigned long long bytes = iobench_number(count, 1ull << 40, "byte count"), left = bytes, extra = 0;
	time_t deadline = time(NULL) + IOBENCH_CONNECT_SECONDS;
	uint64_t start;
	int fd;

	sin.sin_port = htons((uint16_t)iobench_number(port, 65535, "TCP port"));
	if (inet_pton(AF_INET, addr, &sin.sin_addr) != 1)
		iobench_die(addr);
	memset(buf, 0x5a, sizeof(buf));
	/* The host's receiver may not listen yet. */
	for (;;) {
		fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			iobench_die("socket");
		if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0)
			break;
		close(fd);
		if (time(NULL) >= deadline)
			iobench_die("connect");
		usleep(100000);
	}
	start = iobench_now_ns();
	while (left) {
		ssize_t n = write(fd, buf, left < sizeof(buf) ? (size_t)left : sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			iobench_die("send");
		left -= (unsigned long long)n;
	}
	if (shutdown(fd, SHUT_WR) < 0)
		iobench_die("shutdown");
	/* The peer closes once it has read everything; it sends nothing. */
	iobench_read_to_end(fd, "waiting for the peer to close", &extra);
	if (extra) {
		errno = 0;
		iobench_die("the peer sent data");
	}
	iobench_report("tcp-send", bytes, 0, iobench_now_ns() - start);
	close(fd);
}

static void iobench_tcp_recv(const char *port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_ANY) };
	unsigned long long bytes = 0;
	int one = 1, lfd, fd;
	uint64_t start;

	sin.sin_port = htons((uint16_t)iobench_number(port, 65535, "TCP port"));
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0)
		iobench_die("socket");
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) < 0)
		iobench_die("bind");
	if (listen(lfd, 1) < 0)
		iobench_die("listen");
	printf("iobench: listening\n");
	fflush(stdout);
	fd = accept(lfd, NULL, NULL);
	if (fd < 0)
		iobench_die("accept");
	start = iobench_now_ns();
	iobench_read_to_end(fd, "recv", &bytes);
	iobench_report("tcp-recv", bytes, 0, iobench_now_ns() - start);
	close(fd);
	close(lfd);
}

int main(int argc, char **argv)
{
	if (argc == 5 && !strcmp(argv[1], "blk"))
		iobench_blk(argv[2], argv[3], iobench_number(argv[4], 3600000, "milliseconds"));
	else if (argc == 5 && !strcmp(argv[1], "tcp-send"))
		iobench_tcp_send(argv[2], argv[3], argv[4]);
	else if (argc == 3 && !strcmp(argv[1], "tcp-recv"))
		iobench_tcp_recv(argv[2]);
	else {
		fprintf(stderr, "usage: iobench blk DEVICE seq-read|seq-write|rand-read|rand-write MS\n"
				"       iobench tcp-send ADDR PORT BYTES\n"
				"       iobench tcp-recv PORT\n");
		return 2;
	}
	return 0;
}
