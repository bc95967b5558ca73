/*
 * What the firmware tables (MP and ACPI) share: the machine they describe, and how
 * they are built and checksummed.
 */
#ifndef MICROVM_ARCH_X86_FWTABLE_H
#define MICROVM_ARCH_X86_FWTABLE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "arch/x86/layout.h"

/* A virtio-mmio device as the guest learns of it (its registry slot). */
struct platform_virtio {
	uint64_t base;      /* its LAYOUT_VIRTIO_MMIO_SIZE window */
	unsigned int irq;   /* its IOAPIC pin */
};

/* What the tables describe. */
struct platform_config {
	unsigned int vcpus;
	unsigned int nr_virtio;
	struct platform_virtio virtio[LAYOUT_VIRTIO_MAX_DEVICES];
};

/* The byte to store so that the len bytes at p, that byte's slot included as 0, sum to 0. */
static inline uint8_t fwtable_checksum(const uint8_t *p, size_t len)
{
	uint8_t sum = 0;

	for (size_t i = 0; i < len; i++)
		sum = (uint8_t)(sum + p[i]);
	return (uint8_t)-sum;
}

/* Appends an entry to the table being built at buf + *off (the caller sized buf for it). */
static inline void fwtable_put(uint8_t *buf, size_t *off, const void *entry, size_t len)
{
	memcpy(buf + *off, entry, len);
	*off += len;
}

#endif
