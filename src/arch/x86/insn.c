#include "arch/x86/insn.h"

#include <asm/processor-flags.h>
#include <errno.h>

#define PREFIX_OPSIZE 0x66
#define PREFIX_REP 0xf3

static bool insn_is_legacy_prefix(uint8_t b)
{
	switch (b) {
	case 0x26: case 0x2e: case 0x36: case 0x3e: case 0x64: case 0x65: /* segments */
	case 0x66: case 0x67: case 0xf0: case 0xf2: case 0xf3:
		return true;
	default:
		return false;
	}
}

int insn_decode(const uint8_t *bytes, size_t n, const struct insn_mode *mode, struct insn *out)
{
	bool opsize16 = false, rep = false, other_prefix = false;
	uint8_t rex = 0;
	size_t i = 0;

	if (n > INSN_MAX_LEN)
		n = INSN_MAX_LEN;
	while (i < n && insn_is_legacy_prefix(bytes[i])) {
		if (bytes[i] == PREFIX_OPSIZE)
			opsize16 = true;
		else if (bytes[i] == PREFIX_REP)
			rep = true;
		else
			other_prefix = true;
		i++;
	}
	/* REX counts only directly before the opcode, and only in 64-bit mode. */
	if (mode->long64 && i < n && (bytes[i] & 0xf0) == 0x40)
		rex = bytes[i++];
	if (i >= n)
		return -ENOTSUP;

	if (bytes[i] == 0xcc && i == 0) {
		*out = (struct insn){ .kind = INSN_INT3, .len = 1 };
		return 0;
	}
	if (bytes[i] == 0x9b && i == 0) {
		*out = (struct insn){ .kind = INSN_FWAIT, .len = 1 };
		return 0;
	}
	if (i + 3 > n || bytes[i] != 0x0f)
		return -ENOTSUP;
	if (bytes[i + 1] == 0x01 && i == 0 && (bytes[i + 2] == 0xca || bytes[i + 2] == 0xcb)) {
		*out = (struct insn){ .kind = bytes[i + 2] == 0xca ? INSN_CLAC : INSN_STAC, .len = 3 };
		return 0;
	}
	if (bytes[i + 1] == 0xb8 && rep && !other_prefix) {
		uint8_t modrm = bytes[i + 2];

		/* mod != 3 is a memory source: not finished here, the VMM reports it. */
		if ((modrm >> 6) != 3)
			return -ENOTSUP;
		*out = (struct insn){
			.kind = INSN_POPCNT,
			.len = (unsigned int)(i + 3),
			.dst = ((modrm >> 3) & 7) | ((rex & 0x4) ? 8 : 0),
			.src = (modrm & 7) | ((rex & 0x1) ? 8 : 0),
		};
		if (rex & 0x8)
			out->opsize = 8;
		else if (mode->long64 || mode->db32)
			out->opsize = opsize16 ? 2 : 4;
		else
			out->opsize = opsize16 ? 4 : 2;
		return 0;
	}
	return -ENOTSUP;
}

static __u64 *insn_reg(struct kvm_regs *regs, unsigned int nr)
{
	/* Encoding order differs from struct kvm_regs' field order. */
	switch (nr) {
	case 0: return &regs->rax;
	case 1: return &regs->rcx;
	case 2: return &regs->rdx;
	case 3: return &regs->rbx;
	case 4: return &regs->rsp;
	case 5: return &regs->rbp;
	case 6: return &regs->rsi;
	case 7: return &regs->rdi;
	case 8: return &regs->r8;
	case 9: return &regs->r9;
	case 10: return &regs->r10;
	case 11: return &regs->r11;
	case 12: return &regs->r12;
	case 13: return &regs->r13;
	case 14: return &regs->r14;
	case 15: return &regs->r15;
	default: return NULL;
	}
}

uint64_t insn_next_rip(const struct insn *insn, const struct insn_mode *mode, uint64_t rip)
{
	uint64_t next = rip + insn->len;

	return mode->long64 ? next : (next & 0xffffffffULL);
}

static int insn_popcnt(const struct insn *insn, struct kvm_regs *regs)
{
	__u64 *dst = insn_reg(regs, insn->dst);
	__u64 *src = insn_reg(regs, insn->src);
	uint64_t val, count;

	if (!dst || !src)
		return -EINVAL;
	switch (insn->opsize) {
	case 2: val = *src & 0xffff; break;
	case 4: val = *src & 0xffffffffULL; break;
	case 8: val = *src; break;
	default: return -EINVAL;
	}
	count = (uint64_t)__builtin_popcountll(val);
	/* 32-bit results zero-extend; 16-bit ones keep the upper bits, as on hardware. */
	if (insn->opsize == 2)
		*dst = (*dst & ~0xffffULL) | count;
	else
		*dst = count;
	regs->rflags &= ~(uint64_t)(X86_EFLAGS_OF | X86_EFLAGS_SF | X86_EFLAGS_ZF | X86_EFLAGS_AF |
				    X86_EFLAGS_CF | X86_EFLAGS_PF);
	if (val == 0)
		regs->rflags |= X86_EFLAGS_ZF;
	return 0;
}

int insn_emulate(const struct insn *insn, const struct insn_mode *mode, struct kvm_regs *regs)
{
	int ret;

	switch (insn->kind) {
	case INSN_POPCNT:
		ret = insn_popcnt(insn, regs);
		if (ret)
			return ret;
		break;
	case INSN_CLAC:
		regs->rflags &= ~(uint64_t)X86_EFLAGS_AC;
		break;
	case INSN_STAC:
		regs->rflags |= X86_EFLAGS_AC;
		break;
	case INSN_FWAIT:
		break;
	case INSN_INT3:
	default:
		return -EINVAL;
	}
	regs->rip = insn_next_rip(insn, mode, regs->rip);
	return 0;
}

const char *insn_name(enum insn_kind kind)
{
	switch (kind) {
	case INSN_INT3: return "int3";
	case INSN_POPCNT: return "popcnt";
	case INSN_CLAC: return "clac";
	case INSN_STAC: return "stac";
	case INSN_FWAIT: return "fwait";
	default: return "?";
	}
}
