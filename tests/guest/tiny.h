/*
 * What the tiny test guest's parts share (tiny.c: the report and its helpers; acpi.c:
 * the ACPI tables and power registers): port I/O and identity-mapped physical memory
 * as inline accessors, the console printf and the command line.
 */
#ifndef TINY_H
#define TINY_H

#include <stdint.h>

/* Everything below 4 GiB is identity-mapped by the VMM. */
#define IDENTITY_MAP_END 0x100000000ULL

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

/*
 * Supports %s %c %u %x %lu %lx, with an optional zero-pad width (%08x). That is all
 * the report needs; anything else is printed verbatim.
 */
__attribute__((format(printf, 1, 2))) void kprintf(const char *fmt, ...);
/* The command line the zero page points at and its bound; 0 when there is none to read. */
uint64_t zp_cmdline(uint64_t zp, uint32_t *max);
/* True if the command line has the word `word` (bounded by max bytes). */
int cmdline_has(uint64_t cmdline, uint32_t max, const char *word);

/* acpi.c: the tables and the power registers they name. */
struct acpi_info {
	int found;                  /* a valid RSDP, XSDT and FADT */
	uint16_t sleep_control, sleep_status, reset;
	uint8_t reset_value;
	uint32_t lapic;             /* the MADT's local APIC address */
	uint32_t ioapic;            /* and its first IOAPIC's */
	int ged_irq;                /* the GED's interrupt in the DSDT, or -1 */
};

/* Finds and checks the tables and prints what they say (with tiny.acpi-dump=1, their bytes). */
void acpi_report(uint64_t zp, struct acpi_info *acpi);
/*
 * Ends the VM as tiny.end= on the command line says, through the registers the FADT
 * names: poweroff (S5), acpi-reset, power-button (waits for the GED's interrupt, then
 * S5), halt (never ends it); with tiny.pm-junk=1 it first writes every value that asks
 * nothing to those registers. Returns when tiny.end= names none of these.
 */
void acpi_end(uint64_t zp, const struct acpi_info *acpi);

#endif
