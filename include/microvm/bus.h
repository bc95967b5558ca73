/*
 * An address bus (port I/O or MMIO): an explicit table of non-overlapping ranges,
 * each dispatched to a device's handlers. Registration happens before the vCPUs run;
 * bus_seal() then freezes the table, so lookups from concurrent vCPU threads need no
 * lock. Handlers may run concurrently on several threads: each device locks its state.
 */
#ifndef MICROVM_BUS_H
#define MICROVM_BUS_H

#include <stdbool.h>
#include <stdint.h>

#include "microvm/compiler.h"

#define BUS_MAX_DEVICES 32
/* The widest single access a handler sees (an MMIO quadword). */
#define BUS_MAX_ACCESS 8

struct bus_ops {
	/* offset is relative to the range's base; 1 <= len <= BUS_MAX_ACCESS and fits the range. */
	void (*read)(void *dev, uint64_t offset, uint8_t *data, uint32_t len);
	void (*write)(void *dev, uint64_t offset, const uint8_t *data, uint32_t len);
};

struct bus_range {
	const char *name;
	uint64_t base;
	uint64_t len;
	const struct bus_ops *ops;
	void *dev;
};

struct bus {
	const char *name; /* "pio", "mmio": for messages */
	struct bus_range ranges[BUS_MAX_DEVICES];
	unsigned int nr_ranges;
	bool sealed;
};

void bus_init(struct bus *bus, const char *name);
/* -EINVAL for an empty or wrapping range, -EEXIST on overlap, -ENOSPC when full, -EBUSY once sealed. */
MUST_CHECK int bus_register(struct bus *bus, const char *name, uint64_t base, uint64_t len,
			    const struct bus_ops *ops, void *dev);
void bus_seal(struct bus *bus);
/* The range holding all of [addr, addr+len), or NULL (unclaimed, or straddling a boundary). */
const struct bus_range *bus_find(const struct bus *bus, uint64_t addr, uint32_t len);
/*
 * Dispatches one access. Returns false when no device claims it; an unclaimed or
 * invalid read fills data with all-ones (an open bus), an unclaimed write is dropped.
 */
bool bus_read(const struct bus *bus, uint64_t addr, uint8_t *data, uint32_t len);
bool bus_write(const struct bus *bus, uint64_t addr, const uint8_t *data, uint32_t len);

#endif
