/*
 * The legacy devices every VM has, on the port bus in address order: the i8042 (0x60,
 * 0x64), the speaker (0x61) and POST code (0x80) ports, present but inert, the boot
 * timer (0x3f0), COM1 (0x3f8) and the ACPI power-management registers (0x600). The VM
 * hands in what they need of it: where the UART's bytes and interrupt go, how the i8042
 * raises the keyboard's interrupt, and what the guest's reset and power-off requests do.
 */
#ifndef MICROVM_LEGACY_H
#define MICROVM_LEGACY_H

#include <stdbool.h>

#include "microvm/acpi_pm.h"
#include "microvm/boottimer.h"
#include "microvm/bus.h"
#include "microvm/compiler.h"
#include "microvm/i8042.h"
#include "microvm/serial8250.h"

#define LEGACY_POST_PORT 0x80
#define LEGACY_SPEAKER_PORT 0x61

/* What the guest's requests do, called on the vCPU thread that made them; kbd_irq on any. */
struct legacy_power {
	void (*i8042_reset)(void *ctx);
	void (*kbd_irq)(void *ctx);
	void (*acpi)(void *ctx, enum acpi_pm_request req);
	void *ctx;
};

struct legacy {
	struct serial8250 serial;
	bool serial_ready;
	struct i8042 i8042;
	bool i8042_ready;
	struct boottimer boottimer;
	struct acpi_pm pm;
};

/* Makes the devices and registers them on pio; legacy_destroy undoes it, also after a failure. */
MUST_CHECK int legacy_init(struct legacy *l, struct bus *pio, const struct serial_sink *com1,
			   const struct legacy_power *power);
void legacy_destroy(struct legacy *l);

#endif
