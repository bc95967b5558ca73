/* Credentials: capabilities (with libcap-ng), no_new_privs, groups, gid and uid. */
#ifndef JAILER_CAPS_H
#define JAILER_CAPS_H

#include <stdbool.h>
#include <sys/types.h>

#include "microvm/compiler.h"
#include "microvm/diag.h"

/*
 * Empties the bounding and ambient sets. Dropping from the bounding set needs
 * CAP_SETPCAP, so this comes while the effective set is still full.
 */
MUST_CHECK int caps_drop_bounding_and_ambient(struct diag *d);
/* PR_SET_NO_NEW_PRIVS: no execve can grant anything again (setuid bits, file capabilities). */
MUST_CHECK int caps_set_no_new_privs(struct diag *d);
/*
 * setgroups to none (skipped where a user namespace has denied it), then gid, then uid:
 * real, effective and saved alike, so no way back.
 */
MUST_CHECK int caps_set_ids(uid_t uid, gid_t gid, bool set_groups, struct diag *d);
/*
 * Empties the effective, permitted and inheritable sets (changing from uid 0 empties
 * only the first two, and --allow-root keeps uid 0), then checks all five sets with the
 * kernel's own view: nothing may be left.
 */
MUST_CHECK int caps_clear(struct diag *d);

#endif
