/*
 * What the tiny guest's parts share: port and memory access on the identity map, COM1
 * output, and the reports that read the same facts from the zero page (tiny.c) or from
 * the PVH start info (pvh.c), and the ACPI tables and power registers (acpi.c).
 */
#ifndef TINY_H
#define TINY_H

#include <stdint.h>

/* Guest-physical addresses below this are identity-mapped (by the VMM, or by pvh.S). */
#define IDENTITY_MAP_END 0x100000000ULL

/* ---- port I/O, MSRs, control registers ---- */

static inline void outb(uint16_t port, uint8_t val)
{
	__asm__ volatile("outb %0, %1" : : "a"(val), "Nd"(port));
}

static inline void outw(uint16_t port, uint16_t val)
{
	__asm__ volatile("outw %0, %1" : : "a"(val), "Nd"(port));
}

static inline void outl(uint16_t port, uint32_t val)
{
	__asm__ volatile("outl %0, %1" : : "a"(val), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t val;

	__asm__ volatile("inb %1, %0" : "=a"(val) : "Nd"(port));
	return val;
}

static inline uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;

	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((uint64_t)hi << 32) | lo;
}

static inline uint64_t read_cr0(void)
{
	uint64_t v;

	__asm__ volatile("mov %%cr0, %0" : "=r"(v));
	return v;
}

static inline uint64_t read_cr4(void)
{
	uint64_t v;

	__asm__ volatile("mov %%cr4, %0" : "=r"(v));
	return v;
}

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

static inline void cpu_pause(void)
{
	__asm__ volatile("pause" ::: "memory");
}

/* Guest-physical memory: identity-mapped, read through volatile accesses. */
static inline uint8_t phys_read8(uint64_t pa)
{
	return *(volatile const uint8_t *)(uintptr_t)pa;
}

static inline uint16_t phys_read16(uint64_t pa)
{
	return *(volatile const uint16_t *)(uintptr_t)pa;
}

static inline uint32_t phys_read32(uint64_t pa)
{
	return *(volatile const uint32_t *)(uintptr_t)pa;
}

static inline uint64_t phys_read64(uint64_t pa)
{
	return *(volatile const uint64_t *)(uintptr_t)pa;
}

static inline void phys_write8(uint64_t pa, uint8_t v)
{
	*(volatile uint8_t *)(uintptr_t)pa = v;
}

static inline void phys_write32(uint64_t pa, uint32_t v)
{
	*(volatile uint32_t *)(uintptr_t)pa = v;
}

/* True if [pa, pa+len) lies inside the identity map. */
static inline int phys_mapped(uint64_t pa, uint64_t len)
{
	return pa <= IDENTITY_MAP_END && len <= IDENTITY_MAP_END - pa;
}

/* One character of guest-provided text, kept on one printable line. */
static inline char printable(uint8_t c)
{
	return c >= 0x20 && c < 0x7f ? (char)c : '?';
}

void uart_putc(char c);
/* %s %c %u %x %lu %lx, with an optional zero-pad width (%08x). */
__attribute__((format(printf, 1, 2))) void kprintf(const char *fmt, ...);

/* True if the command line at cmdline (0: none) has the word `word` (bounded by max bytes). */
int cmdline_has(uint64_t cmdline, uint32_t max, const char *word);
/* "cmdline: TEXT" from the NUL-terminated line at ptr (0: none), at most max bytes. */
void report_cmdline(uint64_t ptr, uint32_t max);
/* "initrd: ..." for [addr, addr+size), or "initrd: none". */
void report_initrd(uint64_t addr, uint64_t size);
/*
 * The rest of the report, whatever the entry: MP table, secondary CPUs, then with the
 * command line (0: none) tiny.wait=1 and tiny.virtio=1; then resets the VM. No return.
 */
__attribute__((noreturn)) void tiny_finish(uint64_t cmdline, uint32_t cmdline_max);

/* The entries' C halves: the 64-bit boot protocol's (tiny.c) and the PVH entry's (pvh.c). */
void tiny_main(uint64_t zero_page);
void tiny_main_pvh(void);

/* acpi.c: the tables and the power registers they name. */
struct acpi_info {
	int found;                  /* a valid RSDP, XSDT and FADT */
	uint16_t sleep_control, sleep_status, reset;
	uint8_t reset_value;
	uint32_t lapic;             /* the MADT's local APIC address */
	uint32_t ioapic;            /* and its first IOAPIC's */
	int ged_irq;                /* the GED's interrupt in the DSDT, or -1 */
};

/*
 * Finds and checks the tables and prints what they say (with tiny.acpi-dump=1 on the
 * command line at cmdline, 0 for none, their bytes).
 */
void acpi_report(uint64_t cmdline, uint32_t max, struct acpi_info *acpi);
/*
 * Ends the VM as tiny.end= on the command line says, through the registers the FADT
 * names: poweroff (S5), acpi-reset, power-button (waits for the GED's interrupt, then
 * S5), halt (never ends it); with tiny.pm-junk=1 it first writes every value that asks
 * nothing to those registers. Returns when tiny.end= names none of these.
 */
void acpi_end(uint64_t cmdline, uint32_t max, const struct acpi_info *acpi);

#endif
