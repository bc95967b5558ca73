/*
 * Seeds for the guest_insn harness (fuzz_guest_insn.c): each instruction the VMM
 * finishes, fetched through each kind of guest paging, with an instruction
 * split across two pages.
 */
#include <asm/kvm.h>
#include <asm/processor-flags.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "seeds.h"

/* Where the harness puts the window; the seeds' page tables point into it. */
#define WINDOW 0x100000ULL
#define WINDOW_SIZE 0x8000U
#define CODE 0x2800U           /* in the window, past the tables */
#define EFER_LME (1ULL << 8)
#define EFER_LMA (1ULL << 10)
#define PTE_P 0x1ULL
#define PTE_W 0x2ULL
#define PTE_PS 0x80ULL

struct insn_seed {
	uint64_t cr0, cr3, cr4, efer;
	uint64_t cs_base;
	uint8_t cs_l, cs_db;
	uint8_t unused[6];
	struct kvm_regs regs;
	uint8_t window[WINDOW_SIZE];
};

static struct insn_seed s;

static void pte64(uint32_t table, unsigned int index, uint64_t value)
{
	memcpy(s.window + table + 8 * index, &value, sizeof(value));
}

static void start(uint64_t cr0, uint64_t cr4, uint64_t efer, uint64_t cr3, bool cs_l, uint64_t rip)
{
	memset(&s, 0, sizeof(s));
	s.cr0 = cr0 | X86_CR0_PE;
	s.cr4 = cr4;
	s.efer = efer;
	s.cr3 = cr3;
	s.cs_l = cs_l;
	s.cs_db = !cs_l;
	s.regs = (struct kvm_regs){ .rax = 0xf0f0f0f0f0f0f0f0ULL, .rcx = 0x8000000000000001ULL,
				    .rdi = 0x123456789abcdefULL, .rip = rip, .rflags = 0x2 };
}

/* Writes the seed without the window's trailing zeros: the harness's RAM starts zeroed. */
static void code(uint32_t off, const char *bytes, size_t len, const char *name)
{
	size_t size = WINDOW_SIZE;

	memcpy(s.window + off, bytes, len);
	while (size > 0 && s.window[size - 1] == 0)
		size--;
	write_seed("guest_insn", name, &s, offsetof(struct insn_seed, window) + size);
}

void synthetic_guest_insn(void)
{
	static const struct {
		const char *name;
		const char *bytes;
		size_t len;
	} insns[] = {
		{ "int3", "\xcc", 1 },
		{ "fwait", "\x9b", 1 },
		{ "clac", "\x0f\x01\xca", 3 },
		{ "stac", "\x0f\x01\xcb", 3 },
		{ "popcnt64", "\xf3\x48\x0f\xb8\xc7", 5 },
		{ "popcnt16", "\x66\xf3\x0f\xb8\xc1", 5 },
		{ "popcnt-rex-r15", "\xf3\x4d\x0f\xb8\xff", 5 },
		{ "popcnt-memory", "\xf3\x0f\xb8\x07", 4 },
	};
	const uint64_t long_cr4 = X86_CR4_PAE, long_efer = EFER_LME | EFER_LMA;
	char name[64];

	/* 4-level paging, the code in a 2 MiB page mapping the first 2 MiB one to one. */
	for (size_t i = 0; i < sizeof(insns) / sizeof(insns[0]); i++) {
		start(X86_CR0_PG, long_cr4, long_efer, WINDOW, true, WINDOW + CODE);
		pte64(0x0000, 0, WINDOW + 0x1000 + (PTE_P | PTE_W));
		pte64(0x1000, 0, WINDOW + 0x2000 + (PTE_P | PTE_W));
		pte64(0x2000, 0, 0 + (PTE_P | PTE_W | PTE_PS));
		snprintf(name, sizeof(name), "long4-%s", insns[i].name);
		code(CODE, insns[i].bytes, insns[i].len, name);
	}

	/* 4 KiB pages, the instruction split across two of them mapped far apart. */
	start(X86_CR0_PG, long_cr4, long_efer, WINDOW, true, 0x400ffeULL);
	pte64(0x0000, 0, WINDOW + 0x1000 + (PTE_P | PTE_W));
	pte64(0x1000, 0, WINDOW + 0x2000 + (PTE_P | PTE_W));
	pte64(0x2000, 2, WINDOW + 0x3000 + (PTE_P | PTE_W));
	pte64(0x3000, 0, WINDOW + 0x5000 + (PTE_P | PTE_W));
	pte64(0x3000, 1, WINDOW + 0x4000 + (PTE_P | PTE_W));
	memcpy(s.window + 0x5ffe, "\xf3\x48", 2);
	code(0x4000, "\x0f\xb8\xc7", 3, "long4-split");

	/* 5-level paging, a 1 GiB page. */
	start(X86_CR0_PG, long_cr4 | X86_CR4_LA57, long_efer, WINDOW, true, WINDOW + CODE);
	pte64(0x0000, 0, WINDOW + 0x1000 + (PTE_P | PTE_W));
	pte64(0x1000, 0, WINDOW + 0x2000 + (PTE_P | PTE_W));
	pte64(0x2000, 0, 0 + (PTE_P | PTE_W | PTE_PS));
	code(CODE, "\xf3\x48\x0f\xb8\xc7", 5, "long5-1g-popcnt");

	/* PAE: a 32-byte-aligned PDPT, a 2 MiB page. */
	start(X86_CR0_PG, X86_CR4_PAE, 0, WINDOW + 0x20, false, WINDOW + CODE);
	pte64(0x0020, 0, WINDOW + 0x1000 + PTE_P);
	pte64(0x1000, 0, 0 + (PTE_P | PTE_W | PTE_PS));
	code(CODE, "\x0f\x01\xcb", 3, "pae-stac");

	/* 32-bit paging: a 4 MiB page (PSE), then 4 KiB pages. */
	start(X86_CR0_PG, X86_CR4_PSE, 0, WINDOW, false, WINDOW + CODE);
	{
		uint32_t pde = 0 | PTE_P | PTE_W | PTE_PS;

		memcpy(s.window, &pde, sizeof(pde));
	}
	code(CODE, "\xf3\x0f\xb8\xc8", 4, "legacy32-pse-popcnt");
	start(X86_CR0_PG, 0, 0, WINDOW, false, 0x1000ULL + (CODE & 0xfff));
	{
		uint32_t pde = (uint32_t)(WINDOW + 0x1000) | PTE_P;
		uint32_t pte = (uint32_t)(WINDOW + (CODE & ~0xfffU)) | PTE_P;

		memcpy(s.window, &pde, sizeof(pde));
		memcpy(s.window + 0x1000 + 4, &pte, sizeof(pte));
	}
	code(CODE, "\x9b", 1, "legacy32-fwait");

	/* No paging, 16-bit code segment with a base. */
	start(0, 0, 0, 0, false, CODE);
	s.cs_db = 0;
	s.cs_base = WINDOW;
	code(CODE, "\xf3\x0f\xb8\xc1", 4, "real-popcnt16");
}
