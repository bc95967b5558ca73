/*
 * The vmstate file's container: a header (magic, version, section count, body length),
 * sections (tag, index, length, payload padded to 8 bytes), a CRC-32 trailer. Pure and
 * bounded: a file is hostile input, so every length is checked against what is left
 * before it is used, padding must be zero, a (tag, index) pair appears once, and the
 * checksum covers every byte before it. What a section holds is state.c's business.
 * Numbers are little-endian (x86-64 only).
 */
#ifndef MICROVM_SNAPSHOT_FORMAT_H
#define MICROVM_SNAPSHOT_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#include "microvm/compiler.h"
#include "microvm/diag.h"

#define SNAPFMT_MAGIC "MVMSTATE"
#define SNAPFMT_MAGIC_LEN 8
/*
 * 2: the ACPI section (state.h); 3: four queues per transport (virtio-balloon), the
 * balloon section. A file of any other version is refused.
 */
#define SNAPFMT_VERSION 3
#define SNAPFMT_HEADER_LEN 24    /* magic, u32 version, u32 sections, u64 body length */
#define SNAPFMT_SECTION_LEN 16   /* u32 tag, u32 index, u64 length */
#define SNAPFMT_TRAILER_LEN 8    /* u32 CRC-32 of everything before, u32 zero */
#define SNAPFMT_MAX_SECTIONS 512
/* The largest vmstate file read: 64 vCPUs need well under 2 MiB. */
#define SNAPFMT_MAX_SIZE (16u << 20)

struct snapfmt_section {
	uint32_t tag, index;
	const uint8_t *data;     /* into the parsed buffer */
	uint64_t len;
	uint64_t offset;         /* of its header in the file, for messages */
};

struct snapfmt_view {
	uint32_t nr;
	struct snapfmt_section sections[SNAPFMT_MAX_SECTIONS];
};

/* The IEEE CRC-32 (zlib's) of len bytes. */
uint32_t snapfmt_crc32(const uint8_t *p, size_t len);

/*
 * Checks len bytes of buf as a whole vmstate file and fills v with its sections,
 * pointing into buf. On failure d says what and where ("section 3 at offset 120:
 * length 4096 exceeds the 80 bytes left").
 */
MUST_CHECK int snapfmt_parse(const uint8_t *buf, size_t len, struct snapfmt_view *v,
			     struct diag *d);
/* The section with tag and index, or NULL. */
const struct snapfmt_section *snapfmt_find(const struct snapfmt_view *v, uint32_t tag,
					   uint32_t index);

/* Builds a vmstate file in memory, section by section. */
struct snapfmt_writer {
	uint8_t *buf;
	size_t len, cap;
	uint32_t nr;
	int err;                 /* the first failure; later calls do nothing */
};

void snapfmt_writer_init(struct snapfmt_writer *w);
/* Appends a section (copied); the first error sticks and snapfmt_finish returns it. */
void snapfmt_add(struct snapfmt_writer *w, uint32_t tag, uint32_t index, const void *data,
		 size_t len);
/* Fills in the header and the trailer; *out and *len are the file (w owns it). */
MUST_CHECK int snapfmt_finish(struct snapfmt_writer *w, const uint8_t **out, size_t *len);
void snapfmt_writer_free(struct snapfmt_writer *w);

#endif
