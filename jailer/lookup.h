/* Which VMM binary to jail: --exec-file PATH, or the name after "--". */
#ifndef JAILER_LOOKUP_H
#define JAILER_LOOKUP_H

#include <stdbool.h>

#include "microvm/compiler.h"
#include "microvm/diag.h"

/*
 * Resolves and opens the VMM. A name with a '/' (and anything given with --exec-file)
 * is a path taken as it is; a bare name after "--" is looked up next to the jailer's
 * own binary, then in each directory of path_env. The file must be a regular file, not
 * a symlink, executable, and have one link (Firecracker's rule: a second name could be
 * a hard link someone planted to a binary the operator never meant to run).
 * *path is malloc'd.
 */
MUST_CHECK int lookup_vmm(const char *name, bool search, const char *path_env, int *fd, char **path,
			  struct diag *d);

#endif
