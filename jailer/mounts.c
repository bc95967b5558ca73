#include "mounts.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "dev.h"
#include "microvm/cleanup.h"
#include "mountinfo.h"

/* The flags a bind remount must repeat: in a user namespace, dropping one is refused. */
static unsigned long mounts_kept_flags(const struct statvfs *vfs)
{
	static const struct { unsigned long st, ms; } map[] = {
		{ ST_RDONLY, MS_RDONLY }, { ST_NOSUID, MS_NOSUID }, { ST_NODEV, MS_NODEV },
		{ ST_NOEXEC, MS_NOEXEC }, { ST_NOATIME, MS_NOATIME }, { ST_NODIRATIME, MS_NODIRATIME },
		{ ST_RELATIME, MS_RELATIME },
	};
	unsigned long flags = 0;

	for (size_t i = 0; i < ARRAY_SIZE(map); i++)
		if (vfs->f_flag & map[i].st)
			flags |= map[i].ms;
	return flags;
}

/*
 * Disk images: the operator's file itself. mount(2) takes no fd from another mount
 * namespace (the fds opened at validation point into the host's), so the file is bound
 * by the path its fd resolves to, and the result must be the very inode checked then.
 * The bind is then made nosuid, nodev, noexec (the guest writes its bytes) and, for a
 * read-only drive, read-only: the VMM's own O_RDONLY is not the only guard.
 */
static int mounts_bind_disks(const struct jail_files *files, struct diag *d)
{
	for (size_t i = 0; i < files->n; i++) {
		const struct jail_file *f = &files->items[i];
		char link[64], src[PATH_MAX];
		struct stat want, got;
		struct statvfs vfs;
		ssize_t n;

		if (f->kind != JAIL_FILE_DISK)
			continue;
		snprintf(link, sizeof(link), "/proc/self/fd/%d", f->fd);
		n = readlink(link, src, sizeof(src) - 1);
		if (n < 0 || fstat(f->fd, &want))
			return diag_fail_errno(d, -errno, "jail: the disk image for %s: %s", f->path, strerror(errno));
		src[n] = '\0';
		/* f->path + 1: relative to the working directory, the jail root. */
		if (mount(src, f->path + 1, NULL, MS_BIND, NULL))
			return diag_fail_errno(d, -errno, "jail: binding %s onto %s: %s", src, f->path, strerror(errno));
		if (stat(f->path + 1, &got) || got.st_dev != want.st_dev || got.st_ino != want.st_ino)
			return diag_fail_errno(d, -ESTALE, "jail: %s was replaced since it was checked", src);
		if (statvfs(f->path + 1, &vfs) ||
		    mount(NULL, f->path + 1, NULL, MS_BIND | MS_REMOUNT | MS_NOSUID | MS_NODEV | MS_NOEXEC |
			  (f->read_only ? MS_RDONLY : 0) | mounts_kept_flags(&vfs), NULL))
			return diag_fail_errno(d, -errno, "jail: restricting the mount of %s at %s: %s", src,
					       f->path, strerror(errno));
	}
	return 0;
}

/*
 * The jail's run directory (jailer/vmmargs.h) bound onto itself: a mount of its own, it
 * stays writable when the root becomes read-only, and the host sees what the VMM makes
 * there (the API socket) at <jail>/root/run. Nothing in it can be run or be a device.
 */
static int mounts_bind_run(struct diag *d)
{
	struct statvfs vfs;

	if (mount("run", "run", NULL, MS_BIND, NULL) || statvfs("run", &vfs) ||
	    mount(NULL, "run", NULL, MS_BIND | MS_REMOUNT | MS_NOSUID | MS_NODEV | MS_NOEXEC |
		  (mounts_kept_flags(&vfs) & ~(unsigned long)MS_RDONLY), NULL))
		return diag_fail_errno(d, -errno, "mounts: binding the jail's /run: %s", strerror(errno));
	return 0;
}

/* The mount id of path, as the process sees it. */
static int mounts_id(const char *path, int *id)
{
	struct statx stx;

	if (statx(AT_FDCWD, path, AT_NO_AUTOMOUNT, STATX_MNT_ID, &stx))
		return -errno;
	if (!(stx.stx_mask & STATX_MNT_ID) || stx.stx_mnt_id > INT_MAX)
		return -ENOTSUP;
	*id = (int)stx.stx_mnt_id;
	return 0;
}

/* This process's mount namespace as it is now, read through a descriptor of a /proc. */
static int mounts_read(int proc_fd, struct mount_table *t, struct diag *d)
{
	FILE *f;
	int fd = openat(proc_fd, "self/mountinfo", O_RDONLY | O_CLOEXEC), ret;

	if (fd < 0)
		return diag_fail_errno(d, -errno, "mounts: /proc/self/mountinfo: %s", strerror(errno));
	f = fdopen(fd, "r");
	if (!f) {
		close(fd);
		return diag_fail_errno(d, -ENOMEM, "mounts: /proc/self/mountinfo: out of memory");
	}
	ret = mountinfo_parse(f, "/proc/self/mountinfo", t, d);
	fclose(f);
	return ret;
}

/*
 * pivot_root cannot leave a root that is the namespace's first mount, as on a host that
 * runs from its initramfs (EINVAL). Then, as switch_root, runc's no_pivot and bubblewrap
 * do, the jail root (the working directory) is moved onto "/" and entered with chroot.
 * chroot alone would leave every other mount of the host (its /proc, /sys, /dev, disks)
 * in the VMM's namespace, under the jail: they are detached, and the namespace is checked
 * to hold only the initramfs, which no namespace can lose and which lies under the jail
 * as a host's rootfs lies under every root, and the jail's own mounts. Rootless, the
 * host's mounts are locked to their parents and cannot be detached: that is refused.
 */
static int mounts_move_root(struct diag *d)
{
	cleanup_fd int proc_fd = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
	const struct mount_entry *root;
	struct mount_table t;
	int root_id, jail_id, ret;

	if (proc_fd < 0)
		return diag_fail_errno(d, -errno, "mounts: pivot_root: Invalid argument, and without "
				       "/proc the host's mounts cannot be listed: %s", strerror(errno));
	ret = mounts_id("/", &root_id);
	if (!ret)
		ret = mounts_id(".", &jail_id);
	if (ret)
		return diag_fail_errno(d, ret, "mounts: statx: %s", strerror(-ret));
	ret = mounts_read(proc_fd, &t, d);
	if (ret)
		return ret;
	root = mountinfo_find(&t, root_id);
	ret = root && root->parent == root_id ? 0 : -EINVAL;
	mountinfo_free(&t);
	if (ret)
		return diag_fail_errno(d, ret, "mounts: pivot_root: %s", strerror(-ret));

	if (mount(".", "/", NULL, MS_MOVE, NULL))
		return diag_fail_errno(d, -errno, "mounts: moving the jail root onto /: %s", strerror(errno));
	ret = mounts_read(proc_fd, &t, d);
	if (ret)
		return ret;
	/* Last listed first: a mount goes before the one it sits on. Failures are seen below. */
	for (size_t i = t.n; i-- > 0;)
		if (t.items[i].id != root_id && !mountinfo_below(&t, t.items[i].id, jail_id))
			umount2(t.items[i].point, MNT_DETACH);
	mountinfo_free(&t);
	ret = mounts_read(proc_fd, &t, d);
	if (ret)
		return ret;
	for (size_t i = 0; i < t.n && !ret; i++) {
		const struct mount_entry *e = &t.items[i];

		if (e->id == root_id || mountinfo_below(&t, e->id, jail_id))
			continue;
		/* Once more, for the reason it stays. */
		ret = umount2(e->point, MNT_DETACH) ? errno : EBUSY;
		ret = diag_fail_errno(d, -ret, "mounts: the host's root is an initramfs, and its mount %s "
				      "(%s) cannot be detached from the jail's namespace: %s", e->point,
				      e->fstype, strerror(ret));
	}
	mountinfo_free(&t);
	if (ret)
		return ret;
	if (chroot("."))
		return diag_fail_errno(d, -errno, "mounts: chroot into the jail root: %s", strerror(errno));
	return 0;
}

int mounts_enter_jail(const struct jail_files *files, bool bind_devices, struct diag *d)
{
	cleanup_fd int old_root = -1;
	struct statvfs vfs;
	int ret;

	if (mount(NULL, "/", NULL, MS_SLAVE | MS_REC, NULL))
		return diag_fail_errno(d, -errno, "mounts: making / a slave: %s", strerror(errno));
	/*
	 * Paths relative to the working directory, the jail directory: nothing above it is
	 * looked up again, so a symlink swapped into the chroot base's path changes nothing.
	 * pivot_root needs the new root to be a mount point. */
	if (mount("root", "root", NULL, MS_BIND, NULL))
		return diag_fail_errno(d, -errno, "mounts: binding the jail root: %s", strerror(errno));
	/* Looking "root" up again steps onto the bind mount just made. */
	if (chdir("root"))
		return diag_fail_errno(d, -errno, "mounts: entering the jail root: %s", strerror(errno));
	ret = mounts_bind_disks(files, d);
	if (!ret)
		ret = mounts_bind_run(d);
	if (!ret && bind_devices)
		ret = dev_bind_host(d);
	if (ret)
		return ret;
	/* Read-only: the VMM creates nothing in its jail but in /run; the disks are mounts of their own. */
	if (statvfs(".", &vfs))
		return diag_fail_errno(d, -errno, "mounts: statvfs of the jail root: %s", strerror(errno));
	if (mount(NULL, ".", NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | mounts_kept_flags(&vfs), NULL))
		return diag_fail_errno(d, -errno, "mounts: making the jail root read-only: %s", strerror(errno));
	old_root = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (old_root < 0)
		return diag_fail_errno(d, -errno, "mounts: opening /: %s", strerror(errno));
	/* pivot_root(".", "."): the old root ends up stacked on the new one, with no directory for it. */
	if (syscall(SYS_pivot_root, ".", ".")) {
		if (errno != EINVAL)
			return diag_fail_errno(d, -errno, "mounts: pivot_root: %s", strerror(errno));
		ret = mounts_move_root(d);
		if (ret)
			return ret;
		if (chdir("/"))
			return diag_fail_errno(d, -errno, "mounts: chdir /: %s", strerror(errno));
		return 0;
	}
	if (fchdir(old_root))
		return diag_fail_errno(d, -errno, "mounts: %s", strerror(errno));
	if (umount2(".", MNT_DETACH))
		return diag_fail_errno(d, -errno, "mounts: detaching the old root: %s", strerror(errno));
	if (chdir("/"))
		return diag_fail_errno(d, -errno, "mounts: chdir /: %s", strerror(errno));
	return 0;
}
