/*
 * virtio-balloon (virtio 1.x): the host asks the guest for num_pages 4 KiB pages
 * (amount_mib, which PATCH /balloon changes at run time); the driver hands them over on
 * the inflate queue as page frame numbers, and the device gives each back to the host
 * (gmem_discard: madvise(MADV_DONTNEED), the VMM's RSS drops), and takes them back on
 * the deflate queue. Every PFN is hostile: each must name a page of guest RAM, or it
 * is a guest error and skipped. With stats_polling_interval_s the statistics queue
 * carries the guest's memory statistics: the device holds the driver's buffer and
 * hands it back every interval (a timer in the I/O thread) for fresh numbers. With
 * free_page_reporting the driver reports the free pages it wants the host to take,
 * as writable buffers on the reporting queue, each given back as inflated pages are.
 * Inflate, deflate, statistics and reports are served in the notifying vCPU thread.
 */
#ifndef MICROVM_VIRTIO_BALLOON_H
#define MICROVM_VIRTIO_BALLOON_H

#include <linux/virtio_balloon.h>
#include <stdbool.h>
#include <stdint.h>

#include "microvm/device_ops.h"
#include "microvm/iothread.h"
#include "microvm/virtio_mmio.h"

/* PFNs one inflate or deflate chain may carry (Linux sends at most 256). */
#define VIRTIO_BALLOON_PFNS_MAX 4096
/* Statistics entries read from one buffer (Linux sends VIRTIO_BALLOON_S_NR). */
#define VIRTIO_BALLOON_STATS_MAX 64

/* What GET /balloon/statistics reports. */
struct virtio_balloon_stats {
	uint32_t target_pages, actual_pages;
	uint64_t values[VIRTIO_BALLOON_S_NR];  /* by VIRTIO_BALLOON_S_* tag */
	uint32_t present;                      /* bit tag: the guest sent values[tag] */
};

/* What the device did, for tests and messages (under the transport's lock). */
struct virtio_balloon_counts {
	uint64_t inflated, deflated;           /* pages */
	uint64_t reported_bytes;               /* free page reporting */
	uint64_t stats_updates;                /* statistics buffers read */
};

struct virtio_balloon {
	struct virtio_balloon_config config;   /* num_pages and actual, little-endian */
	bool deflate_on_oom, reporting;
	uint32_t stats_interval_s;             /* 0: no statistics queue */
	int stats_timer_fd;
	struct io_handler stats_handler;
	bool stats_held;                       /* the driver's statistics buffer is with us */
	uint16_t stats_head;
	struct virtio_balloon_stats stats;
	struct virtio_balloon_counts counts;
	struct virtio_mmio *t;
};

/*
 * The kind's struct device_ops (virtio_balloon_device_ops), dev a struct
 * virtio_balloon, from a struct balloon_config (src/config/balloon.h). update takes a
 * new target and statistics interval (DEVICE_CHANGE_BALLOON).
 */
extern const struct device_ops virtio_balloon_device_ops;
MUST_CHECK int virtio_balloon_open(void *dev, const void *config, struct diag *d);
void virtio_balloon_close(void *dev);
/* The device model to give the transport t, which it serves through. */
void virtio_balloon_device(void *dev, struct virtio_mmio *t, struct virtio_device *out);
/* The statistics as they stand (takes the transport's lock). */
void virtio_balloon_get_stats(struct virtio_balloon *b, struct virtio_balloon_stats *out);
/* What the device has done so far, for the metrics. */
void virtio_balloon_get_counts(struct virtio_balloon *b, struct virtio_balloon_counts *out);

#endif
