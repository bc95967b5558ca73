/*
 * A deliberately tiny x86 decoder and emulator for the few instructions a PVM host's
 * in-kernel emulator cannot run (../shared/docs/HOST-KVM.md). Instruction bytes are
 * hostile input: decoding never reads past the bytes given and never more than 15.
 * Pure: works on struct kvm_regs, so unit tests drive it with synthetic state.
 */
#ifndef MICROVM_ARCH_X86_INSN_H
#define MICROVM_ARCH_X86_INSN_H

#include <asm/kvm.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "microvm/compiler.h"

#define INSN_MAX_LEN 15

enum insn_kind {
	INSN_INT3,   /* CC: finished by injecting #BP */
	INSN_POPCNT, /* F3 [REX] 0F B8 /r, register source only */
	INSN_CLAC,   /* 0F 01 CA */
	INSN_STAC,   /* 0F 01 CB */
	INSN_FWAIT,  /* 9B: a no-op unless an x87 exception is pending or CR0.TS+MP trap it */
};
#define INSN_NR_KINDS (INSN_FWAIT + 1)

struct insn {
	enum insn_kind kind;
	unsigned int len;
	unsigned int opsize; /* operand bytes: 2, 4 or 8 */
	unsigned int dst;    /* register numbers in encoding order: 0 = rax ... 15 = r15 */
	unsigned int src;
};

/* CPU mode bits the decoder needs, from CS. */
struct insn_mode {
	bool long64; /* CS.L in long mode */
	bool db32;   /* CS.D: 32-bit default operand size outside 64-bit mode */
};

/* -ENOTSUP for anything not listed in enum insn_kind (including popcnt with a memory operand). */
MUST_CHECK int insn_decode(const uint8_t *bytes, size_t n, const struct insn_mode *mode,
			   struct insn *out);
/* Applies a decoded POPCNT/CLAC/STAC/FWAIT to regs (FWAIT: caller checked it cannot fault), RIP included; -EINVAL for INT3 (it needs an event). */
MUST_CHECK int insn_emulate(const struct insn *insn, const struct insn_mode *mode,
			    struct kvm_regs *regs);
/* RIP after the instruction, wrapped as the mode wraps it. */
uint64_t insn_next_rip(const struct insn *insn, const struct insn_mode *mode, uint64_t rip);
const char *insn_name(enum insn_kind kind);

#endif
