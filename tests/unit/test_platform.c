/*
 * The platform step on calloc'd guest memory, as --check and a boot run it: page
 * tables, GDT, IDT, MP table and ACPI tables where the layout puts them, and one clear
 * error when they cannot be written.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "arch/x86/layout.h"
#include "arch/x86/platform.h"
#include "microvm/gmem.h"

#define RAM (4 * LAYOUT_MIB)

static uint8_t ram[RAM];
static struct gmem mem;

/* Whatever was in memory before: the step must not rely on zeroed memory. */
static int junk_ram(void **state)
{
	(void)state;
	memset(ram, 0xa5, sizeof(ram));
	return gmem_wrap(&mem, ram, RAM);
}

/* A machine of vcpus CPUs with nr virtio devices in the registry's slots. */
static const struct platform_config *machine(unsigned int vcpus, unsigned int nr)
{
	static struct platform_config cfg;

	memset(&cfg, 0, sizeof(cfg));
	cfg.vcpus = vcpus;
	cfg.nr_virtio = nr;
	for (unsigned int i = 0; i < nr && i < LAYOUT_VIRTIO_MAX_DEVICES; i++) {
		cfg.virtio[i].base = LAYOUT_VIRTIO_MMIO_START + i * LAYOUT_VIRTIO_MMIO_SIZE;
		cfg.virtio[i].irq = LAYOUT_VIRTIO_IRQ_FIRST + i;
	}
	return &cfg;
}

static uint64_t read64(uint64_t gpa)
{
	uint64_t v;

	assert_int_equal(gmem_read(&mem, gpa, &v, sizeof(v)), 0);
	return v;
}

static void page_tables_map_4gib(void **state)
{
	(void)state;
	struct diag d;

	assert_int_equal(platform_write(&mem, machine(1, 0), &d), 0);
	assert_int_equal(read64(LAYOUT_PML4_START), LAYOUT_PDPT_START | 3);
	/* The rest of the PML4 and PDPT is empty, not what was in memory. */
	assert_int_equal(read64(LAYOUT_PML4_START + 8), 0);
	for (uint64_t i = 0; i < LAYOUT_PD_COUNT; i++)
		assert_int_equal(read64(LAYOUT_PDPT_START + 8 * i), (LAYOUT_PD_START + i * LAYOUT_PAGE_SIZE) | 3);
	assert_int_equal(read64(LAYOUT_PDPT_START + 8 * LAYOUT_PD_COUNT), 0);
	/* Every 2 MiB page maps itself: the first, a middle one and the last below 4 GiB. */
	assert_int_equal(read64(LAYOUT_PD_START), 0x83);
	assert_int_equal(read64(LAYOUT_PD_START + 8 * 1000), (1000ULL << 21) | 0x83);
	assert_int_equal(read64(LAYOUT_PD_START + 8 * (LAYOUT_PD_COUNT * 512 - 1)),
			 (LAYOUT_IDENTITY_MAP_END - (1ULL << 21)) | 0x83);
}

static void gdt_and_idt(void **state)
{
	(void)state;
	uint64_t gdt[LAYOUT_GDT_ENTRIES];
	struct diag d;

	assert_int_equal(platform_write(&mem, machine(1, 0), &d), 0);
	platform_gdt(gdt);
	for (unsigned int i = 0; i < LAYOUT_GDT_ENTRIES; i++)
		assert_int_equal(read64(LAYOUT_GDT_START + 8 * i), gdt[i]);
	assert_int_equal(gdt[0], 0);
	/* 64-bit code (L set, D clear), present, DPL 0; flat data; a busy 64-bit TSS type. */
	assert_int_equal(gdt[PLATFORM_GDT_CODE_SEL / 8], 0x00af9b000000ffffULL);
	assert_int_equal(gdt[PLATFORM_GDT_DATA_SEL / 8], 0x00cf93000000ffffULL);
	assert_int_equal(gdt[PLATFORM_GDT_TSS_SEL / 8], 0x008f8b000000ffffULL);
	/* The PVH entry's: flat 32-bit code (D=1, G=1), a 104-byte 32-bit TSS. */
	assert_int_equal(gdt[PLATFORM_GDT_CODE32_SEL / 8], 0x00cf9b000000ffffULL);
	assert_int_equal(gdt[PLATFORM_GDT_TSS32_SEL / 8], 0x00008b0000000067ULL);
	assert_int_equal(read64(LAYOUT_IDT_START), 0);
}

static void mp_table_for_each_vcpu_count(void **state)
{
	(void)state;
	const unsigned int counts[] = { 1, 2, 64 };
	struct diag d;

	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		const uint8_t *mpf;
		uint32_t config;
		const uint8_t *table;
		unsigned int cpus = 0;

		assert_int_equal(junk_ram(NULL), 0);
		assert_int_equal(platform_write(&mem, machine(counts[i], 0), &d), 0);
		mpf = gmem_ptr(&mem, LAYOUT_MPTABLE_START, 16);
		assert_non_null(mpf);
		assert_memory_equal(mpf, "_MP_", 4);
		memcpy(&config, mpf + 4, sizeof(config));
		table = gmem_ptr(&mem, config, 44 + 20 * counts[i]);
		assert_non_null(table);
		assert_memory_equal(table, "PCMP", 4);
		/* The processor entries (type 0, 20 bytes each) come first. */
		for (const uint8_t *e = table + 44; e[0] == 0; e += 20)
			cpus++;
		assert_int_equal(cpus, counts[i]);
	}
}

static void errors_name_the_table(void **state)
{
	(void)state;
	struct gmem empty = { .nr_regions = 0 };
	struct diag d;

	assert_int_equal(platform_write(&mem, machine(0, 0), &d), -EINVAL);
	assert_non_null(strstr(d.msg, "MP table for 0 vCPUs at 0xf0000"));
	assert_int_equal(platform_write(&mem, machine(65, 0), &d), -EINVAL);
	assert_non_null(strstr(d.msg, "MP table for 65 vCPUs"));
	assert_int_equal(platform_write(&empty, machine(1, 0), &d), -EFAULT);
	assert_non_null(strstr(d.msg, "boot page tables [0x9000, 0xf000)"));
	assert_int_equal(platform_write(&mem, machine(1, LAYOUT_VIRTIO_MAX_DEVICES + 1), &d), -EINVAL);
	assert_non_null(strstr(d.msg, "ACPI tables for 1 vCPUs and 20 devices at 0xe0000: Invalid argument"));
}

/* The RSDP where the guest's scan finds it, and the MP table still where it was. */
static void acpi_and_mp_tables_side_by_side(void **state)
{
	(void)state;
	struct diag d;
	const uint8_t *rsdp;

	assert_int_equal(platform_write(&mem, machine(2, 3), &d), 0);
	rsdp = gmem_ptr(&mem, LAYOUT_ACPI_START, 36);
	assert_non_null(rsdp);
	assert_memory_equal(rsdp, "RSD PTR ", 8);
	assert_memory_equal(gmem_ptr(&mem, LAYOUT_MPTABLE_START, 4), "_MP_", 4);
}

/* [start, end) */
struct range {
	uint64_t start, end;
};

static bool in_ranges(const struct range *r, size_t n, uint64_t gpa)
{
	for (size_t i = 0; i < n; i++)
		if (gpa >= r[i].start && gpa < r[i].end)
			return true;
	return false;
}

/*
 * The largest machine (64 vCPUs, every device) writes only inside the platform's own
 * regions, and those miss everything the boot step wrote before it (the PVH start info
 * page, the zero page, the command line, the kernel from 1 MiB), whichever entry it is.
 */
static void largest_machine_stays_in_its_regions(void **state)
{
	(void)state;
	const struct range platform[] = {
		{ LAYOUT_GDT_START, LAYOUT_IDT_START + LAYOUT_IDT_SIZE },
		{ LAYOUT_PML4_START, LAYOUT_PAGE_TABLES_END },
		{ LAYOUT_ACPI_START, LAYOUT_ACPI_START + LAYOUT_ACPI_MAX },
		{ LAYOUT_MPTABLE_START, LAYOUT_MPTABLE_START + LAYOUT_MPTABLE_MAX },
	};
	const struct range boot[] = {
		{ LAYOUT_PVH_INFO_START, LAYOUT_PVH_END },
		{ LAYOUT_ZERO_PAGE_START, LAYOUT_ZERO_PAGE_START + LAYOUT_ZERO_PAGE_SIZE },
		{ LAYOUT_CMDLINE_START, LAYOUT_CMDLINE_START + LAYOUT_CMDLINE_MAX },
		{ LAYOUT_HIMEM_START, RAM },
	};
	struct diag d;

	for (size_t i = 0; i < sizeof(boot) / sizeof(boot[0]); i++)
		for (size_t j = 0; j < sizeof(platform) / sizeof(platform[0]); j++)
			assert_true(boot[i].end <= platform[j].start || platform[j].end <= boot[i].start);
	assert_int_equal(platform_write(&mem, machine(64, LAYOUT_VIRTIO_MAX_DEVICES), &d), 0);
	for (uint64_t gpa = 0; gpa < RAM; gpa++)
		if (!in_ranges(platform, sizeof(platform) / sizeof(platform[0]), gpa) && ram[gpa] != 0xa5)
			fail_msg("the platform step wrote 0x%llx, outside its regions", (unsigned long long)gpa);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(page_tables_map_4gib, junk_ram),
		cmocka_unit_test_setup(gdt_and_idt, junk_ram),
		cmocka_unit_test(mp_table_for_each_vcpu_count),
		cmocka_unit_test_setup(errors_name_the_table, junk_ram),
		cmocka_unit_test_setup(acpi_and_mp_tables_side_by_side, junk_ram),
		cmocka_unit_test_setup(largest_machine_stays_in_its_regions, junk_ram),
	};

	return cmocka_run_group_tests_name("platform", tests, NULL, NULL);
}
