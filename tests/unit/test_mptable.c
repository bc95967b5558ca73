/* The MP table: signatures, checksums, entry counts and layout, as Linux parses it. */
#include <setjmp.h>
#include <stdarg.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "arch/x86/layout.h"
#include "arch/x86/mptable.h"
#include "microvm/gmem.h"
#include "table_sum.h"

#define RAM (4 * LAYOUT_MIB)

struct fixture {
	void *host;
	struct gmem mem;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	f->host = calloc(1, RAM);
	if (!f->host || gmem_wrap(&f->mem, f->host, RAM))
		return -1;
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

static const uint8_t *at(struct fixture *f, uint64_t gpa, uint64_t len)
{
	const uint8_t *p = gmem_ptr(&f->mem, gpa, len);

	assert_non_null(p);
	return p;
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

/* Walks the configuration table as Linux's smp_read_mpc() does and counts entry types. */
static void check_table(struct fixture *f, unsigned int ncpus)
{
	const uint8_t *mpf = at(f, LAYOUT_MPTABLE_START, 16);
	unsigned int counts[5] = { 0 }, bsp = 0;

	assert_memory_equal(mpf, "_MP_", 4);
	assert_int_equal(mpf[8], 1);   /* one paragraph */
	assert_int_equal(mpf[9], 4);   /* spec 1.4 */
	assert_int_equal(sum(mpf, 16), 0);
	assert_int_equal(mpf[11], 0);  /* feature1 0: a configuration table follows */
	/* Linux scans 16-byte aligned candidates. */
	assert_int_equal(LAYOUT_MPTABLE_START % 16, 0);

	uint32_t physptr = le32(mpf + 4);
	const uint8_t *mpc = at(f, physptr, 44);
	uint16_t length = le16(mpc + 4);

	assert_memory_equal(mpc, "PCMP", 4);
	assert_int_equal(mpc[6], 4);
	assert_int_equal(le32(mpc + 36), LAYOUT_LAPIC_ADDR);
	assert_true(physptr + length <= LAYOUT_MPTABLE_START + LAYOUT_MPTABLE_MAX);
	assert_int_equal(16 + length, mptable_size(ncpus));
	mpc = at(f, physptr, length);
	assert_int_equal(sum(mpc, length), 0);

	size_t off = 44;
	unsigned int entries = 0;

	while (off < length) {
		uint8_t type = mpc[off];

		assert_true(type <= 4);
		counts[type]++;
		entries++;
		switch (type) {
		case 0:
			assert_int_equal(mpc[off + 1], counts[0] - 1); /* APIC ID = index */
			assert_true(mpc[off + 3] & 1);                 /* enabled */
			if (mpc[off + 3] & 2)
				bsp++;
			off += 20;
			break;
		case 1:
			assert_memory_equal(mpc + off + 2, "ISA   ", 6);
			off += 8;
			break;
		case 2:
			assert_int_equal(mpc[off + 1], ncpus); /* IOAPIC ID after the CPUs' */
			assert_int_equal(le32(mpc + off + 4), LAYOUT_IOAPIC_ADDR);
			off += 8;
			break;
		case 3:
			/* IRQ n on IOAPIC pin n, every pin */
			assert_int_equal(mpc[off + 5], mpc[off + 7]);
			assert_int_equal(mpc[off + 6], ncpus);
			off += 8;
			break;
		default:
			off += 8;
			break;
		}
	}
	assert_int_equal(off, length);
	assert_int_equal(le16(mpc + 34), entries);
	assert_int_equal(counts[0], ncpus);
	assert_int_equal(bsp, 1);
	assert_int_equal(counts[1], 1);
	assert_int_equal(counts[2], 1);
	assert_int_equal(counts[3], MPTABLE_IOAPIC_PINS);
	assert_int_equal(counts[4], 2);
}

static void one_cpu(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(mptable_write(&f->mem, 1), 0);
	check_table(f, 1);
}

static void four_cpus(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(mptable_write(&f->mem, 4), 0);
	check_table(f, 4);
}

static void max_cpus_fit(void **state)
{
	struct fixture *f = *state;

	assert_true(mptable_size(MPTABLE_MAX_CPUS) <= LAYOUT_MPTABLE_MAX);
	assert_int_equal(mptable_write(&f->mem, MPTABLE_MAX_CPUS), 0);
	check_table(f, MPTABLE_MAX_CPUS);
}

static void bad_counts(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(mptable_write(&f->mem, 0), -EINVAL);
	assert_int_equal(mptable_write(&f->mem, MPTABLE_MAX_CPUS + 1), -EINVAL);
	assert_int_equal(mptable_write(&f->mem, 10000), -EINVAL);
}

static void no_room_in_guest(void **state)
{
	(void)state;
	/* The table lies below 1 MiB, always RAM here: an empty gmem must fail, not write. */
	struct gmem empty = { .nr_regions = 0 };

	assert_int_equal(mptable_write(&empty, 1), -EFAULT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(one_cpu, setup, teardown),
		cmocka_unit_test_setup_teardown(four_cpus, setup, teardown),
		cmocka_unit_test_setup_teardown(max_cpus_fit, setup, teardown),
		cmocka_unit_test_setup_teardown(bad_counts, setup, teardown),
		cmocka_unit_test(no_room_in_guest),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
