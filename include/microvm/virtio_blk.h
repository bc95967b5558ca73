/*
 * virtio-blk over a raw disk image: reads and writes with pread/pwrite straight into
 * guest memory, flush with fdatasync, the capacity from the file size. A read-only
 * drive fails writes with VIRTIO_BLK_S_IOERR; requests past the end of the disk, or
 * not in whole sectors, fail the same way. Requests are served synchronously, in the
 * thread that notifies the queue (a vCPU's); those the drive's rate limiter held back,
 * in the I/O thread when its timer fires.
 */
#ifndef MICROVM_VIRTIO_BLK_H
#define MICROVM_VIRTIO_BLK_H

#include <linux/virtio_blk.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "microvm/compiler.h"
#include "microvm/device_ops.h"
#include "microvm/diag.h"
#include "microvm/throttle.h"
#include "microvm/virtio_mmio.h"

#define VIRTIO_BLK_SECTOR_SIZE 512

struct virtio_blk {
	int fd;
	bool read_only;
	uint64_t sectors;
	char id[VIRTIO_BLK_ID_BYTES];   /* GET_ID's answer, NUL-padded */
	struct virtio_blk_config config;
	struct virtio_mmio *t;
	struct iovec iov[VIRTQ_MAX_SEGS];
	unsigned int host_errors_logged;
	struct throttle throttle;       /* bytes read or written, requests */
};

/*
 * The kind's struct device_ops (virtio_blk_device_ops), dev a struct virtio_blk:
 * open makes a regular file the disk, from a struct drive_config (src/config/drive.h)
 * whose id (at most VIRTIO_BLK_ID_BYTES) answers GET_ID.
 */
extern const struct device_ops virtio_blk_device_ops;
MUST_CHECK int virtio_blk_open(void *dev, const void *config, struct diag *d);
void virtio_blk_close(void *dev);
/* The device model to give the transport t, which it serves through. */
void virtio_blk_device(void *dev, struct virtio_mmio *t, struct virtio_device *out);

#endif
