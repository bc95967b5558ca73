/*
 * One vCPU: its KVM fd and run area, and the loop that services its exits. The VM
 * creates and configures vCPUs on its thread; each then runs on its own thread, which
 * installs its seccomp filter before the first KVM_RUN. Out of KVM_RUN, a vCPU thread
 * waits at the VM's gate (microvm/vm_exit.h) while the VM starts and while it is
 * paused: a kick (vcpu_kick) brings it there, with any port or MMIO access it was
 * serving completed first.
 */
#ifndef MICROVM_VCPU_H
#define MICROVM_VCPU_H

#include <linux/kvm.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "arch/x86/insn.h"
#include "microvm/bus.h"
#include "microvm/compiler.h"
#include "microvm/gmem.h"
#include "microvm/sandbox.h"
#include "microvm/vm_exit.h"

/* What every vCPU thread shares: read-only once the threads run, but for the atomics. */
struct vcpu_env {
	const struct gmem *mem;
	const struct bus *pio;
	const struct bus *mmio;
	bool pvm_finish;      /* finish instructions a PVM host's emulator gives up on (not --no-pvm) */
	struct vm_exit *exit;
	atomic_bool pvm_seen; /* an emulation failure was finished: log the first only */
	struct vcpu_gate gate;
	const struct sandbox *sandbox;
};

/* The exits a vCPU counts, for the metrics. */
enum vcpu_exit_kind {
	VCPU_EXIT_IO_IN,
	VCPU_EXIT_IO_OUT,
	VCPU_EXIT_MMIO_READ,
	VCPU_EXIT_MMIO_WRITE,
	VCPU_EXIT_HLT,
	VCPU_EXIT_SIGNAL,   /* kicked out of KVM_RUN */
	VCPU_EXIT_OTHER,
	VCPU_EXIT_KINDS,
};

struct vcpu {
	unsigned int index;
	int fd;
	struct kvm_run *run;
	size_t run_size;
	pthread_t thread;
	bool started;
	struct vcpu_env *env;
	unsigned int unclaimed_logged;
	unsigned long finished[INSN_NR_KINDS]; /* finished for a PVM host, by enum insn_kind */
	atomic_ullong exits[VCPU_EXIT_KINDS];  /* read by the metrics from the VMM thread */
};

/* Creates vCPU index on vm_fd and maps its run area; vcpu_destroy undoes it. */
MUST_CHECK int vcpu_create(struct vcpu *v, int vm_fd, size_t run_size, unsigned int index,
			   struct vcpu_env *env);
void vcpu_destroy(struct vcpu *v);
/* Starts the vCPU's thread; the caller's signal mask is inherited. */
MUST_CHECK int vcpu_start(struct vcpu *v);
/* Makes a running or about-to-run KVM_RUN return, so the thread looks at the gate and the exit request. */
void vcpu_kick(struct vcpu *v, int signo);
/* Joins the vCPU's thread once it has returned. */
void vcpu_join(struct vcpu *v);
/* The vCPU's registers (KVM_GET_REGS, KVM_GET_SREGS): stable only while it waits at the gate. */
MUST_CHECK int vcpu_get_regs(const struct vcpu *v, struct kvm_regs *regs, struct kvm_sregs *sregs);

#endif
