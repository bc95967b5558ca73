/*
 * The guest's ACPI tables (ACPI 6.4), at LAYOUT_ACPI_START, from the same machine and
 * device slots as the MP table and the command line:
 *   RSDP  revision 2, at the start, where the scan of the BIOS area finds it
 *   XSDT  the FADT and the MADT
 *   FADT  hardware-reduced ACPI (no SCI, PM timer, GPE or fixed button): the sleep
 *         control and status registers and the reset register are the ACPI_PM ports;
 *         an 8042, no VGA, no MSI, no CMOS RTC
 *   MADT  a local APIC per vCPU (APIC ID = index), the IOAPIC (ID = vCPU count, GSIs
 *         0-23), LINT1 as NMI: what the MP table says
 *   DSDT  COM1 (PNP0501), the i8042 (PNP0303), each virtio-mmio device (LNRO0005: its
 *         window and interrupt, so a virtio_mmio module binds it), the power button
 *         (PNP0C0C), the event device (GED, ACPI0013) whose interrupt on
 *         LAYOUT_ACPI_GED_IRQ notifies it, and \_S5
 * Each table is 16-byte aligned after the one before, checksummed, and written in one
 * checked write. The OEM id is "MICRVM", the table id "MICROVM ".
 */
#ifndef MICROVM_ARCH_X86_ACPI_H
#define MICROVM_ARCH_X86_ACPI_H

#include "arch/x86/fwtable.h"
#include "microvm/compiler.h"
#include "microvm/gmem.h"

#define ACPI_MAX_CPUS 64
/* Bytes the tables may take: the most they need (64 vCPUs, every device) fits twice. */
#define ACPI_TABLES_MAX 0x2000

/*
 * Writes the tables for cfg; -EINVAL for a configuration they cannot describe (no or
 * too many vCPUs or devices, a device outside the MMIO gap or the IOAPIC's lines),
 * -ENOSPC if they outgrow ACPI_TABLES_MAX, -EFAULT if the region is not guest RAM.
 */
MUST_CHECK int acpi_write(const struct gmem *mem, const struct platform_config *cfg);

#endif
