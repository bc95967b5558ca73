/* The jail's directories on the host: <base>/<exec-name>/<id>/root, reached through fds. */
#ifndef JAILER_FS_H
#define JAILER_FS_H

#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>

#include "microvm/compiler.h"
#include "microvm/diag.h"

struct jail_dirs {
	int base_fd; /* the chroot base */
	int exec_fd; /* <base>/<exec-name> */
	int jail_fd; /* <base>/<exec-name>/<id>: the pid file lives here, out of the VMM's sight */
	int root_fd; /* <base>/<exec-name>/<id>/root: the VMM's / */
	const char *id;
	char path[PATH_MAX]; /* <base>/<exec-name>/<id>, for messages */
};

void fs_dirs_init(struct jail_dirs *j);
/*
 * Checks the chroot base without changing anything: when it exists it must be a real
 * directory (not a symlink), owned by owner, writable by nobody else, on a filesystem
 * that allows exec (and device nodes when needs_dev), holding no jail for exec_name/id.
 * A missing base is fine: fs_create makes it.
 */
MUST_CHECK int fs_check_base(const char *base, uid_t owner, bool needs_dev, const char *exec_name,
			     const char *id, struct diag *d);
/* Creates the base (mode 0755, with missing parents) when missing, then the jail; -EEXIST if it exists. */
MUST_CHECK int fs_create(struct jail_dirs *j, const char *base, uid_t owner, const char *exec_name,
			 const char *id, struct diag *d);
/*
 * Creates each missing directory of the relative path rel ("" for dirfd itself), never
 * following a symlink; *out is its fd. -EINVAL for a "." or ".." component.
 */
MUST_CHECK int fs_mkdirs_at(int dirfd, const char *rel, mode_t mode, int *out);
/* Writes <jail>/<exec-name>.pid. */
MUST_CHECK int fs_write_pid_file(const struct jail_dirs *j, const char *exec_name, pid_t pid,
				 struct diag *d);
/* Removes <base>/<exec-name>/<id> and everything in it, never following a symlink. */
MUST_CHECK int fs_remove_jail(struct jail_dirs *j);

#endif
