#include <string.h>

#include "arch/x86/layout.h"
#include "microvm/loader.h"

#define ZP_TYPE_OF_LOADER_UNDEFINED 0xff   /* "no assigned id"; 0 makes Linux ignore the initrd */
#define ZP_BOOT_FLAG 0xaa55
#define ZP_HEADER_MAGIC 0x53726448         /* "HdrS" */
#define ZP_ELF_KERNEL_ALIGNMENT 0x1000000  /* what Firecracker tells a vmlinux */

int zeropage_write(const struct gmem *mem, const struct boot_info *boot, struct diag *d)
{
	struct boot_params bp;
	int ret;

	_Static_assert(sizeof(bp) == LAYOUT_ZERO_PAGE_SIZE, "boot_params is one page");
	/* From zeros, never from the image's boot sector (B12). */
	memset(&bp, 0, sizeof(bp));
	if (boot->kernel.format == KERNEL_BZIMAGE) {
		bp.hdr = boot->kernel.hdr;
	} else {
		bp.hdr.kernel_alignment = ZP_ELF_KERNEL_ALIGNMENT;
		bp.hdr.cmdline_size = boot->kernel.cmdline_max;
	}
	bp.hdr.type_of_loader = ZP_TYPE_OF_LOADER_UNDEFINED;
	bp.hdr.boot_flag = ZP_BOOT_FLAG;
	bp.hdr.header = ZP_HEADER_MAGIC;
	bp.hdr.cmd_line_ptr = (uint32_t)boot->cmdline_addr;
	bp.ext_cmd_line_ptr = (uint32_t)(boot->cmdline_addr >> 32);
	bp.hdr.ramdisk_image = (uint32_t)boot->initrd_addr;
	bp.hdr.ramdisk_size = (uint32_t)boot->initrd_size;
	bp.ext_ramdisk_image = (uint32_t)(boot->initrd_addr >> 32);
	bp.ext_ramdisk_size = (uint32_t)(boot->initrd_size >> 32);
	/* The setup_data chain is the VMM's to give, never the image's. */
	bp.hdr.setup_data = 0;
	if (boot->e820_entries > E820_MAX_ENTRIES_ZEROPAGE)
		return diag_fail(d, "zero page: %u e820 entries: more than %d", boot->e820_entries,
				 E820_MAX_ENTRIES_ZEROPAGE);
	bp.e820_entries = (uint8_t)boot->e820_entries;
	memcpy(bp.e820_table, boot->e820, boot->e820_entries * sizeof(boot->e820[0]));

	ret = gmem_write(mem, LAYOUT_ZERO_PAGE_START, &bp, sizeof(bp));
	if (ret)
		return diag_fail_errno(d, ret, "zero page: cannot write at 0x%llx",
				       (unsigned long long)LAYOUT_ZERO_PAGE_START);
	return 0;
}
