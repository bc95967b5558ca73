/*
 * A device kind's model, as the VMM runs it: one struct device_ops per kind, defined
 * in the device's own file and named in the device table (src/config/devices.h) next
 * to the kind's configuration spec. Every function takes the model as void *dev: a
 * zeroed struct of ops->size bytes, as struct virtio_device_ops hands its ctx.
 * A snapshot saves each device's transport (virtio_mmio_save); the models keep no
 * guest-visible state of their own but what restore below re-creates.
 */
#ifndef MICROVM_DEVICE_OPS_H
#define MICROVM_DEVICE_OPS_H

#include <stddef.h>

#include "config/resources.h"
#include "microvm/compiler.h"
#include "microvm/diag.h"
#include "microvm/iothread.h"
#include "microvm/virtio_mmio.h"

/* The threads that serve a device kind: its syscalls belong in their policies (policy/). */
enum device_thread {
	DEVICE_THREAD_VCPU = 1u << 0,  /* on the queue notification, in the notifying vCPU */
	DEVICE_THREAD_IO = 1u << 1,    /* in the I/O thread (src/dev/iothread.c) */
};

struct device_ops {
	unsigned int threads;          /* enum device_thread bits */
	size_t size;                   /* the model's struct */
	/* Opens the host side (files, tap, sockets) from the kind's config; NULL: none. */
	int (*open)(void *dev, const void *config, struct diag *d);
	/* The device model to give the transport t, which it serves through. */
	void (*attach)(void *dev, struct virtio_mmio *t, struct virtio_device *out);
	/* DEVICE_THREAD_IO kinds: has the I/O thread watch the device's descriptors. */
	int (*watch)(void *dev, struct iothread *io);
	/*
	 * While the VM runs (the VMM thread): takes what changes (enum device_change,
	 * config/resources.h) names from a new config of the kind: a drive's new medium,
	 * telling the driver; rate limiters. NULL: the kind cannot change.
	 */
	int (*update)(void *dev, const void *config, unsigned int changes, struct diag *d);
	/*
	 * After its transport came back from a snapshot, before any thread serves it: the
	 * model takes up from there (vsock tells the guest its connections are gone). NULL:
	 * nothing to do.
	 */
	void (*restore)(void *dev);
	/* Closes what open opened; NULL: nothing to close. */
	void (*close)(void *dev);
};

#endif
