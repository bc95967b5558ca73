/*
 * The CPUID table a vCPU gets: KVM_GET_SUPPORTED_CPUID's, with the fix-ups every VMM
 * makes (APIC IDs and topology per vCPU, the hypervisor bit and KVM's signature, no
 * features the VMM does not emulate). Pure: tests run it on synthetic tables.
 */
#ifndef MICROVM_ARCH_X86_CPUID_H
#define MICROVM_ARCH_X86_CPUID_H

#include <asm/kvm.h>

#include "microvm/compiler.h"

#define CPUID_MAX_ENTRIES 256

/* A zeroed table with room for CPUID_MAX_ENTRIES entries (nent 0), or NULL; free() it. */
struct kvm_cpuid2 *cpuid_alloc(void);
/* A copy of t (which has that room), or NULL. */
struct kvm_cpuid2 *cpuid_dup(const struct kvm_cpuid2 *t);
/*
 * Rewrites t (from cpuid_alloc) for vCPU index (its APIC ID) of count; -EINVAL for a
 * bad index, count or nent, -ENOSPC when a missing leaf does not fit.
 */
MUST_CHECK int cpuid_fixup(struct kvm_cpuid2 *t, unsigned int index, unsigned int count);
/* A copy of supported rewritten by cpuid_fixup for vCPU index of count, or NULL; free() it. */
struct kvm_cpuid2 *cpuid_for_vcpu(const struct kvm_cpuid2 *supported, unsigned int index,
				  unsigned int count);
/* The entry for function/index, or NULL. */
struct kvm_cpuid_entry2 *cpuid_find(struct kvm_cpuid2 *t, uint32_t function, uint32_t index);

#endif
