/*
 * Guest linear-to-physical translation through the guest's own page tables, read
 * through gmem with every step checked: how the VMM finds the instruction bytes at a
 * (virtual) RIP. Handles no paging, 32-bit, PAE, 4-level and 5-level paging.
 */
#ifndef MICROVM_ARCH_X86_PAGEWALK_H
#define MICROVM_ARCH_X86_PAGEWALK_H

#include <stddef.h>
#include <stdint.h>

#include "microvm/compiler.h"
#include "microvm/gmem.h"

/* The control state that selects the paging mode (from KVM_GET_SREGS). */
struct pagewalk_ctx {
	uint64_t cr0, cr3, cr4, efer;
};

/* -EFAULT when an entry is not present, lies outside guest RAM, or the address is non-canonical. */
MUST_CHECK int pagewalk_translate(const struct gmem *mem, const struct pagewalk_ctx *ctx,
				  uint64_t la, uint64_t *gpa);
/*
 * Copies up to len bytes from linear address la, page by page; stops at the first
 * byte that does not translate to RAM. Returns the number of bytes copied.
 */
size_t pagewalk_read(const struct gmem *mem, const struct pagewalk_ctx *ctx, uint64_t la,
		     void *dst, size_t len);

#endif
