/*
 * The API's input path as the API thread and the VMM thread run it, minus the
 * sockets: a stream of HTTP requests parsed one at a time (http_parse), routed
 * (routes_match), each body parsed (vmconfig_parse) and applied to one struct
 * vm_resources as the controller applies it before InstanceStart.
 * Input: the bytes a client sends on one connection.
 */
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "config/devices.h"
#include "config/drive.h"
#include "config/snapconfig.h"
#include "config/vmconfig.h"
#include "harness.h"
#include "vmconfig_check.h"

/* A PATCH's new config, taken into the resources as the controller does once the device took it. */
static int fuzz_patched(struct vm_resources *r, const struct device_spec *spec, int ret, void *next,
			struct diag *d)
{
	/* Nothing to change is no new config; a refusal leaves none behind. */
	if (ret || !next) {
		FUZZ_CHECK(!next);
		return ret;
	}
	return resources_put_device(r, spec, next, d);
}

/* A snapshot request's body: every path it yields is a non-empty one-line string of it. */
static int fuzz_snapshot_body(enum api_op op, const json_t *body, struct diag *d)
{
	struct snapconfig_create c;
	struct snapconfig_load l;
	int ret;

	if (op == API_SNAPSHOT_CREATE) {
		ret = snapconfig_create(body, &c, d);
		FUZZ_CHECK(ret || (c.snapshot_path[0] && c.mem_file_path[0] && !strchr(c.snapshot_path, '\n') &&
				   strcmp(c.snapshot_path, c.mem_file_path)));
		return ret;
	}
	ret = snapconfig_load(body, &l, d);
	FUZZ_CHECK(ret || (l.snapshot_path[0] && l.mem_path[0] && !strchr(l.mem_path, '\n') &&
			   (!l.vsock_uds || l.vsock_uds[0]) &&
			   (!l.network_overrides || json_is_array(l.network_overrides))));
	return ret;
}

static int fuzz_apply(struct vm_resources *r, const struct api_call *call, const json_t *body,
		      struct diag *d)
{
	unsigned int changes = 0;
	void *next = NULL;
	int ret;

	switch (call->op) {
	case API_MACHINE_PUT:
	case API_MACHINE_PATCH:
		return vmconfig_machine(r, body, call->op == API_MACHINE_PATCH, d);
	case API_BOOT_SOURCE:
		return vmconfig_boot_source(r, body, d);
	case API_DRIVE_PUT:
		return vmconfig_drive(r, call->id, body, d);
	case API_DRIVE_PATCH:
		ret = vmconfig_drive_patch(r, call->id, body, &next, &changes, d);
		/* A new medium is a non-empty path, for a drive that exists. */
		FUZZ_CHECK(ret || !(changes & DEVICE_CHANGE_MEDIUM) ||
			   (((struct drive_config *)next)->path[0] &&
			    resources_find_device(r, &drive_spec, call->id)));
		return fuzz_patched(r, &drive_spec, ret, next, d);
	case API_NET_PUT:
		return vmconfig_net(r, call->id, body, d);
	case API_NET_PATCH:
		ret = vmconfig_net_patch(r, call->id, body, &next, &changes, d);
		FUZZ_CHECK(ret || changes == (next ? DEVICE_CHANGE_LIMITS : 0));
		return fuzz_patched(r, &net_spec, ret, next, d);
	case API_BALLOON_PUT:
		return vmconfig_balloon(r, body, d);
	case API_BALLOON_PATCH:
	case API_BALLOON_STATS_PATCH:
		ret = vmconfig_balloon_patch(r, body, call->op == API_BALLOON_STATS_PATCH, &next, d);
		return fuzz_patched(r, &balloon_spec, ret, next, d);
	case API_VSOCK:
		return vmconfig_vsock(r, body, d);
	case API_ENTROPY:
		return vmconfig_entropy(r, body, d);
	case API_LOGGER:
		return vmconfig_logger(r, body, d);
	case API_METRICS:
		return vmconfig_metrics(r, body, d);
	case API_SNAPSHOT_CREATE:
	case API_SNAPSHOT_LOAD:
		return fuzz_snapshot_body(call->op, body, d);
	case API_DESCRIBE:
	case API_VERSION:
	case API_VM_CONFIG:
	case API_MACHINE_GET:
	case API_BALLOON_GET:
	case API_BALLOON_STATS_GET:
	case API_ACTION:
	case API_VM_STATE:
	case API_OP_COUNT:
	default:
		return 0;
	}
}

/* One routed request with a body: applied whole, or refused with a reason and no change. */
static void fuzz_call(struct vm_resources *r, const struct http_request *req, const struct api_call *call)
{
	struct diag d = { "" };
	json_t *body;
	char *before, *after;
	int ret;

	if (vmconfig_parse(req->body, req->body_len, &body, &d)) {
		/* One line of printable text: it goes back as a JSON fault_message. */
		FUZZ_CHECK(d.msg[0] != '\0' && !strchr(d.msg, '\n'));
		return;
	}
	FUZZ_CHECK(json_is_object(body));
	before = fuzz_vmconfig_export(r);
	ret = fuzz_apply(r, call, body, &d);
	json_decref(body);
	after = fuzz_vmconfig_export(r);
	if (ret)
		FUZZ_CHECK(d.msg[0] != '\0' && !strcmp(before, after));
	fuzz_vmconfig_check(r);
	free(before);
	free(after);
}

static void fuzz_request(struct vm_resources *r, const char *buf, size_t len,
			 const struct http_request *req)
{
	enum http_status status = HTTP_OK;
	char id[HTTP_PATH_MAX + 1];
	struct api_call call;
	struct diag d = { "" };

	FUZZ_CHECK(req->consumed > 0 && req->consumed <= len);
	FUZZ_CHECK(req->path[0] == '/' && strlen(req->path) <= HTTP_PATH_MAX);
	FUZZ_CHECK(strcspn(req->path, " %?#\r\n") == strlen(req->path));
	FUZZ_CHECK(req->body_len <= HTTP_BODY_MAX);
	FUZZ_CHECK(req->body ? req->body + req->body_len == buf + req->consumed : req->body_len == 0);
	if (routes_match(req, &call, id, sizeof(id), &status, &d)) {
		FUZZ_CHECK(status == HTTP_BAD_REQUEST && d.msg[0] != '\0');
		return;
	}
	FUZZ_CHECK(call.op < API_OP_COUNT);
	FUZZ_CHECK(!call.id || (call.id[0] && strlen(call.id) <= 64 && !strchr(call.id, '/')));
	FUZZ_CHECK((req->method == HTTP_GET) == (req->body == NULL) || req->method == HTTP_GET);
	if (req->body)
		fuzz_call(r, req, &call);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool seeded;
	char *buf = malloc(size ? size : 1);
	struct vm_resources r;
	size_t off = 0;

	if (!seeded) {
		vmconfig_init();
		seeded = true;
	}
	FUZZ_CHECK(buf != NULL);
	memcpy(buf, data, size);
	resources_init(&r);
	while (off < size) {
		struct http_request req;
		enum http_status status = HTTP_OK;
		const char *reason = NULL;
		enum http_parse_result res = http_parse(buf + off, size - off, &req, &status, &reason);

		if (res == HTTP_PARSE_INCOMPLETE) {
			/* Waiting is only for what may still become a request within the limits. */
			FUZZ_CHECK(size - off < HTTP_REQUEST_MAX);
			break;
		}
		if (res == HTTP_PARSE_ERROR) {
			FUZZ_CHECK(status >= HTTP_BAD_REQUEST && reason && reason[0]);
			break;
		}
		fuzz_request(&r, buf + off, size - off, &req);
		off += req.consumed;
	}
	/* What the resources became reads back as the same resources (GET /vm/config, the jailer). */
	fuzz_vmconfig_roundtrip(&r);
	resources_free(&r);
	free(buf);
	return 0;
}
