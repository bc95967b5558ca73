/*
 * A hostile virtio driver for the device harnesses (fuzz_virtio_*.c): the input
 * is what a guest controls, guest memory and the order and values of its
 * register accesses, plus events from the host side of the device. The device
 * model and its virtio-mmio transport run unchanged over the fuzz RAM.
 *
 * Input, little-endian:
 *   struct virtio_script_header;
 *   window_len bytes copied to guest RAM at VIRTIO_SCRIPT_WINDOW (at most 64 KiB,
 *     fewer if the input ends first): the rings, descriptor tables and buffers;
 *   then 8-byte operations (struct virtio_script_op) until the input ends.
 *
 * With VIRTIO_SCRIPT_BRING_UP the driver first does what Linux does: reset,
 * ACKNOWLEDGE, DRIVER, the header's features, FEATURES_OK, each queue with a
 * non-zero size laid out at the header's window offsets and made ready, then
 * DRIVER_OK. Without it the operations have to do all of that themselves.
 */
#ifndef TESTS_FUZZ_VIRTIO_SCRIPT_H
#define TESTS_FUZZ_VIRTIO_SCRIPT_H

#include <stddef.h>
#include <stdint.h>

#include "harness.h"
#include "microvm/virtio_mmio.h"

#define VIRTIO_SCRIPT_WINDOW 0x100000ULL
#define VIRTIO_SCRIPT_WINDOW_MAX 0x10000U
/* Enough for any protocol sequence; keeps one input's time bounded. */
#define VIRTIO_SCRIPT_MAX_OPS 512

enum {
	VIRTIO_SCRIPT_BRING_UP = 1 << 0,
	/* The rest of the flags are the device harness's (read-only disk, MAC, ...). */
};

struct virtio_script_queue {
	uint16_t size;     /* 0: left alone by the bring-up */
	uint16_t unused;
	uint32_t desc, avail, used;   /* offsets in the window */
};

struct virtio_script_header {
	uint64_t features;
	uint32_t flags;
	uint32_t window_len;
	uint32_t device_arg;  /* the harness's: disk size, ... */
	uint32_t unused;
	struct virtio_script_queue queues[VIRTIO_MMIO_MAX_QUEUES];
};

enum virtio_script_kind {
	VIRTIO_SCRIPT_MMIO_WRITE, /* offset & 0xfff, 1 << (width & 3) bytes of value */
	VIRTIO_SCRIPT_MMIO_READ,
	VIRTIO_SCRIPT_STORE,      /* the guest stores value (4 bytes) at window offset */
	VIRTIO_SCRIPT_HOST,       /* the harness's host event: width, offset and value are its */
	VIRTIO_SCRIPT_KINDS,
};

struct virtio_script_op {
	uint8_t kind;     /* modulo VIRTIO_SCRIPT_KINDS */
	uint8_t width;
	uint16_t offset;
	uint32_t value;
};

/* What a device harness plugs in. */
struct virtio_script_device {
	/* Once, before the first input: what lives across inputs (NULL: nothing). */
	void (*init)(void);
	/* Opens the device for this input, to be served through t, and fills *dev. */
	void (*open)(const struct virtio_script_header *h, struct virtio_mmio *t,
		     struct virtio_device *dev);
	/* After every operation: lets the device's I/O thread run (NULL: it has none). */
	void (*poll)(void);
	/* A VIRTIO_SCRIPT_HOST operation (NULL: the device has no host events). */
	void (*host)(const struct virtio_script_op *op);
	/* Closes the device and checks what it did on the host side (NULL: nothing to close). */
	void (*close)(void);
};

/*
 * Runs one input against the device, then checks what every device must keep: a
 * queue never has more chains in use than its size, a live queue is ready under
 * DRIVER_OK, and closing the device leaves no descriptor open.
 */
void virtio_script_run(const struct virtio_script_device *d, const uint8_t *data, size_t size);

#endif
