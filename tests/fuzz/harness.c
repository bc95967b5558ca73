#include "harness.h"

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

const struct gmem *fuzz_ram(void)
{
	void *host;

	if (ram.host)
		return &ram.mem;
	/* Anonymous memory, so mincore() can tell which pages were ever written. */
	host = mmap(NULL, FUZZ_RAM_SIZE, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	FUZZ_CHECK(host != MAP_FAILED);
	/* A huge page would make one written byte look like 512 written pages. */
	FUZZ_CHECK(madvise(host, FUZZ_RAM_SIZE, MADV_NOHUGEPAGE) == 0);
	FUZZ_CHECK(gmem_wrap(&ram.mem, host, FUZZ_RAM_SIZE) == 0);
	ram.host = host;
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
	uint64_t run_start = 0;
	bool in_run = false;

	FUZZ_CHECK(ram.host != NULL);
	/* A page is resident only once touched; the loaders never read guest RAM, so touched means written. */
	FUZZ_CHECK(mincore(ram.host, FUZZ_RAM_SIZE, ram.resident) == 0);
	for (uint64_t page = 0; page <= FUZZ_RAM_PAGES; page++) {
		bool resident;
		uint64_t word;

		/* Most of RAM stays untouched: skip it eight pages at a time. */
		if (!in_run && page % 8 == 0 && page + 8 <= FUZZ_RAM_PAGES) {
			memcpy(&word, ram.resident + page, sizeof(word));
			if (!(word & lsb)) {
				page += 7;
				continue;
			}
		}
		resident = page < FUZZ_RAM_PAGES && (ram.resident[page] & 1);
		if (resident) {
			if (!fuzz_page_allowed(page, allowed, n)) {
				fprintf(stderr, "fuzz: guest page 0x%llx written outside the validated ranges\n",
					(unsigned long long)(page * FUZZ_PAGE_SIZE));
				fuzz_fail(__FILE__, __LINE__, "the loader wrote only where it validated");
			}
			if (!in_run)
				run_start = page;
			in_run = true;
		} else if (in_run) {
			/* Back to zero-fill-on-demand pages: the next input sees zeros and a clean mincore(). */
			FUZZ_CHECK(madvise(ram.host + run_start * FUZZ_PAGE_SIZE,
					   (page - run_start) * FUZZ_PAGE_SIZE, MADV_DONTNEED) == 0);
			in_run = false;
		}
	}
}
