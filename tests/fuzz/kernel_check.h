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

/* A rejection names the image and the checklist item it breaks, e.g. "(S3)". */
bool fuzz_diag_names_item(const char *msg, const char *image_name);

#endif
