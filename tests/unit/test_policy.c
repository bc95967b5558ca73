/* The policy parser: valid fixtures and one invalid fixture per error, fed as strings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <cmocka.h>
#include <linux/kvm.h>

#include "policy.h"

static struct policy p;

static int parse(const char *text, struct diag *d)
{
	FILE *f = fmemopen((void *)(uintptr_t)text, strlen(text), "r");
	int ret;

	assert_non_null(f);
	ret = policy_parse(f, "test.policy", &p, d);
	fclose(f);
	return ret;
}

static void valid_rules(void **state)
{
	(void)state;
	struct diag d;

	assert_int_equal(parse("# header\n\n"
			       "read                       # stdin\n"
			       "ioctl arg1 == KVM_RUN      # run\n"
			       "mmap arg2 & PROT_EXEC == 0 && arg3 != 0x22 # no exec\n"
			       "fcntl arg1 == F_SETFL && arg2 == O_NONBLOCK|O_RDWR # flags\n",
			       &d), 0);
	assert_int_equal(p.nr_rules, 4);
	assert_string_equal(p.rules[0].syscall, "read");
	assert_int_equal(p.rules[0].nr_conds, 0);
	assert_int_equal(p.rules[1].line, 4);
	assert_int_equal(p.rules[1].conds[0].arg, 1);
	assert_int_equal(p.rules[1].conds[0].op, POLICY_EQ);
	assert_int_equal(p.rules[1].conds[0].value, KVM_RUN);
	assert_int_equal(p.rules[2].nr_conds, 2);
	assert_int_equal(p.rules[2].conds[0].op, POLICY_MASKED_EQ);
	assert_int_equal(p.rules[2].conds[0].mask, PROT_EXEC);
	assert_int_equal(p.rules[2].conds[1].op, POLICY_NE);
	assert_int_equal(p.rules[2].conds[1].value, 0x22);
	assert_int_equal(p.rules[3].conds[1].value, 04000 | 02);
	assert_string_equal(p.rules[1].text, "ioctl arg1 == KVM_RUN");
}

static void invalid_rules(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		const char *error;
	} cases[] = {
		{ "read\n", "test.policy:1: rule 'read' has no '# reason'" },
		{ "# only\n", "test.policy:1: no rules" },
		{ "Read # x\n", "test.policy:1: 'Read' is not a syscall name" },
		{ "ioctl arg7 == 1 # x\n", "test.policy:1: expected a condition" },
		{ "ioctl arg1 < 1 # x\n", "test.policy:1: unknown operator '<'" },
		{ "ioctl arg1 == NOT_A_SYMBOL # x\n", "test.policy:1: unknown value 'NOT_A_SYMBOL'" },
		{ "ioctl arg1 == 0x1z # x\n", "unknown value" },
		{ "ioctl arg1 == 1 arg2 == 2 # x\n", "expected '&&'" },
		{ "ioctl arg1 == 1 && # x\n", "expected '&&'" },
		{ "ioctl arg1 == 1 && arg1 == 2 # x\n", "arg1 is tested twice" },
		{ "mmap arg2 & 1 == 2 # x\n", "bits outside mask" },
		{ "mmap arg2 & 1 # x\n", "expected 'argN & MASK == VALUE'" },
		{ "read # a\nwrite\n", "test.policy:2:" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct diag d;

		assert_int_not_equal(parse(cases[i].text, &d), 0);
		if (!strstr(d.msg, cases[i].error))
			fail_msg("case %zu: expected '%s' in '%s'", i, cases[i].error, d.msg);
	}
}

static void long_line_and_nul_rejected(void **state)
{
	(void)state;
	char text[700];
	struct diag d;
	FILE *f;

	memset(text, 'a', sizeof(text) - 2);
	text[sizeof(text) - 2] = '\n';
	text[sizeof(text) - 1] = '\0';
	assert_int_not_equal(parse(text, &d), 0);
	assert_non_null(strstr(d.msg, "longer than"));

	f = fmemopen((void *)(uintptr_t)"read\0x # y\n", 11, "r");
	assert_int_not_equal(policy_parse(f, "test.policy", &p, &d), 0);
	assert_non_null(strstr(d.msg, "NUL byte"));
	fclose(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(valid_rules),
		cmocka_unit_test(invalid_rules),
		cmocka_unit_test(long_line_and_nul_rejected),
	};

	return cmocka_run_group_tests_name("policy", tests, NULL, NULL);
}
