/* ELF loader: every E, S, N and F2 checklist item, and the unusual-but-valid cases. */
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
	struct elf_builder b;
	struct kernel_info info;
	struct diag d;
};

static int setup(void **state)
{
	static struct fixture f;

	memset(&f, 0, sizeof(f));
	test_vm_init(&f.vm, TEST_RAM_SIZE);
	elfb_init(&f.b);
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	elfb_free(&f->b);
	test_vm_free(&f->vm);
	return 0;
}

static int load(struct fixture *f)
{
	struct image img;

	elfb_image(&f->b, &img);
	return kernel_load(&f->vm.mem, &img, NULL, &f->info, &f->d);
}

/* The load fails, names the checklist item, and leaves guest memory untouched. */
static void expect_reject(struct fixture *f, const char *item)
{
	uint8_t zero[0x2000] = { 0 };

	assert_int_not_equal(load(f), 0);
	if (!strstr(f->d.msg, item))
		fail_msg("expected %s in: %s", item, f->d.msg);
	assert_non_null(strstr(f->d.msg, "test.elf"));
	assert_memory_equal(gmem_ptr(&f->vm.mem, 0x100000, sizeof(zero)), zero, sizeof(zero));
}

static void valid_image_loads(void **state)
{
	struct fixture *f = *state;
	uint8_t *seg;

	assert_int_equal(load(f), 0);
	assert_int_equal(f->info.format, KERNEL_ELF);
	assert_int_equal(f->info.entry, 0x100000);
	assert_int_equal(f->info.load_start, 0x100000);
	assert_int_equal(f->info.load_end, 0x102000);
	assert_false(f->info.has_pvh_entry);
	seg = gmem_ptr(&f->vm.mem, 0x100000, 0x2000);
	assert_memory_equal(seg, f->b.buf + 0x1000, 0x1000);
	for (size_t i = 0x1000; i < 0x2000; i++)
		assert_int_equal(seg[i], 0);
}

static void bss_is_zeroed_over_old_contents(void **state)
{
	struct fixture *f = *state;

	memset(gmem_ptr(&f->vm.mem, 0x101000, 0x1000), 0xaa, 0x1000);
	assert_int_equal(load(f), 0);
	for (size_t i = 0; i < 0x1000; i++)
		assert_int_equal(((uint8_t *)gmem_ptr(&f->vm.mem, 0x101000, 0x1000))[i], 0);
}

static void e0_short_file(void **state)
{
	struct fixture *f = *state;

	f->b.size = 63;
	expect_reject(f, "(E0)");
}

static void e1_class32(void **state)
{
	struct fixture *f = *state;

	f->b.eh->e_ident[EI_CLASS] = ELFCLASS32;
	expect_reject(f, "(E1)");
}

static void e1_big_endian(void **state)
{
	struct fixture *f = *state;

	f->b.eh->e_ident[EI_DATA] = 2;
	expect_reject(f, "(E1)");
}

static void e1_versions(void **state)
{
	struct fixture *f = *state;

	f->b.eh->e_ident[EI_VERSION] = 0;
	expect_reject(f, "(E1)");
	f->b.eh->e_ident[EI_VERSION] = EV_CURRENT;
	f->b.eh->e_version = 2;
	expect_reject(f, "e_version");
}

static void e2_type_and_machine(void **state)
{
	struct fixture *f = *state;

	f->b.eh->e_type = ET_DYN;
	expect_reject(f, "(E2)");
	f->b.eh->e_type = ET_EXEC;
	f->b.eh->e_machine = EM_386;
	expect_reject(f, "e_machine 3");
}

static void e3_sizes(void **state)
{
	struct fixture *f = *state;

	f->b.eh->e_ehsize = 52;
	expect_reject(f, "(E3)");
	f->b.eh->e_ehsize = 64;
	f->b.eh->e_phentsize = 32;
	expect_reject(f, "e_phentsize");
}

static void e4_phnum(void **state)
{
	struct fixture *f = *state;

	f->b.eh->e_phnum = 0;
	expect_reject(f, "(E4)");
	f->b.eh->e_phnum = PN_XNUM;
	expect_reject(f, "(E4)");
	f->b.eh->e_phnum = 65;
	expect_reject(f, "(E4)");
}

static void e5_phoff(void **state)
{
	struct fixture *f = *state;

	f->b.eh->e_phoff = 10;
	expect_reject(f, "(E5)");
	f->b.eh->e_phoff = f->b.size - 10;
	expect_reject(f, "(E5)");
	f->b.eh->e_phoff = UINT64_MAX - 20;
	expect_reject(f, "(E5)");
}

static void e6_section_headers_ignored(void **state)
{
	struct fixture *f = *state;

	f->b.eh->e_shoff = UINT64_MAX;
	f->b.eh->e_shnum = 0xffff;
	f->b.eh->e_shentsize = 1;
	assert_int_equal(load(f), 0);
}

static void s1_filesz_above_memsz(void **state)
{
	struct fixture *f = *state;

	elfb_phdr(&f->b, 0)->p_memsz = 0x800;
	expect_reject(f, "(S1)");
}

static void s2_segment_past_eof(void **state)
{
	struct fixture *f = *state;

	elfb_phdr(&f->b, 0)->p_offset = 0x1001;
	expect_reject(f, "(S2)");
	elfb_phdr(&f->b, 0)->p_offset = UINT64_MAX - 0x10;
	expect_reject(f, "(S2)");
}

static void s3_outside_ram_and_wrap(void **state)
{
	struct fixture *f = *state;
	Elf64_Phdr *ph = elfb_phdr(&f->b, 0);

	/* The bss tail, not the file bytes, runs off the end of RAM. */
	ph->p_paddr = TEST_RAM_SIZE - 0x1000;
	f->b.eh->e_entry = ph->p_paddr;
	expect_reject(f, "(S3)");
	ph->p_paddr = UINT64_MAX - 0x1000;
	f->b.eh->e_entry = ph->p_paddr;
	expect_reject(f, "(S3)");
	ph->p_paddr = 0xd0000000;
	f->b.eh->e_entry = ph->p_paddr;
	expect_reject(f, "(S3)");
}

static void s4_below_1mib(void **state)
{
	struct fixture *f = *state;

	elfb_phdr(&f->b, 0)->p_paddr = 0x7000;
	f->b.eh->e_entry = 0x7000;
	expect_reject(f, "(S4)");
}

static void s5_overlap(void **state)
{
	struct fixture *f = *state;

	elfb_add(&f->b, PT_LOAD, 0x2000, 0x101800, 0x100, 0x100, 0x1000);
	f->b.size = 0x2100;
	expect_reject(f, "(S5)");
}

static void s5_adjacent_segments_load(void **state)
{
	struct fixture *f = *state;

	elfb_add(&f->b, PT_LOAD, 0x2000, 0x102000, 0x100, 0x100, 0x1000);
	f->b.buf[0x2000] = 0x5a;
	assert_int_equal(load(f), 0);
	assert_int_equal(f->info.load_end, 0x102100);
	assert_int_equal(*(uint8_t *)gmem_ptr(&f->vm.mem, 0x102000, 1), 0x5a);
}

static void s6_align(void **state)
{
	struct fixture *f = *state;

	elfb_phdr(&f->b, 0)->p_align = 3;
	expect_reject(f, "(S6)");
	elfb_phdr(&f->b, 0)->p_align = 0;
	assert_int_equal(load(f), 0);
	elfb_phdr(&f->b, 0)->p_align = 1;
	assert_int_equal(load(f), 0);
}

static void s6_unsorted_segments_load(void **state)
{
	struct fixture *f = *state;

	/* Like vmlinux's .data..percpu: listed after, placed before, p_vaddr 0. */
	unsigned int i = elfb_add(&f->b, PT_LOAD, 0x2000, 0x200000, 0x100, 0x100, 0x1000);

	elfb_phdr(&f->b, 0)->p_paddr = 0x300000;
	f->b.eh->e_entry = 0x300000;
	elfb_phdr(&f->b, i)->p_vaddr = 0;
	assert_int_equal(load(f), 0);
	assert_int_equal(f->info.load_start, 0x200000);
	assert_int_equal(f->info.load_end, 0x302000);
}

static void s7_bss_only_segment_counts(void **state)
{
	struct fixture *f = *state;

	elfb_add(&f->b, PT_LOAD, 0, 0x400000, 0, 0x3000, 0x1000);
	memset(gmem_ptr(&f->vm.mem, 0x400000, 0x3000), 0xcc, 0x3000);
	assert_int_equal(load(f), 0);
	assert_int_equal(f->info.load_end, 0x403000);
	for (size_t i = 0; i < 0x3000; i++)
		assert_int_equal(((uint8_t *)gmem_ptr(&f->vm.mem, 0x400000, 0x3000))[i], 0);
}

static void s8_no_loadable_segment(void **state)
{
	struct fixture *f = *state;

	elfb_phdr(&f->b, 0)->p_type = PT_NULL;
	expect_reject(f, "(S8)");
	elfb_phdr(&f->b, 0)->p_type = PT_LOAD;
	elfb_phdr(&f->b, 0)->p_memsz = 0;
	elfb_phdr(&f->b, 0)->p_filesz = 0;
	expect_reject(f, "(S8)");
}

static void s8_unknown_types_ignored(void **state)
{
	struct fixture *f = *state;

	elfb_add(&f->b, 0x6474e551 /* PT_GNU_STACK */, 0, 0, 0, 0, 16);
	elfb_add(&f->b, 0x70000001, UINT64_MAX, UINT64_MAX, UINT64_MAX, 0, 3);
	assert_int_equal(load(f), 0);
}

static void s9_entry(void **state)
{
	struct fixture *f = *state;

	f->b.eh->e_entry = 0;
	expect_reject(f, "(S9)");
	f->b.eh->e_entry = 0xffffffff81000000ULL;
	expect_reject(f, "(S9)");
	/* In the bss, not in the file-backed bytes. */
	f->b.eh->e_entry = 0x101000;
	expect_reject(f, "(S9)");
	f->b.eh->e_entry = 0x100fff;
	assert_int_equal(load(f), 0);
}

static void n_pvh_note_found(void **state)
{
	struct fixture *f = *state;

	elfb_add_pvh_note(&f->b, 0x800, 0x100040, 8, 4);
	assert_int_equal(load(f), 0);
	assert_true(f->info.has_pvh_entry);
	assert_int_equal(f->info.pvh_entry, 0x100040);
}

static void n2_notes_with_p_align_8(void **state)
{
	struct fixture *f = *state;
	Elf64_Nhdr other = { .n_namesz = 5, .n_descsz = 4, .n_type = 1 };

	/* A first note with a 5-byte name: 4-byte alignment puts the next at +24, p_align 8 would say +28. */
	memcpy(f->b.buf + 0x800, &other, sizeof(other));
	memcpy(f->b.buf + 0x80c, "GNU\0\0", 5);
	elfb_add_pvh_note(&f->b, 0x800 + 12 + 8 + 4, 0x100080, 8, 8);
	elfb_phdr(&f->b, 1)->p_offset = 0x800;
	elfb_phdr(&f->b, 1)->p_filesz += 12 + 8 + 4;
	assert_int_equal(load(f), 0);
	assert_true(f->info.has_pvh_entry);
	assert_int_equal(f->info.pvh_entry, 0x100080);
}

static void n1_note_past_eof(void **state)
{
	struct fixture *f = *state;
	unsigned int i = elfb_add_pvh_note(&f->b, 0x800, 0x100040, 8, 4);

	elfb_phdr(&f->b, i)->p_offset = f->b.size - 4;
	expect_reject(f, "(N1)");
}

static void n2_note_sizes_overflow(void **state)
{
	struct fixture *f = *state;
	Elf64_Nhdr nh = { .n_namesz = 0xfffffff0, .n_descsz = 0xfffffff0, .n_type = 18 };

	elfb_add_pvh_note(&f->b, 0x800, 0x100040, 8, 4);
	memcpy(f->b.buf + 0x800, &nh, sizeof(nh));
	expect_reject(f, "(N2)");
}

static void n3_short_desc(void **state)
{
	struct fixture *f = *state;

	elfb_add_pvh_note(&f->b, 0x800, 0x100040, 2, 4);
	expect_reject(f, "(N3)");
}

static void n3_entry_outside_segments(void **state)
{
	struct fixture *f = *state;

	elfb_add_pvh_note(&f->b, 0x800, 0x200000, 8, 4);
	expect_reject(f, "(N3)");
}

static void f2_elf_error_is_final(void **state)
{
	struct fixture *f = *state;

	/* A valid-looking bzImage magic must not rescue a broken ELF. */
	memcpy(f->b.buf + 0x202, "HdrS", 4);
	f->b.eh->e_ident[EI_CLASS] = ELFCLASS32;
	expect_reject(f, "(E1)");
}

static void relocation_offset_applies(void **state)
{
	struct fixture *f = *state;
	struct kernel_load_opts opts = { .relocate = true, .load_offset = 0x200000 };
	struct image img;

	elfb_add_pvh_note(&f->b, 0x800, 0x100040, 8, 4);
	elfb_image(&f->b, &img);
	assert_int_equal(elf_load(&f->vm.mem, &img, &opts, &f->info, &f->d), 0);
	assert_int_equal(f->info.entry, 0x300000);
	assert_int_equal(f->info.load_start, 0x300000);
	assert_int_equal(f->info.pvh_entry, 0x300040);
	assert_memory_equal(gmem_ptr(&f->vm.mem, 0x300000, 0x1000), f->b.buf + 0x1000, 0x1000);
}

static void trailing_bytes_ignored(void **state)
{
	struct fixture *f = *state;

	f->b.size += 0x1000;
	assert_int_equal(load(f), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(valid_image_loads), T(bss_is_zeroed_over_old_contents), T(e0_short_file),
		T(e1_class32), T(e1_big_endian), T(e1_versions), T(e2_type_and_machine),
		T(e3_sizes), T(e4_phnum), T(e5_phoff), T(e6_section_headers_ignored),
		T(s1_filesz_above_memsz), T(s2_segment_past_eof), T(s3_outside_ram_and_wrap),
		T(s4_below_1mib), T(s5_overlap), T(s5_adjacent_segments_load), T(s6_align),
		T(s6_unsorted_segments_load), T(s7_bss_only_segment_counts),
		T(s8_no_loadable_segment), T(s8_unknown_types_ignored), T(s9_entry),
		T(n_pvh_note_found), T(n2_notes_with_p_align_8), T(n1_note_past_eof),
		T(n2_note_sizes_overflow), T(n3_short_desc), T(n3_entry_outside_segments),
		T(f2_elf_error_is_final), T(relocation_offset_applies), T(trailing_bytes_ignored),
#undef T
	};

	return cmocka_run_group_tests_name("elf", tests, NULL, NULL);
}
