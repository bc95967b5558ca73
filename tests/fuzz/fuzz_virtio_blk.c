/*
 * virtio-blk's request parsing behind its transport, driven by a hostile driver
 * (virtio_script.h). The disk is a memfd opened by path, as --drive opens a file.
 *
 * Header fields: flags bit 1 opens the disk read-only; device_arg % 64 KiB + 1
 * is the disk's size in bytes (any size: a partial last sector is not used).
 * Host event: the image shrinks or grows under the device to value % 64 KiB + 1
 * bytes, as when another process truncates it.
 *
 * Checked besides the transport's invariants: the device never writes past
 * the capacity it announced (it may grow an image the host shrank, as any
 * VMM would, up to that), and a read-only image keeps its size and bytes.
 */
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config/drive.h"
#include "microvm/virtio_blk.h"
#include "virtio_script.h"

#define FUZZ_BLK_READ_ONLY (1U << 1)
#define FUZZ_BLK_DISK_MAX (64U * 1024)

static struct {
	int fd;               /* the image, kept across inputs and refilled for each */
	char path[64];
	off_t size;           /* the image's size as the host left it */
	off_t capacity;       /* the bytes the device announced: whole sectors at open */
	bool read_only;
	struct virtio_blk blk;
	uint8_t content[FUZZ_BLK_DISK_MAX + 1];
} disk;

/* Sector n's bytes are n + their offset: a read of the wrong sector shows. */
static void fill(off_t size)
{
	for (off_t i = 0; i < size; i++)
		disk.content[i] = (uint8_t)(i / VIRTIO_BLK_SECTOR_SIZE + i);
	memset(disk.content + size, 0, sizeof(disk.content) - (size_t)size);
	FUZZ_CHECK(ftruncate(disk.fd, 0) == 0 && ftruncate(disk.fd, size) == 0);
	FUZZ_CHECK(pwrite(disk.fd, disk.content, (size_t)size, 0) == size);
	disk.size = size;
}

static void blk_init(void)
{
	disk.fd = memfd_create("fuzz-virtio-blk", MFD_CLOEXEC);
	FUZZ_CHECK(disk.fd >= 0);
	snprintf(disk.path, sizeof(disk.path), "/proc/self/fd/%d", disk.fd);
}

static void blk_open(const struct virtio_script_header *h, struct virtio_mmio *t,
		     struct virtio_device *dev)
{
	struct diag d;

	fill(h->device_arg % (FUZZ_BLK_DISK_MAX + 1));
	disk.capacity = disk.size / VIRTIO_BLK_SECTOR_SIZE * VIRTIO_BLK_SECTOR_SIZE;
	disk.read_only = h->flags & FUZZ_BLK_READ_ONLY;
	FUZZ_CHECK(virtio_blk_open(&disk.blk, &(struct drive_config){ .path = disk.path,
								     .read_only = disk.read_only,
								     .id = "fuzz-disk" },
				   &d) == 0);
	virtio_blk_device(&disk.blk, t, dev);
}

static void blk_host(const struct virtio_script_op *op)
{
	disk.size = op->value % (FUZZ_BLK_DISK_MAX + 1);
	FUZZ_CHECK(ftruncate(disk.fd, disk.size) == 0);
	/* What the image holds now: its old bytes up to the new size, zeros past the old end. */
	memset(disk.content + disk.size, 0, sizeof(disk.content) - (size_t)disk.size);
}

static void blk_close(void)
{
	static uint8_t now[FUZZ_BLK_DISK_MAX + 1];
	off_t end;

	virtio_blk_close(&disk.blk);
	end = lseek(disk.fd, 0, SEEK_END);
	/* Writes within the capacity may grow an image the host shrank, never past it. */
	FUZZ_CHECK(end == disk.size || (end > disk.size && end <= disk.capacity));
	if (disk.read_only) {
		FUZZ_CHECK(end == disk.size);
		FUZZ_CHECK(pread(disk.fd, now, (size_t)disk.size, 0) == disk.size);
		FUZZ_CHECK(memcmp(now, disk.content, (size_t)disk.size) == 0);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct virtio_script_device blk = {
		.init = blk_init,
		.open = blk_open,
		.host = blk_host,
		.close = blk_close,
	};

	virtio_script_run(&blk, data, size);
	return 0;
}
