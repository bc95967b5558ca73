/* The i8042: the probe Linux runs, and the reset requests that end the VM. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "microvm/i8042.h"

static unsigned int resets;

static void on_reset(void *ctx)
{
	(void)ctx;
	resets++;
}

static int setup(void **state)
{
	static struct i8042 k;

	resets = 0;
	if (i8042_init(&k, on_reset, NULL))
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(linux_probe, setup, teardown),
		cmocka_unit_test_setup_teardown(reset_by_pulse, setup, teardown),
		cmocka_unit_test_setup_teardown(reset_by_output_port, setup, teardown),
		cmocka_unit_test_setup_teardown(output_buffer_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(bus_ops, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
