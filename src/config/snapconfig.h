/*
 * Firecracker's snapshot requests: the bodies of PUT /snapshot/create and PUT
 * /snapshot/load, checked as strictly as every other body (vmconfig.h), and the
 * overrides a load applies to the VM's description that the snapshot holds (a new
 * tap for an interface, a new socket for vsock) before that description is read as a
 * config file. KVM-free.
 */
#ifndef MICROVM_CONFIG_SNAPCONFIG_H
#define MICROVM_CONFIG_SNAPCONFIG_H

#include <jansson.h>
#include <stdbool.h>

#include "microvm/compiler.h"
#include "microvm/diag.h"

/* Every path points into the body it was parsed from. */
struct snapconfig_create {
	const char *snapshot_path;
	const char *mem_file_path;
};

struct snapconfig_load {
	const char *snapshot_path;
	const char *mem_path;             /* mem_backend.backend_path, or mem_file_path */
	bool resume_vm;
	const json_t *network_overrides;  /* an array of {iface_id, host_dev_name}, or NULL */
	const char *vsock_uds;            /* vsock_override.uds_path, or NULL */
};

MUST_CHECK int snapconfig_create(const json_t *body, struct snapconfig_create *out, struct diag *d);
MUST_CHECK int snapconfig_load(const json_t *body, struct snapconfig_load *out, struct diag *d);
/*
 * The snapshot's config (an object as vmconfig_export makes it) with the load's
 * overrides applied; each must name what the snapshot has.
 */
MUST_CHECK int snapconfig_override(json_t *config, const struct snapconfig_load *load, struct diag *d);
/* The VM's description a snapshot keeps: its export, less the boot source, logger and metrics. */
char *snapconfig_describe(json_t *exported);

#endif
