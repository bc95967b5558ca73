/*
 * The tiny guest's view of the ACPI tables, as a kernel would find them: the RSDP by
 * the scan of the BIOS area, the XSDT, the FADT's power registers, the MADT's CPUs,
 * the DSDT's devices; and the ways to end the VM through those registers. Every walk
 * is bounded by the lengths the tables give and by the identity map.
 */
#include "tiny.h"

#define RSDP_SCAN_START 0xe0000u
#define RSDP_SCAN_END 0x100000u
#define RSDP_V1_LENGTH 20
#define RSDP_LENGTH 36
#define HEADER_LENGTH 36
#define TABLE_MAX_LENGTH 0x10000u /* more than any table of ours */

/* FADT offsets (ACPI 6.4, 5.2.9). */
#define FADT_DSDT 40
#define FADT_FLAGS 112
#define FADT_RESET_REG 116
#define FADT_RESET_VALUE 128
#define FADT_X_DSDT 140
#define FADT_SLEEP_CONTROL 244
#define FADT_SLEEP_STATUS 256
#define FADT_LENGTH 276
#define FADT_HW_REDUCED (1u << 20)
#define GAS_SYSTEM_IO 1

#define MADT_LAPIC_ADDRESS 36
#define MADT_ENTRIES 44
#define MADT_LAPIC 0
#define MADT_IOAPIC 1

#define SLP_TYP_S5 5u
#define SLP_EN 0x20u
#define WAK_STS 0x80u

/* The power button's interrupt: routed by the IOAPIC to this vector, seen in the IRR. */
#define IOAPIC_REGSEL 0x00
#define IOAPIC_WINDOW 0x10
#define IOAPIC_REDIR 0x10
#define BUTTON_VECTOR 0x40u
#define LAPIC_ID 0x020
#define LAPIC_SVR 0x0f0
#define LAPIC_IRR 0x200
#define LAPIC_SVR_ENABLE 0x100u
/* The wait for the button: 2^36 TSC ticks (20-70 s), or 2^30 polls if the TSC stands still. */
#define BUTTON_WAIT_TSC_TICKS (1ULL << 36)
#define BUTTON_WAIT_MAX_SPINS (1u << 30)

static int sig_is(uint64_t pa, const char *sig, unsigned int len)
{
	for (unsigned int i = 0; i < len; i++)
		if (phys_read8(pa + i) != (uint8_t)sig[i])
			return 0;
	return 1;
}

static uint8_t sum8(uint64_t pa, uint32_t len)
{
	uint8_t sum = 0;

	for (uint32_t i = 0; i < len; i++)
		sum = (uint8_t)(sum + phys_read8(pa + i));
	return sum;
}

static uint64_t find_rsdp(void)
{
	for (uint64_t p = RSDP_SCAN_START; p + RSDP_LENGTH <= RSDP_SCAN_END; p += 16) {
		if (sig_is(p, "RSD PTR ", 8) && sum8(p, RSDP_V1_LENGTH) == 0)
			return p;
	}
	return 0;
}

/* A table's length when it lies in the map with a sane length, else 0. */
static uint32_t table_length(uint64_t pa)
{
	uint32_t len;

	if (pa == 0 || !phys_mapped(pa, HEADER_LENGTH))
		return 0;
	len = phys_read32(pa + 4);
	return len >= HEADER_LENGTH && len <= TABLE_MAX_LENGTH && phys_mapped(pa, len) ? len : 0;
}

static void dump(const char *sig, uint64_t pa, uint32_t len)
{
	for (uint32_t off = 0; off < len; off += 32) {
		kprintf("acpi-dump: %s %04x ", sig, off);
		for (uint32_t i = off; i < len && i < off + 32; i++)
			kprintf("%02x", phys_read8(pa + i));
		kprintf("\n");
	}
}

/* One line per table; returns its length, 0 if it is not there or not sound. */
static uint32_t report_table(uint64_t pa, int dumping)
{
	uint32_t len = table_length(pa);
	char sig[5];

	if (!len) {
		kprintf("acpi: table at 0x%lx unreadable\n", pa);
		return 0;
	}
	for (int i = 0; i < 4; i++)
		sig[i] = (char)phys_read8(pa + (uint64_t)i);
	sig[4] = 0;
	kprintf("acpi: table=%s addr=0x%lx length=%u checksum=%s\n", sig, pa, len,
		sum8(pa, len) == 0 ? "ok" : "bad");
	if (dumping)
		dump(sig, pa, len);
	return len;
}

/* A byte-wide I/O register in a generic address structure, or 0. */
static uint16_t gas_port(uint64_t gas)
{
	uint64_t addr = phys_read64(gas + 4);

	return phys_read8(gas) == GAS_SYSTEM_IO && addr != 0 && addr <= 0xffff ? (uint16_t)addr : 0;
}

static void report_fadt(uint64_t fadt, uint32_t len, struct acpi_info *acpi)
{
	if (len < FADT_LENGTH) {
		kprintf("acpi: fadt too short\n");
		return;
	}
	acpi->reset = gas_port(fadt + FADT_RESET_REG);
	acpi->reset_value = phys_read8(fadt + FADT_RESET_VALUE);
	acpi->sleep_control = gas_port(fadt + FADT_SLEEP_CONTROL);
	acpi->sleep_status = gas_port(fadt + FADT_SLEEP_STATUS);
	kprintf("acpi: fadt hw-reduced=%u sleep-control=0x%x sleep-status=0x%x reset=0x%x reset-value=0x%x\n",
		(phys_read32(fadt + FADT_FLAGS) & FADT_HW_REDUCED) ? 1u : 0u, acpi->sleep_control,
		acpi->sleep_status, acpi->reset, acpi->reset_value);
}

static void report_madt(uint64_t madt, uint32_t len, struct acpi_info *acpi)
{
	unsigned int cpus = 0, ioapic_id = 0;
	uint64_t p = madt + MADT_ENTRIES, end = madt + len;

	acpi->lapic = phys_read32(madt + MADT_LAPIC_ADDRESS);
	while (p + 2 <= end) {
		uint8_t type = phys_read8(p), elen = phys_read8(p + 1);

		if (elen < 2 || p + elen > end)
			break;
		if (type == MADT_LAPIC && elen >= 8 && (phys_read32(p + 4) & 1))
			cpus++;
		if (type == MADT_IOAPIC && elen >= 12 && !acpi->ioapic) {
			ioapic_id = phys_read8(p + 2);
			acpi->ioapic = phys_read32(p + 4);
		}
		p += elen;
	}
	kprintf("acpi: madt cpus=%u ioapic-id=%u ioapic=0x%x lapic=0x%x\n", cpus, ioapic_id,
		acpi->ioapic, acpi->lapic);
}

/* The first extended interrupt descriptor (Interrupt () {n}) after the string at p. */
static int interrupt_after(uint64_t p, uint64_t end)
{
	for (; p + 9 <= end; p++) {
		if (phys_read8(p) == 0x89 && phys_read16(p + 1) >= 6 && phys_read8(p + 4) >= 1)
			return (int)phys_read32(p + 5);
	}
	return -1;
}

static void report_dsdt(uint64_t dsdt, uint32_t len, struct acpi_info *acpi)
{
	uint64_t end = dsdt + len;
	unsigned int virtio = 0;
	int s5 = 0;

	for (uint64_t p = dsdt + HEADER_LENGTH; p + 8 <= end; p++) {
		if (sig_is(p, "LNRO0005", 8))
			virtio++;
		else if (sig_is(p, "ACPI0013", 8) && acpi->ged_irq < 0)
			acpi->ged_irq = interrupt_after(p + 8, end);
		else if (sig_is(p, "_S5_", 4))
			s5 = 1;
	}
	kprintf("acpi: dsdt virtio=%u ged-irq=%u s5=%s\n", virtio, (unsigned int)acpi->ged_irq,
		s5 ? "yes" : "no");
}

void acpi_report(uint64_t cmdline, uint32_t max, struct acpi_info *acpi)
{
	uint32_t len;
	int dumping = cmdline && cmdline_has(cmdline, max, "tiny.acpi-dump=1");
	uint64_t rsdp = find_rsdp(), xsdt, fadt = 0;

	*acpi = (struct acpi_info){ .ged_irq = -1 };
	if (!rsdp) {
		kprintf("acpi: none\n");
		return;
	}
	xsdt = phys_read64(rsdp + 24);
	kprintf("acpi: rsdp=0x%lx revision=%u xsdt=0x%lx extended-checksum=%s\n", rsdp,
		phys_read8(rsdp + 15), xsdt, sum8(rsdp, RSDP_LENGTH) == 0 ? "ok" : "bad");
	if (dumping)
		dump("RSDP", rsdp, RSDP_LENGTH);
	len = report_table(xsdt, dumping);
	for (uint32_t off = HEADER_LENGTH; len && off + 8 <= len; off += 8) {
		uint64_t t = phys_read64(xsdt + off);
		uint32_t tlen = report_table(t, dumping);

		if (tlen && sig_is(t, "FACP", 4)) {
			fadt = t;
			report_fadt(t, tlen, acpi);
		} else if (tlen && sig_is(t, "APIC", 4)) {
			report_madt(t, tlen, acpi);
		}
	}
	if (fadt && table_length(fadt) >= FADT_LENGTH) {
		uint64_t dsdt = phys_read64(fadt + FADT_X_DSDT);
		uint32_t dlen;

		if (!dsdt)
			dsdt = phys_read32(fadt + FADT_DSDT);
		dlen = report_table(dsdt, dumping);
		if (dlen)
			report_dsdt(dsdt, dlen, acpi);
		acpi->found = acpi->sleep_control && acpi->sleep_status && acpi->reset;
	}
}

/* Every write that asks for nothing: other sleep types, other reset values, wider accesses. */
static void pm_junk(const struct acpi_info *acpi)
{
	for (unsigned int v = 0; v < 256; v++) {
		outb(acpi->sleep_status, (uint8_t)v);
		if (!((v & SLP_EN) && (v >> 2 & 7) == SLP_TYP_S5))
			outb(acpi->sleep_control, (uint8_t)v);
		if (v != acpi->reset_value)
			outb(acpi->reset, (uint8_t)v);
		(void)inb(acpi->sleep_control);
		(void)inb(acpi->sleep_status);
		(void)inb(acpi->reset);
	}
	/* The very requests, but as words and double words. */
	outw(acpi->sleep_control, (uint16_t)(SLP_TYP_S5 << 2 | SLP_EN) * 0x101u);
	outl(acpi->sleep_control, (SLP_TYP_S5 << 2 | SLP_EN) * 0x01010101u);
	outw(acpi->reset, (uint16_t)(acpi->reset_value * 0x101u));
	outl(acpi->reset, acpi->reset_value * 0x01010101u);
	kprintf("acpi: pm-junk written\n");
}

static void power_off(const struct acpi_info *acpi)
{
	kprintf("acpi: powering off\n");
	/* As Linux does: clear the wake status, then SLP_TYP and SLP_EN in one write. */
	outb(acpi->sleep_status, WAK_STS);
	outb(acpi->sleep_control, (uint8_t)(SLP_TYP_S5 << 2 | SLP_EN));
}

static void ioapic_write(const struct acpi_info *acpi, uint32_t reg, uint32_t val)
{
	phys_write32(acpi->ioapic + IOAPIC_REGSEL, reg);
	phys_write32(acpi->ioapic + IOAPIC_WINDOW, val);
}

/* Routes the GED's line to this CPU, edge-triggered, and polls the IRR (interrupts stay off). */
static int wait_for_button(const struct acpi_info *acpi)
{
	uint32_t irr = acpi->lapic + LAPIC_IRR + 0x10 * (BUTTON_VECTOR / 32), spins;
	uint32_t self = phys_read32(acpi->lapic + LAPIC_ID) >> 24;
	uint64_t t0;

	if (acpi->ged_irq < 0 || acpi->ged_irq >= 24 || !acpi->ioapic || !acpi->lapic)
		return 0;
	phys_write32(acpi->lapic + LAPIC_SVR, phys_read32(acpi->lapic + LAPIC_SVR) | LAPIC_SVR_ENABLE | 0xff);
	ioapic_write(acpi, IOAPIC_REDIR + 2 * (uint32_t)acpi->ged_irq + 1, self << 24);
	ioapic_write(acpi, IOAPIC_REDIR + 2 * (uint32_t)acpi->ged_irq, BUTTON_VECTOR);
	kprintf("acpi: waiting for the power button\n");
	t0 = rdtsc();
	for (spins = 0; spins < BUTTON_WAIT_MAX_SPINS; spins++) {
		if (phys_read32(irr) & (1u << (BUTTON_VECTOR % 32)))
			return 1;
		if (rdtsc() - t0 >= BUTTON_WAIT_TSC_TICKS)
			break;
		cpu_pause();
	}
	return 0;
}

void acpi_end(uint64_t cmdline, uint32_t max, const struct acpi_info *acpi)
{
	if (!cmdline || !acpi->found)
		return;
	if (cmdline_has(cmdline, max, "tiny.pm-junk=1"))
		pm_junk(acpi);
	if (cmdline_has(cmdline, max, "tiny.end=poweroff")) {
		power_off(acpi);
	} else if (cmdline_has(cmdline, max, "tiny.end=acpi-reset")) {
		kprintf("acpi: resetting\n");
		outb(acpi->reset, acpi->reset_value);
	} else if (cmdline_has(cmdline, max, "tiny.end=power-button")) {
		if (wait_for_button(acpi)) {
			kprintf("acpi: power button pressed\n");
			power_off(acpi);
		} else {
			kprintf("acpi: no power button\n");
		}
	} else if (cmdline_has(cmdline, max, "tiny.end=halt")) {
		kprintf("acpi: halting\n");
		for (;;)
			__asm__ volatile("cli; hlt");
	}
}
