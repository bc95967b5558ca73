/*
 * The snapshot requests' bodies as Firecracker sends them (PUT /snapshot/create and
 * /snapshot/load): required and unknown fields, the features microvm lacks refused by
 * name, exactly one memory backend; and the overrides a load applies to the
 * snapshot's description of its VM.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_body),
		cmocka_unit_test(test_load_body),
		cmocka_unit_test(test_overrides),
	};

	vmconfig_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
