#include "sandbox/filter_file.h"

#include <string.h>

static bool seccomp_file_name_valid(const char *name, size_t cap)
{
	size_t n = strnlen(name, cap);

	if (n == 0 || n == cap)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9') || name[i] == '_'))
			return false;
	return true;
}

int seccomp_file_parse(const uint8_t *data, size_t size, const char *name, struct seccomp_file *out,
		       struct diag *d)
{
	struct seccomp_file_header h;
	size_t off = sizeof(h);

	memset(out, 0, sizeof(*out));
	if (size < sizeof(h))
		return diag_fail(d, "%s: file size %zu: shorter than the %zu-byte header", name, size, sizeof(h));
	memcpy(&h, data, sizeof(h));
	if (memcmp(h.magic, SECCOMP_FILE_MAGIC, sizeof(h.magic)) != 0)
		return diag_fail(d, "%s: field magic at offset 0: not a seccomp-compile --binary file", name);
	if (h.version != SECCOMP_FILE_VERSION)
		return diag_fail(d, "%s: field version %u at offset 8: only version %d is known", name,
				 h.version, SECCOMP_FILE_VERSION);
	if (h.count == 0 || h.count > SECCOMP_FILE_MAX_FILTERS)
		return diag_fail(d, "%s: field count %u at offset 12: must be 1..%d", name, h.count,
				 SECCOMP_FILE_MAX_FILTERS);
	for (uint32_t i = 0; i < h.count; i++) {
		struct seccomp_file_filter *f = &out->filters[i];
		struct seccomp_file_entry e;
		size_t bytes;

		if (size - off < sizeof(e))
			return diag_fail(d, "%s: filter %u at offset %zu: entry runs past the end of the file", name, i, off);
		memcpy(&e, data + off, sizeof(e));
		if (!seccomp_file_name_valid(e.thread, sizeof(e.thread)))
			return diag_fail(d, "%s: filter %u field thread at offset %zu: not a NUL-terminated name of [a-z0-9_]", name, i, off);
		for (uint32_t j = 0; j < i; j++)
			if (strcmp(out->filters[j].thread, e.thread) == 0)
				return diag_fail(d, "%s: filter %u field thread '%s' at offset %zu: given twice", name, i, e.thread, off);
		if (e.nr_insns == 0 || e.nr_insns > SECCOMP_FILE_MAX_INSNS)
			return diag_fail(d, "%s: filter %u field nr_insns %u at offset %zu: must be 1..%d", name, i,
					 e.nr_insns, off + sizeof(e.thread), SECCOMP_FILE_MAX_INSNS);
		off += sizeof(e);
		bytes = (size_t)e.nr_insns * sizeof(struct sock_filter);
		if (size - off < bytes)
			return diag_fail(d, "%s: filter %u field nr_insns %u: %zu bytes of BPF run past the end of the file (size %zu)",
					 name, i, e.nr_insns, bytes, size);
		memcpy(f->thread, e.thread, sizeof(f->thread));
		memcpy(f->insns, data + off, bytes);
		f->len = e.nr_insns;
		off += bytes;
	}
	if (off != size)
		return diag_fail(d, "%s: %zu trailing bytes at offset %zu", name, size - off, off);
	out->count = h.count;
	return 0;
}
