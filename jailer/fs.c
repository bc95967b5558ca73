#include "fs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "microvm/cleanup.h"

/* Deeper than any jail the jailer builds: a bound on what a rootless VMM could add. */
#define FS_REMOVE_DEPTH_MAX 32

void fs_dirs_init(struct jail_dirs *j)
{
	j->base_fd = j->exec_fd = j->jail_fd = j->root_fd = -1;
	j->id = NULL;
	j->path[0] = '\0';
}

/* A directory others cannot tamper with: ours, and writable only by us. */
static int fs_check_dir(int fd, const char *path, uid_t owner, struct diag *d)
{
	struct stat st;

	if (fstat(fd, &st))
		return diag_fail_errno(d, -errno, "%s: %s", path, strerror(errno));
	if (st.st_uid != owner)
		return diag_fail_errno(d, -EPERM, "%s: owned by uid %u, not by the user running the jailer (uid %u)",
				       path, (unsigned int)st.st_uid, (unsigned int)owner);
	if (st.st_mode & (S_IWGRP | S_IWOTH))
		return diag_fail_errno(d, -EPERM, "%s: writable by group or others (mode %04o)", path,
				       (unsigned int)(st.st_mode & 07777));
	return 0;
}

/* Opens an existing directory whose last component is not a symlink, with clear messages. */
static int fs_open_dir(int dirfd, const char *name, const char *path, int *out, struct diag *d)
{
	struct stat st;
	int fd;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW))
		return diag_fail_errno(d, -errno, "%s: %s", path, strerror(errno));
	if (S_ISLNK(st.st_mode))
		return diag_fail_errno(d, -ELOOP, "%s: is a symbolic link; give the real directory", path);
	if (!S_ISDIR(st.st_mode))
		return diag_fail_errno(d, -ENOTDIR, "%s: not a directory", path);
	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return diag_fail_errno(d, -errno, "%s: %s", path, strerror(errno));
	*out = fd;
	return 0;
}

int fs_check_base(const char *base, uid_t owner, bool needs_dev, const char *exec_name,
		  const char *id, struct diag *d)
{
	char path[PATH_MAX];
	cleanup_fd int fd = -1;
	cleanup_fd int exec_fd = -1;
	struct statvfs vfs;
	struct stat st;
	int ret;

	ret = fs_open_dir(AT_FDCWD, base, base, &fd, d);
	if (ret == -ENOENT)
		return 0;
	if (ret)
		return ret;
	ret = fs_check_dir(fd, base, owner, d);
	if (ret)
		return ret;
	if (fstatvfs(fd, &vfs))
		return diag_fail_errno(d, -errno, "%s: %s", base, strerror(errno));
	if (vfs.f_flag & ST_NOEXEC)
		return diag_fail_errno(d, -EPERM, "%s: on a noexec filesystem: the VMM could not run there", base);
	if (needs_dev && (vfs.f_flag & ST_NODEV))
		return diag_fail_errno(d, -EPERM, "%s: on a nodev filesystem: /dev/kvm would not open there", base);

	snprintf(path, sizeof(path), "%s/%s", base, exec_name);
	ret = fs_open_dir(fd, exec_name, path, &exec_fd, d);
	if (ret == -ENOENT)
		return 0;
	if (ret)
		return ret;
	ret = fs_check_dir(exec_fd, path, owner, d);
	if (ret)
		return ret;
	if (fstatat(exec_fd, id, &st, AT_SYMLINK_NOFOLLOW) == 0)
		return diag_fail_errno(d, -EEXIST, "%s/%s: a jail with this id already exists", path, id);
	return 0;
}

/* mkdir -p with mode for the chroot base; existing components are left as they are. */
static int fs_mkdir_parents(const char *path, mode_t mode)
{
	char buf[PATH_MAX];
	size_t len = strlen(path);

	if (len >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, path, len + 1);
	for (char *p = buf + 1; ; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char saved = *p;

		*p = '\0';
		if (mkdir(buf, mode) && errno != EEXIST)
			return -errno;
		*p = saved;
		if (saved == '\0')
			return 0;
	}
}

int fs_mkdirs_at(int dirfd, const char *rel, mode_t mode, int *out)
{
	char buf[PATH_MAX];
	cleanup_fd int fd = fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
	char *save = NULL;

	if (fd < 0)
		return -errno;
	if (strlen(rel) >= sizeof(buf))
		return -ENAMETOOLONG;
	strcpy(buf, rel);
	for (char *comp = strtok_r(buf, "/", &save); comp; comp = strtok_r(NULL, "/", &save)) {
		int next;

		/* Every path here lies inside the jail: "." and ".." would step elsewhere. */
		if (!strcmp(comp, ".") || !strcmp(comp, ".."))
			return -EINVAL;
		if (mkdirat(fd, comp, mode) && errno != EEXIST)
			return -errno;
		next = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (next < 0)
			return -errno;
		close(fd);
		fd = next;
	}
	*out = steal_fd(&fd);
	return 0;
}

int fs_create(struct jail_dirs *j, const char *base, uid_t owner, const char *exec_name,
	      const char *id, struct diag *d)
{
	char path[PATH_MAX];
	int ret;

	j->id = id;
	ret = fs_mkdir_parents(base, 0755);
	if (ret)
		return diag_fail_errno(d, ret, "--chroot-base-dir %s: cannot create: %s", base, strerror(-ret));
	ret = fs_open_dir(AT_FDCWD, base, base, &j->base_fd, d);
	if (ret == 0)
		ret = fs_check_dir(j->base_fd, base, owner, d);
	if (ret)
		return ret;

	snprintf(path, sizeof(path), "%s/%s", base, exec_name);
	if (mkdirat(j->base_fd, exec_name, 0755) && errno != EEXIST)
		return diag_fail_errno(d, -errno, "%s: cannot create: %s", path, strerror(errno));
	ret = fs_open_dir(j->base_fd, exec_name, path, &j->exec_fd, d);
	if (ret == 0)
		ret = fs_check_dir(j->exec_fd, path, owner, d);
	if (ret)
		return ret;

	snprintf(j->path, sizeof(j->path), "%s/%s/%s", base, exec_name, id);
	/* The one atomic test of "no jail for this id yet": mkdir fails on anything there. */
	if (mkdirat(j->exec_fd, id, 0755))
		return diag_fail_errno(d, -errno, "%s: %s", j->path,
				       errno == EEXIST ? "a jail with this id already exists" : strerror(errno));
	j->jail_fd = openat(j->exec_fd, id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (j->jail_fd < 0)
		return diag_fail_errno(d, -errno, "%s: %s", j->path, strerror(errno));
	ret = fs_mkdirs_at(j->jail_fd, "root", 0755, &j->root_fd);
	if (ret)
		return diag_fail_errno(d, ret, "%s/root: %s", j->path, strerror(-ret));
	return 0;
}

int fs_write_pid_file(const struct jail_dirs *j, const char *exec_name, pid_t pid, struct diag *d)
{
	char name[NAME_MAX + 1];
	cleanup_fd int fd = -1;

	if ((size_t)snprintf(name, sizeof(name), "%s.pid", exec_name) >= sizeof(name))
		return diag_fail_errno(d, -ENAMETOOLONG, "pid file: %s.pid: name too long", exec_name);
	fd = openat(j->jail_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0 || dprintf(fd, "%d\n", (int)pid) < 0)
		return diag_fail_errno(d, -errno, "%s/%s: %s", j->path, name, strerror(errno));
	return 0;
}

static int fs_remove_at(int dirfd, const char *name, dev_t dev, int depth)
{
	struct stat st;
	int ret = 0;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW))
		return errno == ENOENT ? 0 : -errno;
	/* Another device is a mount: never descend into what is not the jail's own. */
	if (st.st_dev != dev)
		return -EXDEV;
	if (S_ISDIR(st.st_mode)) {
		int fd;
		DIR *dir;
		struct dirent *e;

		if (depth == 0)
			return -ELOOP;
		fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			return -errno;
		dir = fdopendir(fd);
		if (!dir) {
			ret = -errno;
			close(fd);
			return ret;
		}
		while (!ret && (e = readdir(dir))) {
			if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
				continue;
			ret = fs_remove_at(fd, e->d_name, dev, depth - 1);
		}
		closedir(dir);
		if (ret)
			return ret;
	}
	if (unlinkat(dirfd, name, S_ISDIR(st.st_mode) ? AT_REMOVEDIR : 0) && errno != ENOENT)
		return -errno;
	return 0;
}

int fs_remove_jail(struct jail_dirs *j)
{
	struct stat st;

	if (j->exec_fd < 0 || !j->id)
		return 0;
	if (fstat(j->exec_fd, &st))
		return -errno;
	return fs_remove_at(j->exec_fd, j->id, st.st_dev, FS_REMOVE_DEPTH_MAX);
}
