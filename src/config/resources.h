/*
 * One description of a VM: its machine, its boot source and its devices. The command
 * line fills it now (src/config/cli.c); the JSON config file and the API fill the same
 * struct next, field by field, through the same setters: each refuses a bad value with
 * a reason the caller prefixes with its own name for the field ("--mem '0': ...",
 * "machine-config.mem_size_mib: ..."). Every string is an owned copy, so the
 * description outlives whatever filled it.
 */
#ifndef MICROVM_CONFIG_RESOURCES_H
#define MICROVM_CONFIG_RESOURCES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "microvm/compiler.h"
#include "microvm/diag.h"

#define RESOURCES_DEFAULT_MEM_MIB 128
#define RESOURCES_DEFAULT_VCPUS 1
#define RESOURCES_MAX_VCPUS 64
/* 2 MiB holds the boot structures and a tiny kernel (LAYOUT_MIN_RAM). */
#define RESOURCES_MIN_MEM_MIB 2
/* 1 TiB: the most gmem accepts (LAYOUT_MAX_RAM); the host must also have it. */
#define RESOURCES_MAX_MEM_MIB 1048576
#define RESOURCES_MEM_MIB_RULE "a size in MiB from 2 to 1048576"
#define RESOURCES_VCPUS_RULE "a number from 1 to 64"
/*
 * How long a guest asked to power off (the ACPI power button) has before the VMM stops
 * it as SIGTERM does: a distribution's shutdown takes a few seconds on hardware.
 */
#define RESOURCES_DEFAULT_SHUTDOWN_TIMEOUT_S 30
#define RESOURCES_MAX_SHUTDOWN_TIMEOUT_S 3600
#define RESOURCES_SHUTDOWN_TIMEOUT_RULE "a number of seconds from 1 to 3600"
#define RESOURCES_DEFAULT_CMDLINE                                                            \
	"console=ttyS0 reboot=k panic=1 nomodule 8250.nr_uarts=1 i8042.noaux i8042.nomux " \
	"i8042.dumbkbd"
/* Room for every device kind's maximum (src/config/devices.h). */
#define RESOURCES_MAX_DEVICES 32

/* What to do about a PVM host (../shared/docs/HOST-KVM.md). */
enum pvm_mode {
	PVM_AUTO, /* detect the host; add workarounds only there */
	PVM_OFF,  /* never: behave exactly as on hardware KVM */
};

struct machine_config {
	unsigned int vcpus;
	uint64_t mem_mib;
	enum pvm_mode pvm;
	unsigned int shutdown_timeout_s;
};

struct boot_source {
	char *kernel_path;
	char *initrd_path;  /* NULL: none */
	char *cmdline;      /* the user's, before the VMM appends its own; NULL: the default */
	bool entry64;       /* the 64-bit entry even for a kernel with a PVH entry */
};

struct device_spec;

/* Where the VMM's log lines go (PUT /logger); NULL path: stderr. */
struct logger_config {
	char *path;         /* a file or FIFO the VMM opens for appending */
	int level;          /* enum log_level */
	bool level_set;     /* else the command line's -v/-q decide */
	bool show_level;
	bool show_origin;   /* each line names the source file and line that logged it */
};

/* Where the metrics' JSON lines go (PUT /metrics); NULL path: no metrics. */
struct metrics_config {
	char *path;
	bool emit_id;       /* each line names the instance (--id) */
};

/* What a change to a running device's config touches (PATCH /drives, /network-interfaces, /balloon). */
enum device_change {
	DEVICE_CHANGE_MEDIUM = 1u << 0,   /* a drive's file: reopened, the driver told */
	DEVICE_CHANGE_LIMITS = 1u << 1,   /* its rate limiters: start over, full, at once */
	DEVICE_CHANGE_BALLOON = 1u << 2,  /* a balloon's target and statistics interval */
};

/* One configured device: its kind and that kind's configuration (owned). */
struct device_config {
	const struct device_spec *spec;
	void *config;       /* spec->config_size bytes; NULL when the kind has no fields */
};

struct vm_resources {
	struct machine_config machine;
	struct boot_source boot;
	struct device_config devices[RESOURCES_MAX_DEVICES];
	unsigned int nr_devices;
	struct logger_config logger;
	struct metrics_config metrics;
	/* A config file's snapshot-load section (PUT /snapshot/load's body, compact JSON), or NULL. */
	char *snapshot_load;
};

/* The defaults: 1 vCPU, 128 MiB, PVM detection, 30 s to shut down, no boot source, no devices. */
void resources_init(struct vm_resources *r);
void resources_free(struct vm_resources *r);
/* Every device gone (a snapshot load that failed after reading the snapshot's). */
void resources_drop_devices(struct vm_resources *r);

/* Each replaces an owned copy; initrd, cmdline and the output paths may be NULL: none (the default). */
MUST_CHECK int resources_set_kernel(struct vm_resources *r, const char *path, struct diag *d);
MUST_CHECK int resources_set_initrd(struct vm_resources *r, const char *path, struct diag *d);
MUST_CHECK int resources_set_cmdline(struct vm_resources *r, const char *cmdline, struct diag *d);
MUST_CHECK int resources_set_mem_mib(struct vm_resources *r, uint64_t mib, struct diag *d);
MUST_CHECK int resources_set_vcpus(struct vm_resources *r, uint64_t vcpus, struct diag *d);
MUST_CHECK int resources_set_shutdown_timeout(struct vm_resources *r, uint64_t seconds,
					      struct diag *d);
MUST_CHECK int resources_set_logger_path(struct vm_resources *r, const char *path, struct diag *d);
MUST_CHECK int resources_set_metrics_path(struct vm_resources *r, const char *path, struct diag *d);
/* The guest fits the host's RAM: an overcommitted guest dies later, with less to say. */
MUST_CHECK int resources_check_host(const struct vm_resources *r, struct diag *d);
/* The user's command line, or the default. */
const char *resources_cmdline(const struct vm_resources *r);

/* How many devices of this kind are configured. */
unsigned int resources_count(const struct vm_resources *r, const struct device_spec *spec);
/*
 * Adds a device of this kind from its KEY=VALUE,... text (src/config/devspec.h): at most
 * spec->max of a kind; a kind without a value (--rng) is only ever added once.
 */
MUST_CHECK int resources_add_device(struct vm_resources *r, const struct device_spec *spec,
				    const char *text, struct diag *d);
/*
 * Adds config (a zeroed spec->config_size allocation filled field by field, taken over
 * even on failure) as a device of this kind, or replaces the one with the same "id"
 * field; a kind without an id has one device at most, which it replaces. The kind's
 * defaults and its checks across devices (unique ids) are applied; on failure r is
 * unchanged.
 */
MUST_CHECK int resources_put_device(struct vm_resources *r, const struct device_spec *spec,
				    void *config, struct diag *d);
/* The device of this kind whose "id" field is id (any one of the kind when it has no id), or NULL. */
const struct device_config *resources_find_device(const struct vm_resources *r,
						  const struct device_spec *spec, const char *id);
/*
 * The root= switch for a drive marked root ("root=/dev/vdb rw"), into buf; false when
 * no drive is the root.
 */
bool resources_root_param(const struct vm_resources *r, char *buf, size_t size);
/* Checks that span the devices of a kind (unique drive ids); *failed names the kind. */
MUST_CHECK int resources_check(const struct vm_resources *r, const struct device_spec **failed,
			       struct diag *d);

#endif
