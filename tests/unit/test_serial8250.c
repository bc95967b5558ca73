/* The 8250/16550A register model: what Linux's 8250 driver probes and relies on. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "microvm/serial8250.h"

enum { DATA, IER, IIR, LCR, MCR, LSR, MSR, SCR };
#define FCR IIR

struct sink_log {
	uint8_t out[64];
	size_t nout;
	bool irq;
	unsigned int irq_changes;
	unsigned int rx_room_calls;
};

static void sink_tx(void *ctx, uint8_t byte)
{
	struct sink_log *l = ctx;

	if (l->nout < sizeof(l->out))
		l->out[l->nout++] = byte;
}

static void sink_irq(void *ctx, bool level)
{
	struct sink_log *l = ctx;

	l->irq = level;
	l->irq_changes++;
}

static void sink_rx_room(void *ctx)
{
	struct sink_log *l = ctx;

	l->rx_room_calls++;
}

struct fixture {
	struct serial8250 s;
	struct sink_log log;
};

static int setup(void **state)
{
	static struct fixture f;
	struct serial_sink sink = { .tx = sink_tx, .set_irq = sink_irq, .rx_room = sink_rx_room };

	memset(&f, 0, sizeof(f));
	sink.ctx = &f.log;
	if (serial8250_init(&f.s, &sink))
		return -1;
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	serial8250_destroy(&f->s);
	return 0;
}

static void transmit(void **state)
{
	struct fixture *f = *state;

	serial8250_write(&f->s, DATA, 'h');
	serial8250_write(&f->s, DATA, 'i');
	assert_int_equal(f->log.nout, 2);
	assert_memory_equal(f->log.out, "hi", 2);
	/* THRE and TEMT always: output never backs up. */
	assert_int_equal(serial8250_read(&f->s, LSR) & 0x60, 0x60);
	assert_false(f->log.irq);
}

static void divisor_latch(void **state)
{
	struct fixture *f = *state;

	serial8250_write(&f->s, LCR, 0x83);
	serial8250_write(&f->s, DATA, 0x01);
	serial8250_write(&f->s, IER, 0x00);
	assert_int_equal(serial8250_read(&f->s, DATA), 0x01);
	assert_int_equal(serial8250_read(&f->s, IER), 0x00);
	assert_int_equal(f->log.nout, 0); /* a divisor write is not a byte out */
	serial8250_write(&f->s, LCR, 0x03);
	assert_int_equal(serial8250_read(&f->s, LCR), 0x03);
}

static void scratch_and_fifo_probe(void **state)
{
	struct fixture *f = *state;

	serial8250_write(&f->s, SCR, 0xa5);
	assert_int_equal(serial8250_read(&f->s, SCR), 0xa5);
	/* Linux's autoconfig: FIFO enabled reads back as IIR bits 7:6 = 11 (a 16550A). */
	serial8250_write(&f->s, FCR, 0x01);
	assert_int_equal(serial8250_read(&f->s, IIR) & 0xc0, 0xc0);
	serial8250_write(&f->s, FCR, 0x00);
	assert_int_equal(serial8250_read(&f->s, IIR) & 0xc0, 0x00);
}

static void loopback_probe(void **state)
{
	struct fixture *f = *state;

	/* serial8250's test: MCR = LOOP | OUT2 | RTS must read back MSR 0x90. */
	serial8250_write(&f->s, MCR, 0x10 | 0x0a);
	assert_int_equal(serial8250_read(&f->s, MSR) & 0xf0, 0x90);
	serial8250_write(&f->s, DATA, 'x');
	assert_int_equal(f->log.nout, 0);
	assert_true(serial8250_read(&f->s, LSR) & 0x01);
	assert_int_equal(serial8250_read(&f->s, DATA), 'x');
	serial8250_write(&f->s, MCR, 0x0b);
	assert_int_equal(serial8250_read(&f->s, MSR) & 0xb0, 0xb0);
}

static void thre_interrupt(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(serial8250_read(&f->s, IIR) & 0x0f, 0x01);
	/* Enabling THRI with an empty THR raises it at once ... */
	serial8250_write(&f->s, IER, 0x02);
	assert_true(f->log.irq);
	assert_int_equal(serial8250_read(&f->s, IIR) & 0x0f, 0x02);
	/* ... and reading IIR acknowledges it. */
	assert_false(f->log.irq);
	assert_int_equal(serial8250_read(&f->s, IIR) & 0x0f, 0x01);
	/* Linux's UART_BUG_THRE check: re-enabling raises it again. */
	serial8250_write(&f->s, IER, 0x00);
	serial8250_write(&f->s, IER, 0x02);
	assert_int_equal(serial8250_read(&f->s, IIR) & 0x0f, 0x02);
	/* Each transmitted byte empties THR again. */
	serial8250_write(&f->s, DATA, 'a');
	assert_true(f->log.irq);
	serial8250_write(&f->s, IER, 0x00);
	assert_false(f->log.irq);
}

static void receive_interrupt_and_fifo(void **state)
{
	struct fixture *f = *state;
	uint8_t many[40];

	memset(many, 'k', sizeof(many));
	serial8250_write(&f->s, FCR, 0x07);
	serial8250_write(&f->s, IER, 0x01);
	assert_int_equal(serial8250_rx_room(&f->s), SERIAL_FIFO_SIZE);
	assert_int_equal(serial8250_rx_push(&f->s, many, sizeof(many)), SERIAL_FIFO_SIZE);
	assert_int_equal(serial8250_rx_room(&f->s), 0);
	assert_true(f->log.irq);
	assert_int_equal(serial8250_read(&f->s, IIR) & 0x0f, 0x04);
	/* Receive outranks THRE. */
	serial8250_write(&f->s, IER, 0x03);
	assert_int_equal(serial8250_read(&f->s, IIR) & 0x0f, 0x04);
	serial8250_write(&f->s, IER, 0x01);
	for (unsigned int i = 0; i < SERIAL_FIFO_SIZE; i++)
		assert_int_equal(serial8250_read(&f->s, DATA), 'k');
	/* Room came back once, when the full FIFO was first read. */
	assert_int_equal(f->log.rx_room_calls, 1);
	assert_false(serial8250_read(&f->s, LSR) & 0x01);
	assert_false(f->log.irq);
}

static void no_fifo_holds_one_byte(void **state)
{
	struct fixture *f = *state;
	const uint8_t two[] = { '1', '2' };

	assert_int_equal(serial8250_rx_push(&f->s, two, 2), 1);
	assert_int_equal(serial8250_read(&f->s, DATA), '1');
	/* An empty RBR repeats the last byte rather than inventing one. */
	assert_int_equal(serial8250_read(&f->s, DATA), '1');
}

static void bus_access_sizes(void **state)
{
	struct fixture *f = *state;
	uint8_t data[4] = { 0 };

	serial8250_bus_ops.write(&f->s, SCR, (const uint8_t *)"\x42", 1);
	serial8250_bus_ops.read(&f->s, SCR, data, 1);
	assert_int_equal(data[0], 0x42);
	/* A word access is not something the 8250 decodes: open bus, no side effect. */
	serial8250_bus_ops.read(&f->s, SCR, data, 2);
	assert_int_equal(data[0], 0xff);
	assert_int_equal(data[1], 0xff);
	serial8250_bus_ops.write(&f->s, DATA, (const uint8_t *)"ab", 2);
	assert_int_equal(f->log.nout, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(transmit, setup, teardown),
		cmocka_unit_test_setup_teardown(divisor_latch, setup, teardown),
		cmocka_unit_test_setup_teardown(scratch_and_fifo_probe, setup, teardown),
		cmocka_unit_test_setup_teardown(loopback_probe, setup, teardown),
		cmocka_unit_test_setup_teardown(thre_interrupt, setup, teardown),
		cmocka_unit_test_setup_teardown(receive_interrupt_and_fifo, setup, teardown),
		cmocka_unit_test_setup_teardown(no_fifo_holds_one_byte, setup, teardown),
		cmocka_unit_test_setup_teardown(bus_access_sizes, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
