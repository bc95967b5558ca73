/* Every guest physical address the VMM uses on x86-64, in one place. */
#ifndef MICROVM_ARCH_X86_LAYOUT_H
#define MICROVM_ARCH_X86_LAYOUT_H

#define LAYOUT_PAGE_SIZE 0x1000ULL
#define LAYOUT_MIB 0x100000ULL

/* The VMM's own boot structures, all below 1 MiB (Firecracker's layout). */
/*
 * null, null, code (0x10), data (0x18), TSS (0x20): the boot protocol's __BOOT_CS/__BOOT_DS;
 * then the PVH entry's 32-bit code (0x28) and 32-bit TSS (0x30).
 */
#define LAYOUT_GDT_START 0x500ULL
#define LAYOUT_GDT_ENTRIES 7
/* One zeroed 8-byte gate right after the GDT: the guest installs its own IDT. */
#define LAYOUT_IDT_START 0x538ULL
#define LAYOUT_IDT_SIZE 8ULL
/* The PVH entry's hvm_start_info, its memory map and its module list (the initrd), in one page. */
#define LAYOUT_PVH_INFO_START 0x6000ULL
#define LAYOUT_PVH_MEMMAP_START 0x6100ULL
#define LAYOUT_PVH_MEMMAP_MAX 8
#define LAYOUT_PVH_MODLIST_START 0x6200ULL
#define LAYOUT_PVH_END 0x7000ULL
#define LAYOUT_ZERO_PAGE_START 0x7000ULL
#define LAYOUT_ZERO_PAGE_SIZE 0x1000ULL
#define LAYOUT_BOOT_STACK_POINTER 0x8ff0ULL
/* PML4, one PDPT and four page directories of 2 MiB pages: 4 GiB identity-mapped. */
#define LAYOUT_PML4_START 0x9000ULL
#define LAYOUT_PDPT_START 0xa000ULL
#define LAYOUT_PD_START 0xb000ULL
#define LAYOUT_PD_COUNT 4
#define LAYOUT_PAGE_TABLES_END 0xf000ULL
#define LAYOUT_IDENTITY_MAP_END 0x100000000ULL
#define LAYOUT_CMDLINE_START 0x20000ULL
/* Our own cap; the kernel's cmdline_size usually limits the line further. */
#define LAYOUT_CMDLINE_MAX 4096ULL
#define LAYOUT_EBDA_START 0x9fc00ULL
/*
 * The ACPI tables: the RSDP first, where the spec's scan of the BIOS area (0xe0000-
 * 0xfffff, 16-byte steps) finds it, then the tables it leads to, below the MP table.
 */
#define LAYOUT_ACPI_START 0xe0000ULL
#define LAYOUT_ACPI_MAX 0x10000ULL
/* Where the RSDP is: the PVH start info names it (a PVH-entered kernel looks there first). */
#define LAYOUT_ACPI_RSDP LAYOUT_ACPI_START
/*
 * The MP table lives in the BIOS area, which the spec's scan covers (0xf0000-0xfffff)
 * and Linux always reserves: with 64 vCPUs it needs 1500 bytes, more than the 1 KiB
 * left between the EBDA and 640 KiB.
 */
#define LAYOUT_MPTABLE_START 0xf0000ULL
#define LAYOUT_MPTABLE_MAX 0x10000ULL
/* Legacy VGA hole and BIOS area: reserved in the e820 map. */
#define LAYOUT_LEGACY_END 0x100000ULL

/* Kernels load at or above 1 MiB so they cannot reach the structures above. */
#define LAYOUT_HIMEM_START 0x100000ULL

/* The 32-bit MMIO gap; RAM that would fall there is placed above 4 GiB. */
#define LAYOUT_MMIO_GAP_START 0xd0000000ULL
#define LAYOUT_MMIO_GAP_END 0x100000000ULL
/* virtio-mmio device windows, 4 KiB each, from the start of the gap. */
#define LAYOUT_VIRTIO_MMIO_START LAYOUT_MMIO_GAP_START
#define LAYOUT_VIRTIO_MMIO_SIZE 0x1000ULL
/*
 * Their interrupt lines, one per window in the same order: IOAPIC pins 5-23, as
 * Firecracker's (COM1 has 4, the PIT 0). The MP table routes every pin.
 */
#define LAYOUT_VIRTIO_IRQ_FIRST 5
#define LAYOUT_VIRTIO_IRQ_LAST 23
#define LAYOUT_VIRTIO_MAX_DEVICES (LAYOUT_VIRTIO_IRQ_LAST - LAYOUT_VIRTIO_IRQ_FIRST + 1)
/*
 * The ACPI event line (the DSDT's GED, ACPI0013), through which the VMM presses the
 * power button: the legacy COM2 line, free since the VM has one UART.
 */
#define LAYOUT_ACPI_GED_IRQ 3
/* KVM needs three pages for the TSS and one for the identity map on Intel. */
#define LAYOUT_KVM_TSS_ADDR 0xfffbd000ULL
#define LAYOUT_KVM_IDENTITY_MAP_ADDR 0xfffbc000ULL
#define LAYOUT_IOAPIC_ADDR 0xfec00000ULL
#define LAYOUT_LAPIC_ADDR 0xfee00000ULL

/* Guest RAM accepted by gmem: enough for the boot structures and a kernel, at most 1 TiB. */
#define LAYOUT_MIN_RAM (2 * LAYOUT_MIB)
#define LAYOUT_MAX_RAM (1ULL << 40)

#endif
