/* The field checker that every body of Firecracker's JSON goes through (vmconfig.c). */
#ifndef MICROVM_CONFIG_VMCONFIG_FIELDS_H
#define MICROVM_CONFIG_VMCONFIG_FIELDS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

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

/*
 * body is an object of the fields only (unknown ones refused by name), each of its
 * type, the required ones present and not null.
 */
MUST_CHECK int vmconfig_check(const json_t *body, const struct vmconfig_field *fields, size_t n,
			      struct diag *d);

#endif
