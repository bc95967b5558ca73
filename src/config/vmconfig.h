/*
 * Firecracker's JSON for a VM (src/firecracker/swagger/firecracker.yaml in its
 * repository): the bodies of the API's PUT and PATCH requests and the --config-file,
 * into the same struct vm_resources the command line fills, through the same setters
 * and device specs; and back out (GET /vm/config, the jailer's rewritten config file).
 * Every input is hostile: parsed strictly (RFC 8259, duplicate keys refused), unknown
 * fields refused by name as Firecracker's deny_unknown_fields does, every value checked
 * for its type and range. Each reason names the field and its value ("mem_size_mib 0:
 * expected ..."); callers prefix the request or the file. On failure the resources are
 * unchanged. KVM-free: the jailer links it, so one parser reads the config file.
 */
#ifndef MICROVM_CONFIG_VMCONFIG_H
#define MICROVM_CONFIG_VMCONFIG_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "config/resources.h"
#include "microvm/compiler.h"
#include "microvm/diag.h"

/* Firecracker's payload limit for one API request body. */
#define VMCONFIG_BODY_MAX 51200
/* The largest --config-file read. */
#define VMCONFIG_FILE_MAX (1024 * 1024)

/*
 * Once, before any thread: jansson seeds its hash function on first use from
 * /dev/urandom, which no seccomp filter here allows.
 */
void vmconfig_init(void);

/* The most of a name from the input that vmconfig_name shows. */
#define VMCONFIG_NAME_SHOWN 64

/*
 * A name from the input (a key, a string value) as a message shows it: JSON-escaped
 * ASCII, so one line whatever it holds, cut after VMCONFIG_NAME_SHOWN characters.
 */
const char *vmconfig_name(const char *name, char *buf, size_t size);

/* Parses len bytes of JSON that must be one object; *out is a new reference. */
MUST_CHECK int vmconfig_parse(const char *text, size_t len, json_t **out, struct diag *d);

/* PUT (patch false: the required fields given, the others back to defaults) or PATCH. */
MUST_CHECK int vmconfig_machine(struct vm_resources *r, const json_t *body, bool patch,
				struct diag *d);
MUST_CHECK int vmconfig_boot_source(struct vm_resources *r, const json_t *body, struct diag *d);
/* PUT /drives/{id}: path_id, when not NULL, must equal the body's drive_id. */
MUST_CHECK int vmconfig_drive(struct vm_resources *r, const char *path_id, const json_t *body,
			      struct diag *d);
/*
 * PATCH /drives/{id}: the drive it names must exist; *path is the new medium's
 * path_on_host (pointing into body) or NULL when the body changes nothing.
 */
MUST_CHECK int vmconfig_drive_patch(const struct vm_resources *r, const char *path_id,
				    const json_t *body, const char **path, struct diag *d);
MUST_CHECK int vmconfig_net(struct vm_resources *r, const char *path_id, const json_t *body,
			    struct diag *d);
MUST_CHECK int vmconfig_vsock(struct vm_resources *r, const json_t *body, struct diag *d);
MUST_CHECK int vmconfig_entropy(struct vm_resources *r, const json_t *body, struct diag *d);
MUST_CHECK int vmconfig_logger(struct vm_resources *r, const json_t *body, struct diag *d);
MUST_CHECK int vmconfig_metrics(struct vm_resources *r, const json_t *body, struct diag *d);

/* A whole --config-file's text: each section as its PUT would apply it. */
MUST_CHECK int vmconfig_file(struct vm_resources *r, const char *text, size_t len,
			     struct diag *d);

/* Reads FILE (at most VMCONFIG_FILE_MAX bytes) and applies it as vmconfig_file does. */
MUST_CHECK int vmconfig_load(struct vm_resources *r, const char *path, struct diag *d);

/* GET /machine-config's body, and GET /vm/config's (all of r); NULL when out of memory. */
json_t *vmconfig_export_machine(const struct vm_resources *r);
json_t *vmconfig_export(const struct vm_resources *r);

#endif
