#include "vmmargs.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "microvm/compiler.h"

enum vmm_value {
	VMM_VALUE_NONE,  /* a flag */
	VMM_VALUE_PLAIN, /* a value that names no file */
	VMM_VALUE_FILE,  /* the value is a path */
	VMM_VALUE_DRIVE, /* the value's path= key is a path */
};

struct vmm_option {
	const char *name;
	enum vmm_value value;
	enum vmm_file_role role;
};

/*
 * The VMM's long options (src/config.c) as far as the jailer must know them: which take
 * a value, so that a value is never mistaken for an option, and which values are paths.
 * An option missing here is passed through as a flag.
 */
static const struct vmm_option vmm_options[] = {
	{ .name = "kernel", .value = VMM_VALUE_FILE, .role = VMM_FILE_KERNEL },
	{ .name = "initrd", .value = VMM_VALUE_FILE, .role = VMM_FILE_INITRD },
	{ .name = "drive", .value = VMM_VALUE_DRIVE, .role = VMM_FILE_DISK },
	{ .name = "cmdline", .value = VMM_VALUE_PLAIN },
	{ .name = "mem", .value = VMM_VALUE_PLAIN },
	{ .name = "vcpus", .value = VMM_VALUE_PLAIN },
};

/* getopt_long's matching: an exact name, else the one option the name abbreviates. */
static const struct vmm_option *vmmargs_lookup(const char *name, size_t len, bool *abbreviated)
{
	const struct vmm_option *found = NULL;
	size_t matches = 0;

	for (size_t i = 0; i < ARRAY_SIZE(vmm_options); i++) {
		if (strncmp(vmm_options[i].name, name, len))
			continue;
		if (strlen(vmm_options[i].name) == len) {
			*abbreviated = false;
			return &vmm_options[i];
		}
		found = &vmm_options[i];
		matches++;
	}
	*abbreviated = true;
	return matches == 1 ? found : NULL;
}

static int vmmargs_add(struct vmm_file_ref *refs, size_t max, size_t *n, int argi, size_t off,
		       size_t len, bool read_only, const struct vmm_option *o, struct diag *d)
{
	if (*n == max)
		return diag_fail(d, "VMM arguments: more than %zu files", max);
	refs[(*n)++] = (struct vmm_file_ref){
		.argi = argi, .off = off, .len = len, .role = o->role, .option = o->name,
		.read_only = read_only,
	};
	return 0;
}

/*
 * The path= key of a drive spec "KEY=VALUE,KEY=VALUE": exactly one, non-empty; and whether
 * the spec has the "ro" flag, which the jail's mount must honour too.
 */
static int vmmargs_drive_path(const char *spec, size_t *off, size_t *len, bool *read_only,
			      struct diag *d)
{
	const char *p = spec;
	bool found = false;

	*off = *len = 0;
	*read_only = false;
	while (true) {
		size_t field = strcspn(p, ",");

		if (field == 2 && !strncmp(p, "ro", 2))
			*read_only = true;
		if (field >= 5 && !strncmp(p, "path=", 5)) {
			if (found)
				return diag_fail(d, "VMM argument --drive '%s': more than one path=", spec);
			found = true;
			*off = (size_t)(p - spec) + 5;
			*len = field - 5;
		}
		if (p[field] == '\0')
			break;
		p += field + 1;
	}
	if (!found || *len == 0)
		return diag_fail(d, "VMM argument --drive '%s': expected path=FILE", spec);
	return 0;
}

int vmmargs_scan(int argc, char *const *argv, struct vmm_file_ref *refs, size_t max, size_t *n,
		 struct diag *d)
{
	*n = 0;
	for (int i = 0; i < argc; i++) {
		const char *arg = argv[i], *name, *eq;
		const struct vmm_option *o;
		size_t name_len, off, len;
		bool abbreviated, read_only = false;
		int vi, ret;

		/* The VMM's getopt stops at "--" and, being in '+' mode, at the first non-option. */
		if (!strcmp(arg, "--") || arg[0] != '-' || arg[1] == '\0')
			break;
		if (arg[1] != '-')
			continue;
		name = arg + 2;
		eq = strchr(name, '=');
		name_len = eq ? (size_t)(eq - name) : strlen(name);
		o = vmmargs_lookup(name, name_len, &abbreviated);
		if (!o || o->value == VMM_VALUE_NONE)
			continue;
		if (abbreviated && o->value != VMM_VALUE_PLAIN)
			return diag_fail(d, "VMM argument '%s': write --%s in full, so the jailer can find "
					 "the file it names", arg, o->name);
		/* The value is "=VALUE" in this word, or else the next word. */
		if (eq) {
			vi = i;
			off = name_len + 3;
		} else {
			if (i + 1 >= argc)
				return diag_fail(d, "VMM argument '%s' needs a value", arg);
			vi = ++i;
			off = 0;
		}
		if (o->value == VMM_VALUE_PLAIN)
			continue;
		if (o->value == VMM_VALUE_DRIVE) {
			size_t poff;

			ret = vmmargs_drive_path(argv[vi] + off, &poff, &len, &read_only, d);
			if (ret)
				return ret;
			off += poff;
		} else {
			len = strlen(argv[vi] + off);
			if (len == 0)
				return diag_fail(d, "VMM argument --%s: empty path", o->name);
		}
		ret = vmmargs_add(refs, max, n, vi, off, len, read_only, o, d);
		if (ret)
			return ret;
	}
	return 0;
}

char *vmmargs_splice(const char *word, size_t off, size_t len, const char *repl)
{
	size_t wlen = strlen(word), rlen = strlen(repl);
	char *out;

	if (off > wlen || len > wlen - off)
		return NULL;
	out = malloc(wlen - len + rlen + 1);
	if (!out)
		return NULL;
	memcpy(out, word, off);
	memcpy(out + off, repl, rlen);
	memcpy(out + off + rlen, word + off + len, wlen - off - len + 1);
	return out;
}
