/*
 * Per-thread seccomp filters. Filters are compiled from policy/ at build time
 * (or loaded from a `seccomp-compile --binary` file); each thread installs its
 * own at its start, after every parse and open, before any guest code runs.
 */
#ifndef MICROVM_SANDBOX_H
#define MICROVM_SANDBOX_H

#include <stdio.h>

#include "microvm/compiler.h"
#include "microvm/diag.h"

/* Exit status of a process killed for a forbidden syscall (as Firecracker's). */
#define SANDBOX_EXIT_CODE 148

enum sandbox_mode {
	SANDBOX_BUILTIN,  /* the filters embedded at build time */
	SANDBOX_FILE,     /* --seccomp-policy FILE */
	SANDBOX_OFF,      /* --no-seccomp, for debugging */
};

/* Once, before any thread starts: selects the filters and installs the SIGSYS handler. */
MUST_CHECK int sandbox_prepare(enum sandbox_mode mode, const char *file, struct diag *d);
/* First thing in each thread: no_new_privs, then the filter of its kind ("vmm", "vcpu" ...). */
MUST_CHECK int sandbox_enter(const char *thread_kind, struct diag *d);
/* --print-seccomp: the effective allowlist of each thread kind. */
void sandbox_print(FILE *out);

#endif
