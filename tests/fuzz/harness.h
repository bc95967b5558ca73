/*
 * What every fuzz harness shares: the entry point the three drivers call
 * (libFuzzer, AFL++ persistent mode, the smoke test), the guest RAM the
 * loaders write to, and the way a broken invariant is reported.
 */
#ifndef TESTS_FUZZ_HARNESS_H
#define TESTS_FUZZ_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "microvm/compiler.h"
#include "microvm/gmem.h"

/*
 * Room for the Linux test kernel (its decompression range ends at 32 MiB);
 * every input pays for a mincore() over all of it (about 8 us per 64 MiB).
 */
#define FUZZ_RAM_SIZE (64ULL << 20)

/* Runs one input of any bytes and returns 0; a broken invariant aborts. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* abort() is what every fuzzer records as a crash, with the input that caused it. */
NORETURN void fuzz_fail(const char *file, int line, const char *what);
#define FUZZ_CHECK(cond) ((cond) ? (void)0 : fuzz_fail(__FILE__, __LINE__, #cond))

/* A half-open range of guest physical addresses. */
struct fuzz_range {
	uint64_t start;
	uint64_t end;
};

/* The guest RAM, mapped on first use and reused by every input. */
const struct gmem *fuzz_ram(void);
/*
 * Aborts unless every page written since the last call lies in one of the
 * allowed ranges (the loaders must write nowhere else, and nothing at all
 * when they reject), then, if anything was written, maps fresh memory over
 * the RAM so the next input starts from zeroes.
 */
void fuzz_ram_check_writes(const struct fuzz_range *allowed, size_t n);

/*
 * The input split at NUL bytes as the arguments after argv0 (a final NUL starts no
 * empty argument), NULL-terminated, in one exact-size buffer: ASan sees a read past
 * the last one. Free *buf and the vector.
 */
char **fuzz_split_argv(const uint8_t *data, size_t size, const char *argv0, char **buf, int *argc);
/* p is dflt (by value) or points into one of argv[1..argc-1]: never into memory a parser made up. */
bool fuzz_in_argv(const char *p, char **argv, int argc, const char *dflt);
/* true: stdout and stderr (the stdio streams, not fds 1 and 2) go to /dev/null; false: back. */
void fuzz_quiet(bool quiet);

#endif
