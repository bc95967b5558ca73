/*
 * What the VMM reads from a guest whose instruction KVM could not emulate
 * (arch/x86/pvm.c): the bytes at CS:RIP through the guest's own page tables
 * (pagewalk.c: no paging, 32-bit, PAE, 4- and 5-level, large pages), then the
 * decoder and emulator for the few instructions it finishes (insn.c). Page
 * tables, code bytes and registers are all the guest's.
 *
 * Input: struct fuzz_insn_header, then up to 64 KiB of guest memory copied to
 * FUZZ_INSN_WINDOW (the page tables and the code live there; entries pointing
 * elsewhere in the 64 MiB of RAM find zeros, beyond it nothing).
 *
 * Checked: the bytes read are exactly those the page tables map, one by one,
 * and the read stops only where a byte does not translate to RAM; a decoded
 * instruction lies within the bytes read and decodes the same from exactly
 * its own bytes; emulation changes RIP as insn_next_rip says, and otherwise
 * only what the instruction writes (popcnt's destination, computed here
 * independently, and its flags; AC for clac/stac; nothing for fwait).
 */
#include <asm/processor-flags.h>
#include <string.h>

#include "arch/x86/insn.h"
#include "arch/x86/pagewalk.h"
#include "harness.h"

#define FUZZ_INSN_WINDOW 0x100000ULL
#define FUZZ_INSN_WINDOW_MAX 0x10000U
#define EFER_LMA (1ULL << 10)

struct fuzz_insn_header {
	uint64_t cr0, cr3, cr4, efer;
	uint64_t cs_base;
	uint8_t cs_l, cs_db;
	uint8_t unused[6];
	struct kvm_regs regs;
};

static void check_read(const struct gmem *mem, const struct pagewalk_ctx *ctx, uint64_t la,
		       const uint8_t *bytes, size_t n, size_t len)
{
	FUZZ_CHECK(n <= len);
	for (size_t i = 0; i <= n && i < len; i++) {
		uint64_t gpa;
		uint8_t b;
		bool ok = pagewalk_translate(mem, ctx, la + i, &gpa) == 0 && gmem_read(mem, gpa, &b, 1) == 0;

		if (i < n)
			FUZZ_CHECK(ok && b == bytes[i]);
		else
			FUZZ_CHECK(!ok);
	}
}

static uint64_t *reg_by_number(struct kvm_regs *r, unsigned int nr)
{
	uint64_t *const regs[16] = {
		(uint64_t *)&r->rax, (uint64_t *)&r->rcx, (uint64_t *)&r->rdx, (uint64_t *)&r->rbx,
		(uint64_t *)&r->rsp, (uint64_t *)&r->rbp, (uint64_t *)&r->rsi, (uint64_t *)&r->rdi,
		(uint64_t *)&r->r8,  (uint64_t *)&r->r9,  (uint64_t *)&r->r10, (uint64_t *)&r->r11,
		(uint64_t *)&r->r12, (uint64_t *)&r->r13, (uint64_t *)&r->r14, (uint64_t *)&r->r15,
	};

	FUZZ_CHECK(nr < 16);
	return regs[nr];
}

static void check_emulation(const struct insn *insn, const struct insn_mode *mode,
			    const struct kvm_regs *before)
{
	const uint64_t arith = X86_EFLAGS_OF | X86_EFLAGS_SF | X86_EFLAGS_ZF | X86_EFLAGS_AF |
			       X86_EFLAGS_CF | X86_EFLAGS_PF;
	struct kvm_regs after = *before, expect = *before;
	int ret = insn_emulate(insn, mode, &after);

	if (insn->kind == INSN_INT3) {
		FUZZ_CHECK(ret != 0 && memcmp(&after, before, sizeof(after)) == 0);
		return;
	}
	FUZZ_CHECK(ret == 0);
	expect.rip = insn_next_rip(insn, mode, before->rip);
	FUZZ_CHECK(expect.rip == (mode->long64 ? before->rip + insn->len
					       : (before->rip + insn->len) & 0xffffffffULL));
	switch (insn->kind) {
	case INSN_POPCNT: {
		uint64_t mask = insn->opsize == 8 ? ~0ULL : (1ULL << (8 * insn->opsize)) - 1;
		uint64_t src = *reg_by_number(&expect, insn->src) & mask;
		uint64_t *dst = reg_by_number(&expect, insn->dst);
		uint64_t count = (uint64_t)__builtin_popcountll(src);

		/* 16-bit results keep the register's upper bits; 32- and 64-bit ones replace it all. */
		*dst = insn->opsize == 2 ? (*dst & ~0xffffULL) | count : count;
		expect.rflags = (expect.rflags & ~arith) | (src ? 0 : X86_EFLAGS_ZF);
		break;
	}
	case INSN_CLAC:
		expect.rflags &= ~(uint64_t)X86_EFLAGS_AC;
		break;
	case INSN_STAC:
		expect.rflags |= X86_EFLAGS_AC;
		break;
	case INSN_FWAIT:
	case INSN_INT3:
	default:
		break;
	}
	FUZZ_CHECK(memcmp(&after, &expect, sizeof(after)) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct gmem *mem = fuzz_ram();
	const struct fuzz_range all_ram = { 0, FUZZ_RAM_SIZE };
	struct fuzz_insn_header h;
	struct pagewalk_ctx ctx;
	struct insn_mode mode;
	struct insn insn, again;
	uint8_t bytes[INSN_MAX_LEN];
	size_t n;
	uint64_t la;

	if (size < sizeof(h))
		return 0;
	memcpy(&h, data, sizeof(h));
	data += sizeof(h);
	size -= sizeof(h);
	FUZZ_CHECK(gmem_write(mem, FUZZ_INSN_WINDOW, data,
			      size < FUZZ_INSN_WINDOW_MAX ? size : FUZZ_INSN_WINDOW_MAX) == 0);

	ctx = (struct pagewalk_ctx){ .cr0 = h.cr0, .cr3 = h.cr3, .cr4 = h.cr4, .efer = h.efer };
	/* As pvm_site_read and pvm_finish derive them from the registers. */
	mode = (struct insn_mode){ .long64 = (h.efer & EFER_LMA) && h.cs_l, .db32 = h.cs_db };
	la = mode.long64 ? h.regs.rip : h.cs_base + (h.regs.rip & 0xffffffffULL);
	n = pagewalk_read(mem, &ctx, la, bytes, sizeof(bytes));
	check_read(mem, &ctx, la, bytes, n, sizeof(bytes));

	if (insn_decode(bytes, n, &mode, &insn) == 0) {
		FUZZ_CHECK(insn.len >= 1 && insn.len <= n && insn.kind < INSN_NR_KINDS);
		FUZZ_CHECK(insn_decode(bytes, insn.len, &mode, &again) == 0 &&
			   memcmp(&insn, &again, sizeof(insn)) == 0);
		if (insn.kind == INSN_POPCNT)
			FUZZ_CHECK((insn.opsize == 2 || insn.opsize == 4 || insn.opsize == 8) &&
				   insn.dst < (mode.long64 ? 16U : 8U) && insn.src < (mode.long64 ? 16U : 8U));
		check_emulation(&insn, &mode, &h.regs);
	}
	/* Reading guest memory makes pages resident too: RAM is only refreshed here. */
	fuzz_ram_check_writes(&all_ram, 1);
	return 0;
}
