#include <asm/e820.h>
#include <inttypes.h>

#include "arch/x86/layout.h"
#include "microvm/loader.h"

static const char *e820_type_name(uint32_t type)
{
	switch (type) {
	case E820_RAM:
		return "RAM";
	case E820_RESERVED:
		return "reserved";
	default:
		return "other";
	}
}

void boot_print_summary(FILE *out, const char *kernel_name, const struct boot_info *b)
{
	const struct kernel_info *k = &b->kernel;

	if (k->format == KERNEL_BZIMAGE) {
		fprintf(out, "kernel: %s: bzImage, boot protocol %u.%02u\n", kernel_name,
			k->protocol >> 8, k->protocol & 0xff);
		fprintf(out, "kernel: loaded at [0x%" PRIx64 ", 0x%" PRIx64 "), 64-bit entry 0x%" PRIx64 "\n",
			k->load_start, k->load_end, k->entry);
		fprintf(out, "kernel: decompresses into [0x%" PRIx64 ", 0x%" PRIx64 ") (init_size 0x%x)\n",
			k->runtime_start, k->runtime_end, k->hdr.init_size);
	} else {
		fprintf(out, "kernel: %s: ELF vmlinux\n", kernel_name);
		fprintf(out, "kernel: loaded at [0x%" PRIx64 ", 0x%" PRIx64 "), 64-bit entry 0x%" PRIx64 "\n",
			k->load_start, k->load_end, k->entry);
	}
	if (k->has_pvh_entry)
		fprintf(out, "kernel: PVH entry 0x%" PRIx32 "\n", k->pvh_entry);
	else
		fprintf(out, "kernel: PVH entry none\n");
	if (b->entry == BOOT_ENTRY_PVH)
		fprintf(out, "boot: PVH entry at 0x%" PRIx32 ", 32-bit protected mode, EBX = start info at 0x%llx\n",
			k->pvh_entry, (unsigned long long)LAYOUT_PVH_INFO_START);
	else
		fprintf(out, "boot: 64-bit entry at 0x%" PRIx64 ", long mode, RSI = zero page at 0x%llx%s\n",
			k->entry, (unsigned long long)LAYOUT_ZERO_PAGE_START,
			k->has_pvh_entry ? " (--entry64: the PVH entry is not used)" : "");
	if (b->initrd_size)
		fprintf(out, "initrd: [0x%" PRIx64 ", 0x%" PRIx64 "), %" PRIu64 " bytes\n",
			b->initrd_addr, b->initrd_addr + b->initrd_size, b->initrd_size);
	else
		fprintf(out, "initrd: none\n");
	fprintf(out, "cmdline: at 0x%" PRIx64 ", %" PRIu64 " of at most %" PRIu32 " bytes\n",
		b->cmdline_addr, b->cmdline_len, k->cmdline_max);
	if (b->entry == BOOT_ENTRY_PVH)
		fprintf(out, "start info: at 0x%llx, memory map at 0x%llx (%u entries), %u module%s\n",
			(unsigned long long)LAYOUT_PVH_INFO_START,
			(unsigned long long)LAYOUT_PVH_MEMMAP_START, b->e820_entries,
			b->initrd_size ? 1 : 0, b->initrd_size ? " (the initrd)" : "s");
	else
		fprintf(out, "zero page: at 0x%llx\n", (unsigned long long)LAYOUT_ZERO_PAGE_START);
	for (unsigned int i = 0; i < b->e820_entries; i++)
		fprintf(out, "e820: [0x%016" PRIx64 ", 0x%016" PRIx64 ") %s\n",
			(uint64_t)b->e820[i].addr, (uint64_t)(b->e820[i].addr + b->e820[i].size),
			e820_type_name(b->e820[i].type));
}
