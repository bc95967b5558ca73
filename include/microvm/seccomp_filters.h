/* The shape of the seccomp filters policy/compile.c generates at build time. */
#ifndef MICROVM_SECCOMP_FILTERS_H
#define MICROVM_SECCOMP_FILTERS_H

#include <linux/filter.h>
#include <stddef.h>
#include <stdint.h>

enum seccomp_cond_op { SECCOMP_COND_EQ, SECCOMP_COND_NE, SECCOMP_COND_MASKED_EQ };

struct seccomp_cond_info {
	uint8_t arg;
	uint8_t op;          /* enum seccomp_cond_op */
	uint64_t mask;
	uint64_t value;
};

/* One allow rule as the policy wrote it, for --print-seccomp and the rule tests. */
struct seccomp_rule_info {
	const char *syscall;
	int nr;
	const char *text;
	unsigned int nr_conds;
	struct seccomp_cond_info conds[6];
};

struct seccomp_filter_def {
	const char *thread;  /* thread kind: "vmm", "vcpu" ... */
	const struct sock_filter *insns;
	size_t len;
	const struct seccomp_rule_info *rules;
	size_t nr_rules;
	size_t nr_syscalls;  /* distinct syscalls allowed */
};

extern const struct seccomp_filter_def seccomp_builtin_filters[];
extern const size_t seccomp_builtin_filter_count;
/* Syscall names by number, for the SIGSYS handler (no libseccomp at run time). */
extern const char *const seccomp_syscall_names[];
extern const size_t seccomp_syscall_name_count;

#endif
