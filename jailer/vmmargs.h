/* Which of the VMM's arguments name host files, so the jailer can rewrite them to jail paths. */
#ifndef JAILER_VMMARGS_H
#define JAILER_VMMARGS_H

#include <stdbool.h>
#include <stddef.h>

#include "microvm/compiler.h"
#include "microvm/diag.h"

#define VMMARGS_REFS_MAX 32

enum vmm_file_role {
	VMM_FILE_KERNEL, /* --kernel FILE */
	VMM_FILE_INITRD, /* --initrd FILE */
	VMM_FILE_DISK,   /* --drive path=FILE[,KEY=VALUE...] */
};

/* One file path inside the VMM's argv: bytes [off, off + len) of argv[argi]. */
struct vmm_file_ref {
	int argi;
	size_t off;
	size_t len;
	enum vmm_file_role role;
	const char *option; /* "kernel", for messages */
	bool read_only;     /* a disk with the "ro" flag */
};

/*
 * Finds every file the VMM's arguments name (argv without the VMM's own name), the way
 * the VMM's getopt_long would read them: "--kernel FILE" and "--kernel=FILE", values of
 * other options skipped, nothing after "--" or the first non-option. An abbreviation of a file option ("--kern")
 * is refused, as is a file option without a path.
 */
MUST_CHECK int vmmargs_scan(int argc, char *const *argv, struct vmm_file_ref *refs, size_t max,
			    size_t *n, struct diag *d);
/* A new string: word with bytes [off, off + len) replaced by repl; NULL when out of memory. */
char *vmmargs_splice(const char *word, size_t off, size_t len, const char *repl);

#endif
