/*
 * The jailer: validate everything, build the jail on the host, then confine the process
 * one step at a time, in a fixed order, and exec the VMM inside.
 *
 * Steps 1-3 change nothing on the host, so bad input leaves nothing behind. Step 4 builds
 * the jail; a failure in it removes the jail again, and from step 5 on the monitor does,
 * whenever the VMM never ran. Step 5 settles the processes. Steps 6-15 each need
 * privileges that later ones drop, which fixes their order.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "args.h"
#include "caps.h"
#include "cgroup.h"
#include "dev.h"
#include "elfdeps.h"
#include "files.h"
#include "fs.h"
#include "landlock.h"
#include "lookup.h"
#include "microvm/diag.h"
#include "microvm/log.h"
#include "monitor.h"
#include "mounts.h"
#include "ns.h"
#include "proc.h"
#include "rlimit.h"
#include "userns.h"
#include "jailconfig.h"
#include "vmmargs.h"

/* vmm_argv: the VMM's name, "--id", the id, then the operator's arguments. */
#define JAILER_VMM_ARGS 3
#define JAILER_DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

struct jailer {
	struct jailer_args args;
	uid_t outer_uid;          /* who runs the jailer: owns the base; --userns maps to it */
	gid_t outer_gid;
	mode_t saved_umask;       /* the caller's, given back to the VMM */
	char *path_env;           /* PATH, kept from the cleared environment for the lookup */
	char *vmm_path;           /* on the host */
	const char *exec_name;
	char vmm_jail_path[NAME_MAX + 2];
	char **vmm_argv;          /* rewritten to jail paths, NULL-terminated */
	struct jail_files files;
	struct jail_dirs dirs;
	bool use_cgroup;
	struct cgroup cg;
	int netns_fd;
	int devnull_fd;           /* --daemonize: opened while /dev is still the host's */
	struct monitor mon;
	bool rollback;            /* a failure now removes the jail and the cgroup */
};

/* Removes what step 4 built; failures are only reported, as nothing more can be done. */
static void jailer_remove(struct jailer *j)
{
	int ret;

	if (j->dirs.jail_fd >= 0) {
		ret = fs_remove_jail(&j->dirs);
		if (ret)
			log_warn("removing %s: %s", j->dirs.path, strerror(-ret));
	}
	ret = cgroup_remove(&j->cg);
	if (ret)
		log_warn("removing cgroup %s/%s: %s", j->cg.mount_path, j->cg.rel, strerror(-ret));
}

/* The one way out on failure: one line, the rollback while it is possible, and the waiter told. */
static NORETURN void jailer_abort(struct jailer *j, const struct diag *d)
{
	log_error("%s", d->msg);
	if (j->rollback)
		jailer_remove(j);
	monitor_report_failure(&j->mon);
	exit(1);
}

static NORETURN PRINTF_LIKE(2, 3) void jailer_abortf(struct jailer *j, const char *fmt, ...)
{
	struct diag d;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(d.msg, sizeof(d.msg), fmt, ap);
	va_end(ap);
	jailer_abort(j, &d);
}

/* Opens every file the VMM's arguments name and rewrites those arguments to jail paths. */
static void jailer_take_vmm_files(struct jailer *j)
{
	struct vmm_file_ref refs[VMMARGS_REFS_MAX];
	const struct jailer_args *a = &j->args;
	struct diag d;
	size_t n;

	/* The VMM's own name, --id ID as Firecracker's jailer passes it, then the arguments. */
	j->vmm_argv = calloc((size_t)a->vmm_argc + 4, sizeof(char *));
	if (!j->vmm_argv)
		jailer_abortf(j, "out of memory");
	j->vmm_argv[0] = j->vmm_jail_path;
	j->vmm_argv[1] = strdup("--id");
	j->vmm_argv[2] = strdup(a->id);
	if (!j->vmm_argv[1] || !j->vmm_argv[2])
		jailer_abortf(j, "out of memory");
	for (int i = 0; i < a->vmm_argc; i++)
		j->vmm_argv[i + JAILER_VMM_ARGS] = a->vmm_argv[i];
	if (vmmargs_scan(a->vmm_argc, a->vmm_argv, refs, VMMARGS_REFS_MAX, &n, &d))
		jailer_abort(j, &d);
	for (size_t i = 0; i < n; i++) {
		const char *word = a->vmm_argv[refs[i].argi];
		bool disk = refs[i].role == VMM_FILE_DISK;
		char host[PATH_MAX], what[32], inside[NAME_MAX + 2];
		int fd, ret;

		if (refs[i].len >= sizeof(host))
			jailer_abortf(j, "--%s: path too long", refs[i].option);
		snprintf(host, sizeof(host), "%.*s", (int)refs[i].len, word + refs[i].off);
		/* "--kernel", "--drive path=": how the operator wrote it. */
		snprintf(what, sizeof(what), "--%s%s%s%s", refs[i].option, refs[i].key ? " " : "",
			 refs[i].key ? refs[i].key : "", refs[i].key ? "=" : "");
		if (refs[i].role == VMM_FILE_CONFIG) {
			if (jailconfig_take(&j->files, host, inside, sizeof(inside), &d))
				jailer_abortf(j, "VMM argument --%s %s: %s", refs[i].option, host, d.msg);
			j->vmm_argv[refs[i].argi + JAILER_VMM_ARGS] = vmmargs_splice(word, refs[i].off,
										  refs[i].len, inside);
			if (!j->vmm_argv[refs[i].argi + JAILER_VMM_ARGS])
				jailer_abortf(j, "out of memory");
			continue;
		}
		if (files_open_original(what, host, disk, &fd, &d))
			jailer_abort(j, &d);
		/* Each file sits at the jail's top level under its own name. */
		snprintf(inside, sizeof(inside), "/%s", files_basename(host));
		ret = files_add(&j->files, disk ? JAIL_FILE_DISK : JAIL_FILE_INPUT, fd, inside);
		if (ret == -EEXIST)
			jailer_abortf(j, "%s %s: the jail already holds a file or directory %s; rename one of them",
				      what, host, inside);
		if (ret)
			jailer_abortf(j, "%s %s: %s", what, host, strerror(-ret));
		j->files.items[j->files.n - 1].read_only = refs[i].read_only;
		j->vmm_argv[refs[i].argi + JAILER_VMM_ARGS] = vmmargs_splice(word, refs[i].off, refs[i].len, inside);
		if (!j->vmm_argv[refs[i].argi + JAILER_VMM_ARGS])
			jailer_abortf(j, "out of memory");
	}
}

/* Step 3: every check, and every host file opened, before anything is created. */
static void jailer_validate(struct jailer *j)
{
	const struct jailer_args *a = &j->args;
	struct diag d;
	int fd;

	if (!a->userns && j->outer_uid != 0)
		jailer_abortf(j, "must run as root (uid 0, not %u); --userns runs without root",
			      (unsigned int)j->outer_uid);
	/* The VM's ids map onto the caller's: from root, the VMM would be host uid 0. */
	if (a->userns && j->outer_uid == 0)
		jailer_abortf(j, "--userns is for unprivileged callers: as root it would run the VMM as "
			      "host uid 0; leave it out");
	if (a->userns && dev_check_host(&d))
		jailer_abort(j, &d);
	/* setns needs CAP_SYS_ADMIN over the namespace, which no user namespace of ours gives. */
	if (a->userns && a->netns)
		jailer_abortf(j, "--netns %s: an unprivileged caller cannot join a network namespace", a->netns);

	if (lookup_vmm(a->exec_file, a->exec_search, j->path_env, &fd, &j->vmm_path, &d))
		jailer_abort(j, &d);
	j->exec_name = files_basename(j->vmm_path);
	/* The name becomes a directory and "<name>.pid": keep it an ordinary file name. */
	if (j->exec_name[0] == '.' || strlen(j->exec_name) > NAME_MAX - strlen(".pid"))
		jailer_abortf(j, "VMM %s: its file name cannot name a jail directory", j->vmm_path);
	snprintf(j->vmm_jail_path, sizeof(j->vmm_jail_path), "/%s", j->exec_name);
	if (files_add(&j->files, JAIL_FILE_PROGRAM, fd, j->vmm_jail_path))
		jailer_abortf(j, "VMM %s: cannot be placed at %s in the jail", j->vmm_path, j->vmm_jail_path);
	if (elfdeps_collect(j->files.items[0].fd, j->vmm_path, &j->files, &d))
		jailer_abort(j, &d);
	jailer_take_vmm_files(j);

	if (fs_check_base(a->chroot_base, j->outer_uid, !a->userns, j->exec_name, a->id, &d))
		jailer_abort(j, &d);

	if (a->netns) {
		j->netns_fd = open(a->netns, O_RDONLY | O_CLOEXEC);
		if (j->netns_fd < 0)
			jailer_abortf(j, "--netns %s: %s", a->netns, strerror(errno));
		if (ns_check_net(j->netns_fd, a->netns, &d))
			jailer_abort(j, &d);
	}
	j->use_cgroup = a->n_cgroups > 0 || a->parent_cgroup;
	if (j->use_cgroup &&
	    cgroup_check(&j->cg, a->parent_cgroup ? a->parent_cgroup : j->exec_name, a->id, a->cgroups,
			 a->n_cgroups, &d))
		jailer_abort(j, &d);
	if (a->daemonize) {
		j->devnull_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (j->devnull_fd < 0)
			jailer_abortf(j, "--daemonize: /dev/null: %s", strerror(errno));
	}
}

/* Step 4: the jail directory, the VM's files in it, its /dev, its empty cgroup. */
static void jailer_build(struct jailer *j)
{
	const struct jailer_args *a = &j->args;
	struct diag d;

	j->rollback = true;
	if (fs_create(&j->dirs, a->chroot_base, j->outer_uid, j->exec_name, a->id, &d))
		jailer_abort(j, &d);
	/* Rootless, every file is the caller's already, which is the VM's uid inside. */
	if (files_install(&j->files, j->dirs.root_fd, a->uid, a->gid, !a->userns, &d))
		jailer_abort(j, &d);
	if (dev_create(j->dirs.root_fd, a->uid, a->gid, a->userns, &d))
		jailer_abort(j, &d);
	/* The VMM's one writable directory (VMMARGS_RUN_DIR), the VM's uid's alone. */
	if (mkdirat(j->dirs.root_fd, "run", 0700) ||
	    (!a->userns && fchownat(j->dirs.root_fd, "run", a->uid, a->gid, AT_SYMLINK_NOFOLLOW)))
		jailer_abortf(j, "jail: creating /run: %s", strerror(errno));
	if (j->use_cgroup && cgroup_create(&j->cg, &d))
		jailer_abort(j, &d);
}

/* Stdin, stdout and stderr on /dev/null: a daemon holds no terminal. */
static void jailer_detach_stdio(struct jailer *j)
{
	for (int fd = 0; fd <= 2; fd++)
		if (dup2(j->devnull_fd, fd) < 0)
			jailer_abortf(j, "--daemonize: %s", strerror(errno));
}

/*
 * The monitor's life: the pid file, the VMM's set-up verdict (a failed one is removed at
 * once), then waiting for the VMM and, with --cleanup, removing the jail.
 */
static int jailer_monitor(struct jailer *j)
{
	struct diag d;
	bool ready;
	int status;

	j->rollback = false;
	if (fs_write_pid_file(&j->dirs, j->exec_name, j->mon.child, &d))
		log_warn("%s", d.msg);
	ready = monitor_wait_ready(&j->mon);
	if (!ready)
		jailer_remove(j);
	monitor_pass_on(&j->mon, ready);
	if (j->args.daemonize)
		jailer_detach_stdio(j);
	status = monitor_wait(&j->mon);
	if (ready && j->args.cleanup)
		jailer_remove(j);
	return status;
}

int main(int argc, char **argv)
{
	static struct jailer j;
	const struct jailer_args *a = &j.args;
	const char *path;
	struct diag d;
	int ret;

	log_init("jailer", LOG_INFO);
	fs_dirs_init(&j.dirs);
	files_init(&j.files);
	cgroup_init(&j.cg);
	monitor_init(&j.mon);
	j.netns_fd = j.devnull_fd = -1;
	j.outer_uid = geteuid();
	j.outer_gid = getegid();

	/*
	 * 1. A clean process: no inherited fd above 2, none of 0-2 a directory, no environment
	 * (PATH kept for step 3).
	 */
	ret = proc_close_fds_above_stdio();
	if (ret)
		jailer_abortf(&j, "closing inherited file descriptors: %s", strerror(-ret));
	if (proc_check_stdio(&d))
		jailer_abort(&j, &d);
	path = getenv("PATH");
	j.path_env = strdup(path ? path : JAILER_DEFAULT_PATH);
	if (!j.path_env || clearenv())
		jailer_abortf(&j, "clearing the environment: out of memory");
	/* Every mode below is exact; the VMM gets the caller's umask back in step 15. */
	j.saved_umask = umask(0);

	/* 2. Parse. */
	switch (jailer_args_parse(&j.args, argc, argv)) {
	case JAILER_ARGS_OK:
		break;
	case JAILER_ARGS_EXIT_HELP:
		return 0;
	case JAILER_ARGS_EXIT_USAGE:
	default:
		return 2;
	}

	/* 3. Validate: ids, the VMM, the files it names, the base, netns, cgroup. Creates nothing. */
	jailer_validate(&j);

	/* 4. Build <base>/<exec-name>/<id>/root with the VMM, its libraries, its files and /dev. */
	jailer_build(&j);

	/*
	 * 5. Processes. --daemonize forks and the parent returns once the VMM runs. The
	 * monitor forks here, before any step changes the process, so it stays a plain host
	 * process that can wait, report the status and remove the jail. Its child is pid 1
	 * of a new pid namespace, where no process outside the jail can be seen or signalled
	 * (rootless, the pid namespace must belong to the user namespace, so that one is
	 * entered first, the monitor with it).
	 */
	if (a->daemonize) {
		ret = monitor_daemonize(&j.mon, &d);
		if (ret < 0)
			jailer_abort(&j, &d);
		if (ret > 0)
			return monitor_wait_ready(&j.mon) ? 0 : 1;
	}
	if (a->userns && userns_enter(a->uid, a->gid, j.outer_uid, j.outer_gid, &d))
		jailer_abort(&j, &d);
	ret = monitor_fork(&j.mon, &d);
	if (ret < 0)
		jailer_abort(&j, &d);
	if (ret > 0)
		return jailer_monitor(&j);
	/* From here the monitor removes the jail if this process fails. */
	j.rollback = false;

	/* 6. Join the network namespace. */
	if (j.netns_fd >= 0 && ns_join_net(j.netns_fd, a->netns, &d))
		jailer_abort(&j, &d);

	/* 7. Resource limits. */
	if (rlimit_apply(&a->limits, &d))
		jailer_abort(&j, &d);

	/* 8. Cgroup: controllers and limits first, then this process moves in. */
	if (j.use_cgroup && (cgroup_configure(&j.cg, a->cgroups, a->n_cgroups, &d) || cgroup_join(&j.cg, &d)))
		jailer_abort(&j, &d);

	/*
	 * 9. Namespaces (rootless, in the user namespace entered at step 5, which owns them):
	 * a network namespace of its own unless step 6 joined --netns, so that no socket of
	 * the host, abstract Unix ones included, can be reached.
	 */
	if (ns_unshare_jail(j.dirs.jail_fd, !a->netns, &d))
		jailer_abort(&j, &d);

	/* 10. Mounts: slave propagation, the jail root bound read-only, pivot_root, old root detached. */
	if (mounts_enter_jail(&j.files, a->userns, &d))
		jailer_abort(&j, &d);

	/* 11. Capabilities, part one: the bounding and ambient sets, while CAP_SETPCAP is held. */
	if (caps_drop_bounding_and_ambient(&d))
		jailer_abort(&j, &d);

	/* 12. no_new_privs. */
	if (caps_set_no_new_privs(&d))
		jailer_abort(&j, &d);

	/*
	 * 13. Landlock (after no_new_privs, which it needs): no abstract Unix socket and no
	 * process outside the jail's domain, even in a --netns shared with others. A kernel
	 * without it is said once: the namespaces of steps 5 and 9 still hold.
	 */
	ret = landlock_scope(&d);
	if (ret == -EOPNOTSUPP)
		log_warn("%s: abstract Unix sockets and signals are not scoped to the jail; its own pid "
			 "and network namespaces still hide the host's (README: Jailer, without Landlock)",
			 d.msg);
	else if (ret)
		jailer_abort(&j, &d);

	/*
	 * 14. Groups, gid, uid (the last use of CAP_SETGID/CAP_SETUID), the tie to the
	 * monitor, then capabilities part two: everything left, checked.
	 */
	if (caps_set_ids(a->uid, a->gid, !a->userns, &d) || monitor_tie_to_parent(&j.mon, &d) ||
	    caps_clear(&d))
		jailer_abort(&j, &d);

	/* 15. Exec the VMM: empty environment, default signals, and every other fd closes (O_CLOEXEC). */
	if (a->daemonize)
		jailer_detach_stdio(&j);
	umask(j.saved_umask);
	proc_reset_signals();
	execve(j.vmm_jail_path, j.vmm_argv, (char *[]){ NULL });
	jailer_abortf(&j, "exec %s in the jail %s: %s", j.vmm_jail_path, j.dirs.path, strerror(errno));
}
