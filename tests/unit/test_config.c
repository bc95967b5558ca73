/*
 * The VMM's command line through the option table into struct vm_resources: defaults,
 * strict numbers, usage errors, device specs, owned strings; and the resources'
 * setters as a config file or the API will call them, one field at a time.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <cmocka.h>

#include "config/cli.h"
#include "config/devices.h"
#include "config/drive.h"
#include "config/net.h"
#include "config/vsock.h"

static enum config_result parse(struct microvm_config *cfg, int argc, const char **argv)
{
	return config_parse(cfg, argc, (char **)(uintptr_t)argv);
}

/* Parses a vector that must be refused (nothing to release then). */
static void refused(int argc, const char **argv)
{
	struct microvm_config cfg;

	if (parse(&cfg, argc, argv) != CONFIG_EXIT_USAGE)
		fail_msg("a vector ending in '%s' was accepted", argv[argc - 1]);
}

/* --help prints usage on stdout, which carries this test's TAP stream: send it elsewhere. */
static enum config_result parse_quietly(struct microvm_config *cfg, int argc, const char **argv)
{
	int saved = dup(STDOUT_FILENO), devnull = open("/dev/null", O_WRONLY);
	enum config_result r;

	assert_true(saved >= 0 && devnull >= 0);
	fflush(stdout);
	dup2(devnull, STDOUT_FILENO);
	r = parse(cfg, argc, argv);
	fflush(stdout);
	dup2(saved, STDOUT_FILENO);
	close(saved);
	close(devnull);
	return r;
}

/* The n-th configured device of a kind (the test fails without it). */
static void *device(const struct microvm_config *cfg, const struct device_spec *spec, unsigned int n)
{
	for (unsigned int i = 0; i < cfg->res.nr_devices; i++) {
		if (cfg->res.devices[i].spec == spec && n-- == 0 && cfg->res.devices[i].config)
			return cfg->res.devices[i].config;
	}
	fail_msg("no %s number %u", spec->name, n);
	abort(); /* fail_msg does not return */
}

static void defaults(void **state)
{
	(void)state;
	struct microvm_config cfg;
	const char *argv[] = { "microvm", "--kernel", "k" };

	assert_int_equal(parse(&cfg, 3, argv), CONFIG_OK);
	assert_string_equal(cfg.res.boot.kernel_path, "k");
	assert_null(cfg.res.boot.initrd_path);
	assert_int_equal(cfg.res.machine.mem_mib, 128);
	assert_int_equal(cfg.res.machine.vcpus, 1);
	assert_non_null(strstr(resources_cmdline(&cfg.res), "console=ttyS0"));
	assert_non_null(strstr(resources_cmdline(&cfg.res), "reboot=k"));
	assert_non_null(strstr(resources_cmdline(&cfg.res), "panic=1"));
	assert_false(cfg.check_only);
	assert_int_equal(cfg.res.machine.pvm, PVM_AUTO);
	assert_int_equal(cfg.res.machine.shutdown_timeout_s, 30);
	assert_false(cfg.res.boot.entry64);
	assert_int_equal(cfg.seccomp, SANDBOX_BUILTIN);
	config_free(&cfg);
}

static void all_options(void **state)
{
	(void)state;
	struct microvm_config cfg;
	const char *argv[] = { "microvm", "--kernel", "k", "--initrd", "i", "--cmdline", "x y",
			       "--mem", "512", "--vcpus", "4", "--check", "--no-pvm", "-v",
			       "--seccomp-policy", "f.bin", "--shutdown-timeout", "7", "--entry64" };

	assert_int_equal(parse(&cfg, 19, argv), CONFIG_OK);
	assert_int_equal(cfg.res.machine.shutdown_timeout_s, 7);
	assert_true(cfg.res.boot.entry64);
	assert_string_equal(cfg.res.boot.initrd_path, "i");
	assert_string_equal(resources_cmdline(&cfg.res), "x y");
	assert_int_equal(cfg.res.machine.mem_mib, 512);
	assert_int_equal(cfg.res.machine.vcpus, 4);
	assert_true(cfg.check_only);
	assert_int_equal(cfg.res.machine.pvm, PVM_OFF);
	assert_int_equal(cfg.verbosity, 1);
	assert_int_equal(cfg.seccomp, SANDBOX_FILE);
	assert_string_equal(cfg.seccomp_policy, "f.bin");
	config_free(&cfg);
}

static void bad_numbers(void **state)
{
	(void)state;
	const char *bad[][2] = {
		{ "--mem", "0" }, { "--mem", "-1" }, { "--mem", "12x" }, { "--mem", "" },
		{ "--mem", "99999999999999999999" }, { "--mem", "1048577" }, { "--vcpus", "0" },
		{ "--vcpus", "10000" }, { "--vcpus", "+2" }, { "--vcpus", " 2" },
		{ "--shutdown-timeout", "0" }, { "--shutdown-timeout", "3601" },
		{ "--shutdown-timeout", "1s" },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *argv[] = { "microvm", "--kernel", "k", bad[i][0], bad[i][1] };

		refused(5, argv);
	}
}

static void usage_errors(void **state)
{
	(void)state;
	struct microvm_config cfg;
	const char *unknown[] = { "microvm", "--kernel", "k", "--bogus" };
	const char *missing_arg[] = { "microvm", "--kernel" };
	const char *no_kernel[] = { "microvm" };
	const char *stray[] = { "microvm", "--kernel", "k", "extra" };
	const char *flag_value[] = { "microvm", "--kernel", "k", "--check=yes" };
	const char *help[] = { "microvm", "--help" };

	refused(4, unknown);
	refused(2, missing_arg);
	refused(1, no_kernel);
	refused(4, stray);
	refused(4, flag_value);
	assert_int_equal(parse_quietly(&cfg, 2, help), CONFIG_EXIT_HELP);
}

static void devices(void **state)
{
	(void)state;
	struct microvm_config cfg;
	const char *argv[] = { "microvm", "--kernel", "k", "--drive", "path=/a/disk.img",
			       "--drive", "id=root_2,ro,path=b", "--net", "tap=tap0,mac=02:AB:cd:00:00:01",
			       "--rng", "--vsock", "uds=/tmp/v.sock,cid=3", "--drive", "path=x,id=drive2",
			       "--rng" };
	const struct drive_config *d0, *d1, *d2;
	const struct net_config *net;
	const struct vsock_config *vs;

	assert_int_equal(parse(&cfg, 15, argv), CONFIG_OK);
	assert_int_equal(resources_count(&cfg.res, &drive_spec), 3);
	d0 = device(&cfg, &drive_spec, 0);
	d1 = device(&cfg, &drive_spec, 1);
	d2 = device(&cfg, &drive_spec, 2);
	assert_string_equal(d0->path, "/a/disk.img");
	assert_false(d0->read_only);
	assert_string_equal(d0->id, "drive0");
	assert_string_equal(d1->path, "b");
	assert_true(d1->read_only);
	assert_string_equal(d1->id, "root_2");
	assert_string_equal(d2->id, "drive2");
	net = device(&cfg, &net_spec, 0);
	assert_non_null(net);
	assert_string_equal(net->tap, "tap0");
	assert_true(net->has_mac);
	assert_memory_equal(net->mac, "\x02\xab\xcd\x00\x00\x01", 6);
	/* --rng twice is one device: it has nothing to configure. */
	assert_int_equal(resources_count(&cfg.res, &rng_spec), 1);
	vs = device(&cfg, &vsock_spec, 0);
	assert_non_null(vs);
	assert_int_equal(vs->cid, 3);
	assert_string_equal(vs->uds, "/tmp/v.sock");
	config_free(&cfg);
}

static void no_devices(void **state)
{
	(void)state;
	struct microvm_config cfg;
	const char *argv[] = { "microvm", "--kernel", "k" };

	assert_int_equal(parse(&cfg, 3, argv), CONFIG_OK);
	assert_int_equal(cfg.res.nr_devices, 0);
	config_free(&cfg);
}

static void bad_devices(void **state)
{
	(void)state;
	const char *bad[][2] = {
		{ "--drive", "" }, { "--drive", "ro" }, { "--drive", "path=" }, { "--drive", "path=a,rw" },
		{ "--drive", "path=a,ro,ro" }, { "--drive", "path=a,path=b" }, { "--drive", "path=a,ro=1" },
		{ "--drive", "path=a,id=" }, { "--drive", "path=a,id=123456789012345678901" },
		{ "--drive", "path=a,id=a b" }, { "--drive", "path=a,,ro" }, { "--drive", "path=a,b,c" },
		{ "--drive", "path=a,id=x,id=y" },
		{ "--net", "" }, { "--net", "tap=" }, { "--net", "mac=02:00:00:00:00:01" },
		{ "--net", "tap=0123456789abcdef" }, { "--net", "tap=a/b" }, { "--net", "tap=a:b" },
		{ "--net", "tap=.." }, { "--net", "tap=t,mac=01:00:00:00:00:01" },
		{ "--net", "tap=t,mac=00:00:00:00:00:00" }, { "--net", "tap=t,mac=02:00:00:00:00" },
		{ "--net", "tap=t,mac=02:00:00:00:00:0g" }, { "--net", "tap=t,mac=02-00-00-00-00-01" },
		{ "--net", "tap=t,mac=02:00:00:00:00:011" }, { "--net", "tap=t,speed=1" },
		{ "--vsock", "" }, { "--vsock", "cid=3" }, { "--vsock", "uds=/v" }, { "--vsock", "cid=2,uds=/v" },
		{ "--vsock", "cid=4294967295,uds=/v" }, { "--vsock", "cid=-3,uds=/v" },
		{ "--vsock", "cid=3,uds=" }, { "--vsock", "cid=3,cid=4,uds=/v" },
		{ "--vsock", "cid=3,uds=/v,port=1" },
	};
	char long_uds[64 + VSOCK_CONFIG_UDS_MAX];
	const char *too_long[] = { "microvm", "--kernel", "k", "--vsock", long_uds };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *argv[] = { "microvm", "--kernel", "k", bad[i][0], bad[i][1] };

		refused(5, argv);
	}
	snprintf(long_uds, sizeof(long_uds), "cid=3,uds=/%0*d", VSOCK_CONFIG_UDS_MAX, 0);
	refused(5, too_long);
}

static void device_limits(void **state)
{
	(void)state;
	struct microvm_config cfg;
	const char *argv[3 + 2 * (DRIVES_MAX + 1)] = { "microvm", "--kernel", "k" };
	const char *twice_net[] = { "microvm", "--kernel", "k", "--net", "tap=a", "--net", "tap=b" };
	const char *twice_vsock[] = { "microvm", "--kernel", "k", "--vsock", "cid=3,uds=/a",
				      "--vsock", "cid=4,uds=/b" };
	const char *same_id[] = { "microvm", "--kernel", "k", "--drive", "path=a,id=drive1",
				  "--drive", "path=b" };
	char uds_arg[64 + VSOCK_CONFIG_UDS_MAX];
	const char *max_uds[] = { "microvm", "--kernel", "k", "--vsock", uds_arg };
	const struct vsock_config *vs;

	for (int i = 0; i <= DRIVES_MAX; i++) {
		argv[3 + 2 * i] = "--drive";
		argv[4 + 2 * i] = "path=disk";
	}
	assert_int_equal(parse(&cfg, 3 + 2 * DRIVES_MAX, argv), CONFIG_OK);
	assert_int_equal(resources_count(&cfg.res, &drive_spec), DRIVES_MAX);
	config_free(&cfg);
	refused(3 + 2 * (DRIVES_MAX + 1), argv);
	refused(7, twice_net);
	refused(7, twice_vsock);
	/* The second drive's default id, drive1, is taken. */
	refused(7, same_id);
	/* The longest socket path, and the largest CID. */
	snprintf(uds_arg, sizeof(uds_arg), "cid=4294967294,uds=/%0*d", VSOCK_CONFIG_UDS_MAX - 1, 0);
	assert_int_equal(parse(&cfg, 5, max_uds), CONFIG_OK);
	vs = device(&cfg, &vsock_spec, 0);
	assert_int_equal(strlen(vs->uds), VSOCK_CONFIG_UDS_MAX);
	assert_int_equal(vs->cid, 4294967294u);
	config_free(&cfg);
}

/*
 * Regression (found by the config fuzz harness): a parse that stopped inside a
 * short-option cluster left getopt there, and the next parse, of another vector,
 * went on with the cluster's next letter.
 */
static void reparse_after_cluster(void **state)
{
	struct microvm_config cfg;
	const char *cluster[] = { "microvm", "-hv" };
	const char *valid[] = { "microvm", "--kernel", "k" };

	(void)state;
	assert_int_equal(parse_quietly(&cfg, 2, cluster), CONFIG_EXIT_HELP);
	assert_int_equal(parse_quietly(&cfg, 2, cluster), CONFIG_EXIT_HELP);
	assert_int_equal(parse_quietly(&cfg, 2, cluster), CONFIG_EXIT_HELP);
	assert_int_equal(parse(&cfg, 3, valid), CONFIG_OK);
	assert_int_equal(cfg.verbosity, 0);
	assert_string_equal(cfg.res.boot.kernel_path, "k");
	config_free(&cfg);
}

/* The resources own their strings: argv may change or go once parsed (an API request's buffer will). */
static void strings_are_owned(void **state)
{
	(void)state;
	struct microvm_config cfg;
	char kernel[] = "vmlinux", spec[] = "path=/d.img,id=root", uds[] = "cid=3,uds=/v.sock";
	const char *argv[] = { "microvm", "--kernel", kernel, "--drive", spec, "--vsock", uds };
	const struct drive_config *drive;
	const struct vsock_config *vs;

	assert_int_equal(parse(&cfg, 7, argv), CONFIG_OK);
	memset(kernel, 'x', sizeof(kernel) - 1);
	memset(spec, 'x', sizeof(spec) - 1);
	memset(uds, 'x', sizeof(uds) - 1);
	drive = device(&cfg, &drive_spec, 0);
	vs = device(&cfg, &vsock_spec, 0);
	assert_string_equal(cfg.res.boot.kernel_path, "vmlinux");
	assert_string_equal(drive->path, "/d.img");
	assert_string_equal(drive->id, "root");
	assert_string_equal(vs->uds, "/v.sock");
	config_free(&cfg);
}

/* What a JSON config file or the API does: one field at a time, each refusal with its rule. */
static void setters_one_field_at_a_time(void **state)
{
	(void)state;
	struct vm_resources res;
	struct drive_config drive = { 0 };
	const struct devspec_field *path = devspec_field(&drive_spec, "path", 4);
	const struct devspec_field *id = devspec_field(&drive_spec, "id", 2);
	struct diag d;

	resources_init(&res);
	assert_int_equal(resources_set_mem_mib(&res, 1, &d), -EINVAL);
	assert_string_equal(d.msg, "expected a size in MiB from 2 to 1048576");
	assert_int_equal(resources_set_vcpus(&res, 65, &d), -EINVAL);
	assert_string_equal(d.msg, "expected a number from 1 to 64");
	assert_int_equal(resources_set_vcpus(&res, 2, &d), 0);
	assert_int_equal(res.machine.vcpus, 2);
	assert_int_equal(resources_set_shutdown_timeout(&res, 0, &d), -EINVAL);
	assert_string_equal(d.msg, "expected a number of seconds from 1 to 3600");
	assert_int_equal(resources_set_shutdown_timeout(&res, 3600, &d), 0);
	assert_int_equal(res.machine.shutdown_timeout_s, 3600);
	assert_int_equal(resources_set_kernel(&res, "/k", &d), 0);
	assert_int_equal(resources_set_kernel(&res, "/k2", &d), 0);
	assert_string_equal(res.boot.kernel_path, "/k2");

	assert_non_null(path);
	assert_non_null(id);
	assert_null(devspec_field(&drive_spec, "pat", 3));
	assert_int_equal(devspec_set(path, &drive, "/a.img", 6, &d), 0);
	assert_int_equal(devspec_set(path, &drive, "/b.img", 6, &d), 0);
	assert_string_equal(drive.path, "/b.img");
	assert_int_equal(devspec_set(path, &drive, "", 0, &d), -EINVAL);
	assert_string_equal(d.msg, "path must not be empty");
	assert_int_equal(devspec_set(id, &drive, "a b", 3, &d), -EINVAL);
	assert_string_equal(d.msg, "id must be 1-20 of A-Z a-z 0-9 . _ -");
	assert_int_equal(devspec_set(id, &drive, "rootfs", 6, &d), 0);
	assert_string_equal(drive.id, "rootfs");
	free(drive.path);
	resources_free(&res);
	assert_null(res.boot.kernel_path);
}

/* The table the jailer reads: getopt_long's matching, and the devices' options from their specs. */
static void option_table(void **state)
{
	(void)state;
	bool abbreviated;
	const struct config_option *o;

	o = config_option_find("kernel", 6, &abbreviated);
	assert_non_null(o);
	assert_false(abbreviated);
	assert_int_equal(o->arg, CONFIG_ARG_FILE);
	o = config_option_find("kern", 4, &abbreviated);
	assert_non_null(o);
	assert_true(abbreviated);
	assert_string_equal(config_option_name(o), "kernel");
	/* --v: --vcpus, --vsock, --verbose, --version. */
	assert_null(config_option_find("v", 1, &abbreviated));
	assert_null(config_option_find("bogus", 5, &abbreviated));
	o = config_option_find("drive", 5, &abbreviated);
	assert_non_null(o);
	assert_ptr_equal(o->device, &drive_spec);
	assert_true(config_option_takes_value(o));
	o = config_option_find("rng", 3, &abbreviated);
	assert_non_null(o);
	assert_false(config_option_takes_value(o));
	assert_ptr_equal(config_option_short('q'), config_option_find("quiet", 5, &abbreviated));
	assert_null(config_option_short('x'));
	/* Every option has a name and --help lines; every device field a rule or is a flag. */
	for (size_t i = 0; i < config_option_count; i++) {
		const struct config_option *opt = &config_options[i];

		assert_non_null(config_option_name(opt));
		assert_non_null(opt->device ? opt->device->usage : opt->usage);
		assert_true(opt->device ? opt->device->max > 0 : opt->apply != NULL);
		for (size_t f = 0; opt->device && f < opt->device->nr_fields; f++)
			assert_true(opt->device->fields[f].type == DEVSPEC_FLAG ||
				    opt->device->fields[f].rule != NULL);
		assert_true(!opt->device || opt->device->nr_fields <= 32);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(defaults),
		cmocka_unit_test(all_options),
		cmocka_unit_test(bad_numbers),
		cmocka_unit_test(usage_errors),
		cmocka_unit_test(devices),
		cmocka_unit_test(no_devices),
		cmocka_unit_test(bad_devices),
		cmocka_unit_test(device_limits),
		cmocka_unit_test(reparse_after_cluster),
		cmocka_unit_test(strings_are_owned),
		cmocka_unit_test(setters_one_field_at_a_time),
		cmocka_unit_test(option_table),
	};

	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
