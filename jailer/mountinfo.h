/*
 * /proc/PID/mountinfo, parsed: which mounts a namespace holds, and how they nest. The
 * kernel writes it, but any user can choose a mount point's name, so it is parsed as
 * untrusted text.
 */
#ifndef JAILER_MOUNTINFO_H
#define JAILER_MOUNTINFO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "microvm/compiler.h"
#include "microvm/diag.h"

struct mount_entry {
	int id;
	int parent;      /* its own id for the namespace's first mount */
	char *point;     /* the mount point, unescaped, as seen from the reader's root */
	char fstype[32];
};

struct mount_table {
	struct mount_entry *items;
	size_t n;
};

/* Reads every line of in (name for messages) into t; on failure t holds nothing. */
MUST_CHECK int mountinfo_parse(FILE *in, const char *name, struct mount_table *t, struct diag *d);
void mountinfo_free(struct mount_table *t);
/* The entry with this mount id, or NULL. */
const struct mount_entry *mountinfo_find(const struct mount_table *t, int id);
/* True when mount id is top or lies below it, following parents. */
bool mountinfo_below(const struct mount_table *t, int id, int top);

#endif
