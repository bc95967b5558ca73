#include "microvm/metrics.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "config/devices.h"
#include "microvm/log.h"
#include "microvm/virtio_balloon.h"

int metrics_init(struct metrics *m)
{
	memset(m, 0, sizeof(*m));
	m->fd = -1;
	m->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	return m->timer_fd < 0 ? -errno : 0;
}

int metrics_open(struct metrics *m, const char *path, const char *id, struct diag *d)
{
	const struct itimerspec period = { .it_interval = { METRICS_PERIOD_S, 0 },
					   .it_value = { METRICS_PERIOD_S, 0 } };
	/* Read and write: a FIFO opens at once with no reader yet, and never blocks a write. */
	int fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_NONBLOCK | O_CLOEXEC | O_NOCTTY, 0600);

	if (m->fd >= 0)
		return diag_fail(d, "the metrics are set up already");
	if (fd < 0)
		return diag_fail_errno(d, -errno, "metrics_path %s: %s", path, strerror(errno));
	if (timerfd_settime(m->timer_fd, 0, &period, NULL) < 0) {
		close(fd);
		return diag_fail_errno(d, -errno, "metrics timer: %s", strerror(errno));
	}
	m->fd = fd;
	m->id = id;
	return 0;
}

static int metrics_set_u64(json_t *o, const char *key, uint64_t v)
{
	return json_object_set_new(o, key, json_integer((json_int_t)(v > INT64_MAX ? INT64_MAX : v)));
}

static json_t *metrics_api(const struct api_stats *api)
{
	json_t *o = json_object();
	uint64_t requests = 0, errors = 0;
	int ret = o ? 0 : -1;

	for (int op = 0; !ret && op <= API_OP_COUNT; op++) {
		uint64_t r = atomic_load_explicit(&api->requests[op], memory_order_relaxed);
		uint64_t e = atomic_load_explicit(&api->errors[op], memory_order_relaxed);
		char key[64];

		requests += r;
		errors += e;
		if (op == API_OP_COUNT || !r)
			continue;
		snprintf(key, sizeof(key), "%s_count", routes_op_name(op));
		ret = metrics_set_u64(o, key, r);
		snprintf(key, sizeof(key), "%s_fails", routes_op_name(op));
		ret = ret ? ret : metrics_set_u64(o, key, e);
	}
	if (!ret)
		ret = metrics_set_u64(o, "requests", requests) | metrics_set_u64(o, "errors", errors);
	if (ret) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* The balloon's work, Firecracker's names where it has them; NULL without a balloon. */
static json_t *metrics_balloon(struct vm *vm)
{
	struct virtio_balloon *b = vm_device(vm, &balloon_spec);
	struct virtio_balloon_counts n;

	if (!b)
		return NULL;
	virtio_balloon_get_counts(b, &n);
	return json_pack("{s:I, s:I, s:I, s:I}", "inflated_pages", (json_int_t)n.inflated,
			 "deflated_pages", (json_int_t)n.deflated, "free_page_report_freed",
			 (json_int_t)n.reported_bytes, "stats_updates_count", (json_int_t)n.stats_updates);
}

static json_t *metrics_vm(struct vm *vm)
{
	static const char *const exits[VCPU_EXIT_KINDS] = {
		"exit_io_in", "exit_io_out", "exit_mmio_read", "exit_mmio_write", "exit_hlt",
		"exit_signal", "exit_other",
	};
	json_t *vcpu = json_object(), *devices = json_array();
	struct vm_stats *st = malloc(sizeof(*st));
	int ret = vcpu && devices && st ? 0 : -1;

	if (!ret)
		vm_stats(vm, st);
	for (size_t k = 0; !ret && k < VCPU_EXIT_KINDS; k++)
		ret = metrics_set_u64(vcpu, exits[k], st->exits[k]);
	for (unsigned int i = 0; !ret && i < st->nr_devices; i++) {
		const struct vm_device_stats *dv = &st->devices[i];

		ret = json_array_append_new(devices, json_pack(
			"{s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "kind", dv->kind, "base",
			(json_int_t)dv->base, "notifications", (json_int_t)dv->notifications, "used",
			(json_int_t)dv->used, "used_bytes", (json_int_t)dv->used_bytes, "interrupts",
			(json_int_t)dv->interrupts, "guest_errors", (json_int_t)dv->guest_errors,
			"rate_limiter_throttled", (json_int_t)dv->throttled));
	}
	free(st);
	if (ret) {
		json_decref(vcpu);
		json_decref(devices);
		return NULL;
	}
	return json_pack("{s:o, s:o, s:o*}", "vcpu", vcpu, "devices", devices, "balloon",
			 metrics_balloon(vm));
}

int metrics_flush(struct metrics *m, const struct api_stats *api, struct vm *vm,
		  const struct metrics_latencies *lat)
{
	struct timespec now;
	json_t *line;
	char *text;
	ssize_t n;
	size_t len;

	if (m->fd < 0)
		return -ENODEV;
	clock_gettime(CLOCK_REALTIME, &now);
	line = json_pack("{s:I, s:o*, s:{s:I, s:I, s:I}, s:I}", "utc_timestamp_ms",
			 (json_int_t)now.tv_sec * 1000 + now.tv_nsec / 1000000, "api_server",
			 metrics_api(api), "latencies_us", "api_ready", (json_int_t)lat->api_ready_us,
			 "start", (json_int_t)lat->start_us, "instance_start",
			 (json_int_t)lat->instance_start_us, "lines_dropped", (json_int_t)m->dropped);
	if (line && m->id)
		json_object_set_new(line, "id", json_string(m->id));
	if (line && vm)
		json_object_update_new(line, metrics_vm(vm));
	text = line ? json_dumps(line, JSON_COMPACT) : NULL;
	json_decref(line);
	if (!text)
		return -ENOMEM;
	len = strlen(text);
	text[len] = '\n'; /* json_dumps's NUL becomes the line's end: one write per line */
	n = write(m->fd, text, len + 1);
	free(text);
	if (n == (ssize_t)(len + 1))
		return 0;
	m->dropped++;
	log_debug("metrics: a line was dropped: %s", n < 0 ? strerror(errno) : "short write");
	return n < 0 ? -errno : -EIO;
}

void metrics_tick(struct metrics *m)
{
	uint64_t expirations;

	if (read(m->timer_fd, &expirations, sizeof(expirations)) < 0 && errno != EAGAIN)
		log_debug("metrics timer: %s", strerror(errno));
}

void metrics_destroy(struct metrics *m)
{
	if (m->fd >= 0)
		close(m->fd);
	if (m->timer_fd >= 0)
		close(m->timer_fd);
	m->fd = m->timer_fd = -1;
}
