/*
 * virtio-vsock behind its transport, with the test as both the guest's driver and
 * the host programs: host-initiated connections ("CONNECT PORT\n", "OK PORT\n"),
 * guest-initiated ones to PATH_PORT, data both ways under the peer's credit,
 * shutdown and reset, and packets that match nothing or break the rules. The I/O
 * thread's loop runs here, one iothread_poll at a time.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <cmocka.h>

#include <linux/virtio_ids.h>
#include <linux/virtio_mmio.h>

#include "config/vsock.h"
#include "microvm/log.h"
#include "microvm/virtio_vsock.h"
#include "virtio_driver.h"

#define CID 42
#define HDR_LEN 44
#define RX_DATA 4096
#define RX_BUF(i) (VD_BUFS + 0x2000ULL * (i))
#define TX_HDR (VD_BUFS + 0x20000ULL)
#define TX_DATA (VD_BUFS + 0x21000ULL)

struct fixture {
	char dir[40], uds[64];
	struct vd v;
	struct virtio_vsock vs;
	struct virtio_mmio t;
	struct iothread io;
	uint64_t rx_hdr[VD_QUEUE_SIZE];   /* by head: the buffer of each offered chain */
	unsigned int rx_next;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct virtio_device dev;
	struct virtio_irq irq;
	struct diag d;

	assert_non_null(f);
	strcpy(f->dir, "/tmp/test_virtio_vsock.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->uds, sizeof(f->uds), "%s/v.sock", f->dir);
	assert_int_equal(virtio_vsock_open(&f->vs, &(struct vsock_config){ .cid = CID, .uds = f->uds }, &d), 0);
	vd_init(&f->v);
	f->v.t = &f->t;
	irq = vd_irq(&f->v);
	virtio_vsock_device(&f->vs, &f->t, &dev);
	assert_int_equal(virtio_mmio_init(&f->t, &dev, &f->v.mem, &irq, 0xd0000000), 0);
	assert_int_equal(iothread_init(&f->io), 0);
	assert_int_equal(virtio_vsock_watch(&f->vs, &f->io), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char path[160];

	iothread_destroy(&f->io);
	virtio_mmio_destroy(&f->t);
	virtio_vsock_close(&f->vs);
	vd_free(&f->v);
	unlink(f->uds);
	snprintf(path, sizeof(path), "%s_5000", f->uds);
	unlink(path);
	rmdir(f->dir);
	free(f);
	return 0;
}

/* Runs the I/O loop until it has been idle for a moment. */
static void settle(struct fixture *f)
{
	for (int i = 0; i < 8; i++)
		assert_int_equal(iothread_poll(&f->io, 10), 0);
}

/* The driver offers n receive buffers (a header and 4 KiB of data each). */
static void post_rx(struct fixture *f, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		uint64_t buf = RX_BUF(f->rx_next++ % VD_QUEUE_SIZE);
		struct vd_buf bufs[] = { { buf, HDR_LEN, true }, { buf + 0x100, RX_DATA, true } };

		f->rx_hdr[vd_offer(&f->v, 0, bufs, 2)] = buf;
	}
	vd_notify(&f->v, 0);
}

static void start(struct fixture *f, unsigned int rx_bufs)
{
	vd_start(&f->v, 3, true);
	post_rx(f, rx_bufs);
	settle(f);
}

/* The next packet the device put in the receive queue; false if none. */
static bool recv_pkt(struct fixture *f, struct virtio_vsock_hdr *hdr, char *payload)
{
	uint32_t head, len;

	if (!vd_used(&f->v, 0, &head, &len))
		return false;
	assert_true(head < VD_QUEUE_SIZE);
	assert_true(len >= HDR_LEN);
	memcpy(hdr, f->v.ram + f->rx_hdr[head], HDR_LEN);
	assert_int_equal(hdr->len, len - HDR_LEN);
	assert_true(hdr->len <= RX_DATA);
	memcpy(payload, f->v.ram + f->rx_hdr[head] + 0x100, hdr->len);
	payload[hdr->len] = '\0';
	assert_int_equal(hdr->src_cid, 2);
	assert_int_equal(hdr->dst_cid, CID);
	assert_int_equal(hdr->type, VIRTIO_VSOCK_TYPE_STREAM);
	return true;
}

static void expect_pkt(struct fixture *f, uint16_t op, struct virtio_vsock_hdr *hdr, char *payload)
{
	assert_true(recv_pkt(f, hdr, payload));
	if (hdr->op != op)
		fail_msg("expected op %u, got %u", op, hdr->op);
}

/* The guest sends one packet, in a header buffer and a payload buffer. */
static void send_pkt(struct fixture *f, uint64_t src_cid, uint16_t op, uint32_t src_port,
		     uint32_t dst_port, const void *payload, uint32_t len, uint32_t buf_alloc,
		     uint32_t fwd_cnt, uint32_t flags)
{
	struct virtio_vsock_hdr hdr = {
		.src_cid = src_cid, .dst_cid = 2, .src_port = src_port, .dst_port = dst_port,
		.len = len, .type = VIRTIO_VSOCK_TYPE_STREAM, .op = op, .flags = flags,
		.buf_alloc = buf_alloc, .fwd_cnt = fwd_cnt,
	};
	struct vd_buf bufs[] = { { TX_HDR, HDR_LEN, false }, { TX_DATA, len, false } };
	uint32_t id, used;

	memcpy(f->v.ram + TX_HDR, &hdr, sizeof(hdr));
	if (len)
		memcpy(f->v.ram + TX_DATA, payload, len);
	vd_submit(&f->v, 1, bufs, len ? 2 : 1);
	settle(f);
	assert_true(vd_used(&f->v, 1, &id, &used));
	assert_int_equal(used, 0);
}

static int host_connect(struct fixture *f, const char *line)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	strcpy(addr.sun_path, f->uds);
	assert_int_equal(connect(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	assert_int_equal(write(fd, line, strlen(line)), (ssize_t)strlen(line));
	settle(f);
	return fd;
}

/* Reads what is there within a short wait, NUL-terminated; 0 at EOF, -1 if nothing. */
static ssize_t host_read(int fd, char *buf, size_t len)
{
	struct timeval tv = { .tv_usec = 200000 };
	ssize_t n;

	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
	n = read(fd, buf, len - 1);
	buf[n > 0 ? n : 0] = '\0';
	return n;
}

/* A host-initiated connection to guest port 1234, accepted: returns the host socket. */
static int host_initiated(struct fixture *f, uint32_t *host_port, uint32_t guest_buf_alloc)
{
	struct virtio_vsock_hdr hdr;
	char buf[64], want[64];
	int fd = host_connect(f, "CONNECT 1234\n");

	expect_pkt(f, VIRTIO_VSOCK_OP_REQUEST, &hdr, buf);
	assert_int_equal(hdr.dst_port, 1234);
	assert_true(hdr.src_port >= 1u << 30);
	assert_int_equal(hdr.buf_alloc, VSOCK_CONN_BUF);
	*host_port = hdr.src_port;
	send_pkt(f, CID, VIRTIO_VSOCK_OP_RESPONSE, 1234, *host_port, NULL, 0, guest_buf_alloc, 0, 0);
	snprintf(want, sizeof(want), "OK %u\n", *host_port);
	assert_int_equal(host_read(fd, buf, sizeof(buf)), (ssize_t)strlen(want));
	assert_string_equal(buf, want);
	return fd;
}

static void config_space(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(vd_read32(&f->v, VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_VSOCK);
	assert_int_equal(vd_read32(&f->v, VIRTIO_MMIO_CONFIG), CID);
	assert_int_equal(vd_read32(&f->v, VIRTIO_MMIO_CONFIG + 4), 0);
}

static void host_initiated_data(void **state)
{
	struct fixture *f = *state;
	struct virtio_vsock_hdr hdr;
	char buf[8192];
	uint32_t port;
	int fd;

	start(f, 6);
	fd = host_initiated(f, &port, 65536);
	/* Host to guest. */
	assert_int_equal(write(fd, "hello guest", 11), 11);
	settle(f);
	expect_pkt(f, VIRTIO_VSOCK_OP_RW, &hdr, buf);
	assert_string_equal(buf, "hello guest");
	assert_int_equal(hdr.src_port, port);
	assert_int_equal(hdr.dst_port, 1234);
	/* Guest to host. */
	send_pkt(f, CID, VIRTIO_VSOCK_OP_RW, 1234, port, "hello host", 10, 65536, 11, 0);
	assert_int_equal(host_read(fd, buf, sizeof(buf)), 10);
	assert_string_equal(buf, "hello host");
	/* The guest asks for our credit. */
	send_pkt(f, CID, VIRTIO_VSOCK_OP_CREDIT_REQUEST, 1234, port, NULL, 0, 65536, 11, 0);
	expect_pkt(f, VIRTIO_VSOCK_OP_CREDIT_UPDATE, &hdr, buf);
	assert_int_equal(hdr.fwd_cnt, 10);
	/* The host closes: the guest hears SHUTDOWN, answers RST. */
	close(fd);
	settle(f);
	expect_pkt(f, VIRTIO_VSOCK_OP_SHUTDOWN, &hdr, buf);
	assert_int_equal(hdr.flags, VIRTIO_VSOCK_SHUTDOWN_RCV | VIRTIO_VSOCK_SHUTDOWN_SEND);
	send_pkt(f, CID, VIRTIO_VSOCK_OP_RST, 1234, port, NULL, 0, 65536, 11, 0);
	assert_false(recv_pkt(f, &hdr, buf));
	/* The connection is gone: more data for it gets a reset. */
	post_rx(f, 1);
	send_pkt(f, CID, VIRTIO_VSOCK_OP_RW, 1234, port, "late", 4, 65536, 11, 0);
	expect_pkt(f, VIRTIO_VSOCK_OP_RST, &hdr, buf);
	assert_int_equal(hdr.src_port, port);
	assert_int_equal(hdr.dst_port, 1234);
}

static void guest_credit_honoured(void **state)
{
	struct fixture *f = *state;
	struct virtio_vsock_hdr hdr;
	char buf[8192];
	uint32_t port;
	int fd;

	start(f, 6);
	/* The guest can take 8 bytes. */
	fd = host_initiated(f, &port, 8);
	assert_int_equal(write(fd, "0123456789abcdefghij", 20), 20);
	settle(f);
	expect_pkt(f, VIRTIO_VSOCK_OP_RW, &hdr, buf);
	assert_string_equal(buf, "01234567");
	assert_false(recv_pkt(f, &hdr, buf));
	/* It consumed them. */
	send_pkt(f, CID, VIRTIO_VSOCK_OP_CREDIT_UPDATE, 1234, port, NULL, 0, 8, 8, 0);
	expect_pkt(f, VIRTIO_VSOCK_OP_RW, &hdr, buf);
	assert_string_equal(buf, "89abcdef");
	send_pkt(f, CID, VIRTIO_VSOCK_OP_CREDIT_UPDATE, 1234, port, NULL, 0, 8, 16, 0);
	expect_pkt(f, VIRTIO_VSOCK_OP_RW, &hdr, buf);
	assert_string_equal(buf, "ghij");
	close(fd);
}

static void guest_beyond_credit(void **state)
{
	struct fixture *f = *state;
	struct virtio_vsock_hdr hdr;
	static char big[VSOCK_CONN_BUF + 1];
	char buf[64];
	uint32_t port;
	int fd;

	start(f, 4);
	fd = host_initiated(f, &port, 65536);
	/* One byte more than the credit we gave: the connection is reset, the host sees EOF. */
	memset(big, 'x', sizeof(big));
	send_pkt(f, CID, VIRTIO_VSOCK_OP_RW, 1234, port, big, sizeof(big), 65536, 0, 0);
	expect_pkt(f, VIRTIO_VSOCK_OP_RST, &hdr, buf);
	assert_int_equal(host_read(fd, buf, sizeof(buf)), 0);
	close(fd);
}

static void guest_initiated(void **state)
{
	struct fixture *f = *state;
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct virtio_vsock_hdr hdr;
	char buf[8192];
	int lfd = socket(AF_UNIX, SOCK_STREAM, 0), fd;

	start(f, 6);
	/* Nobody listens on port 5000 yet: reset. */
	send_pkt(f, CID, VIRTIO_VSOCK_OP_REQUEST, 777, 5000, NULL, 0, 65536, 0, 0);
	expect_pkt(f, VIRTIO_VSOCK_OP_RST, &hdr, buf);
	assert_int_equal(hdr.src_port, 5000);
	assert_int_equal(hdr.dst_port, 777);

	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s_5000", f->uds);
	assert_int_equal(bind(lfd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	assert_int_equal(listen(lfd, 1), 0);
	send_pkt(f, CID, VIRTIO_VSOCK_OP_REQUEST, 777, 5000, NULL, 0, 65536, 0, 0);
	expect_pkt(f, VIRTIO_VSOCK_OP_RESPONSE, &hdr, buf);
	assert_int_equal(hdr.src_port, 5000);
	assert_int_equal(hdr.dst_port, 777);
	fd = accept(lfd, NULL, NULL);
	assert_true(fd >= 0);
	send_pkt(f, CID, VIRTIO_VSOCK_OP_RW, 777, 5000, "ping", 4, 65536, 0, 0);
	assert_int_equal(host_read(fd, buf, sizeof(buf)), 4);
	assert_string_equal(buf, "ping");
	assert_int_equal(write(fd, "pong", 4), 4);
	settle(f);
	expect_pkt(f, VIRTIO_VSOCK_OP_RW, &hdr, buf);
	assert_string_equal(buf, "pong");
	/* The guest closes both ways: RST back, EOF for the host. */
	send_pkt(f, CID, VIRTIO_VSOCK_OP_SHUTDOWN, 777, 5000, NULL, 0, 65536, 4,
		 VIRTIO_VSOCK_SHUTDOWN_RCV | VIRTIO_VSOCK_SHUTDOWN_SEND);
	expect_pkt(f, VIRTIO_VSOCK_OP_RST, &hdr, buf);
	assert_int_equal(host_read(fd, buf, sizeof(buf)), 0);
	close(fd);
	close(lfd);
}

static void strangers_and_bad_packets(void **state)
{
	struct fixture *f = *state;
	struct virtio_vsock_hdr hdr;
	char buf[64];
	int fd;

	start(f, 6);
	/* Another CID, or to a CID other than the host's: dropped without a word. */
	send_pkt(f, CID + 1, VIRTIO_VSOCK_OP_REQUEST, 1, 2, NULL, 0, 0, 0, 0);
	assert_false(recv_pkt(f, &hdr, buf));
	/* Data for no connection: reset. A reset for none: nothing. */
	send_pkt(f, CID, VIRTIO_VSOCK_OP_RW, 10, 20, "x", 1, 0, 0, 0);
	expect_pkt(f, VIRTIO_VSOCK_OP_RST, &hdr, buf);
	send_pkt(f, CID, VIRTIO_VSOCK_OP_RST, 10, 20, NULL, 0, 0, 0, 0);
	assert_false(recv_pkt(f, &hdr, buf));
	/* A length beyond the buffer the packet came in. */
	{
		struct virtio_vsock_hdr h = {
			.src_cid = CID, .dst_cid = 2, .src_port = 1, .dst_port = 2, .len = 1000,
			.type = VIRTIO_VSOCK_TYPE_STREAM, .op = VIRTIO_VSOCK_OP_RW,
		};
		struct vd_buf bufs[] = { { TX_HDR, HDR_LEN, false }, { TX_DATA, 10, false } };
		uint32_t id, used;

		memcpy(f->v.ram + TX_HDR, &h, sizeof(h));
		vd_submit(&f->v, 1, bufs, 2);
		settle(f);
		assert_true(vd_used(&f->v, 1, &id, &used));
		expect_pkt(f, VIRTIO_VSOCK_OP_RST, &hdr, buf);
	}
	/* A packet shorter than a header. */
	{
		struct vd_buf b = { TX_HDR, 20, false };
		uint32_t id, used;

		vd_submit(&f->v, 1, &b, 1);
		settle(f);
		assert_true(vd_used(&f->v, 1, &id, &used));
		assert_false(recv_pkt(f, &hdr, buf));
	}
	/* A host program that does not say CONNECT is hung up on. */
	fd = host_connect(f, "HELLO 1234\n");
	assert_int_equal(host_read(fd, buf, sizeof(buf)), 0);
	close(fd);
	fd = host_connect(f, "CONNECT 99999999999\n");
	assert_int_equal(host_read(fd, buf, sizeof(buf)), 0);
	close(fd);
	assert_false(recv_pkt(f, &hdr, buf));
}

static void no_buffers_then_reset(void **state)
{
	struct fixture *f = *state;
	struct virtio_vsock_hdr hdr;
	char buf[64];
	uint32_t port;
	int fd, fd2;

	/* No receive buffers: the REQUEST waits for one. */
	start(f, 0);
	fd = host_connect(f, "CONNECT 1234\n");
	assert_false(recv_pkt(f, &hdr, buf));
	post_rx(f, 4);
	settle(f);
	expect_pkt(f, VIRTIO_VSOCK_OP_REQUEST, &hdr, buf);
	port = hdr.src_port;
	send_pkt(f, CID, VIRTIO_VSOCK_OP_RESPONSE, 1234, port, NULL, 0, 65536, 0, 0);
	assert_true(host_read(fd, buf, sizeof(buf)) > 0);
	/* A device reset drops every connection. */
	vd_write32(&f->v, VIRTIO_MMIO_STATUS, 0);
	settle(f);
	assert_int_equal(host_read(fd, buf, sizeof(buf)), 0);
	close(fd);
	/* And the device works again after it. */
	memset(f->v.used_seen, 0, sizeof(f->v.used_seen));
	start(f, 4);
	fd2 = host_initiated(f, &port, 65536);
	close(fd2);
}

static void host_before_driver(void **state)
{
	struct fixture *f = *state;
	struct virtio_vsock_hdr hdr;
	char buf[64];
	int fd;

	/* The host connects while the guest's driver is not up yet, as Linux resets the device. */
	fd = host_connect(f, "CONNECT 1234\n");
	vd_write32(&f->v, VIRTIO_MMIO_STATUS, 0);
	settle(f);
	start(f, 2);
	expect_pkt(f, VIRTIO_VSOCK_OP_REQUEST, &hdr, buf);
	assert_int_equal(hdr.dst_port, 1234);
	/* Nobody listens on guest port 1234: the guest refuses, the host is hung up on. */
	send_pkt(f, CID, VIRTIO_VSOCK_OP_RST, 1234, hdr.src_port, NULL, 0, 0, 0, 0);
	assert_int_equal(host_read(fd, buf, sizeof(buf)), 0);
	close(fd);
}

/*
 * A restore from a snapshot: the guest's connections belonged to the old process, so
 * the guest gets VIRTIO_VSOCK_EVENT_TRANSPORT_RESET in its event buffer and an
 * interrupt; with no event buffer offered, a guest error is counted and nothing is
 * written.
 */
#define EV_BUF (VD_BUFS + 0x30000ULL)
static void restore_tells_guest_transport_reset(void **state)
{
	struct fixture *f = *state;
	struct vd_buf ev = { EV_BUF, 8, true };
	uint32_t head, len, id;
	uint16_t offered;
	const char *why = NULL;

	start(f, 1);
	assert_int_equal(virtio_vsock_device_ops.restore(&f->vs, NULL, 0, &why), 0);
	assert_false(vd_used(&f->v, 2, &head, &len));
	assert_int_equal(atomic_load(&f->t.stats.guest_errors), 1);

	memset(f->v.ram + EV_BUF, 0xff, 8);
	offered = vd_offer(&f->v, 2, &ev, 1);
	vd_notify(&f->v, 2);
	settle(f);
	assert_false(vd_used(&f->v, 2, &head, &len));
	assert_int_equal(virtio_vsock_device_ops.restore(&f->vs, NULL, 0, &why), 0);
	assert_true(vd_used(&f->v, 2, &head, &len));
	assert_int_equal(head, offered);
	assert_int_equal(len, sizeof(struct virtio_vsock_event));
	memcpy(&id, f->v.ram + EV_BUF, sizeof(id));
	assert_int_equal(le32toh(id), VIRTIO_VSOCK_EVENT_TRANSPORT_RESET);
	assert_int_equal(atomic_load(&f->t.stats.guest_errors), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(config_space, setup, teardown),
		cmocka_unit_test_setup_teardown(host_initiated_data, setup, teardown),
		cmocka_unit_test_setup_teardown(guest_credit_honoured, setup, teardown),
		cmocka_unit_test_setup_teardown(guest_beyond_credit, setup, teardown),
		cmocka_unit_test_setup_teardown(guest_initiated, setup, teardown),
		cmocka_unit_test_setup_teardown(strangers_and_bad_packets, setup, teardown),
		cmocka_unit_test_setup_teardown(no_buffers_then_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(host_before_driver, setup, teardown),
		cmocka_unit_test_setup_teardown(restore_tells_guest_transport_reset, setup, teardown),
	};

	/* A host socket that closed must give EPIPE, not kill the test (vm_run does the same). */
	signal(SIGPIPE, SIG_IGN);
	log_init("test_virtio_vsock", LOG_ERROR);
	return cmocka_run_group_tests_name("virtio_vsock", tests, NULL, NULL);
}
