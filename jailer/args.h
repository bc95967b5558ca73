/* The jailer's command line, validated before anything is created on the host. */
#ifndef JAILER_ARGS_H
#define JAILER_ARGS_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

#include "microvm/compiler.h"

#define JAILER_ID_MAX 64
#define JAILER_DEFAULT_CHROOT_BASE "/srv/jailer"
/* The conventional "nobody" ids: unprivileged and owning nothing. */
#define JAILER_DEFAULT_UID 65534
#define JAILER_DEFAULT_GID 65534

struct jailer_args {
	const char *id;
	const char *exec_file;      /* --exec-file, or the first word after -- */
	char **vmm_argv;            /* the VMM's arguments after -- (without its name) */
	int vmm_argc;
	uid_t uid;
	gid_t gid;
	bool allow_root;
	const char *chroot_base;
};

enum jailer_args_result {
	JAILER_ARGS_OK,
	JAILER_ARGS_EXIT_HELP,
	JAILER_ARGS_EXIT_USAGE,
};

/* True when id is 1-64 characters of [A-Za-z0-9-]. */
bool jailer_id_valid(const char *id);
MUST_CHECK enum jailer_args_result jailer_args_parse(struct jailer_args *a, int argc, char **argv);
void jailer_print_usage(FILE *out);

#endif
