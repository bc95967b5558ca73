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
	static const uint8_t empty[1];
	const uint8_t *buf;

	/*
	 * One empty input first: the harness's one-time set-up (mapping guest
	 * RAM) then runs once, before the fork server, instead of in each child,
	 * where it would make the first input's edges differ from its reruns.
	 */
	LLVMFuzzerTestOneInput(empty, 0);
	/* The fork server starts here, after the dynamic loader, sanitizer start-up and that set-up. */
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
