/* Composition root: parse, build, sandbox, run. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "config/cli.h"
#include "config/vmconfig.h"
#include "microvm/boottimer.h"
#include "microvm/compiler.h"
#include "microvm/controller.h"
#include "microvm/log.h"
#include "microvm/sandbox.h"
#include "microvm/vm.h"
#include "microvm/vm_exit.h"

static enum log_level main_log_level(int verbosity)
{
	if (verbosity < 0)
		return LOG_ERROR;
	return verbosity == 0 ? LOG_INFO : LOG_DEBUG;
}

#if BUILT_WITH_ASAN
/*
 * LeakSanitizer's check at exit stops the world with prctl, clone and ptrace, which no
 * filter allows: a jailed VMM (the jailer clears ASAN_OPTIONS) stopping on SIGTERM was
 * killed with 148. ASAN_OPTIONS=detect_leaks=1 with --no-seccomp still asks for it.
 */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "detect_leaks=0";
}
#endif

int main(int argc, char **argv)
{
	/* Static: what they hold stays reachable on die()'s way out. */
	static struct microvm_config cfg;
	static struct sandbox sandbox;
	static struct controller *controller;
	struct vm *vm;
	struct diag d;
	int ret;

	boottimer_mark_process_start();
	vmconfig_init();
	switch (config_parse(&cfg, argc, argv)) {
	case CONFIG_OK:
		break;
	case CONFIG_EXIT_HELP:
		return 0;
	case CONFIG_EXIT_USAGE:
	default:
		return 2;
	}
	log_init("microvm", main_log_level(cfg.verbosity));
	/*
	 * Not dumpable: no core dump (guest RAM is the tenant's; gmem also marks it
	 * MADV_DONTDUMP), and no ptrace or /proc/PID access for other processes of this uid,
	 * such as other VMMs.
	 */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0))
		die("prctl(PR_SET_DUMPABLE): %s", strerror(errno));
	/* A write past RLIMIT_FSIZE (the jailer's fsize) fails with EFBIG: one failed request. */
	signal(SIGXFSZ, SIG_IGN);
	/* Loads --seccomp-policy FILE now: it is an open and a parse like any other. */
	if (sandbox_prepare(&sandbox, cfg.seccomp, cfg.seccomp_policy, &d))
		die("%s", d.msg);
	if (cfg.print_seccomp) {
		sandbox_print(&sandbox, stdout);
		ret = 0;
		goto out;
	}
	if (cfg.seccomp == SANDBOX_OFF)
		log_warn("--no-seccomp: running without seccomp filters; use only for debugging");
	if (resources_check_host(&cfg.res, &d))
		die("%s", d.msg);
	if (cfg.check_only) {
		if (vm_create(&vm, &(struct vm_params){ .res = &cfg.res, .sandbox = &sandbox,
							.console_in = STDIN_FILENO,
							.console_out = STDOUT_FILENO, .dry_run = true },
			      &d))
			die("%s", d.msg);
		boot_print_summary(stdout, cfg.res.boot.kernel_path, vm_boot_info(vm));
		vm_destroy(vm);
		ret = 0;
		goto out;
	}
	if (controller_init(&controller,
			    &(struct controller_params){ .res = &cfg.res, .sandbox = &sandbox,
							 .id = cfg.id, .api_sock = cfg.api_sock,
							 .console_in = STDIN_FILENO,
							 .console_out = STDOUT_FILENO,
							 .verbosity = cfg.verbosity,
							 .restore = cfg.restoring ? &cfg.restore : NULL },
			    &d))
		die("%s", d.msg);
	/* A kernel from the command line or a config file boots at once; else the API's InstanceStart. */
	ret = controller_run(controller, cfg.res.boot.kernel_path != NULL);
	controller_destroy(controller);
out:
	sandbox_release(&sandbox);
	config_free(&cfg);
	return ret;
}
