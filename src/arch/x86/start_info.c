/* The PVH entry's hvm_start_info, memory map and module list, from zeros, in their layout page. */
#include "arch/x86/start_info.h"

#include <string.h>

#include "arch/x86/layout.h"
#include "microvm/loader.h"

_Static_assert(LAYOUT_PVH_INFO_START + sizeof(struct hvm_start_info) <= LAYOUT_PVH_MEMMAP_START,
	       "the start info ends before the memory map");
_Static_assert(LAYOUT_PVH_MEMMAP_START +
			       LAYOUT_PVH_MEMMAP_MAX * sizeof(struct hvm_memmap_table_entry) <=
		       LAYOUT_PVH_MODLIST_START,
	       "the memory map ends before the module list");
_Static_assert(LAYOUT_PVH_MODLIST_START + sizeof(struct hvm_modlist_entry) <= LAYOUT_PVH_END,
	       "the module list fits the page");

int start_info_write(const struct gmem *mem, const struct boot_info *boot, struct diag *d)
{
	struct hvm_memmap_table_entry map[LAYOUT_PVH_MEMMAP_MAX];
	struct hvm_start_info si = {
		.magic = HVM_START_MAGIC,
		.version = HVM_START_VERSION,
		.cmdline_paddr = boot->cmdline_addr,
		.memmap_paddr = LAYOUT_PVH_MEMMAP_START,
		.memmap_entries = boot->e820_entries,
		/* The platform step always writes the ACPI tables (arch/x86/acpi.c). */
		.rsdp_paddr = LAYOUT_ACPI_RSDP,
	};
	struct hvm_modlist_entry initrd = {
		.paddr = boot->initrd_addr,
		.size = boot->initrd_size,
	};
	int ret;

	if (boot->e820_entries > LAYOUT_PVH_MEMMAP_MAX)
		return diag_fail(d, "PVH start info: %u memory map entries: more than %d",
				 boot->e820_entries, LAYOUT_PVH_MEMMAP_MAX);
	memset(map, 0, sizeof(map));
	for (unsigned int i = 0; i < boot->e820_entries; i++)
		map[i] = (struct hvm_memmap_table_entry){
			.addr = boot->e820[i].addr, .size = boot->e820[i].size, .type = boot->e820[i].type,
		};
	if (boot->initrd_size) {
		si.nr_modules = 1;
		si.modlist_paddr = LAYOUT_PVH_MODLIST_START;
	}
	/* The whole page from zeros: nothing of what was there before reaches the guest. */
	ret = gmem_fill(mem, LAYOUT_PVH_INFO_START, 0, LAYOUT_PVH_END - LAYOUT_PVH_INFO_START);
	if (!ret)
		ret = gmem_write(mem, LAYOUT_PVH_INFO_START, &si, sizeof(si));
	if (!ret)
		ret = gmem_write(mem, LAYOUT_PVH_MEMMAP_START, map,
				 boot->e820_entries * sizeof(map[0]));
	if (!ret && si.nr_modules)
		ret = gmem_write(mem, LAYOUT_PVH_MODLIST_START, &initrd, sizeof(initrd));
	if (ret)
		return diag_fail_errno(d, ret, "PVH start info: cannot write at 0x%llx",
				       (unsigned long long)LAYOUT_PVH_INFO_START);
	return 0;
}
