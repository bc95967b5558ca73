/*
 * The boot CPU state, through KVM: the BSP's registers over the tables platform.c
 * wrote, in long mode for the 64-bit Linux boot protocol or in 32-bit protected mode
 * for the PVH entry; CPUID, MSRs, FPU and LAPIC for every vCPU.
 */
#ifndef MICROVM_ARCH_X86_CPU_H
#define MICROVM_ARCH_X86_CPU_H

#include <asm/kvm.h>
#include <stdint.h>

#include "microvm/compiler.h"

/* The KVM view of the descriptor at selector. */
struct kvm_segment cpu_segment_from_gdt(uint64_t entry, uint16_t selector);

/*
 * Per-vCPU state for vCPU index: cpuid (cpuid_for_vcpu's table for it), MSR defaults,
 * FPU, LAPIC LINT0/LINT1. Secondary vCPUs are left waiting for INIT/SIPI.
 */
MUST_CHECK int cpu_setup_vcpu(int vcpu_fd, const struct kvm_cpuid2 *cpuid, unsigned int index);
/* The BSP's registers for the 64-bit entry at rip, RSI pointing at the zero page. */
MUST_CHECK int cpu_setup_boot_regs(int vcpu_fd, uint64_t rip);
/* The BSP's registers for the PVH entry: 32-bit protected mode at entry, EBX = start info. */
MUST_CHECK int cpu_setup_pvh_regs(int vcpu_fd, uint32_t entry);

#endif
