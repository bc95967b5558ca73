#include "config/snapconfig.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "config/vmconfig.h"
#include "config/vmconfig_internal.h"

static const struct vmconfig_field create_fields[] = {
	{ "snapshot_path", VT_STRING, true, NULL },
	{ "mem_file_path", VT_STRING, true, NULL },
	{ "snapshot_type", VT_STRING, false, NULL },
	{ "version", VT_STRING, false, "snapshot versions (Firecracker dropped the field)" },
};

/* A path a request names: not empty, one line. */
static int snapconfig_path(const json_t *v, const char *name, const char **out, struct diag *d)
{
	const char *s = json_string_value(v);
	char shown[VMCONFIG_NAME_SHOWN + 8];

	if (!s || !s[0] || strchr(s, '\n') || json_string_length(v) != strlen(s))
		return diag_fail(d, "%s \"%s\": expected the path of a file", name,
				 vmconfig_name(s ? s : "", shown, sizeof(shown)));
	*out = s;
	return 0;
}

int snapconfig_create(const json_t *body, struct snapconfig_create *out, struct diag *d)
{
	const char *type;
	char shown[VMCONFIG_NAME_SHOWN + 8];
	int ret = vmconfig_check(body, create_fields, ARRAY_SIZE(create_fields), d);

	if (!ret)
		ret = snapconfig_path(json_object_get(body, "snapshot_path"), "snapshot_path",
				      &out->snapshot_path, d);
	if (!ret)
		ret = snapconfig_path(json_object_get(body, "mem_file_path"), "mem_file_path",
				      &out->mem_file_path, d);
	type = json_string_value(json_object_get(body, "snapshot_type"));
	if (!ret && type && strcmp(type, "Full"))
		return diag_fail(d, "snapshot_type \"%s\": only Full snapshots (Diff needs dirty page tracking, which microvm does not have)",
				 vmconfig_name(type, shown, sizeof(shown)));
	if (!ret && !strcmp(out->snapshot_path, out->mem_file_path))
		return diag_fail(d, "snapshot_path and mem_file_path name the same file");
	return ret;
}

static const struct vmconfig_field load_fields[] = {
	{ "snapshot_path", VT_STRING, true, NULL },
	{ "mem_backend", VT_OBJECT, false, NULL },
	{ "mem_file_path", VT_STRING, false, NULL },
	{ "resume_vm", VT_BOOL, false, NULL },
	{ "network_overrides", VT_ARRAY, false, NULL },
	{ "vsock_override", VT_OBJECT, false, NULL },
	{ "enable_diff_snapshots", VT_BOOL, false, NULL },
	{ "track_dirty_pages", VT_BOOL, false, NULL },
	{ "clock_realtime", VT_BOOL, false, NULL },
};

static const struct vmconfig_field backend_fields[] = {
	{ "backend_type", VT_STRING, true, NULL },
	{ "backend_path", VT_STRING, true, NULL },
};

static const struct vmconfig_field vsock_override_fields[] = {
	{ "uds_path", VT_STRING, true, NULL },
};

static const struct vmconfig_field net_override_fields[] = {
	{ "iface_id", VT_STRING, true, NULL },
	{ "host_dev_name", VT_STRING, true, NULL },
};

/* Fields Firecracker has for features microvm lacks: accepted only when false. */
static int snapconfig_only_false(const json_t *body, struct diag *d)
{
	static const char *const names[] = { "enable_diff_snapshots", "track_dirty_pages", "clock_realtime" };

	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (json_is_true(json_object_get(body, names[i])))
			return diag_fail(d, "%s true: not supported by microvm", names[i]);
	return 0;
}

static int snapconfig_backend(const json_t *body, struct snapconfig_load *out, struct diag *d)
{
	const json_t *backend = json_object_get(body, "mem_backend");
	const json_t *file = json_object_get(body, "mem_file_path");
	const char *type;
	char shown[VMCONFIG_NAME_SHOWN + 8];
	int ret;

	if (json_is_null(backend))
		backend = NULL;
	if (json_is_null(file))
		file = NULL;
	if (!backend == !file)
		return diag_fail(d, "exactly one of mem_backend and mem_file_path");
	if (file)
		return snapconfig_path(file, "mem_file_path", &out->mem_path, d);
	ret = vmconfig_check(backend, backend_fields, ARRAY_SIZE(backend_fields), d);
	if (ret)
		return ret;
	type = json_string_value(json_object_get(backend, "backend_type"));
	if (strcmp(type, "File"))
		return diag_fail(d, "mem_backend.backend_type \"%s\": only File (Uffd is not supported by microvm)",
				 vmconfig_name(type, shown, sizeof(shown)));
	return snapconfig_path(json_object_get(backend, "backend_path"), "mem_backend.backend_path",
			       &out->mem_path, d);
}

int snapconfig_load(const json_t *body, struct snapconfig_load *out, struct diag *d)
{
	const json_t *v, *item;
	size_t i;
	int ret = vmconfig_check(body, load_fields, ARRAY_SIZE(load_fields), d);

	memset(out, 0, sizeof(*out));
	if (!ret)
		ret = snapconfig_only_false(body, d);
	if (!ret)
		ret = snapconfig_path(json_object_get(body, "snapshot_path"), "snapshot_path",
				      &out->snapshot_path, d);
	if (!ret)
		ret = snapconfig_backend(body, out, d);
	if (ret)
		return ret;
	out->resume_vm = json_is_true(json_object_get(body, "resume_vm"));
	v = json_object_get(body, "vsock_override");
	if (v && !json_is_null(v)) {
		ret = vmconfig_check(v, vsock_override_fields, ARRAY_SIZE(vsock_override_fields), d);
		if (!ret)
			ret = snapconfig_path(json_object_get(v, "uds_path"), "vsock_override.uds_path",
					      &out->vsock_uds, d);
		if (ret)
			return ret;
	}
	v = json_object_get(body, "network_overrides");
	if (!v || json_is_null(v))
		return 0;
	json_array_foreach(v, i, item) {
		struct diag why;

		if (vmconfig_check(item, net_override_fields, ARRAY_SIZE(net_override_fields), &why))
			return diag_fail(d, "network_overrides[%zu]: %.400s", i, why.msg);
	}
	out->network_overrides = v;
	return 0;
}

/* The interface of the snapshot's config with this iface_id, or NULL. */
static json_t *snapconfig_iface(json_t *config, const char *id)
{
	json_t *list = json_object_get(config, "network-interfaces"), *item;
	size_t i;

	json_array_foreach(list, i, item) {
		const char *have = json_string_value(json_object_get(item, "iface_id"));

		if (have && !strcmp(have, id))
			return item;
	}
	return NULL;
}

int snapconfig_override(json_t *config, const struct snapconfig_load *load, struct diag *d)
{
	char shown[VMCONFIG_NAME_SHOWN + 8];
	json_t *item, *vsock;
	size_t i;

	json_array_foreach(load->network_overrides, i, item) {
		const char *id = json_string_value(json_object_get(item, "iface_id"));
		json_t *iface = snapconfig_iface(config, id);

		if (!iface)
			return diag_fail(d, "network_overrides[%zu]: iface_id \"%s\": the snapshot has no such interface",
					 i, vmconfig_name(id, shown, sizeof(shown)));
		if (json_object_set(iface, "host_dev_name", json_object_get(item, "host_dev_name")))
			return diag_fail_errno(d, -ENOMEM, "out of memory");
	}
	if (!load->vsock_uds)
		return 0;
	vsock = json_object_get(config, "vsock");
	if (!json_is_object(vsock))
		return diag_fail(d, "vsock_override: the snapshot has no vsock device");
	if (json_object_set_new(vsock, "uds_path", json_string(load->vsock_uds)))
		return diag_fail_errno(d, -ENOMEM, "out of memory");
	return 0;
}

char *snapconfig_describe(json_t *exported)
{
	char *text;

	if (!exported)
		return NULL;
	json_object_del(exported, "boot-source");
	json_object_del(exported, "logger");
	json_object_del(exported, "metrics");
	text = json_dumps(exported, JSON_COMPACT);
	json_decref(exported);
	return text;
}
