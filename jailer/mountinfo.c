#include "mountinfo.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "microvm/cleanup.h"
#include "microvm/strparse.h"

/*
 * Next space-separated field of *s, NUL-terminated in place; NULL at the end of the line
 * and for an empty field (two spaces), which the kernel never writes.
 */
static char *mountinfo_field(char **s)
{
	char *start = *s, *end;

	if (*start == '\0' || *start == ' ')
		return NULL;
	end = strchr(start, ' ');
	if (end) {
		*end = '\0';
		*s = end + 1;
	} else {
		*s = start + strlen(start);
	}
	return start;
}

static bool mountinfo_id(const char *s, int *out)
{
	uint64_t v;

	if (!s || !parse_decimal_u64(s, 0, INT_MAX, &v))
		return false;
	*out = (int)v;
	return true;
}

/* The kernel writes space, tab, newline and backslash in a path as \ooo: back to bytes, in place. */
static bool mountinfo_unescape(char *s)
{
	char *out = s;

	for (; *s; s++) {
		if (*s != '\\') {
			*out++ = *s;
			continue;
		}
		if (s[1] < '0' || s[1] > '3' || s[2] < '0' || s[2] > '7' || s[3] < '0' || s[3] > '7')
			return false;
		*out = (char)((s[1] - '0') << 6 | (s[2] - '0') << 3 | (s[3] - '0'));
		if (*out++ == '\0')
			return false;
		s += 3;
	}
	*out = '\0';
	return true;
}

/* "ID PARENT MAJ:MIN ROOT POINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER-OPTIONS" */
static int mountinfo_line(char *line, struct mount_entry *e)
{
	char *s = line, *point, *f;
	size_t len;

	if (!mountinfo_id(mountinfo_field(&s), &e->id) || !mountinfo_id(mountinfo_field(&s), &e->parent) ||
	    !mountinfo_field(&s) || !mountinfo_field(&s))
		return -EINVAL;
	point = mountinfo_field(&s);
	if (!point || !mountinfo_field(&s) || !mountinfo_unescape(point) || point[0] != '/')
		return -EINVAL;
	while ((f = mountinfo_field(&s)) && strcmp(f, "-"))
		continue;
	f = mountinfo_field(&s);
	if (!f || (len = strlen(f)) >= sizeof(e->fstype))
		return -EINVAL;
	memcpy(e->fstype, f, len + 1);
	e->point = strdup(point);
	return e->point ? 0 : -ENOMEM;
}

int mountinfo_parse(FILE *in, const char *name, struct mount_table *t, struct diag *d)
{
	cleanup_free char *line = NULL;
	size_t cap = 0, n = 0;
	ssize_t len;

	t->items = NULL;
	t->n = 0;
	while ((len = getline(&line, &cap, in)) > 0) {
		struct mount_entry *grown;
		int ret;

		n++;
		if (line[len - 1] == '\n')
			line[--len] = '\0';
		if (strlen(line) != (size_t)len) {
			mountinfo_free(t);
			return diag_fail(d, "%s:%zu: NUL byte in line", name, n);
		}
		grown = realloc(t->items, (t->n + 1) * sizeof(*t->items));
		if (!grown) {
			mountinfo_free(t);
			return diag_fail_errno(d, -ENOMEM, "%s: out of memory", name);
		}
		t->items = grown;
		ret = mountinfo_line(line, &t->items[t->n]);
		if (ret) {
			mountinfo_free(t);
			return diag_fail_errno(d, ret, "%s:%zu: %s", name, n,
					       ret == -ENOMEM ? "out of memory" : "not a mountinfo line");
		}
		t->n++;
	}
	if (ferror(in)) {
		mountinfo_free(t);
		return diag_fail_errno(d, -EIO, "%s: read error", name);
	}
	return 0;
}

void mountinfo_free(struct mount_table *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->items[i].point);
	free(t->items);
	t->items = NULL;
	t->n = 0;
}

const struct mount_entry *mountinfo_find(const struct mount_table *t, int id)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->items[i].id == id)
			return &t->items[i];
	return NULL;
}

bool mountinfo_below(const struct mount_table *t, int id, int top)
{
	/* At most n steps: a parent loop in hostile input ends the walk. */
	for (size_t steps = 0; steps <= t->n; steps++) {
		const struct mount_entry *e;

		if (id == top)
			return true;
		e = mountinfo_find(t, id);
		if (!e || e->parent == id)
			return false;
		id = e->parent;
	}
	return false;
}
