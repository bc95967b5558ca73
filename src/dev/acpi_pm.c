#include "microvm/acpi_pm.h"

#include <string.h>

void acpi_pm_init(struct acpi_pm *pm, void (*request)(void *ctx, enum acpi_pm_request req),
		  void *ctx)
{
	pm->request = request;
	pm->ctx = ctx;
}

/* Every register reads 0: sleep status has no wake event, the others are write-only. */
static void acpi_pm_read(void *dev, uint64_t offset, uint8_t *data, uint32_t len)
{
	(void)dev;
	(void)offset;
	memset(data, 0, len);
}

static void acpi_pm_write(void *dev, uint64_t offset, const uint8_t *data, uint32_t len)
{
	struct acpi_pm *pm = dev;
	uint8_t val = data[0];

	/* The registers are bytes: a wider access is not a request. */
	if (len != 1)
		return;
	if (offset == ACPI_PM_SLEEP_CONTROL - ACPI_PM_PORT && (val & ACPI_PM_SLP_EN) &&
	    (val & ACPI_PM_SLP_TYP_MASK) >> ACPI_PM_SLP_TYP_SHIFT == ACPI_PM_SLP_TYP_S5)
		pm->request(pm->ctx, ACPI_PM_POWER_OFF);
	else if (offset == ACPI_PM_RESET - ACPI_PM_PORT && val == ACPI_PM_RESET_VALUE)
		pm->request(pm->ctx, ACPI_PM_RESET_VM);
}

const struct bus_ops acpi_pm_bus_ops = { .read = acpi_pm_read, .write = acpi_pm_write };
