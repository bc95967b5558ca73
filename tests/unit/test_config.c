/* The VMM's command line: defaults, strict numbers, usage errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "microvm/config.h"

static enum config_result parse(struct microvm_config *cfg, int argc, const char **argv)
{
	return config_parse(cfg, argc, (char **)(uintptr_t)argv);
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
	assert_int_equal(parse(&cfg, 2, help), CONFIG_EXIT_HELP);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(defaults),
		cmocka_unit_test(all_options),
		cmocka_unit_test(bad_numbers),
		cmocka_unit_test(usage_errors),
	};

	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
