#include "args.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum {
	OPT_ID = 0x100,
	OPT_EXEC_FILE,
	OPT_UID,
	OPT_GID,
	OPT_ALLOW_ROOT,
	OPT_CHROOT_BASE,
	OPT_VERSION,
};

static const struct option jailer_options[] = {
	{ "id", required_argument, NULL, OPT_ID },
	{ "exec-file", required_argument, NULL, OPT_EXEC_FILE },
	{ "uid", required_argument, NULL, OPT_UID },
	{ "gid", required_argument, NULL, OPT_GID },
	{ "allow-root", no_argument, NULL, OPT_ALLOW_ROOT },
	{ "chroot-base-dir", required_argument, NULL, OPT_CHROOT_BASE },
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
		"  --chroot-base-dir DIR   where jails are built (default %s)\n"
		"  -h, --help              this help\n"
		"      --version           print the version\n",
		JAILER_ID_MAX, JAILER_DEFAULT_UID, JAILER_DEFAULT_GID, JAILER_DEFAULT_CHROOT_BASE);
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
	char *end;
	unsigned long v;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoul(s, &end, 10);
	/* (uid_t)-1 means "unchanged" to setuid-family calls: never a target id. */
	if (errno || *end != '\0' || v >= UINT32_MAX)
		return false;
	*out = (uint32_t)v;
	return true;
}

enum jailer_args_result jailer_args_parse(struct jailer_args *a, int argc, char **argv)
{
	int opt;
	uint32_t v;

	memset(a, 0, sizeof(*a));
	a->uid = JAILER_DEFAULT_UID;
	a->gid = JAILER_DEFAULT_GID;
	a->chroot_base = JAILER_DEFAULT_CHROOT_BASE;

	opterr = 0;
	optind = 1;
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
			a->chroot_base = optarg;
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
	}
	a->vmm_argv = argv + optind;
	a->vmm_argc = argc - optind;
	return JAILER_ARGS_OK;
}
