#include "microvm/sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <limits.h>
#include <linux/seccomp.h>
#include <malloc.h>
#include <signal.h>
#include <stddef.h>
#include <ucontext.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "microvm/compiler.h"
#include "microvm/image.h"
#include "microvm/seccomp_filters.h"
#include "sandbox/filter_file.h"

/*
 * The one piece of module state: the SIGSYS handler gets no context but the faulting
 * thread, so each thread records its kind here, a plain pointer set before its filter
 * goes in.
 */
static __thread const char *sandbox_thread = "main";

static size_t sandbox_append(char *buf, size_t len, size_t cap, const char *s)
{
	while (*s && len + 1 < cap)
		buf[len++] = *s++;
	return len;
}

static size_t sandbox_append_uint(char *buf, size_t len, size_t cap, unsigned long v, unsigned int base)
{
	char digits[24];
	size_t n = 0;

	do {
		digits[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v && n < sizeof(digits));
	while (n && len + 1 < cap)
		buf[len++] = digits[--n];
	return len;
}

/* Async-signal-safe: names the thread and the syscall with write(2), then exits. */
static void sandbox_sigsys(int sig, siginfo_t *info, void *ucontext)
{
	char line[256];
	size_t len = 0;
	int nr = info->si_syscall;
	const char *name = nr >= 0 && (size_t)nr < seccomp_syscall_name_count ? seccomp_syscall_names[nr] : "?";

	const ucontext_t *uc = ucontext;
	static const int arg_regs[] = { REG_RDI, REG_RSI, REG_RDX };

	(void)sig;
	len = sandbox_append(line, len, sizeof(line), "microvm: seccomp: thread ");
	len = sandbox_append(line, len, sizeof(line), sandbox_thread);
	len = sandbox_append(line, len, sizeof(line), " made forbidden syscall ");
	len = sandbox_append(line, len, sizeof(line), name);
	len = sandbox_append(line, len, sizeof(line), " (");
	len = sandbox_append_uint(line, len, sizeof(line), (unsigned long)nr, 10);
	/* The first three arguments tell which rule was missing (an ioctl's request...). */
	for (size_t i = 0; i < ARRAY_SIZE(arg_regs); i++) {
		len = sandbox_append(line, len, sizeof(line), i ? ", 0x" : ", args 0x");
		len = sandbox_append_uint(line, len, sizeof(line), (unsigned long)uc->uc_mcontext.gregs[arg_regs[i]], 16);
	}
	len = sandbox_append(line, len, sizeof(line), "); exiting with status ");
	len = sandbox_append_uint(line, len, sizeof(line), SANDBOX_EXIT_CODE, 10);
	len = sandbox_append(line, len, sizeof(line), "\n");
	if (write(STDERR_FILENO, line, len) < 0)
		_exit(SANDBOX_EXIT_CODE);
	_exit(SANDBOX_EXIT_CODE);
}

static int sandbox_load_file(struct sandbox *sb, const char *file, struct diag *d)
{
	struct image img;
	uint8_t *data;
	int ret;
	/* The largest file seccomp-compile can write. */
	const uint64_t max = sizeof(struct seccomp_file_header) +
			     SECCOMP_FILE_MAX_FILTERS * (sizeof(struct seccomp_file_entry) +
							 SECCOMP_FILE_MAX_INSNS * sizeof(struct sock_filter));

	ret = image_open(&img, file, d);
	if (ret)
		return ret;
	if (img.size > max) {
		image_close(&img);
		return diag_fail(d, "%s: file size %llu: larger than any filter file (%llu bytes)", file,
				 (unsigned long long)img.size, (unsigned long long)max);
	}
	data = malloc(img.size);
	sb->file = calloc(1, sizeof(*sb->file));
	if (!data || !sb->file) {
		image_close(&img);
		free(data);
		return diag_fail_errno(d, -ENOMEM, "%s: out of memory", file);
	}
	ret = image_read(&img, 0, data, img.size);
	if (ret)
		ret = diag_fail_errno(d, ret, "%s: short read", file);
	else
		ret = seccomp_file_parse(data, img.size, file, sb->file, d);
	image_close(&img);
	free(data);
	return ret;
}

int sandbox_prepare(struct sandbox *sb, enum sandbox_mode mode, const char *file, struct diag *d)
{
	struct sigaction sa;
	int ret;

	*sb = (struct sandbox){ .mode = mode, .file_name = file,
				.test_violation = getenv(SANDBOX_TEST_VIOLATION_ENV) };
	if (mode == SANDBOX_OFF)
		return 0;
	/*
	 * glibc's malloc must need nothing the filters forbid. Left alone, a thread's arena
	 * that shrinks reads /proc/sys/vm/overcommit_memory once (openat: a vsock connection
	 * freed at exit killed the VM), and the ninth arena asks sched_getaffinity how many
	 * CPUs there are. A fixed arena count and no trimming keep it to brk and mmap's family.
	 * Under ASan there are no arenas, and its mallopt refuses every setting.
	 */
	if (!BUILT_WITH_ASAN &&
	    (!mallopt(M_ARENA_MAX, SANDBOX_MALLOC_ARENAS) || !mallopt(M_TRIM_THRESHOLD, INT_MAX)))
		return diag_fail(d, "seccomp: cannot configure malloc for the filters (mallopt)");
	if (mode == SANDBOX_FILE) {
		ret = sandbox_load_file(sb, file, d);
		if (ret)
			return ret;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = sandbox_sigsys;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSYS, &sa, NULL) < 0)
		return diag_fail_errno(d, -errno, "seccomp: cannot install the SIGSYS handler: %s", strerror(errno));
	return 0;
}

static int sandbox_find(const struct sandbox *sb, const char *kind, struct sock_fprog *prog)
{
	if (sb->mode == SANDBOX_FILE) {
		for (unsigned int i = 0; i < sb->file->count; i++) {
			if (strcmp(sb->file->filters[i].thread, kind) == 0) {
				prog->filter = sb->file->filters[i].insns;
				prog->len = (unsigned short)sb->file->filters[i].len;
				return 0;
			}
		}
		return -ENOENT;
	}
	for (size_t i = 0; i < seccomp_builtin_filter_count; i++) {
		if (strcmp(seccomp_builtin_filters[i].thread, kind) == 0) {
			/* The kernel copies the program and never writes it. */
			prog->filter = (struct sock_filter *)(uintptr_t)seccomp_builtin_filters[i].insns;
			prog->len = (unsigned short)seccomp_builtin_filters[i].len;
			return 0;
		}
	}
	return -ENOENT;
}

/*
 * tgkill towards this process only (vCPU kicks, abort()), never another process of the
 * VMM's uid. The pid is known at run time, not when the policies are compiled, so this
 * filter is built here and goes in under the thread's allowlist: the kernel runs both and
 * takes the stricter verdict, so the allowlist still decides every other call.
 */
static int sandbox_pin_signals(struct diag *d)
{
	struct sock_filter insns[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_tgkill, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		/* The kernel takes the tgid as an int: the low 32 bits of the (little-endian) argument. */
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0])),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)getpid(), 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP),
	};
	struct sock_fprog prog = { .len = ARRAY_SIZE(insns), .filter = insns };

	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0)
		return diag_fail_errno(d, -errno, "seccomp: installing the signal filter: %s", strerror(errno));
	return 0;
}

int sandbox_enter(const struct sandbox *sb, const char *thread_kind, struct diag *d)
{
	struct sock_fprog prog;
	int ret;

	if (sb->mode == SANDBOX_OFF)
		return 0;
	if (sandbox_find(sb, thread_kind, &prog))
		return diag_fail_errno(d, -ENOENT, "seccomp: %s has no filter for thread kind '%s'",
				       sb->mode == SANDBOX_FILE ? sb->file_name : "the built-in set",
				       thread_kind);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return diag_fail_errno(d, -errno, "seccomp: PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
	sandbox_thread = thread_kind;
	/* First: the allowlist, once in, forbids seccomp(2) itself. */
	ret = sandbox_pin_signals(d);
	if (ret)
		return ret;
	/* No TSYNC: every thread installs its own, as Firecracker does. */
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0)
		return diag_fail_errno(d, -errno, "seccomp: installing the %s filter: %s", thread_kind,
				       strerror(errno));
	/*
	 * Only ever under a filter, which kills the process here (SANDBOX_TEST_VIOLATION_ENV):
	 * an openat that would create, which no thread may (the VMM thread opens existing files).
	 */
	if (sb->test_violation && strcmp(sb->test_violation, thread_kind) == 0)
		syscall(SYS_openat, AT_FDCWD, "/", O_RDONLY | O_CREAT, 0);
	return 0;
}

void sandbox_print(const struct sandbox *sb, FILE *out)
{
	if (sb->mode == SANDBOX_OFF) {
		fprintf(out, "seccomp: off (--no-seccomp)\n");
		return;
	}
	fprintf(out, "every thread: tgkill only with arg0 == this process's pid "
		"(a filter built at start-up, under the thread's own)\n");
	if (sb->mode == SANDBOX_FILE) {
		for (unsigned int i = 0; i < sb->file->count; i++)
			fprintf(out, "thread %s: %zu BPF instructions from %s (rules not recorded in the file)\n",
				sb->file->filters[i].thread, sb->file->filters[i].len, sb->file_name);
		return;
	}
	for (size_t i = 0; i < seccomp_builtin_filter_count; i++) {
		const struct seccomp_filter_def *f = &seccomp_builtin_filters[i];

		fprintf(out, "thread %s: %zu syscalls, %zu rules, %zu BPF instructions\n", f->thread,
			f->nr_syscalls, f->nr_rules, f->len);
		for (size_t r = 0; r < f->nr_rules; r++)
			fprintf(out, "  %s\n", f->rules[r].text);
	}
}

void sandbox_release(struct sandbox *sb)
{
	free(sb->file);
	sb->file = NULL;
}
