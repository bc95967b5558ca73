/* A dynamically linked VMM's ELF interpreter and shared libraries, to copy into its jail. */
#ifndef JAILER_ELFDEPS_H
#define JAILER_ELFDEPS_H

#include "files.h"
#include "microvm/compiler.h"
#include "microvm/diag.h"

/*
 * Reads the VMM's program headers: a static executable needs nothing more. A dynamic one
 * gets its PT_INTERP and, recursively, every DT_NEEDED library, found in the system
 * directories the interpreter searches by default, added to files at the same paths.
 */
MUST_CHECK int elfdeps_collect(int exe_fd, const char *exe_path, struct jail_files *files,
			       struct diag *d);

#endif
