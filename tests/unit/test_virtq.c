/*
 * The virtqueue parser against crafted rings in plain calloc'd guest memory:
 * ring validation at QueueReady, wrapping indices, loops, buffers outside or
 * straddling guest RAM, zero and huge lengths, indirect tables, corrupt indices.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <linux/virtio_ring.h>

#include "microvm/gmem.h"
#include "microvm/virtq.h"

#define RAM (2ULL << 20)
#define DESC 0x1000ULL
#define AVAIL 0x3000ULL
#define USED 0x4000ULL
#define BUF 0x10000ULL
#define INDIRECT 0x8000ULL

struct fixture {
	uint8_t *ram;
	struct gmem mem;
	struct virtq q;
	struct virtq_chain c;
	uint16_t avail_idx;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->ram = calloc(1, RAM);
	assert_non_null(f->ram);
	assert_int_equal(gmem_wrap(&f->mem, f->ram, RAM), 0);
	f->q.max_size = VIRTQ_MAX_SIZE;
	virtq_reset(&f->q);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	free(f->ram);
	free(f);
	return 0;
}

/* Sets the layout and makes the queue ready. */
static void enable(struct fixture *f, uint16_t size)
{
	const char *why = NULL;

	f->q.num = size;
	f->q.desc = DESC;
	f->q.avail = AVAIL;
	f->q.used = USED;
	assert_int_equal(virtq_enable(&f->q, &f->mem, &why), 0);
	assert_null(why);
}

static void put_desc(struct fixture *f, uint64_t table, uint16_t i, uint64_t addr, uint32_t len,
		     uint16_t flags, uint16_t next)
{
	struct vring_desc d = { .addr = addr, .len = len, .flags = flags, .next = next };

	memcpy(f->ram + table + 16ULL * i, &d, sizeof(d));
}

static void wr16(struct fixture *f, uint64_t gpa, uint16_t v)
{
	memcpy(f->ram + gpa, &v, 2);
}

static uint16_t rd16(struct fixture *f, uint64_t gpa)
{
	uint16_t v;

	memcpy(&v, f->ram + gpa, 2);
	return v;
}

static uint32_t rd32(struct fixture *f, uint64_t gpa)
{
	uint32_t v;

	memcpy(&v, f->ram + gpa, 4);
	return v;
}

/* Offers the chain starting at head. */
static void offer(struct fixture *f, uint16_t head)
{
	wr16(f, AVAIL + 4 + 2ULL * (f->avail_idx % f->q.size), head);
	f->avail_idx++;
	wr16(f, AVAIL + 2, f->avail_idx);
}

static enum virtq_pop_result pop(struct fixture *f)
{
	return virtq_pop(&f->q, &f->mem, &f->c);
}

static void simple_chain(void **state)
{
	struct fixture *f = *state;

	enable(f, 8);
	assert_int_equal(pop(f), VIRTQ_EMPTY);
	put_desc(f, DESC, 3, BUF, 16, VRING_DESC_F_NEXT, 5);
	put_desc(f, DESC, 5, BUF + 0x100, 512, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 7);
	put_desc(f, DESC, 7, BUF + 0x400, 1, VRING_DESC_F_WRITE, 0);
	offer(f, 3);
	assert_int_equal(pop(f), VIRTQ_CHAIN);
	assert_int_equal(f->c.head, 3);
	assert_int_equal(f->c.nr_read, 1);
	assert_int_equal(f->c.nr_write, 2);
	assert_int_equal(f->c.read_len, 16);
	assert_int_equal(f->c.write_len, 513);
	assert_int_equal(f->c.segs[1].gpa, BUF + 0x100);
	assert_int_equal(pop(f), VIRTQ_EMPTY);

	assert_int_equal(virtq_push(&f->q, &f->mem, 3, 513), 0);
	assert_int_equal(rd16(f, USED + 2), 1);
	assert_int_equal(rd32(f, USED + 4), 3);
	assert_int_equal(rd32(f, USED + 8), 513);
	assert_true(virtq_wants_interrupt(&f->q, &f->mem));
	wr16(f, AVAIL, VRING_AVAIL_F_NO_INTERRUPT);
	assert_false(virtq_wants_interrupt(&f->q, &f->mem));
}

static void wrapping_indices(void **state)
{
	struct fixture *f = *state;

	enable(f, 4);
	/* Both sides are about to wrap: 0xfffe, 0xffff, then 0. */
	f->q.next_avail = f->q.next_used = 0xfffe;
	f->avail_idx = 0xfffe;
	wr16(f, USED + 2, 0xfffe);
	for (uint16_t i = 0; i < 3; i++) {
		put_desc(f, DESC, i, BUF + 0x100ULL * i, 8, VRING_DESC_F_WRITE, 0);
		offer(f, i);
	}
	assert_int_equal(rd16(f, AVAIL + 2), 1);
	for (uint16_t i = 0; i < 3; i++) {
		assert_int_equal(pop(f), VIRTQ_CHAIN);
		assert_int_equal(f->c.head, i);
		assert_int_equal(virtq_push(&f->q, &f->mem, i, i), 0);
	}
	assert_int_equal(pop(f), VIRTQ_EMPTY);
	assert_int_equal(rd16(f, USED + 2), 1);
	/* Entries 0xfffe % 4 = 2, 3 and 0 of the used ring. */
	assert_int_equal(rd32(f, USED + 4 + 8 * 2), 0);
	assert_int_equal(rd32(f, USED + 4 + 8 * 3), 1);
	assert_int_equal(rd32(f, USED + 4 + 8 * 0), 2);
}

static void loops(void **state)
{
	struct fixture *f = *state;

	enable(f, 4);
	/* 0 -> 1 -> 0 ... */
	put_desc(f, DESC, 0, BUF, 8, VRING_DESC_F_NEXT, 1);
	put_desc(f, DESC, 1, BUF, 8, VRING_DESC_F_NEXT, 0);
	offer(f, 0);
	assert_int_equal(pop(f), VIRTQ_BAD_CHAIN);
	assert_int_equal(f->c.head, 0);
	assert_non_null(strstr(f->c.fault, "loop"));
	/* A descriptor that names itself. */
	put_desc(f, DESC, 2, BUF, 8, VRING_DESC_F_NEXT, 2);
	offer(f, 2);
	assert_int_equal(pop(f), VIRTQ_BAD_CHAIN);
	/* A chain using every descriptor once is fine. */
	put_desc(f, DESC, 0, BUF, 8, VRING_DESC_F_NEXT, 1);
	put_desc(f, DESC, 1, BUF, 8, VRING_DESC_F_NEXT, 2);
	put_desc(f, DESC, 2, BUF, 8, VRING_DESC_F_NEXT, 3);
	put_desc(f, DESC, 3, BUF, 8, 0, 0);
	offer(f, 0);
	assert_int_equal(pop(f), VIRTQ_CHAIN);
	assert_int_equal(f->c.nr_read, 4);
	/* ... and one more link makes it a loop. */
	put_desc(f, DESC, 3, BUF, 8, VRING_DESC_F_NEXT, 0);
	offer(f, 0);
	assert_int_equal(pop(f), VIRTQ_BAD_CHAIN);
	/* The queue goes on after bad chains. */
	put_desc(f, DESC, 1, BUF, 8, 0, 0);
	offer(f, 1);
	assert_int_equal(pop(f), VIRTQ_CHAIN);
}

static void expect_bad(struct fixture *f, uint64_t addr, uint32_t len, uint16_t flags,
		       const char *fault)
{
	put_desc(f, DESC, 0, addr, len, flags, 0);
	offer(f, 0);
	assert_int_equal(pop(f), VIRTQ_BAD_CHAIN);
	assert_non_null(strstr(f->c.fault, fault));
}

static void buffers_outside_ram(void **state)
{
	struct fixture *f = *state;

	enable(f, 4);
	expect_bad(f, RAM, 1, 0, "outside");                         /* just past the end */
	expect_bad(f, RAM - 8, 16, VRING_DESC_F_WRITE, "outside");   /* straddling the end */
	expect_bad(f, 0xfffffffffffffff0ULL, 0x20, 0, "outside");    /* wrapping around */
	expect_bad(f, 0xd0000000ULL, 4, 0, "outside");               /* the MMIO gap */
	expect_bad(f, 0, 0xffffffffu, VRING_DESC_F_WRITE, "outside"); /* huge */
	expect_bad(f, BUF, 0, 0, "zero-length");
	/* The last byte of RAM is fine. */
	put_desc(f, DESC, 0, RAM - 1, 1, VRING_DESC_F_WRITE, 0);
	offer(f, 0);
	assert_int_equal(pop(f), VIRTQ_CHAIN);
}

static void chain_order_and_range(void **state)
{
	struct fixture *f = *state;

	enable(f, 4);
	/* Readable after writable. */
	put_desc(f, DESC, 0, BUF, 8, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1);
	put_desc(f, DESC, 1, BUF, 8, 0, 0);
	offer(f, 0);
	assert_int_equal(pop(f), VIRTQ_BAD_CHAIN);
	/* next past the table. */
	put_desc(f, DESC, 0, BUF, 8, VRING_DESC_F_NEXT, 4);
	offer(f, 0);
	assert_int_equal(pop(f), VIRTQ_BAD_CHAIN);
	assert_non_null(strstr(f->c.fault, "out of range"));
}

static void corrupt_avail(void **state)
{
	struct fixture *f = *state;

	enable(f, 4);
	/* A head outside the table. */
	put_desc(f, DESC, 0, BUF, 8, 0, 0);
	offer(f, 4);
	assert_int_equal(pop(f), VIRTQ_BROKEN);

	virtq_reset(&f->q);
	f->avail_idx = 0;
	enable(f, 4);
	/* The index jumps by more than the queue size. */
	wr16(f, AVAIL + 2, 5);
	assert_int_equal(pop(f), VIRTQ_BROKEN);
	/* ... or backwards (0xffff chains outstanding). */
	wr16(f, AVAIL + 2, 0xffff);
	assert_int_equal(pop(f), VIRTQ_BROKEN);
	/* Exactly the queue size is allowed. */
	for (uint16_t i = 0; i < 4; i++) {
		put_desc(f, DESC, i, BUF, 8, 0, 0);
		wr16(f, AVAIL + 4 + 2ULL * i, i);
	}
	wr16(f, AVAIL + 2, 4);
	for (uint16_t i = 0; i < 4; i++)
		assert_int_equal(pop(f), VIRTQ_CHAIN);
	assert_int_equal(pop(f), VIRTQ_EMPTY);
}

static void expect_enable_fails(struct fixture *f, uint32_t num, uint64_t desc, uint64_t avail,
				uint64_t used, const char *why_part)
{
	const char *why = NULL;

	virtq_reset(&f->q);
	f->q.num = num;
	f->q.desc = desc;
	f->q.avail = avail;
	f->q.used = used;
	assert_int_equal(virtq_enable(&f->q, &f->mem, &why), -EINVAL);
	assert_false(f->q.ready);
	assert_non_null(why);
	assert_non_null(strstr(why, why_part));
	assert_int_equal(pop(f), VIRTQ_EMPTY);
}

static void ring_validation(void **state)
{
	struct fixture *f = *state;
	const char *why;

	expect_enable_fails(f, 3, DESC, AVAIL, USED, "power of two");
	expect_enable_fails(f, 0, DESC, AVAIL, USED, "power of two");
	expect_enable_fails(f, 100, DESC, AVAIL, USED, "power of two");
	expect_enable_fails(f, 512, DESC, AVAIL, USED, "power of two");
	expect_enable_fails(f, 0x10000, DESC, AVAIL, USED, "power of two");
	expect_enable_fails(f, 4, DESC + 8, AVAIL, USED, "misaligned");
	expect_enable_fails(f, 4, DESC, AVAIL + 1, USED, "misaligned");
	expect_enable_fails(f, 4, DESC, AVAIL, USED + 2, "misaligned");
	expect_enable_fails(f, 4, RAM - 32, AVAIL, USED, "descriptor table outside");
	expect_enable_fails(f, 4, 0xd0000000ULL, AVAIL, USED, "descriptor table outside");
	expect_enable_fails(f, 4, DESC, RAM - 8, USED, "available ring outside");
	expect_enable_fails(f, 4, DESC, AVAIL, RAM - 32, "used ring outside");
	expect_enable_fails(f, 256, DESC, AVAIL, 0xfffffffffffffff0ULL, "used ring outside");
	/* The largest queue, its used ring ending 2 bytes short of the end of RAM. */
	virtq_reset(&f->q);
	f->q.num = 256;
	f->q.desc = RAM - 4096 - 1024 - 4096;
	f->q.avail = RAM - 4096 - 1024;
	f->q.used = RAM - (6 + 8 * 256) - 2;
	assert_int_equal(virtq_enable(&f->q, &f->mem, &why), 0);
	assert_int_equal(f->q.size, 256);
	/* Not ready: nothing to pop, nothing to push. */
	virtq_reset(&f->q);
	assert_int_equal(pop(f), VIRTQ_EMPTY);
	assert_int_equal(virtq_push(&f->q, &f->mem, 0, 0), -EFAULT);
}

static void indirect(void **state)
{
	struct fixture *f = *state;

	enable(f, 4);
	put_desc(f, INDIRECT, 0, BUF, 16, VRING_DESC_F_NEXT, 2);
	put_desc(f, INDIRECT, 2, BUF + 0x100, 100, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1);
	put_desc(f, INDIRECT, 1, BUF + 0x200, 1, VRING_DESC_F_WRITE, 0);
	/* Not negotiated. */
	expect_bad(f, INDIRECT, 3 * 16, VRING_DESC_F_INDIRECT, "not negotiated");
	f->q.indirect = true;
	put_desc(f, DESC, 0, INDIRECT, 3 * 16, VRING_DESC_F_INDIRECT, 0);
	offer(f, 0);
	assert_int_equal(pop(f), VIRTQ_CHAIN);
	assert_int_equal(f->c.head, 0);
	assert_int_equal(f->c.nr_read, 1);
	assert_int_equal(f->c.nr_write, 2);
	assert_int_equal(f->c.write_len, 101);
	/* Direct descriptors, then the table. */
	put_desc(f, DESC, 1, BUF + 0x300, 4, VRING_DESC_F_NEXT, 2);
	put_desc(f, DESC, 2, INDIRECT, 3 * 16, VRING_DESC_F_INDIRECT, 0);
	offer(f, 1);
	assert_int_equal(pop(f), VIRTQ_CHAIN);
	assert_int_equal(f->c.nr_read, 2);
	assert_int_equal(f->c.read_len, 20);

	expect_bad(f, INDIRECT, 3 * 16, VRING_DESC_F_INDIRECT | VRING_DESC_F_NEXT, "with a next");
	expect_bad(f, INDIRECT, 40, VRING_DESC_F_INDIRECT, "multiple of 16");
	expect_bad(f, INDIRECT, 0, VRING_DESC_F_INDIRECT, "multiple of 16");
	expect_bad(f, INDIRECT, 16 * (VIRTQ_MAX_SIZE + 1), VRING_DESC_F_INDIRECT, "multiple of 16");
	expect_bad(f, RAM - 32, 48, VRING_DESC_F_INDIRECT, "outside");
	/* A table entry that is itself indirect. */
	put_desc(f, INDIRECT, 1, INDIRECT, 16, VRING_DESC_F_INDIRECT, 0);
	expect_bad(f, INDIRECT, 3 * 16, VRING_DESC_F_INDIRECT, "nested");
	/* A loop inside the table, and a next past its end. */
	put_desc(f, INDIRECT, 1, BUF, 1, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 2);
	expect_bad(f, INDIRECT, 3 * 16, VRING_DESC_F_INDIRECT, "loop");
	put_desc(f, INDIRECT, 1, BUF, 1, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 3);
	expect_bad(f, INDIRECT, 3 * 16, VRING_DESC_F_INDIRECT, "out of range");
	/* A buffer in the table outside RAM. */
	put_desc(f, INDIRECT, 1, RAM - 1, 2, VRING_DESC_F_WRITE, 0);
	expect_bad(f, INDIRECT, 3 * 16, VRING_DESC_F_INDIRECT, "outside");
}

static void too_many_buffers(void **state)
{
	struct fixture *f = *state;

	enable(f, 256);
	f->q.indirect = true;
	/* 255 direct buffers and a full table: more than one chain may have. */
	for (uint16_t i = 0; i < 255; i++)
		put_desc(f, DESC, i, BUF, 1, VRING_DESC_F_NEXT, (uint16_t)(i + 1));
	put_desc(f, DESC, 255, INDIRECT, 16 * VIRTQ_MAX_SIZE, VRING_DESC_F_INDIRECT, 0);
	for (uint16_t i = 0; i < VIRTQ_MAX_SIZE; i++)
		put_desc(f, INDIRECT, i, BUF, 1, VRING_DESC_F_NEXT, (uint16_t)(i + 1));
	put_desc(f, INDIRECT, VIRTQ_MAX_SIZE - 1, BUF, 1, 0, 0);
	offer(f, 0);
	assert_int_equal(pop(f), VIRTQ_BAD_CHAIN);
	assert_non_null(strstr(f->c.fault, "too many"));
	/* The full table alone is fine. */
	offer(f, 255);
	assert_int_equal(pop(f), VIRTQ_CHAIN);
	assert_int_equal(f->c.nr_read, VIRTQ_MAX_SIZE);
}

static void chain_access(void **state)
{
	struct fixture *f = *state;
	struct iovec iov[4];
	uint8_t buf[32];

	enable(f, 4);
	put_desc(f, DESC, 0, BUF, 4, VRING_DESC_F_NEXT, 1);
	put_desc(f, DESC, 1, BUF + 0x100, 6, VRING_DESC_F_NEXT, 2);
	put_desc(f, DESC, 2, BUF + 0x200, 5, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 3);
	put_desc(f, DESC, 3, BUF + 0x300, 5, VRING_DESC_F_WRITE, 0);
	memcpy(f->ram + BUF, "abcd", 4);
	memcpy(f->ram + BUF + 0x100, "efghij", 6);
	offer(f, 0);
	assert_int_equal(pop(f), VIRTQ_CHAIN);

	assert_int_equal(virtq_chain_read(&f->c, &f->mem, 2, buf, 6), 0);
	assert_memory_equal(buf, "cdefgh", 6);
	assert_int_equal(virtq_chain_read(&f->c, &f->mem, 0, buf, 10), 0);
	assert_int_equal(virtq_chain_read(&f->c, &f->mem, 5, buf, 6), -EINVAL);
	assert_int_equal(virtq_chain_read(&f->c, &f->mem, 11, buf, 0), -EINVAL);
	assert_int_equal(virtq_chain_write(&f->c, &f->mem, 3, "XYZW", 4), 0);
	assert_memory_equal(f->ram + BUF + 0x203, "XY", 2);
	assert_memory_equal(f->ram + BUF + 0x300, "ZW", 2);
	assert_int_equal(virtq_chain_write(&f->c, &f->mem, 9, "XY", 2), -EINVAL);
	assert_int_equal(virtq_chain_write(&f->c, &f->mem, UINT64_MAX, "X", 1), -EINVAL);

	assert_int_equal(virtq_chain_map(&f->c, &f->mem, VIRTQ_WRITE, 1, 8, iov, 4), 2);
	assert_ptr_equal(iov[0].iov_base, f->ram + BUF + 0x201);
	assert_int_equal(iov[0].iov_len, 4);
	assert_int_equal(iov[1].iov_len, 4);
	/* More pieces than the caller has room for. */
	assert_int_equal(virtq_chain_map(&f->c, &f->mem, VIRTQ_WRITE, 0, 10, iov, 1), -EINVAL);
	assert_int_equal(virtq_chain_map(&f->c, &f->mem, VIRTQ_READ, 10, 0, iov, 4), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(simple_chain, setup, teardown),
		cmocka_unit_test_setup_teardown(wrapping_indices, setup, teardown),
		cmocka_unit_test_setup_teardown(loops, setup, teardown),
		cmocka_unit_test_setup_teardown(buffers_outside_ram, setup, teardown),
		cmocka_unit_test_setup_teardown(chain_order_and_range, setup, teardown),
		cmocka_unit_test_setup_teardown(corrupt_avail, setup, teardown),
		cmocka_unit_test_setup_teardown(ring_validation, setup, teardown),
		cmocka_unit_test_setup_teardown(indirect, setup, teardown),
		cmocka_unit_test_setup_teardown(too_many_buffers, setup, teardown),
		cmocka_unit_test_setup_teardown(chain_access, setup, teardown),
	};

	return cmocka_run_group_tests_name("virtq", tests, NULL, NULL);
}
