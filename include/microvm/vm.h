/*
 * One VM and its lifecycle, in this order:
 *   vm_create   from its resources: the devices' host side opened, guest memory made,
 *               the boot source loaded, the platform tables written. No KVM yet, so
 *               --check stops here.
 *   vm_boot     KVM: on the VM kvm_create made, its memory slots and interrupt
 *               controllers, the legacy and virtio devices on their buses, the vCPUs set
 *               up for the boot. From here other threads may post commands (vm_command).
 *   vm_run      on the calling thread, the VMM thread: the vCPU and I/O threads, this
 *               thread's filter, then its event loop until the VM ends.
 *   vm_destroy  closes and frees everything.
 * While vm_run runs, a command from another thread pauses the vCPUs (each out of
 * KVM_RUN, parked, its registers readable through vm_vcpu_regs), resumes them, or asks
 * the guest to shut down. The devices served by the I/O thread go on serving the host
 * side while paused, but for the time a snapshot takes (vm_snapshot holds that thread).
 * A graceful stop (VM_COMMAND_SHUTDOWN, or SIGPWR) presses the guest's ACPI power
 * button: a guest that powers off ends the VM with status 0; one that has not within the
 * machine's shutdown timeout is stopped as SIGTERM stops it. A VM may also be created
 * from a snapshot (vm_params.restore) in a fresh process: its memory mapped from the
 * memory file, every saved state put back at vm_boot. The owner of the VM may give the
 * loop descriptors of its own to watch (its mailbox, a timer) and run commands itself on
 * the VMM thread (vm_do).
 */
#ifndef MICROVM_VM_H
#define MICROVM_VM_H

#include <asm/kvm.h>
#include <stdbool.h>

#include "microvm/compiler.h"
#include "microvm/diag.h"
#include "microvm/evloop.h"
#include "microvm/loader.h"
#include "microvm/registry.h"
#include "microvm/vcpu.h"
#include "config/resources.h"
#include "microvm/sandbox.h"
#include "microvm/vm_params.h"
#include "snapshot/state.h"


struct kvm;
struct vm;

/* A device's transport counters (struct virtio_mmio_stats), for the metrics. */
struct vm_device_stats {
	const char *kind;      /* "virtio-blk" */
	uint64_t base;
	uint64_t notifications, used, used_bytes, interrupts, guest_errors, throttled;
};

/* What the metrics report of a VM: every vCPU's exits summed, and each device. */
struct vm_stats {
	uint64_t exits[VCPU_EXIT_KINDS];
	unsigned int nr_devices;
	struct vm_device_stats devices[REGISTRY_MAX_DEVICES];
};

MUST_CHECK int vm_create(struct vm **out, const struct vm_params *p, struct diag *d);
/* Where the boot source went: --check prints it. */
const struct boot_info *vm_boot_info(const struct vm *vm);
/*
 * Builds the VM on kvm (kvm_create's, taken over: left closed, whatever the outcome).
 * Logs an error line and returns -errno when the VM cannot be built.
 */
MUST_CHECK int vm_boot(struct vm *vm, struct kvm *kvm);
/*
 * Runs until the guest resets or powers off (returns 0), SIGTERM/SIGINT/SIGHUP or the
 * shutdown timeout stop it (returns 0), or a triple fault, KVM internal error or fatal VMM error ends it (one
 * error line printed, returns 1). The return value is the process exit status. The
 * terminal is restored before it returns.
 */
MUST_CHECK int vm_run(struct vm *vm);
/* Another thread, after vm_boot: runs cmd on the VMM thread; -ESHUTDOWN once the VM has ended. */
MUST_CHECK int vm_command(struct vm *vm, enum vm_command cmd);
/* The VMM thread, while vm_run runs: cmd at once. */
MUST_CHECK int vm_do(struct vm *vm, enum vm_command cmd);
/*
 * The VMM thread: asks the guest to shut down (the API's SendCtrlAltDel): the i8042's
 * Ctrl+Alt+Del, as Firecracker sends on x86, and the ACPI power button, so that a guest
 * reacts to whichever it handles (an init to the keys, systemd-logind or acpid to the
 * button). No deadline: the orchestrator decides how long to wait.
 */
void vm_request_shutdown(struct vm *vm);
/*
 * The VMM thread, while vm_run runs: the device opened from config (a pointer into the
 * resources) takes what changes (enum device_change) names from next instead (PATCH
 * /drives: a new medium; rate limiters); the device keeps next from then on.
 * -EOPNOTSUPP when its kind cannot change.
 */
MUST_CHECK int vm_update_device(struct vm *vm, const void *config, const void *next,
				unsigned int changes, struct diag *d);
/* After vm_boot: the model of the VM's first device of this kind (a struct virtio_balloon), or NULL. */
void *vm_device(struct vm *vm, const struct device_spec *spec);
/*
 * The VMM thread, the VM paused: writes guest memory to p->mem_path (sparse: zero pages
 * are holes) and the vmstate to p->vmstate_path, each created or truncated. d says why
 * not (one line naming the file or the state that could not be read).
 */
MUST_CHECK int vm_snapshot(struct vm *vm, const struct vm_snapshot_params *p, struct diag *d);
/*
 * Before a restore builds anything: the snapshot's vCPUs need no CPU feature this
 * host's KVM (kvm, from kvm_create) lacks (one line naming the leaf and bits otherwise).
 */
MUST_CHECK int vm_snapshot_check_host(const struct snapshot *s, const struct kvm *kvm,
				      struct diag *d);
unsigned int vm_vcpu_count(const struct vm *vm);
/* Any thread, after vm_boot: the counters as they stand (each read atomically, not all at once). */
void vm_stats(struct vm *vm, struct vm_stats *out);
/* vCPU index's registers, while the VM is paused (-EBUSY otherwise). */
MUST_CHECK int vm_vcpu_regs(struct vm *vm, unsigned int index, struct kvm_regs *regs,
			    struct kvm_sregs *sregs);
void vm_destroy(struct vm *vm);

#endif
