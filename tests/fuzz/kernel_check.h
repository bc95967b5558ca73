/*
 * Invariants of a kernel the loader accepted, re-derived from the raw image
 * bytes without the loader's code: the ELF, bzImage and boot harnesses share them.
 */
#ifndef TESTS_FUZZ_KERNEL_CHECK_H
#define TESTS_FUZZ_KERNEL_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "harness.h"
#include "microvm/loader.h"

/* One range per PT_LOAD at most (the loader's cap), or the one bzImage load range. */
#define FUZZ_KERNEL_MAX_RANGES 64

/*
 * Checks k against data[0, size) loaded with opts (NULL: none) as the format
 * k names: every range is RAM at or above 1 MiB, holds the file's bytes then
 * zeros, and the entry points are inside them. Appends the ranges the load
 * wrote to written[*n].
 */
void fuzz_check_kernel(const struct gmem *mem, const uint8_t *data, size_t size,
		       const struct kernel_load_opts *opts, const struct kernel_info *k,
		       struct fuzz_range *written, size_t *n);

/* A loader of one format: elf_load or bzimage_load. */
typedef int (*fuzz_kernel_loader)(const struct gmem *mem, const struct image *img,
				  const struct kernel_load_opts *opts, struct kernel_info *out,
				  struct diag *d);

/*
 * One input through load as the image name: accepted, the kernel checks above;
 * rejected, a message naming the image and the item, and nothing written.
 */
void fuzz_one_kernel(fuzz_kernel_loader load, const char *name, const uint8_t *data, size_t size);

/* A rejection names the image and the checklist item it breaks, e.g. "(S3)". */
bool fuzz_diag_names_item(const char *msg, const char *image_name);

#endif
