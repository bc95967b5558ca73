/*
 * The filter file `microvm --seccomp-policy FILE` loads (src/sandbox/
 * filter_file.c): accepted files have 1-8 uniquely named filters of 1-4096
 * instructions that are the input's own bytes; rejections name the file.
 */
#include <string.h>

#include "harness.h"
#include "sandbox/filter_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct seccomp_file f;
	struct diag d = { "" };
	size_t off = sizeof(struct seccomp_file_header);

	if (seccomp_file_parse(data, size, "fuzz.bin", &f, &d) != 0) {
		FUZZ_CHECK(strncmp(d.msg, "fuzz.bin: ", 10) == 0);
		return 0;
	}
	FUZZ_CHECK(f.count >= 1 && f.count <= SECCOMP_FILE_MAX_FILTERS);
	for (unsigned int i = 0; i < f.count; i++) {
		const struct seccomp_file_filter *flt = &f.filters[i];

		FUZZ_CHECK(flt->len >= 1 && flt->len <= SECCOMP_FILE_MAX_INSNS);
		FUZZ_CHECK(memchr(flt->thread, '\0', sizeof(flt->thread)) != NULL);
		for (unsigned int j = 0; j < i; j++)
			FUZZ_CHECK(strcmp(f.filters[j].thread, flt->thread) != 0);
		off += sizeof(struct seccomp_file_entry);
		FUZZ_CHECK(off + flt->len * sizeof(struct sock_filter) <= size);
		FUZZ_CHECK(memcmp(flt->insns, data + off, flt->len * sizeof(struct sock_filter)) == 0);
		off += flt->len * sizeof(struct sock_filter);
	}
	FUZZ_CHECK(off == size);
	return 0;
}
