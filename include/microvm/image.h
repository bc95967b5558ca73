/* An untrusted input (kernel, initrd, disk) read by exact, bounds-checked reads. */
#ifndef MICROVM_IMAGE_H
#define MICROVM_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "microvm/compiler.h"
#include "microvm/diag.h"
#include "microvm/gmem.h"

struct image {
	const char *name;   /* as the user gave it, for messages */
	uint64_t size;
	int fd;             /* -1 when backed by memory */
	const uint8_t *data;
};

/* Opens a regular, non-empty file read-only; rejects directories, devices and FIFOs. */
MUST_CHECK int image_open(struct image *img, const char *path, struct diag *d);
/* Wraps a caller-owned buffer (tests, fuzzers). */
void image_from_buffer(struct image *img, const char *name, const void *data, size_t size);
void image_close(struct image *img);

/* Reads exactly len bytes at off; a read past the end or a short read is -EIO. */
MUST_CHECK int image_read(const struct image *img, uint64_t off, void *dst, uint64_t len);
/* Copies exactly len bytes at off straight into guest memory at gpa. */
MUST_CHECK int image_read_to_gmem(const struct image *img, uint64_t off, const struct gmem *mem,
				  uint64_t gpa, uint64_t len);
/* True when [off, off+len) lies inside the image, computed without overflow. */
bool image_contains(const struct image *img, uint64_t off, uint64_t len);

#endif
