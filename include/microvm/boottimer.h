/*
 * The boot-timer port (0x3f0, Firecracker's older magic port): the guest writes 123
 * as early as it can, and the VMM logs how long after its own start that happened.
 */
#ifndef MICROVM_BOOTTIMER_H
#define MICROVM_BOOTTIMER_H

#include <stdatomic.h>
#include <stdint.h>

#include "microvm/bus.h"

#define BOOTTIMER_PORT 0x3f0
#define BOOTTIMER_MAGIC 123

struct boottimer {
	uint64_t start_ns;   /* process start, CLOCK_BOOTTIME */
	atomic_bool fired;
};

extern const struct bus_ops boottimer_bus_ops;

/* Records the process start precisely; main() calls it first. */
void boottimer_mark_process_start(void);
/* The recorded start, or /proc/self/stat's starttime (10 ms resolution) when none was. */
uint64_t boottimer_process_start_ns(void);
void boottimer_init(struct boottimer *t);

#endif
