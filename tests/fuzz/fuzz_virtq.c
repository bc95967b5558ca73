/*
 * The virtqueue parser (src/dev/virtq.c) against a hostile driver: the input
 * is the queue registers the driver would write and the bytes of guest memory
 * the rings live in. Every chain virtq_pop hands out must be well-formed, and
 * queue state must stay consistent.
 *
 * Input: u16 num, u8 flags (bit 0: indirect negotiated), u8 unused, then
 * u32 desc, avail and used offsets into the ring window, then the window's
 * bytes (copied to guest RAM at FUZZ_VIRTQ_BASE).
 *
 * Unlike the loaders, virtq reads guest RAM wherever the rings point, and a
 * read makes a page resident too, so the page-level write check cannot tell
 * reads from writes here: RAM is only refreshed between inputs.
 */
#include <string.h>

#include "harness.h"
#include "microvm/virtq.h"

#define FUZZ_VIRTQ_BASE 0x100000ULL
#define FUZZ_VIRTQ_WINDOW 0x10000ULL

struct fuzz_virtq_header {
	uint16_t num;
	uint8_t flags;
	uint8_t unused;
	uint32_t desc, avail, used;
};

static void check_chain(const struct gmem *mem, const struct virtq *q, const struct virtq_chain *c)
{
	uint64_t read_len = 0, write_len = 0;

	FUZZ_CHECK(c->head < q->size);
	FUZZ_CHECK(c->nr_read + c->nr_write >= 1 && c->nr_read + c->nr_write <= VIRTQ_MAX_SEGS);
	for (unsigned int i = 0; i < c->nr_read + c->nr_write; i++) {
		FUZZ_CHECK(c->segs[i].len > 0);
		FUZZ_CHECK(gmem_ptr(mem, c->segs[i].gpa, c->segs[i].len) != NULL);
		if (i < c->nr_read)
			read_len += c->segs[i].len;
		else
			write_len += c->segs[i].len;
	}
	FUZZ_CHECK(read_len == c->read_len && write_len == c->write_len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct virtq_chain chain;
	const struct gmem *mem = fuzz_ram();
	struct fuzz_virtq_header h;
	struct virtq q;
	const char *why = NULL;
	const struct fuzz_range all_ram = { 0, FUZZ_RAM_SIZE };

	if (size < sizeof(h))
		return 0;
	memcpy(&h, data, sizeof(h));
	data += sizeof(h);
	size -= sizeof(h);
	if (size > FUZZ_VIRTQ_WINDOW)
		size = FUZZ_VIRTQ_WINDOW;
	FUZZ_CHECK(gmem_write(mem, FUZZ_VIRTQ_BASE, data, size) == 0);

	virtq_reset(&q);
	q.max_size = VIRTQ_MAX_SIZE;
	q.indirect = h.flags & 1;
	q.num = h.num;
	q.desc = FUZZ_VIRTQ_BASE + h.desc;
	q.avail = FUZZ_VIRTQ_BASE + h.avail;
	q.used = FUZZ_VIRTQ_BASE + h.used;
	if (virtq_enable(&q, mem, &why) != 0) {
		FUZZ_CHECK(why != NULL && !q.ready);
	} else {
		FUZZ_CHECK(q.ready && q.size >= 1 && q.size <= VIRTQ_MAX_SIZE && (q.size & (q.size - 1)) == 0);
		FUZZ_CHECK(gmem_ptr(mem, q.used, 6 + 8ULL * q.size) != NULL);
		/* Bounded by construction: at most one pass over the ring, twice over. */
		for (unsigned int i = 0; i < 2U * q.size; i++) {
			enum virtq_pop_result r = virtq_pop(&q, mem, &chain);

			if (r == VIRTQ_EMPTY || r == VIRTQ_BROKEN)
				break;
			if (r == VIRTQ_CHAIN)
				check_chain(mem, &q, &chain);
			else
				FUZZ_CHECK(chain.fault != NULL && chain.head < q.size);
			FUZZ_CHECK(virtq_push(&q, mem, chain.head, 0) == 0);
			(void)virtq_wants_interrupt(&q, mem);
		}
	}
	fuzz_ram_check_writes(&all_ram, 1);
	return 0;
}
