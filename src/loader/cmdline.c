#include <string.h>

#include "arch/x86/layout.h"
#include "microvm/loader.h"

int cmdline_write(const struct gmem *mem, const char *cmdline, uint32_t cmdline_max, uint64_t *len,
		  struct diag *d)
{
	uint64_t limit = cmdline_max < LAYOUT_CMDLINE_MAX - 1 ? cmdline_max : LAYOUT_CMDLINE_MAX - 1;
	/* Bounded scan: never walk past the longest line we could accept. */
	size_t n = strnlen(cmdline, limit + 1);
	int ret;

	if (n > limit)
		return diag_fail(d, "command line: length %zu or more: longer than the %llu bytes the kernel accepts (cmdline_size %u) (B10)",
				 n, (unsigned long long)limit, cmdline_max);
	/* Write only strlen+1 bytes, never cmdline_size (C4). */
	ret = gmem_write(mem, LAYOUT_CMDLINE_START, cmdline, n + 1);
	if (ret)
		return diag_fail_errno(d, ret, "command line: cannot write %zu bytes at 0x%llx", n + 1,
				       (unsigned long long)LAYOUT_CMDLINE_START);
	*len = n;
	return 0;
}

int cmdline_append(struct cmdline_buf *cl, const char *params, struct diag *d)
{
	size_t n = strnlen(params, sizeof(cl->text));
	size_t need = n + (cl->len && n ? 1 : 0);

	_Static_assert(sizeof(cl->text) == LAYOUT_CMDLINE_MAX, "one limit for the command line");
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)params[i] < 0x20 || params[i] == 0x7f)
			return diag_fail(d, "command line: byte 0x%02x at offset %zu: control characters are not allowed",
					 (unsigned char)params[i], cl->len + i);
	if (n == sizeof(cl->text) || need >= sizeof(cl->text) - cl->len)
		return diag_fail(d, "command line: length %zu: longer than the %zu bytes the VMM accepts",
				 cl->len + need, sizeof(cl->text) - 1);
	if (cl->len && n)
		cl->text[cl->len++] = ' ';
	memcpy(cl->text + cl->len, params, n);
	cl->len += n;
	cl->text[cl->len] = '\0';
	return 0;
}
