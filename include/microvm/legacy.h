/*
 * The legacy devices every VM has, on the port bus in address order: the i8042 (0x60,
 * 0x64), the speaker (0x61) and POST code (0x80) ports, present but inert, the boot
 * timer (0x3f0) and COM1 (0x3f8). The VM hands in what they need of it: where the
 * UART's bytes and interrupt go, what a reset request does, and how the i8042 raises
 * the keyboard's interrupt.
 */
#ifndef MICROVM_LEGACY_H
#define MICROVM_LEGACY_H

#include <stdbool.h>

#include "microvm/boottimer.h"
#include "microvm/bus.h"
#include "microvm/compiler.h"
#include "microvm/i8042.h"
#include "microvm/serial8250.h"

#define LEGACY_POST_PORT 0x80
#define LEGACY_SPEAKER_PORT 0x61

struct legacy {
	struct serial8250 serial;
	bool serial_ready;
	struct i8042 i8042;
	bool i8042_ready;
	struct boottimer boottimer;
};

/* Makes the devices and registers them on pio; legacy_destroy undoes it, also after a failure. */
MUST_CHECK int legacy_init(struct legacy *l, struct bus *pio, const struct serial_sink *com1,
			   void (*reset)(void *ctx), void (*kbd_irq)(void *ctx), void *ctx);
void legacy_destroy(struct legacy *l);

#endif
