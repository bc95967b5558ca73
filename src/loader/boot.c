#include <string.h>

#include "arch/x86/layout.h"
#include "microvm/loader.h"

struct boot_range {
	const char *what;
	uint64_t start;
	uint64_t end;
	bool kernel_owned;
};

/* L1: every structure the VMM or the kernel owns is RAM and none overlaps another. */
static int boot_check_layout(const struct gmem *mem, const struct boot_info *b, struct diag *d)
{
	const struct kernel_info *k = &b->kernel;
	struct boot_range r[] = {
		{ "GDT", LAYOUT_GDT_START, LAYOUT_GDT_START + LAYOUT_GDT_ENTRIES * 8, false },
		{ "PVH start info", LAYOUT_PVH_INFO_START, LAYOUT_PVH_END, false },
		{ "zero page", LAYOUT_ZERO_PAGE_START, LAYOUT_ZERO_PAGE_START + LAYOUT_ZERO_PAGE_SIZE, false },
		{ "page tables", LAYOUT_PML4_START, LAYOUT_PAGE_TABLES_END, false },
		{ "command line", LAYOUT_CMDLINE_START, LAYOUT_CMDLINE_START + b->cmdline_len + 1, false },
		{ "MP table", LAYOUT_MPTABLE_START, LAYOUT_MPTABLE_START + LAYOUT_MPTABLE_MAX, false },
		{ "kernel", k->load_start, k->load_end, true },
		{ "kernel decompression range", k->runtime_start, k->runtime_end, true },
		{ "initrd", b->initrd_addr, b->initrd_addr + b->initrd_size, false },
	};

	for (size_t i = 0; i < ARRAY_SIZE(r); i++) {
		if (r[i].start == r[i].end)
			continue;
		if (!gmem_is_ram(mem, r[i].start, r[i].end - r[i].start))
			return diag_fail(d, "layout: %s [0x%llx, 0x%llx) is not guest RAM (L1)", r[i].what,
					 (unsigned long long)r[i].start, (unsigned long long)r[i].end);
		for (size_t j = 0; j < i; j++) {
			/* The kernel decompresses itself upwards over its own load range; bzimage_load checked that. */
			if (r[j].start == r[j].end || (r[i].kernel_owned && r[j].kernel_owned))
				continue;
			if (ranges_overlap(r[i].start, r[i].end, r[j].start, r[j].end))
				return diag_fail(d, "layout: %s [0x%llx, 0x%llx) overlaps %s [0x%llx, 0x%llx) (L1)",
						 r[i].what, (unsigned long long)r[i].start,
						 (unsigned long long)r[i].end, r[j].what,
						 (unsigned long long)r[j].start,
						 (unsigned long long)r[j].end);
		}
	}
	return 0;
}

int boot_load(const struct gmem *mem, const struct image *kernel, const struct image *initrd,
	      const char *cmdline, const struct kernel_load_opts *opts, struct boot_info *out,
	      struct diag *d)
{
	int ret;

	memset(out, 0, sizeof(*out));
	ret = kernel_load(mem, kernel, opts, &out->kernel, d);
	if (ret)
		return ret;
	out->reserve_end = out->kernel.load_end > out->kernel.runtime_end ? out->kernel.load_end
									  : out->kernel.runtime_end;
	if (initrd) {
		ret = initrd_load(mem, initrd, out->reserve_end, out->kernel.initrd_max,
				  &out->initrd_addr, d);
		if (ret)
			return ret;
		out->initrd_size = initrd->size;
	}
	ret = cmdline_write(mem, cmdline, out->kernel.cmdline_max, &out->cmdline_len, d);
	if (ret)
		return ret;
	out->cmdline_addr = LAYOUT_CMDLINE_START;
	out->e820_entries = e820_build(mem, out->e820, E820_MAX_ENTRIES_ZEROPAGE);
	ret = boot_check_layout(mem, out, d);
	if (ret)
		return ret;
	out->entry = out->kernel.has_pvh_entry && !(opts && opts->entry64) ? BOOT_ENTRY_PVH
									  : BOOT_ENTRY_64;
	if (out->entry == BOOT_ENTRY_PVH)
		return start_info_write(mem, out, d);
	return zeropage_write(mem, out, d);
}
