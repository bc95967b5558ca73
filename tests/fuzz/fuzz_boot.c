/*
 * boot_load on a framed kernel + initrd + command line (boot_frame.h): the
 * format dispatch (F2), initrd placement (B11), command line (B10), the entry
 * and what it reads (the zero page, B12, or the PVH start info) and layout
 * (L1) of an accepted boot, and no stray writes either way.
 */
#include <asm/e820.h>
#include <stdlib.h>
#include <string.h>

#include "arch/x86/layout.h"
#include "arch/x86/start_info.h"
#include "boot_frame.h"
#include "kernel_check.h"

/* The kernel's ranges, the zero page, the command line and the initrd. */
#define BOOT_MAX_RANGES (FUZZ_KERNEL_MAX_RANGES + 3)

struct boot_input {
	uint8_t *kernel;   /* each part in its own exact-size buffer, so ASan sees overreads */
	size_t kernel_size;
	uint8_t *initrd;
	size_t initrd_size;
	char *cmdline;
	struct kernel_load_opts opts;
};

static void boot_input_split(struct boot_input *in, const uint8_t *data, size_t size)
{
	struct boot_frame f = { 0 };
	size_t hdr = size < sizeof(f) ? size : sizeof(f), cmdline_size;

	memcpy(&f, data, hdr);
	data += hdr;
	size -= hdr;
	in->kernel_size = f.kernel_size < size ? f.kernel_size : size;
	in->initrd_size = f.initrd_size < size - in->kernel_size ? f.initrd_size : size - in->kernel_size;
	cmdline_size = size - in->kernel_size - in->initrd_size;
	in->kernel = malloc(in->kernel_size ? in->kernel_size : 1);
	in->initrd = malloc(in->initrd_size ? in->initrd_size : 1);
	in->cmdline = malloc(cmdline_size + 1);
	FUZZ_CHECK(in->kernel && in->initrd && in->cmdline);
	memcpy(in->kernel, data, in->kernel_size);
	memcpy(in->initrd, data + in->kernel_size, in->initrd_size);
	memcpy(in->cmdline, data + in->kernel_size + in->initrd_size, cmdline_size);
	in->cmdline[cmdline_size] = '\0';
	in->opts = (struct kernel_load_opts){
		.relocate = f.relocate != 0, .load_offset = f.relocate, .load_addr = f.relocate,
		.entry64 = (f.flags & BOOT_FRAME_ENTRY64) != 0,
	};
}

static bool e820_ram_covers(const struct boot_info *b, uint64_t start, uint64_t end)
{
	for (unsigned int i = 0; i < b->e820_entries; i++)
		if (b->e820[i].type == E820_RAM && start >= b->e820[i].addr &&
		    end - b->e820[i].addr <= b->e820[i].size)
			return true;
	return false;
}

/* B12: boot_params starts from zeros; only the header, e820 and the high halves of pointers are set. */
static void check_zero_page(const struct gmem *mem, const struct boot_info *b)
{
	const struct boot_params *guest = gmem_ptr(mem, LAYOUT_ZERO_PAGE_START, sizeof(*guest));
	static const struct boot_params zero;
	struct boot_params bp;
	struct setup_header want;

	FUZZ_CHECK(guest != NULL);
	memcpy(&bp, guest, sizeof(bp));
	if (b->kernel.format == KERNEL_BZIMAGE) {
		want = b->kernel.hdr;
	} else {
		memset(&want, 0, sizeof(want));
		/* The VMM's choice for a vmlinux, not the image's: any value. */
		want.kernel_alignment = bp.hdr.kernel_alignment;
		want.cmdline_size = b->kernel.cmdline_max;
	}
	want.type_of_loader = 0xff;
	want.boot_flag = 0xaa55;
	want.header = 0x53726448;
	want.cmd_line_ptr = LAYOUT_CMDLINE_START;
	want.ramdisk_image = (uint32_t)b->initrd_addr;
	want.ramdisk_size = (uint32_t)b->initrd_size;
	want.setup_data = 0;
	FUZZ_CHECK(memcmp(&bp.hdr, &want, sizeof(want)) == 0);
	FUZZ_CHECK(bp.ext_cmd_line_ptr == 0 && bp.ext_ramdisk_image == b->initrd_addr >> 32 &&
		   bp.ext_ramdisk_size == b->initrd_size >> 32);
	FUZZ_CHECK(bp.e820_entries == b->e820_entries && b->e820_entries <= E820_MAX_ENTRIES_ZEROPAGE);
	FUZZ_CHECK(memcmp(bp.e820_table, b->e820, b->e820_entries * sizeof(b->e820[0])) == 0);
	/* Nothing else: above all, no byte of the image's boot sector. */
	memset(&bp.hdr, 0, sizeof(bp.hdr));
	bp.ext_ramdisk_image = bp.ext_ramdisk_size = 0;
	bp.e820_entries = 0;
	memset(bp.e820_table, 0, sizeof(bp.e820_table));
	FUZZ_CHECK(memcmp(&bp, &zero, sizeof(bp)) == 0);
}

/*
 * The PVH entry's page: hvm_start_info version 1 naming the command line, the e820 table
 * as its memory map, the RSDP of the ACPI tables and the initrd as the one module,
 * everything else zero.
 */
static void check_start_info(const struct gmem *mem, const struct boot_info *b)
{
	const uint8_t *page = gmem_ptr(mem, LAYOUT_PVH_INFO_START, LAYOUT_PVH_END - LAYOUT_PVH_INFO_START);
	uint8_t want[LAYOUT_PVH_END - LAYOUT_PVH_INFO_START] = { 0 };
	struct hvm_start_info si = {
		.magic = HVM_START_MAGIC, .version = 1, .cmdline_paddr = LAYOUT_CMDLINE_START,
		.memmap_paddr = LAYOUT_PVH_MEMMAP_START, .memmap_entries = b->e820_entries,
		.rsdp_paddr = 0xe0000,
	};

	FUZZ_CHECK(page != NULL && b->e820_entries <= LAYOUT_PVH_MEMMAP_MAX);
	for (unsigned int i = 0; i < b->e820_entries; i++) {
		struct hvm_memmap_table_entry e = {
			.addr = b->e820[i].addr, .size = b->e820[i].size, .type = b->e820[i].type,
		};

		memcpy(want + LAYOUT_PVH_MEMMAP_START - LAYOUT_PVH_INFO_START + i * sizeof(e), &e,
		       sizeof(e));
	}
	if (b->initrd_size) {
		struct hvm_modlist_entry m = { .paddr = b->initrd_addr, .size = b->initrd_size };

		si.nr_modules = 1;
		si.modlist_paddr = LAYOUT_PVH_MODLIST_START;
		memcpy(want + LAYOUT_PVH_MODLIST_START - LAYOUT_PVH_INFO_START, &m, sizeof(m));
	}
	memcpy(want, &si, sizeof(si));
	FUZZ_CHECK(memcmp(page, want, sizeof(want)) == 0);
}

static void check_boot(const struct gmem *mem, const struct boot_input *in,
		       const struct boot_info *b, struct fuzz_range *written, size_t *n)
{
	const struct kernel_info *k = &b->kernel;
	uint64_t low_end = gmem_low_end(mem), cmdline_end;
	const char *guest_cmdline;
	size_t kernel_ranges;

	/* F2: the magic alone decides the format. */
	FUZZ_CHECK((k->format == KERNEL_ELF) ==
		   (in->kernel_size >= 4 && memcmp(in->kernel, "\x7f" "ELF", 4) == 0));
	fuzz_check_kernel(mem, in->kernel, in->kernel_size, &in->opts, k, written, n);
	kernel_ranges = *n;
	FUZZ_CHECK(b->reserve_end == (k->load_end > k->runtime_end ? k->load_end : k->runtime_end));

	/* B10: the whole line, NUL-terminated, no longer than the kernel and the VMM accept. */
	FUZZ_CHECK(b->cmdline_addr == LAYOUT_CMDLINE_START && b->cmdline_len == strlen(in->cmdline));
	FUZZ_CHECK(b->cmdline_len <= k->cmdline_max && b->cmdline_len < LAYOUT_CMDLINE_MAX);
	cmdline_end = LAYOUT_CMDLINE_START + b->cmdline_len + 1;
	guest_cmdline = gmem_ptr(mem, LAYOUT_CMDLINE_START, b->cmdline_len + 1);
	FUZZ_CHECK(guest_cmdline && memcmp(guest_cmdline, in->cmdline, b->cmdline_len + 1) == 0);
	written[(*n)++] = (struct fuzz_range){ LAYOUT_CMDLINE_START, cmdline_end };
	/* The entry: PVH exactly when the kernel has one and the 64-bit one was not asked for. */
	FUZZ_CHECK(b->entry == (k->has_pvh_entry && !in->opts.entry64 ? BOOT_ENTRY_PVH : BOOT_ENTRY_64));
	if (b->entry == BOOT_ENTRY_PVH)
		written[(*n)++] = (struct fuzz_range){ LAYOUT_PVH_INFO_START, LAYOUT_PVH_END };
	else
		written[(*n)++] = (struct fuzz_range){ LAYOUT_ZERO_PAGE_START,
						       LAYOUT_ZERO_PAGE_START + LAYOUT_ZERO_PAGE_SIZE };

	/* B11: page-aligned, as high as initrd_addr_max and low RAM allow, above every kernel reservation. */
	FUZZ_CHECK(b->initrd_size == in->initrd_size);
	if (in->initrd_size) {
		uint64_t limit = k->initrd_max < low_end - 1 ? k->initrd_max + 1 : low_end;
		const uint8_t *guest_initrd = gmem_ptr(mem, b->initrd_addr, b->initrd_size);

		FUZZ_CHECK(b->initrd_addr == ((limit - in->initrd_size) & ~(LAYOUT_PAGE_SIZE - 1)));
		FUZZ_CHECK(b->initrd_addr >= b->reserve_end && b->initrd_addr >= LAYOUT_HIMEM_START);
		FUZZ_CHECK(b->initrd_addr + b->initrd_size <= limit);
		FUZZ_CHECK(guest_initrd && memcmp(guest_initrd, in->initrd, b->initrd_size) == 0);
		written[(*n)++] = (struct fuzz_range){ b->initrd_addr, b->initrd_addr + b->initrd_size };
	}

	/* L1: what the VMM wrote overlaps nothing else, and the kernel may decompress into RAM only. */
	for (size_t i = kernel_ranges; i < *n; i++) {
		for (size_t j = 0; j < i; j++)
			FUZZ_CHECK(!ranges_overlap(written[i].start, written[i].end, written[j].start,
						   written[j].end));
		FUZZ_CHECK(!ranges_overlap(written[i].start, written[i].end, k->runtime_start,
					   k->runtime_end));
	}
	for (size_t i = 0; i < *n; i++)
		FUZZ_CHECK(e820_ram_covers(b, written[i].start, written[i].end));
	FUZZ_CHECK(k->runtime_start == k->runtime_end ||
		   e820_ram_covers(b, k->runtime_start, k->runtime_end));
	/*
	 * Only what the entry reads is written: fuzz_ram_check_writes sees the other page
	 * untouched (reading it here would map it, and mincore() count it as written).
	 */
	if (b->entry == BOOT_ENTRY_PVH)
		check_start_info(mem, b);
	else
		check_zero_page(mem, b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct gmem *mem = fuzz_ram();
	struct fuzz_range written[BOOT_MAX_RANGES];
	size_t n = 0;
	struct boot_input in;
	struct image kernel, initrd;
	struct boot_info boot;
	struct diag d = { "" };

	boot_input_split(&in, data, size);
	image_from_buffer(&kernel, "fuzz-kernel", in.kernel, in.kernel_size);
	image_from_buffer(&initrd, "fuzz-initrd", in.initrd, in.initrd_size);
	if (boot_load(mem, &kernel, in.initrd_size ? &initrd : NULL, in.cmdline, &in.opts, &boot,
		      &d) == 0) {
		check_boot(mem, &in, &boot, written, &n);
	} else {
		/* A later step may fail after earlier ones wrote: allow what each step validated. */
		FUZZ_CHECK(d.msg[0] != '\0');
		if (boot.kernel.load_start < boot.kernel.load_end)
			written[n++] = (struct fuzz_range){ boot.kernel.load_start, boot.kernel.load_end };
		if (boot.initrd_addr)
			written[n++] = (struct fuzz_range){ boot.initrd_addr,
							    boot.initrd_addr + in.initrd_size };
		written[n++] = (struct fuzz_range){ LAYOUT_CMDLINE_START,
						    LAYOUT_CMDLINE_START + LAYOUT_CMDLINE_MAX };
	}
	fuzz_ram_check_writes(written, n);
	free(in.kernel);
	free(in.initrd);
	free(in.cmdline);
	return 0;
}
