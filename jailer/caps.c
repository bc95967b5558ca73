#include "caps.h"

#include <cap-ng.h>
#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

int caps_drop_bounding_and_ambient(struct diag *d)
{
	capng_clear(CAPNG_SELECT_ALL);
	if (capng_apply(CAPNG_SELECT_BOUNDS | CAPNG_SELECT_AMBIENT))
		return diag_fail_errno(d, -EPERM, "capabilities: cannot empty the bounding and ambient sets");
	return 0;
}

int caps_set_no_new_privs(struct diag *d)
{
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return diag_fail_errno(d, -errno, "no_new_privs: %s", strerror(errno));
	return 0;
}

int caps_set_ids(uid_t uid, gid_t gid, bool set_groups, struct diag *d)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sg;

	if (set_groups && setgroups(0, NULL))
		return diag_fail_errno(d, -errno, "setgroups: %s", strerror(errno));
	if (setresgid(gid, gid, gid))
		return diag_fail_errno(d, -errno, "setresgid %u: %s", (unsigned int)gid, strerror(errno));
	if (setresuid(uid, uid, uid))
		return diag_fail_errno(d, -errno, "setresuid %u: %s", (unsigned int)uid, strerror(errno));
	if (getresuid(&ru, &eu, &su) || getresgid(&rg, &eg, &sg) || ru != uid || eu != uid ||
	    su != uid || rg != gid || eg != gid || sg != gid)
		return diag_fail_errno(d, -EPERM, "ids: not %u:%u after the change", (unsigned int)uid,
				       (unsigned int)gid);
	return 0;
}

int caps_clear(struct diag *d)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

	capng_clear(CAPNG_SELECT_BOTH);
	if (capng_apply(CAPNG_SELECT_CAPS))
		return diag_fail_errno(d, -EPERM, "capabilities: cannot empty the process's sets");
	/* Check with the raw interfaces, not with the library that did the work. */
	if (syscall(SYS_capget, &hdr, data))
		return diag_fail_errno(d, -errno, "capget: %s", strerror(errno));
	for (size_t i = 0; i < _LINUX_CAPABILITY_U32S_3; i++)
		if (data[i].effective || data[i].permitted || data[i].inheritable)
			return diag_fail_errno(d, -EPERM, "capabilities: some are left after clearing");
	/* PR_CAPBSET_READ fails with EINVAL past the kernel's last capability. */
	for (unsigned long cap = 0; ; cap++) {
		int bound = prctl(PR_CAPBSET_READ, cap, 0, 0, 0);
		int ambient = prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, cap, 0, 0);

		if (bound < 0)
			break;
		if (bound || ambient > 0)
			return diag_fail_errno(d, -EPERM, "capabilities: %lu is left in the %s set", cap,
					       bound ? "bounding" : "ambient");
	}
	return 0;
}
