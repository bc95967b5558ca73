#include <string.h>

#include "api/api.h"

/* The longest {id} a path may carry: Firecracker's ids are short names. */
#define ROUTES_ID_MAX 64

struct route {
	enum http_method method;
	const char *path;    /* exact, or the prefix before {id} when with_id */
	bool with_id;
	enum api_op op;
	const char *name;
};

static const struct route routes[] = {
	{ HTTP_GET, "/", false, API_DESCRIBE, "get_instance" },
	{ HTTP_GET, "/version", false, API_VERSION, "get_version" },
	{ HTTP_GET, "/vm/config", false, API_VM_CONFIG, "get_vm_config" },
	{ HTTP_GET, "/machine-config", false, API_MACHINE_GET, "get_machine_config" },
	{ HTTP_PUT, "/machine-config", false, API_MACHINE_PUT, "put_machine_config" },
	{ HTTP_PATCH, "/machine-config", false, API_MACHINE_PATCH, "patch_machine_config" },
	{ HTTP_PUT, "/boot-source", false, API_BOOT_SOURCE, "put_boot_source" },
	{ HTTP_PUT, "/drives/", true, API_DRIVE_PUT, "put_drive" },
	{ HTTP_PATCH, "/drives/", true, API_DRIVE_PATCH, "patch_drive" },
	{ HTTP_PUT, "/network-interfaces/", true, API_NET_PUT, "put_network_interface" },
	{ HTTP_PATCH, "/network-interfaces/", true, API_NET_PATCH, "patch_network_interface" },
	{ HTTP_PUT, "/vsock", false, API_VSOCK, "put_vsock" },
	{ HTTP_PUT, "/entropy", false, API_ENTROPY, "put_entropy" },
	{ HTTP_PUT, "/balloon", false, API_BALLOON_PUT, "put_balloon" },
	{ HTTP_PATCH, "/balloon", false, API_BALLOON_PATCH, "patch_balloon" },
	{ HTTP_GET, "/balloon", false, API_BALLOON_GET, "get_balloon" },
	{ HTTP_PATCH, "/balloon/statistics", false, API_BALLOON_STATS_PATCH, "patch_balloon_statistics" },
	{ HTTP_GET, "/balloon/statistics", false, API_BALLOON_STATS_GET, "get_balloon_statistics" },
	{ HTTP_PUT, "/logger", false, API_LOGGER, "put_logger" },
	{ HTTP_PUT, "/metrics", false, API_METRICS, "put_metrics" },
	{ HTTP_PUT, "/actions", false, API_ACTION, "put_actions" },
	{ HTTP_PATCH, "/vm", false, API_VM_STATE, "patch_vm" },
	{ HTTP_PUT, "/snapshot/create", false, API_SNAPSHOT_CREATE, "create_snapshot" },
	{ HTTP_PUT, "/snapshot/load", false, API_SNAPSHOT_LOAD, "load_snapshot" },
};
_Static_assert(sizeof(routes) / sizeof(routes[0]) == API_OP_COUNT, "one route per op");

const char *routes_op_name(enum api_op op)
{
	return (unsigned int)op < API_OP_COUNT ? routes[op].name : "unknown";
}

/* The path's {id} after prefix: 1 to ROUTES_ID_MAX bytes of A-Z a-z 0-9 _ . - */
static bool routes_id(const char *path, const struct route *r, char *id, size_t size)
{
	const char *p = path + strlen(r->path);
	size_t len = strlen(p);

	if (strncmp(path, r->path, strlen(r->path)) || len == 0 || len > ROUTES_ID_MAX || len >= size)
		return false;
	if (strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") != len)
		return false;
	memcpy(id, p, len + 1);
	return true;
}

int routes_match(const struct http_request *req, struct api_call *call, char *id, size_t id_size,
		 enum http_status *status, struct diag *d)
{
	bool path_known = false, body_missing = false;

	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		const struct route *r = &routes[i];
		bool match = r->with_id ? routes_id(req->path, r, id, id_size) : !strcmp(req->path, r->path);

		if (!match)
			continue;
		path_known = true;
		if (r->method != req->method)
			continue;
		memset(call, 0, sizeof(*call));
		call->op = r->op;
		call->id = r->with_id ? id : NULL;
		body_missing = req->method != HTTP_GET && !req->body;
		if (body_missing)
			break;
		return 0;
	}
	*status = HTTP_BAD_REQUEST;
	if (body_missing)
		return diag_fail(d, "%s %s: a JSON body is required", req->method_name, req->path);
	if (path_known)
		return diag_fail(d, "%s %s: this method is not allowed here", req->method_name, req->path);
	return diag_fail(d, "%s %s: no such resource%s", req->method_name, req->path,
			 strncmp(req->path, "/drives/", 8) && strncmp(req->path, "/network-interfaces/", 20)
				 ? "" : " (an id is 1-64 of A-Z a-z 0-9 _ . -)");
}
