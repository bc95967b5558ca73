/* Guest page-table walks: every paging mode, large pages, and hostile tables. */
#include <setjmp.h>
#include <stdarg.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <asm/processor-flags.h>

#include "arch/x86/layout.h"
#include "arch/x86/pagewalk.h"
#include "microvm/gmem.h"

#define RAM (8 * LAYOUT_MIB)
#define EFER_LMA (1ULL << 10)
#define P 0x1ULL
#define RW 0x2ULL
#define PS 0x80ULL
#define NX (1ULL << 63)

/* Where the tables live (physical) in the test guest. */
#define PML4 0x10000ULL
#define PDPT 0x11000ULL
#define PD 0x12000ULL
#define PT 0x13000ULL
#define KERNEL_VA 0xffffffff81000000ULL

struct fixture {
	uint8_t *host;
	struct gmem mem;
	struct pagewalk_ctx ctx;
};

static void put64(struct fixture *f, uint64_t gpa, uint64_t v)
{
	assert_int_equal(gmem_write(&f->mem, gpa, &v, sizeof(v)), 0);
}

static void put32(struct fixture *f, uint64_t gpa, uint32_t v)
{
	assert_int_equal(gmem_write(&f->mem, gpa, &v, sizeof(v)), 0);
}

static unsigned int idx(uint64_t va, unsigned int level)
{
	return (unsigned int)((va >> (12 + 9 * (level - 1))) & 511);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	f->host = calloc(1, RAM);
	if (!f->host || gmem_wrap(&f->mem, f->host, RAM))
		return -1;
	f->ctx = (struct pagewalk_ctx){
		.cr0 = X86_CR0_PE | X86_CR0_PG, .cr3 = PML4, .cr4 = X86_CR4_PAE, .efer = EFER_LMA,
	};
	/* KERNEL_VA -> 4 KiB page at 0x200000; KERNEL_VA + 2 MiB -> 2 MiB page at 0x400000. */
	put64(f, PML4 + idx(KERNEL_VA, 4) * 8, PDPT | P | RW);
	put64(f, PDPT + idx(KERNEL_VA, 3) * 8, PD | P | RW);
	put64(f, PD + idx(KERNEL_VA, 2) * 8, PT | P | RW);
	put64(f, PT + idx(KERNEL_VA, 1) * 8, 0x200000ULL | P | NX);
	put64(f, PT + idx(KERNEL_VA + 0x1000, 1) * 8, 0x300000ULL | P);
	put64(f, PD + idx(KERNEL_VA + 0x200000, 2) * 8, 0x400000ULL | P | PS);
	/* PML4[0] -> a 1 GiB page at 0 through the same PDPT layout, in a second PDPT. */
	put64(f, PML4, 0x14000ULL | P);
	put64(f, 0x14000ULL, 0 | P | PS);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	free(f->host);
	free(f);
	return 0;
}

static void four_level_4k(void **state)
{
	struct fixture *f = *state;
	uint64_t gpa;

	assert_int_equal(pagewalk_translate(&f->mem, &f->ctx, KERNEL_VA + 0x123, &gpa), 0);
	assert_int_equal(gpa, 0x200123);
	/* NX and other high bits do not leak into the address. */
	assert_int_equal(pagewalk_translate(&f->mem, &f->ctx, KERNEL_VA + 0x1fff, &gpa), 0);
	assert_int_equal(gpa, 0x300fff);
}

static void four_level_large(void **state)
{
	struct fixture *f = *state;
	uint64_t gpa;

	assert_int_equal(pagewalk_translate(&f->mem, &f->ctx, KERNEL_VA + 0x200000 + 0x12345, &gpa), 0);
	assert_int_equal(gpa, 0x412345);
	assert_int_equal(pagewalk_translate(&f->mem, &f->ctx, 0x3456789ULL, &gpa), 0);
	assert_int_equal(gpa, 0x3456789ULL);
}

static void not_present_and_noncanonical(void **state)
{
	struct fixture *f = *state;
	uint64_t gpa;

	assert_int_equal(pagewalk_translate(&f->mem, &f->ctx, KERNEL_VA + 0x2000, &gpa), -EFAULT);
	assert_int_equal(pagewalk_translate(&f->mem, &f->ctx, 0x0000800000000000ULL, &gpa), -EFAULT);
	assert_int_equal(pagewalk_translate(&f->mem, &f->ctx, 0x00007f0000000000ULL, &gpa), -EFAULT);
}

static void tables_outside_ram(void **state)
{
	struct fixture *f = *state;
	uint64_t gpa;

	/* A PD entry pointing far past RAM, and a CR3 past RAM: refused, never dereferenced. */
	put64(f, PD + idx(KERNEL_VA + 0x400000, 2) * 8, 0x000fffffffff0000ULL | P);
	assert_int_equal(pagewalk_translate(&f->mem, &f->ctx, KERNEL_VA + 0x400000, &gpa), -EFAULT);
	f->ctx.cr3 = RAM;
	assert_int_equal(pagewalk_translate(&f->mem, &f->ctx, KERNEL_VA, &gpa), -EFAULT);
	f->ctx.cr3 = 0xfffffffffffff000ULL;
	assert_int_equal(pagewalk_translate(&f->mem, &f->ctx, KERNEL_VA, &gpa), -EFAULT);
}

static void read_across_pages(void **state)
{
	struct fixture *f = *state;
	uint8_t buf[15];

	memset(f->host + 0x200ff8, 0xaa, 8);
	memset(f->host + 0x300000, 0xbb, 7);
	assert_int_equal(pagewalk_read(&f->mem, &f->ctx, KERNEL_VA + 0xff8, buf, sizeof(buf)), 15);
	assert_int_equal(buf[7], 0xaa);
	assert_int_equal(buf[8], 0xbb);
	/* The next page is not mapped: the read stops at the boundary. */
	assert_int_equal(pagewalk_read(&f->mem, &f->ctx, KERNEL_VA + 0x1ffc, buf, sizeof(buf)), 4);
	/* Past the top of the address space. */
	assert_int_equal(pagewalk_read(&f->mem, &f->ctx, 0xfffffffffffffff8ULL, buf, sizeof(buf)), 0);
}

static void no_paging(void **state)
{
	struct fixture *f = *state;
	uint64_t gpa;
	uint8_t buf[4];

	f->ctx.cr0 = X86_CR0_PE;
	assert_int_equal(pagewalk_translate(&f->mem, &f->ctx, 0x1234, &gpa), 0);
	assert_int_equal(gpa, 0x1234);
	/* Physical reads still stop at the end of RAM. */
	assert_int_equal(pagewalk_read(&f->mem, &f->ctx, RAM - 2, buf, sizeof(buf)), 2);
}

static void pae_32bit(void **state)
{
	struct fixture *f = *state;
	uint64_t gpa;

	f->ctx = (struct pagewalk_ctx){ .cr0 = X86_CR0_PE | X86_CR0_PG, .cr3 = 0x20000, .cr4 = X86_CR4_PAE };
	put64(f, 0x20000 + 3 * 8, 0x21000 | P);                  /* 0xc0000000 - 0xffffffff */
	put64(f, 0x21000 + 1 * 8, 0x600000 | P | PS);            /* 0xc0200000 -> 0x600000 */
	assert_int_equal(pagewalk_translate(&f->mem, &f->ctx, 0xc0212345ULL, &gpa), 0);
	assert_int_equal(gpa, 0x612345);
}

static void legacy_32bit(void **state)
{
	struct fixture *f = *state;
	uint64_t gpa;

	f->ctx = (struct pagewalk_ctx){ .cr0 = X86_CR0_PE | X86_CR0_PG, .cr3 = 0x30000, .cr4 = X86_CR4_PSE };
	put32(f, 0x30000 + 0x300 * 4, 0x400000 | P | PS);        /* 4 MiB page at 0xc0000000 */
	put32(f, 0x30000 + 0x001 * 4, 0x31000 | P);
	put32(f, 0x31000 + 0x002 * 4, 0x5000 | P);               /* 0x402000 -> 0x5000 */
	assert_int_equal(pagewalk_translate(&f->mem, &f->ctx, 0xc0123456ULL, &gpa), 0);
	assert_int_equal(gpa, 0x523456);
	assert_int_equal(pagewalk_translate(&f->mem, &f->ctx, 0x402abcULL, &gpa), 0);
	assert_int_equal(gpa, 0x5abc);
	assert_int_equal(pagewalk_translate(&f->mem, &f->ctx, 0x803000ULL, &gpa), -EFAULT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(four_level_4k, setup, teardown),
		cmocka_unit_test_setup_teardown(four_level_large, setup, teardown),
		cmocka_unit_test_setup_teardown(not_present_and_noncanonical, setup, teardown),
		cmocka_unit_test_setup_teardown(tables_outside_ram, setup, teardown),
		cmocka_unit_test_setup_teardown(read_across_pages, setup, teardown),
		cmocka_unit_test_setup_teardown(no_paging, setup, teardown),
		cmocka_unit_test_setup_teardown(pae_32bit, setup, teardown),
		cmocka_unit_test_setup_teardown(legacy_32bit, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
