/* The VMM's validated command line: everything main.c needs to build and run one VM. */
#ifndef MICROVM_CONFIG_H
#define MICROVM_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "microvm/compiler.h"
#include "microvm/sandbox.h"

#define CONFIG_DEFAULT_MEM_MIB 128
#define CONFIG_DEFAULT_VCPUS 1
#define CONFIG_MAX_VCPUS 64
#define CONFIG_MAX_VCPUS_STR "64"
/* 2 MiB holds the boot structures and a tiny kernel (LAYOUT_MIN_RAM). */
#define CONFIG_MIN_MEM_MIB 2
#define CONFIG_MIN_MEM_MIB_STR "2"
/* 1 TiB: the most gmem accepts (LAYOUT_MAX_RAM); the host must also have it. */
#define CONFIG_MAX_MEM_MIB (1024 * 1024)
#define CONFIG_MAX_MEM_MIB_STR "1048576"
#define CONFIG_DEFAULT_CMDLINE "console=ttyS0 reboot=k panic=1 nomodule i8042.noaux i8042.nomux i8042.dumbkbd"

/* What to do about a PVM host (../shared/docs/HOST-KVM.md). */
enum pvm_mode {
	PVM_AUTO, /* detect the host; add workarounds only there */
	PVM_OFF,  /* never: behave exactly as on hardware KVM */
};

struct microvm_config {
	const char *kernel_path;
	const char *initrd_path;
	const char *cmdline;      /* the user's, before the VMM appends its own */
	uint64_t mem_mib;
	unsigned int vcpus;
	bool check_only;          /* --check: load and validate, no vCPU */
	enum pvm_mode pvm;
	enum sandbox_mode seccomp;
	const char *seccomp_policy;  /* --seccomp-policy FILE */
	bool print_seccomp;
	const char *seccomp_violation; /* hidden test option: "vmm" or "vcpu" */
	int verbosity;            /* -v raises, -q lowers */
};

enum config_result {
	CONFIG_OK,
	CONFIG_EXIT_HELP,   /* usage printed; exit 0 */
	CONFIG_EXIT_USAGE,  /* bad option; exit 2 */
};

/* Parses argv into cfg; prints usage or a one-line error itself. */
MUST_CHECK enum config_result config_parse(struct microvm_config *cfg, int argc, char **argv);
void config_print_usage(FILE *out);

#endif
