#include "kernel_check.h"

#include <linux/elf.h>
#include <string.h>

#include "arch/x86/layout.h"

#define BZ_HEADER_OFFSET 0x1f1
#define BZ_ENTRY64_OFFSET 0x200

static bool fuzz_all_zero(const uint8_t *p, uint64_t len)
{
	return len == 0 || (p[0] == 0 && memcmp(p, p + 1, len - 1) == 0);
}

/* The bytes at [gpa, gpa+len) are RAM and equal to file[0, filesz) followed by zeros. */
static void fuzz_check_guest_bytes(const struct gmem *mem, uint64_t gpa, uint64_t len,
				   const uint8_t *file, uint64_t filesz)
{
	const uint8_t *guest = gmem_ptr(mem, gpa, len);

	FUZZ_CHECK(guest != NULL);
	FUZZ_CHECK(filesz <= len);
	FUZZ_CHECK(memcmp(guest, file, filesz) == 0);
	FUZZ_CHECK(fuzz_all_zero(guest + filesz, len - filesz));
}

static void fuzz_check_elf(const struct gmem *mem, const uint8_t *data, size_t size,
			   uint64_t offset, const struct kernel_info *k,
			   struct fuzz_range *written, size_t *n)
{
	Elf64_Ehdr eh;
	uint64_t lo = UINT64_MAX, hi = 0, entry;
	bool entry_ok = false, pvh_ok = !k->has_pvh_entry;
	size_t first = *n;

	FUZZ_CHECK(size >= sizeof(eh));
	memcpy(&eh, data, sizeof(eh));
	FUZZ_CHECK(memcmp(eh.e_ident, ELFMAG, SELFMAG) == 0);
	FUZZ_CHECK(eh.e_ident[EI_CLASS] == ELFCLASS64 && eh.e_ident[EI_DATA] == ELFDATA2LSB);
	FUZZ_CHECK(eh.e_type == ET_EXEC && eh.e_machine == EM_X86_64);
	FUZZ_CHECK(eh.e_phentsize == sizeof(Elf64_Phdr));
	FUZZ_CHECK(eh.e_phnum >= 1 && eh.e_phnum <= FUZZ_KERNEL_MAX_RANGES);
	FUZZ_CHECK(eh.e_phoff >= sizeof(eh) && eh.e_phoff <= size &&
		   (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr) <= size - eh.e_phoff);
	FUZZ_CHECK(!add_overflows_u64(eh.e_entry, offset, &entry) && k->entry == entry);

	for (unsigned int i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;
		uint64_t start, end;

		memcpy(&ph, data + eh.e_phoff + i * sizeof(ph), sizeof(ph));
		if (ph.p_type != PT_LOAD || ph.p_memsz == 0)
			continue;
		FUZZ_CHECK(ph.p_filesz <= ph.p_memsz);
		FUZZ_CHECK(ph.p_offset <= size && ph.p_filesz <= size - ph.p_offset);
		FUZZ_CHECK(!add_overflows_u64(ph.p_paddr, offset, &start));
		FUZZ_CHECK(!add_overflows_u64(start, ph.p_memsz, &end));
		FUZZ_CHECK(start >= LAYOUT_HIMEM_START && end <= LAYOUT_IDENTITY_MAP_END);
		fuzz_check_guest_bytes(mem, start, ph.p_memsz, data + ph.p_offset, ph.p_filesz);
		for (size_t j = first; j < *n; j++)
			FUZZ_CHECK(!ranges_overlap(start, end, written[j].start, written[j].end));
		FUZZ_CHECK(*n < FUZZ_KERNEL_MAX_RANGES);
		written[(*n)++] = (struct fuzz_range){ start, end };
		lo = start < lo ? start : lo;
		hi = end > hi ? end : hi;
		/* Entry points must be file-backed bytes: loaded code, not bss (S9, N3). */
		entry_ok |= entry >= start && entry - start < ph.p_filesz;
		pvh_ok |= k->pvh_entry >= start && k->pvh_entry - start < ph.p_filesz;
	}
	FUZZ_CHECK(*n > first);
	FUZZ_CHECK(k->load_start == lo && k->load_end == hi);
	FUZZ_CHECK(entry_ok && pvh_ok);
}

/* The setup header as the image declares it: up to its jump-declared end, the rest zero (B1). */
static void fuzz_bz_header(const uint8_t *data, size_t size, struct setup_header *hdr)
{
	uint64_t end, copy;

	FUZZ_CHECK(size > 0x201);
	end = 0x202 + (uint64_t)data[0x201];
	FUZZ_CHECK(end >= 0x264 && end <= size);
	copy = end - BZ_HEADER_OFFSET < sizeof(*hdr) ? end - BZ_HEADER_OFFSET : sizeof(*hdr);
	memset(hdr, 0, sizeof(*hdr));
	memcpy(hdr, data + BZ_HEADER_OFFSET, copy);
}

static void fuzz_check_bzimage(const struct gmem *mem, const uint8_t *data, size_t size,
			       const struct kernel_load_opts *opts, const struct kernel_info *k,
			       struct fuzz_range *written, size_t *n)
{
	struct setup_header hdr;
	uint64_t setup_size, kernel_size, file_bytes, load, runtime;

	fuzz_bz_header(data, size, &hdr);
	FUZZ_CHECK(hdr.boot_flag == 0xaa55 && hdr.header == 0x53726448);
	FUZZ_CHECK(hdr.version >= 0x020c && k->protocol == hdr.version);
	FUZZ_CHECK((hdr.loadflags & LOADED_HIGH) && (hdr.xloadflags & XLF_KERNEL_64));

	/*
	 * Exactly syssize*16 bytes after the setup sectors are loaded; the file holds all of
	 * them but for at most 15 bytes of the last paragraph, which load as zeros (B4, B5).
	 */
	setup_size = ((uint64_t)(hdr.setup_sects ? hdr.setup_sects : 4) + 1) * 512;
	kernel_size = (uint64_t)hdr.syssize * 16;
	FUZZ_CHECK(kernel_size > BZ_ENTRY64_OFFSET);
	FUZZ_CHECK(setup_size <= size && kernel_size - 15 <= size - setup_size);
	file_bytes = size - setup_size < kernel_size ? size - setup_size : kernel_size;
	FUZZ_CHECK(!(hdr.payload_offset || hdr.payload_length) ||
		   (uint64_t)hdr.payload_offset + hdr.payload_length <= kernel_size);

	load = opts && opts->relocate ? opts->load_addr : hdr.code32_start;
	FUZZ_CHECK(k->load_start == load && k->load_end - load == kernel_size);
	FUZZ_CHECK(k->entry == load + BZ_ENTRY64_OFFSET);
	FUZZ_CHECK(load >= LAYOUT_HIMEM_START && k->load_end <= LAYOUT_IDENTITY_MAP_END);
	fuzz_check_guest_bytes(mem, load, kernel_size, data + setup_size, file_bytes);

	/* Where head_64.S decompresses to, and that init_size bytes fit there (B8, B9). */
	runtime = hdr.pref_address;
	if (hdr.relocatable_kernel) {
		uint64_t aligned;

		FUZZ_CHECK(is_pow2_u64(hdr.kernel_alignment));
		FUZZ_CHECK(hdr.min_alignment < 32 && (1ULL << hdr.min_alignment) <= hdr.kernel_alignment);
		FUZZ_CHECK(align_up_u64(load, hdr.kernel_alignment, &aligned));
		runtime = aligned > runtime ? aligned : runtime;
	}
	FUZZ_CHECK(k->runtime_start == runtime);
	FUZZ_CHECK(hdr.init_size >= kernel_size && k->runtime_end - runtime == hdr.init_size);
	FUZZ_CHECK(runtime >= LAYOUT_HIMEM_START && k->runtime_end <= LAYOUT_IDENTITY_MAP_END);
	FUZZ_CHECK(gmem_is_ram(mem, runtime, hdr.init_size));
	/* Decompression moves the kernel up only: a range below the kernel must not reach into it. */
	FUZZ_CHECK(runtime >= load || !ranges_overlap(runtime, k->runtime_end, load, k->load_end));

	hdr.code32_start = (uint32_t)load;
	FUZZ_CHECK(memcmp(&k->hdr, &hdr, sizeof(hdr)) == 0);
	FUZZ_CHECK(k->cmdline_max == hdr.cmdline_size && k->initrd_max == hdr.initrd_addr_max);
	FUZZ_CHECK(*n < FUZZ_KERNEL_MAX_RANGES);
	written[(*n)++] = (struct fuzz_range){ load, k->load_end };
}

void fuzz_check_kernel(const struct gmem *mem, const uint8_t *data, size_t size,
		       const struct kernel_load_opts *opts, const struct kernel_info *k,
		       struct fuzz_range *written, size_t *n)
{
	if (k->format == KERNEL_ELF)
		fuzz_check_elf(mem, data, size, opts && opts->relocate ? opts->load_offset : 0, k,
			       written, n);
	else
		fuzz_check_bzimage(mem, data, size, opts, k, written, n);
}

bool fuzz_diag_names_item(const char *msg, const char *image_name)
{
	if (strncmp(msg, image_name, strlen(image_name)) != 0)
		return false;
	for (const char *p = strchr(msg, '('); p; p = strchr(p + 1, '('))
		if (p[1] && strchr("FESNBLC", p[1]) && p[2] >= '0' && p[2] <= '9')
			return true;
	return false;
}

void fuzz_one_kernel(fuzz_kernel_loader load, const char *name, const uint8_t *data, size_t size)
{
	const struct gmem *mem = fuzz_ram();
	struct fuzz_range written[FUZZ_KERNEL_MAX_RANGES];
	size_t n = 0;
	struct kernel_info info;
	struct image img;
	struct diag d = { "" };

	image_from_buffer(&img, name, data, size);
	if (load(mem, &img, NULL, &info, &d) == 0)
		fuzz_check_kernel(mem, data, size, NULL, &info, written, &n);
	else
		FUZZ_CHECK(fuzz_diag_names_item(d.msg, name));
	fuzz_ram_check_writes(written, n);
}
