/*
 * The ACPI power-management registers the FADT names for hardware-reduced ACPI, one
 * byte each on its own I/O port (Cloud Hypervisor's "ACPI shutdown device" serves all
 * three from port 0x600):
 *   ACPI_PM_SLEEP_CONTROL  SLP_EN (bit 5) with SLP_TYPx (bits 2-4) 5, the DSDT's \_S5:
 *                          the guest powers off. No other sleep state is offered.
 *   ACPI_PM_SLEEP_STATUS   reads 0: no wake event is ever pending.
 *   ACPI_PM_RESET          ACPI_PM_RESET_VALUE resets the VM (the FADT's RESET_REG).
 * The guest may write anything at any width: everything else is ignored, and the
 * device keeps no state a write could corrupt. Requests go to a callback, on the
 * vCPU thread that wrote.
 */
#ifndef MICROVM_ACPI_PM_H
#define MICROVM_ACPI_PM_H

#include "microvm/bus.h"

#define ACPI_PM_PORT 0x600
#define ACPI_PM_SLEEP_CONTROL (ACPI_PM_PORT + 0)
#define ACPI_PM_SLEEP_STATUS (ACPI_PM_PORT + 1)
#define ACPI_PM_RESET (ACPI_PM_PORT + 2)
#define ACPI_PM_NR_PORTS 3
#define ACPI_PM_RESET_VALUE 0x01
/* The S5 package's SLP_TYPx, and the sleep control register's fields (ACPI 6.4, 4.8.3.7). */
#define ACPI_PM_SLP_TYP_S5 5
#define ACPI_PM_SLP_TYP_SHIFT 2
#define ACPI_PM_SLP_TYP_MASK 0x1c
#define ACPI_PM_SLP_EN 0x20

enum acpi_pm_request {
	ACPI_PM_POWER_OFF, /* S5 through the sleep control register */
	ACPI_PM_RESET_VM,  /* the reset register */
};

struct acpi_pm {
	void (*request)(void *ctx, enum acpi_pm_request req);
	void *ctx;
};

extern const struct bus_ops acpi_pm_bus_ops;

void acpi_pm_init(struct acpi_pm *pm, void (*request)(void *ctx, enum acpi_pm_request req),
		  void *ctx);

#endif
