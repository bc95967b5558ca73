/* PVM host detection: sysfs when visible, else the host CPU's lack of VMX and SVM (a jail has no /sys). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "arch/x86/pvm.h"

static void detection(void **state)
{
	(void)state;
	assert_true(pvm_detect(true, PVM_CPUID_1_ECX_VMX, 0));
	assert_true(pvm_detect(false, 0, 0));
	assert_true(pvm_detect(false, ~PVM_CPUID_1_ECX_VMX, ~PVM_CPUID_80000001_ECX_SVM));
	/* Hardware KVM: behaviour must not change. */
	assert_false(pvm_detect(false, PVM_CPUID_1_ECX_VMX, 0));
	assert_false(pvm_detect(false, 0, PVM_CPUID_80000001_ECX_SVM));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(detection),
	};

	return cmocka_run_group_tests_name("pvm", tests, NULL, NULL);
}
