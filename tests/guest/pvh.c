/*
 * The tiny guest's report after the PVH entry (pvh.S): the CPU state it was entered
 * with, checked against the PVH ABI (Xen's docs/misc/pvh.pandoc), the hvm_start_info
 * at EBX with its memory map, command line and first module (the initrd), then the
 * rest of the report as after the 64-bit entry. Line format: README.md.
 */
#include <stdint.h>

#include "tiny.h"

#define HVM_START_MAGIC 0x336ec578u
#define SI_SIZE 56              /* version 1 */
#define SI_MAGIC 0
#define SI_VERSION 4
#define SI_FLAGS 8
#define SI_NR_MODULES 12
#define SI_MODLIST 16
#define SI_CMDLINE 24
#define SI_RSDP 32
#define SI_MEMMAP 40
#define SI_MEMMAP_ENTRIES 48
#define MEMMAP_ENTRY_SIZE 24
#define MODLIST_ENTRY_SIZE 32
#define MEMMAP_MAX_ENTRIES 128
#define RSDP_V1_LENGTH 20u
#define PVH_CMDLINE_MAX 4096u   /* the start info gives no bound: the zero page's cap */

#define CR0_PE 0x1u
#define CR0_ET 0x10u
#define EFER_LME 0x100u
#define EFER_LMA 0x400u
#define EFLAGS_TF 0x100u
#define EFLAGS_IF 0x200u
#define EFLAGS_VM 0x20000u
#define FLAT_LIMIT 0xffffffffu
#define TSS_LIMIT 0x67u

/* Recorded by pvh.S before it changed anything. */
extern volatile uint32_t tiny_pvh_ebx, tiny_pvh_cr0, tiny_pvh_cr4, tiny_pvh_efer,
	tiny_pvh_eflags;
extern volatile uint16_t tiny_pvh_sel[5];
extern volatile uint8_t tiny_pvh_gdtr[6];

enum seg_kind { SEG_CODE, SEG_DATA, SEG_TSS };

struct seg {
	uint32_t base, limit;
	const char *what;   /* code16/32/64, data16/32, tss32, system, absent, outside-gdt */
	int ok;             /* what the ABI asks of this register */
};

/* Decodes the descriptor sel names in the VMM's GDT, as the CPU would load it. */
static struct seg seg_decode(uint16_t sel, uint64_t gdt_base, uint32_t gdt_limit,
			     enum seg_kind want)
{
	uint64_t off = sel & ~7u, e;
	struct seg s = { 0, 0, "outside-gdt", 0 };
	uint32_t type;
	int present, system, code, is32, flat;

	if ((sel & 4) || off + 7 > gdt_limit || !phys_mapped(gdt_base + off, 8))
		return s;
	e = phys_read64(gdt_base + off);
	s.base = (uint32_t)(((e >> 16) & 0xffffff) | (((e >> 56) & 0xff) << 24));
	s.limit = (uint32_t)((e & 0xffff) | ((e >> 32) & 0xf0000));
	if ((e >> 55) & 1)
		s.limit = (s.limit << 12) | 0xfff;
	type = (uint32_t)(e >> 40) & 0xf;
	present = (e >> 47) & 1;
	system = !((e >> 44) & 1);
	code = !system && (type & 8);
	is32 = ((e >> 54) & 1) && !((e >> 53) & 1);   /* D/B set, L clear */
	flat = s.base == 0 && s.limit == FLAT_LIMIT;
	if (!present)
		s.what = "absent";
	else if (system)
		s.what = type == 0xb || type == 0x9 ? "tss32" : "system";
	else if (code)
		s.what = (e >> 53) & 1 ? "code64" : is32 ? "code32" : "code16";
	else
		s.what = is32 ? "data32" : "data16";
	/* Code: 32-bit, readable, flat. Data: 32-bit, writable, flat. TR: a busy 32-bit TSS at 0, 0x67 long. */
	if (want == SEG_CODE)
		s.ok = present && code && is32 && (type & 2) && flat;
	else if (want == SEG_DATA)
		s.ok = present && !system && !code && is32 && (type & 2) && flat;
	else
		s.ok = present && system && type == 0xb && s.base == 0 && s.limit == TSS_LIMIT;
	return s;
}

/* The entry state and the ABI's verdict on it; 0 when it all matches. */
static int report_entry_state(void)
{
	static const char *const names[5] = { "cs", "ds", "es", "ss", "tr" };
	static const enum seg_kind kinds[5] = { SEG_CODE, SEG_DATA, SEG_DATA, SEG_DATA, SEG_TSS };
	uint32_t cr0 = tiny_pvh_cr0, cr4 = tiny_pvh_cr4, efer = tiny_pvh_efer;
	uint32_t eflags = tiny_pvh_eflags, gdt_base = 0;
	uint16_t gdt_limit = (uint16_t)(tiny_pvh_gdtr[0] | (tiny_pvh_gdtr[1] << 8));
	int bad_cr0, bad_cr4, bad_efer, bad_eflags, bad_seg = 0;
	unsigned int i;

	for (i = 0; i < 4; i++)
		gdt_base |= (uint32_t)tiny_pvh_gdtr[2 + i] << (8 * i);
	kprintf("pvh: ebx=0x%x cr0=0x%x cr4=0x%x efer=0x%x eflags=0x%x\n", tiny_pvh_ebx, cr0, cr4,
		efer, eflags);
	kprintf("pvh: gdt base=0x%x limit=0x%x\n", gdt_base, gdt_limit);
	for (i = 0; i < 5; i++) {
		struct seg s = seg_decode(tiny_pvh_sel[i], gdt_base, gdt_limit, kinds[i]);

		kprintf("pvh: %s=0x%x %s base=0x%x limit=0x%x\n", names[i], tiny_pvh_sel[i], s.what,
			s.base, s.limit);
		bad_seg |= !s.ok << i;
	}
	/* Of CR0's writable bits only PE (ET is hardwired); paging, PAE and long mode off. */
	bad_cr0 = (cr0 & ~CR0_ET) != CR0_PE;
	bad_cr4 = cr4 != 0;
	bad_efer = (efer & (EFER_LME | EFER_LMA)) != 0;
	bad_eflags = (eflags & (EFLAGS_TF | EFLAGS_IF | EFLAGS_VM)) != 0;
	if (!bad_cr0 && !bad_cr4 && !bad_efer && !bad_eflags && !bad_seg) {
		kprintf("pvh: abi ok\n");
		return 0;
	}
	kprintf("pvh: abi bad%s%s%s%s", bad_cr0 ? " cr0" : "", bad_cr4 ? " cr4" : "",
		bad_efer ? " efer" : "", bad_eflags ? " eflags" : "");
	for (i = 0; i < 5; i++)
		if (bad_seg & (1 << i))
			kprintf(" %s", names[i]);
	kprintf("\n");
	return -1;
}

/*
 * What the start info's rsdp_paddr points at: the RSDP's signature and its ACPI 1.0
 * checksum (over its first 20 bytes), or "none" for 0.
 */
static void report_rsdp(uint64_t rsdp)
{
	uint8_t sum = 0;

	if (rsdp == 0) {
		kprintf("start-info: rsdp none\n");
		return;
	}
	if (!phys_mapped(rsdp, RSDP_V1_LENGTH)) {
		kprintf("start-info: rsdp=0x%lx unmapped\n", rsdp);
		return;
	}
	kprintf("start-info: rsdp signature=");
	for (unsigned int i = 0; i < 8; i++)
		kprintf("%c", printable(phys_read8(rsdp + i)));
	for (unsigned int i = 0; i < RSDP_V1_LENGTH; i++)
		sum = (uint8_t)(sum + phys_read8(rsdp + i));
	kprintf(" checksum=%s\n", sum == 0 ? "ok" : "bad");
}

/* The memory map, in the zero page report's e820 line format. */
static void report_memmap(uint64_t si)
{
	uint64_t map = phys_read64(si + SI_MEMMAP);
	uint32_t n = phys_read32(si + SI_MEMMAP_ENTRIES), i;

	kprintf("e820: entries=%u\n", n);
	if (n > MEMMAP_MAX_ENTRIES)
		n = MEMMAP_MAX_ENTRIES;
	if (!phys_mapped(map, (uint64_t)n * MEMMAP_ENTRY_SIZE)) {
		kprintf("e820: memmap=0x%lx unmapped\n", map);
		return;
	}
	for (i = 0; i < n; i++) {
		uint64_t e = map + (uint64_t)i * MEMMAP_ENTRY_SIZE;

		kprintf("e820: addr=0x%lx size=0x%lx type=%u\n", phys_read64(e), phys_read64(e + 8),
			phys_read32(e + 16));
	}
}

void tiny_main_pvh(void)
{
	uint64_t si = tiny_pvh_ebx, cmdline = 0, modlist;
	uint32_t magic, version, nr_modules;

	kprintf("tiny: hello format=%s entry=pvh\n", TINY_FORMAT);
	report_entry_state();
	if (si == 0 || !phys_mapped(si, SI_SIZE)) {
		kprintf("start-info: addr=0x%lx unmapped\n", si);
		tiny_finish(0, 0);
	}
	magic = phys_read32(si + SI_MAGIC);
	version = phys_read32(si + SI_VERSION);
	nr_modules = phys_read32(si + SI_NR_MODULES);
	modlist = phys_read64(si + SI_MODLIST);
	kprintf("start-info: addr=0x%lx magic=0x%x version=%u flags=0x%x modules=%u modlist=0x%lx "
		"cmdline=0x%lx rsdp=0x%lx memmap=0x%lx entries=%u\n",
		si, magic, version, phys_read32(si + SI_FLAGS), nr_modules, modlist,
		phys_read64(si + SI_CMDLINE), phys_read64(si + SI_RSDP), phys_read64(si + SI_MEMMAP),
		phys_read32(si + SI_MEMMAP_ENTRIES));
	if (magic != HVM_START_MAGIC || version < 1) {
		kprintf("start-info: bad%s%s\n", magic != HVM_START_MAGIC ? " magic" : "",
			version < 1 ? " version" : "");
		tiny_finish(0, 0);
	}
	kprintf("start-info: ok\n");
	report_rsdp(phys_read64(si + SI_RSDP));
	report_memmap(si);
	cmdline = phys_read64(si + SI_CMDLINE);
	if (!phys_mapped(cmdline, PVH_CMDLINE_MAX))
		cmdline = 0;
	report_cmdline(cmdline, PVH_CMDLINE_MAX);
	/* Linux takes the first module as its initrd. */
	if (nr_modules == 0)
		report_initrd(0, 0);
	else if (!phys_mapped(modlist, MODLIST_ENTRY_SIZE))
		kprintf("initrd: modlist=0x%lx unmapped\n", modlist);
	else
		report_initrd(phys_read64(modlist), phys_read64(modlist + 8));
	tiny_finish(cmdline, PVH_CMDLINE_MAX);
}
