/*
 * The fuzz smoke test: runs a harness on every file of a seed corpus, then on
 * deterministic mutations of them (bit flips, byte sets, interesting values,
 * small arithmetic, truncation, insertion, deletion, splices) until a number
 * of executions or seconds is reached. Any compiler, with or without
 * sanitizers, no fuzzer needed. An input that crashes the harness is saved
 * to a file before the process dies.
 *
 * Usage: fuzz-smoke-NAME [-n EXECS] [-t SECONDS] [-s SEED] [-o CRASH_FILE] CORPUS...
 * where each CORPUS is a file or a directory of files.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

/* AFL++'s default cap on input size; seeds are far smaller. */
#define SMOKE_MAX_INPUT (1U << 20)

struct seed {
	uint8_t *data;
	size_t size;
};

static struct {
	struct seed *v;
	size_t n;
} seeds;

/* The input being run, for the crash handlers. */
static const uint8_t *current;
static size_t current_size;
static const char *crash_path = "fuzz-smoke-crash.bin";

/* Sanitizer runtimes call this before they exit on a finding; absent without them. */
extern void __sanitizer_set_death_callback(void (*callback)(void)) __attribute__((weak));

static void write_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		p += n;
		len -= (size_t)n;
	}
}

/* Async-signal-safe: runs from a signal handler or a sanitizer's death callback. */
static void save_crash(void)
{
	static const char msg[] = "fuzz-smoke: the crashing input is saved in ";
	int fd = open(crash_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0)
		return;
	write_all(fd, current, current_size);
	close(fd);
	write_all(STDERR_FILENO, msg, sizeof(msg) - 1);
	write_all(STDERR_FILENO, crash_path, strlen(crash_path));
	write_all(STDERR_FILENO, "\n", 1);
}

static void on_fatal_signal(int sig)
{
	save_crash();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void install_crash_handlers(void)
{
	static const int fatal[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL };
	struct sigaction sa = { .sa_handler = on_fatal_signal };

	if (__sanitizer_set_death_callback)
		__sanitizer_set_death_callback(save_crash);
	/* abort() is how harnesses report a broken invariant. */
	sigaction(SIGABRT, &sa, NULL);
	/* A sanitizer's own handler reports better; its death callback saves the input. */
	for (size_t i = 0; i < ARRAY_SIZE(fatal); i++) {
		struct sigaction old;

		if (sigaction(fatal[i], NULL, &old) == 0 && old.sa_handler == SIG_DFL)
			sigaction(fatal[i], &sa, NULL);
	}
}

static void add_seed(const char *path)
{
	FILE *f = fopen(path, "rb");
	struct seed s = { .data = malloc(SMOKE_MAX_INPUT + 1) };
	struct seed *v;

	if (!f || !s.data) {
		fprintf(stderr, "fuzz-smoke: %s: %s\n", path, strerror(errno));
		exit(2);
	}
	s.size = fread(s.data, 1, SMOKE_MAX_INPUT + 1, f);
	if (ferror(f) || s.size > SMOKE_MAX_INPUT) {
		fprintf(stderr, "fuzz-smoke: %s: unreadable or larger than %u bytes\n", path,
			SMOKE_MAX_INPUT);
		exit(2);
	}
	fclose(f);
	s.data = realloc(s.data, s.size ? s.size : 1);
	if (!s.data)
		abort();
	v = realloc(seeds.v, (seeds.n + 1) * sizeof(*v));
	if (!v)
		abort();
	seeds.v = v;
	seeds.v[seeds.n++] = s;
}

/* A directory's regular files in name order, so every run sees the same corpus. */
static void add_corpus(const char *path)
{
	struct dirent **names;
	struct stat st;
	int n;

	if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
		add_seed(path);
		return;
	}
	n = scandir(path, &names, NULL, alphasort);
	if (n < 0) {
		fprintf(stderr, "fuzz-smoke: %s: %s\n", path, strerror(errno));
		exit(2);
	}
	for (int i = 0; i < n; i++) {
		char file[4096];

		snprintf(file, sizeof(file), "%s/%s", path, names[i]->d_name);
		if (stat(file, &st) == 0 && S_ISREG(st.st_mode))
			add_seed(file);
		free(names[i]);
	}
	free(names);
}

/* xorshift64*: fixed seed, fixed sequence of mutations. */
static uint64_t rng_state;

static uint64_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

static size_t below(size_t n)
{
	return n ? (size_t)(rnd() % n) : 0;
}

/* Boundaries the loaders compare against: sign bits, 1 MiB, alignments, the RAM size, the MMIO gap, 4 GiB. */
static const uint64_t interesting[] = {
	0, 1, 0x7f, 0x80, 0xff, 0x100, 0x200, 0x1000, 0x7fff, 0x8000, 0xffff, 0x10000,
	0x100000, 0x200000, 0x1000000, 0x4000000, 0x7fffffff, 0x80000000, 0xd0000000,
	0xffffffff, 0x100000000, 0x7fffffffffffffff, 0x8000000000000000, UINT64_MAX,
};

/* One mutation of buf[0, len) in place (capacity cap); returns the new length. */
static size_t mutate_once(uint8_t *buf, size_t len, size_t cap)
{
	size_t width = (size_t)1 << below(4), pos, n;
	uint64_t v;

	switch (below(8)) {
	case 0: /* flip a bit */
		if (len)
			buf[below(len)] ^= (uint8_t)(1U << below(8));
		return len;
	case 1: /* set a byte */
		if (len)
			buf[below(len)] = (uint8_t)rnd();
		return len;
	case 2: /* an interesting value, 1, 2, 4 or 8 bytes little-endian */
		if (len >= width) {
			v = interesting[below(ARRAY_SIZE(interesting))];
			memcpy(buf + below(len - width + 1), &v, width);
		}
		return len;
	case 3: /* add or subtract up to 16 */
		if (len >= width) {
			pos = below(len - width + 1);
			v = 0;
			memcpy(&v, buf + pos, width);
			v += (uint64_t)below(33) - 16;
			memcpy(buf + pos, &v, width);
		}
		return len;
	case 4: /* truncate */
		return below(len + 1);
	case 5: /* insert up to 16 random bytes */
		n = 1 + below(16);
		if (len + n > cap)
			return len;
		pos = below(len + 1);
		memmove(buf + pos + n, buf + pos, len - pos);
		for (size_t i = 0; i < n; i++)
			buf[pos + i] = (uint8_t)rnd();
		return len + n;
	case 6: /* delete up to 16 bytes */
		pos = below(len + 1);
		n = 1 + below(16);
		if (n > len - pos)
			n = len - pos;
		memmove(buf + pos, buf + pos + n, len - pos - n);
		return len - n;
	default: { /* splice: keep a head, take a tail from any seed */
		const struct seed *s = &seeds.v[below(seeds.n)];
		size_t from = below(s->size + 1);

		pos = below(len + 1);
		n = s->size - from < cap - pos ? s->size - from : cap - pos;
		memcpy(buf + pos, s->data + from, n);
		return pos + n;
	}
	}
}

static void run_one(const uint8_t *data, size_t size)
{
	/* An exact-size copy, as libFuzzer gives: ASan then sees reads past the end. */
	uint8_t *input = malloc(size ? size : 1);

	if (!input)
		abort();
	memcpy(input, data, size);
	current = input;
	current_size = size;
	LLVMFuzzerTestOneInput(input, size);
	current_size = 0;
	free(input);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static unsigned long long parse_number(const char *s, char opt)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s || *end) {
		fprintf(stderr, "fuzz-smoke: -%c %s: not a number\n", opt, s);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	unsigned long long execs = 10000, seed = 1, done = 0;
	double seconds = 10, start;
	uint8_t *buf;
	int opt;

	while ((opt = getopt(argc, argv, "n:t:s:o:")) != -1) {
		switch (opt) {
		case 'n':
			execs = parse_number(optarg, 'n');
			break;
		case 't':
			seconds = (double)parse_number(optarg, 't');
			break;
		case 's':
			seed = parse_number(optarg, 's');
			break;
		case 'o':
			crash_path = optarg;
			break;
		default:
			fprintf(stderr, "usage: %s [-n EXECS] [-t SECONDS] [-s SEED] [-o CRASH_FILE] CORPUS...\n",
				argv[0]);
			return 2;
		}
	}
	for (int i = optind; i < argc; i++)
		add_corpus(argv[i]);
	if (seeds.n == 0) {
		fprintf(stderr, "fuzz-smoke: no seed files given\n");
		return 2;
	}
	buf = malloc(SMOKE_MAX_INPUT);
	if (!buf)
		abort();
	install_crash_handlers();
	/* xorshift must not start at 0. */
	rng_state = seed * 0x9e3779b97f4a7c15ULL | 1;

	start = now();
	for (size_t i = 0; i < seeds.n; i++)
		run_one(seeds.v[i].data, seeds.v[i].size);
	while (done < execs && now() - start < seconds) {
		const struct seed *s = &seeds.v[below(seeds.n)];
		size_t len = s->size, rounds = 1 + below(4);

		memcpy(buf, s->data, len);
		for (size_t r = 0; r < rounds; r++)
			len = mutate_once(buf, len, SMOKE_MAX_INPUT);
		run_one(buf, len);
		done++;
	}
	fprintf(stderr, "fuzz-smoke: %zu seeds and %llu mutations in %.1f s (seed %llu)\n", seeds.n,
		done, now() - start, seed);
	free(buf);
	return 0;
}
