/*
 * The binary filter file `microvm --seccomp-policy FILE` loads, as written by
 * `seccomp-compile --binary`: a header, then per thread kind an entry and
 * its BPF instructions. Untrusted input: parsed with every length checked.
 */
#ifndef MICROVM_SANDBOX_FILTER_FILE_H
#define MICROVM_SANDBOX_FILTER_FILE_H

#include <linux/filter.h>
#include <stddef.h>
#include <stdint.h>

#include "microvm/compiler.h"
#include "microvm/diag.h"

#define SECCOMP_FILE_MAGIC "MVMSECC\0"
#define SECCOMP_FILE_VERSION 1
#define SECCOMP_FILE_MAX_FILTERS 8
#define SECCOMP_FILE_MAX_INSNS 4096 /* BPF_MAXINSNS */

struct seccomp_file_header {
	char magic[8];
	uint32_t version;
	uint32_t count;
};

struct seccomp_file_entry {
	char thread[16];
	uint32_t nr_insns;
};

struct seccomp_file_filter {
	char thread[16];
	struct sock_filter insns[SECCOMP_FILE_MAX_INSNS];
	size_t len;
};

struct seccomp_file {
	unsigned int count;
	struct seccomp_file_filter filters[SECCOMP_FILE_MAX_FILTERS];
};

/* Parses a filter file held in memory; name is for messages. */
MUST_CHECK int seccomp_file_parse(const uint8_t *data, size_t size, const char *name,
				  struct seccomp_file *out, struct diag *d);

#endif
