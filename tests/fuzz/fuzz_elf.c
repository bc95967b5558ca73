/* elf_load on any bytes: an accepted image is in RAM exactly as the file says; a rejected one wrote nothing. */
#include "kernel_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_one_kernel(elf_load, "fuzz.elf", data, size);
	return 0;
}
