#include "snapshot/file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int snapshot_decode(const uint8_t *buf, size_t len, struct snapshot **out, struct diag *d)
{
	struct snapfmt_view *v = malloc(sizeof(*v));
	/*
	 * calloc, not a memset in the decoder: 1.3 MB for 64 vCPUs, zero pages from mmap that
	 * stay untouched where the snapshot has no vCPU (the memset cost 0.9 ms of a restore).
	 */
	struct snapshot *s = calloc(1, sizeof(*s));
	int ret;

	if (!v || !s) {
		free(v);
		free(s);
		return diag_fail_errno(d, -ENOMEM, "out of memory");
	}
	ret = snapfmt_parse(buf, len, v, d);
	if (!ret)
		ret = snapstate_decode(v, s, d);
	free(v);
	if (ret) {
		free(s);
		return ret;
	}
	*out = s;
	return 0;
}

/* Reads the whole regular file fd of size bytes into *buf. */
static int snapshot_slurp(int fd, size_t size, uint8_t **buf)
{
	size_t done = 0;

	*buf = malloc(size ? size : 1);
	if (!*buf)
		return -ENOMEM;
	while (done < size) {
		ssize_t n = read(fd, *buf + done, size - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			free(*buf);
			return n < 0 ? -errno : -EIO;  /* shrank under us */
		}
		done += (size_t)n;
	}
	return 0;
}

int snapshot_read(const char *path, struct snapshot **out, struct diag *d)
{
	struct diag why;
	struct stat st;
	uint8_t *buf;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY), ret;

	if (fd < 0)
		return diag_fail_errno(d, -errno, "snapshot %s: %s", path, strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > SNAPFMT_MAX_SIZE) {
		close(fd);
		return diag_fail(d, "snapshot %s: not a regular file of at most %u bytes", path, SNAPFMT_MAX_SIZE);
	}
	ret = snapshot_slurp(fd, (size_t)st.st_size, &buf);
	close(fd);
	if (ret)
		return diag_fail_errno(d, ret, "snapshot %s: %s", path, strerror(-ret));
	ret = snapshot_decode(buf, (size_t)st.st_size, out, &why);
	free(buf);
	if (ret)
		return diag_fail_errno(d, ret, "snapshot %s: %.440s", path, why.msg);
	return 0;
}
