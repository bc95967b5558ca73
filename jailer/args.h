/* The jailer's command line, validated before anything is created on the host. */
#ifndef JAILER_ARGS_H
#define JAILER_ARGS_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

#include "cgroup.h"
#include "microvm/compiler.h"
#include "rlimit.h"

#define JAILER_ID_MAX 64
#define JAILER_DEFAULT_CHROOT_BASE "/srv/jailer"
/* The conventional "nobody" ids: unprivileged and owning nothing. */
#define JAILER_DEFAULT_UID 65534
#define JAILER_DEFAULT_GID 65534

struct jailer_args {
	const char *id;
	const char *exec_file;      /* --exec-file, or the first word after -- */
	bool exec_search;           /* exec_file came after --: a bare name is looked up */
	char **vmm_argv;            /* the VMM's arguments after -- (without its name) */
	int vmm_argc;
	uid_t uid;
	gid_t gid;
	bool allow_root;
	const char *chroot_base;
	const char *netns;          /* --netns PATH: a network namespace to join */
	bool daemonize;
	bool cleanup;               /* remove the jail when the VMM ends */
	bool userns;                /* rootless: run the jail in a new user namespace */
	const char *parent_cgroup;  /* NULL: the exec file's name, as Firecracker does */
	struct cgroup_setting cgroups[CGROUP_SETTINGS_MAX];
	size_t n_cgroups;
	struct rlimit_settings limits;
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
