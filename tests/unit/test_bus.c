/* The I/O bus: registration rules, lookup, dispatch and the open-bus default. */
#include <setjmp.h>
#include <stdarg.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "microvm/bus.h"

struct dev {
	uint64_t last_offset;
	uint32_t last_len;
	uint8_t last_write;
	unsigned int reads, writes;
};

static void dev_read(void *opaque, uint64_t offset, uint8_t *data, uint32_t len)
{
	struct dev *d = opaque;

	d->reads++;
	d->last_offset = offset;
	d->last_len = len;
	memset(data, 0x5a, len);
}

static void dev_write(void *opaque, uint64_t offset, const uint8_t *data, uint32_t len)
{
	struct dev *d = opaque;

	d->writes++;
	d->last_offset = offset;
	d->last_len = len;
	d->last_write = data[0];
}

static const struct bus_ops ops = { .read = dev_read, .write = dev_write };

static void register_and_dispatch(void **state)
{
	(void)state;
	struct bus bus;
	struct dev a = { 0 }, b = { 0 };
	uint8_t data[4];

	bus_init(&bus, "port");
	assert_int_equal(bus_register(&bus, "a", 0x3f8, 8, &ops, &a), 0);
	assert_int_equal(bus_register(&bus, "b", 0x60, 1, &ops, &b), 0);
	bus_seal(&bus);

	assert_true(bus_write(&bus, 0x3fb, (const uint8_t *)"\x83", 1));
	assert_int_equal(a.last_offset, 3);
	assert_int_equal(a.last_write, 0x83);
	assert_true(bus_read(&bus, 0x3f8, data, 4));
	assert_int_equal(a.last_len, 4);
	assert_true(bus_read(&bus, 0x60, data, 1));
	assert_int_equal(b.reads, 1);
	assert_string_equal(bus_find(&bus, 0x3ff, 1)->name, "a");
}

static void unclaimed_is_open_bus(void **state)
{
	(void)state;
	struct bus bus;
	struct dev a = { 0 };
	uint8_t data[4] = { 0 };

	bus_init(&bus, "port");
	assert_int_equal(bus_register(&bus, "a", 0x3f8, 8, &ops, &a), 0);
	assert_false(bus_read(&bus, 0x2f8, data, 4));
	assert_memory_equal(data, "\xff\xff\xff\xff", 4);
	assert_false(bus_write(&bus, 0x2f8, data, 1));
	/* An access straddling the end of a range belongs to nobody. */
	assert_false(bus_read(&bus, 0x3fe, data, 4));
	assert_int_equal(a.reads, 0);
	/* Sizes outside 1..8 are refused before any device sees them. */
	assert_false(bus_read(&bus, 0x3f8, data, 0));
	assert_false(bus_write(&bus, 0x3f8, data, 9));
	assert_int_equal(a.writes, 0);
	assert_null(bus_find(&bus, UINT64_MAX, 2));
}

static void overlap_and_bad_ranges(void **state)
{
	(void)state;
	struct bus bus;
	struct dev a = { 0 };
	const struct bus_ops no_write = { .read = dev_read };

	bus_init(&bus, "port");
	assert_int_equal(bus_register(&bus, "a", 0x3f8, 8, &ops, &a), 0);
	assert_int_equal(bus_register(&bus, "x", 0x3f8, 1, &ops, &a), -EEXIST);
	assert_int_equal(bus_register(&bus, "x", 0x3f0, 9, &ops, &a), -EEXIST);
	assert_int_equal(bus_register(&bus, "x", 0x3ff, 4, &ops, &a), -EEXIST);
	assert_int_equal(bus_register(&bus, "x", 0x3f0, 8, &ops, &a), 0); /* adjacent is fine */
	assert_int_equal(bus_register(&bus, "x", 0x400, 0, &ops, &a), -EINVAL);
	assert_int_equal(bus_register(&bus, "x", UINT64_MAX, 2, &ops, &a), -EINVAL);
	assert_int_equal(bus_register(&bus, "x", 0x500, 1, &no_write, &a), -EINVAL);
	assert_int_equal(bus_register(&bus, "x", 0x500, 1, NULL, &a), -EINVAL);
}

static void full_and_sealed(void **state)
{
	(void)state;
	struct bus bus;
	struct dev a = { 0 };

	bus_init(&bus, "mmio");
	for (unsigned int i = 0; i < BUS_MAX_DEVICES; i++)
		assert_int_equal(bus_register(&bus, "d", 0x1000 * (uint64_t)i, 0x1000, &ops, &a), 0);
	assert_int_equal(bus_register(&bus, "d", 0x100000, 1, &ops, &a), -ENOSPC);
	bus_init(&bus, "mmio");
	bus_seal(&bus);
	assert_int_equal(bus_register(&bus, "d", 0, 1, &ops, &a), -EBUSY);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(register_and_dispatch),
		cmocka_unit_test(unclaimed_is_open_bus),
		cmocka_unit_test(overlap_and_bad_ranges),
		cmocka_unit_test(full_and_sealed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
