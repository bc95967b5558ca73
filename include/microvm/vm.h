/*
 * Runs one VM to its end: KVM setup, memory slots, the boot CPU state, the MP table,
 * the legacy devices (COM1, i8042, boot timer), one thread per vCPU, and the main
 * thread's loop over console input and signals.
 *
 * main.c, in order:
 *   boottimer_mark_process_start();            first thing in main (microvm/boottimer.h)
 *   ... config_parse, gmem_create ...
 *   if (cfg.pvm != PVM_OFF && pvm_host_detected())
 *           append pvm_cmdline_switches() to the command line and log it
 *   registry_open, registry_cmdline            the virtio devices (microvm/registry.h)
 *   ... boot_load ...
 *   ret = vm_run(&(struct vm_params){ .vcpus = cfg.vcpus, .pvm = cfg.pvm,
 *                                     .devices = &devices }, &mem, &boot);
 *   registry_close
 */
#ifndef MICROVM_VM_H
#define MICROVM_VM_H

#include <stdbool.h>

#include "microvm/compiler.h"
#include "microvm/resources.h"
#include "microvm/gmem.h"
#include "microvm/loader.h"

#define VM_MAX_VCPUS 64

struct registry;

struct vm_params {
	unsigned int vcpus;   /* 1..VM_MAX_VCPUS */
	enum pvm_mode pvm;
	const struct sandbox *sandbox; /* prepared; each thread enters it */
	struct registry *devices; /* opened; vm_run attaches, starts and stops them */
};

/* True on a PVM host (the kvm_pvm module is loaded): guest kernel code is emulated. */
bool pvm_host_detected(void);
/* Kernel command-line switches that keep Linux off instructions a PVM host cannot emulate. */
const char *pvm_cmdline_switches(void);

/*
 * Boots the loaded kernel and runs until the guest resets or powers off (returns 0),
 * SIGTERM/SIGINT/SIGHUP stop it (returns 0), or a triple fault, KVM internal error or
 * fatal VMM error ends it (one error line printed, returns 1). The return value is
 * the process exit status. The terminal is restored before it returns.
 */
MUST_CHECK int vm_run(const struct vm_params *p, struct gmem *mem, const struct boot_info *boot);

#endif
