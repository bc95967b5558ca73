/* Guest physical memory: the only module that holds host pointers to guest RAM. */
#ifndef MICROVM_GMEM_H
#define MICROVM_GMEM_H

#include <stdint.h>

#include "microvm/compiler.h"

#define GMEM_MAX_REGIONS 2

struct gmem_region {
	uint64_t gpa;
	uint64_t size;
	uint8_t *host;
};

struct gmem {
	struct gmem_region regions[GMEM_MAX_REGIONS];
	unsigned int nr_regions;
	uint64_t ram_size;
	/* The mapping backing every region, when gmem_create or gmem_create_from_file made it. */
	void *mapping;
	uint64_t mapping_size;
};

/*
 * Maps ram_size bytes of anonymous memory, kept out of core dumps (MADV_DONTDUMP), and
 * lays them out around the MMIO gap.
 */
MUST_CHECK int gmem_create(struct gmem *mem, uint64_t ram_size);
/*
 * The same over the first ram_size bytes of the regular file fd (a snapshot's memory
 * file, for restore), mapped MAP_PRIVATE: a page is read from the file only when first
 * touched, and writes stay in this process. -EINVAL when the file is not regular or is
 * shorter than ram_size (its missing pages would fault). fd may be closed afterwards.
 */
MUST_CHECK int gmem_create_from_file(struct gmem *mem, int fd, uint64_t ram_size);
/* Wraps caller-owned host memory (unit tests, fuzzers) laid out around the MMIO gap. */
MUST_CHECK int gmem_wrap(struct gmem *mem, void *host, uint64_t ram_size);
void gmem_destroy(struct gmem *mem);
/*
 * Writes guest memory to fd, a regular file opened for writing, as the memory file
 * gmem_create_from_file maps: ram_size bytes, the gap left out, zero pages left as
 * holes. *written counts the bytes of data written.
 */
MUST_CHECK int gmem_save(const struct gmem *mem, int fd, uint64_t *written);

/* A host pointer to [gpa, gpa+len) when the whole range lies in one region, else NULL. */
void *gmem_ptr(const struct gmem *mem, uint64_t gpa, uint64_t len);
/* True when [gpa, gpa+len) is guest RAM in one region; len 0 is never RAM. */
bool gmem_is_ram(const struct gmem *mem, uint64_t gpa, uint64_t len);
/* End of the RAM that starts at 0 (the low region), the limit for 32-bit structures. */
uint64_t gmem_low_end(const struct gmem *mem);

MUST_CHECK int gmem_read(const struct gmem *mem, uint64_t gpa, void *dst, uint64_t len);
MUST_CHECK int gmem_write(const struct gmem *mem, uint64_t gpa, const void *src, uint64_t len);
/*
 * Gives the host back the pages of [gpa, gpa+len) (a balloon's): both aligned to
 * LAYOUT_PAGE_SIZE, the range in one region, else -EINVAL or -EFAULT. Their contents
 * are lost: the guest next reads zeros (or, over a snapshot file, the file's bytes)
 * and the host's RSS drops.
 */
MUST_CHECK int gmem_discard(const struct gmem *mem, uint64_t gpa, uint64_t len);
MUST_CHECK int gmem_fill(const struct gmem *mem, uint64_t gpa, int byte, uint64_t len);

#endif
