/*
 * The ACPI tables as a guest finds them, on junk-filled guest memory: the RSDP at the
 * start of the region, every pointer inside it, every checksum right, the FADT's
 * power registers, one MADT entry per vCPU, one DSDT device per virtio slot with its
 * window and line; for every vCPU count and device count the layout allows (64 vCPUs
 * with every device included), within the reserved region and nothing written outside
 * it; and refusals for what the tables cannot describe.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <string.h>
#include <cmocka.h>

#include "arch/x86/acpi.h"
#include "arch/x86/layout.h"
#include "microvm/acpi_pm.h"
#include "microvm/gmem.h"
#include "table_sum.h"

#define RAM (4 * LAYOUT_MIB)
#define JUNK 0xa5

static uint8_t ram[RAM];
static struct gmem mem;

static int junk_ram(void **state)
{
	(void)state;
	memset(ram, JUNK, sizeof(ram));
	return gmem_wrap(&mem, ram, RAM);
}

static struct platform_config machine(unsigned int vcpus, unsigned int nr)
{
	struct platform_config cfg = { .vcpus = vcpus, .nr_virtio = nr };

	for (unsigned int i = 0; i < nr && i < LAYOUT_VIRTIO_MAX_DEVICES; i++) {
		cfg.virtio[i].base = LAYOUT_VIRTIO_MMIO_START + i * LAYOUT_VIRTIO_MMIO_SIZE;
		cfg.virtio[i].irq = LAYOUT_VIRTIO_IRQ_FIRST + i;
	}
	return cfg;
}

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static uint64_t rd64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* The end of the tables' bytes, found as the guest walks them. */
static uint64_t tables_end;

/* The table at gpa: inside the region, its signature, its checksum right. */
static const uint8_t *table(uint64_t gpa, const char *sig)
{
	const uint8_t *t;
	uint32_t len;

	assert_true(gpa >= LAYOUT_ACPI_START && gpa + 36 <= LAYOUT_ACPI_START + ACPI_TABLES_MAX);
	t = gmem_ptr(&mem, gpa, 36);
	assert_non_null(t);
	assert_memory_equal(t, sig, 4);
	len = rd32(t + 4);
	assert_true(len >= 36 && gpa + len <= LAYOUT_ACPI_START + ACPI_TABLES_MAX);
	t = gmem_ptr(&mem, gpa, len);
	assert_int_equal(sum(t, len), 0);
	assert_memory_equal(t + 10, "MICRVM", 6);
	if (gpa + len > tables_end)
		tables_end = gpa + len;
	return t;
}

/* How many times the len bytes of what occur in the DSDT. */
static unsigned int count(const uint8_t *dsdt, const void *what, size_t len)
{
	unsigned int n = 0;

	for (uint32_t i = 36; i + len <= rd32(dsdt + 4); i++)
		n += !memcmp(dsdt + i, what, len);
	return n;
}

/* Walks the tables for cfg from the RSDP, checking each, as the guest would. */
static void check_tables(const struct platform_config *cfg)
{
	const uint8_t *rsdp = gmem_ptr(&mem, LAYOUT_ACPI_START, 36), *xsdt, *fadt, *madt, *dsdt;
	unsigned int cpus = 0;

	tables_end = LAYOUT_ACPI_START + 36;
	assert_non_null(rsdp);
	assert_memory_equal(rsdp, "RSD PTR ", 8);
	assert_int_equal(sum(rsdp, 20), 0);
	assert_int_equal(sum(rsdp, 36), 0);
	assert_int_equal(rsdp[15], 2);
	assert_int_equal(rd32(rsdp + 20), 36);
	xsdt = table(rd64(rsdp + 24), "XSDT");
	assert_int_equal(rd32(xsdt + 4), 36 + 16);
	fadt = table(rd64(xsdt + 36), "FACP");
	madt = table(rd64(xsdt + 44), "APIC");
	assert_int_equal(rd32(fadt + 4), 276);
	dsdt = table(rd64(fadt + 140), "DSDT");
	assert_int_equal(rd32(fadt + 40), rd64(fadt + 140));

	/* MADT: the LAPICs in order, then the IOAPIC with the next ID, then LINT1's NMI. */
	assert_int_equal(rd32(madt + 36), LAYOUT_LAPIC_ADDR);
	for (uint32_t off = 44; off < rd32(madt + 4); off += madt[off + 1]) {
		assert_true(madt[off + 1] >= 2);
		if (madt[off] == 0) {
			assert_int_equal(madt[off + 2], cpus);
			assert_int_equal(madt[off + 3], cpus);
			assert_int_equal(rd32(madt + off + 4), 1);
			cpus++;
		} else if (madt[off] == 1) {
			assert_int_equal(madt[off + 2], cfg->vcpus);
			assert_int_equal(rd32(madt + off + 4), LAYOUT_IOAPIC_ADDR);
			assert_int_equal(rd32(madt + off + 8), 0);
		} else {
			assert_int_equal(madt[off], 4);
			assert_int_equal(madt[off + 5], 1);
		}
	}
	assert_int_equal(cpus, cfg->vcpus);

	/* DSDT: each virtio slot's Memory32Fixed and Interrupt, in order, then the GED's line. */
	assert_int_equal(count(dsdt, "LNRO0005", 8), cfg->nr_virtio);
	for (unsigned int i = 0; i < cfg->nr_virtio; i++) {
		uint8_t crs[21] = { 0x86, 0x09, 0x00, 0x01 };

		memcpy(crs + 4, &(uint32_t){ (uint32_t)cfg->virtio[i].base }, 4);
		memcpy(crs + 8, &(uint32_t){ (uint32_t)LAYOUT_VIRTIO_MMIO_SIZE }, 4);
		memcpy(crs + 12, (const uint8_t[]){ 0x89, 0x06, 0x00, 0x03, 0x01 }, 5);
		memcpy(crs + 17, &(uint32_t){ cfg->virtio[i].irq }, 4);
		assert_int_equal(count(dsdt, crs, sizeof(crs)), 1);
	}
	assert_int_equal(count(dsdt, "ACPI0013", 8), 1);
	assert_int_equal(count(dsdt, (const uint8_t[]){ 0x89, 0x06, 0x00, 0x03, 0x01,
							LAYOUT_ACPI_GED_IRQ, 0, 0, 0 }, 9), 1);
	assert_int_equal(count(dsdt, "_S5_", 4), 1);
	assert_int_equal(count(dsdt, "PWRB", 4), 2);
}

static void power_registers(void **state)
{
	(void)state;
	struct platform_config cfg = machine(1, 0);
	const uint8_t *fadt;
	const uint8_t io_byte[] = { 1, 8, 0, 1 };

	assert_int_equal(acpi_write(&mem, &cfg), 0);
	check_tables(&cfg);
	fadt = gmem_ptr(&mem, rd64(gmem_ptr(&mem, rd64(gmem_ptr(&mem, LAYOUT_ACPI_START + 24, 8)) + 36, 8)), 276);
	/* Hardware-reduced, the power button a device, reset register supported. */
	assert_int_equal(rd32(fadt + 112), (1U << 20) | (1U << 4) | (1U << 5) | (1U << 10));
	/* 8042, no VGA, no MSI, no CMOS RTC. */
	assert_int_equal(fadt[109] | fadt[110] << 8, 0x2e);
	assert_memory_equal(fadt + 116, io_byte, 4);
	assert_int_equal(rd64(fadt + 120), ACPI_PM_RESET);
	assert_int_equal(fadt[128], ACPI_PM_RESET_VALUE);
	assert_memory_equal(fadt + 244, io_byte, 4);
	assert_int_equal(rd64(fadt + 248), ACPI_PM_SLEEP_CONTROL);
	assert_memory_equal(fadt + 256, io_byte, 4);
	assert_int_equal(rd64(fadt + 260), ACPI_PM_SLEEP_STATUS);
	/* No SCI, no PM1 blocks, no PM timer, no GPE. */
	for (size_t off = 46; off < 96; off++)
		assert_int_equal(fadt[off], 0);
}

/* Every machine the resources allow: 1-64 vCPUs, 0 to every device. */
static void every_machine_fits(void **state)
{
	(void)state;
	uint64_t largest = 0;

	for (unsigned int vcpus = 1; vcpus <= ACPI_MAX_CPUS; vcpus++) {
		for (unsigned int nr = 0; nr <= LAYOUT_VIRTIO_MAX_DEVICES; nr++) {
			struct platform_config cfg = machine(vcpus, nr);

			assert_int_equal(junk_ram(NULL), 0);
			if (acpi_write(&mem, &cfg))
				fail_msg("%u vCPUs, %u devices: refused", vcpus, nr);
			check_tables(&cfg);
			if (tables_end - LAYOUT_ACPI_START > largest)
				largest = tables_end - LAYOUT_ACPI_START;
			/* Nothing beyond the tables was touched. */
			assert_int_equal(ram[tables_end], JUNK);
			assert_int_equal(ram[LAYOUT_ACPI_START - 1], JUNK);
		}
	}
	/* The most the tables take, with room to grow twofold (acpi.h). */
	print_message("# largest: %llu bytes\n", (unsigned long long)largest);
	assert_true(largest * 2 <= ACPI_TABLES_MAX);
	assert_true(LAYOUT_ACPI_START + ACPI_TABLES_MAX <= LAYOUT_MPTABLE_START);
}

static void same_machine_same_bytes(void **state)
{
	(void)state;
	struct platform_config cfg = machine(4, 3);
	static uint8_t first[ACPI_TABLES_MAX];

	assert_int_equal(acpi_write(&mem, &cfg), 0);
	memcpy(first, ram + LAYOUT_ACPI_START, sizeof(first));
	memset(ram, 0, sizeof(ram));
	assert_int_equal(acpi_write(&mem, &cfg), 0);
	check_tables(&cfg);
	assert_memory_equal(first, ram + LAYOUT_ACPI_START, tables_end - LAYOUT_ACPI_START);
}

static void refuses_what_it_cannot_describe(void **state)
{
	(void)state;
	struct gmem empty = { .nr_regions = 0 };
	struct platform_config cfg;

	cfg = machine(0, 0);
	assert_int_equal(acpi_write(&mem, &cfg), -EINVAL);
	cfg = machine(ACPI_MAX_CPUS + 1, 0);
	assert_int_equal(acpi_write(&mem, &cfg), -EINVAL);
	cfg = machine(1, LAYOUT_VIRTIO_MAX_DEVICES);
	cfg.nr_virtio++;
	assert_int_equal(acpi_write(&mem, &cfg), -EINVAL);
	cfg = machine(1, 1);
	cfg.virtio[0].base = LAYOUT_MMIO_GAP_START - LAYOUT_VIRTIO_MMIO_SIZE;
	assert_int_equal(acpi_write(&mem, &cfg), -EINVAL);
	cfg.virtio[0].base = LAYOUT_MMIO_GAP_END - LAYOUT_VIRTIO_MMIO_SIZE + 1;
	assert_int_equal(acpi_write(&mem, &cfg), -EINVAL);
	cfg = machine(1, 1);
	cfg.virtio[0].irq = 24;
	assert_int_equal(acpi_write(&mem, &cfg), -EINVAL);
	cfg.virtio[0].irq = LAYOUT_ACPI_GED_IRQ;
	assert_int_equal(acpi_write(&mem, &cfg), -EINVAL);
	/* Nothing was written for any of them. */
	for (size_t i = 0; i < ACPI_TABLES_MAX; i++)
		assert_int_equal(ram[LAYOUT_ACPI_START + i], JUNK);
	cfg = machine(1, 0);
	assert_int_equal(acpi_write(&empty, &cfg), -EFAULT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(power_registers, junk_ram),
		cmocka_unit_test(every_machine_fits),
		cmocka_unit_test_setup(same_machine_same_bytes, junk_ram),
		cmocka_unit_test_setup(refuses_what_it_cannot_describe, junk_ram),
	};

	return cmocka_run_group_tests_name("acpi", tests, NULL, NULL);
}
