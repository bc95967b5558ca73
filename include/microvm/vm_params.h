/* What a VM is made from (vm.h's vm_create) and what a snapshot of it is written to. */
#ifndef MICROVM_VM_PARAMS_H
#define MICROVM_VM_PARAMS_H

#include <stdbool.h>

#include "microvm/evloop.h"
#include "microvm/sandbox.h"
#include "config/resources.h"
#include "snapshot/state.h"

#define VM_MAX_VCPUS 64

/* A VM made from a snapshot instead of a boot source (vm_params.restore). */
struct vm_restore {
	const struct snapshot *snap;  /* decoded and checked; read until vm_boot returns */
	int mem_fd;                   /* the memory file: mapped MAP_PRIVATE, the caller closes it */
	const char *mem_path;         /* its name, for messages */
	bool paused;                  /* vm_run starts with every vCPU parked (resume_vm false) */
};

/* PUT /snapshot/create's files and the VM's description to keep in the vmstate. */
struct vm_snapshot_params {
	const char *vmstate_path;
	const char *mem_path;
	const char *config;           /* the VM's devices in Firecracker's JSON */
};

struct vm_params {
	const struct vm_resources *res;  /* read until vm_destroy */
	const struct sandbox *sandbox;   /* prepared; each thread enters it */
	int console_in, console_out;     /* the guest's serial console: stdin and stdout */
	/* --check: log what a boot would change at debug level only (the output is a summary). */
	bool dry_run;
	/* More for the VMM thread's loop to watch, served on that thread (may be none). */
	const struct evloop_watch *watches;
	unsigned int nr_watches;
	/* Restore this snapshot instead of booting res's kernel; NULL to boot. */
	const struct vm_restore *restore;
};

#endif
