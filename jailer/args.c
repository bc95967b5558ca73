#include "args.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "microvm/strparse.h"

#include "microvm/diag.h"

enum {
	OPT_ID = 0x100,
	OPT_EXEC_FILE,
	OPT_UID,
	OPT_GID,
	OPT_ALLOW_ROOT,
	OPT_CHROOT_BASE,
	OPT_NETNS,
	OPT_DAEMONIZE,
	OPT_NEW_PID_NS,
	OPT_CGROUP,
	OPT_PARENT_CGROUP,
	OPT_RESOURCE_LIMIT,
	OPT_CLEANUP,
	OPT_USERNS,
	OPT_VERSION,
};

static const struct option jailer_options[] = {
	{ "id", required_argument, NULL, OPT_ID },
	{ "exec-file", required_argument, NULL, OPT_EXEC_FILE },
	{ "uid", required_argument, NULL, OPT_UID },
	{ "gid", required_argument, NULL, OPT_GID },
	{ "allow-root", no_argument, NULL, OPT_ALLOW_ROOT },
	{ "chroot-base-dir", required_argument, NULL, OPT_CHROOT_BASE },
	{ "netns", required_argument, NULL, OPT_NETNS },
	{ "daemonize", no_argument, NULL, OPT_DAEMONIZE },
	{ "new-pid-ns", no_argument, NULL, OPT_NEW_PID_NS },
	{ "cgroup", required_argument, NULL, OPT_CGROUP },
	{ "parent-cgroup", required_argument, NULL, OPT_PARENT_CGROUP },
	{ "resource-limit", required_argument, NULL, OPT_RESOURCE_LIMIT },
	{ "cleanup", no_argument, NULL, OPT_CLEANUP },
	{ "userns", no_argument, NULL, OPT_USERNS },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ NULL, 0, NULL, 0 },
};

void jailer_print_usage(FILE *out)
{
	fprintf(out,
		"Usage: jailer --id ID [OPTIONS] -- VMM [VMM-ARGS...]\n"
		"       jailer --id ID --exec-file PATH [OPTIONS] -- [VMM-ARGS...]\n"
		"Prepare a jail for one microVM and exec the VMM inside it.\n"
		"\n"
		"  --id ID                 jail name: 1-%d characters of [A-Za-z0-9-]\n"
		"  --exec-file PATH        the VMM binary (else the first word after --: a bare\n"
		"                          name is looked up next to the jailer, then in PATH)\n"
		"  --uid UID, --gid GID    ids the VMM runs as (default %d:%d, \"nobody\");\n"
		"                          0 only with --allow-root\n"
		"  --allow-root            permit uid or gid 0\n"
		"  --chroot-base-dir DIR   where jails are built (default %s): the jail is\n"
		"                          DIR/<exec-name>/<id>/root\n"
		"  --netns PATH            join this network namespace (e.g. /var/run/netns/NAME);\n"
		"                          without it the VMM gets a new, empty one\n"
		"  --resource-limit NAME=N fsize=BYTES or no-file=N (default no-file=%d); repeatable\n"
		"  --cgroup FILE=VALUE     a cgroup v2 setting such as memory.max=256M; repeatable\n"
		"  --parent-cgroup PATH    the VM's cgroup is PATH/<id> (default: <exec-name>)\n"
		"  --new-pid-ns            accepted as Firecracker spells it: the VMM always runs\n"
		"                          as pid 1 of a new pid namespace\n"
		"  --daemonize             detach: new session, stdio on /dev/null; exit 0 once\n"
		"                          the VMM runs\n"
		"  --cleanup               remove the jail (and its cgroup) when the VMM ends\n"
		"  --userns                rootless: build the jail in a new user namespace that\n"
		"                          maps only --uid/--gid to the caller's own ids\n"
		"  -h, --help              this help\n"
		"      --version           print the version\n"
		"\n"
		"The VMM's host pid is written to DIR/<exec-name>/<id>/<exec-name>.pid.\n"
		"Exit status: the VMM's (128+N if signal N killed it), or 0 with --daemonize;\n"
		"1 when the jail cannot be built, 2 on a usage error.\n",
		JAILER_ID_MAX, JAILER_DEFAULT_UID, JAILER_DEFAULT_GID, JAILER_DEFAULT_CHROOT_BASE,
		RLIMIT_SETTINGS_DEFAULT_NOFILE);
}

bool jailer_id_valid(const char *id)
{
	size_t n = strnlen(id, JAILER_ID_MAX + 1);

	if (n == 0 || n > JAILER_ID_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = id[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-'))
			return false;
	}
	return true;
}

static PRINTF_LIKE(1, 2) enum jailer_args_result jailer_usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "jailer: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'jailer --help' for more information.\n");
	return JAILER_ARGS_EXIT_USAGE;
}

static bool jailer_parse_id_number(const char *s, uint32_t *out)
{
	uint64_t v;

	/* (uid_t)-1 means "unchanged" to setuid-family calls: never a target id. */
	if (!parse_decimal_u64(s, 0, UINT32_MAX - 1, &v))
		return false;
	*out = (uint32_t)v;
	return true;
}

enum jailer_args_result jailer_args_parse(struct jailer_args *a, int argc, char **argv)
{
	int opt;
	uint32_t v;
	struct diag d;

	memset(a, 0, sizeof(*a));
	a->uid = JAILER_DEFAULT_UID;
	a->gid = JAILER_DEFAULT_GID;
	a->chroot_base = JAILER_DEFAULT_CHROOT_BASE;
	rlimit_settings_init(&a->limits);

	opterr = 0;
	/* 0, not 1: glibc then also forgets a position inside an earlier call's "-hx" cluster. */
	optind = 0;
	while ((opt = getopt_long(argc, argv, "+:h", jailer_options, NULL)) != -1) {
		switch (opt) {
		case OPT_ID:
			if (!jailer_id_valid(optarg))
				return jailer_usage_error("--id '%s': must be 1-%d characters of [A-Za-z0-9-]",
							  optarg, JAILER_ID_MAX);
			a->id = optarg;
			break;
		case OPT_EXEC_FILE:
			a->exec_file = optarg;
			break;
		case OPT_UID:
			if (!jailer_parse_id_number(optarg, &v))
				return jailer_usage_error("--uid '%s': expected a numeric user id", optarg);
			a->uid = v;
			break;
		case OPT_GID:
			if (!jailer_parse_id_number(optarg, &v))
				return jailer_usage_error("--gid '%s': expected a numeric group id", optarg);
			a->gid = v;
			break;
		case OPT_ALLOW_ROOT:
			a->allow_root = true;
			break;
		case OPT_CHROOT_BASE:
			if (optarg[0] == '\0')
				return jailer_usage_error("--chroot-base-dir: empty path");
			a->chroot_base = optarg;
			break;
		case OPT_NETNS:
			a->netns = optarg;
			break;
		case OPT_DAEMONIZE:
			a->daemonize = true;
			break;
		case OPT_NEW_PID_NS:
			break; /* Firecracker's flag: here the VMM always gets a new pid namespace */
		case OPT_CGROUP:
			if (a->n_cgroups == CGROUP_SETTINGS_MAX)
				return jailer_usage_error("--cgroup: at most %d settings", CGROUP_SETTINGS_MAX);
			if (cgroup_setting_parse(&a->cgroups[a->n_cgroups], optarg, &d))
				return jailer_usage_error("%s", d.msg);
			a->n_cgroups++;
			break;
		case OPT_PARENT_CGROUP:
			if (!cgroup_path_valid(optarg))
				return jailer_usage_error("--parent-cgroup '%s': expected a relative path of "
							  "[A-Za-z0-9_.-] components, without '.' or '..'", optarg);
			a->parent_cgroup = optarg;
			break;
		case OPT_RESOURCE_LIMIT:
			if (rlimit_parse(&a->limits, optarg, &d))
				return jailer_usage_error("%s", d.msg);
			break;
		case OPT_CLEANUP:
			a->cleanup = true;
			break;
		case OPT_USERNS:
			a->userns = true;
			break;
		case 'h':
			jailer_print_usage(stdout);
			return JAILER_ARGS_EXIT_HELP;
		case OPT_VERSION:
			printf("jailer %s\n", MICROVM_VERSION);
			return JAILER_ARGS_EXIT_HELP;
		case ':':
			return jailer_usage_error("option '%s' needs an argument", argv[optind - 1]);
		case '?':
		default:
			/* Inside a cluster (-xy) the bad letter is in optopt, not the whole word. */
			if (optopt)
				return jailer_usage_error("unknown option '-%c'", optopt);
			return jailer_usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (!a->id)
		return jailer_usage_error("--id ID is required");
	if ((a->uid == 0 || a->gid == 0) && !a->allow_root)
		return jailer_usage_error("--uid %u --gid %u: running the VMM as root needs --allow-root",
					  (unsigned int)a->uid, (unsigned int)a->gid);
	/* getopt stops at "--"; what follows is the VMM and its arguments. */
	if (!a->exec_file) {
		if (optind >= argc)
			return jailer_usage_error("no VMM given: use -- VMM [ARGS] or --exec-file PATH");
		a->exec_file = argv[optind++];
		a->exec_search = true;
	}
	a->vmm_argv = argv + optind;
	a->vmm_argc = argc - optind;
	return JAILER_ARGS_OK;
}
