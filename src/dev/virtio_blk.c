#include "microvm/virtio_blk.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/virtio_ids.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/drive.h"
#include "microvm/cleanup.h"
#include "microvm/log.h"

/* Data buffers per request besides the header and the status byte: fills one queue. */
#define VIRTIO_BLK_SEG_MAX (VIRTQ_MAX_SEGS - 2)
#define VIRTIO_BLK_HOST_ERRORS_LOGGED 8

_Static_assert(DRIVE_ID_MAX <= VIRTIO_BLK_ID_BYTES, "a drive id fits GET_ID's answer");

/* Opens a drive's image: a regular file; *sectors its size. */
static int virtio_blk_open_image(const struct drive_config *c, int *out, uint64_t *sectors,
				 struct diag *d)
{
	const char *path = c->path;
	cleanup_fd int fd = open(path, (c->read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	struct stat st;

	if (fd < 0)
		return diag_fail_errno(d, -errno, "--drive %s: cannot open: %s", path, strerror(errno));
	if (fstat(fd, &st) < 0)
		return diag_fail_errno(d, -errno, "--drive %s: cannot stat: %s", path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return diag_fail(d, "--drive %s: not a regular file (a raw disk image)", path);
	if (st.st_size % VIRTIO_BLK_SECTOR_SIZE)
		log_warn("--drive %s: size %lld is not a multiple of %d bytes; the last %lld bytes are not used",
			 path, (long long)st.st_size, VIRTIO_BLK_SECTOR_SIZE,
			 (long long)(st.st_size % VIRTIO_BLK_SECTOR_SIZE));
	*sectors = (uint64_t)st.st_size / VIRTIO_BLK_SECTOR_SIZE;
	*out = steal_fd(&fd);
	return 0;
}

int virtio_blk_open(void *dev, const void *config, struct diag *d)
{
	struct virtio_blk *b = dev;
	const struct drive_config *c = config;
	int ret;

	memset(b, 0, sizeof(*b));
	b->fd = -1;
	ret = virtio_blk_open_image(c, &b->fd, &b->sectors, d);
	if (ret)
		return ret;
	ret = throttle_open(&b->throttle, &c->limiter, d);
	if (ret) {
		close(b->fd);
		return ret;
	}
	b->read_only = c->read_only;
	memcpy(b->id, c->id, strlen(c->id)); /* NUL-padded by the memset */
	b->config.capacity = htole64(b->sectors);
	b->config.seg_max = htole32(VIRTIO_BLK_SEG_MAX);
	return 0;
}

/*
 * A new medium in the drive (Kata's hot-plug through placeholder drives): requests are
 * served under the transport's lock, so none sees half a swap; the driver learns the
 * new capacity through a config change. Read-only stays as the drive was made, since
 * the driver read that feature once. A new rate limiter starts full.
 */
static int virtio_blk_update(void *dev, const void *config, unsigned int changes, struct diag *d)
{
	struct virtio_blk *b = dev;
	struct drive_config c = *(const struct drive_config *)config;
	uint64_t sectors;
	int fd = -1, ret;

	c.read_only = b->read_only;
	if (changes & DEVICE_CHANGE_MEDIUM) {
		ret = virtio_blk_open_image(&c, &fd, &sectors, d);
		if (ret)
			return ret;
	}
	virtio_mmio_lock(b->t);
	if (changes & DEVICE_CHANGE_MEDIUM) {
		close(b->fd);
		b->fd = fd;
		b->sectors = sectors;
		b->config.capacity = htole64(sectors);
		virtio_mmio_config_changed(b->t);
	}
	if (changes & DEVICE_CHANGE_LIMITS)
		throttle_set(&b->throttle, &c.limiter);
	virtio_mmio_unlock(b->t);
	if (changes & DEVICE_CHANGE_MEDIUM)
		log_info("virtio-blk at 0x%llx: new medium %s, %llu sectors", (unsigned long long)b->t->base,
			 c.path, (unsigned long long)sectors);
	return 0;
}

void virtio_blk_close(void *dev)
{
	struct virtio_blk *b = dev;

	if (b->fd >= 0)
		close(b->fd);
	b->fd = -1;
	throttle_close(&b->throttle);
}

static void virtio_blk_host_error(struct virtio_blk *b, const char *what, int err)
{
	if (b->host_errors_logged >= VIRTIO_BLK_HOST_ERRORS_LOGGED)
		return;
	b->host_errors_logged++;
	log_warn("virtio-blk at 0x%llx: %s: %s%s", (unsigned long long)b->t->base, what, strerror(err),
		 b->host_errors_logged == VIRTIO_BLK_HOST_ERRORS_LOGGED ? "; not logging further ones" : "");
}

/* Moves every piece of iov to or from the disk at byte offset pos; 0 or -errno. */
static int virtio_blk_transfer(struct virtio_blk *b, bool write, int n, uint64_t pos)
{
	for (int i = 0; i < n; i++) {
		uint8_t *p = b->iov[i].iov_base;
		size_t left = b->iov[i].iov_len;

		while (left > 0) {
			ssize_t r = write ? pwrite(b->fd, p, left, (off_t)pos)
					  : pread(b->fd, p, left, (off_t)pos);

			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0)
				return -errno;
			if (r == 0)
				return -EIO; /* the image shrank under us */
			p += r;
			left -= (size_t)r;
			pos += (uint64_t)r;
		}
	}
	return 0;
}

/* IN and OUT: len data bytes at offset off of the chain's writable or readable part. */
static uint8_t virtio_blk_rw(struct virtio_blk *b, const struct virtq_chain *c, bool write,
			     uint64_t sector, uint64_t off, uint64_t len)
{
	uint64_t count = len / VIRTIO_BLK_SECTOR_SIZE;
	int n, ret;

	if (write && b->read_only)
		return VIRTIO_BLK_S_IOERR;
	if (len % VIRTIO_BLK_SECTOR_SIZE) {
		virtio_mmio_guest_error(b->t, "request of %llu bytes, not whole sectors",
					(unsigned long long)len);
		return VIRTIO_BLK_S_IOERR;
	}
	if (sector > b->sectors || count > b->sectors - sector) {
		virtio_mmio_guest_error(b->t, "request for sectors %llu+%llu past the end (%llu)",
					(unsigned long long)sector, (unsigned long long)count,
					(unsigned long long)b->sectors);
		return VIRTIO_BLK_S_IOERR;
	}
	n = virtq_chain_map(c, b->t->mem, write ? VIRTQ_READ : VIRTQ_WRITE, off, len, b->iov,
			    VIRTQ_MAX_SEGS);
	if (n < 0)
		return VIRTIO_BLK_S_IOERR;
	ret = virtio_blk_transfer(b, write, n, sector * VIRTIO_BLK_SECTOR_SIZE);
	if (ret) {
		virtio_blk_host_error(b, write ? "write" : "read", -ret);
		return VIRTIO_BLK_S_IOERR;
	}
	return VIRTIO_BLK_S_OK;
}

/* Serves one request; returns the bytes written to the chain (data, then the status byte). */
static uint32_t virtio_blk_request(void *ctx, const struct virtq_chain *c)
{
	struct virtio_blk *b = ctx;
	const struct gmem *mem = b->t->mem;
	struct virtio_blk_outhdr hdr;
	uint64_t data_len = 0, in_len;
	uint8_t status;

	if (c->write_len == 0) {
		virtio_mmio_guest_error(b->t, "request %u has no status byte", c->head);
		return 0;
	}
	in_len = c->write_len - 1;
	if (virtq_chain_read(c, mem, 0, &hdr, sizeof(hdr))) {
		virtio_mmio_guest_error(b->t, "request %u: header shorter than %zu bytes", c->head,
					sizeof(hdr));
		status = VIRTIO_BLK_S_IOERR;
	} else {
		switch (le32toh(hdr.type)) {
		case VIRTIO_BLK_T_IN:
			status = virtio_blk_rw(b, c, false, le64toh(hdr.sector), 0, in_len);
			data_len = status == VIRTIO_BLK_S_OK ? in_len : 0;
			break;
		case VIRTIO_BLK_T_OUT:
			status = virtio_blk_rw(b, c, true, le64toh(hdr.sector), sizeof(hdr),
					       c->read_len - sizeof(hdr));
			break;
		case VIRTIO_BLK_T_FLUSH:
			status = VIRTIO_BLK_S_OK;
			if (!b->read_only && fdatasync(b->fd) < 0) {
				virtio_blk_host_error(b, "flush", errno);
				status = VIRTIO_BLK_S_IOERR;
			}
			break;
		case VIRTIO_BLK_T_GET_ID:
			data_len = in_len < VIRTIO_BLK_ID_BYTES ? in_len : VIRTIO_BLK_ID_BYTES;
			status = virtq_chain_write(c, mem, 0, b->id, data_len) ? VIRTIO_BLK_S_IOERR
									       : VIRTIO_BLK_S_OK;
			break;
		default:
			status = VIRTIO_BLK_S_UNSUPP;
			break;
		}
	}
	/* The last writable byte exists (write_len > 0), so this cannot fail. */
	if (virtq_chain_write(c, mem, in_len, &status, 1))
		return 0;
	return data_len < UINT32_MAX ? (uint32_t)data_len + 1 : UINT32_MAX;
}

/* One request and its data bytes (all but the 16-byte header and the status byte) for the limiter. */
static bool virtio_blk_admit(void *ctx, const struct virtq_chain *c)
{
	struct virtio_blk *b = ctx;
	uint64_t bytes = (c->read_len > sizeof(struct virtio_blk_outhdr)
				  ? c->read_len - sizeof(struct virtio_blk_outhdr) : 0) +
			 (c->write_len ? c->write_len - 1 : 0);

	return throttle_admit(&b->throttle, b->t, 1, bytes);
}

static void virtio_blk_notify(void *ctx, unsigned int queue)
{
	struct virtio_blk *b = ctx;

	virtio_mmio_drain_admitted(b->t, queue, virtio_blk_admit, virtio_blk_request, b);
}

/* The rate limiter's timer fired (the I/O thread): serve what waited. */
static void virtio_blk_resume(void *ctx)
{
	struct virtio_blk *b = ctx;

	virtio_mmio_lock(b->t);
	if (virtio_mmio_queue_live(b->t, 0))
		virtio_blk_notify(b, 0);
	virtio_mmio_unlock(b->t);
}

static int virtio_blk_watch(void *dev, struct iothread *io)
{
	struct virtio_blk *b = dev;

	return throttle_watch(&b->throttle, io, virtio_blk_resume, b);
}

static const struct virtio_device_ops virtio_blk_ops = {
	.name = "virtio-blk",
	.device_id = VIRTIO_ID_BLOCK,
	.nr_queues = 1,
	.notify = virtio_blk_notify,
};

void virtio_blk_device(void *dev, struct virtio_mmio *t, struct virtio_device *out)
{
	struct virtio_blk *b = dev;

	b->t = t;
	*out = (struct virtio_device){
		.ops = &virtio_blk_ops,
		.ctx = b,
		.features = (1ULL << VIRTIO_BLK_F_SEG_MAX) | (1ULL << VIRTIO_BLK_F_FLUSH) |
			    (b->read_only ? 1ULL << VIRTIO_BLK_F_RO : 0),
		.config = &b->config,
		.config_size = sizeof(b->config),
	};
}

/* Requests the limiter held back before the snapshot are served again (throttle_restore). */
static int virtio_blk_restore(void *dev, const struct snapshot *s, unsigned int slot, const char **why)
{
	struct virtio_blk *b = dev;

	(void)s;
	(void)slot;
	(void)why;
	throttle_restore(&b->throttle);
	return 0;
}

const struct device_ops virtio_blk_device_ops = {
	/* Requests in the notifying vCPU; those a rate limiter held back, in the I/O thread. */
	.threads = DEVICE_THREAD_VCPU | DEVICE_THREAD_IO,
	.size = sizeof(struct virtio_blk),
	.open = virtio_blk_open,
	.attach = virtio_blk_device,
	.watch = virtio_blk_watch,
	.update = virtio_blk_update,
	.restore = virtio_blk_restore,
	.close = virtio_blk_close,
};
