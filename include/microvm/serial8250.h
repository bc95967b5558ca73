/*
 * An 8250/16550A UART register model (COM1): enough for Linux's 8250 driver, its
 * autoconfiguration (FIFO and loopback probes) and interrupt-driven tty output.
 * The model is pure: bytes go out and the interrupt line moves through callbacks,
 * so unit tests drive it without KVM. Every entry point takes the device lock.
 */
#ifndef MICROVM_SERIAL8250_H
#define MICROVM_SERIAL8250_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "microvm/bus.h"
#include "microvm/compiler.h"
#include "snapshot/state.h"

#define SERIAL_COM1_BASE 0x3f8
#define SERIAL_COM1_IRQ 4
#define SERIAL_NR_REGS 8
#define SERIAL_FIFO_SIZE 16

struct serial_sink {
	/* Transmitted bytes; called without the device lock, so it may block. */
	void (*tx)(void *ctx, uint8_t byte);
	/* The interrupt output changed level; called with the device lock held. */
	void (*set_irq)(void *ctx, bool level);
	/* The receive FIFO, which was full, has room again. */
	void (*rx_room)(void *ctx);
	void *ctx;
};

struct serial8250 {
	pthread_mutex_t lock;
	struct serial_sink sink;
	uint8_t ier, lcr, mcr, scr, dll, dlm;
	bool fifo_enabled;
	bool thr_pending;   /* THR-empty interrupt armed and not yet acknowledged */
	bool irq_level;     /* last level given to sink.set_irq */
	uint8_t rx[SERIAL_FIFO_SIZE];
	unsigned int rx_head, rx_count;
	uint8_t last_rx;
};

extern const struct bus_ops serial8250_bus_ops;

MUST_CHECK int serial8250_init(struct serial8250 *s, const struct serial_sink *sink);
void serial8250_destroy(struct serial8250 *s);

/* Register access at offset 0-7 (the bus ops call these with len 1). */
uint8_t serial8250_read(struct serial8250 *s, unsigned int offset);
void serial8250_write(struct serial8250 *s, unsigned int offset, uint8_t val);

/* Queues received bytes; returns how many fit (0 when the FIFO is full). */
size_t serial8250_rx_push(struct serial8250 *s, const uint8_t *buf, size_t len);
/* Free slots in the receive FIFO. */
size_t serial8250_rx_room(struct serial8250 *s);

/* The registers and receive FIFO, for a snapshot; restore takes a decoded (checked) one. */
void serial8250_save(struct serial8250 *s, struct snap_serial *out);
void serial8250_restore(struct serial8250 *s, const struct snap_serial *in);

#endif
