#include <asm/e820.h>

#include "arch/x86/layout.h"
#include "microvm/loader.h"

static unsigned int e820_add(struct boot_e820_entry *table, unsigned int n, unsigned int max,
			     uint64_t addr, uint64_t size, uint32_t type)
{
	if (n >= max || size == 0)
		return n;
	table[n] = (struct boot_e820_entry){ .addr = addr, .size = size, .type = type };
	return n + 1;
}

unsigned int e820_build(const struct gmem *mem, struct boot_e820_entry *table, unsigned int max)
{
	unsigned int n = 0;
	uint64_t low_end = gmem_low_end(mem);

	/* Conventional memory up to the EBDA, where the MP table lives. */
	n = e820_add(table, n, max, 0, LAYOUT_EBDA_START, E820_RAM);
	/* EBDA, VGA hole and BIOS area: reserved as on a PC. */
	n = e820_add(table, n, max, LAYOUT_EBDA_START, LAYOUT_LEGACY_END - LAYOUT_EBDA_START,
		     E820_RESERVED);
	if (low_end > LAYOUT_LEGACY_END)
		n = e820_add(table, n, max, LAYOUT_LEGACY_END, low_end - LAYOUT_LEGACY_END, E820_RAM);
	/* RAM moved above 4 GiB because it would have fallen into the MMIO gap. */
	for (unsigned int i = 1; i < mem->nr_regions; i++)
		n = e820_add(table, n, max, mem->regions[i].gpa, mem->regions[i].size, E820_RAM);
	return n;
}
