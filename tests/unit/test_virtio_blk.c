/*
 * virtio-blk behind its virtio-mmio transport, driven like Linux drives it, over a
 * temporary disk image: reads and writes land in the file, read-only drives refuse
 * writes, requests past the end or of partial sectors fail, flush and GET_ID work,
 * malformed requests fail alone, and a broken ring sets DEVICE_NEEDS_RESET; a rate
 * limiter holds requests in the ring until its timer fires in the I/O loop.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_ring.h>

#include "config/drive.h"
#include "microvm/log.h"
#include "microvm/virtio_blk.h"
#include "virtio_driver.h"

/* The disk at path, with the id "disk-1", as --drive path=PATH[,ro],id=disk-1 opens it. */
static int open_limited_disk(struct virtio_blk *b, const char *path, bool read_only,
			     const struct rate_limiter_config *limiter, struct diag *d)
{
	struct drive_config c = { .path = (char *)(uintptr_t)path, .read_only = read_only,
				  .id = "disk-1" };

	if (limiter)
		c.limiter = *limiter;
	return virtio_blk_open(b, &c, d);
}

static int open_disk(struct virtio_blk *b, const char *path, bool read_only, struct diag *d)
{
	return open_limited_disk(b, path, read_only, NULL, d);
}

#define DISK_SECTORS 64
#define HDR VD_BUFS
#define STATUS (VD_BUFS + 0x100)
#define DATA (VD_BUFS + 0x1000)

struct fixture {
	char path[64];
	int fd;                  /* the test's own view of the image */
	struct vd v;
	struct virtio_blk blk;
	struct virtio_mmio t;
};

static struct fixture *make_limited(bool read_only, uint64_t size,
				    const struct rate_limiter_config *limiter)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct virtio_device dev;
	struct virtio_irq irq;
	struct diag d;

	assert_non_null(f);
	strcpy(f->path, "/tmp/test_virtio_blk.XXXXXX");
	f->fd = mkstemp(f->path);
	assert_true(f->fd >= 0);
	assert_int_equal(ftruncate(f->fd, (off_t)size), 0);
	/* Sector n starts with its number, the rest 0xee. */
	for (uint64_t s = 0; s < size / VIRTIO_BLK_SECTOR_SIZE; s++) {
		uint8_t sector[VIRTIO_BLK_SECTOR_SIZE];

		memset(sector, 0xee, sizeof(sector));
		sector[0] = (uint8_t)s;
		assert_int_equal(pwrite(f->fd, sector, sizeof(sector), (off_t)(s * sizeof(sector))),
				 (ssize_t)sizeof(sector));
	}
	assert_int_equal(open_limited_disk(&f->blk, f->path, read_only, limiter, &d), 0);
	vd_init(&f->v);
	f->v.t = &f->t;
	irq = vd_irq(&f->v);
	virtio_blk_device(&f->blk, &f->t, &dev);
	assert_int_equal(virtio_mmio_init(&f->t, &dev, &f->v.mem, &irq, 0xd0000000), 0);
	return f;
}

static struct fixture *make(bool read_only, uint64_t size)
{
	return make_limited(read_only, size, NULL);
}

/* At most 2 requests a 100 ms (one each 50 ms), and 64 KiB a 100 ms. */
static const struct rate_limiter_config two_ops = {
	.ops = { .size = 2, .refill_time_ms = 100 },
	.bandwidth = { .size = 65536, .refill_time_ms = 100 },
};

static int setup_limited(void **state)
{
	*state = make_limited(false, DISK_SECTORS * VIRTIO_BLK_SECTOR_SIZE, &two_ops);
	return 0;
}

static int setup_rw(void **state)
{
	*state = make(false, DISK_SECTORS * VIRTIO_BLK_SECTOR_SIZE);
	return 0;
}

static int setup_ro(void **state)
{
	*state = make(true, DISK_SECTORS * VIRTIO_BLK_SECTOR_SIZE);
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	virtio_mmio_destroy(&f->t);
	virtio_blk_close(&f->blk);
	vd_free(&f->v);
	close(f->fd);
	unlink(f->path);
	free(f);
	return 0;
}

/* One request: header, an optional data buffer, status byte. Returns the status. */
static uint8_t request(struct fixture *f, uint32_t type, uint64_t sector, uint64_t data,
		       uint32_t len, bool data_write, uint32_t *used_len)
{
	struct virtio_blk_outhdr hdr = { .type = type, .sector = sector };
	struct vd_buf bufs[3] = { { HDR, sizeof(hdr), false } };
	unsigned int n = 1;
	uint32_t id, ulen;
	uint16_t head;

	memcpy(f->v.ram + HDR, &hdr, sizeof(hdr));
	f->v.ram[STATUS] = 0xff;
	if (len)
		bufs[n++] = (struct vd_buf){ data, len, data_write };
	bufs[n++] = (struct vd_buf){ STATUS, 1, true };
	head = vd_submit(&f->v, 0, bufs, n);
	assert_true(vd_used(&f->v, 0, &id, &ulen));
	assert_int_equal(id, head);
	if (used_len)
		*used_len = ulen;
	return f->v.ram[STATUS];
}

static void file_sector(struct fixture *f, uint64_t s, uint8_t *out)
{
	assert_int_equal(pread(f->fd, out, VIRTIO_BLK_SECTOR_SIZE, (off_t)(s * VIRTIO_BLK_SECTOR_SIZE)),
			 VIRTIO_BLK_SECTOR_SIZE);
}

static void identity_and_config(void **state)
{
	struct fixture *f = *state;
	uint64_t features = vd_device_features(&f->v);
	uint64_t capacity;
	uint8_t b;

	assert_int_equal(vd_read32(&f->v, VIRTIO_MMIO_MAGIC_VALUE), 0x74726976);
	assert_int_equal(vd_read32(&f->v, VIRTIO_MMIO_VERSION), 2);
	assert_int_equal(vd_read32(&f->v, VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_BLOCK);
	assert_true(features & (1ULL << VIRTIO_F_VERSION_1));
	assert_true(features & (1ULL << VIRTIO_BLK_F_FLUSH));
	assert_false(features & (1ULL << VIRTIO_BLK_F_RO));
	capacity = vd_read32(&f->v, VIRTIO_MMIO_CONFIG) |
		   (uint64_t)vd_read32(&f->v, VIRTIO_MMIO_CONFIG + 4) << 32;
	assert_int_equal(capacity, DISK_SECTORS);
	/* Byte-wide config reads work; past the config space reads 0. */
	virtio_mmio_bus_ops.read(&f->t, VIRTIO_MMIO_CONFIG, &b, 1);
	assert_int_equal(b, DISK_SECTORS);
	assert_int_equal(vd_read32(&f->v, 0xffc), 0);
	/* Registers are 32-bit: a narrower read gives 0. */
	virtio_mmio_bus_ops.read(&f->t, VIRTIO_MMIO_MAGIC_VALUE, &b, 1);
	assert_int_equal(b, 0);
	vd_write32(&f->v, VIRTIO_MMIO_QUEUE_SEL, 0);
	assert_int_equal(vd_read32(&f->v, VIRTIO_MMIO_QUEUE_NUM_MAX), VIRTQ_MAX_SIZE);
	vd_write32(&f->v, VIRTIO_MMIO_QUEUE_SEL, 1);
	assert_int_equal(vd_read32(&f->v, VIRTIO_MMIO_QUEUE_NUM_MAX), 0);
}

static void write_then_read(void **state)
{
	struct fixture *f = *state;
	uint8_t sector[VIRTIO_BLK_SECTOR_SIZE];
	uint32_t used;

	vd_start(&f->v, 1, false);
	for (int i = 0; i < 2 * VIRTIO_BLK_SECTOR_SIZE; i++)
		f->v.ram[DATA + i] = (uint8_t)(i * 7);
	assert_int_equal(request(f, VIRTIO_BLK_T_OUT, 3, DATA, 2 * VIRTIO_BLK_SECTOR_SIZE, false, &used),
			 VIRTIO_BLK_S_OK);
	assert_int_equal(used, 1);
	assert_true(f->v.irqs > 0);
	file_sector(f, 4, sector);
	assert_memory_equal(sector, f->v.ram + DATA + VIRTIO_BLK_SECTOR_SIZE, sizeof(sector));
	file_sector(f, 5, sector);
	assert_int_equal(sector[0], 5);

	memset(f->v.ram + DATA, 0, 4 * VIRTIO_BLK_SECTOR_SIZE);
	assert_int_equal(request(f, VIRTIO_BLK_T_IN, 2, DATA, 3 * VIRTIO_BLK_SECTOR_SIZE, true, &used),
			 VIRTIO_BLK_S_OK);
	assert_int_equal(used, 3 * VIRTIO_BLK_SECTOR_SIZE + 1);
	assert_int_equal(f->v.ram[DATA], 2);
	assert_int_equal(f->v.ram[DATA + VIRTIO_BLK_SECTOR_SIZE + 1], 7);
	assert_int_equal(f->v.ram[DATA + 2 * VIRTIO_BLK_SECTOR_SIZE + 511], (uint8_t)(1023 * 7));

	assert_int_equal(request(f, VIRTIO_BLK_T_FLUSH, 0, 0, 0, false, NULL), VIRTIO_BLK_S_OK);
	/* The last sector, and a zero-length read at the very end. */
	assert_int_equal(request(f, VIRTIO_BLK_T_IN, DISK_SECTORS - 1, DATA, VIRTIO_BLK_SECTOR_SIZE,
				 true, NULL), VIRTIO_BLK_S_OK);
	assert_int_equal(f->v.ram[DATA], DISK_SECTORS - 1);
}

static void scattered_buffers(void **state)
{
	struct fixture *f = *state;
	struct virtio_blk_outhdr hdr = { .type = VIRTIO_BLK_T_IN, .sector = 7 };
	/* Header split in two, data in three uneven pieces, the status byte sharing the last. */
	struct vd_buf bufs[] = {
		{ HDR, 10, false }, { HDR + 10, 6, false },
		{ DATA, 100, true }, { DATA + 0x1000, 400, true }, { DATA + 0x2000, 13, true },
	};
	uint32_t id, used;
	uint16_t head;

	vd_start(&f->v, 1, true);
	memcpy(f->v.ram + HDR, &hdr, sizeof(hdr));
	head = vd_submit(&f->v, 0, bufs, 5);
	assert_true(vd_used(&f->v, 0, &id, &used));
	assert_int_equal(id, head);
	assert_int_equal(used, 513);
	assert_int_equal(f->v.ram[DATA], 7);
	assert_int_equal(f->v.ram[DATA + 0x1000], 0xee);
	assert_int_equal(f->v.ram[DATA + 0x2000 + 11], 0xee);
	assert_int_equal(f->v.ram[DATA + 0x2000 + 12], VIRTIO_BLK_S_OK);

	/* The same through an indirect table. */
	memset(f->v.ram + DATA, 0, 0x3000);
	hdr.sector = 9;
	memcpy(f->v.ram + HDR, &hdr, sizeof(hdr));
	head = vd_submit_indirect(&f->v, 0, bufs, 5, VD_BUFS + 0x800);
	assert_true(vd_used(&f->v, 0, &id, &used));
	assert_int_equal(id, head);
	assert_int_equal(used, 513);
	assert_int_equal(f->v.ram[DATA], 9);
	assert_int_equal(f->v.ram[DATA + 0x2000 + 12], VIRTIO_BLK_S_OK);
}

static void read_only(void **state)
{
	struct fixture *f = *state;
	uint8_t sector[VIRTIO_BLK_SECTOR_SIZE];

	assert_true(vd_device_features(&f->v) & (1ULL << VIRTIO_BLK_F_RO));
	vd_start(&f->v, 1, false);
	memset(f->v.ram + DATA, 0x55, VIRTIO_BLK_SECTOR_SIZE);
	assert_int_equal(request(f, VIRTIO_BLK_T_OUT, 1, DATA, VIRTIO_BLK_SECTOR_SIZE, false, NULL),
			 VIRTIO_BLK_S_IOERR);
	file_sector(f, 1, sector);
	assert_int_equal(sector[0], 1);
	assert_int_equal(sector[1], 0xee);
	assert_int_equal(request(f, VIRTIO_BLK_T_IN, 1, DATA, VIRTIO_BLK_SECTOR_SIZE, true, NULL),
			 VIRTIO_BLK_S_OK);
	assert_int_equal(f->v.ram[DATA], 1);
	assert_int_equal(request(f, VIRTIO_BLK_T_FLUSH, 0, 0, 0, false, NULL), VIRTIO_BLK_S_OK);
}

static void bad_requests(void **state)
{
	struct fixture *f = *state;
	uint8_t sector[VIRTIO_BLK_SECTOR_SIZE];
	char id[VIRTIO_BLK_ID_BYTES] = "disk-1";
	uint32_t used;

	vd_start(&f->v, 1, false);
	/* Past the end, straddling it, and a sector number that overflows. */
	assert_int_equal(request(f, VIRTIO_BLK_T_IN, DISK_SECTORS, DATA, 512, true, &used),
			 VIRTIO_BLK_S_IOERR);
	assert_int_equal(used, 1);
	assert_int_equal(request(f, VIRTIO_BLK_T_OUT, DISK_SECTORS - 1, DATA, 1024, false, NULL),
			 VIRTIO_BLK_S_IOERR);
	assert_int_equal(request(f, VIRTIO_BLK_T_OUT, UINT64_MAX, DATA, 512, false, NULL),
			 VIRTIO_BLK_S_IOERR);
	assert_int_equal(request(f, VIRTIO_BLK_T_IN, UINT64_MAX / 512 + 1, DATA, 512, true, NULL),
			 VIRTIO_BLK_S_IOERR);
	file_sector(f, DISK_SECTORS - 1, sector);
	assert_int_equal(sector[0], DISK_SECTORS - 1);
	/* Not whole sectors. */
	assert_int_equal(request(f, VIRTIO_BLK_T_OUT, 0, DATA, 100, false, NULL), VIRTIO_BLK_S_IOERR);
	assert_int_equal(request(f, VIRTIO_BLK_T_IN, 0, DATA, 513, true, NULL), VIRTIO_BLK_S_IOERR);
	/* Unknown and unsupported types. */
	assert_int_equal(request(f, 0x1234, 0, 0, 0, false, NULL), VIRTIO_BLK_S_UNSUPP);
	assert_int_equal(request(f, VIRTIO_BLK_T_DISCARD, 0, DATA, 16, false, NULL), VIRTIO_BLK_S_UNSUPP);
	/* GET_ID, into a buffer of 20 bytes and into a short one. */
	memset(f->v.ram + DATA, 0xaa, 32);
	assert_int_equal(request(f, VIRTIO_BLK_T_GET_ID, 0, DATA, VIRTIO_BLK_ID_BYTES, true, &used),
			 VIRTIO_BLK_S_OK);
	assert_int_equal(used, VIRTIO_BLK_ID_BYTES + 1);
	assert_memory_equal(f->v.ram + DATA, id, VIRTIO_BLK_ID_BYTES);
	assert_int_equal(request(f, VIRTIO_BLK_T_GET_ID, 0, DATA, 4, true, &used), VIRTIO_BLK_S_OK);
	assert_int_equal(used, 5);

	/* A header shorter than 16 bytes. */
	{
		struct vd_buf bufs[] = { { HDR, 8, false }, { STATUS, 1, true } };
		uint32_t uid;

		f->v.ram[STATUS] = 0xff;
		vd_submit(&f->v, 0, bufs, 2);
		assert_true(vd_used(&f->v, 0, &uid, &used));
		assert_int_equal(f->v.ram[STATUS], VIRTIO_BLK_S_IOERR);
	}
	/* No writable byte for the status: handed back untouched. */
	{
		struct vd_buf bufs[] = { { HDR, 16, false }, { DATA, 512, false } };
		uint32_t uid;

		vd_submit(&f->v, 0, bufs, 2);
		assert_true(vd_used(&f->v, 0, &uid, &used));
		assert_int_equal(used, 0);
	}
	/* A buffer outside guest RAM: the chain is returned empty, the device goes on. */
	{
		struct vd_buf bufs[] = { { HDR, 16, false }, { VD_RAM - 256, 512, true }, { STATUS, 1, true } };
		uint32_t uid;

		f->v.ram[STATUS] = 0xff;
		vd_submit(&f->v, 0, bufs, 3);
		assert_true(vd_used(&f->v, 0, &uid, &used));
		assert_int_equal(used, 0);
		assert_int_equal(f->v.ram[STATUS], 0xff);
	}
	assert_int_equal(request(f, VIRTIO_BLK_T_IN, 3, DATA, 512, true, NULL), VIRTIO_BLK_S_OK);
	assert_int_equal(f->v.ram[DATA], 3);
	assert_false(vd_read32(&f->v, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET);
}

static void broken_ring_needs_reset(void **state)
{
	struct fixture *f = *state;
	uint64_t avail = VD_RINGS(0) + 0x1000;
	uint16_t idx = 100;
	unsigned int irqs;
	uint32_t id, len;

	vd_start(&f->v, 1, false);
	/* The driver claims 100 new chains in a queue of 16. */
	memcpy(f->v.ram + avail + 2, &idx, 2);
	irqs = f->v.irqs;
	vd_notify(&f->v, 0);
	assert_true(vd_read32(&f->v, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET);
	assert_true(vd_read32(&f->v, VIRTIO_MMIO_INTERRUPT_STATUS) & VIRTIO_MMIO_INT_CONFIG);
	assert_true(f->v.irqs > irqs);
	assert_false(vd_used(&f->v, 0, &id, &len));
	/* Until a reset, the device does nothing more. */
	idx = 0;
	memcpy(f->v.ram + avail + 2, &idx, 2);
	f->v.avail_idx[0] = 0;
	{
		struct virtio_blk_outhdr hdr = { .type = VIRTIO_BLK_T_IN, .sector = 1 };
		struct vd_buf bufs[] = { { HDR, 16, false }, { DATA, 512, true }, { STATUS, 1, true } };

		memcpy(f->v.ram + HDR, &hdr, sizeof(hdr));
		vd_submit(&f->v, 0, bufs, 3);
		assert_false(vd_used(&f->v, 0, &id, &len));
	}
	/* A reset and a fresh start bring it back. */
	vd_start(&f->v, 1, false);
	assert_false(vd_read32(&f->v, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET);
	vd_write32(&f->v, VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_MMIO_INT_CONFIG | VIRTIO_MMIO_INT_VRING);
	assert_int_equal(vd_read32(&f->v, VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	assert_int_equal(request(f, VIRTIO_BLK_T_IN, 1, DATA, 512, true, NULL), VIRTIO_BLK_S_OK);
	assert_int_equal(f->v.ram[DATA], 1);
}

static void protocol_errors(void **state)
{
	struct fixture *f = *state;
	uint32_t status;

	/* Features never offered, or without VERSION_1: FEATURES_OK does not stick. */
	assert_false(vd_negotiate(&f->v, 1ULL << 40));
	assert_false(vd_negotiate(&f->v, 1ULL << VIRTIO_BLK_F_FLUSH));
	assert_true(vd_negotiate(&f->v, (1ULL << VIRTIO_F_VERSION_1) | (1ULL << VIRTIO_BLK_F_FLUSH)));
	/* Clearing a status bit without a reset is ignored. */
	status = vd_read32(&f->v, VIRTIO_MMIO_STATUS);
	vd_write32(&f->v, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE);
	assert_int_equal(vd_read32(&f->v, VIRTIO_MMIO_STATUS), status);
	/* Features cannot change after FEATURES_OK. */
	vd_write32(&f->v, VIRTIO_MMIO_DRIVER_FEATURES, 0);
	assert_int_equal(f->t.driver_features & 1ULL << VIRTIO_BLK_F_FLUSH, 1ULL << VIRTIO_BLK_F_FLUSH);

	/* A queue size that is not a power of two: the device needs a reset. */
	vd_setup_queue(&f->v, 0, 12);
	assert_int_equal(vd_read32(&f->v, VIRTIO_MMIO_QUEUE_READY), 0);
	assert_true(vd_read32(&f->v, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET);

	/* Rings outside guest RAM. */
	assert_true(vd_negotiate(&f->v, 1ULL << VIRTIO_F_VERSION_1));
	vd_write32(&f->v, VIRTIO_MMIO_QUEUE_SEL, 0);
	vd_write32(&f->v, VIRTIO_MMIO_QUEUE_NUM, 16);
	vd_write32(&f->v, VIRTIO_MMIO_QUEUE_DESC_LOW, 0);
	vd_write32(&f->v, VIRTIO_MMIO_QUEUE_DESC_HIGH, 1);
	vd_write32(&f->v, VIRTIO_MMIO_QUEUE_READY, 1);
	assert_int_equal(vd_read32(&f->v, VIRTIO_MMIO_QUEUE_READY), 0);
	assert_true(vd_read32(&f->v, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET);

	/* Once ready, the layout is frozen: moving the rings is ignored. */
	assert_true(vd_negotiate(&f->v, 1ULL << VIRTIO_F_VERSION_1));
	vd_setup_queue(&f->v, 0, 16);
	vd_driver_ok(&f->v);
	vd_write32(&f->v, VIRTIO_MMIO_QUEUE_DESC_LOW, 0x7fff0000);
	vd_write32(&f->v, VIRTIO_MMIO_QUEUE_NUM, 3);
	assert_int_equal(f->t.queues[0].desc, VD_RINGS(0));
	assert_int_equal(f->t.queues[0].size, 16);
	assert_int_equal(request(f, VIRTIO_BLK_T_IN, 2, DATA, 512, true, NULL), VIRTIO_BLK_S_OK);
	/* Notifying a queue that does not exist, and odd-sized register writes, change nothing. */
	vd_notify(&f->v, 7);
	{
		uint8_t one = 0;

		virtio_mmio_bus_ops.write(&f->t, VIRTIO_MMIO_STATUS, &one, 1);
	}
	assert_false(vd_read32(&f->v, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET);
	assert_true(vd_read32(&f->v, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_DRIVER_OK);
	/* Writing 0 to QueueReady takes the queue down. */
	vd_write32(&f->v, VIRTIO_MMIO_QUEUE_READY, 0);
	assert_int_equal(vd_read32(&f->v, VIRTIO_MMIO_QUEUE_READY), 0);
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Offers a one-sector read of sector s into DATA and notifies. */
static void offer_read(struct fixture *f, uint64_t s)
{
	struct virtio_blk_outhdr hdr = { .type = VIRTIO_BLK_T_IN, .sector = s };
	const struct vd_buf bufs[] = { { HDR, sizeof(hdr), false }, { DATA, VIRTIO_BLK_SECTOR_SIZE, true },
				       { STATUS, 1, true } };

	memcpy(f->v.ram + HDR, &hdr, sizeof(hdr));
	vd_submit(&f->v, 0, bufs, 3);
}

/*
 * Over its limit a request stays in the ring; notifying again serves nothing; the
 * limiter's timer, in the I/O loop, serves it once it fits; new limits apply at once.
 */
static void rate_limited(void **state)
{
	struct fixture *f = *state;
	struct drive_config next = { .path = f->path, .id = "disk-1" };
	struct iothread io;
	uint32_t id, len;
	uint64_t t0;
	struct diag d;

	vd_start(&f->v, 1, false);
	assert_int_equal(iothread_init(&io), 0);
	assert_int_equal(virtio_blk_device_ops.watch(&f->blk, &io), 0);
	t0 = now_ms();
	offer_read(f, 1);
	offer_read(f, 2);
	assert_true(vd_used(&f->v, 0, &id, &len));
	assert_true(vd_used(&f->v, 0, &id, &len));
	offer_read(f, 3);
	assert_false(vd_used(&f->v, 0, &id, &len));
	vd_notify(&f->v, 0);
	vd_notify(&f->v, 0);
	assert_false(vd_used(&f->v, 0, &id, &len));
	assert_int_equal(atomic_load(&f->t.stats.throttled), 3);
	/* Only the timer brings it: one op refills in 50 ms. */
	while (!vd_used(&f->v, 0, &id, &len))
		assert_int_equal(iothread_poll(&io, 1000), 0);
	assert_true(now_ms() - t0 >= 45);
	assert_int_equal(len, VIRTIO_BLK_SECTOR_SIZE + 1);
	assert_int_equal(f->v.ram[DATA], 3);
	/* The next one waits for its op too. */
	offer_read(f, 4);
	assert_false(vd_used(&f->v, 0, &id, &len));
	/* PATCH: no limit any more; the waiting request goes at once, and all after it. */
	assert_int_equal(virtio_blk_device_ops.update(&f->blk, &next, DEVICE_CHANGE_LIMITS, &d), 0);
	assert_int_equal(iothread_poll(&io, 1000), 0);
	assert_true(vd_used(&f->v, 0, &id, &len));
	for (uint64_t s = 0; s < 20; s++) {
		offer_read(f, s);
		assert_true(vd_used(&f->v, 0, &id, &len));
	}
	iothread_destroy(&io);
}

static void empty_and_odd_images(void **state)
{
	struct virtio_blk blk;
	struct diag d;
	char path[] = "/tmp/test_virtio_blk.XXXXXX";
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(open_disk(&blk, path, false, &d), 0);
	assert_int_equal(blk.sectors, 0);
	virtio_blk_close(&blk);
	assert_int_equal(ftruncate(fd, 1000), 0);
	assert_int_equal(open_disk(&blk, path, true, &d), 0);
	assert_int_equal(blk.sectors, 1);
	virtio_blk_close(&blk);
	close(fd);
	unlink(path);
	assert_int_equal(open_disk(&blk, path, false, &d), -ENOENT);
	assert_non_null(strstr(d.msg, "cannot open"));
	assert_int_equal(open_disk(&blk, "/dev/null", true, &d), -EINVAL);
	assert_non_null(strstr(d.msg, "not a regular file"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(identity_and_config, setup_rw, teardown),
		cmocka_unit_test_setup_teardown(write_then_read, setup_rw, teardown),
		cmocka_unit_test_setup_teardown(scattered_buffers, setup_rw, teardown),
		cmocka_unit_test_setup_teardown(read_only, setup_ro, teardown),
		cmocka_unit_test_setup_teardown(bad_requests, setup_rw, teardown),
		cmocka_unit_test_setup_teardown(broken_ring_needs_reset, setup_rw, teardown),
		cmocka_unit_test_setup_teardown(protocol_errors, setup_rw, teardown),
		cmocka_unit_test(empty_and_odd_images),
		cmocka_unit_test_setup_teardown(rate_limited, setup_limited, teardown),
	};

	/* The guest errors the tests provoke are logged as warnings: keep the output to failures. */
	log_init("test_virtio_blk", LOG_ERROR);
	return cmocka_run_group_tests_name("virtio_blk", tests, NULL, NULL);
}
