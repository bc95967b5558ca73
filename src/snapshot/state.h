/*
 * What a vmstate file holds, section by section (format.h is the container), and its
 * checked decoding: every section's size exact, every index within the machine it
 * describes, each per-vCPU and per-device section present exactly once, counts within
 * their arrays. What only KVM or the devices can judge (register values, queue rings
 * in guest memory) they judge again on restore: virtio_mmio_restore re-validates each
 * queue as when a driver makes it ready. Pure: no KVM calls.
 */
#ifndef MICROVM_SNAPSHOT_STATE_H
#define MICROVM_SNAPSHOT_STATE_H

#include <linux/kvm.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arch/x86/fwtable.h"
#include "microvm/compiler.h"
#include "microvm/diag.h"
#include "snapshot/format.h"

#define SNAP_MAX_VCPUS 64
#define SNAP_MAX_DEVICES 19      /* the virtio IRQ lines (arch/x86/layout.h) */
#define SNAP_MAX_MSRS 256
#define SNAP_MAX_CPUID 256       /* CPUID_MAX_ENTRIES */
#define SNAP_MAX_QUEUES 4        /* VIRTIO_MMIO_MAX_QUEUES (virtio-balloon has 4) */
#define SNAP_CONFIG_MAX (1024 * 1024)

enum snap_tag {
	SNAP_MACHINE = 1,   /* struct snap_machine */
	SNAP_CONFIG,        /* the VM's devices in Firecracker's JSON (vmconfig_export) */
	SNAP_CPUID,         /* per vCPU: u32 count, u32 zero, struct kvm_cpuid_entry2[count] */
	SNAP_VCPU,          /* per vCPU: struct snap_vcpu */
	SNAP_MSRS,          /* per vCPU: u32 count, u32 zero, struct kvm_msr_entry[count] */
	SNAP_VM,            /* struct snap_vm */
	SNAP_LEGACY,        /* struct snap_legacy */
	SNAP_DEVICE,        /* per virtio device, in registry order: struct snap_transport */
	SNAP_ACPI,          /* struct snap_acpi (format version 2) */
	SNAP_BALLOON,       /* struct snap_balloon, with a balloon only (format version 3) */
};

struct snap_machine {
	uint32_t nr_vcpus, nr_devices;
	uint64_t ram_size;        /* bytes; the memory file holds exactly these */
	uint32_t tsc_khz;         /* the vCPUs' TSC frequency, 0 if KVM did not say */
	uint32_t reserved;
};

struct snap_vcpu {
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	uint32_t xsave[1024];     /* struct kvm_xsave's region: KVM_GET_XSAVE's 4 KiB */
	struct kvm_xcrs xcrs;
	struct kvm_lapic_state lapic;
	struct kvm_vcpu_events events;
	struct kvm_debugregs debugregs;
	struct kvm_mp_state mp_state;
	uint32_t reserved;
};

struct snap_vm {
	struct kvm_irqchip chips[3];  /* PIC master, PIC slave, IOAPIC: chip_id 0, 1, 2 */
	struct kvm_pit_state2 pit;
	struct kvm_clock_data clock;
};

struct snap_serial {
	uint8_t ier, lcr, mcr, scr, dll, dlm, last_rx;
	uint8_t fifo_enabled, thr_pending, irq_level;
	uint8_t rx_head, rx_count;
	uint8_t rx[16];
	uint8_t reserved[4];
};

struct snap_i8042 {
	uint8_t status, ctr, outp, pending_cmd;
	uint8_t out_head, out_count, irq_bytes, reserved;
	uint8_t out[8];
};

struct snap_legacy {
	struct snap_serial serial;
	struct snap_i8042 i8042;
};

struct snap_queue {
	uint64_t desc, avail, used;
	uint32_t num;
	uint16_t next_avail, next_used;
	uint8_t ready;
	uint8_t reserved[7];
};

struct snap_transport {
	uint32_t device_id, nr_queues;
	uint32_t status, isr, config_generation;
	uint32_t device_features_sel, driver_features_sel, queue_sel;
	uint64_t driver_features;
	uint32_t early_notify;    /* ready queues notified before DRIVER_OK, by bit */
	uint32_t reserved;
	struct snap_queue queues[SNAP_MAX_QUEUES];
};

#define SNAP_BALLOON_STATS 16    /* statistics tags kept (VIRTIO_BALLOON_S_NR is 10) */

/*
 * virtio-balloon's own state (src/dev/virtio_balloon.c) beside its transport: the
 * config space (the host's target, the pages the driver says it holds), the
 * statistics queue's interval, the driver's buffer held for the next poll, and the
 * last statistics the guest sent. Its features, target and interval are also the
 * configuration's, which rebuilds the device; a restore holds the two against each
 * other.
 */
struct snap_balloon {
	uint32_t slot;            /* its device index (SNAP_DEVICE) */
	uint32_t num_pages;       /* the target */
	uint32_t actual;          /* what the driver wrote */
	uint32_t stats_interval_s;
	uint8_t deflate_on_oom, reporting;
	uint8_t stats_held;       /* the statistics buffer stats_head waits with the device */
	uint8_t reserved0;
	uint16_t stats_head;
	uint16_t reserved1;
	uint32_t stats_present;   /* bit tag: stats[tag] was sent */
	uint32_t reserved2;
	uint64_t stats[SNAP_BALLOON_STATS];
};

/* A virtio-mmio device as the firmware tables list it (struct platform_virtio). */
struct snap_slot {
	uint64_t base;
	uint32_t irq, reserved;
};

/*
 * The ACPI platform. The guest's ACPI and MP tables travel in guest memory and are not
 * written again on restore, so the machine they describe is kept to hold the restored
 * VMM's own devices against: every slot where the tables put it. And the power
 * button: pressed by a graceful stop that the guest has not answered yet. The PM
 * registers (acpi_pm.h) keep no state: each write acts at once, each read is 0.
 */
struct snap_acpi {
	uint32_t nr_vcpus, nr_slots;
	struct snap_slot slots[SNAP_MAX_DEVICES];
	uint8_t button_pressed;   /* the restored VMM gives the guest its own shutdown timeout */
	uint8_t reserved[7];
};

struct snap_cpuid {
	uint32_t nr;
	struct kvm_cpuid_entry2 entries[SNAP_MAX_CPUID];
};

struct snap_msrs {
	uint32_t nr;
	struct kvm_msr_entry entries[SNAP_MAX_MSRS];
};

/* A whole vmstate, decoded (about 1.5 MiB: allocate it). */
struct snapshot {
	struct snap_machine machine;
	char *config;                 /* NUL-terminated, malloc'd */
	struct snap_vcpu vcpus[SNAP_MAX_VCPUS];
	struct snap_cpuid cpuid[SNAP_MAX_VCPUS];
	struct snap_msrs msrs[SNAP_MAX_VCPUS];
	struct snap_vm vm;
	struct snap_legacy legacy;
	struct snap_transport devices[SNAP_MAX_DEVICES];
	struct snap_acpi acpi;
	bool has_balloon;             /* the machine has a balloon, and this is its state */
	struct snap_balloon balloon;
};

/* Decodes a parsed file into s, which the caller zeroed; d names the section and field at fault. */
MUST_CHECK int snapstate_decode(const struct snapfmt_view *v, struct snapshot *s, struct diag *d);
/* The file for s; the writer owns the bytes. */
MUST_CHECK int snapstate_encode(const struct snapshot *s, struct snapfmt_writer *w);
/* Frees what decode allocated (the config text). */
void snapstate_free(struct snapshot *s);

/* The platform cfg describes (its tables' machine), for a snapshot; button_pressed as given. */
void snapstate_describe(struct snap_acpi *out, const struct platform_config *cfg, bool button_pressed);
/*
 * The restoring VMM's own platform (now) against the one the snapshot's tables describe:
 * 0 when each vCPU count and slot matches, else -EINVAL with the first difference in d.
 */
MUST_CHECK int snapstate_check_platform(const struct snap_acpi *saved,
					const struct platform_config *now, struct diag *d);

/*
 * CPU features the snapshot's vCPU 0 was given that supported (the host's
 * KVM_GET_SUPPORTED_CPUID) lacks: 0 when none, else -ENOTSUP with the first leaf,
 * register and bits named in d.
 */
MUST_CHECK int snapstate_check_cpu(const struct snap_cpuid *saved, const struct kvm_cpuid2 *supported,
				   struct diag *d);

#endif
