#include "config/resources.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "config/devspec.h"

void resources_init(struct vm_resources *r)
{
	memset(r, 0, sizeof(*r));
	r->machine.vcpus = RESOURCES_DEFAULT_VCPUS;
	r->machine.mem_mib = RESOURCES_DEFAULT_MEM_MIB;
	r->machine.pvm = PVM_AUTO;
	r->machine.shutdown_timeout_s = RESOURCES_DEFAULT_SHUTDOWN_TIMEOUT_S;
}

void resources_free(struct vm_resources *r)
{
	free(r->boot.kernel_path);
	free(r->boot.initrd_path);
	free(r->boot.cmdline);
	for (unsigned int i = 0; i < r->nr_devices; i++)
		devspec_free(r->devices[i].spec, r->devices[i].config);
	resources_init(r);
}

/* Replaces an owned string with a copy of value. */
static int resources_set_string(char **field, const char *value, struct diag *d)
{
	char *copy = strdup(value);

	if (!copy)
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

	/* A kind without fields is there or not: naming it twice asks for it once. */
	if (!spec->grammar && index > 0)
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
