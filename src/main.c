/* Composition root: parse, build, load, run. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arch/x86/layout.h"
#include "arch/x86/platform.h"
#include "config/cli.h"
#include "microvm/boottimer.h"
#include "microvm/gmem.h"
#include "microvm/image.h"
#include "microvm/loader.h"
#include "microvm/log.h"
#include "microvm/registry.h"
#include "microvm/sandbox.h"
#include "microvm/vm.h"

static enum log_level main_log_level(int verbosity)
{
	if (verbosity < 0)
		return LOG_ERROR;
	return verbosity == 0 ? LOG_INFO : LOG_DEBUG;
}

/* Refuse a guest larger than the host: an overcommitted guest dies later, with less to say. */
static void main_check_host_memory(uint64_t mem_mib)
{
	long pages = sysconf(_SC_PHYS_PAGES), page_size = sysconf(_SC_PAGESIZE);

	if (pages > 0 && page_size > 0 &&
	    mem_mib > (uint64_t)pages * (uint64_t)page_size / LAYOUT_MIB)
		die("--mem %llu: more than the host's %llu MiB of RAM", (unsigned long long)mem_mib,
		    (unsigned long long)((uint64_t)pages * (uint64_t)page_size / LAYOUT_MIB));
}

int main(int argc, char **argv)
{
	static struct microvm_config cfg;
	struct gmem mem;
	struct image kernel, initrd;
	struct cmdline_buf cmdline = { .len = 0 };
	/* Static: what it holds stays reachable on die()'s way out. */
	static struct registry devices;
	static struct sandbox sandbox;
	struct boot_info boot;
	struct diag d;
	int ret;

	boottimer_mark_process_start();
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
	/* Loads --seccomp-policy FILE now: it is an open and a parse like any other. */
	if (sandbox_prepare(&sandbox, cfg.seccomp, cfg.seccomp_policy, &d))
		die("%s", d.msg);
	if (cfg.print_seccomp) {
		sandbox_print(&sandbox, stdout);
		sandbox_release(&sandbox);
		config_free(&cfg);
		return 0;
	}
	if (cfg.seccomp == SANDBOX_OFF)
		log_warn("--no-seccomp: running without seccomp filters; use only for debugging");
	main_check_host_memory(cfg.res.machine.mem_mib);

	if (image_open(&kernel, cfg.res.boot.kernel_path, &d))
		die("%s", d.msg);
	if (cfg.res.boot.initrd_path && image_open(&initrd, cfg.res.boot.initrd_path, &d))
		die("%s", d.msg);
	if (cmdline_append(&cmdline, resources_cmdline(&cfg.res), &d))
		die("%s", d.msg);
	/* Disk images, the tap and the vsock socket: opened now, before any sandbox. */
	if (registry_open(&devices, &cfg.res, &d) || registry_cmdline(&devices, &cmdline, &d))
		die("%s", d.msg);
	if (cfg.res.machine.pvm != PVM_OFF && pvm_host_detected()) {
		if (cmdline_append(&cmdline, pvm_cmdline_switches(), &d))
			die("%s", d.msg);
		/* --check output stays a summary; a boot says what it changed. */
		(cfg.check_only ? log_debug : log_info)(
			"PVM host detected: added to the kernel command line: %s (--no-pvm turns this off)",
			pvm_cmdline_switches());
	}

	ret = gmem_create(&mem, cfg.res.machine.mem_mib * LAYOUT_MIB);
	if (ret)
		die("--mem %llu: cannot map guest memory: %s", (unsigned long long)cfg.res.machine.mem_mib,
		    strerror(-ret));
	if (boot_load(&mem, &kernel, cfg.res.boot.initrd_path ? &initrd : NULL, cmdline.text, NULL, &boot, &d) ||
	    platform_write(&mem, cfg.res.machine.vcpus, &d))
		die("%s", d.msg);
	image_close(&kernel);
	if (cfg.res.boot.initrd_path)
		image_close(&initrd);

	if (cfg.check_only) {
		boot_print_summary(stdout, cfg.res.boot.kernel_path, &boot);
		registry_close(&devices);
		gmem_destroy(&mem);
		sandbox_release(&sandbox);
		config_free(&cfg);
		return 0;
	}
	ret = vm_run(&(struct vm_params){
			     .vcpus = cfg.res.machine.vcpus,
			     .pvm = cfg.res.machine.pvm,
			     .sandbox = &sandbox,
			     .devices = &devices,
		     },
		     &mem, &boot);
	registry_close(&devices);
	gmem_destroy(&mem);
	sandbox_release(&sandbox);
	config_free(&cfg);
	return ret;
}
