#include "images.h"

#include <stdlib.h>
#include <string.h>

#include "microvm/compiler.h"

void test_vm_init(struct test_vm *vm, uint64_t ram_size)
{
	vm->host = calloc(1, ram_size);
	if (!vm->host || gmem_wrap(&vm->mem, vm->host, ram_size))
		abort();
}

void test_vm_free(struct test_vm *vm)
{
	free(vm->host);
	vm->host = NULL;
}

void elfb_init(struct elf_builder *b)
{
	b->buf = calloc(1, TEST_IMAGE_MAX);
	if (!b->buf)
		abort();
	b->eh = (Elf64_Ehdr *)b->buf;
	memcpy(b->eh->e_ident, ELFMAG, SELFMAG);
	b->eh->e_ident[EI_CLASS] = ELFCLASS64;
	b->eh->e_ident[EI_DATA] = ELFDATA2LSB;
	b->eh->e_ident[EI_VERSION] = EV_CURRENT;
	b->eh->e_type = ET_EXEC;
	b->eh->e_machine = EM_X86_64;
	b->eh->e_version = EV_CURRENT;
	b->eh->e_ehsize = sizeof(Elf64_Ehdr);
	b->eh->e_phentsize = sizeof(Elf64_Phdr);
	b->eh->e_phoff = sizeof(Elf64_Ehdr);
	b->eh->e_entry = 0x100000;
	b->size = 0x1000;
	elfb_add(b, PT_LOAD, 0x1000, 0x100000, 0x1000, 0x2000, 0x1000);
	/* Recognisable payload bytes. */
	for (size_t i = 0; i < 0x1000; i++)
		b->buf[0x1000 + i] = (uint8_t)(i * 7 + 1);
}

Elf64_Phdr *elfb_phdr(struct elf_builder *b, unsigned int idx)
{
	return (Elf64_Phdr *)(b->buf + sizeof(Elf64_Ehdr) + idx * sizeof(Elf64_Phdr));
}

unsigned int elfb_add(struct elf_builder *b, uint32_t type, uint64_t offset, uint64_t paddr,
		      uint64_t filesz, uint64_t memsz, uint64_t align)
{
	unsigned int idx = b->eh->e_phnum++;
	Elf64_Phdr *ph = elfb_phdr(b, idx);

	*ph = (Elf64_Phdr){
		.p_type = type, .p_offset = offset, .p_vaddr = paddr + 0xffffffff80000000ULL,
		.p_paddr = paddr, .p_filesz = filesz, .p_memsz = memsz, .p_align = align,
	};
	if (offset + filesz <= TEST_IMAGE_MAX && offset + filesz > b->size)
		b->size = offset + filesz;
	return idx;
}

unsigned int elfb_add_pvh_note(struct elf_builder *b, uint64_t off, uint32_t entry,
			       uint32_t desc_size, uint64_t align)
{
	Elf64_Nhdr nh = { .n_namesz = 4, .n_descsz = desc_size, .n_type = 18 };
	uint64_t entry64 = entry;

	memcpy(b->buf + off, &nh, sizeof(nh));
	memcpy(b->buf + off + sizeof(nh), "Xen", 4);
	memcpy(b->buf + off + sizeof(nh) + 4, &entry64, desc_size < 8 ? desc_size : 8);
	return elfb_add(b, PT_NOTE, off, 0, sizeof(nh) + 4 + ((desc_size + 3) & ~3U), 0, align);
}

void elfb_image(struct elf_builder *b, struct image *img)
{
	image_from_buffer(img, "test.elf", b->buf, b->size);
}

void elfb_free(struct elf_builder *b)
{
	free(b->buf);
	b->buf = NULL;
}

void bzb_set_kernel_size(struct bz_builder *b, uint32_t kernel_size)
{
	uint32_t setup_sects = b->hdr->setup_sects ? b->hdr->setup_sects : 4;

	b->hdr->syssize = kernel_size / 16;
	b->size = (setup_sects + 1) * 512 + kernel_size;
}

void bzb_init(struct bz_builder *b)
{
	b->buf = calloc(1, TEST_IMAGE_MAX);
	if (!b->buf)
		abort();
	b->hdr = (struct setup_header *)(b->buf + 0x1f1);
	b->hdr->setup_sects = 4;
	b->hdr->boot_flag = 0xaa55;
	b->buf[0x200] = 0xeb;          /* jmp over the header ... */
	b->buf[0x201] = 0x26c - 0x202; /* ... which ends at 0x26c, as in Linux 6.1 */
	b->hdr->header = 0x53726448;
	b->hdr->version = 0x020f;
	b->hdr->loadflags = LOADED_HIGH;
	b->hdr->code32_start = 0x100000;
	b->hdr->initrd_addr_max = 0x7fffffff;
	b->hdr->kernel_alignment = 0x200000;
	b->hdr->relocatable_kernel = 1;
	b->hdr->min_alignment = 21;
	b->hdr->xloadflags = XLF_KERNEL_64;
	b->hdr->cmdline_size = 2047;
	b->hdr->pref_address = 0x1000000;
	b->hdr->init_size = 0x100000;
	bzb_set_kernel_size(b, 0x4000);
	for (size_t i = 0; i < 0x4000; i++)
		b->buf[5 * 512 + i] = (uint8_t)(i * 13 + 5);
}

void bzb_image(struct bz_builder *b, struct image *img)
{
	image_from_buffer(img, "test.bzImage", b->buf, b->size);
}

void bzb_free(struct bz_builder *b)
{
	free(b->buf);
	b->buf = NULL;
}
