/*
 * The AML writer, byte for byte against the spec's encodings: integers, EISA ids,
 * names, PkgLength at each of its size boundaries, resource descriptors; and its
 * errors: malformed names refused, no write past the buffer, the first error kept.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <string.h>
#include <cmocka.h>

#include "arch/x86/aml.h"

static uint8_t buf[0x2000];
static struct aml a;

static int fresh(void **state)
{
	(void)state;
	memset(buf, 0xa5, sizeof(buf));
	aml_init(&a, buf, sizeof(buf));
	return 0;
}

/* a holds exactly these bytes, without error. */
static void holds(const uint8_t *want, size_t len)
{
	assert_int_equal(aml_error(&a), 0);
	assert_int_equal(a.len, len);
	assert_memory_equal(buf, want, len);
}

#define HOLDS(...) do { const uint8_t want_[] = { __VA_ARGS__ }; holds(want_, sizeof(want_)); } while (0)

static void integers_take_their_shortest_form(void **state)
{
	(void)state;
	aml_integer(&a, 0);
	aml_integer(&a, 1);
	aml_integer(&a, 2);
	aml_integer(&a, 0xff);
	aml_integer(&a, 0x100);
	aml_integer(&a, 0x10000);
	aml_integer(&a, 0x100000000ULL);
	aml_integer(&a, UINT64_MAX);
	HOLDS(0x00, 0x01, 0x0a, 0x02, 0x0a, 0xff, 0x0b, 0x00, 0x01, 0x0c, 0x00, 0x00, 0x01, 0x00,
	      0x0e, 0, 0, 0, 0, 1, 0, 0, 0, 0xff);
}

static void eisa_ids_compress(void **state)
{
	(void)state;
	/* PNP0501 is 0x0105d041 as iasl's EisaId () gives it; PNP0C0C 0x0c0cd041. */
	aml_eisaid(&a, "PNP0501");
	aml_eisaid(&a, "PNP0C0C");
	HOLDS(0x0c, 0x41, 0xd0, 0x05, 0x01, 0x0c, 0x41, 0xd0, 0x0c, 0x0c);
}

static void bad_eisa_ids_are_refused(void **state)
{
	(void)state;
	const char *bad[] = { "PNP050", "PNP05011", "pnp0501", "PNP050G", "P1P0501", "" };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		aml_init(&a, buf, sizeof(buf));
		aml_eisaid(&a, bad[i]);
		assert_int_equal(aml_error(&a), -EINVAL);
		assert_int_equal(a.len, 0);
	}
}

static void names_and_paths(void **state)
{
	(void)state;
	aml_name_string(&a, "_SB_");
	aml_name_string(&a, "\\_S5_");
	aml_name_string(&a, "\\_SB_.PWRB");
	aml_name_string(&a, "A___.B___.C9__");
	HOLDS('_', 'S', 'B', '_', '\\', '_', 'S', '5', '_', '\\', 0x2e, '_', 'S', 'B', '_', 'P', 'W',
	      'R', 'B', 0x2f, 3, 'A', '_', '_', '_', 'B', '_', '_', '_', 'C', '9', '_', '_');
}

static void bad_names_are_refused(void **state)
{
	(void)state;
	const char *bad[] = { "", "_SB", "_SB__", "1ABC", "ab__", "\\", "\\_SB_.", "_SB_..PWRB",
			      "_SB_-PWRB", "\\\\_SB_" };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		aml_init(&a, buf, sizeof(buf));
		aml_name_string(&a, bad[i]);
		if (aml_error(&a) != -EINVAL)
			fail_msg("name '%s' accepted", bad[i]);
	}
}

/* An If () whose body is n Zero bytes: the PkgLength that precedes the body. */
static void body_of(size_t n)
{
	size_t mark;

	aml_init(&a, buf, sizeof(buf));
	mark = aml_if(&a);
	for (size_t i = 0; i < n; i++)
		aml_integer(&a, 0);
	aml_close(&a, mark);
	assert_int_equal(aml_error(&a), 0);
}

static void pkg_length_at_each_boundary(void **state)
{
	(void)state;
	/* One byte holds up to 63, itself included. */
	body_of(62);
	assert_int_equal(a.len, 1 + 1 + 62);
	assert_int_equal(buf[1], 63);
	assert_int_equal(buf[2], 0);
	/* Then a lead byte (count in bits 6-7, low nibble) and the rest, 8 bits each. */
	body_of(63);
	assert_int_equal(a.len, 1 + 2 + 63);
	assert_int_equal(buf[1], 0x40 | (65 & 0xf));
	assert_int_equal(buf[2], 65 >> 4);
	body_of(0xfff - 2);
	assert_int_equal(buf[1], 0x4f);
	assert_int_equal(buf[2], 0xff);
	body_of(0xfff - 1);
	assert_int_equal(a.len, 1 + 3 + 0xffe);
	assert_int_equal(buf[1], 0x80 | (0x1001 & 0xf));
	assert_int_equal(buf[2], 0x00);
	assert_int_equal(buf[3], 0x01);
	assert_int_equal(buf[4], 0);
}

static void nested_objects(void **state)
{
	(void)state;
	size_t scope = aml_scope(&a, "\\_SB_"), dev, method;

	dev = aml_device(&a, "PWRB");
	aml_close(&a, dev);
	method = aml_method(&a, "_EVT", 1);
	aml_notify(&a, "PWRB", 0x80);
	aml_close(&a, method);
	aml_close(&a, scope);
	HOLDS(0x10, 27, '\\', '_', 'S', 'B', '_',
	      0x5b, 0x82, 5, 'P', 'W', 'R', 'B',
	      0x14, 13, '_', 'E', 'V', 'T', 1, 0x86, 'P', 'W', 'R', 'B', 0x0a, 0x80);
}

static void resource_descriptors(void **state)
{
	(void)state;
	uint8_t res[64];
	struct aml r;

	aml_init(&r, res, sizeof(res));
	aml_res_io(&r, 0x3f8, 8);
	aml_res_irq(&r, 4);
	aml_res_memory32(&r, 0xd0001000, 0x1000);
	aml_res_interrupt(&r, 23);
	aml_res_end(&r);
	aml_buffer(&a, &r);
	HOLDS(0x11, 37, 0x0a, 34,
	      0x47, 0x01, 0xf8, 0x03, 0xf8, 0x03, 0x01, 0x08,
	      0x22, 0x10, 0x00,
	      0x86, 0x09, 0x00, 0x01, 0x00, 0x10, 0x00, 0xd0, 0x00, 0x10, 0x00, 0x00,
	      0x89, 0x06, 0x00, 0x03, 0x01, 23, 0, 0, 0,
	      0x79, 0x00);
}

static void errors_are_sticky_and_bounded(void **state)
{
	(void)state;
	uint8_t res[8];
	struct aml r;
	size_t mark;

	/* An ISA IRQ above 15 does not fit IRQNoFlags; the buffer carries the error out. */
	aml_init(&r, res, sizeof(res));
	aml_res_irq(&r, 16);
	aml_buffer(&a, &r);
	assert_int_equal(aml_error(&a), -EINVAL);
	assert_int_equal(a.len, 0);

	/* Nothing lands past the end, and the first error stays. */
	aml_init(&a, buf, 10);
	mark = aml_if(&a);
	for (int i = 0; i < 20; i++)
		aml_integer(&a, 0);
	aml_close(&a, mark);
	aml_arg(&a, 9);
	assert_int_equal(aml_error(&a), -ENOSPC);
	assert_true(a.len <= 10);
	assert_int_equal(buf[10], 0xa5);

	/* Closing needs room for the PkgLength too. */
	aml_init(&a, buf, 3);
	mark = aml_if(&a);
	aml_integer(&a, 0);
	aml_integer(&a, 0);
	aml_close(&a, mark);
	assert_int_equal(aml_error(&a), -ENOSPC);
	assert_true(a.len <= 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(integers_take_their_shortest_form, fresh),
		cmocka_unit_test_setup(eisa_ids_compress, fresh),
		cmocka_unit_test_setup(bad_eisa_ids_are_refused, fresh),
		cmocka_unit_test_setup(names_and_paths, fresh),
		cmocka_unit_test_setup(bad_names_are_refused, fresh),
		cmocka_unit_test_setup(pkg_length_at_each_boundary, fresh),
		cmocka_unit_test_setup(nested_objects, fresh),
		cmocka_unit_test_setup(resource_descriptors, fresh),
		cmocka_unit_test_setup(errors_are_sticky_and_bounded, fresh),
	};

	return cmocka_run_group_tests_name("aml", tests, NULL, NULL);
}
