#include "userns.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "microvm/cleanup.h"

static int userns_write(const char *file, const char *text)
{
	cleanup_fd int fd = open(file, O_WRONLY | O_CLOEXEC);
	size_t len = strlen(text);

	if (fd < 0)
		return -errno;
	if (write(fd, text, len) != (ssize_t)len)
		return -errno;
	return 0;
}

int userns_enter(uid_t inner_uid, gid_t inner_gid, uid_t outer_uid, gid_t outer_gid, struct diag *d)
{
	char map[64];
	int ret;

	if (unshare(CLONE_NEWUSER))
		return diag_fail_errno(d, -errno, "--userns: new user namespace: %s", strerror(errno));
	/* An unprivileged process may map its own gid only once setgroups is off for good. */
	ret = userns_write("/proc/self/setgroups", "deny");
	if (ret)
		return diag_fail_errno(d, ret, "--userns: /proc/self/setgroups: %s", strerror(-ret));
	snprintf(map, sizeof(map), "%u %u 1\n", (unsigned int)inner_gid, (unsigned int)outer_gid);
	ret = userns_write("/proc/self/gid_map", map);
	if (ret)
		return diag_fail_errno(d, ret, "--userns: gid_map '%u %u 1': %s", (unsigned int)inner_gid,
				       (unsigned int)outer_gid, strerror(-ret));
	snprintf(map, sizeof(map), "%u %u 1\n", (unsigned int)inner_uid, (unsigned int)outer_uid);
	ret = userns_write("/proc/self/uid_map", map);
	if (ret)
		return diag_fail_errno(d, ret, "--userns: uid_map '%u %u 1': %s", (unsigned int)inner_uid,
				       (unsigned int)outer_uid, strerror(-ret));
	return 0;
}
