#include "arch/x86/platform.h"

#include <errno.h>
#include <string.h>

#include "arch/x86/acpi.h"
#include "arch/x86/mptable.h"

#define PTE_PRESENT_RW 0x3ULL
#define PDE_PS 0x80ULL

_Static_assert(PLATFORM_GDT_TSS32_SEL / 8 < LAYOUT_GDT_ENTRIES, "the GDT holds every descriptor");
_Static_assert(LAYOUT_GDT_START + LAYOUT_GDT_ENTRIES * 8 <= LAYOUT_IDT_START,
	       "the IDT follows the GDT");
_Static_assert(LAYOUT_PD_START + LAYOUT_PD_COUNT * LAYOUT_PAGE_SIZE <= LAYOUT_PAGE_TABLES_END,
	       "the page directories fit their area");
_Static_assert(LAYOUT_PD_COUNT * 512ULL * 0x200000ULL == LAYOUT_IDENTITY_MAP_END,
	       "the page directories map exactly the identity range");

uint64_t platform_gdt_entry(uint16_t flags, uint32_t base, uint32_t limit)
{
	return (((uint64_t)base & 0xff000000ULL) << (56 - 24)) |
	       (((uint64_t)flags & 0x0000f0ffULL) << 40) |
	       (((uint64_t)limit & 0x000f0000ULL) << (48 - 16)) |
	       (((uint64_t)base & 0x00ffffffULL) << 16) | ((uint64_t)limit & 0x0000ffffULL);
}

void platform_gdt(uint64_t gdt[LAYOUT_GDT_ENTRIES])
{
	/* Two null entries put code and data at the boot protocol's 0x10 and 0x18. */
	gdt[0] = 0;
	gdt[1] = 0;
	gdt[PLATFORM_GDT_CODE_SEL / 8] = platform_gdt_entry(0xa09b, 0, 0xfffff);
	gdt[PLATFORM_GDT_DATA_SEL / 8] = platform_gdt_entry(0xc093, 0, 0xfffff);
	gdt[PLATFORM_GDT_TSS_SEL / 8] = platform_gdt_entry(0x808b, 0, 0xfffff);
	gdt[PLATFORM_GDT_CODE32_SEL / 8] = platform_gdt_entry(0xc09b, 0, 0xfffff);
	gdt[PLATFORM_GDT_TSS32_SEL / 8] = platform_gdt_entry(0x008b, 0, 0x67);
}

/* PML4 -> one PDPT -> four page directories of 2 MiB pages: [0, 4 GiB) identity-mapped. */
static int platform_page_tables(const struct gmem *mem)
{
	uint64_t entry = LAYOUT_PDPT_START | PTE_PRESENT_RW;
	int ret = gmem_fill(mem, LAYOUT_PML4_START, 0, LAYOUT_PAGE_TABLES_END - LAYOUT_PML4_START);

	if (!ret)
		ret = gmem_write(mem, LAYOUT_PML4_START, &entry, sizeof(entry));
	for (uint64_t i = 0; !ret && i < LAYOUT_PD_COUNT; i++) {
		entry = (LAYOUT_PD_START + i * LAYOUT_PAGE_SIZE) | PTE_PRESENT_RW;
		ret = gmem_write(mem, LAYOUT_PDPT_START + i * 8, &entry, sizeof(entry));
	}
	/* Directory i maps [i GiB, i+1 GiB). */
	for (uint64_t i = 0; !ret && i < LAYOUT_PD_COUNT * 512; i++) {
		entry = (i << 21) | PDE_PS | PTE_PRESENT_RW;
		ret = gmem_write(mem, LAYOUT_PD_START + i * 8, &entry, sizeof(entry));
	}
	return ret;
}

static int platform_descriptor_tables(const struct gmem *mem)
{
	uint64_t gdt[LAYOUT_GDT_ENTRIES];
	int ret;

	platform_gdt(gdt);
	ret = gmem_write(mem, LAYOUT_GDT_START, gdt, sizeof(gdt));
	if (ret)
		return ret;
	/* One zeroed gate: the guest installs its own IDT. */
	return gmem_fill(mem, LAYOUT_IDT_START, 0, LAYOUT_IDT_SIZE);
}

int platform_write(const struct gmem *mem, const struct platform_config *cfg, struct diag *d)
{
	int ret = platform_page_tables(mem);

	if (ret)
		return diag_fail_errno(d, ret, "boot page tables [0x%llx, 0x%llx): %s",
				       LAYOUT_PML4_START, LAYOUT_PAGE_TABLES_END, strerror(-ret));
	ret = platform_descriptor_tables(mem);
	if (ret)
		return diag_fail_errno(d, ret, "GDT and IDT at 0x%llx: %s", LAYOUT_GDT_START,
				       strerror(-ret));
	ret = mptable_write(mem, cfg->vcpus);
	if (ret)
		return diag_fail_errno(d, ret, "MP table for %u vCPUs at 0x%llx: %s", cfg->vcpus,
				       LAYOUT_MPTABLE_START, strerror(-ret));
	ret = acpi_write(mem, cfg);
	if (ret)
		return diag_fail_errno(d, ret, "ACPI tables for %u vCPUs and %u devices at 0x%llx: %s",
				       cfg->vcpus, cfg->nr_virtio, LAYOUT_ACPI_START, strerror(-ret));
	return 0;
}
