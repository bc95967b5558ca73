/* The --config-file (Firecracker's sections, each applied as its PUT would be), and its export. */
#include "config/vmconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/devices.h"
#include "config/drive.h"
#include "config/net.h"
#include "config/rng.h"
#include "config/vsock.h"

/* Puts "prefix" before d's message (cut at its end when too long); returns ret. */
static PRINTF_LIKE(3, 4) int vmconfig_prefix(struct diag *d, int ret, const char *fmt, ...)
{
	char prefix[128];
	size_t plen, mlen = strlen(d->msg);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	plen = strlen(prefix);
	if (plen + mlen >= sizeof(d->msg))
		mlen = sizeof(d->msg) - 1 - plen;
	memmove(d->msg + plen, d->msg, mlen);
	memcpy(d->msg, prefix, plen);
	d->msg[plen + mlen] = '\0';
	return ret;
}

/* A list section: each object applied with fn, its id (field id_field) new in the file. */
static int vmconfig_list(struct vm_resources *r, const char *section, const json_t *list,
			 const struct device_spec *spec, const char *id_field,
			 int (*fn)(struct vm_resources *, const char *, const json_t *, struct diag *),
			 struct diag *d)
{
	size_t i;
	json_t *item;

	if (!json_is_array(list))
		return diag_fail(d, "%s: expected an array", section);
	json_array_foreach(list, i, item) {
		const json_t *id = json_is_object(item) ? json_object_get(item, id_field) : NULL;
		int ret;

		if (json_is_string(id) && resources_find_device(r, spec, json_string_value(id)))
			return diag_fail(d, "%s[%zu]: %s \"%.64s\": used twice", section, i, id_field,
					 json_string_value(id));
		ret = fn(r, NULL, item, d);
		if (ret)
			return vmconfig_prefix(d, ret, "%s[%zu]: ", section, i);
	}
	return 0;
}

static int vmconfig_machine_put(struct vm_resources *r, const json_t *body, struct diag *d)
{
	return vmconfig_machine(r, body, false, d);
}

/* Sections that take one object, as their PUT request. */
static const struct {
	const char *name;
	int (*put)(struct vm_resources *r, const json_t *body, struct diag *d);
} vmconfig_sections[] = {
	{ "boot-source", vmconfig_boot_source }, { "machine-config", vmconfig_machine_put },
	{ "vsock", vmconfig_vsock }, { "entropy", vmconfig_entropy }, { "balloon", vmconfig_balloon },
	{ "logger", vmconfig_logger }, { "metrics", vmconfig_metrics },
};

/* Firecracker's sections that microvm does not implement. */
static const char *const vmconfig_unsupported[] = {
	"mmds-config", "cpu-config", "serial", "pmem", "memory-hotplug",
};

/*
 * snapshot-load: the VM restored from a snapshot at start, as PUT /snapshot/load's body
 * asks (the CLI checks it); the snapshot describes the VM, so the file may hold the
 * logger and metrics besides, as a VMM that takes a load may have only those.
 */
static int vmconfig_snapshot_load(struct vm_resources *r, json_t *root, struct diag *d)
{
	const json_t *body = json_object_get(root, "snapshot-load");
	const char *key;
	json_t *v;

	json_object_foreach(root, key, v) {
		char shown[VMCONFIG_NAME_SHOWN + 8];

		if (strcmp(key, "snapshot-load") && strcmp(key, "logger") && strcmp(key, "metrics"))
			return diag_fail(d, "snapshot-load: the snapshot describes the VM: only logger and metrics may come with it, not '%s'",
					 vmconfig_name(key, shown, sizeof(shown)));
	}
	if (!json_is_object(body))
		return diag_fail(d, "snapshot-load: expected an object (PUT /snapshot/load's body)");
	free(r->snapshot_load);
	r->snapshot_load = json_dumps(body, JSON_COMPACT);
	return r->snapshot_load ? 0 : diag_fail_errno(d, -ENOMEM, "out of memory");
}

static int vmconfig_section(struct vm_resources *r, const char *key, const json_t *v, struct diag *d)
{
	char shown[VMCONFIG_NAME_SHOWN + 8];

	for (size_t i = 0; i < ARRAY_SIZE(vmconfig_sections); i++) {
		int ret;

		if (strcmp(key, vmconfig_sections[i].name))
			continue;
		ret = vmconfig_sections[i].put(r, v, d);
		return ret ? vmconfig_prefix(d, ret, "%s: ", key) : 0;
	}
	if (!strcmp(key, "drives"))
		return vmconfig_list(r, key, v, &drive_spec, "drive_id", vmconfig_drive, d);
	if (!strcmp(key, "network-interfaces"))
		return vmconfig_list(r, key, v, &net_spec, "iface_id", vmconfig_net, d);
	for (size_t i = 0; i < ARRAY_SIZE(vmconfig_unsupported); i++)
		if (!strcmp(key, vmconfig_unsupported[i]))
			return diag_fail(d, "%s: not supported by microvm", key);
	return diag_fail(d, "unknown section '%s' (expected boot-source, drives, machine-config, "
			 "network-interfaces, vsock, entropy, balloon, logger, metrics or snapshot-load)",
			 vmconfig_name(key, shown, sizeof(shown)));
}

int vmconfig_file(struct vm_resources *r, const char *text, size_t len, struct diag *d)
{
	json_t *root, *v;
	const char *key;
	int ret = vmconfig_parse(text, len, &root, d);

	if (ret)
		return ret;
	json_object_foreach(root, key, v) {
		ret = strcmp(key, "snapshot-load") ? vmconfig_section(r, key, v, d)
						   : vmconfig_snapshot_load(r, root, d);
		if (ret)
			break;
	}
	json_decref(root);
	return ret;
}

/* ---- export: GET /vm/config, and the file the jailer writes into a jail ---- */

/* o with key set to the RateLimiter object of c when that limits anything; NULL (o freed) on failure. */
static json_t *vmconfig_export_limiter(json_t *o, const char *key, const struct rate_limiter_config *c)
{
	if (o && rate_limiter_config_limits(c) &&
	    json_object_set_new(o, key, vmconfig_export_rate_limiter(c))) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *vmconfig_export_device(const struct device_config *dc)
{
	json_t *o;

	if (dc->spec == &drive_spec) {
		const struct drive_config *c = dc->config;

		o = json_pack("{s:s, s:s, s:b, s:b}", "drive_id", c->id, "path_on_host", c->path,
			      "is_root_device", c->root, "is_read_only", c->read_only);
		return vmconfig_export_limiter(o, "rate_limiter", &c->limiter);
	}
	if (dc->spec == &net_spec) {
		const struct net_config *c = dc->config;
		char mac[18];

		snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", c->mac[0], c->mac[1],
			 c->mac[2], c->mac[3], c->mac[4], c->mac[5]);
		o = json_pack("{s:s, s:s, s:s*}", "iface_id", c->id, "host_dev_name", c->tap,
			      "guest_mac", c->has_mac ? mac : NULL);
		o = vmconfig_export_limiter(o, "rx_rate_limiter", &c->rx_limiter);
		return vmconfig_export_limiter(o, "tx_rate_limiter", &c->tx_limiter);
	}
	if (dc->spec == &vsock_spec) {
		const struct vsock_config *c = dc->config;

		return json_pack("{s:I, s:s}", "guest_cid", (json_int_t)c->cid, "uds_path", c->uds);
	}
	return vmconfig_export_limiter(json_object(), "rate_limiter",
				       &((const struct rng_config *)dc->config)->limiter);
}

/* Adds each device to its section: a list ("drives") or a single object ("vsock"). */
static int vmconfig_export_devices(const struct vm_resources *r, json_t *root)
{
	json_t *drives = json_array(), *nets = json_array();
	int ret = json_object_set_new(root, "drives", drives) |
		  json_object_set_new(root, "network-interfaces", nets);

	for (unsigned int i = 0; !ret && i < r->nr_devices; i++) {
		const struct device_config *dc = &r->devices[i];
		json_t *v;

		/* Its own section, as GET /balloon shows it. */
		if (dc->spec == &balloon_spec)
			continue;
		v = vmconfig_export_device(dc);
		if (dc->spec == &drive_spec)
			ret = json_array_append_new(drives, v);
		else if (dc->spec == &net_spec)
			ret = json_array_append_new(nets, v);
		else
			ret = json_object_set_new(root, dc->spec == &vsock_spec ? "vsock" : "entropy", v);
	}
	return ret;
}

json_t *vmconfig_export(const struct vm_resources *r)
{
	static const char *const levels[] = { "Off", "Error", "Warning", "Info", "Debug" };
	json_t *root = json_object();
	int ret = root ? json_object_set_new(root, "machine-config", vmconfig_export_machine(r)) : -1;

	if (!ret && r->boot.kernel_path)
		ret = json_object_set_new(root, "boot-source",
					  json_pack("{s:s, s:s*, s:s*}", "kernel_image_path",
						    r->boot.kernel_path, "initrd_path", r->boot.initrd_path,
						    "boot_args", r->boot.cmdline));
	if (!ret)
		ret = vmconfig_export_devices(r, root);
	if (!ret && resources_find_device(r, &balloon_spec, NULL))
		ret = json_object_set_new(root, "balloon", vmconfig_export_balloon(r));
	if (!ret && (r->logger.path || r->logger.level_set))
		ret = json_object_set_new(root, "logger",
					  json_pack("{s:s*, s:s, s:b, s:b}", "log_path", r->logger.path,
						    "level", levels[r->logger.level < 5 ? r->logger.level : 3],
						    "show_level", r->logger.show_level, "show_log_origin",
						    r->logger.show_origin));
	if (!ret && r->metrics.path)
		ret = json_object_set_new(root, "metrics",
					  json_pack("{s:s, s:b}", "metrics_path", r->metrics.path,
						    "emit_id", r->metrics.emit_id));
	if (ret) {
		json_decref(root);
		return NULL;
	}
	return root;
}

int vmconfig_load(struct vm_resources *r, const char *path, struct diag *d)
{
	/* Non-blocking: a FIFO or a terminal given as the file is refused, never waited on. */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	struct stat st;
	char *text = NULL;
	size_t len = 0;
	int ret = 0;

	if (fd < 0)
		return diag_fail_errno(d, -errno, "cannot open: %s", strerror(errno));
	if (fstat(fd, &st) < 0)
		ret = diag_fail_errno(d, -errno, "%s", strerror(errno));
	else if (!S_ISREG(st.st_mode))
		ret = diag_fail(d, "not a regular file");
	else if (st.st_size > VMCONFIG_FILE_MAX)
		ret = diag_fail(d, "larger than %d bytes", VMCONFIG_FILE_MAX);
	else if (!(text = malloc((size_t)st.st_size + 1)))
		ret = diag_fail_errno(d, -ENOMEM, "out of memory");
	while (!ret && len < (size_t)st.st_size) {
		ssize_t n = read(fd, text + len, (size_t)st.st_size - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			ret = diag_fail_errno(d, -EIO, "cannot read: %s", n ? strerror(errno) : "it shrank");
		else
			len += (size_t)n;
	}
	close(fd);
	if (!ret)
		ret = vmconfig_file(r, text, len, d);
	free(text);
	return ret;
}
