#include "microvm/diag.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

static PRINTF_LIKE(2, 0) void diag_vset(struct diag *d, const char *fmt, va_list ap)
{
	if (!d)
		return;
	vsnprintf(d->msg, sizeof(d->msg), fmt, ap);
}

int diag_fail(struct diag *d, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_vset(d, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

int diag_fail_errno(struct diag *d, int neg_errno, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_vset(d, fmt, ap);
	va_end(ap);
	return neg_errno;
}
