/* bzImage loader: every B1-B9 checklist item and the unusual-but-valid cases. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "images.h"
#include "microvm/loader.h"

struct fixture {
	struct test_vm vm;
	struct bz_builder b;
	struct kernel_info info;
	struct diag d;
};

static int setup(void **state)
{
	static struct fixture f;

	memset(&f, 0, sizeof(f));
	test_vm_init(&f.vm, TEST_RAM_SIZE);
	bzb_init(&f.b);
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	bzb_free(&f->b);
	test_vm_free(&f->vm);
	return 0;
}

static int load_opts(struct fixture *f, const struct kernel_load_opts *opts)
{
	struct image img;

	bzb_image(&f->b, &img);
	return kernel_load(&f->vm.mem, &img, opts, &f->info, &f->d);
}

static int load(struct fixture *f)
{
	return load_opts(f, NULL);
}

static void expect_reject(struct fixture *f, const char *item)
{
	uint8_t zero[0x4000] = { 0 };

	assert_int_not_equal(load(f), 0);
	if (!strstr(f->d.msg, item))
		fail_msg("expected %s in: %s", item, f->d.msg);
	assert_non_null(strstr(f->d.msg, "test.bzImage"));
	assert_memory_equal(gmem_ptr(&f->vm.mem, 0x100000, sizeof(zero)), zero, sizeof(zero));
}

static void valid_image_loads(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(load(f), 0);
	assert_int_equal(f->info.format, KERNEL_BZIMAGE);
	assert_int_equal(f->info.protocol, 0x020f);
	assert_int_equal(f->info.load_start, 0x100000);
	assert_int_equal(f->info.load_end, 0x104000);
	assert_int_equal(f->info.entry, 0x100200);
	/* Relocatable: max(align_up(1 MiB, 2 MiB), pref_address 16 MiB). */
	assert_int_equal(f->info.runtime_start, 0x1000000);
	assert_int_equal(f->info.runtime_end, 0x1100000);
	assert_int_equal(f->info.cmdline_max, 2047);
	assert_int_equal(f->info.initrd_max, 0x7fffffff);
	assert_int_equal(f->info.hdr.init_size, 0x100000);
	assert_memory_equal(gmem_ptr(&f->vm.mem, 0x100000, 0x4000), f->b.buf + 5 * 512, 0x4000);
}

static void b1_header_bounds(void **state)
{
	struct fixture *f = *state;

	f->b.buf[0x201] = 0x264 - 0x202 - 1;
	expect_reject(f, "(B1)");
	f->b.buf[0x201] = 0x6a;
	f->b.size = 0x260;
	expect_reject(f, "(B1)");
	f->b.size = 0x100;
	assert_int_not_equal(load(f), 0);
	assert_non_null(strstr(f->d.msg, "(F2)"));
}

static void b1_short_header_keeps_later_fields_zero(void **state)
{
	struct fixture *f = *state;

	/* A header that ends at 0x264 declares no kernel_info_offset: it must read as 0. */
	f->b.buf[0x201] = 0x264 - 0x202;
	f->b.hdr->kernel_info_offset = 0x12345678;
	assert_int_equal(load(f), 0);
	assert_int_equal(f->info.hdr.kernel_info_offset, 0);
}

/* syslinux's memdisk: protocol 2.03, whose header ends at 0x240, is refused for its version (B3), not its length. */
static void b1_old_protocol_short_header_names_version(void **state)
{
	struct fixture *f = *state;

	f->b.buf[0x201] = 0x240 - 0x202;
	f->b.hdr->version = 0x0203;
	expect_reject(f, "needs boot protocol 2.12 or newer (B3)");
	/* A 2.12 header must still reach init_size: that version has it. */
	f->b.hdr->version = 0x020c;
	expect_reject(f, "before init_size at 0x260, which boot protocol 2.12 has (B1)");
	/* The version itself must be inside the header. */
	f->b.buf[0x201] = 0x207 - 0x202;
	expect_reject(f, "before the version field at 0x206 (B1)");
}

static void b2_magics(void **state)
{
	struct fixture *f = *state;

	f->b.hdr->boot_flag = 0x55aa;
	expect_reject(f, "(B2)");
}

static void b3_protocol(void **state)
{
	struct fixture *f = *state;

	f->b.hdr->version = 0x01ff;
	expect_reject(f, "older than 2.00 (B3)");
	f->b.hdr->version = 0x020b;
	expect_reject(f, "2.12 or newer (B3)");
	f->b.hdr->version = 0x020c;
	f->b.hdr->loadflags = 0;
	expect_reject(f, "LOADED_HIGH");
	f->b.hdr->loadflags = LOADED_HIGH;
	f->b.hdr->xloadflags = 0;
	expect_reject(f, "XLF_KERNEL_64");
}

static void b4_setup_sects(void **state)
{
	struct fixture *f = *state;

	f->b.hdr->setup_sects = 200;
	expect_reject(f, "(B4)");
}

static void b4_setup_sects_zero_means_four(void **state)
{
	struct fixture *f = *state;

	f->b.hdr->setup_sects = 0;
	assert_int_equal(load(f), 0);
	assert_memory_equal(gmem_ptr(&f->vm.mem, 0x100000, 0x4000), f->b.buf + 5 * 512, 0x4000);
}

static void b5_syssize(void **state)
{
	struct fixture *f = *state;

	f->b.hdr->syssize = 0;
	expect_reject(f, "(B5)");
	f->b.hdr->syssize = 0x200 / 16;
	expect_reject(f, "(B5)");
	f->b.hdr->syssize = 0x4000 / 16 + 1;
	expect_reject(f, "(B5)");
	f->b.hdr->syssize = UINT32_MAX;
	expect_reject(f, "(B5)");
}

static void b5_trailing_bytes_not_loaded(void **state)
{
	struct fixture *f = *state;

	/* A signed distro kernel carries ~1.5 KiB after the payload. */
	memset(f->b.buf + f->b.size, 0xee, 0x600);
	f->b.size += 0x600;
	assert_int_equal(load(f), 0);
	assert_int_equal(f->info.load_end, 0x104000);
	assert_int_equal(*(uint8_t *)gmem_ptr(&f->vm.mem, 0x104000, 1), 0);
}

/*
 * syssize counts 16-byte paragraphs, so the file may end inside the last one (memtest86+
 * 6.10's memtest86+x64.bin ends 8 bytes early): the missing bytes load as zeros.
 */
static void b5_partial_last_paragraph(void **state)
{
	struct fixture *f = *state;
	uint8_t zero[8] = { 0 };

	memset(f->b.buf + f->b.size - 8, 0xee, 8);
	f->b.size -= 8;
	assert_int_equal(load(f), 0);
	assert_int_equal(f->info.load_end, 0x104000);
	assert_memory_equal(gmem_ptr(&f->vm.mem, 0x100000, 0x4000 - 8), f->b.buf + 5 * 512, 0x4000 - 8);
	assert_memory_equal(gmem_ptr(&f->vm.mem, 0x104000 - 8, 8), zero, 8);
	/* A whole paragraph missing is a header that lies about the file. */
	memset(gmem_ptr(&f->vm.mem, 0x100000, 0x4000), 0, 0x4000);
	f->b.size -= 8;
	expect_reject(f, "(B5)");
}

static void b6_payload(void **state)
{
	struct fixture *f = *state;

	f->b.hdr->payload_offset = 0x3000;
	f->b.hdr->payload_length = 0x1001;
	expect_reject(f, "(B6)");
	f->b.hdr->payload_offset = 0xffffffff;
	f->b.hdr->payload_length = 0xffffffff;
	expect_reject(f, "(B6)");
	f->b.hdr->payload_offset = 0x3000;
	f->b.hdr->payload_length = 0x1000;
	assert_int_equal(load(f), 0);
}

static void b7_load_address(void **state)
{
	struct fixture *f = *state;

	f->b.hdr->code32_start = 0x10000;
	expect_reject(f, "(B7)");
	f->b.hdr->code32_start = 0xfffff000;
	expect_reject(f, "(B7)");
	f->b.hdr->code32_start = TEST_RAM_SIZE - 0x1000;
	expect_reject(f, "(B7)");
}

static void b7_vmm_given_address(void **state)
{
	struct fixture *f = *state;
	struct kernel_load_opts opts = { .relocate = true, .load_addr = 0x400000 };

	assert_int_equal(load_opts(f, &opts), 0);
	assert_int_equal(f->info.entry, 0x400200);
	assert_int_equal(f->info.hdr.code32_start, 0x400000);
	assert_memory_equal(gmem_ptr(&f->vm.mem, 0x400000, 0x4000), f->b.buf + 5 * 512, 0x4000);
	opts.load_addr = 0x8000;
	assert_int_not_equal(load_opts(f, &opts), 0);
	assert_non_null(strstr(f->d.msg, "load address 0x8000"));
}

static void b8_alignment(void **state)
{
	struct fixture *f = *state;

	f->b.hdr->kernel_alignment = 0;
	expect_reject(f, "(B8)");
	f->b.hdr->kernel_alignment = 0x300000;
	expect_reject(f, "(B8)");
	f->b.hdr->kernel_alignment = 0x200000;
	f->b.hdr->min_alignment = 40;
	expect_reject(f, "(B8)");
	f->b.hdr->min_alignment = 22;
	expect_reject(f, "(B8)");
}

static void b8_not_relocatable_ignores_alignment(void **state)
{
	struct fixture *f = *state;

	f->b.hdr->relocatable_kernel = 0;
	f->b.hdr->kernel_alignment = 0;
	assert_int_equal(load(f), 0);
	assert_int_equal(f->info.runtime_start, 0x1000000);
}

static void b9_init_size(void **state)
{
	struct fixture *f = *state;

	f->b.hdr->init_size = 0;
	expect_reject(f, "(B9)");
	f->b.hdr->init_size = 0x3ff0;
	expect_reject(f, "(B9)");
	/* 16 MiB + 60 MiB runs past 64 MiB of RAM. */
	f->b.hdr->init_size = 60 << 20;
	expect_reject(f, "(B9)");
	f->b.hdr->init_size = 0x100000;
	f->b.hdr->pref_address = 0xfffffffffffff000ULL;
	expect_reject(f, "(B9)");
}

static void b9_runtime_below_load_overlapping(void **state)
{
	struct fixture *f = *state;
	struct kernel_load_opts opts = { .relocate = true, .load_addr = 0x1080000 };

	f->b.hdr->relocatable_kernel = 0;
	assert_int_not_equal(load_opts(f, &opts), 0);
	assert_non_null(strstr(f->d.msg, "(B9)"));
}

static void f2_neither_format(void **state)
{
	struct fixture *f = *state;

	f->b.hdr->header = 0;
	expect_reject(f, "(F2)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(valid_image_loads), T(b1_header_bounds), T(b1_short_header_keeps_later_fields_zero),
		T(b1_old_protocol_short_header_names_version),
		T(b2_magics), T(b3_protocol), T(b4_setup_sects), T(b4_setup_sects_zero_means_four),
		T(b5_syssize), T(b5_trailing_bytes_not_loaded),
		T(b5_partial_last_paragraph), T(b6_payload), T(b7_load_address),
		T(b7_vmm_given_address), T(b8_alignment), T(b8_not_relocatable_ignores_alignment),
		T(b9_init_size), T(b9_runtime_below_load_overlapping), T(f2_neither_format),
#undef T
	};

	return cmocka_run_group_tests_name("bzimage", tests, NULL, NULL);
}
