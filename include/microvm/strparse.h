/* Strict parsing of numbers from command lines and other untrusted text. */
#ifndef MICROVM_STRPARSE_H
#define MICROVM_STRPARSE_H

#include <stdbool.h>
#include <stdint.h>

/* Decimal digits only (no sign, space, prefix or trailing byte), within [min, max]. */
bool parse_decimal_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);

#endif
