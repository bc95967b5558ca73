/*
 * Which of the VMM's arguments name host files, so the jailer can bring each into the
 * jail and rewrite the argument to its jail path. It reads microvm's own option table
 * (src/config/options.h), so an option the jailer does not know is one microvm does
 * not have: refused, rather than guessed at.
 */
#ifndef JAILER_VMMARGS_H
#define JAILER_VMMARGS_H

#include <stdbool.h>
#include <stddef.h>

#include "microvm/compiler.h"
#include "microvm/diag.h"

#define VMMARGS_REFS_MAX 32
/*
 * The jail's one writable directory, owned by the VM's uid (mode 0700), on the host at
 * <jail>/root/run: where the VMM creates its sockets (the API's, vsock's) and the
 * files a config file's logger and metrics name, and where the operator finds them.
 */
#define VMMARGS_RUN_DIR "/run/"

enum vmm_file_role {
	VMM_FILE_COPY, /* read once at start (--kernel, --initrd, --seccomp-policy): copied in */
	VMM_FILE_DISK, /* used in place (a drive's path=, --mem-file): bound in */
	VMM_FILE_CONFIG, /* a JSON config file: read, its files brought in, rewritten in (jailconfig.c) */
};

/* One file path inside the VMM's argv: bytes [off, off + len) of argv[argi]. */
struct vmm_file_ref {
	int argi;
	size_t off;
	size_t len;
	enum vmm_file_role role;
	const char *option; /* "kernel", for messages */
	const char *key;    /* the device field naming it ("path"), or NULL */
	bool read_only;     /* a file its device only reads (a drive's "ro"): bound read-only */
};

/*
 * Finds every file the VMM's arguments name (argv without the VMM's own name), the way
 * the VMM's getopt_long reads them: "--kernel FILE" and "--kernel=FILE", values of
 * other options skipped, nothing after "--" or the first non-option; a device's files
 * are read_only when its text has the flag that makes it only read them. Refused, with a
 * reason naming the argument: an option microvm does not have, an abbreviation of one
 * that names a file ("--kern"), a file option without a path, a socket the VMM would
 * create anywhere but the jail's VMMARGS_RUN_DIR, and --id (the jailer passes its own).
 */
MUST_CHECK int vmmargs_scan(int argc, char *const *argv, struct vmm_file_ref *refs, size_t max,
			    size_t *n, struct diag *d);
/* path is a file directly in VMMARGS_RUN_DIR ("/run/api.sock"): the only place a jailed VMM creates one. */
bool vmmargs_in_run_dir(const char *path, size_t len);
/* A new string: word with bytes [off, off + len) replaced by repl; NULL when out of memory. */
char *vmmargs_splice(const char *word, size_t off, size_t len, const char *repl);

#endif
