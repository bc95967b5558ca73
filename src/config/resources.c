#include "config/resources.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/devices.h"
#include "config/drive.h"

void resources_init(struct vm_resources *r)
{
	memset(r, 0, sizeof(*r));
	r->machine.vcpus = RESOURCES_DEFAULT_VCPUS;
	r->machine.mem_mib = RESOURCES_DEFAULT_MEM_MIB;
	r->machine.pvm = PVM_AUTO;
	r->machine.shutdown_timeout_s = RESOURCES_DEFAULT_SHUTDOWN_TIMEOUT_S;
}

void resources_drop_devices(struct vm_resources *r)
{
	for (unsigned int i = 0; i < r->nr_devices; i++)
		devspec_free(r->devices[i].spec, r->devices[i].config);
	memset(r->devices, 0, sizeof(r->devices));
	r->nr_devices = 0;
}

void resources_free(struct vm_resources *r)
{
	free(r->boot.kernel_path);
	free(r->boot.initrd_path);
	free(r->boot.cmdline);
	free(r->logger.path);
	free(r->metrics.path);
	free(r->snapshot_load);
	for (unsigned int i = 0; i < r->nr_devices; i++)
		devspec_free(r->devices[i].spec, r->devices[i].config);
	resources_init(r);
}

/* Replaces an owned string with a copy of value (NULL: none). */
static int resources_set_string(char **field, const char *value, struct diag *d)
{
	char *copy = value ? strdup(value) : NULL;

	if (value && !copy)
		return diag_fail_errno(d, -ENOMEM, "out of memory");
	free(*field);
	*field = copy;
	return 0;
}

int resources_set_kernel(struct vm_resources *r, const char *path, struct diag *d)
{
	return resources_set_string(&r->boot.kernel_path, path, d);
}

int resources_set_initrd(struct vm_resources *r, const char *path, struct diag *d)
{
	return resources_set_string(&r->boot.initrd_path, path, d);
}

int resources_set_cmdline(struct vm_resources *r, const char *cmdline, struct diag *d)
{
	return resources_set_string(&r->boot.cmdline, cmdline, d);
}

int resources_set_logger_path(struct vm_resources *r, const char *path, struct diag *d)
{
	return resources_set_string(&r->logger.path, path, d);
}

int resources_set_metrics_path(struct vm_resources *r, const char *path, struct diag *d)
{
	return resources_set_string(&r->metrics.path, path, d);
}

const char *resources_cmdline(const struct vm_resources *r)
{
	return r->boot.cmdline ? r->boot.cmdline : RESOURCES_DEFAULT_CMDLINE;
}

int resources_set_mem_mib(struct vm_resources *r, uint64_t mib, struct diag *d)
{
	if (mib < RESOURCES_MIN_MEM_MIB || mib > RESOURCES_MAX_MEM_MIB)
		return diag_fail(d, "expected " RESOURCES_MEM_MIB_RULE);
	r->machine.mem_mib = mib;
	return 0;
}

int resources_set_vcpus(struct vm_resources *r, uint64_t vcpus, struct diag *d)
{
	if (vcpus < 1 || vcpus > RESOURCES_MAX_VCPUS)
		return diag_fail(d, "expected " RESOURCES_VCPUS_RULE);
	r->machine.vcpus = (unsigned int)vcpus;
	return 0;
}

int resources_set_shutdown_timeout(struct vm_resources *r, uint64_t seconds, struct diag *d)
{
	if (seconds < 1 || seconds > RESOURCES_MAX_SHUTDOWN_TIMEOUT_S)
		return diag_fail(d, "expected " RESOURCES_SHUTDOWN_TIMEOUT_RULE);
	r->machine.shutdown_timeout_s = (unsigned int)seconds;
	return 0;
}

int resources_check_host(const struct vm_resources *r, struct diag *d)
{
	long pages = sysconf(_SC_PHYS_PAGES), page_size = sysconf(_SC_PAGESIZE);
	uint64_t host_mib = (uint64_t)(pages > 0 ? pages : 0) * (uint64_t)(page_size > 0 ? page_size : 0) >> 20;

	if (host_mib && r->machine.mem_mib > host_mib)
		return diag_fail(d, "guest memory (--mem, mem_size_mib) %llu MiB: more than the host's "
				 "%llu MiB of RAM",
				 (unsigned long long)r->machine.mem_mib, (unsigned long long)host_mib);
	return 0;
}

unsigned int resources_count(const struct vm_resources *r, const struct device_spec *spec)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < r->nr_devices; i++)
		n += r->devices[i].spec == spec;
	return n;
}

int resources_add_device(struct vm_resources *r, const struct device_spec *spec, const char *text,
			 struct diag *d)
{
	unsigned int index = resources_count(r, spec);
	void *config = NULL;
	int ret;

	/* A kind without fields (or named without them) is there or not: twice asks for it once. */
	if ((!spec->grammar || (spec->value_optional && !text)) && index > 0)
		return 0;
	if (index >= spec->max)
		return diag_fail(d, "%s", spec->too_many);
	if (r->nr_devices == RESOURCES_MAX_DEVICES)
		return diag_fail(d, "more than %d devices", RESOURCES_MAX_DEVICES);
	if (spec->config_size) {
		config = calloc(1, spec->config_size);
		if (!config)
			return diag_fail_errno(d, -ENOMEM, "out of memory");
		ret = devspec_parse(spec, config, text, d);
		if (ret) {
			devspec_free(spec, config);
			return ret;
		}
		if (spec->defaults)
			spec->defaults(config, index);
	}
	r->devices[r->nr_devices++] = (struct device_config){ .spec = spec, .config = config };
	return 0;
}

/* True when device i is the first of its kind. */
static bool resources_first_of_kind(const struct vm_resources *r, unsigned int i)
{
	for (unsigned int j = 0; j < i; j++) {
		if (r->devices[j].spec == r->devices[i].spec)
			return false;
	}
	return true;
}

int resources_check(const struct vm_resources *r, const struct device_spec **failed,
		    struct diag *d)
{
	for (unsigned int i = 0; i < r->nr_devices; i++) {
		const struct device_spec *spec = r->devices[i].spec;
		void *configs[RESOURCES_MAX_DEVICES];
		unsigned int n = 0;
		int ret;

		if (!spec->check || !resources_first_of_kind(r, i))
			continue;
		for (unsigned int j = i; j < r->nr_devices; j++) {
			if (r->devices[j].spec == spec)
				configs[n++] = r->devices[j].config;
		}
		ret = spec->check(configs, n, d);
		if (ret) {
			*failed = spec;
			return ret;
		}
	}
	return 0;
}

/* The "id" field of a kind's config, or NULL when the kind has none. */
static const char *resources_device_id(const struct device_spec *spec, const void *config)
{
	const struct devspec_field *f = devspec_field(spec, "id", 2);

	return f && config ? (const char *)config + f->offset : NULL;
}

/* The index of the device resources_find_device names, or r->nr_devices when none. */
static unsigned int resources_find_index(const struct vm_resources *r,
					 const struct device_spec *spec, const char *id)
{
	unsigned int i;

	for (i = 0; i < r->nr_devices; i++) {
		const char *have = resources_device_id(spec, r->devices[i].config);

		if (r->devices[i].spec == spec && (!have || !id || !strcmp(have, id)))
			break;
	}
	return i;
}

const struct device_config *resources_find_device(const struct vm_resources *r,
						  const struct device_spec *spec, const char *id)
{
	unsigned int i = resources_find_index(r, spec, id);

	return i < r->nr_devices ? &r->devices[i] : NULL;
}

int resources_put_device(struct vm_resources *r, const struct device_spec *spec, void *config,
			 struct diag *d)
{
	unsigned int at = resources_find_index(r, spec, resources_device_id(spec, config));
	struct device_config *old = at < r->nr_devices ? &r->devices[at] : NULL;
	const struct device_spec *failed = NULL;
	void *previous;
	int ret;

	if (!old) {
		unsigned int index = resources_count(r, spec);

		if (index >= spec->max || r->nr_devices == RESOURCES_MAX_DEVICES) {
			devspec_free(spec, config);
			return diag_fail(d, "%s", spec->too_many);
		}
		if (spec->defaults)
			spec->defaults(config, index);
		r->devices[r->nr_devices] = (struct device_config){ .spec = spec, .config = config };
		r->nr_devices++;
		ret = resources_check(r, &failed, d);
		if (ret) {
			r->nr_devices--;
			devspec_free(spec, config);
		}
		return ret;
	}
	previous = old->config;
	old->config = config;
	ret = resources_check(r, &failed, d);
	devspec_free(spec, ret ? config : previous);
	if (ret)
		old->config = previous;
	return ret;
}

bool resources_root_param(const struct vm_resources *r, char *buf, size_t size)
{
	unsigned int index = 0;

	for (unsigned int i = 0; i < r->nr_devices; i++) {
		const struct drive_config *c = r->devices[i].config;

		if (r->devices[i].spec != &drive_spec)
			continue;
		/* Drives take vda, vdb ... in the order the resources list them (the registry's). */
		if (c->root) {
			snprintf(buf, size, "root=/dev/vd%c %s", 'a' + index, c->read_only ? "ro" : "rw");
			return true;
		}
		index++;
	}
	return false;
}
