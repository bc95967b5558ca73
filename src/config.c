#include "microvm/config.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
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
	OPT_VERSION,
	OPT_DRIVE,
	OPT_NET,
	OPT_RNG,
	OPT_VSOCK,
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
	{ "drive", required_argument, NULL, OPT_DRIVE },
	{ "net", required_argument, NULL, OPT_NET },
	{ "rng", no_argument, NULL, OPT_RNG },
	{ "vsock", required_argument, NULL, OPT_VSOCK },
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
		"  --drive path=FILE[,ro][,id=NAME]\n"
		"                    a virtio-blk disk over the raw image FILE (repeatable, at\n"
		"                    most %d); ro makes it read-only; NAME (at most %d of\n"
		"                    A-Z a-z 0-9 . _ -, default driveN) is its serial number\n"
		"  --net tap=NAME[,mac=MAC]\n"
		"                    a virtio-net device on the tap device NAME\n"
		"  --rng             a virtio-rng device fed by getrandom()\n"
		"  --vsock cid=N,uds=PATH\n"
		"                    a virtio-vsock device with guest CID N: the host connects\n"
		"                    to the Unix socket PATH and writes \"CONNECT PORT\\n\";\n"
		"                    guest connections to port P go to the socket PATH_P\n"
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
		CONFIG_DEFAULT_VCPUS, CONFIG_MAX_DRIVES, CONFIG_DRIVE_ID_MAX);
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

/* One field of a device spec "KEY=VALUE,FLAG,...": the value is NULL for a flag. */
struct config_field {
	const char *key, *value;
	size_t key_len, value_len;
};

/* Takes the next field from *p; false at the end. An empty field has key_len 0. */
static bool config_next_field(const char **p, struct config_field *f)
{
	const char *s = *p, *eq;
	size_t len;

	if (!s)
		return false;
	len = strcspn(s, ",");
	eq = memchr(s, '=', len);
	f->key = s;
	f->key_len = eq ? (size_t)(eq - s) : len;
	f->value = eq ? eq + 1 : NULL;
	f->value_len = eq ? len - f->key_len - 1 : 0;
	*p = s[len] ? s + len + 1 : NULL;
	return true;
}

static bool config_key_is(const struct config_field *f, const char *key, bool with_value)
{
	return f->key_len == strlen(key) && !strncmp(f->key, key, f->key_len) &&
	       (f->value != NULL) == with_value;
}

/* Copies a field's value into a buffer of size cap; false if it is empty or does not fit. */
static bool config_copy_value(const struct config_field *f, char *buf, size_t cap)
{
	if (f->value_len == 0 || f->value_len >= cap)
		return false;
	memcpy(buf, f->value, f->value_len);
	buf[f->value_len] = '\0';
	return true;
}

static bool config_valid_drive_id(const char *id)
{
	for (const char *c = id; *c; c++) {
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
		      *c == '.' || *c == '_' || *c == '-'))
			return false;
	}
	return true;
}

static enum config_result config_parse_drive(struct microvm_config *cfg, const char *spec)
{
	struct config_drive *dr = &cfg->drives[cfg->nr_drives];
	const char *p = spec;
	struct config_field f;
	bool ro_seen = false;

	if (cfg->nr_drives == CONFIG_MAX_DRIVES)
		return config_usage_error("--drive '%s': at most " CONFIG_MAX_DRIVES_STR " drives", spec);
	memset(dr, 0, sizeof(*dr));
	while (config_next_field(&p, &f)) {
		if (config_key_is(&f, "path", true) && !dr->path && f.value_len > 0) {
			dr->path = f.value;
			dr->path_len = f.value_len;
		} else if (config_key_is(&f, "ro", false) && !ro_seen) {
			ro_seen = dr->read_only = true;
		} else if (config_key_is(&f, "id", true) && !dr->id[0]) {
			if (!config_copy_value(&f, dr->id, sizeof(dr->id)) || !config_valid_drive_id(dr->id))
				return config_usage_error("--drive '%s': id must be 1-%d of A-Z a-z 0-9 . _ -",
							  spec, CONFIG_DRIVE_ID_MAX);
		} else {
			return config_usage_error("--drive '%s': unexpected '%.*s': expected path=FILE[,ro][,id=NAME], each once",
						  spec, (int)(f.key_len + (f.value ? f.value_len + 1 : 0)), f.key);
		}
	}
	if (!dr->path)
		return config_usage_error("--drive '%s': expected path=FILE[,ro][,id=NAME]", spec);
	if (!dr->id[0])
		snprintf(dr->id, sizeof(dr->id), "drive%u", cfg->nr_drives);
	cfg->nr_drives++;
	return CONFIG_OK;
}

/* Six colon-separated pairs of hex digits, a unicast address other than all zeros. */
static bool config_parse_mac(const struct config_field *f, uint8_t mac[6])
{
	static const char hex[] = "0123456789abcdef";
	bool nonzero = false;

	if (f->value_len != 17)
		return false;
	for (size_t i = 0; i < 6; i++) {
		const char *hi, *lo;

		if (i < 5 && f->value[3 * i + 2] != ':')
			return false;
		hi = f->value[3 * i] ? strchr(hex, f->value[3 * i] | 0x20) : NULL;
		lo = f->value[3 * i + 1] ? strchr(hex, f->value[3 * i + 1] | 0x20) : NULL;
		if (!hi || !lo)
			return false;
		mac[i] = (uint8_t)((hi - hex) << 4 | (lo - hex));
		nonzero |= mac[i] != 0;
	}
	return nonzero && !(mac[0] & 1);
}

/* A network interface name as the kernel accepts it (dev_valid_name). */
static bool config_valid_ifname(const char *name)
{
	if (!strcmp(name, ".") || !strcmp(name, ".."))
		return false;
	for (const char *c = name; *c; c++) {
		if (*c == '/' || *c == ':' || *c <= ' ' || *c == 0x7f)
			return false;
	}
	return true;
}

static enum config_result config_parse_net(struct microvm_config *cfg, const char *spec)
{
	struct config_net *net = &cfg->net;
	const char *p = spec;
	struct config_field f;

	if (net->enabled)
		return config_usage_error("--net '%s': only one network device is supported", spec);
	while (config_next_field(&p, &f)) {
		if (config_key_is(&f, "tap", true) && !net->tap[0]) {
			if (!config_copy_value(&f, net->tap, sizeof(net->tap)) || !config_valid_ifname(net->tap))
				return config_usage_error("--net '%s': the tap name must be 1-%d bytes without '/', ':' or spaces",
							  spec, CONFIG_TAP_NAME_MAX);
		} else if (config_key_is(&f, "mac", true) && !net->has_mac) {
			if (!config_parse_mac(&f, net->mac))
				return config_usage_error("--net '%s': mac must be a unicast address like 02:00:00:00:00:01",
							  spec);
			net->has_mac = true;
		} else {
			return config_usage_error("--net '%s': unexpected '%.*s': expected tap=NAME[,mac=MAC], each once",
						  spec, (int)(f.key_len + (f.value ? f.value_len + 1 : 0)), f.key);
		}
	}
	if (!net->tap[0])
		return config_usage_error("--net '%s': expected tap=NAME[,mac=MAC]", spec);
	net->enabled = true;
	return CONFIG_OK;
}

static enum config_result config_parse_vsock(struct microvm_config *cfg, const char *spec)
{
	struct config_vsock *vs = &cfg->vsock;
	const char *p = spec;
	struct config_field f;
	bool cid_seen = false;

	if (vs->enabled)
		return config_usage_error("--vsock '%s': only one vsock device is supported", spec);
	while (config_next_field(&p, &f)) {
		if (config_key_is(&f, "cid", true) && !cid_seen) {
			char num[24];
			uint64_t v;

			if (!config_copy_value(&f, num, sizeof(num)) ||
			    !parse_decimal_u64(num, CONFIG_VSOCK_CID_MIN, CONFIG_VSOCK_CID_MAX, &v))
				return config_usage_error("--vsock '%s': cid must be a number from %d to %llu",
							  spec, CONFIG_VSOCK_CID_MIN, CONFIG_VSOCK_CID_MAX);
			vs->cid = (uint32_t)v;
			cid_seen = true;
		} else if (config_key_is(&f, "uds", true) && !vs->uds[0]) {
			if (!config_copy_value(&f, vs->uds, sizeof(vs->uds)))
				return config_usage_error("--vsock '%s': uds must be a path of 1-%d bytes", spec,
							  CONFIG_UDS_PATH_MAX);
		} else {
			return config_usage_error("--vsock '%s': unexpected '%.*s': expected cid=N,uds=PATH, each once",
						  spec, (int)(f.key_len + (f.value ? f.value_len + 1 : 0)), f.key);
		}
	}
	if (!cid_seen || !vs->uds[0])
		return config_usage_error("--vsock '%s': expected cid=N,uds=PATH", spec);
	vs->enabled = true;
	return CONFIG_OK;
}

/* Drive ids answer GET_ID, so each names one drive. */
static enum config_result config_check_drive_ids(const struct microvm_config *cfg)
{
	for (unsigned int i = 0; i < cfg->nr_drives; i++) {
		for (unsigned int j = 0; j < i; j++) {
			if (!strcmp(cfg->drives[i].id, cfg->drives[j].id))
				return config_usage_error("--drive: id '%s' used twice", cfg->drives[i].id);
		}
	}
	return CONFIG_OK;
}

enum config_result config_parse(struct microvm_config *cfg, int argc, char **argv)
{
	enum config_result res;
	int opt;
	uint64_t v;

	memset(cfg, 0, sizeof(*cfg));
	cfg->cmdline = CONFIG_DEFAULT_CMDLINE;
	cfg->mem_mib = CONFIG_DEFAULT_MEM_MIB;
	cfg->vcpus = CONFIG_DEFAULT_VCPUS;
	cfg->pvm = PVM_AUTO;
	cfg->verbosity = 0;

	opterr = 0;
	/* 0, not 1: glibc then also forgets a position inside an earlier call's "-hv" cluster. */
	optind = 0;
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
		case OPT_DRIVE:
			res = config_parse_drive(cfg, optarg);
			if (res != CONFIG_OK)
				return res;
			break;
		case OPT_NET:
			res = config_parse_net(cfg, optarg);
			if (res != CONFIG_OK)
				return res;
			break;
		case OPT_RNG:
			cfg->rng = true;
			break;
		case OPT_VSOCK:
			res = config_parse_vsock(cfg, optarg);
			if (res != CONFIG_OK)
				return res;
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
			/* Inside a cluster (-xy) the bad letter is in optopt, not the whole word. */
			if (optopt)
				return config_usage_error("unknown option '-%c'", optopt);
			return config_usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return config_usage_error("unexpected argument '%s'", argv[optind]);
	if (!cfg->kernel_path && !cfg->print_seccomp)
		return config_usage_error("--kernel FILE is required");
	return config_check_drive_ids(cfg);
}
