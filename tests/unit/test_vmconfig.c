/* Firecracker's JSON into struct vm_resources: each section, hostile input, the file, the export. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/devices.h"
#include "config/drive.h"
#include "config/net.h"
#include "config/vmconfig.h"
#include "config/vsock.h"

static struct vm_resources res;
static struct diag d;

static int setup(void **state)
{
	(void)state;
	vmconfig_init();
	resources_init(&res);
	memset(&d, 0, sizeof(d));
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	resources_free(&res);
	return 0;
}

/* Applies text with fn; returns its result, the parse's failure included. */
static int apply(int (*fn)(struct vm_resources *, const json_t *, struct diag *), const char *text)
{
	json_t *body;
	int ret = vmconfig_parse(text, strlen(text), &body, &d);

	if (ret)
		return ret;
	ret = fn(&res, body, &d);
	json_decref(body);
	return ret;
}

/* A body that must parse. */
static json_t *body_of(const char *text)
{
	json_t *body = NULL;

	assert_int_equal(vmconfig_parse(text, strlen(text), &body, &d), 0);
	return body;
}

static int machine_put(struct vm_resources *r, const json_t *b, struct diag *dd)
{
	return vmconfig_machine(r, b, false, dd);
}

static int machine_patch(struct vm_resources *r, const json_t *b, struct diag *dd)
{
	return vmconfig_machine(r, b, true, dd);
}

static int drive_put(struct vm_resources *r, const json_t *b, struct diag *dd)
{
	return vmconfig_drive(r, "rootfs", b, dd);
}

static int net_put(struct vm_resources *r, const json_t *b, struct diag *dd)
{
	return vmconfig_net(r, "eth0", b, dd);
}

/* The failure's reason holds every one of the words. */
static void refused(int ret, const char *what)
{
	if (ret == 0 || !strstr(d.msg, what))
		print_error("expected a refusal naming \"%s\", got %d: \"%s\"\n", what, ret, d.msg);
	assert_int_not_equal(ret, 0);
	assert_non_null(strstr(d.msg, what));
}

static void machine(void **state)
{
	(void)state;
	assert_int_equal(apply(machine_put, "{\"vcpu_count\": 2, \"mem_size_mib\": 256, \"smt\": false,"
			       " \"track_dirty_pages\": false, \"huge_pages\": \"None\"}"), 0);
	assert_int_equal(res.machine.vcpus, 2);
	assert_int_equal(res.machine.mem_mib, 256);
	assert_int_equal(apply(machine_patch, "{\"vcpu_count\": 4}"), 0);
	assert_int_equal(res.machine.vcpus, 4);
	assert_int_equal(res.machine.mem_mib, 256);
	refused(apply(machine_put, "{\"vcpu_count\": 2}"), "missing field 'mem_size_mib'");
	refused(apply(machine_patch, "{\"vcpu_count\": 65}"), "vcpu_count 65: expected a number from 1 to 64");
	refused(apply(machine_patch, "{\"mem_size_mib\": -1}"), "mem_size_mib -1");
	refused(apply(machine_patch, "{\"mem_size_mib\": 1e3}"), "mem_size_mib 1000.0: expected an integer");
	refused(apply(machine_patch, "{\"mem_size_mib\": \"128\"}"), "expected an integer");
	refused(apply(machine_patch, "{\"mem_size_mib\": 99999999999999999999999}"), "invalid JSON");
	refused(apply(machine_patch, "{\"vcpu_count\": 1, \"vcpus\": 2}"), "unknown field 'vcpus'");
	refused(apply(machine_patch, "{\"smt\": true}"), "smt true: not supported");
	refused(apply(machine_patch, "{\"huge_pages\": \"2M\"}"), "huge_pages \"2M\"");
	refused(apply(machine_patch, "{\"vcpu_count\": 1, \"vcpu_count\": 2}"), "duplicate");
	refused(apply(machine_patch, "[1]"), "expected a JSON object");
	refused(apply(machine_patch, "{\"vcpu_count\": 1} x"), "invalid JSON");
	/* Every refusal left the machine as it was. */
	assert_int_equal(res.machine.vcpus, 4);
	assert_int_equal(res.machine.mem_mib, 256);
	/* A refused second field undoes the first. */
	refused(apply(machine_put, "{\"vcpu_count\": 8, \"mem_size_mib\": 1}"), "mem_size_mib 1");
	assert_int_equal(res.machine.vcpus, 4);
}

static void deep_nesting(void **state)
{
	/* A backslash before a newline, and before the first byte of a two-byte "é". */
	static const char *const bad_escapes[] = { "{\"a\": \"\\\n\"}", "{\"a\": \"\\\xc3\xa9\"}" };
	enum { depth = 100000 };
	/* Static: gcc's -Warray-bounds under ASan did not see a checked malloc's size. */
	static char text[2 * depth + 32];
	json_t *v, *fault;

	(void)state;
	strcpy(text, "{\"a\":");
	memset(text + 5, '[', depth);
	memset(text + 5 + depth, ']', depth);
	strcpy(text + 5 + 2 * depth, "}");
	refused(vmconfig_parse(text, strlen(text), &v, &d), "invalid JSON");
	refused(vmconfig_parse("{\"a\": \"\\u0000\"}", 15, &v, &d), "invalid JSON");
	/*
	 * Regression: jansson quotes the bytes near the error, a newline or a bad UTF-8 byte
	 * among them; the reason broke into two lines, and as a fault_message (JSON) it
	 * could not be encoded at all.
	 */
	for (size_t i = 0; i < 2; i++) {
		refused(vmconfig_parse(bad_escapes[i], strlen(bad_escapes[i]), &v, &d), "invalid escape");
		assert_null(strchr(d.msg, '\n'));
		assert_null(strchr(d.msg, '\xc3'));
		fault = json_pack("{s:s}", "fault_message", d.msg);
		assert_non_null(fault);
		json_decref(fault);
	}
}

static void boot_source(void **state)
{
	(void)state;
	assert_int_equal(apply(vmconfig_boot_source, "{\"kernel_image_path\": \"/k\", \"initrd_path\": \"/i\","
			       " \"boot_args\": \"console=ttyS0\"}"), 0);
	assert_string_equal(res.boot.kernel_path, "/k");
	assert_string_equal(res.boot.initrd_path, "/i");
	assert_string_equal(resources_cmdline(&res), "console=ttyS0");
	/* A PUT replaces it whole: what it leaves out is back to the default. */
	assert_int_equal(apply(vmconfig_boot_source, "{\"kernel_image_path\": \"/k2\"}"), 0);
	assert_null(res.boot.initrd_path);
	assert_string_equal(resources_cmdline(&res), RESOURCES_DEFAULT_CMDLINE);
	refused(apply(vmconfig_boot_source, "{\"kernel_image_path\": \"\"}"), "kernel_image_path \"\"");
	refused(apply(vmconfig_boot_source, "{\"initrd_path\": \"/i\"}"), "missing field 'kernel_image_path'");
	refused(apply(vmconfig_boot_source, "{\"kernel_image_path\": 3}"), "expected a string");
	assert_string_equal(res.boot.kernel_path, "/k2");
}

static void drives(void **state)
{
	const struct drive_config *c;
	char root[32];
	const char *path = NULL;
	json_t *body;

	(void)state;
	assert_int_equal(apply(drive_put, "{\"drive_id\": \"rootfs\", \"path_on_host\": \"/r.ext4\","
			       " \"is_root_device\": true, \"is_read_only\": false}"), 0);
	assert_int_equal(resources_count(&res, &drive_spec), 1);
	c = res.devices[0].config;
	assert_string_equal(c->path, "/r.ext4");
	assert_true(c->root);
	assert_false(c->read_only);
	assert_true(resources_root_param(&res, root, sizeof(root)));
	assert_string_equal(root, "root=/dev/vda rw");
	/* The same id again replaces the drive. */
	assert_int_equal(apply(drive_put, "{\"drive_id\": \"rootfs\", \"path_on_host\": \"/s.ext4\","
			       " \"is_root_device\": true, \"is_read_only\": true}"), 0);
	assert_int_equal(resources_count(&res, &drive_spec), 1);
	c = res.devices[0].config;
	assert_string_equal(c->path, "/s.ext4");
	assert_true(resources_root_param(&res, root, sizeof(root)));
	assert_string_equal(root, "root=/dev/vda ro");
	refused(apply(drive_put, "{\"drive_id\": \"other\", \"path_on_host\": \"/r\", \"is_root_device\": false}"),
		"differs from the id in the path");
	refused(vmconfig_drive(&res, "data", NULL, &d), "expected a JSON object");
	body = body_of("{\"drive_id\": \"data\", \"path_on_host\": \"/d\", \"is_root_device\": true}");
	refused(vmconfig_drive(&res, "data", body, &d), "both the root device");
	json_decref(body);
	assert_int_equal(resources_count(&res, &drive_spec), 1);
	refused(apply(drive_put, "{\"drive_id\": \"rootfs\", \"path_on_host\": \"/r\", \"is_root_device\": false,"
		      " \"rate_limiter\": {}}"), "rate_limiter {}: not supported by microvm");
	refused(apply(drive_put, "{\"drive_id\": \"rootfs\", \"path_on_host\": \"/r\", \"is_root_device\": false,"
		      " \"io_engine\": \"Async\"}"), "io_engine \"Async\"");
	refused(apply(drive_put, "{\"drive_id\": \"rootfs\", \"is_root_device\": false}"), "missing field 'path_on_host'");
	/* PATCH names an existing drive and at most a new path. */
	body = body_of("{\"drive_id\": \"rootfs\", \"path_on_host\": \"/new\"}");
	assert_int_equal(vmconfig_drive_patch(&res, "rootfs", body, &path, &d), 0);
	assert_string_equal(path, "/new");
	refused(vmconfig_drive_patch(&res, "nope", body, &path, &d), "differs from the id in the path");
	json_decref(body);
	body = body_of("{\"drive_id\": \"nope\"}");
	refused(vmconfig_drive_patch(&res, "nope", body, &path, &d), "no such drive");
	json_decref(body);
}

static void devices(void **state)
{
	const struct net_config *n;
	const struct vsock_config *v;

	(void)state;
	assert_int_equal(apply(net_put, "{\"iface_id\": \"eth0\", \"host_dev_name\": \"tap0\","
			       " \"guest_mac\": \"06:00:AC:10:00:02\"}"), 0);
	n = resources_find_device(&res, &net_spec, "eth0")->config;
	assert_string_equal(n->tap, "tap0");
	assert_true(n->has_mac);
	assert_int_equal(n->mac[5], 2);
	refused(apply(net_put, "{\"iface_id\": \"eth0\", \"host_dev_name\": \"a/b\"}"), "host_dev_name \"a/b\"");
	refused(apply(net_put, "{\"iface_id\": \"eth0\", \"host_dev_name\": \"tap0\", \"guest_mac\": \"01:00:00:00:00:01\"}"),
		"unicast");
	assert_int_equal(apply(vmconfig_vsock, "{\"guest_cid\": 3, \"uds_path\": \"/v.sock\"}"), 0);
	assert_int_equal(apply(vmconfig_vsock, "{\"vsock_id\": \"1\", \"guest_cid\": 7, \"uds_path\": \"/w.sock\"}"), 0);
	assert_int_equal(resources_count(&res, &vsock_spec), 1);
	v = resources_find_device(&res, &vsock_spec, NULL)->config;
	assert_int_equal(v->cid, 7);
	refused(apply(vmconfig_vsock, "{\"guest_cid\": 2, \"uds_path\": \"/v\"}"), "guest_cid 2");
	refused(apply(vmconfig_vsock, "{\"guest_cid\": 4294967295, \"uds_path\": \"/v\"}"), "guest_cid 4294967295");
	assert_int_equal(apply(vmconfig_entropy, "{}"), 0);
	assert_int_equal(apply(vmconfig_entropy, "{\"rate_limiter\": null}"), 0);
	assert_int_equal(resources_count(&res, &rng_spec), 1);
	refused(apply(vmconfig_entropy, "{\"rate_limiter\": {\"bandwidth\": {}}}"), "not supported");
}

static void outputs(void **state)
{
	(void)state;
	assert_int_equal(apply(vmconfig_logger, "{\"log_path\": \"/run/log\", \"level\": \"debug\","
			       " \"show_level\": true, \"show_log_origin\": false}"), 0);
	assert_string_equal(res.logger.path, "/run/log");
	assert_true(res.logger.level_set);
	assert_true(res.logger.show_level);
	assert_false(res.logger.show_origin);
	/* Firecracker's getting-started guide asks for the origin. */
	assert_int_equal(apply(vmconfig_logger, "{\"show_level\": true, \"show_log_origin\": true}"), 0);
	assert_true(res.logger.show_origin);
	refused(apply(vmconfig_logger, "{\"level\": \"Loud\"}"), "level \"Loud\"");
	refused(apply(vmconfig_logger, "{\"module\": \"api\"}"), "module");
	assert_int_equal(apply(vmconfig_metrics, "{\"metrics_path\": \"/run/m\", \"emit_id\": true}"), 0);
	assert_string_equal(res.metrics.path, "/run/m");
	assert_true(res.metrics.emit_id);
	refused(apply(vmconfig_metrics, "{}"), "missing field 'metrics_path'");
}

static const char file_text[] =
	"{\"boot-source\": {\"kernel_image_path\": \"/vmlinux\", \"boot_args\": \"console=ttyS0 reboot=k\"},"
	" \"drives\": [{\"drive_id\": \"rootfs\", \"path_on_host\": \"/rootfs.ext4\", \"is_root_device\": true,"
	" \"is_read_only\": false}, {\"drive_id\": \"data\", \"path_on_host\": \"/data\","
	" \"is_root_device\": false, \"is_read_only\": true}],"
	" \"machine-config\": {\"vcpu_count\": 2, \"mem_size_mib\": 1024},"
	" \"network-interfaces\": [{\"iface_id\": \"eth0\", \"host_dev_name\": \"tap0\"}],"
	" \"vsock\": {\"guest_cid\": 3, \"uds_path\": \"/run/v.sock\"}, \"entropy\": {},"
	" \"metrics\": {\"metrics_path\": \"/run/metrics\"}}";

static void config_file(void **state)
{
	struct vm_resources again;
	json_t *one, *two;

	(void)state;
	assert_int_equal(vmconfig_file(&res, file_text, strlen(file_text), &d), 0);
	assert_int_equal(res.machine.vcpus, 2);
	assert_int_equal(resources_count(&res, &drive_spec), 2);
	assert_int_equal(resources_count(&res, &net_spec), 1);
	assert_int_equal(resources_count(&res, &rng_spec), 1);
	/* The export reads back as the same resources. */
	one = vmconfig_export(&res);
	assert_non_null(one);
	{
		char *text = json_dumps(one, 0);

		resources_init(&again);
		assert_int_equal(vmconfig_file(&again, text, strlen(text), &d), 0);
		two = vmconfig_export(&again);
		assert_true(json_equal(one, two));
		resources_free(&again);
		free(text);
	}
	json_decref(one);
	json_decref(two);
}

static void config_file_refused(void **state)
{
	static const struct {
		const char *text, *reason;
	} cases[] = {
		{ "{\"drives\": {}}", "drives: expected an array" },
		{ "{\"drives\": [{\"drive_id\": \"a\", \"path_on_host\": \"/a\", \"is_root_device\": false},"
		  " {\"drive_id\": \"a\", \"path_on_host\": \"/b\", \"is_root_device\": false}]}",
		  "drives[1]: drive_id \"a\": used twice" },
		{ "{\"drives\": [3]}", "drives[0]: expected a JSON object" },
		{ "{\"machine-config\": {\"vcpu_count\": 0, \"mem_size_mib\": 2}}",
		  "machine-config: vcpu_count 0" },
		{ "{\"balloon\": {}}", "balloon: not supported" },
		{ "{\"boot_source\": {}}", "unknown section 'boot_source'" },
		/* Regression: a name with a newline broke the one-line reason. */
		{ "{\"boot\\nsource\": {}}", "unknown section 'boot\\nsource'" },
		{ "{\"boot-source\": {\"ke\\nel\": 1}}", "boot-source: unknown field 'ke\\nel'" },
		{ "{\"vsock\": {\"guest_cid\": 3}}", "vsock: missing field 'uds_path'" },
		{ "", "invalid JSON" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct vm_resources r;

		resources_init(&r);
		refused(vmconfig_file(&r, cases[i].text, strlen(cases[i].text), &d), cases[i].reason);
		resources_free(&r);
	}
}

/*
 * Regression: a FIFO given as --config-file was opened for reading and waited on for a
 * writer that never came; it is now refused at once, as is anything but a regular file.
 */
static void config_file_load(void **state)
{
	char dir[] = "/tmp/test_vmconfig.XXXXXX", path[64];
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/fifo", dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	refused(vmconfig_load(&res, path, &d), "not a regular file");
	assert_int_equal(unlink(path), 0);
	refused(vmconfig_load(&res, dir, &d), "not a regular file");
	refused(vmconfig_load(&res, "/nonexistent/vm.json", &d), "cannot open");
	snprintf(path, sizeof(path), "%s/vm.json", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fputs(file_text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(vmconfig_load(&res, path, &d), 0);
	assert_int_equal(res.machine.vcpus, 2);
	assert_int_equal(truncate(path, VMCONFIG_FILE_MAX + 1), 0);
	refused(vmconfig_load(&res, path, &d), "larger than");
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(dir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(machine, setup, teardown),
		cmocka_unit_test_setup_teardown(deep_nesting, setup, teardown),
		cmocka_unit_test_setup_teardown(boot_source, setup, teardown),
		cmocka_unit_test_setup_teardown(drives, setup, teardown),
		cmocka_unit_test_setup_teardown(devices, setup, teardown),
		cmocka_unit_test_setup_teardown(outputs, setup, teardown),
		cmocka_unit_test_setup_teardown(config_file, setup, teardown),
		cmocka_unit_test_setup_teardown(config_file_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(config_file_load, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
