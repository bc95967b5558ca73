#include "microvm/legacy.h"

#include <string.h>

static void legacy_read(void *dev, uint64_t offset, uint8_t *data, uint32_t len)
{
	(void)dev;
	(void)offset;
	memset(data, 0, len);
}

static void legacy_write(void *dev, uint64_t offset, const uint8_t *data, uint32_t len)
{
	(void)dev;
	(void)offset;
	(void)data;
	(void)len;
}

const struct bus_ops legacy_inert_ops = { .read = legacy_read, .write = legacy_write };
