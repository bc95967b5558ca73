/*
 * ELF vmlinux loader. Checklist items E*, S*, N* of LOADER-CHECKLIST.md:
 * everything is validated before the first byte of guest memory is written.
 */
#include <errno.h>
#include <linux/elf.h>
#include <stdlib.h>
#include <string.h>

#include "arch/x86/layout.h"
#include "microvm/cleanup.h"
#include "microvm/loader.h"

/* Xen's public elfnote.h, which the kernel does not export to user space. */
#define XEN_ELFNOTE_PHYS32_ENTRY 18
/* Policy caps, with the reason: a real vmlinux has about 5 program headers
 * and a few hundred bytes of notes; more is a malformed or hostile image. */
#define ELF_MAX_PHNUM 64
#define ELF_MAX_NOTES_SIZE (64 * 1024)

struct elf_segment {
	uint64_t paddr;  /* relocated */
	uint64_t offset;
	uint64_t filesz;
	uint64_t memsz;
};

static int elf_check_header(const struct image *img, const Elf64_Ehdr *eh, struct diag *d)
{
	uint64_t ph_bytes, ph_end;

	if (eh->e_ident[EI_CLASS] != ELFCLASS64)
		return diag_fail(d, "%s: ELF field EI_CLASS %u at offset 0x%x: not ELFCLASS64 (E1)",
				 img->name, eh->e_ident[EI_CLASS], EI_CLASS);
	if (eh->e_ident[EI_DATA] != ELFDATA2LSB)
		return diag_fail(d, "%s: ELF field EI_DATA %u at offset 0x%x: not little-endian (E1)",
				 img->name, eh->e_ident[EI_DATA], EI_DATA);
	if (eh->e_ident[EI_VERSION] != EV_CURRENT)
		return diag_fail(d, "%s: ELF field EI_VERSION %u at offset 0x%x: not 1 (E1)",
				 img->name, eh->e_ident[EI_VERSION], EI_VERSION);
	if (eh->e_version != EV_CURRENT)
		return diag_fail(d, "%s: ELF field e_version %u at offset 0x14: not 1 (E1)",
				 img->name, eh->e_version);
	if (eh->e_type != ET_EXEC)
		return diag_fail(d, "%s: ELF field e_type %u at offset 0x10: not ET_EXEC (E2)",
				 img->name, eh->e_type);
	if (eh->e_machine != EM_X86_64)
		return diag_fail(d, "%s: ELF field e_machine %u at offset 0x12: not EM_X86_64 (E2)",
				 img->name, eh->e_machine);
	if (eh->e_ehsize != sizeof(Elf64_Ehdr))
		return diag_fail(d, "%s: ELF field e_ehsize %u at offset 0x34: not 64 (E3)",
				 img->name, eh->e_ehsize);
	if (eh->e_phentsize != sizeof(Elf64_Phdr))
		return diag_fail(d, "%s: ELF field e_phentsize %u at offset 0x36: not 56 (E3)",
				 img->name, eh->e_phentsize);
	if (eh->e_phnum == 0 || eh->e_phnum == PN_XNUM || eh->e_phnum > ELF_MAX_PHNUM)
		return diag_fail(d, "%s: ELF field e_phnum %u at offset 0x38: must be 1..%d (E4)",
				 img->name, eh->e_phnum, ELF_MAX_PHNUM);
	if (eh->e_phoff < sizeof(Elf64_Ehdr))
		return diag_fail(d, "%s: ELF field e_phoff 0x%llx at offset 0x20: overlaps the ELF header (E5)",
				 img->name, (unsigned long long)eh->e_phoff);
	if (mul_overflows_u64(eh->e_phnum, sizeof(Elf64_Phdr), &ph_bytes) ||
	    add_overflows_u64(eh->e_phoff, ph_bytes, &ph_end) || ph_end > img->size)
		return diag_fail(d, "%s: ELF field e_phoff 0x%llx at offset 0x20: %u program headers run past the end of the file (size %llu) (E5)",
				 img->name, (unsigned long long)eh->e_phoff, eh->e_phnum,
				 (unsigned long long)img->size);
	return 0;
}

/* S1-S4, S6 for one PT_LOAD; fills seg with the relocated placement. */
static int elf_check_load(const struct gmem *mem, const struct image *img,
			  const struct kernel_load_opts *opts, const Elf64_Phdr *ph,
			  unsigned int idx, uint64_t ph_off, struct elf_segment *seg,
			  struct diag *d)
{
	uint64_t end;

	if (ph->p_filesz > ph->p_memsz)
		return diag_fail(d, "%s: ELF program header %u field p_filesz 0x%llx at offset 0x%llx: larger than p_memsz 0x%llx (S1)",
				 img->name, idx, (unsigned long long)ph->p_filesz,
				 (unsigned long long)(ph_off + 0x20), (unsigned long long)ph->p_memsz);
	if (!image_contains(img, ph->p_offset, ph->p_filesz))
		return diag_fail(d, "%s: ELF program header %u field p_offset 0x%llx at offset 0x%llx: p_offset + p_filesz 0x%llx runs past the end of the file (size %llu) (S2)",
				 img->name, idx, (unsigned long long)ph->p_offset,
				 (unsigned long long)(ph_off + 0x8), (unsigned long long)ph->p_filesz,
				 (unsigned long long)img->size);
	if (ph->p_align > 1 && !is_pow2_u64(ph->p_align))
		return diag_fail(d, "%s: ELF program header %u field p_align 0x%llx at offset 0x%llx: not 0, 1 or a power of two (S6)",
				 img->name, idx, (unsigned long long)ph->p_align,
				 (unsigned long long)(ph_off + 0x30));

	seg->offset = ph->p_offset;
	seg->filesz = ph->p_filesz;
	seg->memsz = ph->p_memsz;
	if (add_overflows_u64(ph->p_paddr, opts->relocate ? opts->load_offset : 0, &seg->paddr) ||
	    add_overflows_u64(seg->paddr, ph->p_memsz, &end))
		return diag_fail(d, "%s: ELF program header %u field p_paddr 0x%llx at offset 0x%llx: the segment (p_memsz 0x%llx) wraps the address space (S3)",
				 img->name, idx, (unsigned long long)ph->p_paddr,
				 (unsigned long long)(ph_off + 0x18), (unsigned long long)ph->p_memsz);
	if (ph->p_memsz == 0)
		return 0;
	if (seg->paddr < LAYOUT_HIMEM_START)
		return diag_fail(d, "%s: ELF program header %u field p_paddr 0x%llx at offset 0x%llx: below 1 MiB, where the zero page, command line and page tables live (S4)",
				 img->name, idx, (unsigned long long)seg->paddr,
				 (unsigned long long)(ph_off + 0x18));
	if (!gmem_is_ram(mem, seg->paddr, seg->memsz) || end > LAYOUT_IDENTITY_MAP_END)
		return diag_fail(d, "%s: ELF program header %u field p_paddr 0x%llx at offset 0x%llx: [0x%llx, 0x%llx) is not inside guest RAM below the MMIO gap (%llu MiB of RAM) (S3)",
				 img->name, idx, (unsigned long long)ph->p_paddr,
				 (unsigned long long)(ph_off + 0x18), (unsigned long long)seg->paddr,
				 (unsigned long long)end, (unsigned long long)(mem->ram_size >> 20));
	return 0;
}

static uint64_t align4(uint64_t v)
{
	return (v + 3) & ~3ULL;
}

/* Address inside the file-backed bytes of some loaded segment (S9, N3)? */
static bool elf_in_file_bytes(const struct elf_segment *segs, unsigned int n, uint64_t addr)
{
	for (unsigned int i = 0; i < n; i++)
		if (addr >= segs[i].paddr && addr - segs[i].paddr < segs[i].filesz)
			return true;
	return false;
}

/* N1-N3: walks one PT_NOTE segment with 4-byte alignment whatever p_align says. */
static int elf_find_pvh(const struct image *img, const Elf64_Phdr *ph, unsigned int idx,
			const struct kernel_load_opts *opts, const struct elf_segment *segs,
			unsigned int nsegs, struct kernel_info *out, struct diag *d)
{
	cleanup_free uint8_t *notes = NULL;
	uint64_t off = 0;
	int ret;

	if (!image_contains(img, ph->p_offset, ph->p_filesz))
		return diag_fail(d, "%s: ELF program header %u (PT_NOTE) field p_offset 0x%llx: p_offset + p_filesz 0x%llx runs past the end of the file (size %llu) (N1)",
				 img->name, idx, (unsigned long long)ph->p_offset,
				 (unsigned long long)ph->p_filesz, (unsigned long long)img->size);
	if (ph->p_filesz > ELF_MAX_NOTES_SIZE)
		return diag_fail(d, "%s: ELF program header %u (PT_NOTE) field p_filesz 0x%llx: more than the %d bytes of notes a kernel carries (N1)",
				 img->name, idx, (unsigned long long)ph->p_filesz, ELF_MAX_NOTES_SIZE);
	if (ph->p_filesz == 0)
		return 0;
	notes = malloc(ph->p_filesz);
	if (!notes)
		return diag_fail_errno(d, -ENOMEM, "%s: out of memory reading notes", img->name);
	ret = image_read(img, ph->p_offset, notes, ph->p_filesz);
	if (ret)
		return diag_fail_errno(d, ret, "%s: short read of notes at offset 0x%llx (F1)",
				       img->name, (unsigned long long)ph->p_offset);

	while (ph->p_filesz - off >= sizeof(Elf64_Nhdr)) {
		Elf64_Nhdr nh;
		uint64_t remaining = ph->p_filesz - off, need, name_off, desc_off;

		memcpy(&nh, notes + off, sizeof(nh));
		need = sizeof(nh) + align4(nh.n_namesz) + (uint64_t)nh.n_descsz;
		if (need > remaining)
			return diag_fail(d, "%s: ELF note at offset 0x%llx: n_namesz %u and n_descsz %u run past the end of the note segment (N2)",
					 img->name, (unsigned long long)(ph->p_offset + off),
					 nh.n_namesz, nh.n_descsz);
		name_off = off + sizeof(nh);
		desc_off = name_off + align4(nh.n_namesz);
		if (nh.n_namesz == 4 && memcmp(notes + name_off, "Xen", 4) == 0 &&
		    nh.n_type == XEN_ELFNOTE_PHYS32_ENTRY && !out->has_pvh_entry) {
			uint32_t entry;
			uint64_t relocated;

			if (nh.n_descsz < sizeof(entry))
				return diag_fail(d, "%s: ELF PVH note at offset 0x%llx field n_descsz %u: shorter than the 4-byte entry (N3)",
						 img->name, (unsigned long long)(ph->p_offset + off),
						 nh.n_descsz);
			memcpy(&entry, notes + desc_off, sizeof(entry));
			relocated = (uint64_t)entry + (opts->relocate ? opts->load_offset : 0);
			if (relocated > UINT32_MAX || !elf_in_file_bytes(segs, nsegs, relocated))
				return diag_fail(d, "%s: ELF PVH note at offset 0x%llx: entry 0x%x is not inside the file-backed bytes of a PT_LOAD segment (N3)",
						 img->name, (unsigned long long)(ph->p_offset + off), entry);
			out->has_pvh_entry = true;
			out->pvh_entry = (uint32_t)relocated;
		}
		/* need >= 12, so the walk always advances; the last note may omit its padding. */
		off += need + (align4(nh.n_descsz) - nh.n_descsz);
		if (off > ph->p_filesz)
			break;
	}
	return 0;
}

int elf_load(const struct gmem *mem, const struct image *img, const struct kernel_load_opts *opts,
	     struct kernel_info *out, struct diag *d)
{
	static const struct kernel_load_opts no_opts;
	Elf64_Ehdr eh;
	Elf64_Phdr phdrs[ELF_MAX_PHNUM];
	struct elf_segment segs[ELF_MAX_PHNUM];
	unsigned int nsegs = 0;
	uint64_t entry;
	int ret;

	if (!opts)
		opts = &no_opts;
	memset(out, 0, sizeof(*out));
	out->format = KERNEL_ELF;
	if (img->size < sizeof(eh))
		return diag_fail(d, "%s: file size %llu: smaller than the 64-byte ELF header (E0)",
				 img->name, (unsigned long long)img->size);
	if (image_read(img, 0, &eh, sizeof(eh)))
		return diag_fail_errno(d, -EIO, "%s: short read of the ELF header (F1)", img->name);
	if (memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0)
		return diag_fail(d, "%s: ELF field e_ident at offset 0: no ELF magic (F2)", img->name);
	ret = elf_check_header(img, &eh, d);
	if (ret)
		return ret;
	if (image_read(img, eh.e_phoff, phdrs, (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr)))
		return diag_fail_errno(d, -EIO, "%s: short read of the program headers (F1)", img->name);

	out->load_start = UINT64_MAX;
	for (unsigned int i = 0; i < eh.e_phnum; i++) {
		uint64_t ph_off = eh.e_phoff + (uint64_t)i * sizeof(Elf64_Phdr);
		struct elf_segment *seg = &segs[nsegs];

		if (phdrs[i].p_type != PT_LOAD)
			continue;
		ret = elf_check_load(mem, img, opts, &phdrs[i], i, ph_off, seg, d);
		if (ret)
			return ret;
		if (seg->memsz == 0)
			continue;
		for (unsigned int j = 0; j < nsegs; j++)
			if (ranges_overlap(seg->paddr, seg->paddr + seg->memsz, segs[j].paddr,
					   segs[j].paddr + segs[j].memsz))
				return diag_fail(d, "%s: ELF program header %u field p_paddr 0x%llx at offset 0x%llx: [0x%llx, 0x%llx) overlaps another PT_LOAD at [0x%llx, 0x%llx) (S5)",
						 img->name, i, (unsigned long long)phdrs[i].p_paddr,
						 (unsigned long long)(ph_off + 0x18),
						 (unsigned long long)seg->paddr,
						 (unsigned long long)(seg->paddr + seg->memsz),
						 (unsigned long long)segs[j].paddr,
						 (unsigned long long)(segs[j].paddr + segs[j].memsz));
		if (seg->paddr < out->load_start)
			out->load_start = seg->paddr;
		if (seg->paddr + seg->memsz > out->load_end)
			out->load_end = seg->paddr + seg->memsz;
		nsegs++;
	}
	if (nsegs == 0)
		return diag_fail(d, "%s: ELF field e_phnum %u at offset 0x38: no PT_LOAD segment with p_memsz > 0 (S8)",
				 img->name, eh.e_phnum);

	if (add_overflows_u64(eh.e_entry, opts->relocate ? opts->load_offset : 0, &entry) ||
	    !elf_in_file_bytes(segs, nsegs, entry))
		return diag_fail(d, "%s: ELF field e_entry 0x%llx at offset 0x18: not inside the file-backed bytes of a PT_LOAD segment (S9)",
				 img->name, (unsigned long long)eh.e_entry);
	out->entry = entry;

	for (unsigned int i = 0; i < eh.e_phnum; i++) {
		if (phdrs[i].p_type != PT_NOTE)
			continue;
		ret = elf_find_pvh(img, &phdrs[i], i, opts, segs, nsegs, out, d);
		if (ret)
			return ret;
	}

	/* Every check passed: now, and only now, write guest memory (S7). */
	for (unsigned int i = 0; i < nsegs; i++) {
		ret = image_read_to_gmem(img, segs[i].offset, mem, segs[i].paddr, segs[i].filesz);
		if (ret)
			return diag_fail_errno(d, ret, "%s: short read of a segment at offset 0x%llx (F1)",
					       img->name, (unsigned long long)segs[i].offset);
		ret = gmem_fill(mem, segs[i].paddr + segs[i].filesz, 0, segs[i].memsz - segs[i].filesz);
		if (ret)
			return diag_fail_errno(d, ret, "%s: cannot zero-fill at 0x%llx", img->name,
					       (unsigned long long)(segs[i].paddr + segs[i].filesz));
	}
	/* A vmlinux has no setup header to say; these are what x86-64 Linux
	 * declares in its own (COMMAND_LINE_SIZE 2048, initrd_addr_max). */
	out->cmdline_max = 2047;
	out->initrd_max = 0x7fffffff;
	return 0;
}
