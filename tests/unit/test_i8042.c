/* The i8042: the probe Linux runs, the reset requests that end the VM, Ctrl+Alt+Del. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "microvm/i8042.h"

static unsigned int resets, kbd_irqs;

static void on_reset(void *ctx)
{
	(void)ctx;
	resets++;
}

static void on_kbd_irq(void *ctx)
{
	(void)ctx;
	kbd_irqs++;
}

static int setup(void **state)
{
	static struct i8042 k;

	resets = kbd_irqs = 0;
	if (i8042_init(&k, on_reset, on_kbd_irq, NULL))
		return -1;
	*state = &k;
	return 0;
}

static int teardown(void **state)
{
	i8042_destroy(*state);
	return 0;
}

static void linux_probe(void **state)
{
	struct i8042 *k = *state;
	uint8_t ctr;

	/* i8042_flush: nothing pending. */
	assert_int_equal(i8042_read_status(k) & 0x01, 0);
	i8042_write_cmd(k, 0xaa);
	assert_int_equal(i8042_read_status(k) & 0x01, 1);
	assert_int_equal(i8042_read_data(k), 0x55);
	assert_int_equal(i8042_read_status(k) & 0x01, 0);
	/* Read, change and write back the control register. */
	i8042_write_cmd(k, 0x20);
	ctr = i8042_read_data(k);
	i8042_write_cmd(k, 0x60);
	i8042_write_data(k, (uint8_t)(ctr & ~0x03));
	i8042_write_cmd(k, 0x20);
	assert_int_equal(i8042_read_data(k), ctr & ~0x03);
	i8042_write_cmd(k, 0xab);
	assert_int_equal(i8042_read_data(k), 0x00);
	i8042_write_cmd(k, 0xad);
	i8042_write_cmd(k, 0x20);
	assert_true(i8042_read_data(k) & 0x10);
	assert_int_equal(resets, 0);
}

static void reset_by_pulse(void **state)
{
	struct i8042 *k = *state;

	i8042_write_cmd(k, 0xfe);
	assert_int_equal(resets, 1);
	/* Pulses that leave the reset line alone do nothing. */
	i8042_write_cmd(k, 0xff);
	i8042_write_cmd(k, 0xf1);
	assert_int_equal(resets, 1);
}

static void reset_by_output_port(void **state)
{
	struct i8042 *k = *state;

	i8042_write_cmd(k, 0xd0);
	assert_int_equal(i8042_read_data(k) & 0x01, 1);
	i8042_write_cmd(k, 0xd1);
	i8042_write_data(k, 0x03);
	assert_int_equal(resets, 0);
	i8042_write_cmd(k, 0xd1);
	i8042_write_data(k, 0x02);
	assert_int_equal(resets, 1);
}

static void output_buffer_bounded(void **state)
{
	struct i8042 *k = *state;

	for (int i = 0; i < 100; i++)
		i8042_write_cmd(k, 0xaa);
	for (int i = 0; i < I8042_OUTBUF_SIZE; i++)
		assert_int_equal(i8042_read_data(k), 0x55);
	assert_int_equal(i8042_read_status(k) & 0x01, 0);
	/* Keyboard bytes go nowhere and never reset. */
	i8042_write_data(k, 0xfe);
	assert_int_equal(resets, 0);
}

static void bus_ops(void **state)
{
	struct i8042 *k = *state;
	uint8_t v[2];

	i8042_cmd_ops.write(k, 0, (const uint8_t *)"\xaa", 1);
	i8042_cmd_ops.read(k, 0, v, 1);
	assert_true(v[0] & 0x01);
	i8042_data_ops.read(k, 0, v, 1);
	assert_int_equal(v[0], 0x55);
	i8042_cmd_ops.read(k, 0, v, 2);
	assert_int_equal(v[0], 0xff);
	i8042_cmd_ops.write(k, 0, (const uint8_t *)"\xfe\xfe", 2);
	assert_int_equal(resets, 0);
}

/* Reads every byte the guest would, one per interrupt, as Linux's handler does. */
static size_t read_keys(struct i8042 *k, uint8_t *out, size_t max)
{
	size_t n = 0;

	while (n < max && (i8042_read_status(k) & 0x01))
		out[n++] = i8042_read_data(k);
	return n;
}

static void ctrl_alt_del_translated(void **state)
{
	static const uint8_t set1[] = { 0x1d, 0x38, 0xe0, 0x53 };
	struct i8042 *k = *state;
	uint8_t keys[8];

	/* As firmware leaves it (and Linux keeps it): translation on, set 1 reaches the guest. */
	assert_int_equal(i8042_ctrl_alt_del(k), 0);
	assert_int_equal(read_keys(k, keys, sizeof(keys)), 4);
	assert_memory_equal(keys, set1, 4);
	/* One interrupt for the first byte, then one after each read that leaves another. */
	assert_int_equal(kbd_irqs, 4);
	assert_int_equal(resets, 0);
}

static void ctrl_alt_del_untranslated(void **state)
{
	static const uint8_t set2[] = { 0x14, 0x11, 0xe0, 0x71 };
	struct i8042 *k = *state;
	uint8_t keys[8];

	i8042_write_cmd(k, 0x60);
	i8042_write_data(k, 0x01); /* keyboard interrupt on, no translation */
	assert_int_equal(i8042_ctrl_alt_del(k), 0);
	assert_int_equal(read_keys(k, keys, sizeof(keys)), 4);
	assert_memory_equal(keys, set2, 4);
}

static void ctrl_alt_del_needs_the_interrupt(void **state)
{
	struct i8042 *k = *state;

	i8042_write_cmd(k, 0x60);
	i8042_write_data(k, 0x40); /* the guest turned the keyboard interrupt off */
	assert_int_equal(i8042_ctrl_alt_del(k), -EAGAIN);
	assert_int_equal(i8042_read_status(k) & 0x01, 0);
	assert_int_equal(kbd_irqs, 0);
}

static void ctrl_alt_del_after_a_reply(void **state)
{
	struct i8042 *k = *state;
	uint8_t bytes[8];

	i8042_write_cmd(k, 0xaa); /* a self-test reply nobody read yet */
	assert_int_equal(i8042_ctrl_alt_del(k), 0);
	assert_int_equal(read_keys(k, bytes, sizeof(bytes)), 5);
	assert_int_equal(bytes[0], 0x55);
	assert_int_equal(bytes[1], 0x1d);
	/* A full buffer: the sequence is refused whole rather than cut. */
	assert_int_equal(i8042_ctrl_alt_del(k), 0);
	assert_int_equal(i8042_ctrl_alt_del(k), 0);
	assert_int_equal(i8042_ctrl_alt_del(k), -EAGAIN);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(linux_probe, setup, teardown),
		cmocka_unit_test_setup_teardown(reset_by_pulse, setup, teardown),
		cmocka_unit_test_setup_teardown(reset_by_output_port, setup, teardown),
		cmocka_unit_test_setup_teardown(output_buffer_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(bus_ops, setup, teardown),
		cmocka_unit_test_setup_teardown(ctrl_alt_del_translated, setup, teardown),
		cmocka_unit_test_setup_teardown(ctrl_alt_del_untranslated, setup, teardown),
		cmocka_unit_test_setup_teardown(ctrl_alt_del_needs_the_interrupt, setup, teardown),
		cmocka_unit_test_setup_teardown(ctrl_alt_del_after_a_reply, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
