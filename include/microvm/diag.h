/* A one-line reason for a rejected input, filled by parsers, printed by their caller. */
#ifndef MICROVM_DIAG_H
#define MICROVM_DIAG_H

#include "microvm/compiler.h"

struct diag {
	char msg[512];
};

/* Replaces the message; returns -EINVAL so callers can `return diag_fail(...)`. */
int diag_fail(struct diag *d, const char *fmt, ...) PRINTF_LIKE(2, 3);
/* Same with a chosen negative errno. */
int diag_fail_errno(struct diag *d, int neg_errno, const char *fmt, ...) PRINTF_LIKE(3, 4);

#endif
