/* The VMM's command line: defaults, strict numbers, usage errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <cmocka.h>

#include "microvm/config.h"

static enum config_result parse(struct microvm_config *cfg, int argc, const char **argv)
{
	return config_parse(cfg, argc, (char **)(uintptr_t)argv);
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

static void defaults(void **state)
{
	(void)state;
	struct microvm_config cfg;
	const char *argv[] = { "microvm", "--kernel", "k" };

	assert_int_equal(parse(&cfg, 3, argv), CONFIG_OK);
	assert_string_equal(cfg.kernel_path, "k");
	assert_null(cfg.initrd_path);
	assert_int_equal(cfg.mem_mib, 128);
	assert_int_equal(cfg.vcpus, 1);
	assert_non_null(strstr(cfg.cmdline, "console=ttyS0"));
	assert_non_null(strstr(cfg.cmdline, "reboot=k"));
	assert_non_null(strstr(cfg.cmdline, "panic=1"));
	assert_false(cfg.check_only);
	assert_int_equal(cfg.pvm, PVM_AUTO);
}

static void all_options(void **state)
{
	(void)state;
	struct microvm_config cfg;
	const char *argv[] = { "microvm", "--kernel", "k", "--initrd", "i", "--cmdline", "x y",
			       "--mem", "512", "--vcpus", "4", "--check", "--no-pvm", "-v" };

	assert_int_equal(parse(&cfg, 14, argv), CONFIG_OK);
	assert_string_equal(cfg.initrd_path, "i");
	assert_string_equal(cfg.cmdline, "x y");
	assert_int_equal(cfg.mem_mib, 512);
	assert_int_equal(cfg.vcpus, 4);
	assert_true(cfg.check_only);
	assert_int_equal(cfg.pvm, PVM_OFF);
	assert_int_equal(cfg.verbosity, 1);
}

static void bad_numbers(void **state)
{
	(void)state;
	struct microvm_config cfg;
	const char *bad[][2] = {
		{ "--mem", "0" }, { "--mem", "-1" }, { "--mem", "12x" }, { "--mem", "" },
		{ "--mem", "99999999999999999999" }, { "--mem", "1048577" }, { "--vcpus", "0" },
		{ "--vcpus", "10000" }, { "--vcpus", "+2" }, { "--vcpus", " 2" },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *argv[] = { "microvm", "--kernel", "k", bad[i][0], bad[i][1] };

		assert_int_equal(parse(&cfg, 5, argv), CONFIG_EXIT_USAGE);
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
	const char *help[] = { "microvm", "--help" };

	assert_int_equal(parse(&cfg, 4, unknown), CONFIG_EXIT_USAGE);
	assert_int_equal(parse(&cfg, 2, missing_arg), CONFIG_EXIT_USAGE);
	assert_int_equal(parse(&cfg, 1, no_kernel), CONFIG_EXIT_USAGE);
	assert_int_equal(parse(&cfg, 4, stray), CONFIG_EXIT_USAGE);
	assert_int_equal(parse_quietly(&cfg, 2, help), CONFIG_EXIT_HELP);
}

static void devices(void **state)
{
	(void)state;
	struct microvm_config cfg;
	const char *argv[] = { "microvm", "--kernel", "k", "--drive", "path=/a/disk.img",
			       "--drive", "id=root_2,ro,path=b", "--net", "tap=tap0,mac=02:AB:cd:00:00:01",
			       "--rng", "--vsock", "uds=/tmp/v.sock,cid=3", "--drive", "path=x,id=drive2" };

	assert_int_equal(parse(&cfg, 14, argv), CONFIG_OK);
	assert_int_equal(cfg.nr_drives, 3);
	assert_int_equal(cfg.drives[0].path_len, strlen("/a/disk.img"));
	assert_memory_equal(cfg.drives[0].path, "/a/disk.img", cfg.drives[0].path_len);
	assert_false(cfg.drives[0].read_only);
	assert_string_equal(cfg.drives[0].id, "drive0");
	assert_int_equal(cfg.drives[1].path_len, 1);
	assert_true(cfg.drives[1].read_only);
	assert_string_equal(cfg.drives[1].id, "root_2");
	assert_string_equal(cfg.drives[2].id, "drive2");
	assert_true(cfg.net.enabled);
	assert_string_equal(cfg.net.tap, "tap0");
	assert_true(cfg.net.has_mac);
	assert_memory_equal(cfg.net.mac, "\x02\xab\xcd\x00\x00\x01", 6);
	assert_true(cfg.rng);
	assert_true(cfg.vsock.enabled);
	assert_int_equal(cfg.vsock.cid, 3);
	assert_string_equal(cfg.vsock.uds, "/tmp/v.sock");
}

static void no_devices(void **state)
{
	(void)state;
	struct microvm_config cfg;
	const char *argv[] = { "microvm", "--kernel", "k" };

	assert_int_equal(parse(&cfg, 3, argv), CONFIG_OK);
	assert_int_equal(cfg.nr_drives, 0);
	assert_false(cfg.net.enabled);
	assert_false(cfg.rng);
	assert_false(cfg.vsock.enabled);
}

static void bad_devices(void **state)
{
	(void)state;
	struct microvm_config cfg;
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
	char long_uds[64 + CONFIG_UDS_PATH_MAX];
	const char *too_long[] = { "microvm", "--kernel", "k", "--vsock", long_uds };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *argv[] = { "microvm", "--kernel", "k", bad[i][0], bad[i][1] };

		if (parse(&cfg, 5, argv) != CONFIG_EXIT_USAGE)
			fail_msg("%s '%s' was accepted", bad[i][0], bad[i][1]);
	}
	snprintf(long_uds, sizeof(long_uds), "cid=3,uds=/%0*d", CONFIG_UDS_PATH_MAX, 0);
	assert_int_equal(parse(&cfg, 5, too_long), CONFIG_EXIT_USAGE);
}

static void device_limits(void **state)
{
	(void)state;
	struct microvm_config cfg;
	const char *argv[3 + 2 * (CONFIG_MAX_DRIVES + 1)] = { "microvm", "--kernel", "k" };
	const char *twice_net[] = { "microvm", "--kernel", "k", "--net", "tap=a", "--net", "tap=b" };
	const char *twice_vsock[] = { "microvm", "--kernel", "k", "--vsock", "cid=3,uds=/a",
				      "--vsock", "cid=4,uds=/b" };
	const char *same_id[] = { "microvm", "--kernel", "k", "--drive", "path=a,id=drive1",
				  "--drive", "path=b" };
	char uds_arg[64 + CONFIG_UDS_PATH_MAX];
	const char *max_uds[] = { "microvm", "--kernel", "k", "--vsock", uds_arg };

	for (int i = 0; i <= CONFIG_MAX_DRIVES; i++) {
		argv[3 + 2 * i] = "--drive";
		argv[4 + 2 * i] = "path=disk";
	}
	assert_int_equal(parse(&cfg, 3 + 2 * CONFIG_MAX_DRIVES, argv), CONFIG_OK);
	assert_int_equal(cfg.nr_drives, CONFIG_MAX_DRIVES);
	assert_int_equal(parse(&cfg, 3 + 2 * (CONFIG_MAX_DRIVES + 1), argv), CONFIG_EXIT_USAGE);
	assert_int_equal(parse(&cfg, 7, twice_net), CONFIG_EXIT_USAGE);
	assert_int_equal(parse(&cfg, 7, twice_vsock), CONFIG_EXIT_USAGE);
	/* The second drive's default id, drive1, is taken. */
	assert_int_equal(parse(&cfg, 7, same_id), CONFIG_EXIT_USAGE);
	/* The longest socket path, and the largest CID. */
	snprintf(uds_arg, sizeof(uds_arg), "cid=4294967294,uds=/%0*d", CONFIG_UDS_PATH_MAX - 1, 0);
	assert_int_equal(parse(&cfg, 5, max_uds), CONFIG_OK);
	assert_int_equal(strlen(cfg.vsock.uds), CONFIG_UDS_PATH_MAX);
	assert_int_equal(cfg.vsock.cid, 4294967294u);
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
	assert_string_equal(cfg.kernel_path, "k");
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
	};

	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
