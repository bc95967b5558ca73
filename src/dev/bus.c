#include "microvm/bus.h"

#include <errno.h>
#include <string.h>

void bus_init(struct bus *bus, const char *name)
{
	memset(bus, 0, sizeof(*bus));
	bus->name = name;
}

int bus_register(struct bus *bus, const char *name, uint64_t base, uint64_t len,
		 const struct bus_ops *ops, void *dev)
{
	uint64_t end;

	if (bus->sealed)
		return -EBUSY;
	if (len == 0 || add_overflows_u64(base, len, &end) || !ops || !ops->read || !ops->write)
		return -EINVAL;
	for (unsigned int i = 0; i < bus->nr_ranges; i++) {
		const struct bus_range *r = &bus->ranges[i];

		if (ranges_overlap(base, end, r->base, r->base + r->len))
			return -EEXIST;
	}
	if (bus->nr_ranges == BUS_MAX_DEVICES)
		return -ENOSPC;
	bus->ranges[bus->nr_ranges++] = (struct bus_range){
		.name = name, .base = base, .len = len, .ops = ops, .dev = dev,
	};
	return 0;
}

void bus_seal(struct bus *bus)
{
	bus->sealed = true;
}

const struct bus_range *bus_find(const struct bus *bus, uint64_t addr, uint32_t len)
{
	uint64_t end;

	if (len == 0 || add_overflows_u64(addr, len, &end))
		return NULL;
	for (unsigned int i = 0; i < bus->nr_ranges; i++) {
		const struct bus_range *r = &bus->ranges[i];

		/* Registration rejected wrapping ranges, so base + len cannot overflow. */
		if (addr >= r->base && end <= r->base + r->len)
			return r;
	}
	return NULL;
}

bool bus_read(const struct bus *bus, uint64_t addr, uint8_t *data, uint32_t len)
{
	const struct bus_range *r;

	if (len == 0 || len > BUS_MAX_ACCESS)
		return false;
	r = bus_find(bus, addr, len);
	if (!r) {
		memset(data, 0xff, len);
		return false;
	}
	r->ops->read(r->dev, addr - r->base, data, len);
	return true;
}

bool bus_write(const struct bus *bus, uint64_t addr, const uint8_t *data, uint32_t len)
{
	const struct bus_range *r;

	if (len == 0 || len > BUS_MAX_ACCESS)
		return false;
	r = bus_find(bus, addr, len);
	if (!r)
		return false;
	r->ops->write(r->dev, addr - r->base, data, len);
	return true;
}
