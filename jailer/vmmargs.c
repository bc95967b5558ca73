#include "vmmargs.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "config/options.h"

/* The scan's output, and where it is in argv. */
struct vmmargs_scan {
	char *const *argv;
	struct vmm_file_ref *refs;
	size_t max, *n;
};

static int vmmargs_add(struct vmmargs_scan *s, int argi, size_t off, size_t len,
		       enum vmm_file_role role, const struct config_option *o, const char *key,
		       struct diag *d)
{
	if (*s->n == s->max)
		return diag_fail(d, "VMM arguments: more than %zu files", s->max);
	s->refs[(*s->n)++] = (struct vmm_file_ref){
		.argi = argi, .off = off, .len = len, .role = role, .option = config_option_name(o),
		.key = key,
	};
	return 0;
}

/* True when some value of o names a file: it must then be spelled out. */
static bool vmmargs_names_files(const struct config_option *o)
{
	if (o->arg == CONFIG_ARG_FILE || o->arg == CONFIG_ARG_CONFIG || o->arg == CONFIG_ARG_MAPPED)
		return true;
	for (size_t i = 0; o->device && i < o->device->nr_fields; i++) {
		if (o->device->fields[i].type == DEVSPEC_PATH)
			return true;
	}
	return false;
}

/*
 * The path fields of a device's text at argv[argi] + off: each once, none empty; all
 * read-only when the text has the flag that makes the device only read them ("ro").
 */
static int vmmargs_device(struct vmmargs_scan *s, const struct config_option *o, int argi,
			  size_t off, struct diag *d)
{
	const struct device_spec *spec = o->device;
	const char *text = s->argv[argi] + off, *p = text;
	uint32_t seen = 0; /* by field index: a spec has at most 32 fields */
	size_t first = *s->n;
	bool read_only = false;
	struct devspec_item it;
	int ret;

	while (devspec_next(&p, &it)) {
		const struct devspec_field *f = devspec_field(spec, it.key, it.key_len);
		uint32_t bit;

		/* The flag may come after the paths it covers: applied once the text is read. */
		if (f && f->type == DEVSPEC_FLAG && f->read_only && !it.value)
			read_only = true;
		/* Anything else is the VMM's to refuse; it names no file. */
		if (!f || f->type != DEVSPEC_PATH || !it.value)
			continue;
		bit = 1u << (f - spec->fields);
		/* A socket the VMM creates stays as written: it must be in the jail's writable /run. */
		if (f->place == DEVSPEC_PLACE_CREATE) {
			seen |= bit;
			if (!vmmargs_in_run_dir(it.value, it.value_len))
				return diag_fail(d, "VMM argument --%s '%s': %s= names a socket the VMM creates, "
						 "which a jail holds only in " VMMARGS_RUN_DIR " (such as "
						 VMMARGS_RUN_DIR "v.sock)", spec->option, text, f->key);
			continue;
		}
		if (seen & bit)
			return diag_fail(d, "VMM argument --%s '%s': more than one %s=", spec->option, text,
					 f->key);
		if (it.value_len == 0)
			return diag_fail(d, "VMM argument --%s '%s': expected %s=FILE", spec->option, text,
					 f->key);
		seen |= bit;
		ret = vmmargs_add(s, argi, off + (size_t)(it.value - text), it.value_len, VMM_FILE_DISK,
				  o, f->key, d);
		if (ret)
			return ret;
	}
	for (size_t i = 0; i < spec->nr_fields; i++) {
		const struct devspec_field *f = &spec->fields[i];

		if (f->type == DEVSPEC_PATH && f->required && !(seen & (1u << i)))
			return diag_fail(d, "VMM argument --%s '%s': expected %s=FILE", spec->option, text,
					 f->key);
	}
	for (size_t i = first; i < *s->n; i++)
		s->refs[i].read_only = read_only;
	return 0;
}

/* The value of o at argv[argi] + off: the files it names. */
static int vmmargs_value(struct vmmargs_scan *s, const struct config_option *o, int argi,
			 size_t off, struct diag *d)
{
	size_t len = strlen(s->argv[argi] + off);
	int ret;

	switch (o->arg) {
	case CONFIG_ARG_FILE:
		if (len == 0)
			return diag_fail(d, "VMM argument --%s: empty path", config_option_name(o));
		return vmmargs_add(s, argi, off, len, VMM_FILE_COPY, o, NULL, d);
	case CONFIG_ARG_MAPPED:
		/* As large as the guest's RAM: bound in, read-only, never copied. */
		if (len == 0)
			return diag_fail(d, "VMM argument --%s: empty path", config_option_name(o));
		ret = vmmargs_add(s, argi, off, len, VMM_FILE_DISK, o, NULL, d);
		if (!ret)
			s->refs[*s->n - 1].read_only = true;
		return ret;
	case CONFIG_ARG_DEVICE:
		return vmmargs_device(s, o, argi, off, d);
	case CONFIG_ARG_CONFIG:
		if (len == 0)
			return diag_fail(d, "VMM argument --%s: empty path", config_option_name(o));
		return vmmargs_add(s, argi, off, len, VMM_FILE_CONFIG, o, NULL, d);
	case CONFIG_ARG_SOCKET:
		if (!vmmargs_in_run_dir(s->argv[argi] + off, len))
			return diag_fail(d, "VMM argument --%s %s: a socket the VMM creates must be in the "
					 "jail's " VMMARGS_RUN_DIR " (such as " VMMARGS_RUN_DIR "api.sock)",
					 config_option_name(o), s->argv[argi] + off);
		return 0;
	case CONFIG_ARG_NONE:
	case CONFIG_ARG_VALUE:
	default:
		return 0;
	}
}

/* A cluster of short options ("-vq"): each must be one of the VMM's flags. */
static int vmmargs_short(const char *arg, struct diag *d)
{
	for (const char *c = arg + 1; *c; c++) {
		const struct config_option *o = config_option_short(*c);

		if (!o)
			return diag_fail(d, "VMM argument '%s': unknown option '-%c'", arg, *c);
		/* No short option takes a value; one that did would need its value found here. */
		if (config_option_takes_value(o))
			return diag_fail(d, "VMM argument '%s': write --%s instead", arg,
					 config_option_name(o));
	}
	return 0;
}

/* The long option at argv[*i]; moves *i past its value. */
static int vmmargs_long(struct vmmargs_scan *s, int argc, int *i, struct diag *d)
{
	const char *arg = s->argv[*i], *name = arg + 2, *eq = strchr(name, '=');
	size_t name_len = eq ? (size_t)(eq - name) : strlen(name);
	bool abbreviated;
	const struct config_option *o = config_option_find(name, name_len, &abbreviated);

	if (!o)
		return diag_fail(d, "VMM argument '%s': not an option of microvm (or an ambiguous "
				 "abbreviation), so the jailer cannot tell which files it names", arg);
	if (!strcmp(config_option_name(o), "id"))
		return diag_fail(d, "VMM argument '%s': the jailer passes its own --id", arg);
	if (!config_option_takes_value(o))
		return eq ? diag_fail(d, "VMM argument '%s': --%s takes no value", arg,
				      config_option_name(o))
			  : 0;
	/* An optional value comes only as "=VALUE": the next word is not it. */
	if (config_option_value_optional(o) && !eq)
		return 0;
	if (abbreviated && (vmmargs_names_files(o) || o->arg == CONFIG_ARG_SOCKET))
		return diag_fail(d, "VMM argument '%s': write --%s in full, so the jailer can find "
				 "the file it names", arg, config_option_name(o));
	/* The value is "=VALUE" in this word, or else the next word. */
	if (eq)
		return vmmargs_value(s, o, *i, name_len + 3, d);
	if (*i + 1 >= argc)
		return diag_fail(d, "VMM argument '%s' needs a value", arg);
	return vmmargs_value(s, o, ++*i, 0, d);
}

int vmmargs_scan(int argc, char *const *argv, struct vmm_file_ref *refs, size_t max, size_t *n,
		 struct diag *d)
{
	struct vmmargs_scan s = { .argv = argv, .refs = refs, .max = max, .n = n };

	*n = 0;
	for (int i = 0; i < argc; i++) {
		const char *arg = argv[i];
		int ret;

		/* The VMM's getopt stops at "--" and, being in '+' mode, at the first non-option. */
		if (!strcmp(arg, "--") || arg[0] != '-' || arg[1] == '\0')
			break;
		ret = arg[1] == '-' ? vmmargs_long(&s, argc, &i, d) : vmmargs_short(arg, d);
		if (ret)
			return ret;
	}
	return 0;
}

bool vmmargs_in_run_dir(const char *path, size_t len)
{
	const size_t dir = sizeof(VMMARGS_RUN_DIR) - 1;
	const char *name = path + dir;
	size_t name_len = len - dir;

	if (len <= dir || strncmp(path, VMMARGS_RUN_DIR, dir))
		return false;
	/* One plain name: no sub-directory, and never "." or "..". */
	return !memchr(name, '/', name_len) && !memchr(name, '\0', name_len) &&
	       !(name_len == 1 && name[0] == '.') && !(name_len == 2 && !strncmp(name, "..", 2));
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
