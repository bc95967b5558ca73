/*
 * The build-time policy compiler: policy files in, BPF out, through
 * libseccomp. Emits C (embedded in microvm) or the binary filter file that
 * `microvm --seccomp-policy FILE` loads.
 *
 *   seccomp-compile [--extra FILE]... (--c OUT.c | --binary OUT.bin) KIND=FILE...
 */
#include <errno.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "microvm/seccomp_filters.h"
#include "policy.h"
#include "sandbox/filter_file.h"

#define MAX_KINDS SECCOMP_FILE_MAX_FILTERS
#define MAX_EXTRA 4
#define SYSCALL_NAME_MAX_NR 512

struct compiled {
	const char *kind;
	const char *file;
	struct policy policy;
	int nrs[POLICY_MAX_RULES];
	struct sock_filter *insns;
	size_t len;
	size_t nr_syscalls;
};

static void fail(const char *msg)
{
	fprintf(stderr, "seccomp-compile: %s\n", msg);
	exit(1);
}

static bool same_rule(const struct policy_rule *a, const struct policy_rule *b)
{
	if (strcmp(a->syscall, b->syscall) != 0 || a->nr_conds != b->nr_conds)
		return false;
	for (unsigned int i = 0; i < a->nr_conds; i++)
		if (memcmp(&a->conds[i], &b->conds[i], sizeof(a->conds[i])) != 0)
			return false;
	return true;
}

/* Appends FILE's rules; an extra file's rule the thread's own policy already has is skipped. */
static void parse_into(const char *file, struct policy *p, bool extra_file)
{
	static struct policy extra;
	struct diag d;
	FILE *f = fopen(file, "r");

	if (!f) {
		fprintf(stderr, "%s: cannot open: %s\n", file, strerror(errno));
		exit(1);
	}
	if (policy_parse(f, file, &extra, &d))
		fail(d.msg);
	fclose(f);
	for (unsigned int i = 0; i < extra.nr_rules; i++) {
		const struct policy_rule *r = &extra.rules[i];
		bool known = false;

		for (unsigned int j = 0; extra_file && j < p->nr_rules;) {
			known = known || same_rule(r, &p->rules[j]);
			/* An extra file's unconditional rule replaces the thread's conditional ones. */
			if (r->nr_conds == 0 && p->rules[j].nr_conds > 0 && strcmp(r->syscall, p->rules[j].syscall) == 0)
				p->rules[j] = p->rules[--p->nr_rules];
			else
				j++;
		}
		if (known)
			continue;
		if (p->nr_rules == POLICY_MAX_RULES)
			fail("too many rules in total");
		p->rules[p->nr_rules++] = *r;
	}
}

static void compile_one(struct compiled *c)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_TRAP);
	char msg[512];
	long size = 0;
	int fd;

	if (!ctx || seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS))
		fail("libseccomp initialisation failed");
	for (unsigned int i = 0; i < c->policy.nr_rules; i++) {
		const struct policy_rule *r = &c->policy.rules[i];
		struct scmp_arg_cmp cmp[POLICY_MAX_CONDS];
		int ret;

		c->nrs[i] = seccomp_syscall_resolve_name(r->syscall);
		if (c->nrs[i] == __NR_SCMP_ERROR) {
			snprintf(msg, sizeof(msg), "%s:%u: unknown syscall '%s'", c->file, r->line, r->syscall);
			fail(msg);
		}
		for (unsigned int j = 0; j < c->policy.nr_rules; j++) {
			const struct policy_rule *o = &c->policy.rules[j];

			/* An unconditional rule allows everything the other rules for that syscall do. */
			if (j != i && o->nr_conds == 0 && r->nr_conds > 0 && strcmp(o->syscall, r->syscall) == 0) {
				snprintf(msg, sizeof(msg), "%s:%u: redundant: line %u allows %s unconditionally",
					 c->file, r->line, o->line, r->syscall);
				fail(msg);
			}
			if (j < i && same_rule(r, o)) {
				snprintf(msg, sizeof(msg), "%s:%u: repeats the rule on line %u", c->file,
					 r->line, o->line);
				fail(msg);
			}
		}
		for (unsigned int j = 0; j < r->nr_conds; j++) {
			const struct policy_cond *pc = &r->conds[j];

			cmp[j] = (struct scmp_arg_cmp){
				.arg = pc->arg,
				.op = pc->op == POLICY_EQ ? SCMP_CMP_EQ :
				      pc->op == POLICY_NE ? SCMP_CMP_NE : SCMP_CMP_MASKED_EQ,
				.datum_a = pc->op == POLICY_MASKED_EQ ? pc->mask : pc->value,
				.datum_b = pc->op == POLICY_MASKED_EQ ? pc->value : 0,
			};
		}
		ret = seccomp_rule_add_exact_array(ctx, SCMP_ACT_ALLOW, c->nrs[i], r->nr_conds, cmp);
		if (ret) {
			snprintf(msg, sizeof(msg), "%s:%u: libseccomp rejects the rule: %s", c->file,
				 r->line, strerror(-ret));
			fail(msg);
		}
	}
	for (unsigned int i = 0; i < c->policy.nr_rules; i++) {
		bool first = true;

		for (unsigned int j = 0; j < i; j++)
			first = first && c->nrs[j] != c->nrs[i];
		c->nr_syscalls += first;
	}

	fd = memfd_create("bpf", MFD_CLOEXEC);
	if (fd < 0 || seccomp_export_bpf(ctx, fd) || (size = lseek(fd, 0, SEEK_END)) <= 0 ||
	    size % (long)sizeof(struct sock_filter) || lseek(fd, 0, SEEK_SET) != 0)
		fail("exporting BPF failed");
	c->len = (size_t)size / sizeof(struct sock_filter);
	if (c->len > SECCOMP_FILE_MAX_INSNS)
		fail("filter longer than the kernel's BPF_MAXINSNS");
	c->insns = malloc((size_t)size);
	if (!c->insns || read(fd, c->insns, (size_t)size) != size)
		fail("reading BPF back failed");
	close(fd);
	seccomp_release(ctx);
}

static void c_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', out);
		fputc(*s, out);
	}
	fputc('"', out);
}

static void emit_c(FILE *out, struct compiled *cs, size_t n)
{
	fprintf(out, "/* Generated by policy/compile.c from the policy files. Do not edit. */\n");
	fprintf(out, "#include \"microvm/seccomp_filters.h\"\n\n");
	for (size_t k = 0; k < n; k++) {
		const struct compiled *c = &cs[k];

		fprintf(out, "static const struct sock_filter insns_%s[] = {\n", c->kind);
		for (size_t i = 0; i < c->len; i++)
			fprintf(out, "\t{ 0x%04x, %u, %u, 0x%08x },\n", c->insns[i].code, c->insns[i].jt,
				c->insns[i].jf, c->insns[i].k);
		fprintf(out, "};\n\nstatic const struct seccomp_rule_info rules_%s[] = {\n", c->kind);
		for (unsigned int i = 0; i < c->policy.nr_rules; i++) {
			const struct policy_rule *r = &c->policy.rules[i];

			fprintf(out, "\t{ \"%s\", %d, ", r->syscall, c->nrs[i]);
			c_string(out, r->text);
			fprintf(out, ", %u, {", r->nr_conds);
			for (unsigned int j = 0; j < r->nr_conds; j++)
				fprintf(out, " { %u, %d, 0x%llxULL, 0x%llxULL },", r->conds[j].arg,
					r->conds[j].op == POLICY_EQ ? SECCOMP_COND_EQ :
					r->conds[j].op == POLICY_NE ? SECCOMP_COND_NE : SECCOMP_COND_MASKED_EQ,
					(unsigned long long)r->conds[j].mask,
					(unsigned long long)r->conds[j].value);
			fprintf(out, " } },\n");
		}
		fprintf(out, "};\n\n");
	}
	fprintf(out, "const struct seccomp_filter_def seccomp_builtin_filters[] = {\n");
	for (size_t k = 0; k < n; k++)
		fprintf(out, "\t{ \"%s\", insns_%s, %zu, rules_%s, %u, %zu },\n", cs[k].kind, cs[k].kind,
			cs[k].len, cs[k].kind, cs[k].policy.nr_rules, cs[k].nr_syscalls);
	fprintf(out, "};\nconst size_t seccomp_builtin_filter_count = %zu;\n\n", n);
	fprintf(out, "const char *const seccomp_syscall_names[] = {\n");
	for (int nr = 0; nr < SYSCALL_NAME_MAX_NR; nr++) {
		char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);

		fprintf(out, "\t\"%s\",\n", name ? name : "?");
		free(name);
	}
	fprintf(out, "};\nconst size_t seccomp_syscall_name_count = %d;\n", SYSCALL_NAME_MAX_NR);
}

static void emit_binary(FILE *out, struct compiled *cs, size_t n)
{
	struct seccomp_file_header h = { .version = SECCOMP_FILE_VERSION, .count = (uint32_t)n };

	memcpy(h.magic, SECCOMP_FILE_MAGIC, sizeof(h.magic));
	fwrite(&h, sizeof(h), 1, out);
	for (size_t k = 0; k < n; k++) {
		struct seccomp_file_entry e = { .nr_insns = (uint32_t)cs[k].len };

		snprintf(e.thread, sizeof(e.thread), "%s", cs[k].kind);
		fwrite(&e, sizeof(e), 1, out);
		fwrite(cs[k].insns, sizeof(struct sock_filter), cs[k].len, out);
	}
}

int main(int argc, char **argv)
{
	static struct compiled cs[MAX_KINDS];
	const char *extra[MAX_EXTRA], *c_out = NULL, *bin_out = NULL;
	size_t n = 0, nextra = 0;
	FILE *out;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--extra") == 0 && i + 1 < argc && nextra < MAX_EXTRA) {
			extra[nextra++] = argv[++i];
		} else if (strcmp(argv[i], "--c") == 0 && i + 1 < argc) {
			c_out = argv[++i];
		} else if (strcmp(argv[i], "--binary") == 0 && i + 1 < argc) {
			bin_out = argv[++i];
		} else if (strchr(argv[i], '=') && n < MAX_KINDS) {
			char *eq = strchr(argv[i], '=');

			*eq = '\0';
			if (strlen(argv[i]) >= sizeof(((struct seccomp_file_entry *)0)->thread))
				fail("thread kind name too long");
			cs[n].kind = argv[i];
			cs[n].file = eq + 1;
			n++;
		} else {
			fail("usage: seccomp-compile [--extra FILE]... (--c OUT.c | --binary OUT.bin) KIND=FILE...");
		}
	}
	if (n == 0 || (!c_out == !bin_out))
		fail("usage: seccomp-compile [--extra FILE]... (--c OUT.c | --binary OUT.bin) KIND=FILE...");
	for (size_t k = 0; k < n; k++) {
		parse_into(cs[k].file, &cs[k].policy, false);
		for (size_t e = 0; e < nextra; e++)
			parse_into(extra[e], &cs[k].policy, true);
		compile_one(&cs[k]);
	}
	out = fopen(c_out ? c_out : bin_out, c_out ? "w" : "wb");
	if (!out)
		fail("cannot open the output file");
	if (c_out)
		emit_c(out, cs, n);
	else
		emit_binary(out, cs, n);
	if (fclose(out) != 0)
		fail("writing the output failed");
	return 0;
}
