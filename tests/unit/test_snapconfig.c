/*
 * The snapshot requests' bodies as Firecracker sends them (PUT /snapshot/create and
 * /snapshot/load): required and unknown fields, the features microvm lacks refused by
 * name, exactly one memory backend; the overrides a load applies to the snapshot's
 * description of its VM; and a config file's snapshot-load section, which only the
 * logger and metrics may come with.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "config/resources.h"
#include "config/snapconfig.h"
#include "config/vmconfig.h"

static json_t *body(const char *text)
{
	json_t *v;
	struct diag d;

	assert_int_equal(vmconfig_parse(text, strlen(text), &v, &d), 0);
	return v;
}

static void test_create_body(void **state)
{
	struct snapconfig_create c;
	struct diag d;
	json_t *b;

	(void)state;
	b = body("{\"snapshot_path\": \"vm.snap\", \"mem_file_path\": \"vm.mem\", \"snapshot_type\": \"Full\"}");
	assert_int_equal(snapconfig_create(b, &c, &d), 0);
	assert_string_equal(c.snapshot_path, "vm.snap");
	assert_string_equal(c.mem_file_path, "vm.mem");
	json_decref(b);
	b = body("{\"snapshot_path\": \"a\", \"mem_file_path\": \"b\", \"snapshot_type\": \"Diff\"}");
	assert_int_equal(snapconfig_create(b, &c, &d), -EINVAL);
	assert_non_null(strstr(d.msg, "only Full"));
	json_decref(b);
	b = body("{\"snapshot_path\": \"a\"}");
	assert_int_equal(snapconfig_create(b, &c, &d), -EINVAL);
	assert_string_equal(d.msg, "missing field 'mem_file_path'");
	json_decref(b);
	b = body("{\"snapshot_path\": \"a\", \"mem_file_path\": \"\"}");
	assert_int_equal(snapconfig_create(b, &c, &d), -EINVAL);
	json_decref(b);
	b = body("{\"snapshot_path\": \"a\", \"mem_file_path\": \"a\"}");
	assert_int_equal(snapconfig_create(b, &c, &d), -EINVAL);
	assert_non_null(strstr(d.msg, "same file"));
	json_decref(b);
}

static void test_load_body(void **state)
{
	struct snapconfig_load l;
	struct diag d;
	json_t *b;

	(void)state;
	b = body("{\"snapshot_path\": \"s\", \"mem_backend\": {\"backend_type\": \"File\", \"backend_path\": \"m\"},"
		 " \"resume_vm\": true}");
	assert_int_equal(snapconfig_load(b, &l, &d), 0);
	assert_string_equal(l.mem_path, "m");
	assert_true(l.resume_vm);
	json_decref(b);
	b = body("{\"snapshot_path\": \"s\", \"mem_file_path\": \"m\"}");
	assert_int_equal(snapconfig_load(b, &l, &d), 0);
	assert_false(l.resume_vm);
	json_decref(b);
	b = body("{\"snapshot_path\": \"s\", \"mem_file_path\": \"m\", \"mem_backend\": {\"backend_type\": \"File\", \"backend_path\": \"m\"}}");
	assert_int_equal(snapconfig_load(b, &l, &d), -EINVAL);
	assert_string_equal(d.msg, "exactly one of mem_backend and mem_file_path");
	json_decref(b);
	b = body("{\"snapshot_path\": \"s\", \"mem_backend\": {\"backend_type\": \"Uffd\", \"backend_path\": \"u\"}}");
	assert_int_equal(snapconfig_load(b, &l, &d), -EINVAL);
	assert_non_null(strstr(d.msg, "only File"));
	json_decref(b);
	b = body("{\"snapshot_path\": \"s\", \"mem_file_path\": \"m\", \"track_dirty_pages\": true}");
	assert_int_equal(snapconfig_load(b, &l, &d), -EINVAL);
	json_decref(b);
	b = body("{\"snapshot_path\": \"s\", \"mem_file_path\": \"m\", \"network_overrides\": [{\"iface_id\": \"eth0\"}]}");
	assert_int_equal(snapconfig_load(b, &l, &d), -EINVAL);
	assert_string_equal(d.msg, "network_overrides[0]: missing field 'host_dev_name'");
	json_decref(b);
}

static void test_overrides(void **state)
{
	struct snapconfig_load l;
	struct diag d;
	json_t *b, *config;
	char *text;

	(void)state;
	config = body("{\"network-interfaces\": [{\"iface_id\": \"eth0\", \"host_dev_name\": \"tap0\"}],"
		      " \"vsock\": {\"guest_cid\": 3, \"uds_path\": \"v.sock\"}}");
	b = body("{\"snapshot_path\": \"s\", \"mem_file_path\": \"m\", \"vsock_override\": {\"uds_path\": \"w.sock\"},"
		 " \"network_overrides\": [{\"iface_id\": \"eth0\", \"host_dev_name\": \"tap9\"}]}");
	assert_int_equal(snapconfig_load(b, &l, &d), 0);
	assert_int_equal(snapconfig_override(config, &l, &d), 0);
	text = json_dumps(config, JSON_COMPACT | JSON_SORT_KEYS);
	assert_string_equal(text, "{\"network-interfaces\":[{\"host_dev_name\":\"tap9\",\"iface_id\":\"eth0\"}],"
				  "\"vsock\":{\"guest_cid\":3,\"uds_path\":\"w.sock\"}}");
	free(text);
	json_decref(b);
	b = body("{\"snapshot_path\": \"s\", \"mem_file_path\": \"m\","
		 " \"network_overrides\": [{\"iface_id\": \"eth1\", \"host_dev_name\": \"tap9\"}]}");
	assert_int_equal(snapconfig_load(b, &l, &d), 0);
	assert_int_equal(snapconfig_override(config, &l, &d), -EINVAL);
	assert_string_equal(d.msg, "network_overrides[0]: iface_id \"eth1\": the snapshot has no such interface");
	json_decref(b);
	json_decref(config);
}

/* vmconfig_file on text; the resources freed, d keeps the reason. */
static int config_file(const char *text, char **snapshot_load, struct diag *d)
{
	struct vm_resources r;
	int ret;

	resources_init(&r);
	ret = vmconfig_file(&r, text, strlen(text), d);
	if (snapshot_load)
		*snapshot_load = r.snapshot_load ? strdup(r.snapshot_load) : NULL;
	resources_free(&r);
	return ret;
}

static void test_config_file_section(void **state)
{
	const char *load = "{\"snapshot_path\": \"vm.snap\", \"mem_backend\": {\"backend_type\": \"File\", "
			   "\"backend_path\": \"vm.mem\"}, \"resume_vm\": true}";
	char text[512], *kept;
	json_t *a, *b;
	struct diag d;

	(void)state;
	snprintf(text, sizeof(text), "{\"logger\": {\"level\": \"Debug\"}, \"snapshot-load\": %s, "
		 "\"metrics\": {\"metrics_path\": \"m.json\"}}", load);
	assert_int_equal(config_file(text, &kept, &d), 0);
	assert_non_null(kept);
	a = body(load);
	b = body(kept);
	assert_true(json_equal(a, b));
	json_decref(a);
	json_decref(b);
	free(kept);
	/* Anything that describes the VM, before or after the section, is the snapshot's to say. */
	snprintf(text, sizeof(text), "{\"snapshot-load\": %s, \"machine-config\": {\"vcpu_count\": 2, \"mem_size_mib\": 64}}", load);
	assert_int_equal(config_file(text, NULL, &d), -EINVAL);
	assert_string_equal(d.msg, "snapshot-load: the snapshot describes the VM: only logger and metrics may come with it, not 'machine-config'");
	snprintf(text, sizeof(text), "{\"drives\": [], \"snapshot-load\": %s}", load);
	assert_int_equal(config_file(text, NULL, &d), -EINVAL);
	assert_non_null(strstr(d.msg, "not 'drives'"));
	assert_int_equal(config_file("{\"snapshot-load\": [\"vm.snap\"]}", NULL, &d), -EINVAL);
	assert_string_equal(d.msg, "snapshot-load: expected an object (PUT /snapshot/load's body)");
	/* Without the section, nothing is kept. */
	assert_int_equal(config_file("{\"logger\": {\"level\": \"Debug\"}}", &kept, &d), 0);
	assert_null(kept);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_body),
		cmocka_unit_test(test_load_body),
		cmocka_unit_test(test_overrides),
		cmocka_unit_test(test_config_file_section),
	};

	vmconfig_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
