/*
 * microvm's options, in one table (options.c): each with its argument, what that
 * argument names (a file, a device's text whose fields may name files), how it fills
 * a struct microvm_config, and its --help lines. The device kinds' options come from
 * the device table (devices.h). The command-line parser (cli.c) and the jailer
 * (jailer/vmmargs.c, which must find every file the VMM will open) both read it.
 * KVM-free: the jailer links it.
 */
#ifndef MICROVM_CONFIG_OPTIONS_H
#define MICROVM_CONFIG_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "config/devspec.h"
#include "config/snapconfig.h"
#include "microvm/compiler.h"
#include "microvm/diag.h"
#include "config/resources.h"
#include "microvm/sandbox.h"

#define CONFIG_ID_MAX 64
#define CONFIG_DEFAULT_ID "anonymous-instance"

/* Everything the command line asks for: the VM, and how this process runs it. */
struct microvm_config {
	struct vm_resources res;
	bool check_only;              /* --check: load and validate, no vCPU */
	enum sandbox_mode seccomp;
	const char *seccomp_policy;   /* --seccomp-policy FILE */
	bool print_seccomp;
	int verbosity;                /* -v raises, -q lowers */
	const char *api_sock;         /* --api-sock PATH: serve the API there */
	const char *config_file;      /* --config-file FILE: read into res after the options */
	bool no_api;                  /* --no-api: no API (Firecracker's flag; the default here) */
	char id[CONFIG_ID_MAX + 1];   /* --id: the instance's name in GET / and the metrics */
	const char *snapshot;         /* --snapshot FILE: restore this vmstate instead of booting */
	const char *mem_file;         /* --mem-file FILE: its memory file */
	bool paused;                  /* --paused: a restored VM waits for PATCH /vm Resumed */
	/* The restore to start with (--snapshot, or the config file's snapshot-load), if restoring. */
	bool restoring;
	struct snapconfig_load restore;
	json_t *restore_body;         /* the snapshot-load section restore's strings point into */
};

enum config_arg {
	CONFIG_ARG_NONE,    /* a flag */
	CONFIG_ARG_VALUE,   /* a value that names no file */
	CONFIG_ARG_FILE,    /* a host file the VMM reads at start */
	CONFIG_ARG_MAPPED,  /* a host file the VMM maps and only reads (a snapshot's memory) */
	CONFIG_ARG_DEVICE,  /* a device kind's: its text (if the kind has fields) per its spec */
	CONFIG_ARG_SOCKET,  /* a Unix socket the VMM creates and listens on */
	CONFIG_ARG_CONFIG,  /* a JSON config file (src/config/vmconfig.h), whose fields name files */
};

/* At least as many as config_options holds (options.c asserts it). */
#define CONFIG_OPTIONS_MAX 32

/* apply returned this: it printed what was asked (--help, --version); exit 0. */
#define CONFIG_APPLY_EXIT 1

struct config_option {
	const char *name;             /* without "--"; NULL for a device kind's: device->option */
	char short_name;              /* 'v' for -v, or 0 */
	enum config_arg arg;
	const struct device_spec *device;   /* CONFIG_ARG_DEVICE */
	/* 0, CONFIG_APPLY_EXIT, or -errno with a reason that needs only the option's name. */
	int (*apply)(struct microvm_config *c, const char *value, struct diag *d);
	const char *usage;            /* its lines in --help; NULL for a device kind's */
};

extern const struct config_option config_options[];
extern const size_t config_option_count;

const char *config_option_name(const struct config_option *o);
/* An instance id as Firecracker's jailer takes it: 1-64 of A-Z a-z 0-9 -. */
bool config_id_valid(const char *id);
/* True when the option needs a value (--kernel FILE, --drive SPEC; not --rng). */
bool config_option_takes_value(const struct config_option *o);
/* True when its value may be left out, and then only comes as --name=VALUE (--rng). */
bool config_option_value_optional(const struct config_option *o);
/*
 * getopt_long's matching of a long option name (len bytes, no "--"): the one named
 * exactly, else the only one it abbreviates; NULL when none or several.
 */
const struct config_option *config_option_find(const char *name, size_t len, bool *abbreviated);
/* The option with this short name, or NULL. */
const struct config_option *config_option_short(char c);
/* Applies o with its value (NULL for a flag); see struct config_option's apply. */
MUST_CHECK int config_option_apply(struct microvm_config *c, const struct config_option *o,
				   const char *value, struct diag *d);
void config_print_usage(FILE *out);

#endif
