/*
 * Metrics as Firecracker writes them: one JSON object per line, appended to a file or
 * FIFO (PUT /metrics, a config file's metrics), every METRICS_PERIOD_S seconds and on
 * the API's FlushMetrics. Counters are totals since the VMM started: API requests and
 * errors by route, vCPU exits by kind, each device's transport activity, and the
 * latencies of the VMM's start. Written by the VMM thread only; a reader that does not
 * keep up loses lines (the write never blocks), which are counted.
 */
#ifndef MICROVM_METRICS_H
#define MICROVM_METRICS_H

#include <stdint.h>

#include "api/api.h"
#include "microvm/compiler.h"
#include "microvm/diag.h"
#include "microvm/vm.h"

#define METRICS_PERIOD_S 60

/* Microseconds, each 0 until it happened. */
struct metrics_latencies {
	uint64_t api_ready_us;      /* process start to the API socket listening */
	uint64_t start_us;          /* process start to the vCPUs let run */
	uint64_t instance_start_us; /* InstanceStart: building the VM (create and boot) */
};

struct metrics {
	int fd;          /* -1: no metrics */
	int timer_fd;    /* readable every METRICS_PERIOD_S once fd is open */
	const char *id;  /* put on each line (emit_id), or NULL */
	uint64_t dropped;
};

/* No metrics, but the timer (before any filter). */
MUST_CHECK int metrics_init(struct metrics *m);
/* Opens path for appending (a FIFO without a reader too) and starts the period. */
MUST_CHECK int metrics_open(struct metrics *m, const char *path, const char *id, struct diag *d);
/* One line now; vm is NULL before the VM is built. -ENODEV when no metrics are set up. */
MUST_CHECK int metrics_flush(struct metrics *m, const struct api_stats *api, struct vm *vm,
			     const struct metrics_latencies *lat);
/* The timer fired: reads it. */
void metrics_tick(struct metrics *m);
void metrics_destroy(struct metrics *m);

#endif
