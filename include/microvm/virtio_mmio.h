/*
 * The virtio-mmio transport (virtio 1.x, version 2 register layout): one 4 KiB window
 * and one interrupt line per device. It owns the device status, feature negotiation
 * and the queues' registers; the device model behind it sees queue notifications and
 * pops chains through it. Every entry point runs under the transport's lock, which
 * the device's own threads take too (virtio_mmio_lock), so a device sees one caller
 * at a time. A driver that breaks the protocol gets DEVICE_NEEDS_RESET. A notification
 * of a ready queue before DRIVER_OK (Linux's balloon primes its statistics queue so)
 * is delivered when the driver sets DRIVER_OK.
 */
#ifndef MICROVM_VIRTIO_MMIO_H
#define MICROVM_VIRTIO_MMIO_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "microvm/bus.h"
#include "microvm/compiler.h"
#include "microvm/gmem.h"
#include "microvm/virtq.h"
#include "snapshot/state.h"

/* virtio-balloon's inflate, deflate, statistics and free page reporting queues. */
#define VIRTIO_MMIO_MAX_QUEUES 4
/* Guest errors logged per device before going quiet. */
#define VIRTIO_MMIO_ERRORS_LOGGED 8

struct virtio_mmio;

struct virtio_device_ops {
	const char *name;         /* "virtio-blk": for messages */
	uint32_t device_id;       /* VIRTIO_ID_* */
	unsigned int nr_queues;   /* at most VIRTIO_MMIO_MAX_QUEUES */
	/* The driver notified a queue that is ready while DRIVER_OK. */
	void (*notify)(void *ctx, unsigned int queue);
	/* The driver reset the device: drop anything in flight. May be NULL. */
	void (*reset)(void *ctx);
	/*
	 * The driver set DRIVER_OK, having accepted features: called before any queue is
	 * served. May be NULL.
	 */
	void (*driver_ok)(void *ctx, uint64_t features);
	/*
	 * The driver wrote len bytes at off of the configuration space (within it); NULL:
	 * the space is read-only and such writes are guest errors.
	 */
	void (*config_write)(void *ctx, uint32_t off, const uint8_t *data, uint32_t len);
};

/* What a device model hands its transport. */
struct virtio_device {
	const struct virtio_device_ops *ops;
	void *ctx;
	/* Device-specific feature bits; the transport adds VERSION_1 and INDIRECT_DESC. */
	uint64_t features;
	/* The configuration space, little-endian, read-only to the driver but through config_write. */
	const void *config;
	uint32_t config_size;
};

/* Raises an edge on a GSI (KVM_IRQ_LINE 1 then 0, as an irqfd would). */
struct virtio_irq {
	void (*pulse)(void *ctx, unsigned int gsi);
	void *ctx;
	unsigned int gsi;
};

/* What the transport did, for the metrics (read from another thread). */
struct virtio_mmio_stats {
	atomic_ullong notifications;  /* queue notifications from the driver */
	atomic_ullong used;           /* chains the device completed */
	atomic_ullong used_bytes;     /* bytes it wrote into the driver's buffers */
	atomic_ullong interrupts;
	atomic_ullong guest_errors;   /* requests refused as malformed, or queues reset */
	atomic_ullong throttled;      /* requests a rate limiter made wait */
};

struct virtio_mmio {
	pthread_mutex_t lock;
	struct virtio_device dev;
	const struct gmem *mem;
	struct virtio_irq irq;
	uint64_t base;            /* for messages */
	uint32_t status;
	uint32_t device_features_sel, driver_features_sel, queue_sel;
	uint64_t driver_features;
	uint32_t isr;
	uint32_t config_generation;  /* bumped when the host changes the device's config */
	uint32_t early_notify;       /* ready queues notified before DRIVER_OK, by bit: served then */
	struct virtio_mmio_stats stats;
	unsigned int errors_logged;
	struct virtq queues[VIRTIO_MMIO_MAX_QUEUES];
	struct virtq_chain chain;  /* the chain being served (under the lock) */
};

/* Register access in the device's window (offsets 0x000-0xfff), under the lock. */
extern const struct bus_ops virtio_mmio_bus_ops;

MUST_CHECK int virtio_mmio_init(struct virtio_mmio *t, const struct virtio_device *dev,
				const struct gmem *mem, const struct virtio_irq *irq, uint64_t base);
void virtio_mmio_destroy(struct virtio_mmio *t);

/* For device threads: everything below needs the lock held. */
void virtio_mmio_lock(struct virtio_mmio *t);
void virtio_mmio_unlock(struct virtio_mmio *t);
/* DRIVER_OK, no reset needed and the queue ready: the device may use it. */
bool virtio_mmio_queue_live(const struct virtio_mmio *t, unsigned int queue);
/*
 * The next well-formed chain of a live queue, or NULL when there is none (or the
 * queue broke: the device then needs a reset). Malformed chains met on the way are
 * handed back empty and logged. The chain stays valid until the next pop.
 */
const struct virtq_chain *virtio_mmio_pop(struct virtio_mmio *t, unsigned int queue);
/* Hands a popped chain back with len bytes written to it. */
void virtio_mmio_push(struct virtio_mmio *t, unsigned int queue, uint16_t head, uint32_t len);
/* Hands n popped chains back together (virtq_push_many): heads[i] with lens[i] bytes. */
void virtio_mmio_push_many(struct virtio_mmio *t, unsigned int queue, const uint16_t *heads,
			   const uint32_t *lens, unsigned int n);
/* After pushes: interrupts the driver unless it asked not to be. */
void virtio_mmio_signal(struct virtio_mmio *t, unsigned int queue);
/*
 * Puts the chain just popped back in the queue, to be popped again later. Called n
 * times, puts back the last n chains popped, if no malformed chain was met between
 * them (virtio_mmio_taken tells).
 */
void virtio_mmio_unpop(struct virtio_mmio *t, unsigned int queue);
/*
 * How many available entries the queue has consumed (modulo 2^16): one per chain
 * popped, and one per malformed chain a pop handed back empty on the way.
 */
uint16_t virtio_mmio_taken(const struct virtio_mmio *t, unsigned int queue);
/* Serves every chain available now (at most the queue size): fn returns the length written. */
void virtio_mmio_drain(struct virtio_mmio *t, unsigned int queue,
		       uint32_t (*fn)(void *ctx, const struct virtq_chain *c), void *ctx);
/* The same, stopping at the first chain admit refuses, which stays in the queue. */
void virtio_mmio_drain_admitted(struct virtio_mmio *t, unsigned int queue,
				bool (*admit)(void *ctx, const struct virtq_chain *c),
				uint32_t (*fn)(void *ctx, const struct virtq_chain *c), void *ctx);
/*
 * The driver notified queue (its write to QueueNotify, or KVM's eventfd for that write,
 * src/dev/registry.c): served by the device if the queue is live, held until DRIVER_OK
 * if it is only ready, a guest error otherwise.
 */
void virtio_mmio_queue_notify(struct virtio_mmio *t, uint32_t queue);
/* A guest error: logged (rate-limited) with the device's name and window. */
void virtio_mmio_guest_error(struct virtio_mmio *t, const char *fmt, ...) PRINTF_LIKE(2, 3);
/* The driver broke the protocol: sets DEVICE_NEEDS_RESET and tells it. */
void virtio_mmio_needs_reset(struct virtio_mmio *t, const char *why);
/* Under the lock: the device's config space changed (a new generation); the driver is told. */
void virtio_mmio_config_changed(struct virtio_mmio *t);

/* Under the lock, the device quiet: the transport's and its queues' state, for a snapshot. */
void virtio_mmio_save(const struct virtio_mmio *t, struct snap_transport *out);
/*
 * A snapshot's state into a fresh transport (nothing served yet): the device kind and
 * queue count must match, the status, features and interrupt bits be ones the driver
 * could have set, and each ready queue passes virtq_enable's checks against guest
 * memory as when the driver made it ready, with no more chains in flight than its
 * size. -EINVAL with *why naming the fault, the transport then back at reset.
 */
MUST_CHECK int virtio_mmio_restore(struct virtio_mmio *t, const struct snap_transport *in,
				   const char **why);

#endif
