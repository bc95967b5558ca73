/* The jail's /dev: kvm, net/tun and urandom, and nothing else. */
#ifndef JAILER_DEV_H
#define JAILER_DEV_H

#include <stdbool.h>
#include <sys/types.h>

#include "microvm/compiler.h"
#include "microvm/diag.h"

/*
 * Creates <root>/dev with the device nodes, mode 0600 and owned by uid:gid. With
 * placeholders (rootless: a user namespace may not mknod), empty files instead, for
 * dev_bind_host to cover.
 */
MUST_CHECK int dev_create(int root_fd, uid_t uid, gid_t gid, bool placeholders, struct diag *d);
/* Rootless: the host has each node (checked before anything is created). */
MUST_CHECK int dev_check_host(struct diag *d);
/* Rootless: binds the host's nodes over the placeholders; the working directory is the jail root. */
MUST_CHECK int dev_bind_host(struct diag *d);

#endif
