/*
 * A vCPU's and the VM's architectural state through KVM, for snapshots: what
 * struct snap_vcpu, snap_msrs, snap_cpuid and snap_vm hold (snapshot/state.h). Saving
 * runs on the VMM thread while the vCPUs are parked (policy/vmm.policy allows these
 * KVM_GET_* requests); restoring runs before any filter, in the order KVM needs:
 * CPUID before the registers that depend on it, the LAPIC before the MSRs that
 * program it, the pending events last. Each failure names the ioctl in *what.
 */
#ifndef MICROVM_ARCH_X86_VCPU_STATE_H
#define MICROVM_ARCH_X86_VCPU_STATE_H

#include <asm/kvm.h>

#include "microvm/compiler.h"
#include "snapshot/state.h"

/*
 * The MSRs a snapshot saves: those KVM lists (KVM_GET_MSR_INDEX_LIST on kvm_fd) that
 * vcpu_fd can read now. -E2BIG beyond SNAP_MAX_MSRS.
 */
MUST_CHECK int vcpu_state_msr_list(int kvm_fd, int vcpu_fd, struct snap_msrs *list);
MUST_CHECK int vcpu_state_save(int vcpu_fd, const struct snap_msrs *list, struct snap_vcpu *out,
			       struct snap_msrs *msrs, const char **what);
/*
 * A CPUID table as a snapshot keeps it. The VMM keeps the table it gave each vCPU: on a
 * PVM host KVM_GET_CPUID2 answers with the host's own leaves, not what was set.
 */
void vcpu_state_cpuid(const struct kvm_cpuid2 *t, struct snap_cpuid *out);
MUST_CHECK int vcpu_state_restore(int vcpu_fd, const struct snap_vcpu *in, const struct snap_msrs *msrs,
				  const struct snap_cpuid *cpuid, const char **what);
/* The vCPUs' TSC frequency in kHz (KVM_GET_TSC_KHZ), 0 when KVM cannot say. */
uint32_t vcpu_state_tsc_khz(int vcpu_fd);
/* The TSC frequency a snapshot ran at, when this host's differs by more than KVM's tolerance. */
MUST_CHECK int vcpu_state_set_tsc_khz(int vcpu_fd, uint32_t khz);
MUST_CHECK int vm_state_save(int vm_fd, struct snap_vm *out, const char **what);
MUST_CHECK int vm_state_restore(int vm_fd, const struct snap_vm *in, const char **what);

#endif
