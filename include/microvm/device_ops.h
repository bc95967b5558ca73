/*
 * A device kind's model, as the VMM runs it: one struct device_ops per kind, defined
 * in the device's own file and named in the device table (src/config/devices.h) next
 * to the kind's configuration spec. Every function takes the model as void *dev: a
 * zeroed struct of ops->size bytes, as struct virtio_device_ops hands its ctx.
 * A snapshot saves each device's transport (virtio_mmio_save), and a model's own
 * guest-visible state through save and restore below (the balloon's); a model's
 * configuration (rate limiters included) travels in the snapshot's config, which
 * rebuilds it.
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
	/*
	 * Queues (by bit) whose notifications KVM hands the I/O thread by an eventfd
	 * (KVM_IOEVENTFD) where it can, so the guest goes on without an exit to the VMM;
	 * elsewhere they come by the vCPU's MMIO exit. Such a kind has both threads.
	 */
	unsigned int io_notify;
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
	 * The vCPUs parked, the I/O thread held, under the transport's lock: the model's own
	 * state into s, for the device at index slot. NULL: none beyond its transport.
	 */
	void (*save)(void *dev, struct snapshot *s, unsigned int slot);
	/*
	 * After its transport came back from s, before any thread serves it: the model takes
	 * up from there (vsock tells the guest its connections are gone, the balloon checks
	 * and takes its state, a rate-limited queue is served again). -EINVAL with *why
	 * naming the fault. NULL: nothing to do.
	 */
	int (*restore)(void *dev, const struct snapshot *s, unsigned int slot, const char **why);
	/* Closes what open opened; NULL: nothing to close. */
	void (*close)(void *dev);
};

#endif
