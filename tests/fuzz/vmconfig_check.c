#include "vmconfig_check.h"

#include <stdlib.h>
#include <string.h>

#include "config/devices.h"
#include "config/drive.h"
#include "config/vmconfig.h"
#include "harness.h"

char *fuzz_vmconfig_export(const struct vm_resources *r)
{
	json_t *v = vmconfig_export(r);
	char *text = v ? json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS) : NULL;

	json_decref(v);
	FUZZ_CHECK(text != NULL);
	return text;
}

void fuzz_vmconfig_check(const struct vm_resources *r)
{
	unsigned int roots = 0;

	FUZZ_CHECK(r->machine.vcpus >= 1 && r->machine.vcpus <= RESOURCES_MAX_VCPUS);
	FUZZ_CHECK(r->machine.mem_mib >= RESOURCES_MIN_MEM_MIB && r->machine.mem_mib <= RESOURCES_MAX_MEM_MIB);
	FUZZ_CHECK(r->nr_devices <= RESOURCES_MAX_DEVICES);
	for (unsigned int i = 0; i < r->nr_devices; i++) {
		const struct drive_config *a = r->devices[i].config;

		FUZZ_CHECK(resources_count(r, r->devices[i].spec) <= r->devices[i].spec->max);
		if (r->devices[i].spec != &drive_spec)
			continue;
		roots += a->root;
		FUZZ_CHECK(a->path && a->path[0] && a->id[0]);
		for (unsigned int j = 0; j < i; j++)
			FUZZ_CHECK(r->devices[j].spec != &drive_spec ||
				   strcmp(((const struct drive_config *)r->devices[j].config)->id, a->id));
	}
	FUZZ_CHECK(roots <= 1);
}

void fuzz_vmconfig_roundtrip(const struct vm_resources *r)
{
	struct vm_resources again;
	struct diag d = { "" };
	char *one = fuzz_vmconfig_export(r), *two;

	resources_init(&again);
	FUZZ_CHECK(vmconfig_file(&again, one, strlen(one), &d) == 0);
	two = fuzz_vmconfig_export(&again);
	FUZZ_CHECK(!strcmp(one, two));
	free(one);
	free(two);
	resources_free(&again);
}
