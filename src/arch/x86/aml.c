#include "arch/x86/aml.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

/* Opcodes (ACPI 6.4, 20.2) and resource descriptor tags (6.4.2, 6.4.3). */
#define AML_ZERO 0x00
#define AML_ONE 0x01
#define AML_NAME 0x08
#define AML_BYTE 0x0a
#define AML_WORD 0x0b
#define AML_DWORD 0x0c
#define AML_STRING 0x0d
#define AML_QWORD 0x0e
#define AML_SCOPE 0x10
#define AML_BUFFER 0x11
#define AML_PACKAGE 0x12
#define AML_METHOD 0x14
#define AML_DUAL_NAME 0x2e
#define AML_MULTI_NAME 0x2f
#define AML_ROOT '\\'
#define AML_EXT 0x5b
#define AML_EXT_DEVICE 0x82
#define AML_ARG0 0x68
#define AML_NOTIFY 0x86
#define AML_LEQUAL 0x93
#define AML_IF 0xa0
#define AML_ONES 0xff

#define RES_IRQ_NOFLAGS 0x22 /* small item 4, two bytes */
#define RES_IO 0x47          /* small item 8, seven bytes */
#define RES_END 0x79         /* small item 0xf, one byte */
#define RES_MEMORY32 0x86    /* large item 6 */
#define RES_INTERRUPT 0x89   /* large item 9, the extended interrupt descriptor */
#define RES_IO_DECODE16 0x01
#define RES_MEMORY32_RW 0x01
/* Interrupt (): consumer, edge-triggered; active high and exclusive are zeros. */
#define RES_INT_CONSUMER 0x01
#define RES_INT_EDGE 0x02

#define AML_NAME_SEG 4
#define AML_MAX_SEGS 255
#define AML_PKG_MAX 0x0fffffffU /* PkgLength holds 28 bits */

void aml_init(struct aml *a, uint8_t *buf, size_t cap)
{
	a->buf = buf;
	a->cap = cap;
	a->len = 0;
	a->error = 0;
}

int aml_error(const struct aml *a)
{
	return a->error;
}

static void aml_fail(struct aml *a, int err)
{
	if (!a->error)
		a->error = err;
}

static void aml_put(struct aml *a, const void *p, size_t n)
{
	if (a->error)
		return;
	if (n > a->cap - a->len) {
		aml_fail(a, -ENOSPC);
		return;
	}
	memcpy(a->buf + a->len, p, n);
	a->len += n;
}

static void aml_byte(struct aml *a, uint8_t b)
{
	aml_put(a, &b, 1);
}

/* Little-endian, as every multi-byte AML and resource field is. */
static void aml_le(struct aml *a, uint64_t v, unsigned int bytes)
{
	for (unsigned int i = 0; i < bytes; i++)
		aml_byte(a, (uint8_t)(v >> (8 * i)));
}

void aml_integer(struct aml *a, uint64_t v)
{
	if (v == 0) {
		aml_byte(a, AML_ZERO);
	} else if (v == 1) {
		aml_byte(a, AML_ONE);
	} else if (v == UINT64_MAX) {
		aml_byte(a, AML_ONES);
	} else if (v <= UINT8_MAX) {
		aml_byte(a, AML_BYTE);
		aml_le(a, v, 1);
	} else if (v <= UINT16_MAX) {
		aml_byte(a, AML_WORD);
		aml_le(a, v, 2);
	} else if (v <= UINT32_MAX) {
		aml_byte(a, AML_DWORD);
		aml_le(a, v, 4);
	} else {
		aml_byte(a, AML_QWORD);
		aml_le(a, v, 8);
	}
}

void aml_string(struct aml *a, const char *s)
{
	size_t n = strlen(s);

	for (size_t i = 0; i < n; i++) {
		if (s[i] < 0x20 || s[i] > 0x7e) {
			aml_fail(a, -EINVAL);
			return;
		}
	}
	aml_byte(a, AML_STRING);
	aml_put(a, s, n + 1);
}

static bool aml_is_upper(char c)
{
	return c >= 'A' && c <= 'Z';
}

static int aml_hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

void aml_eisaid(struct aml *a, const char *id)
{
	uint32_t v = 0;

	if (strlen(id) != 7 || !aml_is_upper(id[0]) || !aml_is_upper(id[1]) || !aml_is_upper(id[2])) {
		aml_fail(a, -EINVAL);
		return;
	}
	/* Three letters of five bits each ('A' is 1), then four nibbles, stored big-endian. */
	for (int i = 0; i < 3; i++)
		v = (v << 5) | (uint32_t)(id[i] - '@');
	for (int i = 3; i < 7; i++) {
		int digit = aml_hex_digit(id[i]);

		if (digit < 0) {
			aml_fail(a, -EINVAL);
			return;
		}
		v = (v << 4) | (uint32_t)digit;
	}
	aml_integer(a, __builtin_bswap32(v));
}

static bool aml_seg_char(char c, bool first)
{
	return aml_is_upper(c) || c == '_' || (!first && c >= '0' && c <= '9');
}

void aml_name_string(struct aml *a, const char *path)
{
	const char *p = path;
	size_t segs, n;

	if (*p == '\\') {
		aml_byte(a, AML_ROOT);
		p++;
	}
	n = strlen(p);
	/* Segments of exactly four characters, each but the last followed by a dot. */
	if (n % (AML_NAME_SEG + 1) != AML_NAME_SEG) {
		aml_fail(a, -EINVAL);
		return;
	}
	segs = n / (AML_NAME_SEG + 1) + 1;
	for (size_t i = 0; i < n; i++) {
		size_t at = i % (AML_NAME_SEG + 1);

		if (at == AML_NAME_SEG ? p[i] != '.' : !aml_seg_char(p[i], at == 0)) {
			aml_fail(a, -EINVAL);
			return;
		}
	}
	if (segs == 2) {
		aml_byte(a, AML_DUAL_NAME);
	} else if (segs > 2) {
		if (segs > AML_MAX_SEGS) {
			aml_fail(a, -EINVAL);
			return;
		}
		aml_byte(a, AML_MULTI_NAME);
		aml_byte(a, (uint8_t)segs);
	}
	for (size_t i = 0; i < segs; i++)
		aml_put(a, p + i * (AML_NAME_SEG + 1), AML_NAME_SEG);
}

void aml_name(struct aml *a, const char *name)
{
	aml_byte(a, AML_NAME);
	aml_name_string(a, name);
}

void aml_arg(struct aml *a, unsigned int n)
{
	if (n > 6) {
		aml_fail(a, -EINVAL);
		return;
	}
	aml_byte(a, (uint8_t)(AML_ARG0 + n));
}

void aml_lequal(struct aml *a)
{
	aml_byte(a, AML_LEQUAL);
}

void aml_notify(struct aml *a, const char *path, uint64_t value)
{
	aml_byte(a, AML_NOTIFY);
	aml_name_string(a, path);
	aml_integer(a, value);
}

/* The body of an object starts here; aml_close gives it its PkgLength. */
static size_t aml_open(struct aml *a, const uint8_t *op, size_t n)
{
	aml_put(a, op, n);
	return a->len;
}

void aml_close(struct aml *a, size_t mark)
{
	size_t body, total, n;
	uint8_t pkg[4];

	if (a->error)
		return;
	if (mark > a->len) {
		aml_fail(a, -EINVAL);
		return;
	}
	body = a->len - mark;
	/* PkgLength counts its own bytes: one up to 63, else a lead byte and 1-3 more. */
	if (body + 1 <= 0x3f)
		n = 1;
	else if (body + 2 <= 0xfff)
		n = 2;
	else if (body + 3 <= 0xfffff)
		n = 3;
	else
		n = 4;
	total = body + n;
	if (total > AML_PKG_MAX) {
		aml_fail(a, -ENOSPC);
		return;
	}
	if (n == 1) {
		pkg[0] = (uint8_t)total;
	} else {
		pkg[0] = (uint8_t)(((n - 1) << 6) | (total & 0xf));
		for (size_t i = 1; i < n; i++)
			pkg[i] = (uint8_t)(total >> (4 + 8 * (i - 1)));
	}
	if (n > a->cap - a->len) {
		aml_fail(a, -ENOSPC);
		return;
	}
	memmove(a->buf + mark + n, a->buf + mark, body);
	memcpy(a->buf + mark, pkg, n);
	a->len += n;
}

size_t aml_scope(struct aml *a, const char *path)
{
	static const uint8_t op[] = { AML_SCOPE };
	size_t mark = aml_open(a, op, sizeof(op));

	aml_name_string(a, path);
	return mark;
}

size_t aml_device(struct aml *a, const char *name)
{
	static const uint8_t op[] = { AML_EXT, AML_EXT_DEVICE };
	size_t mark = aml_open(a, op, sizeof(op));

	aml_name_string(a, name);
	return mark;
}

size_t aml_method(struct aml *a, const char *name, unsigned int args)
{
	static const uint8_t op[] = { AML_METHOD };
	size_t mark = aml_open(a, op, sizeof(op));

	aml_name_string(a, name);
	if (args > 7)
		aml_fail(a, -EINVAL);
	/* MethodFlags: the argument count; not serialized, sync level 0. */
	aml_byte(a, (uint8_t)(args & 7));
	return mark;
}

size_t aml_if(struct aml *a)
{
	static const uint8_t op[] = { AML_IF };

	return aml_open(a, op, sizeof(op));
}

size_t aml_package(struct aml *a, uint8_t count)
{
	static const uint8_t op[] = { AML_PACKAGE };
	size_t mark = aml_open(a, op, sizeof(op));

	aml_byte(a, count);
	return mark;
}

void aml_buffer(struct aml *a, const struct aml *r)
{
	static const uint8_t op[] = { AML_BUFFER };
	size_t mark;

	if (r->error) {
		aml_fail(a, r->error);
		return;
	}
	mark = aml_open(a, op, sizeof(op));
	aml_integer(a, r->len);
	aml_put(a, r->buf, r->len);
	aml_close(a, mark);
}

void aml_res_io(struct aml *r, uint16_t base, uint8_t len)
{
	aml_byte(r, RES_IO);
	aml_byte(r, RES_IO_DECODE16);
	aml_le(r, base, 2); /* minimum */
	aml_le(r, base, 2); /* maximum: fixed at base */
	aml_byte(r, 1);     /* alignment */
	aml_byte(r, len);
}

void aml_res_irq(struct aml *r, unsigned int irq)
{
	if (irq >= 16) {
		aml_fail(r, -EINVAL);
		return;
	}
	aml_byte(r, RES_IRQ_NOFLAGS);
	aml_le(r, 1U << irq, 2);
}

void aml_res_memory32(struct aml *r, uint32_t base, uint32_t len)
{
	aml_byte(r, RES_MEMORY32);
	aml_le(r, 9, 2); /* the descriptor's length after its tag and this field */
	aml_byte(r, RES_MEMORY32_RW);
	aml_le(r, base, 4);
	aml_le(r, len, 4);
}

void aml_res_interrupt(struct aml *r, uint32_t gsi)
{
	aml_byte(r, RES_INTERRUPT);
	aml_le(r, 6, 2); /* flags, count, one interrupt */
	aml_byte(r, RES_INT_CONSUMER | RES_INT_EDGE);
	aml_byte(r, 1);
	aml_le(r, gsi, 4);
}

void aml_res_end(struct aml *r)
{
	/* A zero checksum: the descriptors are taken as they are (6.4.2.9). */
	aml_byte(r, RES_END);
	aml_byte(r, 0);
}
