/*
 * Initrd placement, command line, e820, zero page, the PVH start info, the entry a boot
 * uses and the layout invariants (B10-B12, L1).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <asm/e820.h>

#include "arch/x86/layout.h"
#include "arch/x86/start_info.h"
#include "images.h"
#include "microvm/loader.h"

struct fixture {
	struct test_vm vm;
	struct bz_builder bz;
	struct elf_builder elf;
	struct boot_info boot;
	struct diag d;
	uint8_t initrd_bytes[10000];
};

static int setup(void **state)
{
	static struct fixture f;

	memset(&f, 0, sizeof(f));
	test_vm_init(&f.vm, TEST_RAM_SIZE);
	bzb_init(&f.bz);
	elfb_init(&f.elf);
	for (size_t i = 0; i < sizeof(f.initrd_bytes); i++)
		f.initrd_bytes[i] = (uint8_t)(i ^ 0x5a);
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	bzb_free(&f->bz);
	elfb_free(&f->elf);
	test_vm_free(&f->vm);
	return 0;
}

static int boot_bz(struct fixture *f, const char *cmdline, size_t initrd_size)
{
	struct image kernel, initrd;

	bzb_image(&f->bz, &kernel);
	image_from_buffer(&initrd, "test.initrd", f->initrd_bytes, initrd_size);
	return boot_load(&f->vm.mem, &kernel, initrd_size ? &initrd : NULL, cmdline, NULL, &f->boot,
			 &f->d);
}

static const struct boot_params *zero_page(struct fixture *f)
{
	return gmem_ptr(&f->vm.mem, LAYOUT_ZERO_PAGE_START, sizeof(struct boot_params));
}

static void bzimage_zero_page(void **state)
{
	struct fixture *f = *state;
	const struct boot_params *bp;

	/* Junk in the boot sector must not reach the zero page (B12). */
	memset(f->bz.buf, 0xff, 0x1f1);
	assert_int_equal(boot_bz(f, "console=ttyS0", 0), 0);
	bp = zero_page(f);
	assert_int_equal(bp->hdr.type_of_loader, 0xff);
	assert_int_equal(bp->hdr.boot_flag, 0xaa55);
	assert_int_equal(bp->hdr.header, 0x53726448);
	assert_int_equal(bp->hdr.version, 0x020f);
	assert_int_equal(bp->hdr.init_size, 0x100000);
	assert_int_equal(bp->hdr.cmd_line_ptr, LAYOUT_CMDLINE_START);
	assert_int_equal(bp->hdr.cmdline_size, 2047);
	assert_int_equal(bp->hdr.ramdisk_image, 0);
	assert_int_equal(bp->hdr.ramdisk_size, 0);
	assert_int_equal(bp->hdr.setup_data, 0);
	/* Everything below e820_entries (0x1e8) stays zero: none of the 0xff junk leaked. */
	for (size_t i = 0; i < offsetof(struct boot_params, e820_entries); i++)
		assert_int_equal(((const uint8_t *)bp)[i], 0);
	assert_string_equal(gmem_ptr(&f->vm.mem, LAYOUT_CMDLINE_START, 14), "console=ttyS0");
}

static void elf_zero_page_is_built(void **state)
{
	struct fixture *f = *state;
	struct image kernel;
	const struct boot_params *bp;

	elfb_image(&f->elf, &kernel);
	assert_int_equal(boot_load(&f->vm.mem, &kernel, NULL, "quiet", NULL, &f->boot, &f->d), 0);
	bp = zero_page(f);
	assert_int_equal(bp->hdr.boot_flag, 0xaa55);
	assert_int_equal(bp->hdr.header, 0x53726448);
	assert_int_equal(bp->hdr.type_of_loader, 0xff);
	assert_int_equal(bp->hdr.kernel_alignment, 0x1000000);
	assert_int_equal(bp->hdr.cmd_line_ptr, LAYOUT_CMDLINE_START);
	assert_int_equal(bp->hdr.version, 0);
}

/* The ELF builder's image with a PVH note whose entry is 0x100010, in its loaded bytes. */
static int boot_pvh(struct fixture *f, const struct kernel_load_opts *opts, size_t initrd_size)
{
	struct image kernel, initrd;

	elfb_add_pvh_note(&f->elf, 0x800, 0x100010, 8, 4);
	elfb_image(&f->elf, &kernel);
	image_from_buffer(&initrd, "test.initrd", f->initrd_bytes, initrd_size);
	return boot_load(&f->vm.mem, &kernel, initrd_size ? &initrd : NULL, "console=ttyS0 pvh",
			 opts, &f->boot, &f->d);
}

static bool all_zero(const void *p, size_t len)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < len; i++)
		if (b[i])
			return false;
	return true;
}

static void pvh_start_info_built(void **state)
{
	struct fixture *f = *state;
	const struct hvm_start_info *si;
	const struct hvm_memmap_table_entry *map;
	const struct hvm_modlist_entry *mod;
	uint8_t *page = gmem_ptr(&f->vm.mem, LAYOUT_PVH_INFO_START, LAYOUT_PVH_END - LAYOUT_PVH_INFO_START);

	/* Whatever was in the page before must not reach the guest. */
	memset(page, 0xff, LAYOUT_PVH_END - LAYOUT_PVH_INFO_START);
	assert_int_equal(boot_pvh(f, NULL, 1000), 0);
	assert_int_equal(f->boot.entry, BOOT_ENTRY_PVH);
	assert_int_equal(f->boot.kernel.pvh_entry, 0x100010);
	si = gmem_ptr(&f->vm.mem, LAYOUT_PVH_INFO_START, sizeof(*si));
	assert_int_equal(si->magic, 0x336ec578);
	assert_int_equal(si->version, 1);
	assert_int_equal(si->flags, 0);
	assert_int_equal(si->cmdline_paddr, LAYOUT_CMDLINE_START);
	assert_string_equal(gmem_ptr(&f->vm.mem, LAYOUT_CMDLINE_START, 18), "console=ttyS0 pvh");
	/* The RSDP the platform step writes (acpi.c), as a number: the layout could drift. */
	assert_int_equal(si->rsdp_paddr, 0xe0000);
	assert_int_equal(si->reserved, 0);
	/* The memory map is the e820 table, entry for entry. */
	assert_int_equal(si->memmap_paddr, LAYOUT_PVH_MEMMAP_START);
	assert_int_equal(si->memmap_entries, 3);
	map = gmem_ptr(&f->vm.mem, si->memmap_paddr, 3 * sizeof(*map));
	for (unsigned int i = 0; i < 3; i++) {
		assert_int_equal(map[i].addr, f->boot.e820[i].addr);
		assert_int_equal(map[i].size, f->boot.e820[i].size);
		assert_int_equal(map[i].type, f->boot.e820[i].type);
		assert_int_equal(map[i].reserved, 0);
	}
	assert_int_equal(map[2].addr + map[2].size, TEST_RAM_SIZE);
	/* The initrd is the one module, where boot_load placed it. */
	assert_int_equal(si->nr_modules, 1);
	assert_int_equal(si->modlist_paddr, LAYOUT_PVH_MODLIST_START);
	mod = gmem_ptr(&f->vm.mem, si->modlist_paddr, sizeof(*mod));
	assert_int_equal(mod->paddr, f->boot.initrd_addr);
	assert_int_equal(mod->size, 1000);
	assert_int_equal(mod->cmdline_paddr, 0);
	assert_int_equal(mod->reserved, 0);
	assert_memory_equal(gmem_ptr(&f->vm.mem, mod->paddr, 1000), f->initrd_bytes, 1000);
	/* Between and after the three structures: zeros, not the old 0xff. */
	assert_true(all_zero(page + sizeof(*si), LAYOUT_PVH_MEMMAP_START - LAYOUT_PVH_INFO_START - sizeof(*si)));
	assert_true(all_zero(page + LAYOUT_PVH_MODLIST_START + sizeof(*mod) - LAYOUT_PVH_INFO_START,
			     LAYOUT_PVH_END - LAYOUT_PVH_MODLIST_START - sizeof(*mod)));
	/* The PVH entry reads no zero page: none is written. */
	assert_true(all_zero(zero_page(f), sizeof(struct boot_params)));
}

static void pvh_without_initrd_lists_no_module(void **state)
{
	struct fixture *f = *state;
	const struct hvm_start_info *si;

	assert_int_equal(boot_pvh(f, NULL, 0), 0);
	si = gmem_ptr(&f->vm.mem, LAYOUT_PVH_INFO_START, sizeof(*si));
	assert_int_equal(si->nr_modules, 0);
	assert_int_equal(si->modlist_paddr, 0);
	assert_true(all_zero(gmem_ptr(&f->vm.mem, LAYOUT_PVH_MODLIST_START, 32), 32));
}

static void entry64_option_and_bzimage_use_the_zero_page(void **state)
{
	struct fixture *f = *state;
	struct kernel_load_opts opts = { .entry64 = true };

	assert_int_equal(boot_pvh(f, &opts, 1000), 0);
	assert_int_equal(f->boot.entry, BOOT_ENTRY_64);
	assert_true(f->boot.kernel.has_pvh_entry);
	assert_int_equal(zero_page(f)->hdr.ramdisk_size, 1000);
	assert_true(all_zero(gmem_ptr(&f->vm.mem, LAYOUT_PVH_INFO_START, 0x1000), 0x1000));
	/* A bzImage has no PVH entry; without a note an ELF has none either. */
	assert_int_equal(boot_bz(f, "", 0), 0);
	assert_int_equal(f->boot.entry, BOOT_ENTRY_64);
}

static void pvh_memmap_bounded(void **state)
{
	struct fixture *f = *state;
	struct boot_info b;

	memset(&b, 0, sizeof(b));
	b.e820_entries = LAYOUT_PVH_MEMMAP_MAX + 1;
	assert_int_not_equal(start_info_write(&f->vm.mem, &b, &f->d), 0);
	assert_non_null(strstr(f->d.msg, "9 memory map entries: more than 8"));
	assert_true(all_zero(gmem_ptr(&f->vm.mem, LAYOUT_PVH_INFO_START, 0x1000), 0x1000));
}

static void e820_small_guest(void **state)
{
	struct fixture *f = *state;
	const struct boot_params *bp;

	assert_int_equal(boot_bz(f, "", 0), 0);
	bp = zero_page(f);
	assert_int_equal(bp->e820_entries, 3);
	assert_int_equal(bp->e820_table[0].addr, 0);
	assert_int_equal(bp->e820_table[0].size, LAYOUT_EBDA_START);
	assert_int_equal(bp->e820_table[0].type, E820_RAM);
	assert_int_equal(bp->e820_table[1].addr, LAYOUT_EBDA_START);
	assert_int_equal(bp->e820_table[1].size, 0x100000 - LAYOUT_EBDA_START);
	assert_int_equal(bp->e820_table[1].type, E820_RESERVED);
	assert_int_equal(bp->e820_table[2].addr, 0x100000);
	assert_int_equal(bp->e820_table[2].size, TEST_RAM_SIZE - 0x100000);
	assert_int_equal(bp->e820_table[2].type, E820_RAM);
}

static void e820_large_guest_splits_around_gap(void **state)
{
	(void)state;
	struct gmem mem;
	struct boot_e820_entry table[8];
	uint64_t ram = 4ULL << 30;

	/* Only the layout matters here: no memory is touched. */
	assert_int_equal(gmem_wrap(&mem, (void *)0x1000, ram), 0);
	assert_int_equal(e820_build(&mem, table, 8), 4);
	assert_int_equal(table[2].addr, 0x100000);
	assert_int_equal(table[2].addr + table[2].size, LAYOUT_MMIO_GAP_START);
	assert_int_equal(table[3].addr, 0x100000000ULL);
	assert_int_equal(table[3].size, ram - LAYOUT_MMIO_GAP_START);
	assert_int_equal(table[3].type, E820_RAM);
	assert_null(gmem_ptr(&mem, LAYOUT_MMIO_GAP_START, 1));
	assert_null(gmem_ptr(&mem, LAYOUT_MMIO_GAP_START - 1, 2));
}

static void initrd_placed_high_and_aligned(void **state)
{
	struct fixture *f = *state;
	const struct boot_params *bp;

	assert_int_equal(boot_bz(f, "", sizeof(f->initrd_bytes)), 0);
	bp = zero_page(f);
	assert_int_equal(f->boot.initrd_addr % 4096, 0);
	assert_true(f->boot.initrd_addr >= f->boot.kernel.runtime_end);
	assert_true(f->boot.initrd_addr + sizeof(f->initrd_bytes) <= TEST_RAM_SIZE);
	assert_true(TEST_RAM_SIZE - (f->boot.initrd_addr + sizeof(f->initrd_bytes)) < 4096);
	assert_int_equal(bp->hdr.ramdisk_image, f->boot.initrd_addr);
	assert_int_equal(bp->hdr.ramdisk_size, sizeof(f->initrd_bytes));
	assert_memory_equal(gmem_ptr(&f->vm.mem, f->boot.initrd_addr, sizeof(f->initrd_bytes)),
			    f->initrd_bytes, sizeof(f->initrd_bytes));
}

static void b11_initrd_addr_max_respected(void **state)
{
	struct fixture *f = *state;

	f->bz.hdr->initrd_addr_max = 0x1ffffff;
	assert_int_equal(boot_bz(f, "", sizeof(f->initrd_bytes)), 0);
	assert_true(f->boot.initrd_addr + sizeof(f->initrd_bytes) - 1 <= 0x1ffffff);
	assert_true(f->boot.initrd_addr >= 0x1100000);
}

static void b11_initrd_above_init_size(void **state)
{
	struct fixture *f = *state;

	/* Only room below the decompression range: must be refused, not overlapped. */
	f->bz.hdr->initrd_addr_max = 0x10fffff;
	assert_int_not_equal(boot_bz(f, "", sizeof(f->initrd_bytes)), 0);
	assert_non_null(strstr(f->d.msg, "(B11)"));
	assert_non_null(strstr(f->d.msg, "test.initrd"));
}

static void b11_initrd_addr_max_u32_wrap(void **state)
{
	struct fixture *f = *state;

	f->bz.hdr->initrd_addr_max = 0xffffffff;
	assert_int_equal(boot_bz(f, "", sizeof(f->initrd_bytes)), 0);
	assert_true(f->boot.initrd_addr + sizeof(f->initrd_bytes) <= TEST_RAM_SIZE);
}

static void b11_initrd_too_big(void **state)
{
	struct fixture *f = *state;
	struct image kernel, initrd;

	bzb_image(&f->bz, &kernel);
	/* Size is all the check reads before placement: no buffer of this size exists. */
	image_from_buffer(&initrd, "huge.initrd", f->initrd_bytes, TEST_RAM_SIZE);
	assert_int_not_equal(boot_load(&f->vm.mem, &kernel, &initrd, "", NULL, &f->boot, &f->d), 0);
	assert_non_null(strstr(f->d.msg, "(B11)"));
}

static void b10_cmdline_limits(void **state)
{
	struct fixture *f = *state;
	char line[3000];

	memset(line, 'a', sizeof(line));
	line[2047] = '\0';
	assert_int_equal(boot_bz(f, line, 0), 0);
	assert_int_equal(f->boot.cmdline_len, 2047);
	line[2047] = 'a';
	line[2048] = '\0';
	assert_int_not_equal(boot_bz(f, line, 0), 0);
	assert_non_null(strstr(f->d.msg, "(B10)"));
}

static void b10_cmdline_size_zero(void **state)
{
	struct fixture *f = *state;

	/* kvmtool computes cmdline_size - 1 here and underflows. */
	f->bz.hdr->cmdline_size = 0;
	assert_int_equal(boot_bz(f, "", 0), 0);
	assert_int_not_equal(boot_bz(f, "x", 0), 0);
	assert_non_null(strstr(f->d.msg, "(B10)"));
}

static void b10_writes_only_the_line(void **state)
{
	struct fixture *f = *state;
	uint8_t *after;

	memset(gmem_ptr(&f->vm.mem, LAYOUT_CMDLINE_START, 4096), 0x77, 4096);
	assert_int_equal(boot_bz(f, "abc", 0), 0);
	after = gmem_ptr(&f->vm.mem, LAYOUT_CMDLINE_START + 4, 1);
	assert_int_equal(*after, 0x77);
}

static void cmdline_append_builds_and_rejects(void **state)
{
	(void)state;
	struct cmdline_buf cl = { .len = 0 };
	struct diag d;
	char big[5000];

	assert_int_equal(cmdline_append(&cl, "console=ttyS0", &d), 0);
	assert_int_equal(cmdline_append(&cl, "", &d), 0);
	assert_int_equal(cmdline_append(&cl, "panic=1", &d), 0);
	assert_string_equal(cl.text, "console=ttyS0 panic=1");
	assert_int_not_equal(cmdline_append(&cl, "a\nb", &d), 0);
	assert_string_equal(cl.text, "console=ttyS0 panic=1");
	memset(big, 'b', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_not_equal(cmdline_append(&cl, big, &d), 0);
	big[4096 - cl.len - 2] = '\0';
	assert_int_equal(cmdline_append(&cl, big, &d), 0);
	assert_int_equal(cl.len, 4095);
	assert_int_not_equal(cmdline_append(&cl, "c", &d), 0);
}

static void l1_static_layout_disjoint(void **state)
{
	(void)state;
	/* The VMM's own structures never overlap, whatever the kernel says. */
	assert_true(LAYOUT_GDT_START + LAYOUT_GDT_ENTRIES * 8 <= LAYOUT_IDT_START);
	assert_true(LAYOUT_IDT_START + LAYOUT_IDT_SIZE <= LAYOUT_PVH_INFO_START);
	assert_true(LAYOUT_PVH_INFO_START + 56 <= LAYOUT_PVH_MEMMAP_START);
	assert_true(LAYOUT_PVH_MEMMAP_START + LAYOUT_PVH_MEMMAP_MAX * 24 <= LAYOUT_PVH_MODLIST_START);
	assert_true(LAYOUT_PVH_MODLIST_START + 32 <= LAYOUT_PVH_END);
	assert_true(LAYOUT_PVH_END <= LAYOUT_ZERO_PAGE_START);
	assert_true(LAYOUT_ZERO_PAGE_START + LAYOUT_ZERO_PAGE_SIZE <= LAYOUT_BOOT_STACK_POINTER);
	assert_true(LAYOUT_BOOT_STACK_POINTER < LAYOUT_PML4_START);
	assert_true(LAYOUT_PD_START + LAYOUT_PD_COUNT * LAYOUT_PAGE_SIZE <= LAYOUT_PAGE_TABLES_END);
	assert_true(LAYOUT_PAGE_TABLES_END <= LAYOUT_CMDLINE_START);
	assert_true(LAYOUT_CMDLINE_START + LAYOUT_CMDLINE_MAX <= LAYOUT_MPTABLE_START);
	assert_true(LAYOUT_MPTABLE_START + LAYOUT_MPTABLE_MAX <= LAYOUT_HIMEM_START);
}

static void boot_rejects_too_little_ram(void **state)
{
	struct fixture *f = *state;
	struct test_vm small;
	struct image kernel;

	/* 16 MiB cannot hold the 16 MiB-aligned decompression range. */
	test_vm_init(&small, 16 << 20);
	bzb_image(&f->bz, &kernel);
	assert_int_not_equal(boot_load(&small.mem, &kernel, NULL, "", NULL, &f->boot, &f->d), 0);
	assert_non_null(strstr(f->d.msg, "(B9)"));
	test_vm_free(&small);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(bzimage_zero_page), T(elf_zero_page_is_built), T(e820_small_guest),
		T(e820_large_guest_splits_around_gap), T(initrd_placed_high_and_aligned),
		T(b11_initrd_addr_max_respected), T(b11_initrd_above_init_size),
		T(b11_initrd_addr_max_u32_wrap), T(b11_initrd_too_big), T(b10_cmdline_limits),
		T(b10_cmdline_size_zero), T(b10_writes_only_the_line),
		T(cmdline_append_builds_and_rejects), T(l1_static_layout_disjoint),
		T(boot_rejects_too_little_ram), T(pvh_start_info_built),
		T(pvh_without_initrd_lists_no_module), T(entry64_option_and_bzimage_use_the_zero_page),
		T(pvh_memmap_bounded),
#undef T
	};

	return cmocka_run_group_tests_name("boot", tests, NULL, NULL);
}
