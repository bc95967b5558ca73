#include "arch/x86/layout.h"
#include "microvm/loader.h"

int initrd_load(const struct gmem *mem, const struct image *initrd, uint64_t reserve_end,
		uint64_t initrd_max, uint64_t *addr, struct diag *d)
{
	uint64_t limit = gmem_low_end(mem), start, end;
	int ret;

	/* initrd_max names the last byte the initrd may occupy (B11); widen before +1 (C3). */
	if (initrd_max < UINT64_MAX && initrd_max + 1 < limit)
		limit = initrd_max + 1;
	/* Highest page-aligned start that still fits: the usual placement, as far from the kernel as possible. */
	if (initrd->size > limit)
		return diag_fail(d, "%s: initrd size %llu: larger than the %llu bytes of RAM the kernel can reach (initrd_addr_max 0x%llx) (B11)",
				 initrd->name, (unsigned long long)initrd->size,
				 (unsigned long long)limit, (unsigned long long)initrd_max);
	start = align_down_u64(limit - initrd->size, LAYOUT_PAGE_SIZE);
	if (start < reserve_end || start < LAYOUT_HIMEM_START)
		return diag_fail(d, "%s: initrd size %llu: does not fit between the kernel's reservation ending at 0x%llx and 0x%llx (initrd_addr_max 0x%llx, %llu MiB of RAM) (B11)",
				 initrd->name, (unsigned long long)initrd->size,
				 (unsigned long long)reserve_end, (unsigned long long)limit,
				 (unsigned long long)initrd_max, (unsigned long long)(mem->ram_size >> 20));
	end = start + initrd->size;
	if (!gmem_is_ram(mem, start, initrd->size) || end > limit)
		return diag_fail(d, "%s: initrd at 0x%llx size %llu: not inside guest RAM (B11)",
				 initrd->name, (unsigned long long)start,
				 (unsigned long long)initrd->size);
	ret = image_read_to_gmem(initrd, 0, mem, start, initrd->size);
	if (ret)
		return diag_fail_errno(d, ret, "%s: short read of the initrd (F1)", initrd->name);
	*addr = start;
	return 0;
}
