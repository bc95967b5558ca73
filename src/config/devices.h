/*
 * Every device kind, once, in slot order: the virtio-mmio windows, their interrupt
 * lines and the guest's names for the devices (vda, vdb ...) follow this order.
 * DEVICE_KIND(spec, ops) names the two halves of a kind:
 *   spec  its struct device_spec (src/config/<option>.c): the option, its fields and
 *         how many a VM may have. KVM-free: the command line, the jailer and the
 *         config file read it, through the option table (src/config/options.c).
 *   ops   its struct device_ops (src/dev/<device>.c): the threads that serve it, and
 *         open, attach, watch, close; the VMM's only (src/dev/registry.c).
 * A new device is a line here, those two files (and their headers), and its rules in
 * the policy of each thread that serves it.
 */
#ifndef MICROVM_CONFIG_DEVICES_H
#define MICROVM_CONFIG_DEVICES_H

#include "config/devspec.h"

#define DEVICE_KINDS(DEVICE_KIND)                          \
	DEVICE_KIND(drive_spec, virtio_blk_device_ops)     \
	DEVICE_KIND(net_spec, virtio_net_device_ops)       \
	DEVICE_KIND(rng_spec, virtio_rng_device_ops)       \
	DEVICE_KIND(vsock_spec, virtio_vsock_device_ops)   \
	DEVICE_KIND(balloon_spec, virtio_balloon_device_ops)

#define DEVICE_SPEC_DECLARE(spec, ops) extern const struct device_spec spec;
DEVICE_KINDS(DEVICE_SPEC_DECLARE)
#undef DEVICE_SPEC_DECLARE

#endif
