/* Composition root: parse, build, load, run. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arch/x86/layout.h"
#include "microvm/config.h"
#include "microvm/gmem.h"
#include "microvm/image.h"
#include "microvm/loader.h"
#include "microvm/log.h"

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
	struct microvm_config cfg;
	struct gmem mem;
	struct image kernel, initrd;
	struct cmdline_buf cmdline = { .len = 0 };
	struct boot_info boot;
	struct diag d;
	int ret;

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
	main_check_host_memory(cfg.mem_mib);

	if (image_open(&kernel, cfg.kernel_path, &d))
		die("%s", d.msg);
	if (cfg.initrd_path && image_open(&initrd, cfg.initrd_path, &d))
		die("%s", d.msg);
	if (cmdline_append(&cmdline, cfg.cmdline, &d))
		die("%s", d.msg);

	ret = gmem_create(&mem, cfg.mem_mib * LAYOUT_MIB);
	if (ret)
		die("--mem %llu: cannot map guest memory: %s", (unsigned long long)cfg.mem_mib,
		    strerror(-ret));
	if (boot_load(&mem, &kernel, cfg.initrd_path ? &initrd : NULL, cmdline.text, NULL, &boot, &d))
		die("%s", d.msg);
	image_close(&kernel);
	if (cfg.initrd_path)
		image_close(&initrd);

	if (cfg.check_only) {
		boot_print_summary(stdout, cfg.kernel_path, &boot);
		gmem_destroy(&mem);
		return 0;
	}
	die("running the guest needs the VMM, which is not built yet; use --check");
}
