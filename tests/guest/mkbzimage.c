/*
 * mkbzimage: wrap the tiny guest's linked ELF into a bzImage (build-time tool).
 *
 *   mkbzimage IN.elf OUT.bzImage
 *
 * The payload (the "protected-mode kernel") is the flat image of IN.elf's
 * PT_LOAD segments from 0x100000, padded to 16 bytes; its 64-bit entry must
 * be at 0x100200. The output is 5 sectors of setup (boot sector + 4
 * setup_sects) holding a boot protocol 2.15 setup header, then the payload at
 * file offset (setup_sects+1)*512. Field offsets come from the kernel's own
 * <asm/bootparam.h>; values are written little-endian whatever the host.
 * See Documentation/arch/x86/boot.rst and arch/x86/boot/tools/build.c.
 */
#include <asm/bootparam.h>
#include <elf.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOAD_ADDR 0x100000u      /* code32_start and pref_address */
#define ENTRY64_OFFSET 0x200u    /* the 64-bit entry is at load + 0x200 */
#define SETUP_SECTS 4u
#define SETUP_SIZE ((SETUP_SECTS + 1) * 512u)
#define HDR_BASE 0x1f1u          /* where struct setup_header starts */
#define MAX_INPUT (16u << 20)    /* the tiny guest is a few KiB */
#define MAX_IMAGE (16u << 20)
#define VERSION_STRING_OFFSET 0x400u
#define VERSION_STRING "microvm tiny test guest"

/* Offset of a setup_header field in the file (== in struct boot_params). */
#define HDR(field) (HDR_BASE + offsetof(struct setup_header, field))

_Static_assert(offsetof(struct boot_params, hdr) == HDR_BASE, "setup_header at 0x1f1");
_Static_assert(HDR_BASE + sizeof(struct setup_header) <= SETUP_SIZE, "header fits");

static void put8(uint8_t *b, size_t off, uint8_t v)
{
	b[off] = v;
}

static void put16(uint8_t *b, size_t off, uint16_t v)
{
	b[off] = (uint8_t)v;
	b[off + 1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *b, size_t off, uint32_t v)
{
	put16(b, off, (uint16_t)v);
	put16(b, off + 2, (uint16_t)(v >> 16));
}

static uint64_t get_le(const uint8_t *p, size_t n)
{
	uint64_t v = 0;

	while (n--)
		v = (v << 8) | p[n];
	return v;
}

static uint8_t *read_file(const char *path, size_t *size)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	size_t n;

	if (!f)
		return NULL;
	buf = malloc(MAX_INPUT + 1);
	if (!buf) {
		fclose(f);
		return NULL;
	}
	n = fread(buf, 1, MAX_INPUT + 1, f);
	if (ferror(f) || n > MAX_INPUT) {
		fclose(f);
		free(buf);
		errno = EFBIG;
		return NULL;
	}
	fclose(f);
	*size = n;
	return buf;
}

/*
 * Flatten IN's PT_LOAD segments into *payload (file bytes from LOAD_ADDR to
 * the end of the last file-backed byte, zero-filled gaps) and report in
 * *mem_end the end of the last segment including bss. Our own ELF, but
 * every offset is still checked.
 */
static int flatten_elf(const char *path, const uint8_t *elf, size_t size, uint8_t **payload,
		       uint32_t *file_len, uint32_t *mem_len)
{
	uint64_t phoff, entry, file_end = LOAD_ADDR, mem_end = LOAD_ADDR;
	unsigned int phnum, i, pass;
	uint8_t *out = NULL;

	if (size < sizeof(Elf64_Ehdr) || memcmp(elf, ELFMAG, SELFMAG) != 0 ||
	    elf[EI_CLASS] != ELFCLASS64 || elf[EI_DATA] != ELFDATA2LSB) {
		fprintf(stderr, "%s: not a little-endian ELF64 file\n", path);
		return -1;
	}
	entry = get_le(elf + offsetof(Elf64_Ehdr, e_entry), 8);
	phoff = get_le(elf + offsetof(Elf64_Ehdr, e_phoff), 8);
	phnum = (unsigned int)get_le(elf + offsetof(Elf64_Ehdr, e_phnum), 2);
	if (entry != LOAD_ADDR + ENTRY64_OFFSET) {
		fprintf(stderr, "%s: e_entry 0x%llx is not load address + 0x200\n", path,
			(unsigned long long)entry);
		return -1;
	}
	if (phnum == 0 || phnum > 64 || phoff > size || (size - phoff) / sizeof(Elf64_Phdr) < phnum) {
		fprintf(stderr, "%s: bad program header table\n", path);
		return -1;
	}
	/* Pass 0 measures the image, pass 1 copies the segments into it. */
	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < phnum; i++) {
			const uint8_t *ph = elf + phoff + (size_t)i * sizeof(Elf64_Phdr);
			uint64_t paddr = get_le(ph + offsetof(Elf64_Phdr, p_paddr), 8);
			uint64_t off = get_le(ph + offsetof(Elf64_Phdr, p_offset), 8);
			uint64_t filesz = get_le(ph + offsetof(Elf64_Phdr, p_filesz), 8);
			uint64_t memsz = get_le(ph + offsetof(Elf64_Phdr, p_memsz), 8);

			if (get_le(ph + offsetof(Elf64_Phdr, p_type), 4) != PT_LOAD)
				continue;
			if (paddr < LOAD_ADDR || filesz > memsz || memsz > MAX_IMAGE ||
			    paddr - LOAD_ADDR > MAX_IMAGE - memsz || off > size || filesz > size - off) {
				fprintf(stderr, "%s: PT_LOAD %u out of range\n", path, i);
				free(out);
				return -1;
			}
			if (pass == 1) {
				memcpy(out + (paddr - LOAD_ADDR), elf + off, filesz);
				continue;
			}
			if (filesz && paddr + filesz > file_end)
				file_end = paddr + filesz;
			if (paddr + memsz > mem_end)
				mem_end = paddr + memsz;
		}
		if (pass == 0) {
			/* Pad to 16 bytes: syssize counts 16-byte paragraphs. */
			file_end = LOAD_ADDR + ((file_end - LOAD_ADDR + 15) & ~15ull);
			if (file_end - LOAD_ADDR <= ENTRY64_OFFSET) {
				fprintf(stderr, "%s: no code at load address + 0x200\n", path);
				return -1;
			}
			out = calloc(1, file_end - LOAD_ADDR);
			if (!out) {
				perror("calloc");
				return -1;
			}
		}
	}
	*payload = out;
	*file_len = (uint32_t)(file_end - LOAD_ADDR);
	*mem_len = (uint32_t)(mem_end > file_end ? mem_end - LOAD_ADDR : file_end - LOAD_ADDR);
	return 0;
}

/* The setup sectors: boot sector signature plus the setup header. */
static void fill_setup(uint8_t *s, uint32_t payload_len, uint32_t mem_len)
{
	/* init_size: the whole image with bss, rounded up to a page. */
	uint32_t init_size = (mem_len + 0xfffu) & ~0xfffu;
	size_t hdr_end = HDR_BASE + sizeof(struct setup_header);

	memset(s, 0, SETUP_SIZE);
	memcpy(s + VERSION_STRING_OFFSET, VERSION_STRING, sizeof(VERSION_STRING));

	put8(s, HDR(setup_sects), SETUP_SECTS);
	put32(s, HDR(syssize), payload_len / 16);
	put16(s, HDR(vid_mode), 0xffff); /* NORMAL_VGA */
	put16(s, HDR(boot_flag), 0xaa55);
	/* "jmp short" over the header: 0x202 + byte[0x201] is the header end. */
	put8(s, HDR(jump), 0xeb);
	put8(s, HDR(jump) + 1, (uint8_t)(hdr_end - 0x202));
	put32(s, HDR(header), 0x53726448); /* "HdrS" */
	put16(s, HDR(version), 0x020f);
	put16(s, HDR(kernel_version), VERSION_STRING_OFFSET - 0x200);
	put8(s, HDR(loadflags), LOADED_HIGH);
	put32(s, HDR(code32_start), LOAD_ADDR);
	put32(s, HDR(initrd_addr_max), 0x7fffffff);
	put32(s, HDR(kernel_alignment), 0x200000);
	put8(s, HDR(relocatable_kernel), 0);
	put8(s, HDR(min_alignment), 21);
	put16(s, HDR(xloadflags), XLF_KERNEL_64);
	put32(s, HDR(cmdline_size), 2047);
	put32(s, HDR(payload_offset), 0);
	put32(s, HDR(payload_length), 0);
	put32(s, HDR(pref_address), LOAD_ADDR);
	put32(s, HDR(init_size), init_size);
}

int main(int argc, char **argv)
{
	uint8_t setup[SETUP_SIZE], *elf, *payload = NULL;
	uint32_t payload_len, mem_len;
	size_t size;
	FILE *out;
	int ok;

	if (argc != 3) {
		fprintf(stderr, "usage: %s IN.elf OUT.bzImage\n", argv[0]);
		return 2;
	}
	elf = read_file(argv[1], &size);
	if (!elf) {
		fprintf(stderr, "%s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	if (flatten_elf(argv[1], elf, size, &payload, &payload_len, &mem_len) != 0) {
		free(elf);
		return 1;
	}
	free(elf);
	fill_setup(setup, payload_len, mem_len);

	out = fopen(argv[2], "wb");
	if (!out) {
		fprintf(stderr, "%s: %s\n", argv[2], strerror(errno));
		free(payload);
		return 1;
	}
	ok = fwrite(setup, 1, sizeof(setup), out) == sizeof(setup) &&
	     fwrite(payload, 1, payload_len, out) == payload_len;
	free(payload);
	if (fclose(out) != 0 || !ok) {
		fprintf(stderr, "%s: write failed\n", argv[2]);
		remove(argv[2]);
		return 1;
	}
	return 0;
}
