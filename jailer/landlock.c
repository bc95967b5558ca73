#include "landlock.h"

#include <errno.h>
#include <linux/landlock.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "microvm/cleanup.h"

/* struct landlock_ruleset_attr as of ABI 6: the installed headers may be older. */
struct landlock_scope_attr {
	uint64_t handled_access_fs;
	uint64_t handled_access_net;
	uint64_t scoped;
};

#define LANDLOCK_SCOPE_ABSTRACT_UNIX (1ULL << 0)
#define LANDLOCK_SCOPE_SIGNALS (1ULL << 1)

int landlock_scope(struct diag *d)
{
	/* File and network access stay as the mounts and namespaces leave them: scoping only. */
	const struct landlock_scope_attr attr = {
		.scoped = LANDLOCK_SCOPE_ABSTRACT_UNIX | LANDLOCK_SCOPE_SIGNALS,
	};
	long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
	cleanup_fd int fd = -1;

	if (abi < 0 && errno == EOPNOTSUPP)
		return diag_fail_errno(d, -EOPNOTSUPP, "Landlock is disabled on this host (not in the "
				       "kernel's lsm= list)");
	if (abi < 0)
		return diag_fail_errno(d, -EOPNOTSUPP, "this kernel has no Landlock (%s)", strerror(errno));
	if (abi < LANDLOCK_SCOPE_ABI)
		return diag_fail_errno(d, -EOPNOTSUPP, "this kernel's Landlock ABI %ld cannot scope "
				       "(ABI %d, Linux 6.12, is needed)", abi, LANDLOCK_SCOPE_ABI);
	fd = (int)syscall(SYS_landlock_create_ruleset, &attr, sizeof(attr), 0);
	if (fd < 0)
		return diag_fail_errno(d, -errno, "Landlock: creating the ruleset: %s", strerror(errno));
	if (syscall(SYS_landlock_restrict_self, fd, 0))
		return diag_fail_errno(d, -errno, "Landlock: restricting the jailed process: %s",
				       strerror(errno));
	return 0;
}
