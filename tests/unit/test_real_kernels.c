/*
 * Real kernels (the project's Linux build, as bzImage and vmlinux; paths in
 * MICROVM_TEST_BZIMAGE / MICROVM_TEST_VMLINUX, set by scripts/test) and Debian's
 * packaged cloud kernel (MICROVM_TEST_DEBIAN_BZIMAGE) load and
 * give the documented fields, and truncated copies are rejected cleanly.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "arch/x86/layout.h"
#include "images.h"
#include "microvm/loader.h"

struct real_kernel {
	const char *path;
	uint8_t *data;
	size_t size;
};

static struct test_vm vm;

static void real_kernel_read(const char *env, struct real_kernel *k)
{
	FILE *f;

	memset(k, 0, sizeof(*k));
	k->path = getenv(env);
	if (!k->path || !*k->path)
		fail_msg("%s is not set", env);
	f = fopen(k->path, "rb");
	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	k->size = (size_t)ftell(f);
	rewind(f);
	k->data = malloc(k->size);
	assert_non_null(k->data);
	assert_int_equal(fread(k->data, 1, k->size, f), k->size);
	fclose(f);
}

static int load_prefix(const struct real_kernel *k, size_t len, struct boot_info *boot, struct diag *d)
{
	struct image img;

	image_from_buffer(&img, k->path, k->data, len);
	return boot_load(&vm.mem, &img, NULL, "console=ttyS0", NULL, boot, d);
}

static void bzimage_loads(void **state)
{
	(void)state;
	struct real_kernel k;
	struct boot_info boot;
	struct diag d;

	real_kernel_read("MICROVM_TEST_BZIMAGE", &k);
	if (load_prefix(&k, k.size, &boot, &d))
		fail_msg("%s", d.msg);
	assert_int_equal(boot.kernel.format, KERNEL_BZIMAGE);
	assert_true(boot.kernel.protocol >= 0x020c);
	assert_int_equal(boot.kernel.load_start, 0x100000);
	assert_int_equal(boot.kernel.entry, 0x100200);
	/* Linux 6.1 x86-64: LOAD_PHYSICAL_ADDR 16 MiB, COMMAND_LINE_SIZE 2048. */
	assert_int_equal(boot.kernel.runtime_start, 0x1000000);
	assert_true(boot.kernel.hdr.init_size > boot.kernel.load_end - boot.kernel.load_start);
	assert_int_equal(boot.kernel.cmdline_max, 2047);
	assert_int_equal(boot.kernel.initrd_max, 0x7fffffff);
	assert_true(boot.kernel.hdr.relocatable_kernel);
	free(k.data);
}

static void vmlinux_loads(void **state)
{
	(void)state;
	struct real_kernel k;
	struct boot_info boot;
	struct diag d;

	real_kernel_read("MICROVM_TEST_VMLINUX", &k);
	if (load_prefix(&k, k.size, &boot, &d))
		fail_msg("%s", d.msg);
	assert_int_equal(boot.kernel.format, KERNEL_ELF);
	/* vmlinux.lds.S: ENTRY(phys_startup_64) at LOAD_PHYSICAL_ADDR. */
	assert_int_equal(boot.kernel.load_start, 0x1000000);
	assert_int_equal(boot.kernel.entry, 0x1000000);
	assert_true(boot.kernel.load_end > 0x1000000 + k.size / 4);
	assert_true(boot.kernel.has_pvh_entry);
	assert_true(boot.kernel.pvh_entry >= 0x1000000 && boot.kernel.pvh_entry < boot.kernel.load_end);
	free(k.data);
}

/*
 * Every prefix of the header region, then lengths spread over the whole file:
 * each is rejected with a message naming the file and the checklist item,
 * until the file holds every byte the loader needs; from there on (only
 * section headers and symbols are missing) each loads.
 */
static void truncations_rejected(const char *env, size_t *first_accepted)
{
	struct real_kernel k;
	struct boot_info boot;
	struct diag d;
	size_t tried = 0, rejected = 0;

	real_kernel_read(env, &k);
	*first_accepted = SIZE_MAX;
	for (size_t len = 0, step; len <= k.size; len = len == k.size ? SIZE_MAX : len + step) {
		int ret;

		step = len < 4096 ? 1 : k.size / 509 + 1;
		if (len + step > k.size && len != k.size)
			step = k.size - len;

		memset(&d, 0, sizeof(d));
		ret = load_prefix(&k, len, &boot, &d);
		tried++;
		if (ret == 0) {
			if (*first_accepted == SIZE_MAX)
				*first_accepted = len;
			continue;
		}
		if (*first_accepted != SIZE_MAX)
			fail_msg("length %zu rejected after length %zu loaded: %s", len, *first_accepted, d.msg);
		if (!strchr(d.msg, '(') || !strstr(d.msg, k.path))
			fail_msg("length %zu: unclear message: %s", len, d.msg);
		rejected++;
	}
	assert_int_equal(load_prefix(&k, k.size, &boot, &d), 0);
	printf("# %s: %zu lengths tried, %zu rejected, loads from %zu of %zu bytes\n", k.path, tried,
	       rejected, *first_accepted, k.size);
	assert_true(rejected > 4096);
	free(k.data);
}

static void bzimage_truncations(void **state)
{
	(void)state;
	size_t first_accepted;
	struct real_kernel k;

	truncations_rejected("MICROVM_TEST_BZIMAGE", &first_accepted);
	/*
	 * A bzImage needs its setup sectors plus syssize*16 bytes, but for at most 15 of the
	 * last 16-byte paragraph (B5).
	 */
	real_kernel_read("MICROVM_TEST_BZIMAGE", &k);
	{
		const struct setup_header *hdr = (const void *)(k.data + 0x1f1);
		size_t needed = ((size_t)(hdr->setup_sects ? hdr->setup_sects : 4) + 1) * 512 +
				(size_t)hdr->syssize * 16;
		struct boot_info boot;
		struct diag d;

		assert_true(first_accepted >= needed - 15);
		assert_int_equal(load_prefix(&k, needed - 15, &boot, &d), 0);
		assert_int_not_equal(load_prefix(&k, needed - 16, &boot, &d), 0);
		assert_non_null(strstr(d.msg, "(B5)"));
	}
	free(k.data);
}

/* Debian's signed cloud kernel: ~1.5 KiB of signature after the payload stays out (B5). */
static void debian_bzimage_loads(void **state)
{
	(void)state;
	struct real_kernel k;
	struct boot_info boot;
	struct diag d;
	const struct setup_header *hdr;
	size_t kernel_file_end;

	real_kernel_read("MICROVM_TEST_DEBIAN_BZIMAGE", &k);
	hdr = (const void *)(k.data + 0x1f1);
	kernel_file_end = ((size_t)hdr->setup_sects + 1) * 512 + (size_t)hdr->syssize * 16;
	assert_true(k.size > kernel_file_end);
	if (load_prefix(&k, k.size, &boot, &d))
		fail_msg("%s", d.msg);
	assert_int_equal(boot.kernel.format, KERNEL_BZIMAGE);
	assert_int_equal(boot.kernel.load_end - boot.kernel.load_start, (uint64_t)hdr->syssize * 16);
	assert_int_equal(boot.kernel.entry, 0x100200);
	assert_int_equal(load_prefix(&k, kernel_file_end - 15, &boot, &d), 0);
	assert_int_not_equal(load_prefix(&k, kernel_file_end - 16, &boot, &d), 0);
	free(k.data);
}

static void vmlinux_truncations(void **state)
{
	(void)state;
	size_t first_accepted;

	truncations_rejected("MICROVM_TEST_VMLINUX", &first_accepted);
}

static int group_setup(void **state)
{
	(void)state;
	test_vm_init(&vm, 256ULL << 20);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	test_vm_free(&vm);
	return 0;
}

int main(void)
{
	/* Skipped as a whole, loudly, when run outside scripts/test (no kernel built). */
	if (!getenv("MICROVM_TEST_BZIMAGE") || !getenv("MICROVM_TEST_VMLINUX") ||
	    !getenv("MICROVM_TEST_DEBIAN_BZIMAGE")) {
		printf("1..0 # SKIP MICROVM_TEST_BZIMAGE/VMLINUX/DEBIAN_BZIMAGE not set: run scripts/test, which builds and fetches the kernels\n");
		return 0;
	}

	const struct CMUnitTest tests[] = {
		cmocka_unit_test(bzimage_loads),
		cmocka_unit_test(vmlinux_loads),
		cmocka_unit_test(bzimage_truncations),
		cmocka_unit_test(vmlinux_truncations),
		cmocka_unit_test(debian_bzimage_loads),
	};

	return cmocka_run_group_tests_name("real_kernels", tests, group_setup, group_teardown);
}
