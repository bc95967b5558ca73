#include "ns.h"

#include <errno.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

int ns_check_net(int fd, const char *path, struct diag *d)
{
	int type = ioctl(fd, NS_GET_NSTYPE);

	if (type < 0 && errno == ENOTTY)
		return diag_fail(d, "--netns %s: not a namespace file", path);
	if (type < 0)
		return diag_fail_errno(d, -errno, "--netns %s: %s", path, strerror(errno));
	if (type != CLONE_NEWNET)
		return diag_fail(d, "--netns %s: a namespace, but not a network namespace", path);
	return 0;
}

int ns_join_net(int fd, const char *path, struct diag *d)
{
	if (setns(fd, CLONE_NEWNET))
		return diag_fail_errno(d, -errno, "--netns %s: cannot join: %s", path, strerror(errno));
	return 0;
}

int ns_unshare_jail(int dir_fd, bool new_net, struct diag *d)
{
	if (fchdir(dir_fd))
		return diag_fail_errno(d, -errno, "entering the jail directory: %s", strerror(errno));
	if (unshare(CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS | (new_net ? CLONE_NEWNET : 0)))
		return diag_fail_errno(d, -errno, "new mount, IPC, UTS%s namespaces: %s",
				       new_net ? " and network" : "", strerror(errno));
	return 0;
}

int ns_unshare_pid_for_children(struct diag *d)
{
	if (unshare(CLONE_NEWPID))
		return diag_fail_errno(d, -errno, "--new-pid-ns: %s", strerror(errno));
	return 0;
}
