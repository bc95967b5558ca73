/*
 * The --config-file parser (vmconfig_file: Firecracker's sections, each applied as its
 * PUT would be), which the VMM and the jailer both run on the operator's file.
 * Input: the file's bytes.
 */
#include <string.h>

#include "config/vmconfig.h"
#include "harness.h"
#include "vmconfig_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool seeded;
	struct vm_resources r;
	struct diag d = { "" };

	if (!seeded) {
		vmconfig_init();
		seeded = true;
	}
	resources_init(&r);
	if (vmconfig_file(&r, (const char *)data, size, &d)) {
		/* Refused: one reason, as a line of text. */
		FUZZ_CHECK(d.msg[0] != '\0' && !strchr(d.msg, '\n'));
	} else {
		/* Accepted: a VM the command line could describe, which reads back the same. */
		fuzz_vmconfig_check(&r);
		fuzz_vmconfig_roundtrip(&r);
	}
	resources_free(&r);
	return 0;
}
