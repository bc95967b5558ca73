#include "arch/x86/pagewalk.h"

#include <asm/processor-flags.h>
#include <errno.h>

#include "arch/x86/layout.h"

#define EFER_LMA (1ULL << 10)
#define PTE_PRESENT 0x1ULL
#define PTE_PS 0x80ULL
/* Bits 51:12 of a 64-bit entry; the top bits are NX and software bits. */
#define PTE_ADDR_MASK 0x000ffffffffff000ULL

static int pagewalk_entry64(const struct gmem *mem, uint64_t table, unsigned int index,
			    uint64_t *entry)
{
	int ret = gmem_read(mem, table + (uint64_t)index * 8, entry, sizeof(*entry));

	if (ret)
		return ret;
	return (*entry & PTE_PRESENT) ? 0 : -EFAULT;
}

/* 4- or 5-level (long mode) and 3-level (PAE) walks share the 64-bit entry format. */
static int pagewalk_long(const struct gmem *mem, uint64_t table, unsigned int levels,
			 uint64_t la, uint64_t *gpa)
{
	for (unsigned int level = levels; level >= 1; level--) {
		unsigned int shift = 12 + 9 * (level - 1);
		/* PAE's top level (the PDPT) has 4 entries indexed by bits 31:30. */
		unsigned int index = (unsigned int)((la >> shift) & (levels == 3 && level == 3 ? 3 : 511));
		uint64_t entry;
		int ret = pagewalk_entry64(mem, table, index, &entry);

		if (ret)
			return ret;
		/* Large pages exist at 1 GiB (level 3, not in PAE's PDPT) and 2 MiB (level 2). */
		if ((level == 2 || (level == 3 && levels != 3)) && (entry & PTE_PS)) {
			uint64_t page_mask = (1ULL << shift) - 1;

			*gpa = (entry & PTE_ADDR_MASK & ~page_mask) | (la & page_mask);
			return 0;
		}
		table = entry & PTE_ADDR_MASK;
		if (level == 1) {
			*gpa = table | (la & 0xfff);
			return 0;
		}
	}
	return -EFAULT;
}

static int pagewalk_legacy32(const struct gmem *mem, const struct pagewalk_ctx *ctx, uint64_t la,
			     uint64_t *gpa)
{
	uint32_t pde, pte;
	uint64_t dir = ctx->cr3 & 0xfffff000ULL;
	int ret = gmem_read(mem, dir + ((la >> 22) & 0x3ff) * 4, &pde, sizeof(pde));

	if (ret)
		return ret;
	if (!(pde & PTE_PRESENT))
		return -EFAULT;
	if ((ctx->cr4 & X86_CR4_PSE) && (pde & PTE_PS)) {
		*gpa = (pde & 0xffc00000ULL) | (la & 0x3fffff);
		return 0;
	}
	ret = gmem_read(mem, (pde & 0xfffff000ULL) + ((la >> 12) & 0x3ff) * 4, &pte, sizeof(pte));
	if (ret)
		return ret;
	if (!(pte & PTE_PRESENT))
		return -EFAULT;
	*gpa = (pte & 0xfffff000ULL) | (la & 0xfff);
	return 0;
}

static bool pagewalk_canonical(uint64_t la, unsigned int bits)
{
	int64_t s = (int64_t)(la << (64 - bits)) >> (64 - bits);

	return (uint64_t)s == la;
}

int pagewalk_translate(const struct gmem *mem, const struct pagewalk_ctx *ctx, uint64_t la,
		       uint64_t *gpa)
{
	if (!(ctx->cr0 & X86_CR0_PG)) {
		*gpa = la;
		return 0;
	}
	if (!(ctx->cr4 & X86_CR4_PAE))
		return pagewalk_legacy32(mem, ctx, la & 0xffffffffULL, gpa);
	if (!(ctx->efer & EFER_LMA))
		return pagewalk_long(mem, ctx->cr3 & 0xffffffe0ULL, 3, la & 0xffffffffULL, gpa);
	if (ctx->cr4 & X86_CR4_LA57) {
		if (!pagewalk_canonical(la, 57))
			return -EFAULT;
		return pagewalk_long(mem, ctx->cr3 & PTE_ADDR_MASK, 5, la, gpa);
	}
	if (!pagewalk_canonical(la, 48))
		return -EFAULT;
	return pagewalk_long(mem, ctx->cr3 & PTE_ADDR_MASK, 4, la, gpa);
}

size_t pagewalk_read(const struct gmem *mem, const struct pagewalk_ctx *ctx, uint64_t la,
		     void *dst, size_t len)
{
	uint8_t *out = dst;
	size_t done = 0;

	while (done < len) {
		uint64_t addr = la + done; /* wraps like the CPU's linear address */
		uint64_t in_page = LAYOUT_PAGE_SIZE - (addr & (LAYOUT_PAGE_SIZE - 1));
		uint64_t chunk = len - done < in_page ? len - done : in_page;
		uint64_t gpa;

		if (pagewalk_translate(mem, ctx, addr, &gpa) || gmem_read(mem, gpa, out + done, chunk))
			break;
		done += chunk;
	}
	return done;
}
