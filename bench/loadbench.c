/*
 * Loader throughput: how long the loader library takes to put a kernel into
 * guest memory, against `cat FILE > /dev/null`, both from the page cache.
 *
 * Usage: loadbench ITERATIONS MEM_MIB FILE...
 *
 * For each FILE, after one untimed pass of each kind (to warm the page cache),
 * ITERATIONS timed samples of, in turn:
 *   cold  image_open, gmem_create(MEM_MIB), boot_load, gmem_destroy, image_close:
 *         what a VMM launch pays, page faults on fresh guest memory included;
 *   warm  boot_load alone into guest memory that is already mapped and touched;
 *   cat   posix_spawn of `cat FILE` with stdout on /dev/null, to its exit.
 * Output, one line each: "file PATH size=BYTES loaded=BYTES" (loaded: the
 * guest range the kernel occupies, bss included), then "sample KIND NANOSECONDS"
 * per sample. bench/bench.py turns them into MB/s.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "microvm/loader.h"

#define MIB (1024ULL * 1024ULL)
#define CMDLINE "console=ttyS0"

extern char **environ;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void die(const char *what, const char *detail)
{
	fprintf(stderr, "loadbench: %s: %s\n", what, detail);
	exit(1);
}

/* One boot_load of path into mem; returns the size of the loaded guest range. */
static uint64_t load_into(const struct gmem *mem, const struct image *img)
{
	const struct kernel_load_opts opts = { .relocate = false };
	struct boot_info boot;
	struct diag d;

	if (boot_load(mem, img, NULL, CMDLINE, &opts, &boot, &d))
		die(img->name, d.msg);
	return boot.kernel.load_end - boot.kernel.load_start;
}

static void open_image(struct image *img, const char *path)
{
	struct diag d;

	if (image_open(img, path, &d))
		die(path, d.msg);
}

static void create_gmem(struct gmem *mem, uint64_t mem_mib)
{
	int ret = gmem_create(mem, mem_mib * MIB);

	if (ret)
		die("gmem_create", strerror(-ret));
}

static uint64_t sample_cold(const char *path, uint64_t mem_mib)
{
	uint64_t start = now_ns();
	struct image img;
	struct gmem mem;

	open_image(&img, path);
	create_gmem(&mem, mem_mib);
	load_into(&mem, &img);
	gmem_destroy(&mem);
	image_close(&img);
	return now_ns() - start;
}

static uint64_t sample_warm(const struct gmem *mem, const struct image *img)
{
	uint64_t start = now_ns();

	load_into(mem, img);
	return now_ns() - start;
}

static uint64_t sample_cat(char *path)
{
	char *argv[] = { "cat", path, NULL };
	posix_spawn_file_actions_t fa;
	uint64_t start = now_ns();
	int status, ret;
	pid_t pid;

	if (posix_spawn_file_actions_init(&fa) ||
	    posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0))
		die("posix_spawn_file_actions", "out of memory");
	ret = posix_spawnp(&pid, "cat", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (ret)
		die("posix_spawnp cat", strerror(ret));
	if (waitpid(pid, &status, 0) != pid)
		die("waitpid", strerror(errno));
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		die("cat", "failed");
	return now_ns() - start;
}

static void bench_file(char *path, unsigned long iterations, uint64_t mem_mib)
{
	struct image img;
	struct gmem mem;
	uint64_t loaded;

	open_image(&img, path);
	create_gmem(&mem, mem_mib);
	loaded = load_into(&mem, &img);
	printf("file %s size=%" PRIu64 " loaded=%" PRIu64 "\n", path, img.size, loaded);
	sample_cold(path, mem_mib);
	sample_cat(path);
	for (unsigned long i = 0; i < iterations; i++) {
		printf("sample cold %" PRIu64 "\n", sample_cold(path, mem_mib));
		printf("sample warm %" PRIu64 "\n", sample_warm(&mem, &img));
		printf("sample cat %" PRIu64 "\n", sample_cat(path));
	}
	gmem_destroy(&mem);
	image_close(&img);
}

int main(int argc, char **argv)
{
	unsigned long iterations, mem_mib;
	char *end;

	if (argc < 4) {
		fprintf(stderr, "usage: loadbench ITERATIONS MEM_MIB FILE...\n");
		return 2;
	}
	iterations = strtoul(argv[1], &end, 10);
	if (*end || iterations == 0)
		die("ITERATIONS", argv[1]);
	mem_mib = strtoul(argv[2], &end, 10);
	if (*end || mem_mib == 0)
		die("MEM_MIB", argv[2]);
	for (int i = 3; i < argc; i++)
		bench_file(argv[i], iterations, mem_mib);
	return 0;
}
