/*
 * The boot CPU state of the 64-bit Linux boot protocol: identity page tables, a flat
 * GDT, long mode registers for the BSP; CPUID, MSRs, FPU and LAPIC for every vCPU.
 */
#ifndef MICROVM_ARCH_X86_CPU_H
#define MICROVM_ARCH_X86_CPU_H

#include <asm/kvm.h>
#include <stdint.h>

#include "arch/x86/cpuid.h"
#include "microvm/compiler.h"
#include "microvm/gmem.h"

#define CPU_GDT_CODE_SEL 0x10
#define CPU_GDT_DATA_SEL 0x18
#define CPU_GDT_TSS_SEL 0x20

/* Packs a GDT descriptor from Firecracker-style flags (access byte and G/D/L nibble). */
uint64_t cpu_gdt_entry(uint16_t flags, uint32_t base, uint32_t limit);
/* The KVM view of the descriptor at selector. */
struct kvm_segment cpu_segment_from_gdt(uint64_t entry, uint16_t selector);

/* Writes the identity page tables (4 GiB), the GDT and an empty IDT into guest memory. */
MUST_CHECK int cpu_tables_write(const struct gmem *mem);

/*
 * Per-vCPU state for vCPU index of count: CPUID (from supported, fixed up), MSR
 * defaults, FPU, LAPIC LINT0/LINT1. Secondary vCPUs are left waiting for INIT/SIPI.
 */
MUST_CHECK int cpu_setup_vcpu(int vcpu_fd, const struct kvm_cpuid2 *supported,
			      unsigned int index, unsigned int count);
/* The BSP's registers for the 64-bit entry at rip, RSI pointing at the zero page. */
MUST_CHECK int cpu_setup_boot_regs(int vcpu_fd, uint64_t rip);

#endif
