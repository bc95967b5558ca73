/*
 * The platform tables a boot needs besides what the loader writes: identity page
 * tables for the first 4 GiB, a flat GDT, an empty IDT, the MP table and the ACPI
 * tables. One pure step over guest memory (gmem and layout only), computed from the
 * machine's resources and its devices' slots, so `--check` writes and validates them
 * exactly as a boot does, and unit tests run it on calloc'd memory.
 */
#ifndef MICROVM_ARCH_X86_PLATFORM_H
#define MICROVM_ARCH_X86_PLATFORM_H

#include <stdint.h>

#include "arch/x86/fwtable.h"
#include "arch/x86/layout.h"
#include "microvm/compiler.h"
#include "microvm/diag.h"
#include "microvm/gmem.h"

/* The boot protocol's __BOOT_CS and __BOOT_DS, and a TSS KVM wants loaded. */
#define PLATFORM_GDT_CODE_SEL 0x10
#define PLATFORM_GDT_DATA_SEL 0x18
#define PLATFORM_GDT_TSS_SEL 0x20
/* The PVH ABI's: flat 32-bit code, and a 32-bit TSS of base 0 and limit 0x67 (data is 0x18's). */
#define PLATFORM_GDT_CODE32_SEL 0x28
#define PLATFORM_GDT_TSS32_SEL 0x30

/* Packs a GDT descriptor from Firecracker-style flags (access byte and G/D/L nibble). */
uint64_t platform_gdt_entry(uint16_t flags, uint32_t base, uint32_t limit);
/* The GDT platform_write puts at LAYOUT_GDT_START (the boot CPU's segments come from it). */
void platform_gdt(uint64_t gdt[LAYOUT_GDT_ENTRIES]);

/* Writes the page tables, the GDT, the IDT, the MP table and the ACPI tables for cfg. */
MUST_CHECK int platform_write(const struct gmem *mem, const struct platform_config *cfg,
			      struct diag *d);

#endif
