/*
 * Split virtqueues (virtio 1.x, section 2.7): the only code that parses a ring the
 * guest shares. The driver's ring layout is validated once, when it marks the queue
 * ready; every chain walk is bounded by the queue (or indirect table) size; every
 * descriptor's buffer is checked to lie in guest RAM; every shared index is read once,
 * atomically. The caller serialises all calls on one queue (the transport's lock).
 */
#ifndef MICROVM_VIRTQ_H
#define MICROVM_VIRTQ_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "microvm/compiler.h"
#include "microvm/gmem.h"

/* The largest queue a device offers; also the most entries of an indirect table. */
#define VIRTQ_MAX_SIZE 256
/* The most buffers one chain may have: longer chains fail as malformed. */
#define VIRTQ_MAX_SEGS VIRTQ_MAX_SIZE

struct virtq {
	/* Written by the driver (through the transport) while the queue is not ready. */
	uint32_t num;            /* QueueNum: the queue size the driver chose */
	uint64_t desc, avail, used;
	/* Set by the transport. */
	uint16_t max_size;       /* QueueNumMax */
	bool indirect;           /* VIRTIO_RING_F_INDIRECT_DESC negotiated */
	/* Device state, valid while ready. */
	bool ready;
	uint16_t size;           /* num, validated */
	uint16_t next_avail;     /* the next avail ring entry to take */
	uint16_t next_used;      /* our copy of used->idx */
};

struct virtq_seg {
	uint64_t gpa;
	uint32_t len;
};

/*
 * One descriptor chain, in order: nr_read device-readable buffers, then nr_write
 * device-writable ones. Every buffer lies in one guest RAM region and is not empty.
 */
struct virtq_chain {
	uint16_t head;
	unsigned int nr_read, nr_write;
	uint64_t read_len, write_len;   /* total bytes of each part */
	struct virtq_seg segs[VIRTQ_MAX_SEGS];
	const char *fault;              /* why the chain is malformed (VIRTQ_BAD_CHAIN) */
};

enum virtq_pop_result {
	VIRTQ_EMPTY,     /* nothing available */
	VIRTQ_CHAIN,     /* the chain is valid */
	VIRTQ_BAD_CHAIN, /* chain->head is malformed (chain->fault says how): return it empty */
	VIRTQ_BROKEN,    /* the avail ring itself is corrupt: the device needs a reset */
};

enum virtq_dir { VIRTQ_READ, VIRTQ_WRITE };

/* Back to the reset state: not ready, the driver's settings cleared. */
void virtq_reset(struct virtq *q);
/*
 * The driver set QueueReady: checks the size (a power of two, at most max_size), the
 * alignment of the three rings and that each lies in guest RAM. 0 makes the queue
 * ready; -EINVAL leaves it as it was, with *why naming the fault.
 */
MUST_CHECK int virtq_enable(struct virtq *q, const struct gmem *mem, const char **why);
/* Takes the next available chain. Bounded: at most size + VIRTQ_MAX_SIZE descriptors. */
MUST_CHECK enum virtq_pop_result virtq_pop(struct virtq *q, const struct gmem *mem,
					   struct virtq_chain *c);
/* Puts the chain last popped back: the next pop takes (and checks) it again. */
void virtq_undo_pop(struct virtq *q);
/* Hands chain head back in the used ring with len bytes written; -EFAULT if the ring is gone. */
MUST_CHECK int virtq_push(struct virtq *q, const struct gmem *mem, uint16_t head, uint32_t len);
/*
 * Hands n chains back at once (heads[i] with lens[i] bytes), published by one index
 * update: a driver never sees some of them used and not the others.
 */
MUST_CHECK int virtq_push_many(struct virtq *q, const struct gmem *mem, const uint16_t *heads,
			       const uint32_t *lens, unsigned int n);
/* After pushes: false when the driver asked for no interrupt (VRING_AVAIL_F_NO_INTERRUPT). */
bool virtq_wants_interrupt(const struct virtq *q, const struct gmem *mem);

/*
 * Host pointers to bytes [off, off+len) of one part of a chain, one iovec per buffer
 * piece; returns how many (at most max), or -EINVAL when the range leaves the part or
 * needs more than max pieces.
 */
MUST_CHECK int virtq_chain_map(const struct virtq_chain *c, const struct gmem *mem,
			       enum virtq_dir dir, uint64_t off, uint64_t len, struct iovec *iov,
			       unsigned int max);
/* Copies out of the readable part / into the writable part; -EINVAL outside it. */
MUST_CHECK int virtq_chain_read(const struct virtq_chain *c, const struct gmem *mem, uint64_t off,
				void *buf, uint64_t len);
MUST_CHECK int virtq_chain_write(const struct virtq_chain *c, const struct gmem *mem, uint64_t off,
				 const void *buf, uint64_t len);

#endif
