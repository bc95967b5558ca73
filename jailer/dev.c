#include "dev.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "fs.h"
#include "microvm/cleanup.h"

struct dev_node {
	const char *dir;  /* under /dev */
	const char *name;
	const char *path; /* on the host, and inside the jail */
	unsigned int major, minor;
};

static const struct dev_node dev_nodes[] = {
	{ "dev", "kvm", "/dev/kvm", 10, 232 },
	{ "dev/net", "tun", "/dev/net/tun", 10, 200 },
	{ "dev", "urandom", "/dev/urandom", 1, 9 },
};

int dev_create(int root_fd, uid_t uid, gid_t gid, bool placeholders, struct diag *d)
{
	for (size_t i = 0; i < ARRAY_SIZE(dev_nodes); i++) {
		const struct dev_node *n = &dev_nodes[i];
		cleanup_fd int dirfd = -1;
		int ret = fs_mkdirs_at(root_fd, n->dir, 0755, &dirfd);

		if (ret)
			return diag_fail_errno(d, ret, "jail: creating /%s: %s", n->dir, strerror(-ret));
		if (placeholders) {
			cleanup_fd int fd = openat(dirfd, n->name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
						   O_CLOEXEC, 0600);

			if (fd < 0)
				return diag_fail_errno(d, -errno, "jail: creating %s: %s", n->path, strerror(errno));
			continue;
		}
		if (mknodat(dirfd, n->name, S_IFCHR | 0600, makedev(n->major, n->minor)))
			return diag_fail_errno(d, -errno, "jail: mknod %s: %s", n->path, strerror(errno));
		if (fchownat(dirfd, n->name, uid, gid, AT_SYMLINK_NOFOLLOW))
			return diag_fail_errno(d, -errno, "jail: chown %s: %s", n->path, strerror(errno));
	}
	return 0;
}

int dev_check_host(struct diag *d)
{
	for (size_t i = 0; i < ARRAY_SIZE(dev_nodes); i++) {
		struct stat st;

		if (stat(dev_nodes[i].path, &st))
			return diag_fail_errno(d, -errno, "--userns: host %s: %s", dev_nodes[i].path, strerror(errno));
		if (!S_ISCHR(st.st_mode))
			return diag_fail(d, "--userns: host %s: not a character device", dev_nodes[i].path);
	}
	return 0;
}

int dev_bind_host(struct diag *d)
{
	for (size_t i = 0; i < ARRAY_SIZE(dev_nodes); i++) {
		const char *p = dev_nodes[i].path;

		/* p + 1: relative to the working directory, the jail root. */
		if (mount(p, p + 1, NULL, MS_BIND, NULL))
			return diag_fail_errno(d, -errno, "--userns: binding the host's %s: %s", p, strerror(errno));
	}
	return 0;
}
