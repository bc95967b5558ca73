/* The files a VM needs inside its jail, each opened once on the host and then installed. */
#ifndef JAILER_FILES_H
#define JAILER_FILES_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "microvm/compiler.h"
#include "microvm/diag.h"

#define JAIL_FILES_MAX 96

enum jail_file_kind {
	JAIL_FILE_PROGRAM, /* the VMM, its ELF interpreter and libraries: root-owned copy, 0555 */
	JAIL_FILE_INPUT,   /* kernel, initrd: a copy owned by the VM's uid:gid, 0400 */
	JAIL_FILE_DISK,    /* a disk image: the original, bind-mounted over an empty file */
};

struct jail_file {
	enum jail_file_kind kind;
	int fd;         /* the original: O_RDONLY for copies, O_PATH for disks */
	char *path;     /* absolute path inside the jail */
	bool read_only; /* a disk the VM may only read: bound read-only */
};

struct jail_files {
	struct jail_file items[JAIL_FILES_MAX];
	size_t n;
};

void files_init(struct jail_files *f);
/* True when jail_path is already taken. */
bool files_has(const struct jail_files *f, const char *jail_path);
/*
 * Records a file, taking ownership of fd. -EEXIST when jail_path, a directory on its way,
 * or a path below it is taken already, or it lies in the jail's /dev.
 */
MUST_CHECK int files_add(struct jail_files *f, enum jail_file_kind kind, int fd, const char *jail_path);
/*
 * Opens a file an operator named: O_NOFOLLOW (the last component may not be a symlink),
 * and it must be a regular file. path_only opens with O_PATH (enough to bind-mount).
 */
MUST_CHECK int files_open_original(const char *what, const char *path, bool path_only, int *fd,
				   struct diag *d);
/* The file name part of a path ("bzImage" for "dir/bzImage"). */
const char *files_basename(const char *path);
/*
 * Creates every file under root_fd: copies for programs and inputs (inputs chowned to
 * uid:gid when chown_inputs), empty placeholders for disks. Originals are only read.
 */
MUST_CHECK int files_install(const struct jail_files *f, int root_fd, uid_t uid, gid_t gid,
			     bool chown_inputs, struct diag *d);

#endif
