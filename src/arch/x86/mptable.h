/*
 * The Intel MultiProcessor Specification 1.4 table at LAYOUT_MPTABLE_START: how a
 * guest without ACPI finds its CPUs, the IOAPIC and the ISA interrupt routing.
 */
#ifndef MICROVM_ARCH_X86_MPTABLE_H
#define MICROVM_ARCH_X86_MPTABLE_H

#include <stdint.h>

#include "microvm/compiler.h"
#include "microvm/gmem.h"

#define MPTABLE_MAX_CPUS 64
/*
 * One I/O interrupt entry per pin of the IOAPIC (which takes the APIC ID after the
 * last CPU's): IRQ n on pin n, ISA-style. Linux maps only pins the table names, and
 * the virtio devices use pins up to LAYOUT_VIRTIO_IRQ_LAST.
 */
#define MPTABLE_IOAPIC_PINS 24

/* Bytes the table takes for ncpus processors. */
uint64_t mptable_size(unsigned int ncpus);
/* Writes the floating pointer and the configuration table; -EINVAL for 0 or too many CPUs. */
MUST_CHECK int mptable_write(const struct gmem *mem, unsigned int ncpus);

#endif
