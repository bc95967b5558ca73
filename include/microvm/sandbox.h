/*
 * Per-thread seccomp filters. Filters are compiled from policy/ at build time
 * (or loaded from a `seccomp-compile --binary` file); each thread installs its
 * own at its start, after every parse and open, before any guest code runs.
 * Which filters apply is a struct sandbox the caller prepares once and hands to
 * every thread; the SIGSYS handler keeps only the name of the thread it runs on.
 */
#ifndef MICROVM_SANDBOX_H
#define MICROVM_SANDBOX_H

#include <stdio.h>

#include "microvm/compiler.h"
#include "microvm/diag.h"

/* malloc arenas once filters are in: a fixed count, so glibc never probes the CPUs. */
#define SANDBOX_MALLOC_ARENAS 4
/* Exit status of a process killed for a forbidden syscall (as Firecracker's). */
#define SANDBOX_EXIT_CODE 148
/*
 * The integration tests' proof that a filter kills: a thread kind named here ("vmm",
 * "vcpu", "io") makes a forbidden syscall right after installing its filter. Read once,
 * by sandbox_prepare; the jailer starts the VMM with an empty environment.
 */
#define SANDBOX_TEST_VIOLATION_ENV "MICROVM_TEST_SECCOMP_VIOLATION"

enum sandbox_mode {
	SANDBOX_BUILTIN,  /* the filters embedded at build time */
	SANDBOX_FILE,     /* --seccomp-policy FILE */
	SANDBOX_OFF,      /* --no-seccomp, for debugging */
};

struct seccomp_file;

struct sandbox {
	enum sandbox_mode mode;
	struct seccomp_file *file;     /* SANDBOX_FILE: the parsed filters */
	const char *file_name;         /* for messages */
	const char *test_violation;    /* SANDBOX_TEST_VIOLATION_ENV, or NULL */
};

/*
 * Once, before any thread starts: selects the filters, installs the SIGSYS handler and
 * sets malloc up so that it never needs a syscall the filters forbid.
 */
MUST_CHECK int sandbox_prepare(struct sandbox *sb, enum sandbox_mode mode, const char *file,
			       struct diag *d);
/* First thing in each thread: no_new_privs, then the filter of its kind ("vmm", "vcpu" ...). */
MUST_CHECK int sandbox_enter(const struct sandbox *sb, const char *thread_kind, struct diag *d);
/* --print-seccomp: the effective allowlist of each thread kind. */
void sandbox_print(const struct sandbox *sb, FILE *out);
/* Frees what sandbox_prepare loaded; the installed filters stay. */
void sandbox_release(struct sandbox *sb);

#endif
