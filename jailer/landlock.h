/*
 * Landlock scoping of the jailed process: no abstract Unix socket and no process made
 * outside its Landlock domain can be reached.
 *
 * Here rather than in the VMM's sandbox module: the domain is made before the exec and
 * survives it, so it covers the VMM from its first instruction (its parsing of the
 * kernel included, before any seccomp filter), every thread it will start, and any VMM
 * the jailer runs, such as the hostile stand-in the tests use.
 */
#ifndef JAILER_LANDLOCK_H
#define JAILER_LANDLOCK_H

#include "microvm/compiler.h"
#include "microvm/diag.h"

/* The Landlock ABI that brought scoping (Linux 6.12). */
#define LANDLOCK_SCOPE_ABI 6

/*
 * Puts the calling thread in a new Landlock domain that scopes abstract Unix sockets
 * and signals (needs no_new_privs). -EOPNOTSUPP, with the reason in d, when the kernel
 * cannot: no Landlock, Landlock disabled at boot, or an ABI older than LANDLOCK_SCOPE_ABI.
 */
MUST_CHECK int landlock_scope(struct diag *d);

#endif
