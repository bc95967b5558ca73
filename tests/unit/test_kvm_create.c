/*
 * kvm.c's steps, seen through wrapped open64 and ioctl: kvm_create does only what needs
 * no configuration, and kvm_setup then puts every memory slot in before
 * KVM_CREATE_IRQCHIP (after it, the first slot cost 5-6 ms on this project's hosts
 * whatever the guest's size, half of a snapshot restore).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "arch/x86/layout.h"
#include "microvm/kvm.h"

#define FAKE_KVM_FD 900
#define FAKE_VM_FD 901

/* open64: what open(2) is named with _FILE_OFFSET_BITS=64, as meson builds. */
int __wrap_open64(const char *path, int flags, ...);
int __wrap_ioctl(int fd, unsigned long request, ...);

static unsigned long requests[32];
static unsigned int nr_requests;
/* Opens of /dev/kvm to refuse (ENOENT) before they succeed. */
static unsigned int opens_refused;

int __wrap_open64(const char *path, int flags, ...)
{
	(void)path;
	(void)flags;
	if (opens_refused) {
		opens_refused--;
		errno = ENOENT;
		return -1;
	}
	return FAKE_KVM_FD;
}

int __wrap_ioctl(int fd, unsigned long request, ...)
{
	(void)fd;
	if (nr_requests < sizeof(requests) / sizeof(requests[0]))
		requests[nr_requests++] = request;
	switch (request) {
	case KVM_GET_API_VERSION:
		return 12;
	case KVM_CHECK_EXTENSION:
		return 1;
	case KVM_CREATE_VM:
		return FAKE_VM_FD;
	case KVM_GET_VCPU_MMAP_SIZE:
		return 4096;
	default:
		return 0;
	}
}

static int reset(void **state)
{
	(void)state;
	nr_requests = 0;
	opens_refused = 0;
	return 0;
}

/* Where request first came, or nr_requests when it never did. */
static unsigned int first(unsigned long request)
{
	unsigned int i = 0;

	while (i < nr_requests && requests[i] != request)
		i++;
	return i;
}

static void slots_before_irqchip(void **state)
{
	struct gmem mem;
	struct kvm k;
	struct diag d;
	unsigned int slots = 0, irqchip;

	(void)state;
	/* 4 GiB: two regions around the MMIO gap. The pointer is only passed to KVM, never touched. */
	assert_int_equal(gmem_wrap(&mem, (void *)(uintptr_t)0x100000000000ull, 4096 * LAYOUT_MIB), 0);
	assert_int_equal(mem.nr_regions, 2);
	assert_int_equal(kvm_create(&k, &d), 0);
	/* What needs no configuration is done before it is known, nothing else. */
	assert_int_equal(first(KVM_SET_USER_MEMORY_REGION), nr_requests);
	assert_int_equal(first(KVM_CREATE_IRQCHIP), nr_requests);
	assert_true(first(KVM_GET_SUPPORTED_CPUID) < nr_requests);
	assert_non_null(k.supported);
	assert_int_equal(kvm_setup(&k, 1, &mem), 0);
	irqchip = first(KVM_CREATE_IRQCHIP);
	assert_true(irqchip < nr_requests);
	assert_true(first(KVM_CREATE_VM) < first(KVM_SET_USER_MEMORY_REGION));
	for (unsigned int i = 0; i < nr_requests; i++) {
		if (requests[i] == KVM_SET_USER_MEMORY_REGION) {
			assert_true(i < irqchip);
			slots++;
		}
	}
	assert_int_equal(slots, 2);
	assert_true(irqchip < first(KVM_CREATE_PIT2));
	/* kvm_close's close(2) of the fake descriptors fails with EBADF, harmlessly. */
	kvm_close(&k);
	assert_null(k.supported);
}

/* /dev/kvm cannot be opened: the reason names it, and nothing is left open or allocated. */
static void create_failure_leaves_closed(void **state)
{
	struct kvm k;
	struct diag d;

	(void)state;
	opens_refused = 1;
	assert_int_equal(kvm_create(&k, &d), -ENOENT);
	assert_non_null(strstr(d.msg, "/dev/kvm"));
	assert_int_equal(k.kvm_fd, -1);
	assert_int_equal(k.vm_fd, -1);
	assert_null(k.supported);
	assert_int_equal(nr_requests, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(slots_before_irqchip, reset),
		cmocka_unit_test_setup(create_failure_leaves_closed, reset),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
