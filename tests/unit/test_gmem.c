/*
 * Guest memory, anonymous and over a file (a snapshot's memory file on restore): the
 * layout around the MMIO gap, the checked accessors, and a file mapping that shows the
 * file's bytes while the guest's writes never reach the file.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <cmocka.h>

#include "arch/x86/layout.h"
#include "microvm/gmem.h"

#define RAM (4 * LAYOUT_MIB)

/* A memfd of size bytes with marker strings at the given offsets. */
static int memfd_with(uint64_t size, const uint64_t *offsets, const char *const *marks, size_t n)
{
	int fd = memfd_create("gmem-test", MFD_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)size), 0);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(pwrite(fd, marks[i], strlen(marks[i]), (off_t)offsets[i]),
				 (ssize_t)strlen(marks[i]));
	return fd;
}

static void anonymous_accessors(void **state)
{
	(void)state;
	struct gmem mem;
	char buf[8];

	assert_int_equal(gmem_create(&mem, RAM), 0);
	assert_int_equal(mem.nr_regions, 1);
	assert_int_equal(gmem_write(&mem, RAM - 4, "abcd", 4), 0);
	assert_int_equal(gmem_read(&mem, RAM - 4, buf, 4), 0);
	assert_memory_equal(buf, "abcd", 4);
	/* Past the end, straddling it, wrapping around, or empty: never a pointer. */
	assert_int_equal(gmem_read(&mem, RAM - 3, buf, 4), -EFAULT);
	assert_null(gmem_ptr(&mem, RAM, 1));
	assert_null(gmem_ptr(&mem, UINT64_MAX, 2));
	assert_null(gmem_ptr(&mem, 0, 0));
	gmem_destroy(&mem);
	assert_int_equal(gmem_create(&mem, RAM + 1), -EINVAL);
	assert_int_equal(gmem_create(&mem, LAYOUT_MIN_RAM - LAYOUT_PAGE_SIZE), -EINVAL);
}

static void file_backed_is_private(void **state)
{
	(void)state;
	const uint64_t offsets[] = { 0, LAYOUT_MIB, RAM - 5 };
	const char *const marks[] = { "first", "middle", "last!" };
	int fd = memfd_with(RAM, offsets, marks, 3);
	struct gmem mem;
	char buf[8] = { 0 };

	assert_int_equal(gmem_create_from_file(&mem, fd, RAM), 0);
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(gmem_read(&mem, offsets[i], buf, strlen(marks[i])), 0);
		assert_memory_equal(buf, marks[i], strlen(marks[i]));
	}
	/* The guest writes over the file's bytes: the guest sees them, the file does not. */
	assert_int_equal(gmem_write(&mem, LAYOUT_MIB, "guest!", 6), 0);
	assert_int_equal(gmem_read(&mem, LAYOUT_MIB, buf, 6), 0);
	assert_memory_equal(buf, "guest!", 6);
	assert_int_equal(pread(fd, buf, 6, LAYOUT_MIB), 6);
	assert_memory_equal(buf, "middle", 6);
	/* Nor does the file's later change reach a page the guest already wrote. */
	assert_int_equal(pwrite(fd, "CHANGE", 6, LAYOUT_MIB), 6);
	assert_int_equal(gmem_read(&mem, LAYOUT_MIB, buf, 6), 0);
	assert_memory_equal(buf, "guest!", 6);
	gmem_destroy(&mem);
	assert_null(mem.mapping);
	close(fd);
}

/* Above the MMIO gap, RAM comes from the file's bytes after the low region's. */
static void file_backed_high_region(void **state)
{
	(void)state;
	const uint64_t ram = LAYOUT_MMIO_GAP_START + 2 * LAYOUT_MIB;
	const uint64_t offsets[] = { LAYOUT_MMIO_GAP_START - 4, LAYOUT_MMIO_GAP_START };
	const char *const marks[] = { "low", "high" };
	int fd = memfd_with(ram, offsets, marks, 2);
	struct gmem mem;
	char buf[4];

	assert_int_equal(gmem_create_from_file(&mem, fd, ram), 0);
	assert_int_equal(mem.nr_regions, 2);
	assert_int_equal(gmem_read(&mem, LAYOUT_MMIO_GAP_START - 4, buf, 3), 0);
	assert_memory_equal(buf, "low", 3);
	assert_int_equal(gmem_read(&mem, LAYOUT_MMIO_GAP_END, buf, 4), 0);
	assert_memory_equal(buf, "high", 4);
	/* The gap itself is not RAM, and no access crosses it. */
	assert_false(gmem_is_ram(&mem, LAYOUT_MMIO_GAP_START, 1));
	assert_int_equal(gmem_read(&mem, LAYOUT_MMIO_GAP_START - 2, buf, 4), -EFAULT);
	gmem_destroy(&mem);
	close(fd);
}

static void file_refused(void **state)
{
	(void)state;
	int short_fd = memfd_with(RAM - LAYOUT_PAGE_SIZE, NULL, NULL, 0);
	int pipefd[2];
	struct gmem mem;

	/* A page short: the guest would fault on it. */
	assert_int_equal(gmem_create_from_file(&mem, short_fd, RAM), -EINVAL);
	assert_null(mem.mapping);
	/* A size gmem never accepts, whatever the file. */
	assert_int_equal(gmem_create_from_file(&mem, short_fd, LAYOUT_PAGE_SIZE), -EINVAL);
	assert_int_equal(pipe(pipefd), 0);
	assert_int_equal(gmem_create_from_file(&mem, pipefd[0], RAM), -EINVAL);
	assert_int_equal(gmem_create_from_file(&mem, -1, RAM), -EBADF);
	close(pipefd[0]);
	close(pipefd[1]);
	close(short_fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(anonymous_accessors),
		cmocka_unit_test(file_backed_is_private),
		cmocka_unit_test(file_backed_high_region),
		cmocka_unit_test(file_refused),
	};

	return cmocka_run_group_tests_name("gmem", tests, NULL, NULL);
}
