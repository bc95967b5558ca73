/*
 * One VM and its lifecycle, in this order:
 *   vm_create   from its resources: the devices' host side opened, guest memory made,
 *               the boot source loaded, the platform tables written. No KVM yet, so
 *               --check stops here.
 *   vm_boot     KVM: the VM and its memory slots, the legacy and virtio devices on
 *               their buses, the vCPUs set up for the boot. From here other threads
 *               may post commands (vm_command).
 *   vm_run      on the calling thread, the VMM thread: the vCPU and I/O threads, this
 *               thread's filter, then its event loop until the VM ends.
 *   vm_destroy  closes and frees everything.
 * While vm_run runs, a command from another thread pauses the vCPUs (each out of
 * KVM_RUN, parked, its registers readable through vm_vcpu_regs) or resumes them.
 * The devices served by the I/O thread go on serving the host side while paused.
 * A graceful stop (vm_request_shutdown, or SIGPWR) presses the guest's ACPI power
 * button: a guest that powers off ends the VM with status 0; one that has not within
 * the machine's shutdown timeout is stopped as SIGTERM stops it.
 */
#ifndef MICROVM_VM_H
#define MICROVM_VM_H

#include <asm/kvm.h>
#include <stdbool.h>

#include "microvm/compiler.h"
#include "microvm/diag.h"
#include "microvm/evloop.h"
#include "microvm/loader.h"
#include "config/resources.h"
#include "microvm/sandbox.h"

#define VM_MAX_VCPUS 64

struct vm;

struct vm_params {
	const struct vm_resources *res;  /* read until vm_destroy */
	const struct sandbox *sandbox;   /* prepared; each thread enters it */
	int console_in, console_out;     /* the guest's serial console: stdin and stdout */
	/* --check: log what a boot would change at debug level only (the output is a summary). */
	bool dry_run;
};

MUST_CHECK int vm_create(struct vm **out, const struct vm_params *p, struct diag *d);
/* Where the boot source went: --check prints it. */
const struct boot_info *vm_boot_info(const struct vm *vm);
/* Logs an error line and returns -errno when the VM cannot be built. */
MUST_CHECK int vm_boot(struct vm *vm);
/*
 * Runs until the guest resets or powers off (returns 0), SIGTERM/SIGINT/SIGHUP or the
 * shutdown timeout stop it (returns 0), or a triple fault, KVM internal error or fatal VMM error ends it (one
 * error line printed, returns 1). The return value is the process exit status. The
 * terminal is restored before it returns.
 */
MUST_CHECK int vm_run(struct vm *vm);
/* Another thread, after vm_boot: runs cmd on the VMM thread; -ESHUTDOWN once the VM has ended. */
MUST_CHECK int vm_command(struct vm *vm, enum vm_command cmd);
/*
 * Another thread (the API's SendCtrlAltDel): asks the guest to power off, as
 * VM_COMMAND_SHUTDOWN; returns once the button is pressed, not when the VM has ended.
 */
MUST_CHECK int vm_request_shutdown(struct vm *vm);
unsigned int vm_vcpu_count(const struct vm *vm);
/* vCPU index's registers, while the VM is paused (-EBUSY otherwise). */
MUST_CHECK int vm_vcpu_regs(struct vm *vm, unsigned int index, struct kvm_regs *regs,
			    struct kvm_sregs *sregs);
void vm_destroy(struct vm *vm);

#endif
