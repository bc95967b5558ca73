/*
 * The VM as KVM sees it: /dev/kvm and the capabilities the VMM needs, the VM's fd with
 * its in-kernel interrupt controllers and PIT, guest memory slots, and interrupt lines.
 * Every failure is logged here with the ioctl it came from.
 */
#ifndef MICROVM_KVM_H
#define MICROVM_KVM_H

#include <asm/kvm.h>
#include <stdbool.h>
#include <stddef.h>

#include "microvm/compiler.h"
#include "microvm/gmem.h"

#define KVM_DEVICE "/dev/kvm"

struct kvm {
	int kvm_fd, vm_fd;
	size_t run_size;   /* each vCPU's kvm_run mapping */
};

/*
 * Opens /dev/kvm, checks it can run vcpus vCPUs, and creates the VM with every region of
 * mem as a memory slot; kvm_close undoes it.
 */
MUST_CHECK int kvm_open(struct kvm *k, unsigned int vcpus, const struct gmem *mem);
/* What KVM can give a vCPU, into t (CPUID_MAX_ENTRIES entries). */
MUST_CHECK int kvm_supported_cpuid(const struct kvm *k, struct kvm_cpuid2 *t);
/* Any thread: drives the interrupt line gsi to level. */
void kvm_irq_line(const struct kvm *k, unsigned int gsi, bool level);
/* Any thread: an edge on gsi, as an irqfd would raise; pulses from several threads each rise. */
void kvm_irq_pulse(const struct kvm *k, unsigned int gsi);
/*
 * KVM signals efd for a 4-byte guest write of value to MMIO address addr, which then
 * completes without leaving the kernel (KVM_IOEVENTFD). 0 or -errno.
 */
MUST_CHECK int kvm_ioeventfd(const struct kvm *k, uint64_t addr, uint32_t value, int efd);
void kvm_close(struct kvm *k);
/* What KVM on this host can give a vCPU (CPUID_MAX_ENTRIES entries), without a VM. */
MUST_CHECK int kvm_host_cpuid(struct kvm_cpuid2 *t);

#endif
