/*
 * cmdline_append and cmdline_write against a model of what they must accept.
 * Input: a little-endian u32 cmdline_max (the kernel's cmdline_size), then
 * NUL-separated parameter strings, appended in order, then written.
 */
#include <stdlib.h>
#include <string.h>

#include "arch/x86/layout.h"
#include "harness.h"
#include "microvm/loader.h"

/* A string the append must take: no control characters, and room left for it and a separator. */
static bool model_append_ok(const struct cmdline_buf *m, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f)
			return false;
	return m->len + (m->len && n ? 1 : 0) + n < sizeof(m->text);
}

/* cl and the model m, built by the rules alone, must hold the same line after every append. */
static void fuzz_append(struct cmdline_buf *cl, struct cmdline_buf *m, const char *p, size_t n)
{
	bool want = model_append_ok(m, p, n);
	struct diag d = { "" };

	if (cmdline_append(cl, p, &d) == 0) {
		FUZZ_CHECK(want);
		if (m->len && n)
			m->text[m->len++] = ' ';
		memcpy(m->text + m->len, p, n);
		m->len += n;
		m->text[m->len] = '\0';
	} else {
		/* Rejected: a reason, and the line as it was. */
		FUZZ_CHECK(!want && d.msg[0] != '\0');
	}
	FUZZ_CHECK(cl->len == m->len && memcmp(cl->text, m->text, m->len + 1) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct gmem *mem = fuzz_ram();
	struct cmdline_buf cl = { .len = 0 }, model = { .len = 0 };
	struct fuzz_range written = { 0, 0 };
	uint32_t cmdline_max = 0;
	size_t hdr = size < sizeof(cmdline_max) ? size : sizeof(cmdline_max);
	uint64_t len = UINT64_MAX;
	struct diag d = { "" };

	memcpy(&cmdline_max, data, hdr);
	for (size_t off = hdr; off < size;) {
		const uint8_t *nul = memchr(data + off, '\0', size - off);
		size_t n = nul ? (size_t)(nul - data) - off : size - off;
		/* Its own exact-size copy, so ASan sees a read past the NUL. */
		char *p = malloc(n + 1);

		FUZZ_CHECK(p != NULL);
		memcpy(p, data + off, n);
		p[n] = '\0';
		fuzz_append(&cl, &model, p, n);
		free(p);
		off += n + 1;
	}

	/* B10: the line fits the kernel's cmdline_size and the VMM's buffer, and exactly it is written. */
	if (cmdline_write(mem, cl.text, cmdline_max, &len, &d) == 0) {
		const char *guest = gmem_ptr(mem, LAYOUT_CMDLINE_START, cl.len + 1);

		FUZZ_CHECK(cl.len <= cmdline_max && cl.len < LAYOUT_CMDLINE_MAX && len == cl.len);
		FUZZ_CHECK(guest && memcmp(guest, cl.text, cl.len + 1) == 0);
		written = (struct fuzz_range){ LAYOUT_CMDLINE_START, LAYOUT_CMDLINE_START + len + 1 };
	} else {
		FUZZ_CHECK((cl.len > cmdline_max || cl.len >= LAYOUT_CMDLINE_MAX) && d.msg[0] != '\0');
		FUZZ_CHECK(len == UINT64_MAX);
	}
	fuzz_ram_check_writes(&written, 1);
	return 0;
}
