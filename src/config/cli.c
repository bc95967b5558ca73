#include "config/cli.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "config/vmconfig.h"

/* getopt_long's value for config_options[i]: above every short option's. */
#define CLI_LONG_BASE 0x100

static PRINTF_LIKE(1, 2) enum config_result cli_usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "microvm: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'microvm --help' for more information.\n");
	return CONFIG_EXIT_USAGE;
}

/* The table as getopt_long wants it: long options with their index, and the short letters. */
static void cli_getopt_tables(struct option *longopts, char *shortopts, size_t shortcap)
{
	size_t n = 0;

	/* '+': stop at the first non-option; ':': report a missing argument as ':'. */
	shortopts[n++] = '+';
	shortopts[n++] = ':';
	for (size_t i = 0; i < config_option_count; i++) {
		const struct config_option *o = &config_options[i];

		longopts[i] = (struct option){
			.name = config_option_name(o),
			.has_arg = config_option_value_optional(o) ? optional_argument
				   : config_option_takes_value(o) ? required_argument : no_argument,
			.val = CLI_LONG_BASE + (int)i,
		};
		if (o->short_name && n + 1 < shortcap)
			shortopts[n++] = o->short_name;
	}
	longopts[config_option_count] = (struct option){ 0 };
	shortopts[n] = '\0';
}

/* The option getopt_long returned, or NULL for ':' and '?'. */
static const struct config_option *cli_option(int opt)
{
	if (opt >= CLI_LONG_BASE && (size_t)(opt - CLI_LONG_BASE) < config_option_count)
		return &config_options[opt - CLI_LONG_BASE];
	return opt > 0 && opt < CLI_LONG_BASE ? config_option_short((char)opt) : NULL;
}

static enum config_result cli_apply(struct microvm_config *cfg, const struct config_option *o,
				    const char *value)
{
	struct diag d;
	int ret = config_option_apply(cfg, o, value, &d);

	if (ret == CONFIG_APPLY_EXIT)
		return CONFIG_EXIT_HELP;
	if (ret)
		return value ? cli_usage_error("--%s '%s': %s", config_option_name(o), value, d.msg)
			     : cli_usage_error("--%s: %s", config_option_name(o), d.msg);
	return CONFIG_OK;
}

/*
 * The restore to start with: --snapshot's, or the config file's snapshot-load, checked
 * as PUT /snapshot/load checks its body. Without the API nothing could resume a VM
 * restored paused, so resume_vm false needs --api-sock.
 */
static enum config_result cli_restore(struct microvm_config *cfg)
{
	const char *text = cfg->res.snapshot_load;
	struct diag d;

	if (cfg->snapshot) {
		if (text)
			return cli_usage_error("--snapshot and the config file's snapshot-load exclude each other");
		cfg->restore = (struct snapconfig_load){ .snapshot_path = cfg->snapshot,
							 .mem_path = cfg->mem_file, .resume_vm = !cfg->paused };
		cfg->restoring = true;
		return CONFIG_OK;
	}
	if (!text)
		return CONFIG_OK;
	if (vmconfig_parse(text, strlen(text), &cfg->restore_body, &d) ||
	    snapconfig_load(cfg->restore_body, &cfg->restore, &d))
		return cli_usage_error("--config-file %s: snapshot-load: %s", cfg->config_file, d.msg);
	if (!cfg->restore.resume_vm && !cfg->api_sock)
		return cli_usage_error("--config-file %s: snapshot-load: resume_vm false leaves the VM paused, "
				       "which only the API resumes: add --api-sock PATH, or resume_vm true",
				       cfg->config_file);
	cfg->restoring = true;
	return CONFIG_OK;
}

static enum config_result cli_parse(struct microvm_config *cfg, int argc, char **argv)
{
	struct option longopts[CONFIG_OPTIONS_MAX + 1];
	char shortopts[2 + CONFIG_OPTIONS_MAX + 1];
	const struct device_spec *failed = NULL;
	enum config_result res;
	struct diag d;
	int opt;

	cli_getopt_tables(longopts, shortopts, sizeof(shortopts));
	opterr = 0;
	/* 0, not 1: glibc then also forgets a position inside an earlier call's "-hv" cluster. */
	optind = 0;
	while ((opt = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		const struct config_option *o = cli_option(opt);

		if (opt == ':')
			return cli_usage_error("option '%s' needs an argument", argv[optind - 1]);
		/* Inside a cluster (-xy) the bad letter is in optopt, not the whole word. */
		if (!o && optopt)
			return cli_usage_error("unknown option '-%c'", optopt);
		if (!o)
			return cli_usage_error("unknown option '%s'", argv[optind - 1]);
		res = cli_apply(cfg, o, config_option_takes_value(o) ? optarg : NULL);
		if (res != CONFIG_OK)
			return res;
	}
	if (optind < argc)
		return cli_usage_error("unexpected argument '%s'", argv[optind]);
	if (cfg->no_api && cfg->api_sock)
		return cli_usage_error("--no-api and --api-sock exclude each other");
	if (cfg->config_file && vmconfig_load(&cfg->res, cfg->config_file, &d))
		return cli_usage_error("--config-file %s: %s", cfg->config_file, d.msg);
	if (!cfg->snapshot != !cfg->mem_file)
		return cli_usage_error("--snapshot FILE and --mem-file FILE go together");
	res = cli_restore(cfg);
	if (res != CONFIG_OK)
		return res;
	if (cfg->restoring && (cfg->res.boot.kernel_path || cfg->res.nr_devices || cfg->check_only))
		return cli_usage_error("%s restores the VM it describes: no kernel, device or --check with it",
				       cfg->snapshot ? "--snapshot" : "the config file's snapshot-load");
	if (cfg->paused && (!cfg->snapshot || !cfg->api_sock))
		return cli_usage_error("--paused is for --snapshot with --api-sock (PATCH /vm resumes it)");
	if (!cfg->res.boot.kernel_path && !cfg->print_seccomp && !cfg->api_sock && !cfg->restoring)
		return cli_usage_error("--kernel FILE is required (or a config file's boot-source, "
				       "or --api-sock PATH to configure the VM through the API)");
	if (resources_check(&cfg->res, &failed, &d))
		return cli_usage_error("--%s: %s", failed->option, d.msg);
	return CONFIG_OK;
}

enum config_result config_parse(struct microvm_config *cfg, int argc, char **argv)
{
	enum config_result res;

	memset(cfg, 0, sizeof(*cfg));
	resources_init(&cfg->res);
	memcpy(cfg->id, CONFIG_DEFAULT_ID, sizeof(CONFIG_DEFAULT_ID));
	res = cli_parse(cfg, argc, argv);
	if (res != CONFIG_OK)
		config_free(cfg);
	return res;
}

void config_free(struct microvm_config *cfg)
{
	json_decref(cfg->restore_body);
	cfg->restore_body = NULL;
	resources_free(&cfg->res);
}
