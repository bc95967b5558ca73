/* bzimage_load on any bytes: an accepted image is in RAM exactly as the file says; a rejected one wrote nothing. */
#include "kernel_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char name[] = "fuzz.bzImage";
	const struct gmem *mem = fuzz_ram();
	struct fuzz_range written[FUZZ_KERNEL_MAX_RANGES];
	size_t n = 0;
	struct kernel_info info;
	struct image img;
	struct diag d = { "" };

	image_from_buffer(&img, name, data, size);
	if (bzimage_load(mem, &img, NULL, &info, &d) == 0)
		fuzz_check_kernel(mem, data, size, NULL, &info, written, &n);
	else
		FUZZ_CHECK(fuzz_diag_names_item(d.msg, name));
	fuzz_ram_check_writes(written, n);
	return 0;
}
