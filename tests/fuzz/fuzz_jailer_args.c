/*
 * jailer_args_parse on any argument vector: the input split at NUL bytes is
 * argv after "jailer". An accepted vector yields only validated values; the files
 * its VMM arguments name (vmmargs_scan, through microvm's option table) are
 * non-empty ranges of those arguments.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "harness.h"
#include "vmmargs.h"

/* Field by field: padding need not match. */
static bool same_args(const struct jailer_args *a, const struct jailer_args *b)
{
	return a->id == b->id && a->exec_file == b->exec_file && a->exec_search == b->exec_search &&
	       a->vmm_argv == b->vmm_argv && a->vmm_argc == b->vmm_argc && a->uid == b->uid &&
	       a->gid == b->gid && a->allow_root == b->allow_root && a->chroot_base == b->chroot_base &&
	       a->netns == b->netns && a->daemonize == b->daemonize &&
	       a->cleanup == b->cleanup && a->userns == b->userns &&
	       a->parent_cgroup == b->parent_cgroup && a->n_cgroups == b->n_cgroups &&
	       memcmp(a->cgroups, b->cgroups, a->n_cgroups * sizeof(a->cgroups[0])) == 0 &&
	       a->limits.fsize_set == b->limits.fsize_set && a->limits.fsize == b->limits.fsize &&
	       a->limits.nofile == b->limits.nofile;
}

/*
 * Each file reference is a non-empty range of one VMM argument, a drive path without its
 * comma; only a disk is bound read-only.
 */
static void check_vmm_files(const struct jailer_args *a)
{
	struct vmm_file_ref refs[VMMARGS_REFS_MAX];
	struct diag d;
	size_t n;

	if (vmmargs_scan(a->vmm_argc, a->vmm_argv, refs, VMMARGS_REFS_MAX, &n, &d) != 0)
		return;
	FUZZ_CHECK(n <= VMMARGS_REFS_MAX);
	for (size_t i = 0; i < n; i++) {
		const struct vmm_file_ref *r = &refs[i];

		FUZZ_CHECK(r->argi >= 0 && r->argi < a->vmm_argc && r->len > 0);
		FUZZ_CHECK(r->off + r->len <= strlen(a->vmm_argv[r->argi]));
		FUZZ_CHECK(r->role != VMM_FILE_DISK ||
			   !memchr(a->vmm_argv[r->argi] + r->off, ',', r->len));
		FUZZ_CHECK(!r->read_only || r->role == VMM_FILE_DISK);
	}
}

static enum jailer_args_result parse_quietly(struct jailer_args *a, int argc, char **argv)
{
	enum jailer_args_result r;

	fuzz_quiet(true);
	r = jailer_args_parse(a, argc, argv);
	fuzz_quiet(false);
	return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct jailer_args a, again;
	enum jailer_args_result r;
	char *buf, **argv;
	int argc;

	argv = fuzz_split_argv(data, size, "jailer", &buf, &argc);
	r = parse_quietly(&a, argc, argv);
	if (r == JAILER_ARGS_OK) {
		FUZZ_CHECK(a.id && jailer_id_valid(a.id) && fuzz_in_argv(a.id, argv, argc, NULL));
		FUZZ_CHECK(a.exec_file && fuzz_in_argv(a.exec_file, argv, argc, NULL));
		/* A VMM named after "--" is that whole word, and its arguments follow it. */
		FUZZ_CHECK(!a.exec_search || a.vmm_argv[-1] == a.exec_file);
		FUZZ_CHECK(a.chroot_base[0] && fuzz_in_argv(a.chroot_base, argv, argc, JAILER_DEFAULT_CHROOT_BASE));
		FUZZ_CHECK(!a.netns || fuzz_in_argv(a.netns, argv, argc, NULL));
		FUZZ_CHECK(!a.parent_cgroup ||
			   (cgroup_path_valid(a.parent_cgroup) && fuzz_in_argv(a.parent_cgroup, argv, argc, NULL)));
		/* Each cgroup setting becomes one write of one line to a file in the VM's cgroup. */
		FUZZ_CHECK(a.n_cgroups <= CGROUP_SETTINGS_MAX);
		for (size_t i = 0; i < a.n_cgroups; i++)
			FUZZ_CHECK(cgroup_file_valid(a.cgroups[i].file) && a.cgroups[i].value[0] &&
				   !strpbrk(a.cgroups[i].value, "\n\r") &&
				   fuzz_in_argv(a.cgroups[i].value, argv, argc, NULL));
		/* Root only when asked for; (uid_t)-1 means "unchanged" to setresuid(), never a target. */
		FUZZ_CHECK(a.allow_root || (a.uid != 0 && a.gid != 0));
		FUZZ_CHECK(a.uid != (uid_t)-1 && a.gid != (gid_t)-1);
		/* The VMM's arguments are the tail of argv, NULL-terminated. */
		FUZZ_CHECK(a.vmm_argc >= 0 && a.vmm_argv + a.vmm_argc == argv + argc &&
			   a.vmm_argv[a.vmm_argc] == NULL);
		check_vmm_files(&a);
	} else {
		FUZZ_CHECK(r == JAILER_ARGS_EXIT_HELP || r == JAILER_ARGS_EXIT_USAGE);
	}
	/* No hidden state: the same vector parses the same way again (getopt keeps some in globals). */
	FUZZ_CHECK(parse_quietly(&again, argc, argv) == r);
	FUZZ_CHECK(r != JAILER_ARGS_OK || same_args(&a, &again));
	free(argv);
	free(buf);
	return 0;
}
