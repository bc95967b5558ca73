/*
 * A stand-in VMM for the jailer's tests, run as its --exec-file: it reports what the
 * jailed process sees from inside, says "ready", and stays alive until its stdin closes
 * (or for --sleep SECONDS) so the test can inspect /proc/PID from outside, then exits
 * with --exit N. Its own options follow a "--", where the jailer, which knows only
 * microvm's options, stops reading.
 *
 * Lines: "uid R E", "gid R E", "groups N", "pid P", "arg WORD" for each argument,
 * "open PATH ok SIZE" or "open PATH ERROR" for each path an argument names (a word
 * starting with '/', the path of "--opt=/path" or of a "path=/path,..." key), the same
 * for the jail's device nodes, "openrw PATH ok" or "openrw PATH ERROR" for a path= key,
 * "create / ERROR" for an attempt to write into the jail's root, "fd N" for each open
 * descriptor, then "ready".
 *
 * Attempts to reach beyond the jail, as a VMM a guest has taken over would make them
 * (this one has no seccomp filter: only the jail holds it), each reported as
 * "attack WHAT: refused (ERROR)" or "attack WHAT: SUCCEEDED": --abstract NAME connects
 * to the abstract Unix socket @NAME, --tcp PORT to 127.0.0.1:PORT, --victim PID signals
 * and ptraces another process (another VM's VMM, a host process of the same uid),
 * --hostile makes the rest: signal everyone, open host files, climb out of the root,
 * mount, create devices, raise limits, write outside its root, change ids.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <unistd.h>

/* ret: 0 when the attempt worked, else -errno. */
static void probe_attack(const char *what, int ret)
{
	if (ret < 0)
		printf("attack %s: refused (%s)\n", what, strerror(-ret));
	else
		printf("attack %s: SUCCEEDED\n", what);
}

static int probe_connect(int family, const struct sockaddr *addr, socklen_t len)
{
	int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0), ret;

	if (fd < 0)
		return -errno;
	ret = connect(fd, addr, len) ? -errno : 0;
	close(fd);
	return ret;
}

/* A host service on an abstract Unix socket (CVE-2020-15257's containerd-shim). */
static void probe_abstract(const char *name)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	size_t len = strnlen(name, sizeof(a.sun_path) - 1);
	char what[160];

	memcpy(a.sun_path + 1, name, len);
	snprintf(what, sizeof(what), "connect to the abstract socket @%.*s", (int)len, name);
	probe_attack(what, probe_connect(AF_UNIX, (struct sockaddr *)&a,
					 (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + len)));
}

/* ret as a syscall returns it: -1 with errno on failure. */
static int probe_errno(long ret)
{
	return ret < 0 ? -errno : 0;
}

static void probe_victim(const char *arg)
{
	pid_t pid = (pid_t)atoi(arg);
	char what[96];

	snprintf(what, sizeof(what), "see process %d (kill 0)", pid);
	probe_attack(what, probe_errno(kill(pid, 0)));
	snprintf(what, sizeof(what), "SIGSTOP process %d", pid);
	probe_attack(what, probe_errno(kill(pid, SIGSTOP)));
	snprintf(what, sizeof(what), "SIGKILL process %d", pid);
	probe_attack(what, probe_errno(kill(pid, SIGKILL)));
	snprintf(what, sizeof(what), "tgkill SIGKILL process %d", pid);
	probe_attack(what, probe_errno(syscall(SYS_tgkill, pid, pid, SIGKILL)));
	snprintf(what, sizeof(what), "ptrace attach to process %d", pid);
	probe_attack(what, probe_errno(ptrace(PTRACE_ATTACH, pid, NULL, NULL)));
	snprintf(what, sizeof(what), "pidfd_open process %d", pid);
	probe_attack(what, probe_errno(syscall(SYS_pidfd_open, pid, 0)));
}

/* A new file at path: refused unless it could be made (then it is removed at once). */
static int probe_create(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

	if (fd < 0)
		return -errno;
	close(fd);
	unlink(path);
	return 0;
}

static int probe_raise_limit(int resource)
{
	struct rlimit r;

	if (getrlimit(resource, &r))
		return -errno;
	if (r.rlim_max == RLIM_INFINITY)
		return 0; /* nothing left to raise: as good as raised */
	r.rlim_max++;
	r.rlim_cur = r.rlim_max;
	return probe_errno(setrlimit(resource, &r));
}

static void probe_hostile(void)
{
	static const char *const host_files[] = {
		"/etc/passwd", "/etc/shadow", "/proc/1/environ", "/proc/self/status", "/sys/kernel/notes",
		"/dev/sda", "/../../../../../../etc/passwd", "/dev/../../../etc/passwd",
	};
	char what[96];

	probe_attack("SIGKILL every process it may (kill -1)", probe_errno(kill(-1, SIGKILL)));
	for (size_t i = 0; i < sizeof(host_files) / sizeof(host_files[0]); i++) {
		int fd = open(host_files[i], O_RDONLY | O_CLOEXEC | O_NONBLOCK);

		snprintf(what, sizeof(what), "open host file %s", host_files[i]);
		probe_attack(what, fd < 0 ? -errno : 0);
		if (fd >= 0)
			close(fd);
	}
	/* Descriptors it inherited: stdin could have been a directory of the host. */
	probe_attack("open ../etc/passwd through stdin", probe_errno(openat(0, "../etc/passwd", O_RDONLY)));
	probe_attack("fchdir to stdin", probe_errno(fchdir(0)));
	probe_attack("chroot to a subdirectory (to climb out with ..)", probe_errno(chroot("/dev")));
	probe_attack("mount a tmpfs", probe_errno(mount("none", "/dev", "tmpfs", 0, NULL)));
	probe_attack("mount a proc", probe_errno(mount("proc", "/dev", "proc", 0, NULL)));
	probe_attack("remount its root read-write",
		     probe_errno(mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND, NULL)));
	probe_attack("unmount its root", probe_errno(umount2("/", MNT_DETACH)));
	probe_attack("mknod a block device (/dev/sda)",
		     probe_errno(mknod("/dev/sda", S_IFBLK | 0600, makedev(8, 0))));
	probe_attack("mknod a character device (/dev/mem)",
		     probe_errno(mknod("/dev/mem", S_IFCHR | 0600, makedev(1, 1))));
	probe_attack("raise its no-file hard limit", probe_raise_limit(RLIMIT_NOFILE));
	probe_attack("raise its file size hard limit", probe_raise_limit(RLIMIT_FSIZE));
	probe_attack("create a file above its root (/../escape)", probe_create("/../escape"));
	probe_attack("create a file in its root", probe_create("/escape"));
	probe_attack("make a directory above its root", probe_errno(mkdir("/../../escape", 0700)));
	probe_attack("symlink to the host's /etc", probe_errno(symlink("/etc", "/dev/etc")));
	probe_attack("setuid 0", probe_errno(setuid(0)));
	probe_attack("setgid 0", probe_errno(setgid(0)));
}

static void probe_tcp(const char *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(port)),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	char what[64];

	snprintf(what, sizeof(what), "connect to 127.0.0.1:%s", port);
	probe_attack(what, probe_connect(AF_INET, (struct sockaddr *)&a, sizeof(a)));
}

/*
 * "open PATH ok SIZE" or "open PATH ERROR"; with rw, "openrw PATH ok" or "openrw PATH ERROR"
 * (may the jailed process write a disk image?).
 */
static void probe_open(const char *path, size_t len, bool rw)
{
	char buf[4096];
	struct stat st;
	int fd;

	if (len >= sizeof(buf))
		return;
	memcpy(buf, path, len);
	buf[len] = '\0';
	fd = open(buf, (rw ? O_RDWR : O_RDONLY) | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		printf("%s %s %s\n", rw ? "openrw" : "open", buf, strerror(errno));
	else if (rw)
		printf("openrw %s ok\n", buf);
	else if (fstat(fd, &st) == 0)
		printf("open %s ok %lld\n", buf, (long long)st.st_size);
	if (fd >= 0)
		close(fd);
}

/* The path an argument names, if any. */
static void probe_arg_path(const char *arg)
{
	const char *p = strstr(arg, "path=/");

	if (p) {
		p += 5;
		probe_open(p, strcspn(p, ","), false);
		probe_open(p, strcspn(p, ","), true);
	} else if ((p = strstr(arg, "=/"))) {
		probe_open(p + 1, strlen(p + 1), false);
	} else if (arg[0] == '/') {
		probe_open(arg, strlen(arg), false);
	}
}

int main(int argc, char **argv)
{
	static const char *const devices[] = { "/dev/kvm", "/dev/net/tun", "/dev/urandom" };
	unsigned int sleep_s = 0;
	int status = 0, fd;
	char byte;

	printf("uid %u %u\n", (unsigned int)getuid(), (unsigned int)geteuid());
	printf("gid %u %u\n", (unsigned int)getgid(), (unsigned int)getegid());
	printf("groups %d\n", getgroups(0, NULL));
	printf("pid %d\n", (int)getpid());
	for (int i = 1; i < argc; i++) {
		printf("arg %s\n", argv[i]);
		if (!strcmp(argv[i], "--exit") && i + 1 < argc)
			status = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--sleep") && i + 1 < argc)
			sleep_s = (unsigned int)atoi(argv[i + 1]);
		probe_arg_path(argv[i]);
	}
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--abstract") && i + 1 < argc)
			probe_abstract(argv[i + 1]);
		else if (!strcmp(argv[i], "--tcp") && i + 1 < argc)
			probe_tcp(argv[i + 1]);
		else if (!strcmp(argv[i], "--victim") && i + 1 < argc)
			probe_victim(argv[i + 1]);
		else if (!strcmp(argv[i], "--hostile"))
			probe_hostile();
	}
	for (size_t i = 0; i < sizeof(devices) / sizeof(devices[0]); i++)
		probe_open(devices[i], strlen(devices[i]), false);
	fd = open("/probe-was-here", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	printf("create / %s\n", fd < 0 ? strerror(errno) : "ok");
	if (fd >= 0)
		close(fd);
	for (int i = 0; i < 1024; i++)
		if (fcntl(i, F_GETFD) >= 0)
			printf("fd %d\n", i);
	printf("ready\n");
	fflush(stdout);
	if (sleep_s)
		sleep(sleep_s);
	else
		while (read(0, &byte, 1) > 0)
			continue;
	return status;
}
