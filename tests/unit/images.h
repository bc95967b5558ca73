/* Builders for synthetic kernel images, valid by default, for tests to break one field at a time. */
#ifndef TESTS_UNIT_IMAGES_H
#define TESTS_UNIT_IMAGES_H

#include <asm/bootparam.h>
#include <linux/elf.h>
#include <stddef.h>
#include <stdint.h>

#include "microvm/gmem.h"
#include "microvm/image.h"

#define TEST_RAM_SIZE (64ULL << 20)
#define TEST_IMAGE_MAX (256 * 1024)

struct test_vm {
	void *host;
	struct gmem mem;
};

/* Plain calloc'd RAM wrapped as guest memory. */
void test_vm_init(struct test_vm *vm, uint64_t ram_size);
void test_vm_free(struct test_vm *vm);

struct elf_builder {
	uint8_t *buf;
	size_t size;      /* file size */
	Elf64_Ehdr *eh;
};

/* ELF64 x86-64 ET_EXEC with one PT_LOAD of 0x1000 file bytes (+0x1000 bss) at 1 MiB, entry at its start. */
void elfb_init(struct elf_builder *b);
Elf64_Phdr *elfb_phdr(struct elf_builder *b, unsigned int idx);
/* Appends a program header; returns its index. */
unsigned int elfb_add(struct elf_builder *b, uint32_t type, uint64_t offset, uint64_t paddr,
		      uint64_t filesz, uint64_t memsz, uint64_t align);
/* Appends a PT_NOTE holding a Xen PVH entry note (desc of desc_size bytes) at file offset off. */
unsigned int elfb_add_pvh_note(struct elf_builder *b, uint64_t off, uint32_t entry,
			       uint32_t desc_size, uint64_t align);
void elfb_image(struct elf_builder *b, struct image *img);
void elfb_free(struct elf_builder *b);

struct bz_builder {
	uint8_t *buf;
	size_t size;
	struct setup_header *hdr;
};

/* A relocatable protocol-2.15 bzImage: 4 setup sectors, 0x4000 bytes of kernel, init_size 1 MiB. */
void bzb_init(struct bz_builder *b);
/* Re-derives syssize and the file size from a new kernel size. */
void bzb_set_kernel_size(struct bz_builder *b, uint32_t kernel_size);
void bzb_image(struct bz_builder *b, struct image *img);
void bzb_free(struct bz_builder *b);

#endif
