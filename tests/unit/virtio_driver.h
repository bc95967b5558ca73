/*
 * A minimal virtio-mmio driver for unit tests: drives a transport through its bus
 * ops the way Linux does, over calloc'd guest memory, and builds descriptor chains.
 */
#ifndef MICROVM_TESTS_VIRTIO_DRIVER_H
#define MICROVM_TESTS_VIRTIO_DRIVER_H

#include <stdbool.h>
#include <stdint.h>

#include "microvm/gmem.h"
#include "microvm/virtio_mmio.h"

#define VD_RAM (4ULL << 20)
#define VD_QUEUE_SIZE 16
/* Where each queue's rings go, and a free area for buffers. */
#define VD_RINGS(q) (0x10000ULL + 0x4000ULL * (q))
#define VD_BUFS 0x100000ULL

struct vd_buf {
	uint64_t gpa;
	uint32_t len;
	bool write;      /* device-writable */
};

struct vd {
	uint8_t *ram;
	struct gmem mem;
	struct virtio_mmio *t;
	unsigned int irqs;                       /* interrupt pulses seen */
	uint16_t next_desc[VIRTIO_MMIO_MAX_QUEUES];
	uint16_t avail_idx[VIRTIO_MMIO_MAX_QUEUES];
	uint16_t used_seen[VIRTIO_MMIO_MAX_QUEUES];
};

/* Guest memory and the interrupt counter; the caller then inits t with vd_irq(). */
void vd_init(struct vd *v);
void vd_free(struct vd *v);
struct virtio_irq vd_irq(struct vd *v);

uint32_t vd_read32(struct vd *v, uint64_t off);
void vd_write32(struct vd *v, uint64_t off, uint32_t val);
uint64_t vd_device_features(struct vd *v);
/* Reset, ACKNOWLEDGE, DRIVER, features, FEATURES_OK; true if the device kept FEATURES_OK. */
bool vd_negotiate(struct vd *v, uint64_t features);
/* Lays out queue q at VD_RINGS(q) with size entries and sets it ready. */
void vd_setup_queue(struct vd *v, unsigned int q, uint16_t size);
void vd_driver_ok(struct vd *v);
/* All of the above for nr queues of VD_QUEUE_SIZE with VERSION_1 (and indirect if asked). */
void vd_start(struct vd *v, unsigned int nr, bool indirect);

/* Offers one chain of n buffers on queue q (direct descriptors), notifies; returns the head. */
uint16_t vd_submit(struct vd *v, unsigned int q, const struct vd_buf *bufs, unsigned int n);
/* The same through one indirect table at table_gpa. */
uint16_t vd_submit_indirect(struct vd *v, unsigned int q, const struct vd_buf *bufs,
			    unsigned int n, uint64_t table_gpa);
/* Offers without notifying. */
uint16_t vd_offer(struct vd *v, unsigned int q, const struct vd_buf *bufs, unsigned int n);
void vd_notify(struct vd *v, unsigned int q);
/* The next used element of queue q: false if none; id and len otherwise. */
bool vd_used(struct vd *v, unsigned int q, uint32_t *id, uint32_t *len);

#endif
