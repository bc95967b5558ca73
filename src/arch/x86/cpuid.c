#include "arch/x86/cpuid.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define LEAF_FEATURES 0x1
#define LEAF_CACHE 0x4
#define LEAF_THERMAL 0x6
#define LEAF_PMU 0xa
#define LEAF_TOPOLOGY 0xb
#define LEAF_TOPOLOGY_V2 0x1f
#define LEAF_HYPERVISOR 0x40000000

/* Leaf 1 ECX: what a VMM without these devices or MSRs must not advertise. */
#define ECX_DTES64 (1u << 2)
#define ECX_MONITOR (1u << 3)
#define ECX_DS_CPL (1u << 4)
#define ECX_VMX (1u << 5)
#define ECX_SMX (1u << 6)
#define ECX_EST (1u << 7)
#define ECX_TM2 (1u << 8)
#define ECX_PDCM (1u << 15)
#define ECX_HYPERVISOR (1u << 31)
#define EDX_HTT (1u << 28)

/* Leaf 0xb/0x1f ECX[15:8] level types. */
#define TOPO_LEVEL_SMT 1
#define TOPO_LEVEL_CORE 2

#define CPUID_ALLOC_SIZE (sizeof(struct kvm_cpuid2) + CPUID_MAX_ENTRIES * sizeof(struct kvm_cpuid_entry2))

struct kvm_cpuid2 *cpuid_alloc(void)
{
	return calloc(1, CPUID_ALLOC_SIZE);
}

struct kvm_cpuid2 *cpuid_dup(const struct kvm_cpuid2 *t)
{
	struct kvm_cpuid2 *copy = malloc(CPUID_ALLOC_SIZE);

	if (copy)
		memcpy(copy, t, CPUID_ALLOC_SIZE);
	return copy;
}

struct kvm_cpuid2 *cpuid_for_vcpu(const struct kvm_cpuid2 *supported, unsigned int index,
				  unsigned int count)
{
	struct kvm_cpuid2 *t = cpuid_dup(supported);

	if (t && cpuid_fixup(t, index, count)) {
		free(t);
		return NULL;
	}
	return t;
}

struct kvm_cpuid_entry2 *cpuid_find(struct kvm_cpuid2 *t, uint32_t function, uint32_t index)
{
	for (uint32_t i = 0; i < t->nent && i < CPUID_MAX_ENTRIES; i++) {
		struct kvm_cpuid_entry2 *e = &t->entries[i];

		if (e->function != function)
			continue;
		if (!(e->flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) || e->index == index)
			return e;
	}
	return NULL;
}

/* Bits needed to number count things: ceil(log2(count)). */
static uint32_t cpuid_width(unsigned int count)
{
	uint32_t w = 0;

	while ((1u << w) < count)
		w++;
	return w;
}

static void cpuid_fix_topology(struct kvm_cpuid_entry2 *e, unsigned int index, unsigned int count)
{
	/* One thread per core, count cores in one package: x2APIC ID = vCPU index. */
	switch (e->index) {
	case 0:
		e->eax = 0;
		e->ebx = 1;
		e->ecx = (TOPO_LEVEL_SMT << 8) | e->index;
		break;
	case 1:
		e->eax = cpuid_width(count);
		e->ebx = count;
		e->ecx = (TOPO_LEVEL_CORE << 8) | e->index;
		break;
	default:
		e->eax = 0;
		e->ebx = 0;
		e->ecx = e->index;
		break;
	}
	e->edx = index;
}

/* "KVMKVMKVM\0\0\0": the guest's KVM paravirt code keys on it. */
static void cpuid_set_kvm_signature(struct kvm_cpuid_entry2 *e)
{
	memcpy(&e->ebx, "KVMK", 4);
	memcpy(&e->ecx, "VMKV", 4);
	memcpy(&e->edx, "M\0\0\0", 4);
}

int cpuid_fixup(struct kvm_cpuid2 *t, unsigned int index, unsigned int count)
{
	/* APIC IDs are 8 bits and 0xff is the broadcast ID. */
	if (count == 0 || count > 254 || index >= count || t->nent > CPUID_MAX_ENTRIES)
		return -EINVAL;

	for (uint32_t i = 0; i < t->nent; i++) {
		struct kvm_cpuid_entry2 *e = &t->entries[i];

		switch (e->function) {
		case LEAF_FEATURES:
			/* EBX[31:24] initial APIC ID, [23:16] logical processors in the package. */
			e->ebx = (e->ebx & 0xffffu) | (index << 24) | (count << 16);
			e->ecx &= ~(ECX_DTES64 | ECX_MONITOR | ECX_DS_CPL | ECX_VMX | ECX_SMX |
				    ECX_EST | ECX_TM2 | ECX_PDCM);
			e->ecx |= ECX_HYPERVISOR;
			if (count > 1)
				e->edx |= EDX_HTT;
			else
				e->edx &= ~EDX_HTT;
			break;
		case LEAF_CACHE: {
			/* EAX[31:26] cores per package - 1; [25:14] threads sharing the cache - 1. */
			uint32_t level = (e->eax >> 5) & 7;
			uint32_t sharing = level >= 3 ? count - 1 : 0;

			e->eax = (e->eax & 0x3fffu) | (sharing << 14) | ((count - 1) << 26);
			break;
		}
		case LEAF_THERMAL:
			/* No thermal or power management MSRs; keep only "APIC timer always runs". */
			e->eax &= 1u << 2;
			e->ebx = e->ecx = e->edx = 0;
			break;
		case LEAF_PMU:
			/* No virtual PMU is configured. */
			e->eax = e->ebx = e->ecx = e->edx = 0;
			break;
		case LEAF_TOPOLOGY:
		case LEAF_TOPOLOGY_V2:
			cpuid_fix_topology(e, index, count);
			break;
		case LEAF_HYPERVISOR:
			cpuid_set_kvm_signature(e);
			break;
		default:
			break;
		}
	}
	if (!cpuid_find(t, LEAF_HYPERVISOR, 0)) {
		struct kvm_cpuid_entry2 *e;

		if (t->nent == CPUID_MAX_ENTRIES)
			return -ENOSPC;
		e = &t->entries[t->nent++];
		/* EAX: the highest hypervisor leaf, this one. */
		*e = (struct kvm_cpuid_entry2){ .function = LEAF_HYPERVISOR, .eax = LEAF_HYPERVISOR };
		cpuid_set_kvm_signature(e);
	}
	return 0;
}
