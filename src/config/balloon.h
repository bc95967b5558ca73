/* --balloon: a virtio-balloon device (the device: src/dev/virtio_balloon.c). */
#ifndef MICROVM_CONFIG_BALLOON_H
#define MICROVM_CONFIG_BALLOON_H

#include <stdbool.h>
#include <stdint.h>

/* The target in 4 KiB pages fits the config space's 32 bits. */
#define BALLOON_AMOUNT_MIB_MAX (UINT32_MAX / 256)
/* A day: longer intervals make no sense to poll at. */
#define BALLOON_STATS_INTERVAL_MAX 86400

struct balloon_config {
	uint32_t amount_mib;          /* the target: guest memory to take back */
	bool deflate_on_oom;          /* the guest may deflate when it runs out of memory */
	uint32_t stats_interval_s;    /* statistics every this many seconds; 0: no statistics queue */
	bool free_page_reporting;     /* offer VIRTIO_BALLOON_F_FREE_PAGE_REPORTING */
};

#endif
