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
 * for the jail's device nodes, "create / ERROR" for an attempt to write into the jail's
 * root, "fd N" for each open descriptor, then "ready".
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void probe_open(const char *path, size_t len)
{
	char buf[4096];
	struct stat st;
	int fd;

	if (len >= sizeof(buf))
		return;
	memcpy(buf, path, len);
	buf[len] = '\0';
	fd = open(buf, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		printf("open %s %s\n", buf, strerror(errno));
		return;
	}
	if (fstat(fd, &st) == 0)
		printf("open %s ok %lld\n", buf, (long long)st.st_size);
	close(fd);
}

/* The path an argument names, if any. */
static void probe_arg_path(const char *arg)
{
	const char *p = strstr(arg, "path=/");

	if (p) {
		p += 5;
		probe_open(p, strcspn(p, ","));
	} else if ((p = strstr(arg, "=/"))) {
		probe_open(p + 1, strlen(p + 1));
	} else if (arg[0] == '/') {
		probe_open(arg, strlen(arg));
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
	for (size_t i = 0; i < sizeof(devices) / sizeof(devices[0]); i++)
		probe_open(devices[i], strlen(devices[i]));
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
