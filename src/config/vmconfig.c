#include "config/vmconfig.h"
#include "config/vmconfig_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/balloon.h"
#include "config/devices.h"
#include "microvm/log.h"

#define VMCONFIG_VALUE_SHOWN 48

/* jansson's iterators take no const object. */
json_t *vmconfig_mutable(const json_t *v)
{
	union {
		const json_t *c;
		json_t *m;
	} u = { .c = v };

	return u.m;
}

void vmconfig_init(void)
{
	json_object_seed(0);
}

/* A value as compact JSON for a message, cut to a readable length. */
static void vmconfig_show(const json_t *v, char *buf, size_t size)
{
	/* ASCII: a cut never splits a character, and no control byte breaks the line. */
	char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_ENSURE_ASCII);

	if (!s) {
		snprintf(buf, size, "(value)");
		return;
	}
	if (strlen(s) > VMCONFIG_VALUE_SHOWN)
		snprintf(buf, size, "%.*s...", VMCONFIG_VALUE_SHOWN, s);
	else
		snprintf(buf, size, "%s", s);
	free(s);
}

const char *vmconfig_name(const char *name, char *buf, size_t size)
{
	json_t *s = json_string(name);
	char *text = s ? json_dumps(s, JSON_ENCODE_ANY | JSON_ENSURE_ASCII) : NULL;
	size_t len = text ? strlen(text) : 0;

	json_decref(s);
	/* Inside the quotes json_dumps adds. */
	if (len >= 2)
		snprintf(buf, size, "%.*s%s", (int)(len - 2 > VMCONFIG_NAME_SHOWN ? VMCONFIG_NAME_SHOWN : len - 2),
			 text + 1, len - 2 > VMCONFIG_NAME_SHOWN ? "..." : "");
	else
		snprintf(buf, size, "(a name)");
	free(text);
	return buf;
}

/* "NAME VALUE: reason". */
int vmconfig_fail(struct diag *d, const char *name, const json_t *v, const char *fmt, ...)
{
	char shown[VMCONFIG_VALUE_SHOWN + 8], reason[sizeof(d->msg)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	vmconfig_show(v, shown, sizeof(shown));
	return diag_fail(d, "%s %s: %s", name, shown, reason);
}

static bool vmconfig_type_ok(const json_t *v, enum vmconfig_type t)
{
	switch (t) {
	case VT_STRING:
		return json_is_string(v);
	case VT_INT:
		return json_is_integer(v);
	case VT_BOOL:
		return json_is_boolean(v);
	case VT_OBJECT:
		return json_is_object(v);
	case VT_ARRAY:
		return json_is_array(v);
	default:
		return false;
	}
}

static const char *const vmconfig_type_names[] = {
	[VT_STRING] = "a string", [VT_INT] = "an integer", [VT_BOOL] = "true or false",
	[VT_OBJECT] = "an object", [VT_ARRAY] = "an array",
};

/*
 * body is an object whose every key is one of fields[0..n), of its type (null stands for
 * an optional field left out), and holds each required one.
 */
int vmconfig_check(const json_t *body, const struct vmconfig_field *fields, size_t n,
		   struct diag *d)
{
	const char *key;
	json_t *v;

	if (!json_is_object(body))
		return diag_fail(d, "expected a JSON object");
	json_object_foreach(vmconfig_mutable(body), key, v) {
		const struct vmconfig_field *f = NULL;
		char expected[256] = "", shown[VMCONFIG_NAME_SHOWN + 8];
		size_t len = 0;

		for (size_t i = 0; i < n && !f; i++)
			f = strcmp(fields[i].name, key) ? NULL : &fields[i];
		if (!f) {
			for (size_t i = 0; i < n && len < sizeof(expected); i++)
				len += (size_t)snprintf(expected + len, sizeof(expected) - len, "%s%s",
							i ? ", " : "", fields[i].name);
			return diag_fail(d, "unknown field '%s' (expected one of: %s)",
					 vmconfig_name(key, shown, sizeof(shown)), expected);
		}
		if (json_is_null(v) && !f->required)
			continue;
		if (f->unsupported)
			return vmconfig_fail(d, key, v, "not supported by microvm: %s", f->unsupported);
		if (!vmconfig_type_ok(v, f->type))
			return vmconfig_fail(d, key, v, "expected %s", vmconfig_type_names[f->type]);
	}
	for (size_t i = 0; i < n; i++) {
		const json_t *given = json_object_get(body, fields[i].name);

		if (fields[i].required && (!given || json_is_null(given)))
			return diag_fail(d, "missing field '%s'", fields[i].name);
	}
	return 0;
}

/* The field's value, or NULL when absent or null. */
const json_t *vmconfig_get(const json_t *body, const char *name)
{
	const json_t *v = json_object_get(body, name);

	return v && !json_is_null(v) ? v : NULL;
}

/* A boolean field that microvm supports only as false (its default). */
static int vmconfig_only_false(const json_t *body, const char *name, const char *why,
			       struct diag *d)
{
	const json_t *v = vmconfig_get(body, name);

	return v && json_is_true(v) ? vmconfig_fail(d, name, v, "not supported by microvm: %s", why) : 0;
}

/* A string field that microvm supports only with one of the values in ok (NULL-terminated). */
int vmconfig_only_values(const json_t *body, const char *name, const char *const *ok,
				struct diag *d)
{
	const json_t *v = vmconfig_get(body, name);

	for (size_t i = 0; v && ok[i]; i++)
		if (!strcmp(json_string_value(v), ok[i]))
			return 0;
	return v ? vmconfig_fail(d, name, v, "microvm supports only \"%s\"%s", ok[0],
				 ok[1] ? " and the other values Firecracker's default behaves as" : "")
		 : 0;
}

/* An integer field into [0, UINT64_MAX]. */
int vmconfig_u64(const json_t *v, const char *name, uint64_t *out, struct diag *d)
{
	json_int_t i = json_integer_value(v);

	if (i < 0)
		return vmconfig_fail(d, name, v, "expected a number of at least 0");
	*out = (uint64_t)i;
	return 0;
}

/* A string with no NUL (jansson refuses them unless asked) of at most max bytes. */
int vmconfig_string(const json_t *v, const char *name, size_t max, struct diag *d)
{
	if (json_string_length(v) == 0 || (max && json_string_length(v) > max))
		return vmconfig_fail(d, name, v, "expected 1 to %zu bytes", max ? max : (size_t)4096);
	return 0;
}

int vmconfig_parse(const char *text, size_t len, json_t **out, struct diag *d)
{
	json_error_t err;
	json_t *v = json_loadb(text, len, JSON_REJECT_DUPLICATES, &err);

	if (!v) {
		/*
		 * jansson quotes the input near the error: a control byte or a bad UTF-8 one
		 * would break the one-line reason and the JSON fault_message that carries it.
		 */
		for (char *p = err.text; *p; p++)
			if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
				*p = '?';
		return diag_fail(d, "invalid JSON at line %d column %d: %s", err.line, err.column,
				 err.text);
	}
	if (!json_is_object(v)) {
		json_decref(v);
		return diag_fail(d, "expected a JSON object");
	}
	*out = v;
	return 0;
}

/* ---- machine-config, boot-source ---- */

static const struct vmconfig_field machine_fields[] = {
	{ "vcpu_count", VT_INT, true, NULL },
	{ "mem_size_mib", VT_INT, true, NULL },
	{ "smt", VT_BOOL, false, NULL },
	{ "track_dirty_pages", VT_BOOL, false, NULL },
	{ "huge_pages", VT_STRING, false, NULL },
	{ "cpu_template", VT_STRING, false, NULL },
};

int vmconfig_machine(struct vm_resources *r, const json_t *body, bool patch, struct diag *d)
{
	static const char *const none[] = { "None", NULL };
	struct machine_config m = r->machine;
	const struct device_config *balloon;
	const json_t *vcpus, *mem;
	uint64_t v = 0;
	int ret;

	if (patch) {
		struct vmconfig_field optional[ARRAY_SIZE(machine_fields)];

		memcpy(optional, machine_fields, sizeof(optional));
		optional[0].required = optional[1].required = false;
		ret = vmconfig_check(body, optional, ARRAY_SIZE(optional), d);
	} else {
		ret = vmconfig_check(body, machine_fields, ARRAY_SIZE(machine_fields), d);
	}
	if (!ret)
		ret = vmconfig_only_false(body, "smt", "the vCPUs are not presented as SMT siblings", d);
	if (!ret)
		ret = vmconfig_only_false(body, "track_dirty_pages", "no diff snapshots", d);
	if (!ret)
		ret = vmconfig_only_values(body, "huge_pages", none, d);
	if (!ret)
		ret = vmconfig_only_values(body, "cpu_template", none, d);
	if (ret)
		return ret;
	vcpus = vmconfig_get(body, "vcpu_count");
	mem = vmconfig_get(body, "mem_size_mib");
	/* The setters' reasons name no field: vmconfig_fail adds it and the value. */
	if (vcpus) {
		ret = vmconfig_u64(vcpus, "vcpu_count", &v, d);
		if (!ret && resources_set_vcpus(r, v, d))
			ret = vmconfig_fail(d, "vcpu_count", vcpus, "%s", d->msg);
	}
	if (!ret && mem) {
		ret = vmconfig_u64(mem, "mem_size_mib", &v, d);
		if (!ret && resources_set_mem_mib(r, v, d))
			ret = vmconfig_fail(d, "mem_size_mib", mem, "%s", d->msg);
		balloon = resources_find_device(r, &balloon_spec, NULL);
		if (!ret && balloon && ((const struct balloon_config *)balloon->config)->amount_mib > v)
			ret = vmconfig_fail(d, "mem_size_mib", mem, "less than the balloon's amount_mib %u",
					    ((const struct balloon_config *)balloon->config)->amount_mib);
	}
	/* A refused field leaves the machine as it was. */
	if (ret)
		r->machine = m;
	return ret;
}

json_t *vmconfig_export_machine(const struct vm_resources *r)
{
	return json_pack("{s:I, s:I, s:b, s:b, s:s}", "vcpu_count", (json_int_t)r->machine.vcpus,
			 "mem_size_mib", (json_int_t)r->machine.mem_mib, "smt", 0,
			 "track_dirty_pages", 0, "huge_pages", "None");
}

static const struct vmconfig_field boot_fields[] = {
	{ "kernel_image_path", VT_STRING, true, NULL },
	{ "initrd_path", VT_STRING, false, NULL },
	{ "boot_args", VT_STRING, false, NULL },
};

int vmconfig_boot_source(struct vm_resources *r, const json_t *body, struct diag *d)
{
	const json_t *kernel = vmconfig_get(body, "kernel_image_path");
	const json_t *initrd = vmconfig_get(body, "initrd_path");
	const json_t *args = vmconfig_get(body, "boot_args");
	int ret = vmconfig_check(body, boot_fields, ARRAY_SIZE(boot_fields), d);

	if (!ret)
		ret = vmconfig_string(json_object_get(body, "kernel_image_path"), "kernel_image_path", 4096, d);
	if (!ret && initrd)
		ret = vmconfig_string(initrd, "initrd_path", 4096, d);
	if (!ret && args && json_string_length(args) != strlen(json_string_value(args)))
		ret = vmconfig_fail(d, "boot_args", args, "holds a NUL byte");
	if (ret)
		return ret;
	/* A PUT replaces the whole boot source: what it leaves out goes back to the default. */
	ret = resources_set_kernel(r, json_string_value(kernel), d);
	if (!ret)
		ret = resources_set_initrd(r, initrd ? json_string_value(initrd) : NULL, d);
	if (!ret)
		ret = resources_set_cmdline(r, args ? json_string_value(args) : NULL, d);
	return ret;
}

static const struct vmconfig_field logger_fields[] = {
	{ "log_path", VT_STRING, false, NULL },
	{ "level", VT_STRING, false, NULL },
	{ "show_level", VT_BOOL, false, NULL },
	{ "show_log_origin", VT_BOOL, false, NULL },
	{ "module", VT_STRING, false, "filtering by module" },
};

/* Firecracker's level names, case-insensitive, as microvm's levels. */
static int vmconfig_level(const json_t *v, int *level, struct diag *d)
{
	static const struct { const char *name; int level; } levels[] = {
		{ "Off", LOG_QUIET }, { "Error", LOG_ERROR }, { "Warning", LOG_WARN },
		{ "Info", LOG_INFO }, { "Debug", LOG_DEBUG }, { "Trace", LOG_DEBUG },
	};

	for (size_t i = 0; i < ARRAY_SIZE(levels); i++) {
		if (!strcasecmp(json_string_value(v), levels[i].name)) {
			*level = levels[i].level;
			return 0;
		}
	}
	return vmconfig_fail(d, "level", v, "expected Error, Warning, Info, Debug, Trace or Off");
}

int vmconfig_logger(struct vm_resources *r, const json_t *body, struct diag *d)
{
	const json_t *path = vmconfig_get(body, "log_path"), *level = vmconfig_get(body, "level");
	int ret = vmconfig_check(body, logger_fields, ARRAY_SIZE(logger_fields), d), lv = LOG_INFO;

	if (!ret && path)
		ret = vmconfig_string(path, "log_path", 4096, d);
	if (!ret && level)
		ret = vmconfig_level(level, &lv, d);
	if (!ret)
		ret = resources_set_logger_path(r, path ? json_string_value(path) : NULL, d);
	if (ret)
		return ret;
	r->logger.level = lv;
	r->logger.level_set = level != NULL;
	r->logger.show_level = json_is_true(vmconfig_get(body, "show_level"));
	r->logger.show_origin = json_is_true(vmconfig_get(body, "show_log_origin"));
	return 0;
}

static const struct vmconfig_field metrics_fields[] = {
	{ "metrics_path", VT_STRING, true, NULL },
	{ "emit_id", VT_BOOL, false, NULL },
	{ "properties", VT_OBJECT, false, "operator-defined properties" },
};

int vmconfig_metrics(struct vm_resources *r, const json_t *body, struct diag *d)
{
	const json_t *path = json_object_get(body, "metrics_path");
	int ret = vmconfig_check(body, metrics_fields, ARRAY_SIZE(metrics_fields), d);

	if (!ret)
		ret = vmconfig_string(path, "metrics_path", 4096, d);
	if (!ret)
		ret = resources_set_metrics_path(r, json_string_value(path), d);
	if (!ret)
		r->metrics.emit_id = json_is_true(vmconfig_get(body, "emit_id"));
	return ret;
}
