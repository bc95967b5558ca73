/*
 * A writer of ACPI Machine Language (ACPI 6.4, chapter 20) and resource descriptors
 * (section 6.4) into a bounded buffer: what microvm's DSDT needs, nothing more. Errors
 * are sticky: once something does not fit (-ENOSPC) or a name is malformed (-EINVAL),
 * every later write is dropped and aml_error reports the first failure, so a builder
 * checks once, at the end.
 *
 * Objects with a body (scope, device, method, if, package) are opened by a call that
 * returns a mark and closed by aml_close(mark), which inserts the body's PkgLength.
 */
#ifndef MICROVM_ARCH_X86_AML_H
#define MICROVM_ARCH_X86_AML_H

#include <stddef.h>
#include <stdint.h>

#include "microvm/compiler.h"

struct aml {
	uint8_t *buf;
	size_t cap, len;
	int error;  /* 0, or the first -errno */
};

void aml_init(struct aml *a, uint8_t *buf, size_t cap);
/* 0, or the first failure since aml_init. */
MUST_CHECK int aml_error(const struct aml *a);

/* An integer in its shortest encoding (Zero, One, Ones, ByteConst ... QWordConst). */
void aml_integer(struct aml *a, uint64_t v);
/* A string of printable ASCII. */
void aml_string(struct aml *a, const char *s);
/* A compressed EISA id ("PNP0501": three capitals, four hex digits) as _HID takes it. */
void aml_eisaid(struct aml *a, const char *id);
/* A name: 4-character segments joined by '.', optionally rooted ("\\_SB_.PWRB"). */
void aml_name_string(struct aml *a, const char *path);
/* Name (NAME, ...): the object named comes next. */
void aml_name(struct aml *a, const char *name);
/* Arg0 ... Arg6 of the enclosing method. */
void aml_arg(struct aml *a, unsigned int n);
/* LEqual (...): its two operands come next. */
void aml_lequal(struct aml *a);
/* Notify (PATH, VALUE). */
void aml_notify(struct aml *a, const char *path, uint64_t value);
/* Buffer () holding r's bytes (a resource template built with aml_res_*); r's error is a's. */
void aml_buffer(struct aml *a, const struct aml *r);

/* Scope (PATH) {, Device (NAME) {, Method (NAME, args) {, If (predicate) {, Package (n) { */
MUST_CHECK size_t aml_scope(struct aml *a, const char *path);
MUST_CHECK size_t aml_device(struct aml *a, const char *name);
MUST_CHECK size_t aml_method(struct aml *a, const char *name, unsigned int args);
MUST_CHECK size_t aml_if(struct aml *a);
MUST_CHECK size_t aml_package(struct aml *a, uint8_t count);
/* } for the object opened at mark. */
void aml_close(struct aml *a, size_t mark);

/* Resource descriptors, for a buffer of their own that aml_buffer then emits: */
/* IO (Decode16, base, base, 1, len) */
void aml_res_io(struct aml *r, uint16_t base, uint8_t len);
/* IRQNoFlags () {irq}, an ISA line below 16 */
void aml_res_irq(struct aml *r, unsigned int irq);
/* Memory32Fixed (ReadWrite, base, len) */
void aml_res_memory32(struct aml *r, uint32_t base, uint32_t len);
/* Interrupt (ResourceConsumer, Edge, ActiveHigh, Exclusive) {gsi} */
void aml_res_interrupt(struct aml *r, uint32_t gsi);
/* EndTag () */
void aml_res_end(struct aml *r);

#endif
