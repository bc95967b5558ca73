/*
 * The ACPI power-management registers as the guest drives them: Linux's S5 sequence
 * powers off, the reset value resets, and every other write (each byte value at each
 * register, wider accesses, reads) asks for nothing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "microvm/acpi_pm.h"

static unsigned int power_offs, resets;

static void on_request(void *ctx, enum acpi_pm_request req)
{
	assert_ptr_equal(ctx, &power_offs);
	if (req == ACPI_PM_POWER_OFF)
		power_offs++;
	else
		resets++;
}

static int setup(void **state)
{
	static struct acpi_pm pm;

	power_offs = resets = 0;
	acpi_pm_init(&pm, on_request, &power_offs);
	*state = &pm;
	return 0;
}

static void put(struct acpi_pm *pm, uint16_t port, uint8_t val)
{
	acpi_pm_bus_ops.write(pm, port - ACPI_PM_PORT, &val, 1);
}

static void linux_s5_sequence(void **state)
{
	/* acpi_hw_extended_sleep(): WAK_STS cleared, then SLP_TYP 5 with SLP_EN. */
	put(*state, ACPI_PM_SLEEP_STATUS, 0x80);
	assert_int_equal(power_offs, 0);
	put(*state, ACPI_PM_SLEEP_CONTROL, 0x34);
	assert_int_equal(power_offs, 1);
	assert_int_equal(resets, 0);
}

static void reset_register(void **state)
{
	put(*state, ACPI_PM_RESET, ACPI_PM_RESET_VALUE);
	assert_int_equal(resets, 1);
	assert_int_equal(power_offs, 0);
}

static void every_other_write_is_ignored(void **state)
{
	const uint8_t wide[8] = { 0x34, 0x34, 0x01, 0x01, 0x34, 0x34, 0x34, 0x34 };
	uint8_t data[8];

	for (unsigned int v = 0; v < 256; v++) {
		put(*state, ACPI_PM_SLEEP_STATUS, (uint8_t)v);
		/* SLP_EN with another sleep type, or S5's type without SLP_EN. */
		if (!((v & ACPI_PM_SLP_EN) && (v & ACPI_PM_SLP_TYP_MASK) >> 2 == 5))
			put(*state, ACPI_PM_SLEEP_CONTROL, (uint8_t)v);
		if (v != ACPI_PM_RESET_VALUE)
			put(*state, ACPI_PM_RESET, (uint8_t)v);
	}
	/* The requests' very bytes, in accesses wider than the registers. */
	for (uint32_t len = 2; len <= 3; len++)
		for (uint64_t off = 0; off + len <= ACPI_PM_NR_PORTS; off++)
			acpi_pm_bus_ops.write(*state, off, wide + off, len);
	assert_int_equal(power_offs, 0);
	assert_int_equal(resets, 0);
	/* Reads give 0 whatever was written: no wake event, nothing latched. */
	for (uint64_t off = 0; off < ACPI_PM_NR_PORTS; off++) {
		data[0] = 0xff;
		acpi_pm_bus_ops.read(*state, off, data, 1);
		assert_int_equal(data[0], 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(linux_s5_sequence, setup),
		cmocka_unit_test_setup(reset_register, setup),
		cmocka_unit_test_setup(every_other_write_is_ignored, setup),
	};

	return cmocka_run_group_tests_name("acpi_pm", tests, NULL, NULL);
}
