/*
 * A --config-file given to a jailed VMM: the jailer reads it with microvm's own parser
 * (src/config/vmconfig.h), brings every file it names into the jail as it does the
 * command line's (kernel and initrd copied, drives bound, read-only ones read-only),
 * and puts a rewritten copy, every path a jail path, into the jail. What the VMM
 * creates (vsock's socket, the logger's and metrics' files) must be named in the
 * jail's writable run directory (VMMARGS_RUN_DIR).
 */
#ifndef JAILER_JAILCONFIG_H
#define JAILER_JAILCONFIG_H

#include <stddef.h>

#include "files.h"
#include "microvm/compiler.h"
#include "microvm/diag.h"

/* Adds the config's files and the rewritten config to files; inside gets its jail path. */
MUST_CHECK int jailconfig_take(struct jail_files *files, const char *host, char *inside,
			       size_t inside_size, struct diag *d);

#endif
