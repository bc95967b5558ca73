/*
 * Seccomp policy files: one allowlist per thread kind, parsed at build time.
 *
 *   # comment
 *   SYSCALL                          # why it is needed
 *   SYSCALL COND [&& COND]...        # why it is needed
 *   COND := argN == VALUE | argN != VALUE | argN & VALUE == VALUE
 *   VALUE := NUMBER | SYMBOL, joined by '|'
 *
 * Rules for the same syscall are alternatives. Every rule must give its reason.
 */
#ifndef POLICY_POLICY_H
#define POLICY_POLICY_H

#include <stdint.h>
#include <stdio.h>

#include "microvm/compiler.h"
#include "microvm/diag.h"

#define POLICY_MAX_RULES 256
#define POLICY_MAX_CONDS 6
#define POLICY_NAME_MAX 32

enum policy_op { POLICY_EQ, POLICY_NE, POLICY_MASKED_EQ };

struct policy_cond {
	unsigned int arg;   /* 0-5 */
	enum policy_op op;
	uint64_t mask;      /* POLICY_MASKED_EQ only */
	uint64_t value;
};

struct policy_rule {
	char syscall[POLICY_NAME_MAX];
	unsigned int line;
	unsigned int nr_conds;
	struct policy_cond conds[POLICY_MAX_CONDS];
	char text[160];     /* the rule as written, for --print-seccomp */
};

struct policy {
	unsigned int nr_rules;
	struct policy_rule rules[POLICY_MAX_RULES];
};

/* Parses one policy; errors are "file:line: reason". */
MUST_CHECK int policy_parse(FILE *in, const char *file, struct policy *p, struct diag *d);
/* Value of a symbolic constant (KVM_RUN, PROT_EXEC ...); false when unknown. */
bool policy_symbol(const char *name, uint64_t *value);

#endif
