/*
 * The processes around the VMM: --daemonize's parent that returns once the VMM runs,
 * and the monitor that outlives the VMM to report its status and remove its jail.
 */
#ifndef JAILER_MONITOR_H
#define JAILER_MONITOR_H

#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>

#include "microvm/compiler.h"
#include "microvm/diag.h"

struct monitor {
	/*
	 * In the process that will exec the VMM, when someone waits for its set-up: one byte
	 * written here means it failed; the execve closes it (O_CLOEXEC), which means it ran.
	 * In a monitor, its own waiter's fd, answered once its child's set-up is decided.
	 */
	int report_fd;
	int listen_fd;  /* in a waiter: the read end of its child's report_fd */
	int parent_fd;  /* in the VMM process: a pidfd of its monitor */
	pid_t child;    /* in a monitor: the VMM process */
	sigset_t saved_mask;
};

void monitor_init(struct monitor *m);
/*
 * --daemonize: forks. Returns 1 in the original process, which must then return
 * monitor_wait_ready()'s verdict; 0 in the child, which leads a new session.
 */
MUST_CHECK int monitor_daemonize(struct monitor *m, struct diag *d);
/* In a waiter: blocks until the child's set-up is decided; true when the VMM was exec'd. */
bool monitor_wait_ready(struct monitor *m);
/*
 * Forks the process that becomes the VMM, as pid 1 of a new pid namespace. Returns 1 in
 * the monitor and 0 in the child. The monitor keeps termination signals blocked for
 * monitor_wait; the child gets its signal mask back.
 */
MUST_CHECK int monitor_fork(struct monitor *m, struct diag *d);
/* In a monitor: passes the child's verdict on to its own waiter, if any. */
void monitor_pass_on(struct monitor *m, bool ready);
/*
 * In a monitor: forwards SIGINT, SIGTERM, SIGHUP, SIGQUIT and SIGPWR to the VMM until it exits,
 * and returns its exit status (128 + N when signal N killed it).
 */
int monitor_wait(struct monitor *m);
/*
 * In the VMM process, after its ids changed (which resets the setting): SIGKILL when the
 * monitor dies, and a check through its pidfd that it has not died already.
 */
MUST_CHECK int monitor_tie_to_parent(struct monitor *m, struct diag *d);
/* Tells a waiter that set-up failed. */
void monitor_report_failure(struct monitor *m);

#endif
