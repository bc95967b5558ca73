/* The PVM instruction finisher's decoder and emulator on synthetic register state. */
#include <setjmp.h>
#include <stdarg.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <asm/processor-flags.h>

#include "arch/x86/insn.h"

static const struct insn_mode long64 = { .long64 = true };
static const struct insn_mode prot32 = { .db32 = true };

static void decode_int3(void **state)
{
	(void)state;
	const uint8_t b[] = { 0xcc, 0x90 };
	struct insn insn;
	struct kvm_regs regs = { .rip = 0x1000 };

	assert_int_equal(insn_decode(b, sizeof(b), &long64, &insn), 0);
	assert_int_equal(insn.kind, INSN_INT3);
	assert_int_equal(insn.len, 1);
	assert_int_equal(insn_next_rip(&insn, &long64, 0xffffffff81000000ULL), 0xffffffff81000001ULL);
	/* int3 needs an injected #BP, which the emulator cannot do on registers alone. */
	assert_int_equal(insn_emulate(&insn, &long64, &regs), -EINVAL);
	assert_int_equal(regs.rip, 0x1000);
}

static void popcnt_64(void **state)
{
	(void)state;
	/* popcnt %rdi, %rax: as the kernel's __arch_hweight64 emits it */
	const uint8_t b[] = { 0xf3, 0x48, 0x0f, 0xb8, 0xc7 };
	struct insn insn;
	struct kvm_regs regs = {
		.rdi = 0xf0f0f0f0f0f0f0f0ULL, .rax = 0x1234, .rip = 0xffffffff81000000ULL,
		.rflags = X86_EFLAGS_FIXED | X86_EFLAGS_ZF | X86_EFLAGS_CF | X86_EFLAGS_IF,
	};

	assert_int_equal(insn_decode(b, sizeof(b), &long64, &insn), 0);
	assert_int_equal(insn.kind, INSN_POPCNT);
	assert_int_equal(insn.len, 5);
	assert_int_equal(insn.opsize, 8);
	assert_int_equal(insn_emulate(&insn, &long64, &regs), 0);
	assert_int_equal(regs.rax, 32);
	assert_int_equal(regs.rip, 0xffffffff81000005ULL);
	assert_int_equal(regs.rflags, X86_EFLAGS_FIXED | X86_EFLAGS_IF);
}

static void popcnt_32_zero_extends_and_sets_zf(void **state)
{
	(void)state;
	/* popcnt %ecx, %r9d (REX.R) */
	const uint8_t b[] = { 0xf3, 0x44, 0x0f, 0xb8, 0xc9 };
	struct insn insn;
	struct kvm_regs regs = { .rcx = 0xffffffff00000000ULL, .r9 = ~0ULL, .rflags = X86_EFLAGS_FIXED };

	assert_int_equal(insn_decode(b, sizeof(b), &long64, &insn), 0);
	assert_int_equal(insn.opsize, 4);
	assert_int_equal(insn.dst, 9);
	assert_int_equal(insn.src, 1);
	assert_int_equal(insn_emulate(&insn, &long64, &regs), 0);
	assert_int_equal(regs.r9, 0);
	assert_true(regs.rflags & X86_EFLAGS_ZF);
}

static void popcnt_16_keeps_upper_bits(void **state)
{
	(void)state;
	/* 66 prefix before F3: popcnt %r15w, %bx (REX.B) */
	const uint8_t b[] = { 0x66, 0xf3, 0x41, 0x0f, 0xb8, 0xdf };
	struct insn insn;
	struct kvm_regs regs = { .r15 = 0xffff00000000000fULL, .rbx = 0xaaaaaaaaaaaaaaaaULL };

	assert_int_equal(insn_decode(b, sizeof(b), &long64, &insn), 0);
	assert_int_equal(insn.opsize, 2);
	assert_int_equal(insn.len, 6);
	assert_int_equal(insn_emulate(&insn, &long64, &regs), 0);
	assert_int_equal(regs.rbx, 0xaaaaaaaaaaaa0004ULL);
}

static void popcnt_32bit_mode(void **state)
{
	(void)state;
	/* Outside 64-bit mode 0x48 is "dec eax", not REX: not a popcnt this decoder takes. */
	const uint8_t rexlike[] = { 0xf3, 0x48, 0x0f, 0xb8, 0xc7 };
	const uint8_t b[] = { 0xf3, 0x0f, 0xb8, 0xc7 };
	struct insn insn;
	struct kvm_regs regs = { .rdi = 7, .rip = 0xfffffffe };

	assert_int_equal(insn_decode(rexlike, sizeof(rexlike), &prot32, &insn), -ENOTSUP);
	assert_int_equal(insn_decode(b, sizeof(b), &prot32, &insn), 0);
	assert_int_equal(insn.opsize, 4);
	assert_int_equal(insn_emulate(&insn, &prot32, &regs), 0);
	assert_int_equal(regs.rax, 3);
	assert_int_equal(regs.rip, 2); /* EIP wraps at 4 GiB */
}

static void popcnt_memory_operand_refused(void **state)
{
	(void)state;
	/* popcnt (%rdi), %rax */
	const uint8_t b[] = { 0xf3, 0x48, 0x0f, 0xb8, 0x07 };
	struct insn insn;

	assert_int_equal(insn_decode(b, sizeof(b), &long64, &insn), -ENOTSUP);
}

static void clac_stac(void **state)
{
	(void)state;
	const uint8_t clac[] = { 0x0f, 0x01, 0xca };
	const uint8_t stac[] = { 0x0f, 0x01, 0xcb };
	struct insn insn;
	struct kvm_regs regs = { .rflags = X86_EFLAGS_FIXED, .rip = 0x100 };

	assert_int_equal(insn_decode(stac, sizeof(stac), &long64, &insn), 0);
	assert_int_equal(insn.kind, INSN_STAC);
	assert_int_equal(insn_emulate(&insn, &long64, &regs), 0);
	assert_true(regs.rflags & X86_EFLAGS_AC);
	assert_int_equal(regs.rip, 0x103);
	assert_int_equal(insn_decode(clac, sizeof(clac), &long64, &insn), 0);
	assert_int_equal(insn.kind, INSN_CLAC);
	assert_int_equal(insn_emulate(&insn, &long64, &regs), 0);
	assert_false(regs.rflags & X86_EFLAGS_AC);
	assert_int_equal(regs.rip, 0x106);
}

static void fwait(void **state)
{
	(void)state;
	const uint8_t b[] = { 0x9b, 0x65, 0x48 };
	const uint8_t prefixed[] = { 0x66, 0x9b };
	struct insn insn;
	struct kvm_regs regs = { .rip = 0xffffffff810169f6ULL, .rax = 5 };

	assert_int_equal(insn_decode(b, sizeof(b), &long64, &insn), 0);
	assert_int_equal(insn.kind, INSN_FWAIT);
	assert_int_equal(insn_emulate(&insn, &long64, &regs), 0);
	assert_int_equal(regs.rip, 0xffffffff810169f7ULL);
	assert_int_equal(regs.rax, 5);
	assert_int_equal(insn_decode(prefixed, sizeof(prefixed), &long64, &insn), -ENOTSUP);
}

static void truncated_and_unknown(void **state)
{
	(void)state;
	const uint8_t xrstor[] = { 0x48, 0x0f, 0xae, 0x2f };
	const uint8_t cmpxchg16b[] = { 0xf0, 0x48, 0x0f, 0xc7, 0x0e };
	const uint8_t popcnt[] = { 0xf3, 0x48, 0x0f, 0xb8, 0xc7 };
	const uint8_t prefixed_int3[] = { 0x66, 0xcc };
	uint8_t prefixes[32];
	struct insn insn;

	assert_int_equal(insn_decode(xrstor, sizeof(xrstor), &long64, &insn), -ENOTSUP);
	assert_int_equal(insn_decode(cmpxchg16b, sizeof(cmpxchg16b), &long64, &insn), -ENOTSUP);
	assert_int_equal(insn_decode(prefixed_int3, sizeof(prefixed_int3), &long64, &insn), -ENOTSUP);
	assert_int_equal(insn_decode(popcnt, 0, &long64, &insn), -ENOTSUP);
	/* Every truncation of a valid popcnt is refused, never read past. */
	for (size_t n = 1; n < sizeof(popcnt); n++)
		assert_int_equal(insn_decode(popcnt, n, &long64, &insn), -ENOTSUP);
	/* Prefixes forever: the 15-byte limit ends the scan. */
	memset(prefixes, 0xf3, sizeof(prefixes));
	assert_int_equal(insn_decode(prefixes, sizeof(prefixes), &long64, &insn), -ENOTSUP);
	/* A 15-byte popcnt (11 prefixes) decodes; with 12 it would be 16 bytes long. */
	memcpy(prefixes + 11, (const uint8_t[]){ 0x48, 0x0f, 0xb8, 0xc7 }, 4);
	assert_int_equal(insn_decode(prefixes, sizeof(prefixes), &long64, &insn), 0);
	assert_int_equal(insn.len, 15);
	memset(prefixes, 0xf3, sizeof(prefixes));
	memcpy(prefixes + 12, (const uint8_t[]){ 0x48, 0x0f, 0xb8, 0xc7 }, 4);
	assert_int_equal(insn_decode(prefixes, sizeof(prefixes), &long64, &insn), -ENOTSUP);
	/* Segment overrides are not part of a register popcnt this decoder finishes. */
	memcpy(prefixes, (const uint8_t[]){ 0x2e, 0xf3, 0x48, 0x0f, 0xb8, 0xc7 }, 6);
	assert_int_equal(insn_decode(prefixes, 6, &long64, &insn), -ENOTSUP);
}

static void names(void **state)
{
	(void)state;
	assert_string_equal(insn_name(INSN_INT3), "int3");
	assert_string_equal(insn_name(INSN_POPCNT), "popcnt");
	assert_string_equal(insn_name(INSN_CLAC), "clac");
	assert_string_equal(insn_name(INSN_STAC), "stac");
	assert_string_equal(insn_name(INSN_FWAIT), "fwait");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(decode_int3),
		cmocka_unit_test(popcnt_64),
		cmocka_unit_test(popcnt_32_zero_extends_and_sets_zf),
		cmocka_unit_test(popcnt_16_keeps_upper_bits),
		cmocka_unit_test(popcnt_32bit_mode),
		cmocka_unit_test(popcnt_memory_operand_refused),
		cmocka_unit_test(clac_stac),
		cmocka_unit_test(fwait),
		cmocka_unit_test(truncated_and_unknown),
		cmocka_unit_test(names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
