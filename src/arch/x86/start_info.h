/*
 * The PVH boot ABI's start of day structures (Xen's public arch-x86/hvm/start_info.h,
 * version 1, and docs/misc/pvh.pandoc), which the kernel does not export to user space:
 * a guest entered at its XEN_ELFNOTE_PHYS32_ENTRY finds this at EBX.
 */
#ifndef MICROVM_ARCH_X86_START_INFO_H
#define MICROVM_ARCH_X86_START_INFO_H

#include <stdint.h>

#define HVM_START_MAGIC 0x336ec578U
/* Version 1 adds the memory map; Linux wants it (without one, it asks Xen's hypercalls). */
#define HVM_START_VERSION 1

struct hvm_start_info {
	uint32_t magic;
	uint32_t version;
	uint32_t flags;
	uint32_t nr_modules;
	uint64_t modlist_paddr;   /* struct hvm_modlist_entry[nr_modules] */
	uint64_t cmdline_paddr;   /* NUL-terminated */
	uint64_t rsdp_paddr;      /* 0: none given */
	uint64_t memmap_paddr;    /* struct hvm_memmap_table_entry[memmap_entries] */
	uint32_t memmap_entries;
	uint32_t reserved;
};

/* Linux takes the first module as its initrd. */
struct hvm_modlist_entry {
	uint64_t paddr;
	uint64_t size;
	uint64_t cmdline_paddr;
	uint64_t reserved;
};

/* type: the e820 types (1 RAM, 2 reserved, ...). */
struct hvm_memmap_table_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
	uint32_t reserved;
};

_Static_assert(sizeof(struct hvm_start_info) == 56, "the ABI's layout");
_Static_assert(sizeof(struct hvm_modlist_entry) == 32, "the ABI's layout");
_Static_assert(sizeof(struct hvm_memmap_table_entry) == 24, "the ABI's layout");

#endif
