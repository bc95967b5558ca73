/* Firecracker's device bodies (drives, network interfaces, vsock, entropy): PUT and PATCH. */
#include "config/vmconfig.h"
#include "config/vmconfig_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/balloon.h"
#include "config/devices.h"
#include "config/drive.h"
#include "config/net.h"
#include "config/rng.h"
#include "config/vsock.h"

/* ---- devices: each body field set through its kind's spec, as the command line's text ---- */

/* Sets spec's field key in config from a JSON string, integer or true. */
static int vmconfig_devfield(const struct device_spec *spec, void *config, const char *key,
			     const char *name, const json_t *v, struct diag *d)
{
	const struct devspec_field *f = devspec_field(spec, key, strlen(key));
	char num[24];
	const char *text = num;
	size_t len;
	int ret;

	if (!f)
		return diag_fail(d, "%s: no field %s in %s", name, key, spec->name);
	if (json_is_string(v)) {
		text = json_string_value(v);
		len = json_string_length(v);
	} else if (json_is_integer(v)) {
		len = (size_t)snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	} else if (json_is_true(v)) {
		len = 0;
	} else {
		return 0; /* false: the flag's default */
	}
	ret = devspec_set(f, config, text, len, d);
	return ret ? vmconfig_fail(d, name, v, "%s", d->msg) : 0;
}

/* A new zeroed config of spec's size; NULL when out of memory (d says so). */
static void *vmconfig_devconfig(const struct device_spec *spec, struct diag *d)
{
	void *config = calloc(1, spec->config_size ? spec->config_size : 1);

	if (!config)
		diag_fail_errno(d, -ENOMEM, "out of memory");
	return config;
}

/* The body's id field equals the one in the request's path. */
static int vmconfig_path_id(const json_t *body, const char *field, const char *path_id,
			    struct diag *d)
{
	const json_t *v = json_object_get(body, field);

	if (path_id && strcmp(json_string_value(v), path_id))
		return vmconfig_fail(d, field, v, "differs from the id in the path, '%.64s'", path_id);
	return 0;
}

static const struct vmconfig_field drive_fields[] = {
	{ "drive_id", VT_STRING, true, NULL },
	{ "path_on_host", VT_STRING, true, NULL },
	{ "is_root_device", VT_BOOL, true, NULL },
	{ "is_read_only", VT_BOOL, false, NULL },
	{ "cache_type", VT_STRING, false, NULL },
	{ "io_engine", VT_STRING, false, NULL },
	{ "partuuid", VT_STRING, false, "the root drive is named as /dev/vdX" },
	{ "rate_limiter", VT_OBJECT, false, NULL },
	{ "socket", VT_STRING, false, "vhost-user block devices" },
};

/* Fills config, a drive's, from a Drive body. */
static int vmconfig_drive_fields(void *config, const json_t *body, struct diag *d)
{
	static const char *const cache[] = { "Unsafe", "Writeback", NULL };
	static const char *const engine[] = { "Sync", NULL };
	int ret = vmconfig_only_values(body, "cache_type", cache, d);

	if (!ret)
		ret = vmconfig_only_values(body, "io_engine", engine, d);
	if (!ret)
		ret = vmconfig_devfield(&drive_spec, config, "id", "drive_id", json_object_get(body, "drive_id"), d);
	if (!ret)
		ret = vmconfig_devfield(&drive_spec, config, "path", "path_on_host",
					json_object_get(body, "path_on_host"), d);
	if (!ret)
		ret = vmconfig_devfield(&drive_spec, config, "root", "is_root_device",
					json_object_get(body, "is_root_device"), d);
	if (!ret && vmconfig_get(body, "is_read_only"))
		ret = vmconfig_devfield(&drive_spec, config, "ro", "is_read_only",
					json_object_get(body, "is_read_only"), d);
	if (!ret && vmconfig_get(body, "rate_limiter"))
		ret = vmconfig_rate_limiter(json_object_get(body, "rate_limiter"), "rate_limiter",
					    &((struct drive_config *)config)->limiter, d);
	return ret;
}

int vmconfig_drive(struct vm_resources *r, const char *path_id, const json_t *body, struct diag *d)
{
	void *config;
	int ret = vmconfig_check(body, drive_fields, ARRAY_SIZE(drive_fields), d);

	if (!ret)
		ret = vmconfig_path_id(body, "drive_id", path_id, d);
	if (ret)
		return ret;
	config = vmconfig_devconfig(&drive_spec, d);
	if (!config)
		return -ENOMEM;
	ret = vmconfig_drive_fields(config, body, d);
	if (ret) {
		devspec_free(&drive_spec, config);
		return ret;
	}
	return resources_put_device(r, &drive_spec, config, d);
}

static const struct vmconfig_field drive_patch_fields[] = {
	{ "drive_id", VT_STRING, true, NULL },
	{ "path_on_host", VT_STRING, false, NULL },
	{ "rate_limiter", VT_OBJECT, false, NULL },
};

/*
 * A PATCH's body checked against fields, its id_field naming the device of spec that
 * path_id names too (what is the word for it in "no such ..."): *copy is a copy of
 * that device's config for the PATCH to change.
 */
static int vmconfig_patch_start(const struct vm_resources *r, const struct device_spec *spec,
				const json_t *body, const struct vmconfig_field *fields, size_t n,
				const char *path_id, const char *what, void **copy, struct diag *d)
{
	const json_t *id = json_object_get(body, fields[0].name);
	const struct device_config *dc;
	int ret = vmconfig_check(body, fields, n, d);

	if (!ret)
		ret = vmconfig_path_id(body, fields[0].name, path_id, d);
	if (ret)
		return ret;
	dc = resources_find_device(r, spec, json_string_value(id));
	if (!dc)
		return vmconfig_fail(d, fields[0].name, id, "no such %s", what);
	*copy = devspec_copy(spec, dc->config);
	return *copy ? 0 : diag_fail_errno(d, -ENOMEM, "out of memory");
}

/* The end of a PATCH: *next is c when it changed anything and nothing failed. */
static int vmconfig_patch_end(const struct device_spec *spec, void *c, int ret, unsigned int changes,
			      void **next)
{
	if (ret || !changes) {
		devspec_free(spec, c);
		c = NULL;
	}
	*next = c;
	return ret;
}

int vmconfig_drive_patch(const struct vm_resources *r, const char *path_id, const json_t *body,
			 void **next, unsigned int *changes, struct diag *d)
{
	const json_t *p = vmconfig_get(body, "path_on_host"), *limiter = vmconfig_get(body, "rate_limiter");
	void *c;
	int ret = vmconfig_patch_start(r, &drive_spec, body, drive_patch_fields,
				       ARRAY_SIZE(drive_patch_fields), path_id, "drive", &c, d);

	if (ret)
		return ret;
	*changes = (p ? DEVICE_CHANGE_MEDIUM : 0) | (limiter ? DEVICE_CHANGE_LIMITS : 0);
	if (p)
		ret = vmconfig_devfield(&drive_spec, c, "path", "path_on_host", p, d);
	if (!ret && limiter)
		ret = vmconfig_rate_limiter(limiter, "rate_limiter", &((struct drive_config *)c)->limiter, d);
	return vmconfig_patch_end(&drive_spec, c, ret, *changes, next);
}

static const struct vmconfig_field net_fields[] = {
	{ "iface_id", VT_STRING, true, NULL },
	{ "host_dev_name", VT_STRING, true, NULL },
	{ "guest_mac", VT_STRING, false, NULL },
	{ "mtu", VT_INT, false, "VIRTIO_NET_F_MTU" },
	{ "rx_rate_limiter", VT_OBJECT, false, NULL },
	{ "tx_rate_limiter", VT_OBJECT, false, NULL },
};

/* rx_rate_limiter and tx_rate_limiter, as given, into c's. */
static int vmconfig_net_limiters(struct net_config *c, const json_t *body, struct diag *d)
{
	const json_t *rx = vmconfig_get(body, "rx_rate_limiter"), *tx = vmconfig_get(body, "tx_rate_limiter");
	int ret = rx ? vmconfig_rate_limiter(rx, "rx_rate_limiter", &c->rx_limiter, d) : 0;

	return !ret && tx ? vmconfig_rate_limiter(tx, "tx_rate_limiter", &c->tx_limiter, d) : ret;
}

int vmconfig_net(struct vm_resources *r, const char *path_id, const json_t *body, struct diag *d)
{
	void *config;
	int ret = vmconfig_check(body, net_fields, ARRAY_SIZE(net_fields), d);

	if (!ret)
		ret = vmconfig_path_id(body, "iface_id", path_id, d);
	if (ret)
		return ret;
	config = vmconfig_devconfig(&net_spec, d);
	if (!config)
		return -ENOMEM;
	ret = vmconfig_devfield(&net_spec, config, "id", "iface_id", json_object_get(body, "iface_id"), d);
	if (!ret)
		ret = vmconfig_devfield(&net_spec, config, "tap", "host_dev_name",
					json_object_get(body, "host_dev_name"), d);
	if (!ret && vmconfig_get(body, "guest_mac"))
		ret = vmconfig_devfield(&net_spec, config, "mac", "guest_mac",
					json_object_get(body, "guest_mac"), d);
	if (!ret)
		ret = vmconfig_net_limiters(config, body, d);
	if (ret) {
		devspec_free(&net_spec, config);
		return ret;
	}
	return resources_put_device(r, &net_spec, config, d);
}

static const struct vmconfig_field net_patch_fields[] = {
	{ "iface_id", VT_STRING, true, NULL },
	{ "rx_rate_limiter", VT_OBJECT, false, NULL },
	{ "tx_rate_limiter", VT_OBJECT, false, NULL },
};

int vmconfig_net_patch(const struct vm_resources *r, const char *path_id, const json_t *body,
		       void **next, unsigned int *changes, struct diag *d)
{
	void *c;
	int ret = vmconfig_patch_start(r, &net_spec, body, net_patch_fields, ARRAY_SIZE(net_patch_fields),
				       path_id, "network interface", &c, d);

	if (ret)
		return ret;
	*changes = vmconfig_get(body, "rx_rate_limiter") || vmconfig_get(body, "tx_rate_limiter")
			   ? DEVICE_CHANGE_LIMITS : 0;
	return vmconfig_patch_end(&net_spec, c, vmconfig_net_limiters(c, body, d), *changes, next);
}

static const struct vmconfig_field vsock_fields[] = {
	{ "guest_cid", VT_INT, true, NULL },
	{ "uds_path", VT_STRING, true, NULL },
	{ "vsock_id", VT_STRING, false, NULL }, /* deprecated by Firecracker; names nothing */
};

int vmconfig_vsock(struct vm_resources *r, const json_t *body, struct diag *d)
{
	void *config;
	int ret = vmconfig_check(body, vsock_fields, ARRAY_SIZE(vsock_fields), d);

	if (ret)
		return ret;
	config = vmconfig_devconfig(&vsock_spec, d);
	if (!config)
		return -ENOMEM;
	ret = vmconfig_devfield(&vsock_spec, config, "cid", "guest_cid", json_object_get(body, "guest_cid"), d);
	if (!ret)
		ret = vmconfig_devfield(&vsock_spec, config, "uds", "uds_path",
					json_object_get(body, "uds_path"), d);
	if (ret) {
		devspec_free(&vsock_spec, config);
		return ret;
	}
	return resources_put_device(r, &vsock_spec, config, d);
}

static const struct vmconfig_field entropy_fields[] = {
	{ "rate_limiter", VT_OBJECT, false, NULL },
};

int vmconfig_entropy(struct vm_resources *r, const json_t *body, struct diag *d)
{
	const json_t *limiter = vmconfig_get(body, "rate_limiter");
	struct rng_config *config;
	int ret = vmconfig_check(body, entropy_fields, ARRAY_SIZE(entropy_fields), d);

	if (ret)
		return ret;
	config = vmconfig_devconfig(&rng_spec, d);
	if (!config)
		return -ENOMEM;
	/* A PUT replaces the device: without a rate_limiter it is not limited. */
	ret = limiter ? vmconfig_rate_limiter(limiter, "rate_limiter", &config->limiter, d) : 0;
	if (ret) {
		devspec_free(&rng_spec, config);
		return ret;
	}
	return resources_put_device(r, &rng_spec, config, d);
}

static const struct vmconfig_field balloon_fields[] = {
	{ "amount_mib", VT_INT, true, NULL },
	{ "deflate_on_oom", VT_BOOL, true, NULL },
	{ "stats_polling_interval_s", VT_INT, false, NULL },
	{ "free_page_hinting", VT_BOOL, false, NULL },
	{ "free_page_reporting", VT_BOOL, false, NULL },
};

/* The target must fit the guest: Firecracker refuses a balloon larger than its memory. */
static int vmconfig_balloon_fits(const struct vm_resources *r, const json_t *v, struct diag *d)
{
	if (v && (uint64_t)json_integer_value(v) > r->machine.mem_mib)
		return vmconfig_fail(d, "amount_mib", v, "more than the guest's %llu MiB",
				     (unsigned long long)r->machine.mem_mib);
	return 0;
}

int vmconfig_balloon(struct vm_resources *r, const json_t *body, struct diag *d)
{
	const json_t *amount = json_object_get(body, "amount_mib");
	void *config;
	int ret = vmconfig_check(body, balloon_fields, ARRAY_SIZE(balloon_fields), d);

	if (!ret && json_is_true(vmconfig_get(body, "free_page_hinting")))
		ret = vmconfig_fail(d, "free_page_hinting", vmconfig_get(body, "free_page_hinting"),
				    "not supported by microvm: free page reporting gives free pages back");
	if (ret)
		return ret;
	config = vmconfig_devconfig(&balloon_spec, d);
	if (!config)
		return -ENOMEM;
	ret = vmconfig_devfield(&balloon_spec, config, "amount_mib", "amount_mib", amount, d);
	if (!ret)
		ret = vmconfig_balloon_fits(r, amount, d);
	if (!ret)
		ret = vmconfig_devfield(&balloon_spec, config, "deflate_on_oom", "deflate_on_oom",
					json_object_get(body, "deflate_on_oom"), d);
	if (!ret && vmconfig_get(body, "stats_polling_interval_s"))
		ret = vmconfig_devfield(&balloon_spec, config, "stats_polling_interval_s",
					"stats_polling_interval_s",
					json_object_get(body, "stats_polling_interval_s"), d);
	if (!ret && vmconfig_get(body, "free_page_reporting"))
		ret = vmconfig_devfield(&balloon_spec, config, "free_page_reporting", "free_page_reporting",
					json_object_get(body, "free_page_reporting"), d);
	if (ret) {
		devspec_free(&balloon_spec, config);
		return ret;
	}
	return resources_put_device(r, &balloon_spec, config, d);
}

static const struct vmconfig_field balloon_patch_fields[] = {
	{ "amount_mib", VT_INT, true, NULL },
};

static const struct vmconfig_field balloon_stats_fields[] = {
	{ "stats_polling_interval_s", VT_INT, true, NULL },
};

int vmconfig_balloon_patch(const struct vm_resources *r, const json_t *body, bool stats, void **next,
			   struct diag *d)
{
	const struct device_config *dc = resources_find_device(r, &balloon_spec, NULL);
	const char *key = stats ? "stats_polling_interval_s" : "amount_mib";
	const json_t *v = json_object_get(body, key);
	struct balloon_config *c;
	uint32_t was;
	int ret = stats ? vmconfig_check(body, balloon_stats_fields, ARRAY_SIZE(balloon_stats_fields), d)
			: vmconfig_check(body, balloon_patch_fields, ARRAY_SIZE(balloon_patch_fields), d);

	if (ret)
		return ret;
	if (!dc)
		return diag_fail(d, "no balloon device (PUT /balloon before InstanceStart)");
	if (!stats && (ret = vmconfig_balloon_fits(r, v, d)))
		return ret;
	c = devspec_copy(&balloon_spec, dc->config);
	if (!c)
		return diag_fail_errno(d, -ENOMEM, "out of memory");
	was = c->stats_interval_s;
	ret = vmconfig_devfield(&balloon_spec, c, key, key, v, d);
	/* The statistics queue was negotiated at boot: an interval may change, not appear or go. */
	if (!ret && stats && !was != !c->stats_interval_s)
		ret = vmconfig_fail(d, key, v, "statistics cannot be turned %s after start (they were %s)",
				    was ? "off" : "on", was ? "on" : "off");
	if (ret) {
		devspec_free(&balloon_spec, c);
		return ret;
	}
	*next = c;
	return 0;
}

json_t *vmconfig_export_balloon(const struct vm_resources *r)
{
	const struct device_config *dc = resources_find_device(r, &balloon_spec, NULL);
	const struct balloon_config *c = dc ? dc->config : NULL;

	return c ? json_pack("{s:I, s:b, s:I, s:b}", "amount_mib", (json_int_t)c->amount_mib,
			     "deflate_on_oom", c->deflate_on_oom, "stats_polling_interval_s",
			     (json_int_t)c->stats_interval_s, "free_page_reporting", c->free_page_reporting)
		 : NULL;
}
