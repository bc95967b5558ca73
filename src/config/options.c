#include "config/options.h"

#include <string.h>

#include "config/devices.h"
#include "microvm/strparse.h"

static int opt_kernel(struct microvm_config *c, const char *value, struct diag *d)
{
	return resources_set_kernel(&c->res, value, d);
}

static int opt_initrd(struct microvm_config *c, const char *value, struct diag *d)
{
	return resources_set_initrd(&c->res, value, d);
}

static int opt_cmdline(struct microvm_config *c, const char *value, struct diag *d)
{
	return resources_set_cmdline(&c->res, value, d);
}

static int opt_mem(struct microvm_config *c, const char *value, struct diag *d)
{
	uint64_t v;

	if (!parse_decimal_u64(value, 0, UINT64_MAX, &v))
		return diag_fail(d, "expected " RESOURCES_MEM_MIB_RULE);
	return resources_set_mem_mib(&c->res, v, d);
}

static int opt_vcpus(struct microvm_config *c, const char *value, struct diag *d)
{
	uint64_t v;

	if (!parse_decimal_u64(value, 0, UINT64_MAX, &v))
		return diag_fail(d, "expected " RESOURCES_VCPUS_RULE);
	return resources_set_vcpus(&c->res, v, d);
}

static int opt_shutdown_timeout(struct microvm_config *c, const char *value, struct diag *d)
{
	uint64_t v;

	if (!parse_decimal_u64(value, 0, UINT64_MAX, &v))
		return diag_fail(d, "expected " RESOURCES_SHUTDOWN_TIMEOUT_RULE);
	return resources_set_shutdown_timeout(&c->res, v, d);
}

static int opt_check(struct microvm_config *c, const char *value, struct diag *d)
{
	(void)value;
	(void)d;
	c->check_only = true;
	return 0;
}

static int opt_entry64(struct microvm_config *c, const char *value, struct diag *d)
{
	(void)value;
	(void)d;
	c->res.boot.entry64 = true;
	return 0;
}

static int opt_no_pvm(struct microvm_config *c, const char *value, struct diag *d)
{
	(void)value;
	(void)d;
	c->res.machine.pvm = PVM_OFF;
	return 0;
}

static int opt_snapshot(struct microvm_config *c, const char *value, struct diag *d)
{
	(void)d;
	c->snapshot = value;
	return 0;
}

static int opt_mem_file(struct microvm_config *c, const char *value, struct diag *d)
{
	(void)d;
	c->mem_file = value;
	return 0;
}

static int opt_paused(struct microvm_config *c, const char *value, struct diag *d)
{
	(void)value;
	(void)d;
	c->paused = true;
	return 0;
}

static int opt_seccomp_policy(struct microvm_config *c, const char *value, struct diag *d)
{
	(void)d;
	c->seccomp = SANDBOX_FILE;
	c->seccomp_policy = value;
	return 0;
}

static int opt_no_seccomp(struct microvm_config *c, const char *value, struct diag *d)
{
	(void)value;
	(void)d;
	c->seccomp = SANDBOX_OFF;
	return 0;
}

static int opt_print_seccomp(struct microvm_config *c, const char *value, struct diag *d)
{
	(void)value;
	(void)d;
	c->print_seccomp = true;
	return 0;
}

static int opt_verbose(struct microvm_config *c, const char *value, struct diag *d)
{
	(void)value;
	(void)d;
	c->verbosity++;
	return 0;
}

static int opt_quiet(struct microvm_config *c, const char *value, struct diag *d)
{
	(void)value;
	(void)d;
	c->verbosity = -1;
	return 0;
}

static int opt_api_sock(struct microvm_config *c, const char *value, struct diag *d)
{
	if (!value[0])
		return diag_fail(d, "expected the path of a Unix socket to create");
	c->api_sock = value;
	return 0;
}

static int opt_config_file(struct microvm_config *c, const char *value, struct diag *d)
{
	(void)d;
	c->config_file = value;
	return 0;
}

static int opt_no_api(struct microvm_config *c, const char *value, struct diag *d)
{
	(void)value;
	(void)d;
	c->no_api = true;
	return 0;
}

bool config_id_valid(const char *id)
{
	size_t len = strlen(id);

	return len >= 1 && len <= CONFIG_ID_MAX &&
	       strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") == len;
}

static int opt_id(struct microvm_config *c, const char *value, struct diag *d)
{
	if (!config_id_valid(value))
		return diag_fail(d, "expected 1-" STRINGIFY(CONFIG_ID_MAX) " of A-Z a-z 0-9 -");
	memcpy(c->id, value, strlen(value) + 1);
	return 0;
}

static int opt_help(struct microvm_config *c, const char *value, struct diag *d)
{
	(void)c;
	(void)value;
	(void)d;
	config_print_usage(stdout);
	return CONFIG_APPLY_EXIT;
}

static int opt_version(struct microvm_config *c, const char *value, struct diag *d)
{
	(void)c;
	(void)value;
	(void)d;
	printf("microvm %s\n", MICROVM_VERSION);
	return CONFIG_APPLY_EXIT;
}

#define DEVICE_OPTION(spec, ops) { .arg = CONFIG_ARG_DEVICE, .device = &spec },

/* In --help's order. */
const struct config_option config_options[] = {
	{ .name = "kernel", .arg = CONFIG_ARG_FILE, .apply = opt_kernel,
	  .usage = "  --kernel FILE     guest kernel: ELF vmlinux, or bzImage (boot protocol >= 2.12)\n" },
	{ .name = "initrd", .arg = CONFIG_ARG_FILE, .apply = opt_initrd,
	  .usage = "  --initrd FILE     initial ramdisk, placed above the kernel\n" },
	{ .name = "cmdline", .arg = CONFIG_ARG_VALUE, .apply = opt_cmdline,
	  .usage = "  --cmdline STR     kernel command line (default: \"" RESOURCES_DEFAULT_CMDLINE "\")\n" },
	{ .name = "mem", .arg = CONFIG_ARG_VALUE, .apply = opt_mem,
	  .usage = "  --mem MIB         guest RAM in MiB (default " STRINGIFY(RESOURCES_DEFAULT_MEM_MIB) ")\n" },
	{ .name = "vcpus", .arg = CONFIG_ARG_VALUE, .apply = opt_vcpus,
	  .usage = "  --vcpus N         number of vCPUs, 1-" STRINGIFY(RESOURCES_MAX_VCPUS)
		   " (default " STRINGIFY(RESOURCES_DEFAULT_VCPUS) ")\n" },
	{ .name = "entry64", .arg = CONFIG_ARG_NONE, .apply = opt_entry64,
	  .usage = "  --entry64         enter an ELF kernel at its 64-bit entry even when it has a\n"
		   "                    PVH entry (XEN_ELFNOTE_PHYS32_ENTRY), which is used otherwise\n" },
	DEVICE_KINDS(DEVICE_OPTION)
	{ .name = "shutdown-timeout", .arg = CONFIG_ARG_VALUE, .apply = opt_shutdown_timeout,
	  .usage = "  --shutdown-timeout SECONDS  after SIGPWR presses the guest's ACPI power button,\n"
		   "                    stop the VM as SIGTERM does if the guest has not powered\n"
		   "                    off within SECONDS (default "
		   STRINGIFY(RESOURCES_DEFAULT_SHUTDOWN_TIMEOUT_S) ")\n" },
	{ .name = "api-sock", .arg = CONFIG_ARG_SOCKET, .apply = opt_api_sock,
	  .usage = "  --api-sock PATH   serve Firecracker's API on the Unix socket PATH; without a\n"
		   "                    kernel or config file, wait there for InstanceStart\n" },
	{ .name = "config-file", .arg = CONFIG_ARG_CONFIG, .apply = opt_config_file,
	  .usage = "  --config-file FILE  the VM in Firecracker's JSON (boot-source, drives,\n"
		   "                    machine-config, network-interfaces, vsock, entropy, logger,\n"
		   "                    metrics), on top of the options; boot at once; or a\n"
		   "                    snapshot-load (PUT /snapshot/load's body) to restore\n" },
	{ .name = "snapshot", .arg = CONFIG_ARG_FILE, .apply = opt_snapshot,
	  .usage = "  --snapshot FILE   restore the VM from this vmstate file (PUT /snapshot/create's\n"
		   "                    snapshot_path) instead of booting; with --mem-file\n" },
	{ .name = "mem-file", .arg = CONFIG_ARG_MAPPED, .apply = opt_mem_file,
	  .usage = "  --mem-file FILE   the snapshot's memory file, mapped private (copy on write)\n" },
	{ .name = "paused", .arg = CONFIG_ARG_NONE, .apply = opt_paused,
	  .usage = "  --paused          a restored VM stays paused until PATCH /vm Resumed\n" },
	{ .name = "no-api", .arg = CONFIG_ARG_NONE, .apply = opt_no_api,
	  .usage = "  --no-api          serve no API (the default without --api-sock)\n" },
	{ .name = "id", .arg = CONFIG_ARG_VALUE, .apply = opt_id,
	  .usage = "  --id ID           the instance's name (1-64 of A-Z a-z 0-9 -; default\n"
		   "                    " CONFIG_DEFAULT_ID ")\n" },
	{ .name = "check", .arg = CONFIG_ARG_NONE, .apply = opt_check,
	  .usage = "  --check           load and validate everything into guest memory as a boot\n"
		   "                    would, print a summary and exit without running the guest\n" },
	{ .name = "no-pvm", .arg = CONFIG_ARG_NONE, .apply = opt_no_pvm,
	  .usage = "  --no-pvm          never apply the PVM-host workarounds, even on a PVM host\n" },
	{ .name = "seccomp-policy", .arg = CONFIG_ARG_FILE, .apply = opt_seccomp_policy,
	  .usage = "  --seccomp-policy FILE  use the filters in FILE (from seccomp-compile --binary)\n"
		   "                    instead of the built-in ones\n" },
	{ .name = "no-seccomp", .arg = CONFIG_ARG_NONE, .apply = opt_no_seccomp,
	  .usage = "  --no-seccomp      run without seccomp filters (debugging only)\n" },
	{ .name = "print-seccomp", .arg = CONFIG_ARG_NONE, .apply = opt_print_seccomp,
	  .usage = "  --print-seccomp   print each thread's allowlist and exit\n" },
	{ .name = "verbose", .short_name = 'v', .arg = CONFIG_ARG_NONE, .apply = opt_verbose,
	  .usage = "  -v, --verbose     more log output (repeatable)\n" },
	{ .name = "quiet", .short_name = 'q', .arg = CONFIG_ARG_NONE, .apply = opt_quiet,
	  .usage = "  -q, --quiet       errors only\n" },
	{ .name = "help", .short_name = 'h', .arg = CONFIG_ARG_NONE, .apply = opt_help,
	  .usage = "  -h, --help        this help\n" },
	{ .name = "version", .arg = CONFIG_ARG_NONE, .apply = opt_version,
	  .usage = "      --version     print the version\n" },
};
const size_t config_option_count = ARRAY_SIZE(config_options);
_Static_assert(ARRAY_SIZE(config_options) <= CONFIG_OPTIONS_MAX, "CONFIG_OPTIONS_MAX holds the table");

const char *config_option_name(const struct config_option *o)
{
	return o->device ? o->device->option : o->name;
}

bool config_option_takes_value(const struct config_option *o)
{
	return o->device ? o->device->grammar != NULL : o->arg != CONFIG_ARG_NONE;
}

bool config_option_value_optional(const struct config_option *o)
{
	return o->device && o->device->value_optional;
}

const struct config_option *config_option_find(const char *name, size_t len, bool *abbreviated)
{
	const struct config_option *found = NULL;
	size_t matches = 0;

	for (size_t i = 0; i < config_option_count; i++) {
		const char *n = config_option_name(&config_options[i]);

		if (strncmp(n, name, len))
			continue;
		if (strlen(n) == len) {
			*abbreviated = false;
			return &config_options[i];
		}
		found = &config_options[i];
		matches++;
	}
	*abbreviated = true;
	return matches == 1 ? found : NULL;
}

const struct config_option *config_option_short(char c)
{
	for (size_t i = 0; c && i < config_option_count; i++) {
		if (config_options[i].short_name == c)
			return &config_options[i];
	}
	return NULL;
}

int config_option_apply(struct microvm_config *c, const struct config_option *o, const char *value,
			struct diag *d)
{
	if (o->device)
		return resources_add_device(&c->res, o->device, value, d);
	return o->apply(c, value, d);
}

void config_print_usage(FILE *out)
{
	fputs("Usage: microvm --kernel FILE [OPTIONS]\n"
	      "       microvm --config-file FILE [OPTIONS]\n"
	      "       microvm --api-sock PATH [OPTIONS]\n"
	      "       microvm --snapshot FILE --mem-file FILE [OPTIONS]\n"
	      "Boot one Linux guest (ELF vmlinux or bzImage) in a KVM microVM.\n"
	      "\n", out);
	for (size_t i = 0; i < config_option_count; i++)
		fputs(config_options[i].device ? config_options[i].device->usage : config_options[i].usage, out);
	fputs("\n"
	      "Signals: SIGTERM, SIGINT and SIGHUP stop the VM; SIGPWR asks the guest to power\n"
	      "off (the ACPI power button), within --shutdown-timeout.\n"
	      "Exit status: 0 when the guest resets or powers off, or a signal stops it,\n"
	      "1 on an error, 2 on a usage error.\n", out);
}
