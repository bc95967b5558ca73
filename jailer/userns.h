/* Rootless mode: a user namespace in which only the VM's uid and gid exist. */
#ifndef JAILER_USERNS_H
#define JAILER_USERNS_H

#include <sys/types.h>

#include "microvm/compiler.h"
#include "microvm/diag.h"

/*
 * Moves the caller into a new user namespace mapping inner_uid/inner_gid (and nothing
 * else) to the caller's own outer ids, with setgroups denied, as an unprivileged user may.
 * The caller holds every capability there, over the namespaces it creates next only.
 */
MUST_CHECK int userns_enter(uid_t inner_uid, gid_t inner_gid, uid_t outer_uid, gid_t outer_gid,
			    struct diag *d);

#endif
