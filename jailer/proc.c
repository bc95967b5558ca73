#include "proc.h"

#include <errno.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

int proc_close_fds_above_stdio(void)
{
	return close_range(3, ~0U, 0) ? -errno : 0;
}

int proc_check_stdio(struct diag *d)
{
	for (int fd = 0; fd <= 2; fd++) {
		struct stat st;

		if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode))
			return diag_fail_errno(d, -EISDIR, "fd %d is a directory: the VMM could reach the host's "
					       "files through it; give a file, a pipe, a terminal or /dev/null", fd);
	}
	return 0;
}

void proc_reset_signals(void)
{
	sigset_t none;

	/* SIGKILL and SIGSTOP refuse the change; every other signal takes it. */
	for (int sig = 1; sig < NSIG; sig++)
		signal(sig, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

int proc_exit_status(int wstatus)
{
	if (WIFEXITED(wstatus))
		return WEXITSTATUS(wstatus);
	if (WIFSIGNALED(wstatus))
		return 128 + WTERMSIG(wstatus);
	return 1;
}
