/* CPUID fix-ups: APIC IDs, topology, the hypervisor leaf, features the VMM hides. */
#include <setjmp.h>
#include <stdarg.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "arch/x86/cpuid.h"

static struct kvm_cpuid_entry2 *add(struct kvm_cpuid2 *t, uint32_t fn, uint32_t index, bool indexed)
{
	struct kvm_cpuid_entry2 *e = &t->entries[t->nent++];

	*e = (struct kvm_cpuid_entry2){ .function = fn, .index = index,
					.flags = indexed ? KVM_CPUID_FLAG_SIGNIFCANT_INDEX : 0 };
	return e;
}

/* A table shaped like KVM_GET_SUPPORTED_CPUID's on an Intel host. */
static struct kvm_cpuid2 *host_table(void)
{
	struct kvm_cpuid2 *t = cpuid_alloc();

	assert_non_null(t);
	struct kvm_cpuid_entry2 *l1 = add(t, 1, 0, false);
	l1->eax = 0x806c1;
	l1->ebx = 0x0a010800;  /* APIC ID 10, 1 logical, clflush 8 */
	l1->ecx = 0x7ffafbff;  /* with MONITOR, VMX, EST, TM2, PDCM, ... */
	l1->edx = 0x1f8bfbff;  /* with HTT */
	for (uint32_t i = 0; i < 4; i++) {
		struct kvm_cpuid_entry2 *c = add(t, 4, i, true);
		uint32_t level = i < 2 ? 1 : i; /* L1d, L1i, L2, L3 */

		c->eax = (level << 5) | 0x1 | (0x3fu << 26) | (0xfu << 14);
	}
	add(t, 6, 0, false)->eax = 0x77;
	add(t, 0xa, 0, false)->eax = 0x07300802;
	for (uint32_t i = 0; i < 3; i++)
		add(t, 0xb, i, true)->edx = 77;
	add(t, 0x40000000, 0, false)->eax = 0x40000001;
	add(t, 0x40000001, 0, false)->eax = 0x01007afb;
	return t;
}

static void apic_ids_and_counts(void **state)
{
	(void)state;
	struct kvm_cpuid2 *t = host_table();
	struct kvm_cpuid_entry2 *e;

	assert_int_equal(cpuid_fixup(t, 3, 4), 0);
	e = cpuid_find(t, 1, 0);
	assert_int_equal(e->ebx >> 24, 3);
	assert_int_equal((e->ebx >> 16) & 0xff, 4);
	assert_int_equal(e->ebx & 0xffff, 0x0800);   /* CLFLUSH size kept */
	assert_true(e->ecx & (1u << 31));            /* hypervisor */
	assert_false(e->ecx & ((1u << 3) | (1u << 5) | (1u << 7) | (1u << 8) | (1u << 15)));
	assert_true(e->edx & (1u << 28));            /* HTT: more than one logical CPU */
	assert_int_equal(e->eax, 0x806c1);
	free(t);
}

static void single_cpu_has_no_htt(void **state)
{
	(void)state;
	struct kvm_cpuid2 *t = host_table();

	assert_int_equal(cpuid_fixup(t, 0, 1), 0);
	assert_false(cpuid_find(t, 1, 0)->edx & (1u << 28));
	assert_int_equal(cpuid_find(t, 1, 0)->ebx >> 16, 1);
	free(t);
}

static void cache_and_topology(void **state)
{
	(void)state;
	struct kvm_cpuid2 *t = host_table();

	assert_int_equal(cpuid_fixup(t, 5, 6), 0);
	for (uint32_t i = 0; i < 4; i++) {
		uint32_t eax = cpuid_find(t, 4, i)->eax;

		assert_int_equal(eax >> 26, 5);                    /* 6 cores */
		assert_int_equal((eax >> 14) & 0xfff, i == 3 ? 5 : 0); /* L3 shared by all */
		assert_int_equal(eax & 0x3fff, ((i < 2 ? 1u : i) << 5) | 1);
	}
	struct kvm_cpuid_entry2 *smt = cpuid_find(t, 0xb, 0);
	struct kvm_cpuid_entry2 *core = cpuid_find(t, 0xb, 1);
	struct kvm_cpuid_entry2 *end = cpuid_find(t, 0xb, 2);

	assert_int_equal(smt->ebx, 1);
	assert_int_equal(smt->eax, 0);
	assert_int_equal((smt->ecx >> 8) & 0xff, 1);
	assert_int_equal(core->eax, 3);                  /* 6 CPUs need 3 bits */
	assert_int_equal(core->ebx, 6);
	assert_int_equal((core->ecx >> 8) & 0xff, 2);
	assert_int_equal(end->ebx, 0);
	assert_int_equal((end->ecx >> 8) & 0xff, 0);
	assert_int_equal(smt->edx, 5);
	assert_int_equal(core->edx, 5);
	assert_int_equal(end->edx, 5);
	free(t);
}

static void hidden_leaves(void **state)
{
	(void)state;
	struct kvm_cpuid2 *t = host_table();

	assert_int_equal(cpuid_fixup(t, 0, 2), 0);
	assert_int_equal(cpuid_find(t, 6, 0)->eax, 0x4); /* only ARAT */
	assert_int_equal(cpuid_find(t, 0xa, 0)->eax, 0);
	free(t);
}

static void kvm_signature(void **state)
{
	(void)state;
	struct kvm_cpuid2 *t = host_table();
	struct kvm_cpuid_entry2 *e;
	char sig[13] = { 0 };

	assert_int_equal(cpuid_fixup(t, 0, 1), 0);
	e = cpuid_find(t, 0x40000000, 0);
	memcpy(sig, &e->ebx, 4);
	memcpy(sig + 4, &e->ecx, 4);
	memcpy(sig + 8, &e->edx, 4);
	assert_string_equal(sig, "KVMKVMKVM");
	assert_int_equal(e->eax, 0x40000001);
	free(t);

	/* A table without the leaf gets one. */
	t = cpuid_alloc();
	assert_non_null(t);
	add(t, 1, 0, false);
	assert_int_equal(cpuid_fixup(t, 0, 1), 0);
	assert_int_equal(t->nent, 2);
	e = cpuid_find(t, 0x40000000, 0);
	assert_non_null(e);
	assert_memory_equal(&e->ebx, "KVMK", 4);
	free(t);
}

static void bad_arguments(void **state)
{
	(void)state;
	struct kvm_cpuid2 *t = host_table();

	assert_int_equal(cpuid_fixup(t, 0, 0), -EINVAL);
	assert_int_equal(cpuid_fixup(t, 4, 4), -EINVAL);
	assert_int_equal(cpuid_fixup(t, 0, 255), -EINVAL);
	t->nent = CPUID_MAX_ENTRIES + 1;
	assert_int_equal(cpuid_fixup(t, 0, 1), -EINVAL);
	free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(apic_ids_and_counts),
		cmocka_unit_test(single_cpu_has_no_htt),
		cmocka_unit_test(cache_and_topology),
		cmocka_unit_test(hidden_leaves),
		cmocka_unit_test(kvm_signature),
		cmocka_unit_test(bad_arguments),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
