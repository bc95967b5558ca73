/*
 * The real compiled filters, installed in forked children: every rule with
 * argument matching is tried with an allowed and a forbidden argument; a
 * forbidden syscall kills with the documented status and a named log line.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "microvm/sandbox.h"
#include "microvm/seccomp_filters.h"
#include "sandbox/filter_file.h"

/* Run in a child with the filter of `kind` installed; returns the child's exit status, 
 * or 1000 + signal when it was killed, and the first stderr line in err. */
static int run_filtered(const char *kind, long nr, const uint64_t args[6], char *err, size_t errlen)
{
	int pipefd[2];
	pid_t pid;
	int status;
	ssize_t n;

	assert_int_equal(pipe(pipefd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct sandbox sb;
		struct diag d;

		dup2(pipefd[1], STDERR_FILENO);
		close(pipefd[0]);
		if (sandbox_prepare(&sb, SANDBOX_BUILTIN, NULL, &d) || sandbox_enter(&sb, kind, &d))
			_exit(99);
		syscall(nr, args[0], args[1], args[2], args[3], args[4], args[5]);
		syscall(SYS_exit_group, 0);
	}
	close(pipefd[1]);
	n = read(pipefd[0], err, errlen - 1);
	err[n > 0 ? n : 0] = '\0';
	close(pipefd[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1000 + WTERMSIG(status);
}

static bool cond_holds(const struct seccomp_cond_info *c, uint64_t v)
{
	switch (c->op) {
	case SECCOMP_COND_EQ:
		return v == c->value;
	case SECCOMP_COND_NE:
		return v != c->value;
	case SECCOMP_COND_MASKED_EQ:
		return (v & c->mask) == c->value;
	default:
		return false;
	}
}

/* Would any rule of the filter allow this call? (The test's own model of the policy.) */
static bool policy_allows(const struct seccomp_filter_def *f, int nr, const uint64_t args[6])
{
	for (size_t i = 0; i < f->nr_rules; i++) {
		bool all = f->rules[i].nr == nr;

		for (unsigned int c = 0; all && c < f->rules[i].nr_conds; c++)
			all = cond_holds(&f->rules[i].conds[c], args[f->rules[i].conds[c].arg]);
		if (all)
			return true;
	}
	return false;
}

/* Other arguments are all-ones: a bad fd, a bad address, so an allowed call fails harmlessly. */
static void rule_args(const struct seccomp_rule_info *r, uint64_t args[6])
{
	for (int a = 0; a < 6; a++)
		args[a] = UINT64_MAX;
	for (unsigned int c = 0; c < r->nr_conds; c++)
		args[r->conds[c].arg] = r->conds[c].value;
}

static void argument_rules(void **state)
{
	(void)state;
	unsigned int tried = 0;

	for (size_t k = 0; k < seccomp_builtin_filter_count; k++) {
		const struct seccomp_filter_def *f = &seccomp_builtin_filters[k];

		for (size_t i = 0; i < f->nr_rules; i++) {
			const struct seccomp_rule_info *r = &f->rules[i];
			uint64_t args[6];
			char err[512];
			int st;

			if (r->nr_conds == 0)
				continue;
			rule_args(r, args);
			st = run_filtered(f->thread, r->nr, args, err, sizeof(err));
			if (st != 0)
				fail_msg("%s: allowed '%s' died with %d: %s", f->thread, r->text, st, err);
			/* Break the first condition in a way no other rule of the syscall accepts. */
			{
				const struct seccomp_cond_info *c = &r->conds[0];
				const uint64_t candidates[] = {
					c->op == SECCOMP_COND_MASKED_EQ ? c->value ^ c->mask : c->value + 1,
					c->value ^ 0x80000000ULL, 0xdeadbeefULL, c->value,
				};
				bool found = false;

				for (size_t j = 0; j < ARRAY_SIZE(candidates) && !found; j++) {
					args[c->arg] = candidates[j];
					found = !cond_holds(c, args[c->arg]) && !policy_allows(f, r->nr, args);
				}
				assert_true(found);
			}
			st = run_filtered(f->thread, r->nr, args, err, sizeof(err));
			if (st != SANDBOX_EXIT_CODE || !strstr(err, "forbidden syscall"))
				fail_msg("%s: forbidden variant of '%s' gave status %d: %s", f->thread, r->text, st, err);
			tried += 2;
		}
	}
	printf("# %u argument cases tried\n", tried);
	assert_true(tried >= 10);
}

static void forbidden_syscalls_kill_and_name(void **state)
{
	(void)state;
	const long forbidden[] = { SYS_openat, SYS_execve, SYS_ptrace, SYS_mount, SYS_setns,
				   SYS_unshare, SYS_bpf, SYS_perf_event_open, SYS_kexec_load,
				   SYS_socket, SYS_fork, SYS_open };
	const char *names[] = { "openat", "execve", "ptrace", "mount", "setns", "unshare", "bpf",
				"perf_event_open", "kexec_load", "socket", "fork", "open" };

	for (size_t k = 0; k < seccomp_builtin_filter_count; k++) {
		for (size_t i = 0; i < ARRAY_SIZE(forbidden); i++) {
			/*
			 * openat creating a file: the VMM thread opens existing ones (PATCH /drives),
			 * and creates a snapshot's files with exactly O_WRONLY|O_CREAT|O_TRUNC|
			 * O_CLOEXEC|O_NOFOLLOW, which these flags are not.
			 */
			uint64_t args[6] = { 0, 0, forbidden[i] == SYS_openat ? O_CREAT | O_WRONLY : 0 };
			char err[512], want[128];
			int st = run_filtered(seccomp_builtin_filters[k].thread, forbidden[i], args, err,
					      sizeof(err));

			snprintf(want, sizeof(want), "thread %s made forbidden syscall %s (%ld, args ",
				 seccomp_builtin_filters[k].thread, names[i], forbidden[i]);
			if (st != SANDBOX_EXIT_CODE || !strstr(err, want))
				fail_msg("%s: %s gave status %d: %s", seccomp_builtin_filters[k].thread,
					 names[i], st, err);
		}
	}
}

/*
 * Another process of the same uid (another tenant's VMM) is out of reach of every
 * thread's real filter: tgkill and kill towards it are forbidden syscalls, whatever the
 * high bits of the pid argument, and it lives on; tgkill within the process still works.
 */
static void signals_stay_in_the_process(void **state)
{
	(void)state;
	pid_t victim = fork(), self;
	int status;

	assert_true(victim >= 0);
	if (victim == 0) {
		for (;;)
			pause();
	}
	for (size_t k = 0; k < seccomp_builtin_filter_count; k++) {
		const char *kind = seccomp_builtin_filters[k].thread;
		const struct { long nr; const char *name; uint64_t args[6]; } calls[] = {
			{ SYS_tgkill, "tgkill", { (uint64_t)victim, (uint64_t)victim, SIGKILL } },
			{ SYS_tgkill, "tgkill", { (uint64_t)victim, (uint64_t)victim, SIGSTOP } },
			{ SYS_tgkill, "tgkill", { (1ULL << 32) | (uint64_t)victim, (uint64_t)victim, SIGKILL } },
			{ SYS_kill, "kill", { (uint64_t)victim, SIGKILL } },
		};

		for (size_t i = 0; i < ARRAY_SIZE(calls); i++) {
			char err[512], want[128];
			int st = run_filtered(kind, calls[i].nr, calls[i].args, err, sizeof(err));

			snprintf(want, sizeof(want), "thread %s made forbidden syscall %s (", kind, calls[i].name);
			if (st != SANDBOX_EXIT_CODE || !strstr(err, want))
				fail_msg("%s: %s towards another process gave status %d: %s", kind, calls[i].name,
					 st, err);
			assert_int_equal(waitpid(victim, &status, WNOHANG | WUNTRACED), 0);
		}
	}
	kill(victim, SIGKILL);
	assert_int_equal(waitpid(victim, &status, 0), victim);

	/* The vCPU kick's own path: tgkill to a thread of this process (signal 0 only checks). */
	self = fork();
	assert_true(self >= 0);
	if (self == 0) {
		struct sandbox sb;
		struct diag d;

		if (sandbox_prepare(&sb, SANDBOX_BUILTIN, NULL, &d) || sandbox_enter(&sb, "vmm", &d))
			_exit(99);
		syscall(SYS_exit_group, syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), 0) == 0 ? 0 : 1);
	}
	assert_int_equal(waitpid(self, &status, 0), self);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* The integration tests' kill switch: fires in the named thread kind only, and only under a filter. */
static void test_violation_hook(void **state)
{
	(void)state;
	static const struct {
		enum sandbox_mode mode;
		const char *kind;
		int status;
	} cases[] = {
		{ SANDBOX_BUILTIN, "vcpu", SANDBOX_EXIT_CODE },
		{ SANDBOX_BUILTIN, "vmm", 0 },
		{ SANDBOX_OFF, "vcpu", 0 },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		pid_t pid = fork();
		int status;

		assert_true(pid >= 0);
		if (pid == 0) {
			struct sandbox sb;
			struct diag d;
			int devnull = open("/dev/null", O_WRONLY);

			dup2(devnull, STDERR_FILENO);
			setenv(SANDBOX_TEST_VIOLATION_ENV, "vcpu", 1);
			if (sandbox_prepare(&sb, cases[i].mode, NULL, &d) || sandbox_enter(&sb, cases[i].kind, &d))
				_exit(99);
			syscall(SYS_exit_group, 0);
		}
		assert_int_equal(waitpid(pid, &status, 0), pid);
		if (!WIFEXITED(status) || WEXITSTATUS(status) != cases[i].status)
			fail_msg("case %zu (%s): status 0x%x", i, cases[i].kind, status);
	}
}

/* Enough threads, all alive at once, for glibc to want more arenas than it starts with. */
#define MALLOC_THREADS 12
#define MALLOC_BLOCKS 40
#define MALLOC_BLOCK_SIZE (60 * 1024) /* under the mmap threshold: from the thread's arena */

struct malloc_worker {
	const struct sandbox *sb;
	pthread_barrier_t *all_filtered;
	const char *kind;
};

static void *malloc_worker_main(void *arg)
{
	struct malloc_worker *w = arg;
	void *blocks[MALLOC_BLOCKS];
	struct diag d;

	if (sandbox_enter(w->sb, w->kind, &d))
		syscall(SYS_exit_group, 99);
	pthread_barrier_wait(w->all_filtered);
	for (int i = 0; i < MALLOC_BLOCKS; i++) {
		blocks[i] = malloc(MALLOC_BLOCK_SIZE);
		if (!blocks[i])
			syscall(SYS_exit_group, 98);
		memset(blocks[i], i, MALLOC_BLOCK_SIZE);
	}
	/* Freed top down, the arena's top chunk grows past the trim threshold. */
	for (int i = MALLOC_BLOCKS - 1; i >= 0; i--)
		free(blocks[i]);
	return NULL;
}

/*
 * Regression: once the filters are in, threads that each malloc and free in an arena of
 * their own must need no forbidden syscall. Left to its defaults glibc read
 * /proc/sys/vm/overcommit_memory when an arena shrank (a vsock connection freed at exit
 * killed a Linux guest's VMM with 148) and asked sched_getaffinity for the ninth arena.
 */
static void malloc_needs_nothing_forbidden(void **state)
{
	(void)state;
	pid_t pid = fork();
	int status;

	assert_true(pid >= 0);
	if (pid == 0) {
		static struct sandbox sb;
		static struct malloc_worker workers[MALLOC_THREADS];
		static pthread_t threads[MALLOC_THREADS];
		static pthread_barrier_t all_filtered;
		struct diag d;

		if (sandbox_prepare(&sb, SANDBOX_BUILTIN, NULL, &d))
			_exit(99);
		pthread_barrier_init(&all_filtered, NULL, MALLOC_THREADS);
		for (int i = 0; i < MALLOC_THREADS; i++) {
			workers[i] = (struct malloc_worker){ .sb = &sb, .all_filtered = &all_filtered,
							     .kind = i % 2 ? "io" : "vcpu" };
			if (pthread_create(&threads[i], NULL, malloc_worker_main, &workers[i]))
				_exit(97);
		}
		for (int i = 0; i < MALLOC_THREADS; i++)
			pthread_join(threads[i], NULL);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail_msg("filtered threads' malloc and free: status 0x%x (148: a forbidden syscall)", status);
}

static void smaller_than_firecracker(void **state)
{
	(void)state;
	/* Firecracker 1.x on x86_64: vmm 50 syscalls, vcpu 27. */
	for (size_t k = 0; k < seccomp_builtin_filter_count; k++) {
		const struct seccomp_filter_def *f = &seccomp_builtin_filters[k];

		printf("# %s: %zu syscalls, %zu rules\n", f->thread, f->nr_syscalls, f->nr_rules);
		if (strcmp(f->thread, "vcpu") == 0)
			assert_true(f->nr_syscalls < 27);
		else
			assert_true(f->nr_syscalls < 50);
	}
}

/* A filter file as seccomp-compile --binary writes it, from the built-in filters. */
static size_t filter_file_build(uint8_t *buf, size_t cap)
{
	struct seccomp_file_header h = { .version = SECCOMP_FILE_VERSION,
					 .count = (uint32_t)seccomp_builtin_filter_count };
	size_t off = sizeof(h);

	memcpy(h.magic, SECCOMP_FILE_MAGIC, sizeof(h.magic));
	memcpy(buf, &h, sizeof(h));
	for (size_t k = 0; k < seccomp_builtin_filter_count; k++) {
		struct seccomp_file_entry e = { .nr_insns = (uint32_t)seccomp_builtin_filters[k].len };
		size_t bytes = e.nr_insns * sizeof(struct sock_filter);

		snprintf(e.thread, sizeof(e.thread), "%s", seccomp_builtin_filters[k].thread);
		assert_true(off + sizeof(e) + bytes <= cap);
		memcpy(buf + off, &e, sizeof(e));
		memcpy(buf + off + sizeof(e), seccomp_builtin_filters[k].insns, bytes);
		off += sizeof(e) + bytes;
	}
	return off;
}

static void filter_file_parse(void **state)
{
	(void)state;
	static uint8_t buf[64 * 1024];
	static struct seccomp_file f;
	size_t size = filter_file_build(buf, sizeof(buf));
	struct diag d;

	assert_int_equal(seccomp_file_parse(buf, size, "f.bin", &f, &d), 0);
	assert_int_equal(f.count, seccomp_builtin_filter_count);
	assert_string_equal(f.filters[0].thread, seccomp_builtin_filters[0].thread);
	assert_memory_equal(f.filters[0].insns, seccomp_builtin_filters[0].insns,
			    f.filters[0].len * sizeof(struct sock_filter));
	/* Every truncation, and a trailing byte, is refused with the file named. */
	for (size_t len = 0; len < size; len++) {
		assert_int_not_equal(seccomp_file_parse(buf, len, "f.bin", &f, &d), 0);
		assert_non_null(strstr(d.msg, "f.bin: "));
	}
	assert_int_not_equal(seccomp_file_parse(buf, size + 1, "f.bin", &f, &d), 0);
	assert_non_null(strstr(d.msg, "trailing"));
	/* A count past the limit, a name without NUL or with other bytes, a repeated name, a huge length. */
	buf[12] = SECCOMP_FILE_MAX_FILTERS + 1;
	assert_int_not_equal(seccomp_file_parse(buf, size, "f.bin", &f, &d), 0);
	buf[12] = (uint8_t)seccomp_builtin_filter_count;
	memset(buf + 16, 'a', 16);
	assert_int_not_equal(seccomp_file_parse(buf, size, "f.bin", &f, &d), 0);
	memcpy(buf + 16, "VMM\0", 4);
	assert_int_not_equal(seccomp_file_parse(buf, size, "f.bin", &f, &d), 0);
	filter_file_build(buf, sizeof(buf));
	memcpy(buf + 16 + 20 + seccomp_builtin_filters[0].len * 8, buf + 16, 16);
	assert_int_not_equal(seccomp_file_parse(buf, size, "f.bin", &f, &d), 0);
	assert_non_null(strstr(d.msg, "given twice"));
	filter_file_build(buf, sizeof(buf));
	memset(buf + 32, 0xff, 4);
	assert_int_not_equal(seccomp_file_parse(buf, size, "f.bin", &f, &d), 0);
	assert_non_null(strstr(d.msg, "nr_insns"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(argument_rules),
		cmocka_unit_test(forbidden_syscalls_kill_and_name),
		cmocka_unit_test(signals_stay_in_the_process),
		cmocka_unit_test(test_violation_hook),
		cmocka_unit_test(malloc_needs_nothing_forbidden),
		cmocka_unit_test(smaller_than_firecracker),
		cmocka_unit_test(filter_file_parse),
	};

	return cmocka_run_group_tests_name("seccomp", tests, NULL, NULL);
}
