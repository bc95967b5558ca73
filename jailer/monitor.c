#include "monitor.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "microvm/cleanup.h"
#include "microvm/log.h"
#include "ns.h"
#include "proc.h"

void monitor_init(struct monitor *m)
{
	m->report_fd = m->listen_fd = m->parent_fd = -1;
	m->child = 0;
	sigemptyset(&m->saved_mask);
}

/* A pipe whose write end goes to the child: the parent listens, the child reports. */
static int monitor_fork_with_pipe(struct monitor *m, pid_t *pid)
{
	int p[2];

	if (pipe2(p, O_CLOEXEC))
		return -errno;
	*pid = fork();
	if (*pid < 0) {
		int ret = -errno;

		close(p[0]);
		close(p[1]);
		return ret;
	}
	if (*pid == 0) {
		close(p[0]);
		/* A daemonized monitor's own report fd is its business, not the VMM's. */
		cleanup_fdp(&m->report_fd);
		m->report_fd = p[1];
	} else {
		close(p[1]);
		m->listen_fd = p[0];
	}
	return 0;
}

int monitor_daemonize(struct monitor *m, struct diag *d)
{
	pid_t pid;
	int ret = monitor_fork_with_pipe(m, &pid);

	if (ret)
		return diag_fail_errno(d, ret, "--daemonize: fork: %s", strerror(-ret));
	if (pid > 0)
		return 1;
	/* The child of a fork is never a process group leader, so setsid cannot fail with EPERM. */
	if (setsid() < 0)
		return diag_fail_errno(d, -errno, "--daemonize: setsid: %s", strerror(errno));
	return 0;
}

bool monitor_wait_ready(struct monitor *m)
{
	char byte;
	ssize_t n;

	do
		n = read(m->listen_fd, &byte, 1);
	while (n < 0 && errno == EINTR);
	cleanup_fdp(&m->listen_fd);
	m->listen_fd = -1;
	return n == 0;
}

static void monitor_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGCHLD);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGHUP);
	sigaddset(set, SIGQUIT);
	sigaddset(set, SIGPWR);
}

int monitor_fork(struct monitor *m, struct diag *d)
{
	cleanup_fd int self = pidfd_open(getpid(), 0);
	cleanup_fd int own_pid_ns = -1;
	sigset_t set;
	pid_t pid;
	int ret;

	if (self < 0)
		return diag_fail_errno(d, -errno, "monitor: pidfd_open: %s", strerror(errno));
	/* An inherited SIG_IGN for SIGCHLD would reap the VMM behind the monitor's back. */
	signal(SIGCHLD, SIG_DFL);
	monitor_signals(&set);
	sigprocmask(SIG_BLOCK, &set, &m->saved_mask);
	own_pid_ns = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
	if (own_pid_ns < 0)
		return diag_fail_errno(d, -errno, "monitor: /proc/self/ns/pid: %s", strerror(errno));
	ret = ns_unshare_pid_for_children(d);
	if (ret)
		return ret;
	ret = monitor_fork_with_pipe(m, &pid);
	if (ret)
		return diag_fail_errno(d, ret, "monitor: fork: %s", strerror(-ret));
	if (pid == 0) {
		sigprocmask(SIG_SETMASK, &m->saved_mask, NULL);
		m->parent_fd = steal_fd(&self);
		return 0;
	}
	/*
	 * The monitor's own later children go back to its pid namespace: once the VMM, the new
	 * namespace's init, has exited, no process can be forked into that one (a sanitizer's
	 * exit-time helper, say). Rootless, the host's pid namespace refuses to be joined
	 * again; the monitor forks nothing else, so that is left as it is.
	 */
	if (setns(own_pid_ns, CLONE_NEWPID) && errno != EPERM)
		log_warn("monitor: back to its pid namespace: %s", strerror(errno));
	m->child = pid;
	return 1;
}

void monitor_pass_on(struct monitor *m, bool ready)
{
	if (!ready)
		monitor_report_failure(m);
	cleanup_fdp(&m->report_fd);
	m->report_fd = -1;
}

int monitor_wait(struct monitor *m)
{
	sigset_t set;
	int status;

	monitor_signals(&set);
	for (;;) {
		int sig = sigwaitinfo(&set, NULL);

		if (sig < 0)
			continue; /* EINTR: a stop and continue */
		if (sig != SIGCHLD) {
			kill(m->child, sig);
			continue;
		}
		switch (waitpid(m->child, &status, WNOHANG)) {
		case 0:
			break; /* still running: it was stopped or continued */
		case -1:
			if (errno == ECHILD)
				return 1; /* reaped elsewhere: its status is lost */
			break;
		default:
			return proc_exit_status(status);
		}
	}
}

int monitor_tie_to_parent(struct monitor *m, struct diag *d)
{
	struct pollfd p = { .fd = m->parent_fd, .events = POLLIN };

	if (m->parent_fd < 0)
		return 0;
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0))
		return diag_fail_errno(d, -errno, "monitor: PR_SET_PDEATHSIG: %s", strerror(errno));
	/* A pidfd polls readable once its process has exited: then no SIGKILL would ever come. */
	if (poll(&p, 1, 0) != 0)
		return diag_fail_errno(d, -ESRCH, "monitor: the jailer's monitor process is gone");
	cleanup_fdp(&m->parent_fd);
	m->parent_fd = -1;
	return 0;
}

void monitor_report_failure(struct monitor *m)
{
	static const char failed = 'F';

	if (m->report_fd < 0)
		return;
	/* A waiter that is gone must not turn this exit into a death by SIGPIPE. */
	signal(SIGPIPE, SIG_IGN);
	if (write(m->report_fd, &failed, 1) < 0)
		return; /* nobody left to tell */
}
