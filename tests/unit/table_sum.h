/*
 * The byte sum the firmware tables' checksums make zero (MP table, ACPI), computed here
 * on its own so the tests do not trust fwtable.h's helper to check itself.
 */
#ifndef TESTS_UNIT_TABLE_SUM_H
#define TESTS_UNIT_TABLE_SUM_H

#include <stddef.h>
#include <stdint.h>

static inline uint8_t sum(const uint8_t *p, size_t len)
{
	uint8_t s = 0;

	for (size_t i = 0; i < len; i++)
		s = (uint8_t)(s + p[i]);
	return s;
}

#endif
