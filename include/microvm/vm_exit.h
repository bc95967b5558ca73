/*
 * What the VM's threads share about its run state, owned by none of them: the stop
 * request any thread may make (the first wins, carries the exit status, and wakes the
 * VMM thread's loop through an eventfd), and the gate that holds the vCPU threads out
 * of KVM_RUN. vm.c and vcpu.c both use it; neither includes the other.
 */
#ifndef MICROVM_VM_EXIT_H
#define MICROVM_VM_EXIT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "microvm/compiler.h"

/* Exit statuses vm_run returns. */
#define VM_STATUS_OK 0    /* the guest reset or powered off, or a signal stopped it */
#define VM_STATUS_ERROR 1 /* triple fault, KVM internal error, fatal VMM error */

struct vm_exit {
	atomic_bool requested;
	atomic_int status;
	int efd;
};

MUST_CHECK int vm_exit_init(struct vm_exit *e);
void vm_exit_destroy(struct vm_exit *e);
/* Any thread: ends the VM with status, unless another request came first. */
void vm_exit_request(struct vm_exit *e, int status);
bool vm_exit_requested(struct vm_exit *e);
/* The first request's status (VM_STATUS_ERROR if none came). */
int vm_exit_status(struct vm_exit *e);

/*
 * Where vCPU threads wait outside KVM_RUN. Closed at first: each vCPU thread installs
 * its filter, then waits until the VMM thread has installed its own, so no thread runs
 * guest code unfiltered. Closed again to pause: each vCPU, kicked out of KVM_RUN,
 * parks here, and its state stays as it left it until the gate opens.
 */
struct vcpu_gate {
	pthread_mutex_t lock;
	pthread_cond_t changed;
	bool open;
	unsigned int running;  /* vCPU threads started and not yet ended */
	unsigned int parked;   /* of those, how many wait at the closed gate */
};

void vcpu_gate_init(struct vcpu_gate *g);
void vcpu_gate_destroy(struct vcpu_gate *g);
void vcpu_gate_open(struct vcpu_gate *g);
void vcpu_gate_close(struct vcpu_gate *g);
/* Before a vCPU thread starts (the VMM thread). */
void vcpu_gate_add(struct vcpu_gate *g);
/* As a vCPU thread ends, or when it could not start. */
void vcpu_gate_remove(struct vcpu_gate *g);
/* A vCPU thread: returns once the gate is open, counted as parked while it waits. */
void vcpu_gate_pass(struct vcpu_gate *g);
/* The VMM thread, after closing the gate and kicking every vCPU: until all are parked. */
void vcpu_gate_wait_parked(struct vcpu_gate *g);

#endif
