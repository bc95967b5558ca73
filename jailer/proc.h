/* Process hygiene around the jail: inherited fds and signal state, exit statuses. */
#ifndef JAILER_PROC_H
#define JAILER_PROC_H

#include "microvm/compiler.h"
#include "microvm/diag.h"

/* Closes every fd above 2, whatever the caller left open. */
MUST_CHECK int proc_close_fds_above_stdio(void);
/*
 * Fds 0-2 go to the VMM: none may be a directory, through which it could open the host's
 * files (openat, fchdir) past any chroot or pivot_root. -EISDIR naming the fd in d.
 */
MUST_CHECK int proc_check_stdio(struct diag *d);
/* Default dispositions and an empty signal mask: an ignored SIGTERM must not reach the VMM. */
void proc_reset_signals(void);
/* A waitpid status as a shell reports it: the exit code, or 128 + N for signal N. */
int proc_exit_status(int wstatus);

#endif
