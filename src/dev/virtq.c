#include "microvm/virtq.h"

#include <endian.h>
#include <errno.h>
#include <linux/virtio_ring.h>
#include <stdatomic.h>
#include <string.h>

/* Ring layout (virtio 1.x, 2.7): byte offsets and sizes for a queue of `size` entries. */
#define DESC_SIZE 16ULL
#define AVAIL_IDX_OFF 2ULL
#define AVAIL_RING_OFF 4ULL
#define USED_IDX_OFF 2ULL
#define USED_RING_OFF 4ULL
#define USED_ELEM_SIZE 8ULL

static uint64_t avail_bytes(uint16_t size)
{
	return 6 + 2ULL * size; /* flags, idx, ring[size], used_event */
}

static uint64_t used_bytes(uint16_t size)
{
	return 6 + USED_ELEM_SIZE * size; /* flags, idx, ring[size], avail_event */
}

void virtq_reset(struct virtq *q)
{
	uint16_t max = q->max_size;

	memset(q, 0, sizeof(*q));
	q->max_size = max;
	q->num = max;
}

int virtq_enable(struct virtq *q, const struct gmem *mem, const char **why)
{
	uint32_t num = q->num;

	if (num == 0 || num > q->max_size || !is_pow2_u64(num))
		*why = "queue size not a power of two up to the maximum";
	else if (q->desc % VRING_DESC_ALIGN_SIZE || q->avail % VRING_AVAIL_ALIGN_SIZE ||
		 q->used % VRING_USED_ALIGN_SIZE)
		*why = "misaligned ring";
	else if (!gmem_is_ram(mem, q->desc, DESC_SIZE * num))
		*why = "descriptor table outside guest RAM";
	else if (!gmem_is_ram(mem, q->avail, avail_bytes((uint16_t)num)))
		*why = "available ring outside guest RAM";
	else if (!gmem_is_ram(mem, q->used, used_bytes((uint16_t)num)))
		*why = "used ring outside guest RAM";
	else
		*why = NULL;
	if (*why)
		return -EINVAL;
	q->size = (uint16_t)num;
	q->next_avail = 0;
	q->next_used = 0;
	q->ready = true;
	return 0;
}

/*
 * One read of a 16-bit field the driver may be writing: single-copy atomic, and
 * ordered before every read that follows (the ring entries it publishes).
 */
static bool virtq_load16(const struct gmem *mem, uint64_t gpa, uint16_t *out)
{
	const uint16_t *p = gmem_ptr(mem, gpa, sizeof(*p));

	if (!p || (uintptr_t)p % sizeof(*p))
		return false;
	*out = le16toh(__atomic_load_n(p, __ATOMIC_ACQUIRE));
	return true;
}

static enum virtq_pop_result virtq_bad(struct virtq_chain *c, const char *fault)
{
	c->fault = fault;
	return VIRTQ_BAD_CHAIN;
}

/* Follows the chain from head through at most one indirect table, checking every descriptor. */
static enum virtq_pop_result virtq_walk(const struct virtq *q, const struct gmem *mem,
					struct virtq_chain *c)
{
	uint64_t table = q->desc;
	uint32_t table_size = q->size, visited = 0;
	uint16_t idx = c->head;
	bool indirect = false;

	for (;;) {
		struct vring_desc d;
		uint64_t addr;
		uint32_t len;
		uint16_t flags;

		/* A chain longer than its table revisits a descriptor: a loop, or too long. */
		if (visited++ == table_size)
			return virtq_bad(c, "descriptor chain loops or is longer than its table");
		if (gmem_read(mem, table + DESC_SIZE * idx, &d, sizeof(d)))
			return virtq_bad(c, "descriptor outside guest RAM");
		addr = le64toh(d.addr);
		len = le32toh(d.len);
		flags = le16toh(d.flags);

		if (flags & VRING_DESC_F_INDIRECT) {
			if (!q->indirect)
				return virtq_bad(c, "indirect descriptor not negotiated");
			if (indirect)
				return virtq_bad(c, "nested indirect table");
			if (flags & VRING_DESC_F_NEXT)
				return virtq_bad(c, "indirect descriptor with a next");
			if (len == 0 || len % DESC_SIZE || len / DESC_SIZE > VIRTQ_MAX_SIZE)
				return virtq_bad(c, "indirect table length not a multiple of 16 up to the maximum");
			if (!gmem_is_ram(mem, addr, len))
				return virtq_bad(c, "indirect table outside guest RAM");
			table = addr;
			table_size = len / (uint32_t)DESC_SIZE;
			visited = 0;
			idx = 0;
			indirect = true;
			continue;
		}
		if (len == 0)
			return virtq_bad(c, "zero-length buffer");
		if (!gmem_is_ram(mem, addr, len))
			return virtq_bad(c, "buffer outside guest RAM");
		if (c->nr_read + c->nr_write == VIRTQ_MAX_SEGS)
			return virtq_bad(c, "too many buffers in one chain");
		if (flags & VRING_DESC_F_WRITE) {
			c->nr_write++;
			c->write_len += len;
		} else {
			if (c->nr_write)
				return virtq_bad(c, "device-readable buffer after a writable one");
			c->nr_read++;
			c->read_len += len;
		}
		c->segs[c->nr_read + c->nr_write - 1] = (struct virtq_seg){ .gpa = addr, .len = len };
		if (!(flags & VRING_DESC_F_NEXT))
			return VIRTQ_CHAIN;
		idx = le16toh(d.next);
		if (idx >= table_size)
			return virtq_bad(c, "next descriptor out of range");
	}
}

enum virtq_pop_result virtq_pop(struct virtq *q, const struct gmem *mem, struct virtq_chain *c)
{
	uint16_t avail_idx, pending, head;

	if (!q->ready)
		return VIRTQ_EMPTY;
	if (!virtq_load16(mem, q->avail + AVAIL_IDX_OFF, &avail_idx))
		return VIRTQ_BROKEN;
	pending = (uint16_t)(avail_idx - q->next_avail);
	if (pending == 0)
		return VIRTQ_EMPTY;
	/* The driver can never have more than size chains outstanding. */
	if (pending > q->size)
		return VIRTQ_BROKEN;
	if (!virtq_load16(mem, q->avail + AVAIL_RING_OFF + 2ULL * (q->next_avail & (q->size - 1)),
			  &head))
		return VIRTQ_BROKEN;
	/* A head out of range cannot even be handed back: the ring is corrupt. */
	if (head >= q->size)
		return VIRTQ_BROKEN;
	q->next_avail++;
	c->head = head;
	c->nr_read = c->nr_write = 0;
	c->read_len = c->write_len = 0;
	c->fault = NULL;
	return virtq_walk(q, mem, c);
}

void virtq_undo_pop(struct virtq *q)
{
	q->next_avail--;
}

int virtq_push_many(struct virtq *q, const struct gmem *mem, const uint16_t *heads,
		    const uint32_t *lens, unsigned int n)
{
	uint16_t *idx;

	if (!q->ready)
		return -EFAULT;
	for (unsigned int i = 0; i < n; i++) {
		struct vring_used_elem e = { .id = htole32(heads[i]), .len = htole32(lens[i]) };
		uint16_t slot = (uint16_t)(q->next_used + i) & (q->size - 1);

		if (gmem_write(mem, q->used + USED_RING_OFF + USED_ELEM_SIZE * slot, &e, sizeof(e)))
			return -EFAULT;
	}
	idx = gmem_ptr(mem, q->used + USED_IDX_OFF, sizeof(*idx));
	if (!idx)
		return -EFAULT;
	q->next_used = (uint16_t)(q->next_used + n);
	/* The elements are visible before the index that publishes them, all at once. */
	__atomic_store_n(idx, htole16(q->next_used), __ATOMIC_RELEASE);
	return 0;
}

int virtq_push(struct virtq *q, const struct gmem *mem, uint16_t head, uint32_t len)
{
	return virtq_push_many(q, mem, &head, &len, 1);
}

bool virtq_wants_interrupt(const struct virtq *q, const struct gmem *mem)
{
	uint16_t flags;

	/* The used index store must be visible before the driver's flag is read. */
	atomic_thread_fence(memory_order_seq_cst);
	if (!q->ready || !virtq_load16(mem, q->avail, &flags))
		return true;
	return !(flags & VRING_AVAIL_F_NO_INTERRUPT);
}

int virtq_chain_map(const struct virtq_chain *c, const struct gmem *mem, enum virtq_dir dir,
		    uint64_t off, uint64_t len, struct iovec *iov, unsigned int max)
{
	unsigned int first = dir == VIRTQ_READ ? 0 : c->nr_read;
	unsigned int end = dir == VIRTQ_READ ? c->nr_read : c->nr_read + c->nr_write;
	uint64_t part = dir == VIRTQ_READ ? c->read_len : c->write_len;
	unsigned int n = 0;

	if (off > part || len > part - off)
		return -EINVAL;
	for (unsigned int i = first; i < end && len > 0; i++) {
		const struct virtq_seg *s = &c->segs[i];
		uint64_t take;
		void *p;

		if (off >= s->len) {
			off -= s->len;
			continue;
		}
		if (n == max)
			return -EINVAL;
		take = s->len - off < len ? s->len - off : len;
		p = gmem_ptr(mem, s->gpa + off, take);
		if (!p)
			return -EFAULT;
		iov[n++] = (struct iovec){ .iov_base = p, .iov_len = take };
		len -= take;
		off = 0;
	}
	return (int)n;
}

/* Copies between buf and [off, off+len) of one part of the chain. */
static int virtq_chain_copy(const struct virtq_chain *c, const struct gmem *mem,
			    enum virtq_dir dir, uint64_t off, void *buf, uint64_t len)
{
	struct iovec iov[VIRTQ_MAX_SEGS];
	uint8_t *b = buf;
	int n = virtq_chain_map(c, mem, dir, off, len, iov, VIRTQ_MAX_SEGS);

	if (n < 0)
		return n;
	for (int i = 0; i < n; i++) {
		if (dir == VIRTQ_READ)
			memcpy(b, iov[i].iov_base, iov[i].iov_len);
		else
			memcpy(iov[i].iov_base, b, iov[i].iov_len);
		b += iov[i].iov_len;
	}
	return 0;
}

int virtq_chain_read(const struct virtq_chain *c, const struct gmem *mem, uint64_t off, void *buf,
		     uint64_t len)
{
	return virtq_chain_copy(c, mem, VIRTQ_READ, off, buf, len);
}

int virtq_chain_write(const struct virtq_chain *c, const struct gmem *mem, uint64_t off,
		      const void *buf, uint64_t len)
{
	/* The buffer is only read: the cast lets one copy routine serve both directions. */
	return virtq_chain_copy(c, mem, VIRTQ_WRITE, off, (void *)(uintptr_t)buf, len);
}
