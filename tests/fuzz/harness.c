#include "harness.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define FUZZ_PAGE_SIZE 4096ULL
#define FUZZ_RAM_PAGES (FUZZ_RAM_SIZE / FUZZ_PAGE_SIZE)

static struct {
	uint8_t *host;
	struct gmem mem;
	unsigned char resident[FUZZ_RAM_PAGES];
} ram;

void fuzz_fail(const char *file, int line, const char *what)
{
	fprintf(stderr, "fuzz: invariant broken at %s:%d: %s\n", file, line, what);
	abort();
}

/* Fresh anonymous memory at the same address: no pages and no page tables, so mincore() is cheap. */
static void fuzz_ram_map(void *at)
{
	void *host = mmap(at, FUZZ_RAM_SIZE, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | (at ? MAP_FIXED : 0), -1, 0);

	FUZZ_CHECK(host != MAP_FAILED);
	/* A huge page would make one written byte look like 512 written pages. */
	FUZZ_CHECK(madvise(host, FUZZ_RAM_SIZE, MADV_NOHUGEPAGE) == 0);
	ram.host = host;
}

const struct gmem *fuzz_ram(void)
{
	if (!ram.host) {
		fuzz_ram_map(NULL);
		FUZZ_CHECK(gmem_wrap(&ram.mem, ram.host, FUZZ_RAM_SIZE) == 0);
	}
	return &ram.mem;
}

static bool fuzz_page_allowed(uint64_t page, const struct fuzz_range *allowed, size_t n)
{
	uint64_t start = page * FUZZ_PAGE_SIZE, end = start + FUZZ_PAGE_SIZE;

	for (size_t i = 0; i < n; i++)
		if (allowed[i].start < end && start < allowed[i].end)
			return true;
	return false;
}

void fuzz_ram_check_writes(const struct fuzz_range *allowed, size_t n)
{
	const uint64_t lsb = 0x0101010101010101ULL;
	bool written = false;

	FUZZ_CHECK(ram.host != NULL);
	/* A page is resident only once touched; the loaders never read guest RAM, so touched means written. */
	FUZZ_CHECK(mincore(ram.host, FUZZ_RAM_SIZE, ram.resident) == 0);
	for (uint64_t page = 0; page < FUZZ_RAM_PAGES; page += 8) {
		uint64_t word;

		/* Most of RAM stays untouched: eight pages at a time. */
		memcpy(&word, ram.resident + page, sizeof(word));
		if (!(word & lsb))
			continue;
		for (uint64_t p = page; p < page + 8; p++) {
			if (!(ram.resident[p] & 1))
				continue;
			if (!fuzz_page_allowed(p, allowed, n)) {
				fprintf(stderr, "fuzz: guest page 0x%llx written outside the validated ranges\n",
					(unsigned long long)(p * FUZZ_PAGE_SIZE));
				fuzz_fail(__FILE__, __LINE__, "the loader wrote only where it validated");
			}
			written = true;
		}
	}
	/* Cheaper than MADV_DONTNEED, which leaves the page tables for the next mincore() to walk. */
	if (written)
		fuzz_ram_map(ram.host);
}

char **fuzz_split_argv(const uint8_t *data, size_t size, const char *argv0, char **buf, int *argc)
{
	size_t count = 1;
	char **argv;
	int n = 0;

	*buf = malloc(size + 1);
	FUZZ_CHECK(*buf != NULL);
	memcpy(*buf, data, size);
	(*buf)[size] = '\0';
	for (size_t i = 0; i < size; i++)
		count += (*buf)[i] == '\0';
	argv = calloc(count + 2, sizeof(*argv));
	FUZZ_CHECK(argv != NULL);
	argv[n++] = (char *)(uintptr_t)argv0;
	for (size_t off = 0; off < size; off += strlen(*buf + off) + 1)
		argv[n++] = *buf + off;
	*argc = n;
	return argv;
}

bool fuzz_in_argv(const char *p, char **argv, int argc, const char *dflt)
{
	/* By value: string literals in two files need not be one object. */
	if (dflt && strcmp(p, dflt) == 0)
		return true;
	for (int i = 1; i < argc; i++)
		if (p >= argv[i] && p <= argv[i] + strlen(argv[i]))
			return true;
	return false;
}

void fuzz_quiet(bool quiet)
{
	static FILE *devnull, *out, *err;

	if (!devnull)
		devnull = fopen("/dev/null", "w");
	FUZZ_CHECK(devnull != NULL);
	if (quiet) {
		out = stdout;
		err = stderr;
		stdout = stderr = devnull;
	} else {
		stdout = out;
		stderr = err;
	}
}
