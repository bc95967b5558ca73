/*
 * The PS/2 controller at ports 0x60/0x64, reduced to what Linux needs: the status
 * register, the controller commands its probe sends (answered at once, since Linux
 * polls for the replies), the CPU reset request that `reboot=k` uses, and the one
 * key sequence a host sends: Ctrl+Alt+Del (Firecracker's SendCtrlAltDel), whose
 * scancodes raise the keyboard's interrupt (IRQ 1) one byte at a time, as Linux's
 * i8042 driver reads them. No keyboard answers commands (the guest runs with
 * i8042.dumbkbd) and no mouse is attached.
 */
#ifndef MICROVM_I8042_H
#define MICROVM_I8042_H

#include <pthread.h>
#include <stdint.h>

#include "microvm/bus.h"
#include "microvm/compiler.h"
#include "snapshot/state.h"

#define I8042_DATA_PORT 0x60
#define I8042_CMD_PORT 0x64
#define I8042_OUTBUF_SIZE 8
/* The keyboard's ISA line, as the DSDT names it. */
#define I8042_KBD_IRQ 1

struct i8042 {
	pthread_mutex_t lock;
	void (*reset)(void *ctx); /* called once per reset request, without the lock held */
	void (*kbd_irq)(void *ctx); /* an edge on IRQ 1: a key byte waits; without the lock held */
	void *ctx;
	uint8_t status, ctr, outp;
	uint8_t pending_cmd;      /* a command waiting for its data byte, or 0 */
	uint8_t out[I8042_OUTBUF_SIZE];
	unsigned int out_head, out_count;
	/* Bytes still to be read with an interrupt each: a key sequence and the replies before it. */
	uint8_t irq_bytes;
};

/* Each range (data and command port) is registered separately with these ops and the same i8042. */
extern const struct bus_ops i8042_data_ops;
extern const struct bus_ops i8042_cmd_ops;

MUST_CHECK int i8042_init(struct i8042 *k, void (*reset)(void *ctx), void (*kbd_irq)(void *ctx),
			  void *ctx);
void i8042_destroy(struct i8042 *k);

uint8_t i8042_read_data(struct i8042 *k);
uint8_t i8042_read_status(struct i8042 *k);
void i8042_write_data(struct i8042 *k, uint8_t val);
void i8042_write_cmd(struct i8042 *k, uint8_t cmd);
/*
 * Presses Ctrl, Alt and Del, in the scancode set the guest asked for (set 1 when it
 * left the controller translating, set 2 otherwise). -EAGAIN when the guest disabled
 * the keyboard's interrupt or the buffer has no room: nobody would read the keys.
 */
MUST_CHECK int i8042_ctrl_alt_del(struct i8042 *k);

/* The controller's state, for a snapshot; restore takes a decoded (checked) one. */
void i8042_save(struct i8042 *k, struct snap_i8042 *out);
void i8042_restore(struct i8042 *k, const struct snap_i8042 *in);

#endif
