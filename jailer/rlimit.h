/* Resource limits the VMM starts with: --resource-limit fsize=N, no-file=N. */
#ifndef JAILER_RLIMIT_H
#define JAILER_RLIMIT_H

#include <stdbool.h>
#include <stdint.h>

#include "microvm/compiler.h"
#include "microvm/diag.h"

/* Firecracker's default: enough for a VMM, far below a host's usual hard limit. */
#define RLIMIT_SETTINGS_DEFAULT_NOFILE 2048

struct rlimit_settings {
	bool fsize_set;  /* RLIMIT_FSIZE is left alone unless asked */
	uint64_t fsize;  /* bytes */
	uint64_t nofile; /* RLIMIT_NOFILE, always set */
};

void rlimit_settings_init(struct rlimit_settings *r);
/* Parses one "fsize=N" or "no-file=N" (N decimal); -EINVAL with a reason in d. */
MUST_CHECK int rlimit_parse(struct rlimit_settings *r, const char *arg, struct diag *d);
/* Sets soft and hard limits to the values: a jailed VMM may not raise them again. */
MUST_CHECK int rlimit_apply(const struct rlimit_settings *r, struct diag *d);

#endif
