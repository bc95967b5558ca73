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
#define CONFIG_DEFAULT_CMDLINE "console=ttyS0 reboot=k panic=1 nomodule 8250.nr_uarts=1 i8042.noaux i8042.nomux i8042.dumbkbd"

/* Devices (--drive, --net, --rng, --vsock): one virtio-mmio slot each. */
#define CONFIG_MAX_DRIVES 16
#define CONFIG_MAX_DRIVES_STR "16"
#define CONFIG_DRIVE_ID_MAX 20       /* VIRTIO_BLK_ID_BYTES: GET_ID's answer */
#define CONFIG_TAP_NAME_MAX 15       /* IFNAMSIZ - 1 */
/* sockaddr_un holds 107 bytes of path; guest-initiated connections add "_PORT". */
#define CONFIG_UDS_PATH_MAX 96
#define CONFIG_VSOCK_CID_MIN 3       /* 0-2 are the hypervisor, local and host */
#define CONFIG_VSOCK_CID_MAX 0xfffffffeULL

struct config_drive {
	const char *path;  /* points into argv: path_len bytes, not NUL-terminated */
	size_t path_len;
	bool read_only;
	char id[CONFIG_DRIVE_ID_MAX + 1];
};

struct config_net {
	bool enabled;
	char tap[CONFIG_TAP_NAME_MAX + 1];
	bool has_mac;
	uint8_t mac[6];
};

struct config_vsock {
	bool enabled;
	uint32_t cid;
	char uds[CONFIG_UDS_PATH_MAX + 1];
};

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
	int verbosity;            /* -v raises, -q lowers */
	struct config_drive drives[CONFIG_MAX_DRIVES];
	unsigned int nr_drives;
	struct config_net net;
	bool rng;
	struct config_vsock vsock;
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
