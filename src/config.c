#include "microvm/config.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "microvm/log.h"
#include "microvm/strparse.h"

enum {
	OPT_KERNEL = 0x100,
	OPT_INITRD,
	OPT_CMDLINE,
	OPT_MEM,
	OPT_VCPUS,
	OPT_CHECK,
	OPT_NO_PVM,
	OPT_SECCOMP_POLICY,
	OPT_NO_SECCOMP,
	OPT_PRINT_SECCOMP,
	OPT_DEBUG_SECCOMP_VIOLATION,
	OPT_VERSION,
};

static const struct option config_options[] = {
	{ "kernel", required_argument, NULL, OPT_KERNEL },
	{ "initrd", required_argument, NULL, OPT_INITRD },
	{ "cmdline", required_argument, NULL, OPT_CMDLINE },
	{ "mem", required_argument, NULL, OPT_MEM },
	{ "vcpus", required_argument, NULL, OPT_VCPUS },
	{ "check", no_argument, NULL, OPT_CHECK },
	{ "no-pvm", no_argument, NULL, OPT_NO_PVM },
	{ "seccomp-policy", required_argument, NULL, OPT_SECCOMP_POLICY },
	{ "no-seccomp", no_argument, NULL, OPT_NO_SECCOMP },
	{ "print-seccomp", no_argument, NULL, OPT_PRINT_SECCOMP },
	/* Hidden, for the seccomp tests: a thread makes a forbidden syscall. */
	{ "debug-seccomp-violation", required_argument, NULL, OPT_DEBUG_SECCOMP_VIOLATION },
	{ "verbose", no_argument, NULL, 'v' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ NULL, 0, NULL, 0 },
};

void config_print_usage(FILE *out)
{
	fprintf(out,
		"Usage: microvm --kernel FILE [OPTIONS]\n"
		"Boot one Linux guest (ELF vmlinux or bzImage) in a KVM microVM.\n"
		"\n"
		"  --kernel FILE     guest kernel: ELF vmlinux, or bzImage (boot protocol >= 2.12)\n"
		"  --initrd FILE     initial ramdisk, placed above the kernel\n"
		"  --cmdline STR     kernel command line (default: \"%s\")\n"
		"  --mem MIB         guest RAM in MiB (default %d)\n"
		"  --vcpus N         number of vCPUs, 1-%d (default %d)\n"
		"  --check           load and validate everything into guest memory as a boot\n"
		"                    would, print a summary and exit without running the guest\n"
		"  --no-pvm          never apply the PVM-host workarounds, even on a PVM host\n"
		"  --seccomp-policy FILE  use the filters in FILE (from seccomp-compile --binary)\n"
		"                    instead of the built-in ones\n"
		"  --no-seccomp      run without seccomp filters (debugging only)\n"
		"  --print-seccomp   print each thread's allowlist and exit\n"
		"  -v, --verbose     more log output (repeatable)\n"
		"  -q, --quiet       errors only\n"
		"  -h, --help        this help\n"
		"      --version     print the version\n"
		"\n"
		"Exit status: 0 when the guest resets or powers off, 1 on an error,\n"
		"2 on a usage error.\n",
		CONFIG_DEFAULT_CMDLINE, CONFIG_DEFAULT_MEM_MIB, CONFIG_MAX_VCPUS,
		CONFIG_DEFAULT_VCPUS);
}

static PRINTF_LIKE(1, 2) enum config_result config_usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "microvm: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'microvm --help' for more information.\n");
	return CONFIG_EXIT_USAGE;
}

enum config_result config_parse(struct microvm_config *cfg, int argc, char **argv)
{
	int opt;
	uint64_t v;

	memset(cfg, 0, sizeof(*cfg));
	cfg->cmdline = CONFIG_DEFAULT_CMDLINE;
	cfg->mem_mib = CONFIG_DEFAULT_MEM_MIB;
	cfg->vcpus = CONFIG_DEFAULT_VCPUS;
	cfg->pvm = PVM_AUTO;
	cfg->verbosity = 0;

	opterr = 0;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "+:vqh", config_options, NULL)) != -1) {
		switch (opt) {
		case OPT_KERNEL:
			cfg->kernel_path = optarg;
			break;
		case OPT_INITRD:
			cfg->initrd_path = optarg;
			break;
		case OPT_CMDLINE:
			cfg->cmdline = optarg;
			break;
		case OPT_MEM:
			if (!parse_decimal_u64(optarg, CONFIG_MIN_MEM_MIB, CONFIG_MAX_MEM_MIB, &v))
				return config_usage_error("--mem '%s': expected a size in MiB from " CONFIG_MIN_MEM_MIB_STR " to " CONFIG_MAX_MEM_MIB_STR, optarg);
			cfg->mem_mib = v;
			break;
		case OPT_VCPUS:
			if (!parse_decimal_u64(optarg, 1, CONFIG_MAX_VCPUS, &v))
				return config_usage_error("--vcpus '%s': expected a number from 1 to " CONFIG_MAX_VCPUS_STR, optarg);
			cfg->vcpus = (unsigned int)v;
			break;
		case OPT_CHECK:
			cfg->check_only = true;
			break;
		case OPT_NO_PVM:
			cfg->pvm = PVM_OFF;
			break;
		case OPT_SECCOMP_POLICY:
			cfg->seccomp = SANDBOX_FILE;
			cfg->seccomp_policy = optarg;
			break;
		case OPT_NO_SECCOMP:
			cfg->seccomp = SANDBOX_OFF;
			break;
		case OPT_PRINT_SECCOMP:
			cfg->print_seccomp = true;
			break;
		case OPT_DEBUG_SECCOMP_VIOLATION:
			if (strcmp(optarg, "vmm") != 0 && strcmp(optarg, "vcpu") != 0)
				return config_usage_error("--debug-seccomp-violation '%s': expected vmm or vcpu", optarg);
			cfg->seccomp_violation = optarg;
			break;
		case 'v':
			cfg->verbosity++;
			break;
		case 'q':
			cfg->verbosity = -1;
			break;
		case 'h':
			config_print_usage(stdout);
			return CONFIG_EXIT_HELP;
		case OPT_VERSION:
			printf("microvm %s\n", MICROVM_VERSION);
			return CONFIG_EXIT_HELP;
		case ':':
			return config_usage_error("option '%s' needs an argument", argv[optind - 1]);
		case '?':
		default:
			return config_usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return config_usage_error("unexpected argument '%s'", argv[optind]);
	if (!cfg->kernel_path && !cfg->print_seccomp)
		return config_usage_error("--kernel FILE is required");
	return CONFIG_OK;
}
