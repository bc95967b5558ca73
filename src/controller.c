#include "microvm/controller.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api/api.h"
#include "config/devices.h"
#include "config/balloon.h"
#include "config/drive.h"
#include "config/net.h"
#include "config/snapconfig.h"
#include "config/vmconfig.h"
#include "microvm/boottimer.h"
#include "microvm/kvm.h"
#include "microvm/log.h"
#include "microvm/mailbox.h"
#include "microvm/virtio_balloon.h"
#include "microvm/metrics.h"
#include "microvm/vm.h"
#include "snapshot/file.h"

enum controller_state { CTL_NOT_STARTED, CTL_RUNNING, CTL_PAUSED };

struct controller {
	struct controller_params p;
	struct mailbox mailbox;
	struct metrics metrics;
	struct metrics_latencies lat;
	struct api_stats api_stats;
	struct api_server *api;
	struct kvm kvm;   /* kvm_create's VM, until vm_boot takes it over */
	struct vm *vm;
	enum controller_state state;
	int log_fd;
	struct evloop_watch watches[2];
};

static uint64_t controller_since_start_us(void)
{
	struct timespec now;

	clock_gettime(CLOCK_BOOTTIME, &now);
	return ((uint64_t)now.tv_sec * 1000000000 + (uint64_t)now.tv_nsec -
		boottimer_process_start_ns()) / 1000;
}

static enum log_level controller_log_level(int verbosity)
{
	if (verbosity < 0)
		return LOG_ERROR;
	return verbosity == 0 ? LOG_INFO : LOG_DEBUG;
}

/* The logger as the resources describe it: its file, its level. */
static int controller_logger(struct controller *c, struct diag *d)
{
	const struct logger_config *l = &c->p.res->logger;
	int fd;

	if (l->path) {
		fd = open(l->path, O_WRONLY | O_APPEND | O_CREAT | O_NONBLOCK | O_CLOEXEC | O_NOCTTY, 0600);
		if (fd < 0)
			return diag_fail_errno(d, -errno, "log_path %s: %s", l->path, strerror(errno));
		if (c->log_fd >= 0)
			close(c->log_fd);
		c->log_fd = fd;
		log_set_output(fd, l->show_level, l->show_origin);
	} else {
		log_set_output(c->log_fd >= 0 ? c->log_fd : STDERR_FILENO, l->show_level, l->show_origin);
	}
	log_init("microvm", l->level_set ? (enum log_level)l->level : controller_log_level(c->p.verbosity));
	return 0;
}

int controller_init(struct controller **out, const struct controller_params *p, struct diag *d)
{
	struct controller *c = calloc(1, sizeof(*c));
	int ret;

	if (!c)
		return diag_fail_errno(d, -ENOMEM, "out of memory");
	c->p = *p;
	c->log_fd = c->metrics.fd = c->metrics.timer_fd = -1;
	c->kvm = (struct kvm){ .kvm_fd = -1, .vm_fd = -1 };
	ret = mailbox_init(&c->mailbox);
	if (!ret)
		ret = metrics_init(&c->metrics);
	if (ret) {
		controller_destroy(c);
		return diag_fail_errno(d, ret, "eventfd or timerfd: %s", strerror(-ret));
	}
	ret = controller_logger(c, d);
	if (!ret && p->res->metrics.path)
		ret = metrics_open(&c->metrics, p->res->metrics.path,
				   p->res->metrics.emit_id ? p->id : NULL, d);
	if (!ret && p->api_sock) {
		ret = api_listen(&c->api, p->api_sock, d);
		c->lat.api_ready_us = controller_since_start_us();
	}
	if (ret) {
		controller_destroy(c);
		return ret;
	}
	*out = c;
	return 0;
}

/* ---- the calls, on the VMM thread ---- */

/* Refuses a call that needs the VM not started yet (start false) or running (start true). */
static int controller_needs(struct controller *c, bool started, struct diag *d)
{
	if (started && c->state == CTL_NOT_STARTED)
		return diag_fail(d, "the VM is not started yet: only after InstanceStart");
	if (!started && c->state != CTL_NOT_STARTED)
		return diag_fail(d, "the VM has started: only before InstanceStart");
	return 0;
}

static void controller_serve(void *ctx)
{
	struct controller *c = ctx;

	mailbox_serve(&c->mailbox);
}

/* The VM's KVM side (kvm_create's), made once for the next build: a restore's check reads its table. */
static int controller_kvm(struct controller *c, struct diag *d)
{
	return c->kvm.vm_fd >= 0 ? 0 : kvm_create(&c->kvm, d);
}

/* Builds the VM from the resources (or a snapshot), ready to run. */
static int controller_build(struct controller *c, const struct vm_restore *restore, struct diag *d)
{
	const struct vm_resources *res = c->p.res;
	uint64_t t0 = controller_since_start_us();
	int ret = resources_check_host(res, d);

	if (ret)
		return ret;
	c->watches[0] = (struct evloop_watch){ c->mailbox.efd, controller_serve, c };
	ret = vm_create(&c->vm, &(struct vm_params){ .res = res, .sandbox = c->p.sandbox,
						     .console_in = c->p.console_in,
						     .console_out = c->p.console_out,
						     .watches = c->watches, .nr_watches = 2,
						     .restore = restore },
			d);
	if (ret)
		return ret;
	ret = controller_kvm(c, d);
	if (!ret) {
		ret = vm_boot(c->vm, &c->kvm);
		if (ret)
			ret = diag_fail_errno(d, ret, "cannot build the VM: %s (the log says more)", strerror(-ret));
	}
	if (ret) {
		vm_destroy(c->vm);
		c->vm = NULL;
		return ret;
	}
	c->lat.instance_start_us = controller_since_start_us() - t0;
	c->state = restore && restore->paused ? CTL_PAUSED : CTL_RUNNING;
	return 0;
}

static int controller_action(struct controller *c, const json_t *body, struct diag *d)
{
	const json_t *type = json_object_get(body, "action_type");
	const char *name = json_string_value(type);
	char shown[VMCONFIG_NAME_SHOWN + 8];
	int ret;

	if (json_object_size(body) != 1 || !name)
		return diag_fail(d, "expected {\"action_type\": \"InstanceStart\", \"SendCtrlAltDel\" or "
				 "\"FlushMetrics\"}");
	if (!strcmp(name, "InstanceStart")) {
		ret = controller_needs(c, false, d);
		return ret ? ret : controller_build(c, NULL, d);
	}
	if (!strcmp(name, "FlushMetrics")) {
		ret = metrics_flush(&c->metrics, &c->api_stats, c->vm, &c->lat);
		if (ret == -ENODEV)
			return diag_fail(d, "FlushMetrics: no metrics are set up (PUT /metrics)");
		return ret ? diag_fail_errno(d, ret, "FlushMetrics: %s", strerror(-ret)) : 0;
	}
	if (!strcmp(name, "SendCtrlAltDel")) {
		ret = controller_needs(c, true, d);
		if (!ret)
			vm_request_shutdown(c->vm);
		return ret;
	}
	return diag_fail(d, "action_type \"%s\": expected InstanceStart, SendCtrlAltDel or FlushMetrics",
			 vmconfig_name(name, shown, sizeof(shown)));
}

static int controller_vm_state(struct controller *c, const json_t *body, struct diag *d)
{
	const char *state = json_string_value(json_object_get(body, "state"));
	int ret = controller_needs(c, true, d);

	if (ret)
		return ret;
	if (json_object_size(body) != 1 || !state || (strcmp(state, "Paused") && strcmp(state, "Resumed")))
		return diag_fail(d, "expected {\"state\": \"Paused\"} or {\"state\": \"Resumed\"}");
	ret = vm_do(c->vm, strcmp(state, "Paused") ? VM_COMMAND_RESUME : VM_COMMAND_PAUSE);
	if (ret)
		return diag_fail_errno(d, ret, "%s", strerror(-ret));
	c->state = strcmp(state, "Paused") ? CTL_RUNNING : CTL_PAUSED;
	return 0;
}

/*
 * PATCH /drives/{id} (a new medium: Kata's hot-plug; its rate limiter) and PATCH
 * /network-interfaces/{id} (its rate limiters), after start.
 */
static int controller_device_patch(struct controller *c, const struct api_call *call, struct diag *d)
{
	const struct device_spec *spec = call->op == API_DRIVE_PATCH ? &drive_spec : &net_spec;
	const struct device_config *dc;
	unsigned int changes = 0;
	void *next = NULL;
	int ret = controller_needs(c, true, d);

	if (!ret)
		ret = call->op == API_DRIVE_PATCH
			      ? vmconfig_drive_patch(c->p.res, call->id, call->body, &next, &changes, d)
			      : vmconfig_net_patch(c->p.res, call->id, call->body, &next, &changes, d);
	if (ret || !next)
		return ret;
	dc = resources_find_device(c->p.res, spec, call->id);
	ret = vm_update_device(c->vm, dc->config, next, changes, d);
	if (ret) {
		devspec_free(spec, next);
		return ret;
	}
	/* The resources follow (GET /vm/config); the registry holds next already. */
	return resources_put_device(c->p.res, spec, next, d);
}

/* PATCH /balloon, PATCH /balloon/statistics: after start, as Firecracker has it. */
static int controller_balloon_patch(struct controller *c, const struct api_call *call, struct diag *d)
{
	const struct device_config *dc;
	void *next = NULL;
	int ret = controller_needs(c, true, d);

	if (!ret)
		ret = vmconfig_balloon_patch(c->p.res, call->body, call->op == API_BALLOON_STATS_PATCH, &next, d);
	if (ret)
		return ret;
	dc = resources_find_device(c->p.res, &balloon_spec, NULL);
	ret = vm_update_device(c->vm, dc->config, next, DEVICE_CHANGE_BALLOON, d);
	if (ret) {
		devspec_free(&balloon_spec, next);
		return ret;
	}
	return resources_put_device(c->p.res, &balloon_spec, next, d);
}

/* GET /balloon/statistics: Firecracker's BalloonStats, the guest's numbers in bytes as it sent them. */
static json_t *controller_balloon_stats(struct controller *c, struct diag *d)
{
	static const char *const names[VIRTIO_BALLOON_S_NR] = {
		"swap_in", "swap_out", "major_faults", "minor_faults", "free_memory", "total_memory",
		"available_memory", "disk_caches", "hugetlb_allocations", "hugetlb_failures",
	};
	const struct device_config *dc = resources_find_device(c->p.res, &balloon_spec, NULL);
	struct virtio_balloon *b;
	struct virtio_balloon_stats st;
	json_t *o;

	if (controller_needs(c, true, d))
		return NULL;
	b = vm_device(c->vm, &balloon_spec);
	if (!dc || !b) {
		diag_fail(d, "no balloon device");
		return NULL;
	}
	if (!((const struct balloon_config *)dc->config)->stats_interval_s) {
		diag_fail(d, "statistics for the balloon device are not enabled (stats_polling_interval_s is 0)");
		return NULL;
	}
	virtio_balloon_get_stats(b, &st);
	o = json_pack("{s:I, s:I, s:I, s:I}", "target_pages", (json_int_t)st.target_pages, "actual_pages",
		      (json_int_t)st.actual_pages, "target_mib", (json_int_t)(st.target_pages / 256),
		      "actual_mib", (json_int_t)(st.actual_pages / 256));
	for (unsigned int tag = 0; o && tag < VIRTIO_BALLOON_S_NR; tag++) {
		if ((st.present & (1u << tag)) &&
		    json_object_set_new(o, names[tag], json_integer((json_int_t)(st.values[tag] > INT64_MAX
										   ? INT64_MAX : st.values[tag])))) {
			json_decref(o);
			o = NULL;
		}
	}
	if (!o)
		diag_fail_errno(d, -ENOMEM, "out of memory");
	return o;
}

/* PUT /snapshot/create: the VM paused, as Firecracker asks. */
static int controller_snapshot_create(struct controller *c, const json_t *body, struct diag *d)
{
	struct snapconfig_create req;
	char *config;
	uint64_t t0 = controller_since_start_us();
	int ret = controller_needs(c, true, d);

	if (!ret && c->state != CTL_PAUSED)
		ret = diag_fail(d, "the VM is running: pause it first (PATCH /vm {\"state\": \"Paused\"})");
	if (!ret)
		ret = snapconfig_create(body, &req, d);
	if (ret)
		return ret;
	config = snapconfig_describe(vmconfig_export(c->p.res));
	if (!config)
		return diag_fail_errno(d, -ENOMEM, "out of memory");
	ret = vm_snapshot(c->vm, &(struct vm_snapshot_params){ .vmstate_path = req.snapshot_path,
							       .mem_path = req.mem_file_path,
							       .config = config },
			  d);
	free(config);
	if (!ret)
		log_info("snapshot created in %llu us", (unsigned long long)(controller_since_start_us() - t0));
	return ret;
}

/* The snapshot's VM description, with the load's overrides, as the resources. */
static int controller_snapshot_config(struct controller *c, const struct snapshot *s,
				      const struct snapconfig_load *req, struct diag *d)
{
	json_t *config;
	char *text;
	struct diag why;
	int ret = vmconfig_parse(s->config, strlen(s->config), &config, &why);

	if (ret)
		return diag_fail(d, "snapshot %s: its configuration: %.400s", req->snapshot_path, why.msg);
	/* A snapshot describes a VM; it cannot name another snapshot to load. */
	if (json_object_get(config, "snapshot-load")) {
		json_decref(config);
		return diag_fail(d, "snapshot %s: its configuration has a snapshot-load section", req->snapshot_path);
	}
	ret = snapconfig_override(config, req, d);
	text = ret ? NULL : json_dumps(config, JSON_COMPACT);
	json_decref(config);
	if (ret)
		return ret;
	if (!text)
		return diag_fail_errno(d, -ENOMEM, "out of memory");
	ret = vmconfig_file(c->p.res, text, strlen(text), &why);
	free(text);
	return ret ? diag_fail(d, "snapshot %s: its configuration: %.400s", req->snapshot_path, why.msg) : 0;
}

/* A VM from a snapshot, in this fresh process: nothing is built unless every check passes. */
static int controller_restore(struct controller *c, const struct snapconfig_load *req, struct diag *d)
{
	uint64_t t0 = controller_since_start_us();
	const struct machine_config machine = c->p.res->machine;
	struct snapshot *s;
	int ret, mem_fd;

	if (c->p.res->boot.kernel_path || c->p.res->nr_devices)
		return diag_fail(d, "a snapshot loads only into a VM with nothing configured but the logger and metrics");
	ret = snapshot_read(req->snapshot_path, &s, d);
	if (ret)
		return ret;
	ret = controller_kvm(c, d);
	if (!ret)
		ret = vm_snapshot_check_host(s, &c->kvm, d);
	if (!ret)
		ret = controller_snapshot_config(c, s, req, d);
	mem_fd = ret ? -1 : open(req->mem_path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (!ret && mem_fd < 0)
		ret = diag_fail_errno(d, -errno, "memory file %s: %s", req->mem_path, strerror(errno));
	if (!ret)
		ret = controller_build(c, &(struct vm_restore){ .snap = s, .mem_fd = mem_fd,
								.mem_path = req->mem_path,
								.paused = !req->resume_vm }, d);
	if (mem_fd >= 0)
		close(mem_fd);
	snapstate_free(s);
	free(s);
	if (ret) {
		/* Nothing started, nothing kept: the VMM takes another load as if fresh. */
		resources_drop_devices(c->p.res);
		c->p.res->machine = machine;
	}
	if (!ret)
		log_info("snapshot %s loaded in %llu us", req->snapshot_path,
			 (unsigned long long)(controller_since_start_us() - t0));
	return ret;
}

static int controller_snapshot_load(struct controller *c, const json_t *body, struct diag *d)
{
	struct snapconfig_load req;
	int ret = controller_needs(c, false, d);

	if (!ret)
		ret = snapconfig_load(body, &req, d);
	return ret ? ret : controller_restore(c, &req, d);
}

/* A JSON answer (200), or -ENOMEM. */
static int controller_answer(struct api_call *call, json_t *v)
{
	call->answer = v ? json_dumps(v, JSON_COMPACT) : NULL;
	json_decref(v);
	if (!call->answer)
		return diag_fail_errno(&call->d, -ENOMEM, "out of memory");
	call->status = HTTP_OK;
	return 0;
}

static int controller_get(struct controller *c, struct api_call *call)
{
	static const char *const states[] = { "Not started", "Running", "Paused" };

	if (call->op == API_DESCRIBE)
		return controller_answer(call, json_pack("{s:s, s:s, s:s, s:s}", "id", c->p.id, "state",
							 states[c->state], "vmm_version", MICROVM_VERSION,
							 "app_name", "microvm"));
	if (call->op == API_VERSION)
		return controller_answer(call, json_pack("{s:s}", "firecracker_version", MICROVM_VERSION));
	if (call->op == API_VM_CONFIG)
		return controller_answer(call, vmconfig_export(c->p.res));
	if (call->op == API_BALLOON_GET) {
		if (!resources_find_device(c->p.res, &balloon_spec, NULL))
			return diag_fail(&call->d, "no balloon device (PUT /balloon before InstanceStart)");
		return controller_answer(call, vmconfig_export_balloon(c->p.res));
	}
	if (call->op == API_BALLOON_STATS_GET) {
		json_t *o = controller_balloon_stats(c, &call->d);

		return o ? controller_answer(call, o) : -EINVAL;
	}
	return controller_answer(call, vmconfig_export_machine(c->p.res));
}

/* A call that configures the VM before it starts. */
static int controller_configure(struct controller *c, struct api_call *call)
{
	struct vm_resources *r = c->p.res;
	struct diag *d = &call->d;
	int ret = controller_needs(c, false, d);

	if (ret)
		return ret;
	if (call->op == API_MACHINE_PUT || call->op == API_MACHINE_PATCH)
		return vmconfig_machine(r, call->body, call->op == API_MACHINE_PATCH, d);
	if (call->op == API_BOOT_SOURCE)
		return vmconfig_boot_source(r, call->body, d);
	if (call->op == API_DRIVE_PUT)
		return vmconfig_drive(r, call->id, call->body, d);
	if (call->op == API_NET_PUT)
		return vmconfig_net(r, call->id, call->body, d);
	if (call->op == API_VSOCK)
		return vmconfig_vsock(r, call->body, d);
	if (call->op == API_ENTROPY)
		return vmconfig_entropy(r, call->body, d);
	if (call->op == API_BALLOON_PUT)
		return vmconfig_balloon(r, call->body, d);
	if (call->op == API_LOGGER) {
		ret = vmconfig_logger(r, call->body, d);
		return ret ? ret : controller_logger(c, d);
	}
	if (call->op != API_METRICS)
		return diag_fail(d, "not a configuration call");
	if (c->metrics.fd >= 0)
		return diag_fail(d, "the metrics are set up already");
	ret = vmconfig_metrics(r, call->body, d);
	return ret ? ret : metrics_open(&c->metrics, r->metrics.path, r->metrics.emit_id ? c->p.id : NULL, d);
}

static int controller_handle(void *ctx, void *arg)
{
	struct controller *c = ctx;
	struct api_call *call = arg;
	int ret;

	call->status = HTTP_NO_CONTENT;
	switch (call->op) {
	case API_DESCRIBE:
	case API_VERSION:
	case API_VM_CONFIG:
	case API_MACHINE_GET:
	case API_BALLOON_GET:
	case API_BALLOON_STATS_GET:
		ret = controller_get(c, call);
		break;
	case API_BALLOON_PATCH:
	case API_BALLOON_STATS_PATCH:
		ret = controller_balloon_patch(c, call, &call->d);
		break;
	case API_DRIVE_PATCH:
	case API_NET_PATCH:
		ret = controller_device_patch(c, call, &call->d);
		break;
	case API_ACTION:
		ret = controller_action(c, call->body, &call->d);
		break;
	case API_VM_STATE:
		ret = controller_vm_state(c, call->body, &call->d);
		break;
	case API_SNAPSHOT_CREATE:
		ret = controller_snapshot_create(c, call->body, &call->d);
		break;
	case API_SNAPSHOT_LOAD:
		ret = controller_snapshot_load(c, call->body, &call->d);
		break;
	case API_MACHINE_PUT:
	case API_MACHINE_PATCH:
	case API_BOOT_SOURCE:
	case API_DRIVE_PUT:
	case API_NET_PUT:
	case API_VSOCK:
	case API_ENTROPY:
	case API_BALLOON_PUT:
	case API_LOGGER:
	case API_METRICS:
	case API_OP_COUNT:
	default:
		ret = controller_configure(c, call);
		break;
	}
	if (ret)
		call->status = HTTP_BAD_REQUEST;
	return 0;
}

/* ---- the run ---- */

static void controller_metrics_tick(void *ctx)
{
	struct controller *c = ctx;

	metrics_tick(&c->metrics);
	if (metrics_flush(&c->metrics, &c->api_stats, c->vm, &c->lat))
		log_debug("metrics: periodic flush failed");
}

/* Before InstanceStart: serve the API (and the metrics' timer) until it comes. */
static int controller_wait(struct controller *c)
{
	struct pollfd fds[2] = { { .fd = c->mailbox.efd, .events = POLLIN },
				 { .fd = c->metrics.timer_fd, .events = POLLIN } };

	log_info("API on %s: waiting for InstanceStart", c->p.api_sock);
	while (c->state == CTL_NOT_STARTED) {
		if (poll(fds, 2, -1) < 0 && errno != EINTR)
			return -errno;
		if (fds[0].revents)
			controller_serve(c);
		if (fds[1].revents)
			controller_metrics_tick(c);
	}
	return 0;
}

int controller_run(struct controller *c, bool boot_now)
{
	const struct api_handler handler = { .mailbox = &c->mailbox, .handle = controller_handle,
					     .ctx = c, .stats = &c->api_stats };
	struct diag d;
	int ret;

	c->watches[1] = (struct evloop_watch){ c->metrics.timer_fd, controller_metrics_tick, c };
	if (c->api && api_start(c->api, c->p.sandbox, &handler, &d)) {
		log_error("%s", d.msg);
		return 1;
	}
	if (c->p.restore) {
		if (controller_restore(c, c->p.restore, &d)) {
			log_error("%s", d.msg);
			return 1;
		}
		boot_now = true;
	} else if (boot_now && controller_build(c, NULL, &d)) {
		log_error("%s", d.msg);
		return 1;
	}
	ret = boot_now ? 0 : controller_wait(c);
	if (ret) {
		log_error("waiting for InstanceStart: %s", strerror(-ret));
		return 1;
	}
	c->lat.start_us = controller_since_start_us();
	ret = vm_run(c->vm);
	/* The last counters, before the API stops answering. */
	if (c->metrics.fd >= 0 && metrics_flush(&c->metrics, &c->api_stats, c->vm, &c->lat))
		log_debug("metrics: the last flush failed");
	mailbox_close(&c->mailbox);
	return ret;
}

void controller_destroy(struct controller *c)
{
	if (c->vm)
		vm_destroy(c->vm);
	c->vm = NULL;
	kvm_close(&c->kvm);
	metrics_destroy(&c->metrics);
	if (c->log_fd >= 0) {
		log_set_output(STDERR_FILENO, false, false);
		close(c->log_fd);
		c->log_fd = -1;
	}
	/* The API thread serves until the process ends and may still be in the mailbox: both stay. */
	if (c->api)
		return;
	mailbox_destroy(&c->mailbox);
	free(c);
}
