#include "microvm/image.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "microvm/cleanup.h"

int image_open(struct image *img, const char *path, struct diag *d)
{
	cleanup_fd int fd = -1;
	struct stat st;

	memset(img, 0, sizeof(*img));
	img->fd = -1;
	/* O_NONBLOCK so that opening a FIFO never waits for a writer. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return diag_fail_errno(d, -errno, "%s: cannot open: %s", path, strerror(errno));
	if (fstat(fd, &st) < 0)
		return diag_fail_errno(d, -errno, "%s: cannot stat: %s", path, strerror(errno));
	if (S_ISDIR(st.st_mode))
		return diag_fail(d, "%s: is a directory, not a regular file", path);
	if (!S_ISREG(st.st_mode))
		return diag_fail(d, "%s: is not a regular file (a device, FIFO or socket)", path);
	if (st.st_size == 0)
		return diag_fail(d, "%s: file size 0: the file is empty", path);
	img->name = path;
	img->size = (uint64_t)st.st_size;
	img->fd = steal_fd(&fd);
	return 0;
}

void image_from_buffer(struct image *img, const char *name, const void *data, size_t size)
{
	img->name = name;
	img->size = size;
	img->fd = -1;
	img->data = data;
}

void image_close(struct image *img)
{
	if (img->fd >= 0)
		close(img->fd);
	memset(img, 0, sizeof(*img));
	img->fd = -1;
}

bool image_contains(const struct image *img, uint64_t off, uint64_t len)
{
	uint64_t end;

	return !add_overflows_u64(off, len, &end) && end <= img->size;
}

/* Exact pread loop: a file that shrank under us gives a short read, which is an error. */
static int image_pread_exact(int fd, uint8_t *dst, uint64_t len, uint64_t off)
{
	while (len > 0) {
		size_t chunk = len > (1U << 30) ? (1U << 30) : (size_t)len;
		ssize_t n = pread(fd, dst, chunk, (off_t)off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EIO;
		dst += n;
		len -= (uint64_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

int image_read(const struct image *img, uint64_t off, void *dst, uint64_t len)
{
	if (!image_contains(img, off, len) || off > INT64_MAX)
		return -EIO;
	if (len == 0)
		return 0;
	if (img->fd < 0) {
		memcpy(dst, img->data + off, len);
		return 0;
	}
	return image_pread_exact(img->fd, dst, len, off);
}

int image_read_to_gmem(const struct image *img, uint64_t off, const struct gmem *mem,
		       uint64_t gpa, uint64_t len)
{
	void *dst;

	if (len == 0)
		return 0;
	dst = gmem_ptr(mem, gpa, len);
	if (!dst)
		return -EFAULT;
	return image_read(img, off, dst, len);
}
