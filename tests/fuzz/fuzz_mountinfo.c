/*
 * The jailer's /proc/self/mountinfo parser (jailer/mountinfo.c), on any bytes
 * as that file: any user may name a mount point, and the jailer decides from
 * the table which mounts to detach on an initramfs host. It accepts or gives
 * a message starting with the file's name; an accepted table has absolute,
 * NUL-free mount points and filesystem types that fit, and the parent walk
 * ends for every pair of mounts, loops included.
 */
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "mountinfo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mount_table t;
	struct diag d = { "" };
	FILE *in = fmemopen((void *)(uintptr_t)data, size, "r");

	if (!in)
		return 0;
	if (mountinfo_parse(in, "mountinfo", &t, &d) != 0) {
		FUZZ_CHECK(strncmp(d.msg, "mountinfo", 9) == 0 && t.n == 0 && !t.items);
		fclose(in);
		return 0;
	}
	fclose(in);
	for (size_t i = 0; i < t.n; i++) {
		const struct mount_entry *e = &t.items[i];

		FUZZ_CHECK(e->id >= 0 && e->parent >= 0 && e->point[0] == '/');
		FUZZ_CHECK(e->fstype[0] != '\0' && strlen(e->fstype) < sizeof(e->fstype));
		FUZZ_CHECK(mountinfo_find(&t, e->id) != NULL && mountinfo_below(&t, e->id, e->id));
		/* Bounded: at most the first 64 tops, each walk at most t.n steps. */
		for (size_t j = 0; j < t.n && j < 64; j++)
			(void)mountinfo_below(&t, e->id, t.items[j].id);
	}
	mountinfo_free(&t);
	return 0;
}
