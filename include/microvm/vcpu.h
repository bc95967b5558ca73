/*
 * One vCPU: its KVM fd and run area, and the loop that services its exits. The VM
 * creates and configures vCPUs on the main thread; each then runs on its own thread,
 * whose entry (vcpu_thread_main) is the place a per-thread sandbox goes, before the
 * first KVM_RUN.
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
#include "microvm/resources.h"
#include "microvm/gmem.h"
#include "microvm/sandbox.h"

/* Exit statuses vm_run returns. */
#define VM_STATUS_OK 0    /* the guest reset or powered off, or a signal stopped it */
#define VM_STATUS_ERROR 1 /* triple fault, KVM internal error, fatal VMM error */

/* How the VM ends: the first request wins and wakes the main thread through efd. */
struct vm_exit {
	atomic_bool requested;
	atomic_int status;
	int efd;
};

void vm_exit_request(struct vm_exit *e, int status);
bool vm_exit_requested(struct vm_exit *e);

/* What every vCPU thread shares: read-only once the threads run. */
/*
 * vCPU threads install their seccomp filter, then wait here until the VMM
 * thread has installed its own, so no thread runs guest code unfiltered.
 */
struct vcpu_gate {
	pthread_mutex_t lock;
	pthread_cond_t opened_cond;
	bool opened;
};

void vcpu_gate_init(struct vcpu_gate *g);
void vcpu_gate_open(struct vcpu_gate *g);
void vcpu_gate_destroy(struct vcpu_gate *g);

struct vcpu_env {
	const struct gmem *mem;
	const struct bus *pio;
	const struct bus *mmio;
	enum pvm_mode pvm;
	struct vm_exit *exit;
	atomic_bool pvm_seen; /* an emulation failure was finished: log the first only */
	struct vcpu_gate gate;
	const struct sandbox *sandbox;
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
};

/* Creates vCPU index on vm_fd and maps its run area; vcpu_destroy undoes it. */
MUST_CHECK int vcpu_create(struct vcpu *v, int vm_fd, size_t run_size, unsigned int index,
			   struct vcpu_env *env);
void vcpu_destroy(struct vcpu *v);
/* Starts the vCPU's thread; the caller's signal mask is inherited. */
MUST_CHECK int vcpu_start(struct vcpu *v);
/* Makes a running or about-to-run KVM_RUN return, so the thread sees the exit request. */
void vcpu_kick(struct vcpu *v, int signo);

#endif
