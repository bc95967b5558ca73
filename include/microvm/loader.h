/*
 * Strict x86-64 Linux loader: ELF vmlinux and bzImage kernels, initrd, command
 * line and zero page. Pure: writes only through gmem, knows only the layout.
 * Every rejection fills a struct diag naming the file, the field, the value and
 * the checklist item (../shared/docs/LOADER-CHECKLIST.md) it breaks.
 */
#ifndef MICROVM_LOADER_H
#define MICROVM_LOADER_H

#include <asm/bootparam.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "microvm/compiler.h"
#include "microvm/diag.h"
#include "microvm/gmem.h"
#include "microvm/image.h"

enum kernel_format { KERNEL_ELF, KERNEL_BZIMAGE };

struct kernel_load_opts {
	/* ELF: add load_offset to every p_paddr. bzImage: load at load_addr, not code32_start. */
	bool relocate;
	uint64_t load_offset;
	uint64_t load_addr;
	/* boot_load: the 64-bit entry even when the kernel has a PVH entry. */
	bool entry64;
};

/* How the boot CPU enters the kernel. */
enum boot_entry {
	BOOT_ENTRY_64,   /* the 64-bit boot protocol: long mode, RSI = zero page */
	BOOT_ENTRY_PVH,  /* the PVH ABI: 32-bit protected mode, EBX = hvm_start_info */
};

struct kernel_info {
	enum kernel_format format;
	uint64_t entry;          /* 64-bit entry point (RIP) */
	uint64_t load_start;     /* lowest loaded guest address */
	uint64_t load_end;       /* one past the highest loaded (or zero-filled) byte */
	bool has_pvh_entry;
	uint32_t pvh_entry;      /* XEN_ELFNOTE_PHYS32_ENTRY, 32-bit protected-mode entry */
	/* bzImage only */
	uint16_t protocol;
	uint64_t runtime_start;  /* where the kernel decompresses itself to ... */
	uint64_t runtime_end;    /* ... runtime_start + init_size */
	struct setup_header hdr; /* the header bytes the image declares, rest zero */
	uint32_t cmdline_max;    /* longest command line the kernel accepts, without NUL */
	uint64_t initrd_max;     /* highest byte an initrd may occupy */
};

struct boot_info {
	struct kernel_info kernel;
	/* PVH when the kernel has a PVH entry and the 64-bit one was not asked for, as Firecracker. */
	enum boot_entry entry;
	uint64_t reserve_end;    /* end of every kernel reservation */
	uint64_t initrd_addr;
	uint64_t initrd_size;
	uint64_t cmdline_addr;
	uint64_t cmdline_len;    /* without the NUL */
	unsigned int e820_entries;
	struct boot_e820_entry e820[E820_MAX_ENTRIES_ZEROPAGE];
};

/* Loads an ELF vmlinux (checks E*, S*, N*). */
MUST_CHECK int elf_load(const struct gmem *mem, const struct image *img,
			const struct kernel_load_opts *opts, struct kernel_info *out, struct diag *d);
/* Loads a bzImage's protected-mode kernel (checks B1-B9). */
MUST_CHECK int bzimage_load(const struct gmem *mem, const struct image *img,
			    const struct kernel_load_opts *opts, struct kernel_info *out,
			    struct diag *d);
/* ELF when the magic is there (any ELF error is final), else bzImage when HdrS is, else reject (F2). */
MUST_CHECK int kernel_load(const struct gmem *mem, const struct image *img,
			   const struct kernel_load_opts *opts, struct kernel_info *out, struct diag *d);

/* Places the initrd page-aligned, as high as allowed, above reserve_end (B11). */
MUST_CHECK int initrd_load(const struct gmem *mem, const struct image *initrd,
			   uint64_t reserve_end, uint64_t initrd_max, uint64_t *addr,
			   struct diag *d);
/* A command line under construction: the user's, then what the VMM adds. */
struct cmdline_buf {
	char text[4096];  /* LAYOUT_CMDLINE_MAX */
	size_t len;
};
/* Appends params after a space; rejects control characters and overlong lines. */
MUST_CHECK int cmdline_append(struct cmdline_buf *cl, const char *params, struct diag *d);

/* Writes the NUL-terminated command line at LAYOUT_CMDLINE_START (B10). */
MUST_CHECK int cmdline_write(const struct gmem *mem, const char *cmdline, uint32_t cmdline_max,
			     uint64_t *len, struct diag *d);

/* The e820 map of guest RAM around the EBDA/BIOS area and the MMIO gap. */
unsigned int e820_build(const struct gmem *mem, struct boot_e820_entry *table, unsigned int max);
/* Builds boot_params at LAYOUT_ZERO_PAGE_START from zeros (B12). */
MUST_CHECK int zeropage_write(const struct gmem *mem, const struct boot_info *boot, struct diag *d);
/*
 * Builds the PVH entry's hvm_start_info at LAYOUT_PVH_INFO_START from zeros: the memory
 * map from boot->e820, the command line, the initrd as the one module.
 */
MUST_CHECK int start_info_write(const struct gmem *mem, const struct boot_info *boot,
				struct diag *d);

/*
 * Everything a boot needs, in order: kernel, initrd (optional), command line,
 * e820, with the layout invariants (L1) checked, and what the entry reads: the zero
 * page for the 64-bit entry, the PVH start info for the PVH entry.
 */
MUST_CHECK int boot_load(const struct gmem *mem, const struct image *kernel,
			 const struct image *initrd, const char *cmdline,
			 const struct kernel_load_opts *opts, struct boot_info *out, struct diag *d);

/* The --check summary: format, protocol, load range, entries, initrd, command line, e820. */
void boot_print_summary(FILE *out, const char *kernel_name, const struct boot_info *boot);

#endif
