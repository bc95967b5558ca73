#include "files.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs.h"
#include "microvm/cleanup.h"

/* Paths the jail itself uses (its devices, its writable run directory): no VM file may take them. */
static const char *const files_reserved[] = { "/dev", "/run" };

void files_init(struct jail_files *f)
{
	f->n = 0;
}

/* a and b are the same path, or one is a directory on the other's way. */
static bool files_paths_clash(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (la > lb)
		return files_paths_clash(b, a);
	return !strncmp(a, b, la) && (b[la] == '\0' || b[la] == '/');
}

bool files_has(const struct jail_files *f, const char *jail_path)
{
	for (size_t i = 0; i < f->n; i++)
		if (!strcmp(f->items[i].path, jail_path))
			return true;
	return false;
}

int files_add(struct jail_files *f, enum jail_file_kind kind, int fd, const char *jail_path)
{
	char *copy;

	for (size_t i = 0; i < ARRAY_SIZE(files_reserved); i++)
		if (files_paths_clash(files_reserved[i], jail_path))
			goto clash;
	for (size_t i = 0; i < f->n; i++)
		if (files_paths_clash(f->items[i].path, jail_path))
			goto clash;
	if (f->n == JAIL_FILES_MAX) {
		close(fd);
		return -E2BIG;
	}
	copy = strdup(jail_path);
	if (!copy) {
		close(fd);
		return -ENOMEM;
	}
	f->items[f->n++] = (struct jail_file){ .kind = kind, .fd = fd, .path = copy };
	return 0;
clash:
	close(fd);
	return -EEXIST;
}

const char *files_basename(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

int files_open_original(const char *what, const char *path, bool path_only, int *fd, struct diag *d)
{
	/* O_NONBLOCK: a FIFO given as a kernel must fail the check below, not hang the open. */
	int flags = (path_only ? O_PATH : O_RDONLY | O_NONBLOCK) | O_NOFOLLOW | O_CLOEXEC;
	cleanup_fd int f = open(path, flags);
	struct stat st;

	if (f < 0 && errno == ELOOP)
		return diag_fail_errno(d, -ELOOP, "%s %s: is a symbolic link; name the file itself", what, path);
	if (f < 0)
		return diag_fail_errno(d, -errno, "%s %s: cannot open: %s", what, path, strerror(errno));
	if (fstat(f, &st))
		return diag_fail_errno(d, -errno, "%s %s: %s", what, path, strerror(errno));
	/* O_PATH | O_NOFOLLOW opens a symlink itself rather than failing. */
	if (S_ISLNK(st.st_mode))
		return diag_fail_errno(d, -ELOOP, "%s %s: is a symbolic link; name the file itself", what, path);
	if (S_ISDIR(st.st_mode))
		return diag_fail_errno(d, -EISDIR, "%s %s: is a directory", what, path);
	if (!S_ISREG(st.st_mode))
		return diag_fail_errno(d, -EINVAL, "%s %s: not a regular file", what, path);
	*fd = steal_fd(&f);
	return 0;
}

/* Whole-file copy; copy_file_range shares extents (reflink) where the filesystem can. */
static int files_copy(int src, int dst)
{
	char buf[65536];
	struct stat st;
	off_t off = 0;

	if (fstat(src, &st))
		return -errno;
	while (off < st.st_size) {
		ssize_t n = copy_file_range(src, &off, dst, NULL, (size_t)(st.st_size - off), 0);

		if (n > 0)
			continue;
		if (n == 0)
			return -EIO; /* the file shrank under us */
		if (off != 0 || (errno != EXDEV && errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP))
			return -errno;
		break; /* across filesystem types: plain reads and writes below */
	}
	while (off < st.st_size) {
		ssize_t n = pread(src, buf, sizeof(buf), off), w;

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		for (ssize_t done = 0; done < n; done += w) {
			w = write(dst, buf + done, (size_t)(n - done));
			if (w < 0)
				return -errno;
		}
		off += n;
	}
	return 0;
}

static int files_install_one(const struct jail_file *jf, int root_fd, uid_t uid, gid_t gid,
			     bool chown_inputs, struct diag *d)
{
	char dir[PATH_MAX];
	const char *name = files_basename(jf->path);
	cleanup_fd int dirfd = -1;
	cleanup_fd int out = -1;
	int ret;

	/* jf->path is absolute: its directory, relative to the jail root. */
	snprintf(dir, sizeof(dir), "%.*s", (int)(name - jf->path - 1), jf->path + 1);
	ret = fs_mkdirs_at(root_fd, dir, 0755, &dirfd);
	if (ret)
		return diag_fail_errno(d, ret, "jail: creating %s: %s", jf->path, strerror(-ret));
	out = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0);
	if (out < 0)
		return diag_fail_errno(d, -errno, "jail: creating %s: %s", jf->path, strerror(errno));
	switch (jf->kind) {
	case JAIL_FILE_PROGRAM:
		ret = files_copy(jf->fd, out);
		if (!ret && fchmod(out, 0555))
			ret = -errno;
		break;
	case JAIL_FILE_INPUT:
		ret = files_copy(jf->fd, out);
		if (!ret && chown_inputs && fchown(out, uid, gid))
			ret = -errno;
		if (!ret && fchmod(out, 0400))
			ret = -errno;
		break;
	case JAIL_FILE_DISK:
		/* An empty mount point: mounts.c binds the original over it. */
		if (fchmod(out, 0600))
			ret = -errno;
		break;
	default:
		ret = -EINVAL;
		break;
	}
	if (ret)
		return diag_fail_errno(d, ret, "jail: writing %s: %s", jf->path, strerror(-ret));
	return 0;
}

int files_install(const struct jail_files *f, int root_fd, uid_t uid, gid_t gid, bool chown_inputs,
		  struct diag *d)
{
	for (size_t i = 0; i < f->n; i++) {
		int ret = files_install_one(&f->items[i], root_fd, uid, gid, chown_inputs, d);

		if (ret)
			return ret;
	}
	return 0;
}
