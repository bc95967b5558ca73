/*
 * The VMM thread's owner of the VM when it is driven like Firecracker: its resources
 * (filled by the command line, a config file, and the API before InstanceStart), the
 * API server, the logger and the metrics, and the VM once built. Every API call runs
 * here, on the VMM thread, through the mailbox: before InstanceStart in a wait of its
 * own, afterwards in the VM's event loop. States as Firecracker's GET / names them:
 * Not started, Running, Paused.
 */
#ifndef MICROVM_CONTROLLER_H
#define MICROVM_CONTROLLER_H

#include "config/resources.h"
#include "config/snapconfig.h"
#include "microvm/compiler.h"
#include "microvm/diag.h"
#include "microvm/sandbox.h"

struct controller_params {
	struct vm_resources *res;       /* the caller's; changed by the API until InstanceStart */
	const struct sandbox *sandbox;  /* prepared */
	const char *id;                 /* --id */
	const char *api_sock;           /* NULL: no API */
	int console_in, console_out;
	int verbosity;                  /* the command line's -v/-q, unless the logger says */
	/* --snapshot and --mem-file: restore this snapshot at once (NULL: boot or wait). */
	const struct snapconfig_load *restore;
};

struct controller;

/* Before any thread: the API socket bound, the config's logger and metrics opened. */
MUST_CHECK int controller_init(struct controller **out, const struct controller_params *p,
			       struct diag *d);
/*
 * Starts the API thread (if any); builds the VM at once when boot_now, else waits for the
 * API's InstanceStart; then runs it. Returns the process exit status (vm_run's, or 1
 * when the VM could not be built at once).
 */
MUST_CHECK int controller_run(struct controller *c, bool boot_now);
/* Closes the VM and the outputs; with an API, the controller itself stays for the process's life. */
void controller_destroy(struct controller *c);

#endif
