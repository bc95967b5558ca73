/* The jail's mounts: its root bound read-only, disks and /run bound in, pivot_root, old root gone. */
#ifndef JAILER_MOUNTS_H
#define JAILER_MOUNTS_H

#include <stdbool.h>

#include "files.h"
#include "microvm/compiler.h"
#include "microvm/diag.h"

/*
 * In a new mount namespace, with the jail directory (<base>/<exec-name>/<id>) as the
 * working directory (ns_unshare_jail): makes every mount a slave (nothing done here propagates to
 * the host), binds <jail>/root onto itself, binds each disk image, the writable run
 * directory (and, rootless, the host's device nodes) into it, remounts it read-only, pivot_roots into it and detaches
 * the old root, leaving the caller in "/" of the jail. Where the root is an initramfs,
 * which pivot_root cannot leave, it moves the jail onto "/", detaches every other mount
 * and chroots instead.
 */
MUST_CHECK int mounts_enter_jail(const struct jail_files *files, bool bind_devices, struct diag *d);

#endif
