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
#include "microvm/ratelimit.h"
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
 * PATCH /drives/{id} and /network-interfaces/{id}: the device the body names must
 * exist. *next is a new config of its kind (to free with devspec_free, or to hand to
 * resources_put_device): the device's with the body's changes, which *changes names
 * (enum device_change: a drive's new medium, rate limiters); NULL when the body
 * changes nothing. A rate limiter's buckets left out stay as they were.
 */
MUST_CHECK int vmconfig_drive_patch(const struct vm_resources *r, const char *path_id,
				    const json_t *body, void **next, unsigned int *changes,
				    struct diag *d);
MUST_CHECK int vmconfig_net_patch(const struct vm_resources *r, const char *path_id,
				  const json_t *body, void **next, unsigned int *changes,
				  struct diag *d);
MUST_CHECK int vmconfig_net(struct vm_resources *r, const char *path_id, const json_t *body,
			    struct diag *d);
MUST_CHECK int vmconfig_vsock(struct vm_resources *r, const json_t *body, struct diag *d);
MUST_CHECK int vmconfig_entropy(struct vm_resources *r, const json_t *body, struct diag *d);
/* PUT /balloon: the target may not exceed the guest's memory. */
MUST_CHECK int vmconfig_balloon(struct vm_resources *r, const json_t *body, struct diag *d);
/*
 * PATCH /balloon ({amount_mib}) or, stats true, PATCH /balloon/statistics
 * ({stats_polling_interval_s}, which may change but not turn statistics on or off):
 * *next is a new balloon config with the change (see vmconfig_drive_patch).
 */
MUST_CHECK int vmconfig_balloon_patch(const struct vm_resources *r, const json_t *body, bool stats,
				      void **next, struct diag *d);
/* GET /balloon's body; NULL when there is no balloon (or out of memory). */
json_t *vmconfig_export_balloon(const struct vm_resources *r);
MUST_CHECK int vmconfig_logger(struct vm_resources *r, const json_t *body, struct diag *d);
MUST_CHECK int vmconfig_metrics(struct vm_resources *r, const json_t *body, struct diag *d);

/*
 * Firecracker's RateLimiter object v ({"bandwidth": TokenBucket, "ops": TokenBucket},
 * each {size, one_time_burst, refill_time}) into *c: a bucket given replaces c's (size
 * or refill_time 0: no limit), one left out stays. name prefixes the reasons.
 */
MUST_CHECK int vmconfig_rate_limiter(const json_t *v, const char *name,
				     struct rate_limiter_config *c, struct diag *d);
/* The limiting buckets of c as a RateLimiter object ({} when none); NULL when out of memory. */
json_t *vmconfig_export_rate_limiter(const struct rate_limiter_config *c);

/* A whole --config-file's text: each section as its PUT would apply it. */
MUST_CHECK int vmconfig_file(struct vm_resources *r, const char *text, size_t len,
			     struct diag *d);

/* Reads FILE (at most VMCONFIG_FILE_MAX bytes) and applies it as vmconfig_file does. */
MUST_CHECK int vmconfig_load(struct vm_resources *r, const char *path, struct diag *d);

/* GET /machine-config's body, and GET /vm/config's (all of r); NULL when out of memory. */
json_t *vmconfig_export_machine(const struct vm_resources *r);
json_t *vmconfig_export(const struct vm_resources *r);

#endif
