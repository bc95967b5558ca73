/*
 * The VM as KVM sees it: /dev/kvm and the capabilities the VMM needs, the VM's fd with
 * its in-kernel interrupt controllers and PIT, guest memory slots, and interrupt lines.
 * It is made in two steps: kvm_create, what any configuration needs (a restore checks
 * the snapshot's CPU against its table before building anything), then kvm_setup for
 * the configured VM. kvm_create reports failures through a diag; the other steps log
 * them with the ioctl they came from.
 */
#ifndef MICROVM_KVM_H
#define MICROVM_KVM_H

#include <asm/kvm.h>
#include <stdbool.h>
#include <stddef.h>

#include "microvm/compiler.h"
#include "microvm/diag.h"
#include "microvm/gmem.h"

#define KVM_DEVICE "/dev/kvm"

struct kvm {
	int kvm_fd, vm_fd;
	size_t run_size;                /* each vCPU's kvm_run mapping */
	int max_vcpus;                  /* KVM's limit; 0 or less: it names none */
	struct kvm_cpuid2 *supported;   /* what KVM can give a vCPU (CPUID_MAX_ENTRIES entries) */
};

/*
 * Opens /dev/kvm, checks its capabilities and creates the VM, without memory or
 * interrupt controllers, and reads what KVM supports (KVM_GET_SUPPORTED_CPUID). Nothing
 * here depends on the VM's configuration. On failure k is left closed.
 */
MUST_CHECK int kvm_create(struct kvm *k, struct diag *d);
/*
 * The configured VM: checks it can run vcpus vCPUs, then every region of mem as a
 * memory slot, then the interrupt controllers and the PIT.
 */
MUST_CHECK int kvm_setup(struct kvm *k, unsigned int vcpus, const struct gmem *mem);
/* Any thread: drives the interrupt line gsi to level. */
void kvm_irq_line(const struct kvm *k, unsigned int gsi, bool level);
/* Any thread: an edge on gsi, as an irqfd would raise; pulses from several threads each rise. */
void kvm_irq_pulse(const struct kvm *k, unsigned int gsi);
/*
 * KVM signals efd for a 4-byte guest write of value to MMIO address addr, which then
 * completes without leaving the kernel (KVM_IOEVENTFD). 0 or -errno.
 */
MUST_CHECK int kvm_ioeventfd(const struct kvm *k, uint64_t addr, uint32_t value, int efd);
/* Closes what kvm_create opened (either fd may be -1) and frees its table. */
void kvm_close(struct kvm *k);

#endif
