#include <string.h>

#include "microvm/loader.h"

#define ELF_MAGIC "\x7f" "ELF"
#define BZIMAGE_MAGIC_OFFSET 0x202

/* F2: the magic alone decides; an image with ELF magic is never retried as a bzImage. */
int kernel_load(const struct gmem *mem, const struct image *img, const struct kernel_load_opts *opts,
		struct kernel_info *out, struct diag *d)
{
	uint8_t magic[4];

	if (image_read(img, 0, magic, sizeof(magic)) == 0 && memcmp(magic, ELF_MAGIC, 4) == 0)
		return elf_load(mem, img, opts, out, d);
	if (image_read(img, BZIMAGE_MAGIC_OFFSET, magic, sizeof(magic)) == 0 &&
	    memcmp(magic, "HdrS", 4) == 0)
		return bzimage_load(mem, img, opts, out, d);
	return diag_fail(d, "%s: file size %llu: neither an ELF vmlinux (no \\x7fELF at offset 0) nor a bzImage (no HdrS at offset 0x202) (F2)",
			 img->name, (unsigned long long)img->size);
}
