#include "microvm/strparse.h"

#include <errno.h>
#include <stdlib.h>

bool parse_decimal_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	/* strtoull would accept leading spaces, a sign and "0x"; the first byte rules them out. */
	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end != '\0' || v < min || v > max)
		return false;
	*out = v;
	return true;
}
