/*
 * The VM's parts, shared by the files that make up its lifecycle: vm.c (create, boot,
 * run, pause) and vm_snapshot.c (snapshot and restore). Nothing else includes this.
 */
#ifndef MICROVM_VM_PRIV_H
#define MICROVM_VM_PRIV_H

#include <stdatomic.h>
#include <sys/types.h>

#include "microvm/console.h"
#include "microvm/evloop.h"
#include "microvm/kvm.h"
#include "microvm/legacy.h"
#include "microvm/mailbox.h"
#include "microvm/registry.h"
#include "microvm/vcpu.h"
#include "microvm/vm_params.h"
#include "microvm/vm_exit.h"
#include "snapshot/state.h"

struct vm {
	struct vm_params params;
	/* vm_create: */
	const struct vm_restore *restore;  /* from a snapshot (until vm_boot returns), or NULL */
	bool start_paused;                 /* the restore asked vm_run to start paused */
	struct registry devices;
	bool devices_open;
	struct gmem mem;
	struct boot_info boot;
	/* vm_boot: */
	bool loop_ready, commands_ready;
	struct mailbox commands;  /* vm_command's */
	struct kvm kvm;
	struct bus pio, mmio;
	struct legacy legacy;
	struct vm_exit exit;
	struct evloop loop;
	struct vcpu_env env;
	struct vcpu vcpus[VM_MAX_VCPUS];
	unsigned int nr_vcpus;
	/* vm_run: */
	int kick_signal;
	struct console console;
	atomic_bool paused;
	bool shutdown_asked;   /* the power button was pressed; the deadline runs */
	/* Snapshots: the MSRs saved (read at vm_boot), the memory file a restore maps. */
	struct snap_msrs msr_list;         /* the MSRs a snapshot saves, once msr_listed */
	bool msr_listed;
	struct snap_cpuid *cpuid;          /* the table each vCPU was given (nr_vcpus of them) */
	dev_t mem_dev;
	ino_t mem_ino;
};

/* vm.c, for vm_snapshot.c: the power button was pressed; the first time, the loop stops the VM after the shutdown timeout. */
MUST_CHECK int vm_shutdown_deadline(struct vm *vm);

/* vm_snapshot.c, for vm.c: */
/* vm_create from a snapshot: the devices opened and guest memory mapped from its file. */
MUST_CHECK int vm_restore_create(struct vm *vm, struct diag *d);
/* vm_boot from a snapshot, the vCPUs created: every saved state put back. */
MUST_CHECK int vm_restore_state(struct vm *vm);

#endif
