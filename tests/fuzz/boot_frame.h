/*
 * The fuzz_boot input format, shared by the harness and the seed writer: this
 * header (little-endian), then the kernel, the initrd and the command line
 * back to back. Sizes larger than what is left are clamped, so every input
 * means something; the command line is the rest, up to its first NUL.
 */
#ifndef TESTS_FUZZ_BOOT_FRAME_H
#define TESTS_FUZZ_BOOT_FRAME_H

#include <stdint.h>

struct boot_frame {
	uint32_t kernel_size;
	uint32_t initrd_size;  /* 0: no initrd (an empty file cannot be opened as one) */
	uint64_t relocate;     /* 0: none; else kernel_load_opts load_offset (ELF) or load_addr (bzImage) */
	uint64_t flags;        /* BOOT_FRAME_ENTRY64; other bits are ignored */
};

/* kernel_load_opts.entry64 (--entry64): the 64-bit entry even for a kernel with a PVH entry. */
#define BOOT_FRAME_ENTRY64 1ULL

_Static_assert(sizeof(struct boot_frame) == 24, "no padding: the layout is a file format");

#endif
