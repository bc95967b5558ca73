/*
 * bzImage loader for the 64-bit boot protocol (entry at load address + 0x200).
 * Checklist items B1-B9 of LOADER-CHECKLIST.md, all checked before the
 * protected-mode kernel is copied into guest memory.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "arch/x86/layout.h"
#include "microvm/loader.h"

#define BZ_JUMP_LEN_OFFSET 0x201
#define BZ_HEADER_OFFSET 0x1f1
#define BZ_VERSION_END 0x208      /* the version field, in every header since 2.00 */
#define BZ_HEADER_MIN_END 0x264   /* covers init_size, the last field we need */
#define BZ_MAGIC 0x53726448       /* "HdrS" */
#define BZ_BOOT_FLAG 0xaa55
#define BZ_SECTOR 512
#define BZ_PARAGRAPH 16           /* syssize's unit */
#define BZ_ENTRY64_OFFSET 0x200
#define BZ_PROTOCOL_MIN 0x0200
#define BZ_PROTOCOL_ENTRY64 0x020c

#define HDR_OFF(field) (BZ_HEADER_OFFSET + offsetof(struct setup_header, field))

/*
 * B1: reads the header the image declares, never more than struct setup_header holds (C4).
 * Only the version must be inside it here: how long a header must be depends on its version.
 */
static int bzimage_read_header(const struct image *img, struct setup_header *hdr, uint64_t *end,
			       struct diag *d)
{
	uint8_t jump_len;
	uint64_t copy;

	if (image_read(img, BZ_JUMP_LEN_OFFSET, &jump_len, 1))
		return diag_fail(d, "%s: file size %llu: too short for a bzImage setup header (B1)",
				 img->name, (unsigned long long)img->size);
	*end = 0x202 + (uint64_t)jump_len;
	if (*end < BZ_VERSION_END)
		return diag_fail(d, "%s: bzImage field jump length 0x%x at offset 0x201: header ends at 0x%llx, before the version field at 0x206 (B1)",
				 img->name, jump_len, (unsigned long long)*end);
	if (*end > img->size)
		return diag_fail(d, "%s: bzImage field jump length 0x%x at offset 0x201: header ends at 0x%llx, past the end of the file (size %llu) (B1)",
				 img->name, jump_len, (unsigned long long)*end,
				 (unsigned long long)img->size);
	memset(hdr, 0, sizeof(*hdr));
	copy = *end - BZ_HEADER_OFFSET;
	if (copy > sizeof(*hdr))
		copy = sizeof(*hdr);
	if (image_read(img, BZ_HEADER_OFFSET, hdr, copy))
		return diag_fail_errno(d, -EIO, "%s: short read of the setup header (F1)", img->name);
	return 0;
}

/* B2, B3, then B1 for what a 2.12 header holds: an older kernel is refused for its version. */
static int bzimage_check_protocol(const struct image *img, const struct setup_header *hdr,
				  uint64_t end, struct diag *d)
{
	if (hdr->boot_flag != BZ_BOOT_FLAG)
		return diag_fail(d, "%s: bzImage field boot_flag 0x%04x at offset 0x%zx: not 0xaa55 (B2)",
				 img->name, hdr->boot_flag, HDR_OFF(boot_flag));
	if (hdr->header != BZ_MAGIC)
		return diag_fail(d, "%s: bzImage field header 0x%08x at offset 0x%zx: not \"HdrS\" (B2)",
				 img->name, hdr->header, HDR_OFF(header));
	if (hdr->version < BZ_PROTOCOL_MIN)
		return diag_fail(d, "%s: bzImage field version 0x%04x at offset 0x%zx: boot protocol older than 2.00 (B3)",
				 img->name, hdr->version, HDR_OFF(version));
	if (hdr->version < BZ_PROTOCOL_ENTRY64)
		return diag_fail(d, "%s: bzImage field version 0x%04x at offset 0x%zx: the 64-bit entry needs boot protocol 2.12 or newer (B3)",
				 img->name, hdr->version, HDR_OFF(version));
	if (end < BZ_HEADER_MIN_END)
		return diag_fail(d, "%s: bzImage field jump length 0x%llx at offset 0x201: header ends at 0x%llx, before init_size at 0x260, which boot protocol 2.12 has (B1)",
				 img->name, (unsigned long long)(end - 0x202), (unsigned long long)end);
	if (!(hdr->loadflags & LOADED_HIGH))
		return diag_fail(d, "%s: bzImage field loadflags 0x%02x at offset 0x%zx: LOADED_HIGH not set, a zImage cannot be loaded at 1 MiB (B3)",
				 img->name, hdr->loadflags, HDR_OFF(loadflags));
	if (!(hdr->xloadflags & XLF_KERNEL_64))
		return diag_fail(d, "%s: bzImage field xloadflags 0x%04x at offset 0x%zx: XLF_KERNEL_64 not set, the kernel has no 64-bit entry (B3)",
				 img->name, hdr->xloadflags, HDR_OFF(xloadflags));
	return 0;
}

/* [start, start+len) must be RAM at or above 1 MiB and identity-mapped for the 64-bit entry. */
static bool bzimage_range_ok(const struct gmem *mem, uint64_t start, uint64_t len)
{
	uint64_t end;

	return start >= LAYOUT_HIMEM_START && !add_overflows_u64(start, len, &end) &&
	       end <= LAYOUT_IDENTITY_MAP_END && gmem_is_ram(mem, start, len);
}

/* B8, B9: where head_64.S will decompress the kernel to, and how much it needs there. */
static int bzimage_runtime_range(const struct gmem *mem, const struct image *img,
				 const struct setup_header *hdr, uint64_t load, uint64_t kernel_size,
				 struct kernel_info *out, struct diag *d)
{
	uint64_t runtime = hdr->pref_address;

	if (hdr->relocatable_kernel) {
		uint64_t aligned;

		if (!is_pow2_u64(hdr->kernel_alignment))
			return diag_fail(d, "%s: bzImage field kernel_alignment 0x%x at offset 0x%zx: not a non-zero power of two (B8)",
					 img->name, hdr->kernel_alignment, HDR_OFF(kernel_alignment));
		if (hdr->min_alignment >= 32 || (1ULL << hdr->min_alignment) > hdr->kernel_alignment)
			return diag_fail(d, "%s: bzImage field min_alignment %u at offset 0x%zx: not below 32 or larger than kernel_alignment 0x%x (B8)",
					 img->name, hdr->min_alignment, HDR_OFF(min_alignment),
					 hdr->kernel_alignment);
		if (!align_up_u64(load, hdr->kernel_alignment, &aligned))
			return diag_fail(d, "%s: bzImage load address 0x%llx: aligning it to kernel_alignment 0x%x overflows (B9)",
					 img->name, (unsigned long long)load, hdr->kernel_alignment);
		if (aligned > runtime)
			runtime = aligned;
	}
	if (hdr->init_size == 0 || hdr->init_size < kernel_size)
		return diag_fail(d, "%s: bzImage field init_size 0x%x at offset 0x%zx: zero or smaller than the kernel (0x%llx bytes) (B9)",
				 img->name, hdr->init_size, HDR_OFF(init_size),
				 (unsigned long long)kernel_size);
	if (!bzimage_range_ok(mem, runtime, hdr->init_size))
		return diag_fail(d, "%s: bzImage field init_size 0x%x at offset 0x%zx: the decompression range [0x%llx, 0x%llx) is not guest RAM at or above 1 MiB below 4 GiB (%llu MiB of RAM) (B9)",
				 img->name, hdr->init_size, HDR_OFF(init_size),
				 (unsigned long long)runtime,
				 (unsigned long long)(runtime + hdr->init_size),
				 (unsigned long long)(mem->ram_size >> 20));
	/* The decompressor only moves the kernel upwards; a range below the load range that overlaps it would be clobbered. */
	if (runtime < load && ranges_overlap(runtime, runtime + hdr->init_size, load, load + kernel_size))
		return diag_fail(d, "%s: bzImage field pref_address 0x%llx at offset 0x%zx: the decompression range [0x%llx, 0x%llx) starts below and overlaps the loaded kernel at 0x%llx (B9)",
				 img->name, (unsigned long long)hdr->pref_address, HDR_OFF(pref_address),
				 (unsigned long long)runtime,
				 (unsigned long long)(runtime + hdr->init_size), (unsigned long long)load);
	out->runtime_start = runtime;
	out->runtime_end = runtime + hdr->init_size;
	return 0;
}

int bzimage_load(const struct gmem *mem, const struct image *img, const struct kernel_load_opts *opts,
		 struct kernel_info *out, struct diag *d)
{
	struct setup_header hdr;
	uint64_t header_end = 0, setup_sects, setup_size, kernel_size, min_file_end, file_bytes, load;
	int ret;

	memset(out, 0, sizeof(*out));
	out->format = KERNEL_BZIMAGE;
	ret = bzimage_read_header(img, &hdr, &header_end, d);
	if (ret)
		return ret;
	ret = bzimage_check_protocol(img, &hdr, header_end, d);
	if (ret)
		return ret;

	setup_sects = hdr.setup_sects ? hdr.setup_sects : 4;
	setup_size = (setup_sects + 1) * BZ_SECTOR;
	if (setup_size > img->size)
		return diag_fail(d, "%s: bzImage field setup_sects %u at offset 0x%zx: %llu setup bytes run past the end of the file (size %llu) (B4)",
				 img->name, hdr.setup_sects, HDR_OFF(setup_sects),
				 (unsigned long long)setup_size, (unsigned long long)img->size);
	kernel_size = (uint64_t)hdr.syssize * BZ_PARAGRAPH;
	if (hdr.syssize == 0 || kernel_size <= BZ_ENTRY64_OFFSET)
		return diag_fail(d, "%s: bzImage field syssize 0x%x at offset 0x%zx: the kernel (0x%llx bytes) does not reach the 64-bit entry at +0x200 (B5)",
				 img->name, hdr.syssize, HDR_OFF(syssize), (unsigned long long)kernel_size);
	/*
	 * syssize counts 16-byte paragraphs, so the last one may be partial: the file may end up
	 * to 15 bytes before setup + syssize*16 (memtest86+'s .bin does), and those are zeros.
	 */
	if (add_overflows_u64(setup_size, kernel_size - (BZ_PARAGRAPH - 1), &min_file_end) ||
	    min_file_end > img->size)
		return diag_fail(d, "%s: bzImage field syssize 0x%x at offset 0x%zx: setup (%llu bytes) plus kernel (%llu bytes, the last 16-byte paragraph possibly partial) run past the end of the file (size %llu) (B5)",
				 img->name, hdr.syssize, HDR_OFF(syssize), (unsigned long long)setup_size,
				 (unsigned long long)kernel_size, (unsigned long long)img->size);
	file_bytes = img->size - setup_size < kernel_size ? img->size - setup_size : kernel_size;
	if ((hdr.payload_offset || hdr.payload_length) &&
	    (uint64_t)hdr.payload_offset + hdr.payload_length > kernel_size)
		return diag_fail(d, "%s: bzImage field payload_offset 0x%x at offset 0x%zx: payload (length 0x%x) runs past the kernel (0x%llx bytes) (B6)",
				 img->name, hdr.payload_offset, HDR_OFF(payload_offset),
				 hdr.payload_length, (unsigned long long)kernel_size);

	load = opts && opts->relocate ? opts->load_addr : hdr.code32_start;
	if (!bzimage_range_ok(mem, load, kernel_size))
		return diag_fail(d, "%s: bzImage %s 0x%llx: the kernel [0x%llx, 0x%llx) is not guest RAM at or above 1 MiB below 4 GiB (%llu MiB of RAM) (B7)",
				 img->name,
				 opts && opts->relocate ? "load address" : "field code32_start at offset 0x214",
				 (unsigned long long)load, (unsigned long long)load,
				 (unsigned long long)(load + kernel_size),
				 (unsigned long long)(mem->ram_size >> 20));
	ret = bzimage_runtime_range(mem, img, &hdr, load, kernel_size, out, d);
	if (ret)
		return ret;

	/* Every check passed: syssize*16 bytes, a partial last paragraph zero-filled; trailing bytes (signatures) stay out (B5). */
	ret = image_read_to_gmem(img, setup_size, mem, load, file_bytes);
	if (ret)
		return diag_fail_errno(d, ret, "%s: short read of the kernel at offset 0x%llx (F1)",
				       img->name, (unsigned long long)setup_size);
	ret = gmem_fill(mem, load + file_bytes, 0, kernel_size - file_bytes);
	if (ret)
		return diag_fail_errno(d, ret, "%s: cannot zero-fill at 0x%llx", img->name,
				       (unsigned long long)(load + file_bytes));

	out->entry = load + BZ_ENTRY64_OFFSET;
	out->load_start = load;
	out->load_end = load + kernel_size;
	out->protocol = hdr.version;
	out->hdr = hdr;
	out->hdr.code32_start = (uint32_t)load;
	/* Protocol 2.12 is required above, so both fields (2.06, 2.03) are present. */
	out->cmdline_max = hdr.cmdline_size;
	out->initrd_max = hdr.initrd_addr_max;
	return 0;
}
