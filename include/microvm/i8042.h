/*
 * The PS/2 controller at ports 0x60/0x64, reduced to what Linux needs: the status
 * register, the controller commands its probe sends (answered at once, since Linux
 * polls for the replies), and the CPU reset request that `reboot=k` uses.
 * No keyboard or mouse is attached, so no interrupt is ever raised.
 */
#ifndef MICROVM_I8042_H
#define MICROVM_I8042_H

#include <pthread.h>
#include <stdint.h>

#include "microvm/bus.h"
#include "microvm/compiler.h"

#define I8042_DATA_PORT 0x60
#define I8042_CMD_PORT 0x64
/* The keyboard's ISA line, as the DSDT names it; no keyboard is attached to raise it. */
#define I8042_KBD_IRQ 1
#define I8042_OUTBUF_SIZE 4

struct i8042 {
	pthread_mutex_t lock;
	void (*reset)(void *ctx); /* called once per reset request, without the lock held */
	void *ctx;
	uint8_t status, ctr, outp;
	uint8_t pending_cmd;      /* a command waiting for its data byte, or 0 */
	uint8_t out[I8042_OUTBUF_SIZE];
	unsigned int out_head, out_count;
};

/* Each range (data and command port) is registered separately with these ops and the same i8042. */
extern const struct bus_ops i8042_data_ops;
extern const struct bus_ops i8042_cmd_ops;

MUST_CHECK int i8042_init(struct i8042 *k, void (*reset)(void *ctx), void *ctx);
void i8042_destroy(struct i8042 *k);

uint8_t i8042_read_data(struct i8042 *k);
uint8_t i8042_read_status(struct i8042 *k);
void i8042_write_data(struct i8042 *k, uint8_t val);
void i8042_write_cmd(struct i8042 *k, uint8_t cmd);

#endif
