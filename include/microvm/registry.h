/*
 * The VM's virtio devices, opened from its resources in the order of the device table
 * (src/config/devices.h): kind by kind, each kind's devices as the resources list
 * them. Device i gets the 4 KiB window at LAYOUT_VIRTIO_MMIO_START + i * 4 KiB and IRQ
 * LAYOUT_VIRTIO_IRQ_FIRST + i, and is announced on the kernel command line as
 * virtio_mmio.device=4K@ADDR:IRQ. Nothing here knows a particular device: each kind's
 * struct device_ops does.
 *
 * The VM's lifecycle (src/vm.c): registry_open (every open, before any sandbox) and
 * registry_cmdline when it is created; registry_attach (the MMIO bus) when it boots;
 * registry_start before the VMM thread's filter goes in (the I/O thread, if a device
 * needs one) and registry_stop once the vCPUs are joined; registry_close at the end.
 */
#ifndef MICROVM_REGISTRY_H
#define MICROVM_REGISTRY_H

#include <stdbool.h>
#include <stdint.h>

#include "arch/x86/fwtable.h"
#include "arch/x86/layout.h"
#include "microvm/bus.h"
#include "microvm/compiler.h"
#include "microvm/device_ops.h"
#include "microvm/diag.h"
#include "microvm/gmem.h"
#include "microvm/iothread.h"
#include "microvm/loader.h"
#include "config/resources.h"
#include "microvm/sandbox.h"
#include "microvm/virtio_mmio.h"

#define REGISTRY_MAX_DEVICES LAYOUT_VIRTIO_MAX_DEVICES

/* One queue's notifications through KVM's eventfd, served in the I/O thread. */
struct registry_kick {
	struct io_handler handler;
	struct registry_slot *slot;
	unsigned int queue;
	int efd;                   /* -1: none */
};

struct registry_slot {
	const struct device_spec *spec;
	const struct device_ops *ops;
	void *dev;                 /* the device model (struct virtio_blk ...) */
	const void *config;        /* what it was opened from (in the resources) */
	uint64_t base;
	unsigned int irq;
	struct virtio_mmio mmio;
	bool attached;
	struct registry_kick kicks[VIRTIO_MMIO_MAX_QUEUES];
};

struct registry {
	/*
	 * One per device, allocated by registry_open: a slot carries its transport's chain
	 * scratch (4 KiB), which a fixed array of every possible device made resident in
	 * each VMM for nothing.
	 */
	struct registry_slot *slots;
	unsigned int nr;
	struct iothread io;
	bool io_ready;
};

/* Opens every device's host side (files, tap, sockets) and assigns the slots. */
MUST_CHECK int registry_open(struct registry *r, const struct vm_resources *res, struct diag *d);
/* Each device's window and line, for the platform tables (the MP table's routes, the DSDT). */
void registry_describe(const struct registry *r, struct platform_config *cfg);
/* Appends one virtio_mmio.device=4K@ADDR:IRQ per device. */
MUST_CHECK int registry_cmdline(const struct registry *r, struct cmdline_buf *cl, struct diag *d);
/* Puts every device on the MMIO bus behind its transport; pulse raises its line. */
MUST_CHECK int registry_attach(struct registry *r, struct bus *mmio, const struct gmem *mem,
			       void (*pulse)(void *ctx, unsigned int gsi), void *ctx);
/*
 * After registry_attach, for each queue a kind's device_ops.io_notify names: an eventfd
 * that bind hands KVM for the driver's write of the queue's index to the device's
 * QueueNotify (bind(ctx, address, queue, efd), 0 or -errno), served in the I/O thread.
 * Where bind fails (no KVM_IOEVENTFD), that queue's notifications come by the MMIO
 * exit as before: nothing is lost, so this does not fail for it.
 */
MUST_CHECK int registry_bind_notify(struct registry *r,
				    int (*bind)(void *ctx, uint64_t addr, uint32_t queue, int efd),
				    void *ctx);
/* Starts the I/O thread when a device needs one; failed is called on it if it cannot run. */
MUST_CHECK int registry_start(struct registry *r, const struct sandbox *sb,
			      void (*failed)(void *ctx), void *ctx);
/*
 * The device opened from config takes what changes (enum device_change) names from next
 * (ops->update); -ENOENT when no device was opened from config, -EOPNOTSUPP when its
 * kind cannot change.
 */
MUST_CHECK int registry_update(struct registry *r, const void *config, const void *next,
			       unsigned int changes, struct diag *d);
/* The model (struct virtio_balloon ...) of the first device of this kind, or NULL. */
void *registry_device(const struct registry *r, const struct device_spec *spec);
/* The I/O thread serves nothing between hold and release (a snapshot is taken). */
void registry_hold(struct registry *r);
void registry_release(struct registry *r);
/*
 * Each device's transport, in slot order, into s->devices[r->nr], and the models' own
 * state (ops->save): the vCPUs parked, the I/O thread held.
 */
void registry_save(struct registry *r, struct snapshot *s);
/*
 * Each device's transport from s->devices[r->nr], checked (virtio_mmio_restore), then
 * the model's restore; after registry_attach, before registry_start.
 */
MUST_CHECK int registry_restore(struct registry *r, const struct snapshot *s, struct diag *d);
/* Stops the I/O thread: no device is served after it returns. */
void registry_stop(struct registry *r);
/* Stops, detaches and closes everything registry_open opened. */
void registry_close(struct registry *r);

#endif
