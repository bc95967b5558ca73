#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"

#define POLICY_LINE_MAX 512

/* One value: NUMBER or SYMBOL, or several joined by '|'. */
static bool policy_value(const char *tok, uint64_t *out)
{
	char buf[POLICY_LINE_MAX];
	char *save = NULL;
	uint64_t v = 0;

	if (strlen(tok) >= sizeof(buf) || *tok == '\0')
		return false;
	strcpy(buf, tok);
	for (char *part = strtok_r(buf, "|", &save); part; part = strtok_r(NULL, "|", &save)) {
		uint64_t pv;

		if (isdigit((unsigned char)*part)) {
			char *end;

			errno = 0;
			pv = strtoull(part, &end, 0);
			if (errno || *end)
				return false;
		} else if (!policy_symbol(part, &pv)) {
			return false;
		}
		v |= pv;
	}
	*out = v;
	return true;
}

static bool policy_arg(const char *tok, unsigned int *arg)
{
	if (strncmp(tok, "arg", 3) != 0 || tok[3] < '0' || tok[3] > '5' || tok[4] != '\0')
		return false;
	*arg = (unsigned int)(tok[3] - '0');
	return true;
}

/* Parses "argN OP VALUE" or "argN & MASK == VALUE" from toks; returns tokens used or 0. */
static unsigned int policy_cond(char **toks, unsigned int n, struct policy_cond *c,
				const char *file, unsigned int line, struct diag *d, int *err)
{
	if (n < 3 || !policy_arg(toks[0], &c->arg)) {
		*err = diag_fail(d, "%s:%u: expected a condition like 'arg1 == KVM_RUN' at '%s'", file,
				 line, n ? toks[0] : "end of line");
		return 0;
	}
	if (strcmp(toks[1], "&") == 0) {
		if (n < 5 || strcmp(toks[3], "==") != 0 || !policy_value(toks[2], &c->mask) ||
		    !policy_value(toks[4], &c->value)) {
			*err = diag_fail(d, "%s:%u: expected 'argN & MASK == VALUE' with known values", file, line);
			return 0;
		}
		if (c->value & ~c->mask) {
			*err = diag_fail(d, "%s:%u: value 0x%llx has bits outside mask 0x%llx: the rule can never match",
					 file, line, (unsigned long long)c->value, (unsigned long long)c->mask);
			return 0;
		}
		c->op = POLICY_MASKED_EQ;
		return 5;
	}
	if (strcmp(toks[1], "==") == 0) {
		c->op = POLICY_EQ;
	} else if (strcmp(toks[1], "!=") == 0) {
		c->op = POLICY_NE;
	} else {
		*err = diag_fail(d, "%s:%u: unknown operator '%s' (use ==, != or & MASK ==)", file, line, toks[1]);
		return 0;
	}
	if (!policy_value(toks[2], &c->value)) {
		*err = diag_fail(d, "%s:%u: unknown value '%s'", file, line, toks[2]);
		return 0;
	}
	return 3;
}

static int policy_parse_rule(char *text, const char *reason, const char *file, unsigned int line,
			     struct policy_rule *r, struct diag *d)
{
	char *toks[64];
	unsigned int n = 0, i;
	char *save = NULL;
	int err = 0;

	memset(r, 0, sizeof(*r));
	r->line = line;
	snprintf(r->text, sizeof(r->text), "%s", text);
	for (char *t = strtok_r(text, " \t", &save); t; t = strtok_r(NULL, " \t", &save)) {
		if (n == ARRAY_SIZE(toks))
			return diag_fail(d, "%s:%u: too many words", file, line);
		toks[n++] = t;
	}
	if (!*reason)
		return diag_fail(d, "%s:%u: rule '%s' has no '# reason' comment", file, line, toks[0]);
	for (const char *c = toks[0]; *c; c++)
		if (!(islower((unsigned char)*c) || isdigit((unsigned char)*c) || *c == '_'))
			return diag_fail(d, "%s:%u: '%s' is not a syscall name", file, line, toks[0]);
	if (strlen(toks[0]) >= sizeof(r->syscall))
		return diag_fail(d, "%s:%u: syscall name too long", file, line);
	strcpy(r->syscall, toks[0]);
	for (i = 1; i < n;) {
		unsigned int used;

		if (r->nr_conds == POLICY_MAX_CONDS)
			return diag_fail(d, "%s:%u: more than %d conditions", file, line, POLICY_MAX_CONDS);
		used = policy_cond(toks + i, n - i, &r->conds[r->nr_conds], file, line, d, &err);
		if (!used)
			return err;
		for (unsigned int j = 0; j < r->nr_conds; j++)
			if (r->conds[j].arg == r->conds[r->nr_conds].arg)
				return diag_fail(d, "%s:%u: arg%u is tested twice in one rule", file, line,
						 r->conds[j].arg);
		r->nr_conds++;
		i += used;
		if (i < n) {
			if (strcmp(toks[i], "&&") != 0 || i + 1 == n)
				return diag_fail(d, "%s:%u: expected '&&' between conditions at '%s'", file, line, toks[i]);
			i++;
		}
	}
	return 0;
}

int policy_parse(FILE *in, const char *file, struct policy *p, struct diag *d)
{
	char *buf = NULL;
	size_t cap = 0;
	ssize_t len;
	unsigned int line = 0;
	int ret = 0;

	memset(p, 0, sizeof(*p));
	while ((len = getline(&buf, &cap, in)) >= 0) {
		char *hash, *text, *reason, *end;

		line++;
		if (len > POLICY_LINE_MAX) {
			ret = diag_fail(d, "%s:%u: line longer than %d bytes", file, line, POLICY_LINE_MAX);
			break;
		}
		if (strlen(buf) != (size_t)len) {
			ret = diag_fail(d, "%s:%u: NUL byte in line", file, line);
			break;
		}
		buf[strcspn(buf, "\n")] = '\0';
		hash = strchr(buf, '#');
		reason = "";
		if (hash) {
			*hash = '\0';
			reason = hash + 1;
			while (isspace((unsigned char)*reason))
				reason++;
		}
		text = buf;
		while (isspace((unsigned char)*text))
			text++;
		end = text + strlen(text);
		while (end > text && isspace((unsigned char)end[-1]))
			*--end = '\0';
		if (!*text)
			continue;
		if (p->nr_rules == POLICY_MAX_RULES) {
			ret = diag_fail(d, "%s:%u: more than %d rules", file, line, POLICY_MAX_RULES);
			break;
		}
		ret = policy_parse_rule(text, reason, file, line, &p->rules[p->nr_rules], d);
		if (ret)
			break;
		p->nr_rules++;
	}
	free(buf);
	if (ret)
		return ret;
	if (ferror(in))
		return diag_fail_errno(d, -EIO, "%s: read error", file);
	if (p->nr_rules == 0)
		return diag_fail(d, "%s:%u: no rules: an empty allowlist kills the thread at once", file, line);
	return 0;
}
