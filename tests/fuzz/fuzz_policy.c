/*
 * The seccomp policy parser (policy/parse.c), on any bytes as a policy file:
 * it accepts or gives a "file:line: reason", and an accepted policy holds
 * only rules it could compile (a syscall name, at most 6 conditions on
 * distinct arguments 0-5, masked values inside their masks).
 */
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct policy p;
	struct diag d = { "" };
	FILE *in = fmemopen((void *)(uintptr_t)data, size, "r");

	if (!in)
		return 0;
	if (policy_parse(in, "fuzz.policy", &p, &d) != 0) {
		FUZZ_CHECK(strncmp(d.msg, "fuzz.policy", 11) == 0);
		fclose(in);
		return 0;
	}
	fclose(in);
	FUZZ_CHECK(p.nr_rules >= 1 && p.nr_rules <= POLICY_MAX_RULES);
	for (unsigned int i = 0; i < p.nr_rules; i++) {
		const struct policy_rule *r = &p.rules[i];

		FUZZ_CHECK(r->syscall[0] != '\0' && r->nr_conds <= POLICY_MAX_CONDS);
		for (unsigned int c = 0; c < r->nr_conds; c++) {
			FUZZ_CHECK(r->conds[c].arg <= 5);
			FUZZ_CHECK(r->conds[c].op != POLICY_MASKED_EQ || (r->conds[c].value & ~r->conds[c].mask) == 0);
			for (unsigned int o = 0; o < c; o++)
				FUZZ_CHECK(r->conds[o].arg != r->conds[c].arg);
		}
	}
	return 0;
}
