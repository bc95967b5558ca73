/*
 * AFL++ persistent-mode driver for any harness: afl-fuzz passes test cases
 * through shared memory and each process runs up to 10000 of them. Outside
 * afl-fuzz it runs the one input on stdin: `./fuzz-elf < crash-file`.
 * Built only with -Dfuzz=afl (afl-clang-fast or afl-clang-lto define the macros).
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

__AFL_FUZZ_INIT();

int main(void)
{
	const uint8_t *buf;

	/* The fork server starts here, after the dynamic loader and sanitizer start-up. */
	__AFL_INIT();
	buf = __AFL_FUZZ_TESTCASE_BUF;
	while (__AFL_LOOP(10000)) {
		size_t len = __AFL_FUZZ_TESTCASE_LEN;
		/* An exact-size copy, as libFuzzer gives: ASan then sees reads past the end. */
		uint8_t *input = malloc(len ? len : 1);

		if (!input)
			abort();
		memcpy(input, buf, len);
		LLVMFuzzerTestOneInput(input, len);
		free(input);
	}
	return 0;
}
