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

/* struct kvm_cpuid2 ends in a flexible array: this is its fixed-size storage. */
struct cpuid_table {
	struct kvm_cpuid2 hdr;
	struct kvm_cpuid_entry2 entries[CPUID_MAX_ENTRIES];
};

/* Rewrites t for vCPU index (its APIC ID) of count; -EINVAL for a bad index or count. */
MUST_CHECK int cpuid_fixup(struct cpuid_table *t, unsigned int index, unsigned int count);
/* The entry for function/index, or NULL. */
struct kvm_cpuid_entry2 *cpuid_find(struct cpuid_table *t, uint32_t function, uint32_t index);

#endif
