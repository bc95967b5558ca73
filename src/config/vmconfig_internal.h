/*
 * The checks the parts of the JSON config share (vmconfig.c, vmconfig_devices.c,
 * limiter.c): not for use outside src/config.
 */
#ifndef MICROVM_CONFIG_VMCONFIG_INTERNAL_H
#define MICROVM_CONFIG_VMCONFIG_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "microvm/compiler.h"
#include "microvm/diag.h"

enum vmconfig_type { VT_STRING, VT_INT, VT_BOOL, VT_OBJECT, VT_ARRAY };

/* One field a body may hold. */
struct vmconfig_field {
	const char *name;
	enum vmconfig_type type;
	bool required;
	/* Set: a field of Firecracker's that microvm does not implement; any value but null fails. */
	const char *unsupported;
};

/* jansson's iterators take no const object. */
json_t *vmconfig_mutable(const json_t *v);
/* "NAME VALUE: reason", the value shown as compact JSON, cut to a readable length. */
PRINTF_LIKE(4, 5) int vmconfig_fail(struct diag *d, const char *name, const json_t *v,
				    const char *fmt, ...);
/*
 * body is an object whose every key is one of fields[0..n), of its type (null stands for
 * an optional field left out), and holds each required one.
 */
MUST_CHECK int vmconfig_check(const json_t *body, const struct vmconfig_field *fields, size_t n,
			      struct diag *d);
/* The field's value, or NULL when absent or null. */
const json_t *vmconfig_get(const json_t *body, const char *name);
/* A string field that microvm supports only with one of the values in ok (NULL-terminated). */
MUST_CHECK int vmconfig_only_values(const json_t *body, const char *name, const char *const *ok,
				    struct diag *d);
/* An integer field into [0, UINT64_MAX]. */
MUST_CHECK int vmconfig_u64(const json_t *v, const char *name, uint64_t *out, struct diag *d);
/* A string with no NUL (jansson refuses them unless asked) of at most max bytes. */
MUST_CHECK int vmconfig_string(const json_t *v, const char *name, size_t max, struct diag *d);

#endif
