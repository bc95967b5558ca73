/*
 * The tiny guest's PVH entry (only in tiny-pvh.elf): the Xen note that names it, and
 * the 32-bit code that records the CPU state the VMM gave, then enters long mode over
 * its own identity map of the first 4 GiB and runs tiny_main_pvh (pvh.c) through
 * tiny_run (entry.S). Plain instructions only, as in entry.S.
 */

#define BOOT_TIMER_PORT 0x3f0
#define BOOT_TIMER_MAGIC 123
#define MSR_EFER 0xc0000080
#define EFER_LME 0x100
#define CR0_PG 0x80000000
#define CR4_PAE 0x20
#define PTE_PRESENT_RW 0x3
#define PDE_LARGE 0x83        /* present, writable, 2 MiB page */
#define GDT_CODE64 0x08
#define GDT_DATA 0x10

/* XEN_ELFNOTE_PHYS32_ENTRY (18) with a 4-byte entry, as Xen's own images carry it (Linux's has 8). */
	.section .note.Xen, "a", @note
	.balign 4
	.long 4, 4, 18
	.asciz "Xen"
	.long tiny_pvh_start32

	.section .text.pvh32, "ax"
	.code32
	.globl tiny_pvh_start32
tiny_pvh_start32:
	/* The boot-timer mark first, as at the 64-bit entry. */
	movb $BOOT_TIMER_MAGIC, %al
	movw $BOOT_TIMER_PORT, %dx
	outb %al, %dx

	/* What the VMM gave, before anything here changes it (no stack needed). */
	movl %ebx, tiny_pvh_ebx
	movl %cr0, %eax
	movl %eax, tiny_pvh_cr0
	movl %cr4, %eax
	movl %eax, tiny_pvh_cr4
	movl $MSR_EFER, %ecx
	rdmsr
	movl %eax, tiny_pvh_efer
	movw %cs, tiny_pvh_sel
	movw %ds, tiny_pvh_sel + 2
	movw %es, tiny_pvh_sel + 4
	movw %ss, tiny_pvh_sel + 6
	str tiny_pvh_sel + 8
	sgdt tiny_pvh_gdtr
	/* EFLAGS needs a stack: ours (ESP is none of the ABI's business). */
	movl $tiny_stack_top, %esp
	pushfl
	popl %eax
	movl %eax, tiny_pvh_eflags

	/* Long mode over tiny_pvh_pml4, then our own GDT's 64-bit code. */
	movl %cr4, %eax
	orl $CR4_PAE, %eax
	movl %eax, %cr4
	movl $tiny_pvh_pml4, %eax
	movl %eax, %cr3
	movl $MSR_EFER, %ecx
	rdmsr
	orl $EFER_LME, %eax
	wrmsr
	movl %cr0, %eax
	orl $CR0_PG, %eax
	movl %eax, %cr0
	lgdt tiny_pvh_gdt_ptr
	ljmp $GDT_CODE64, $tiny_pvh_start64

	.code64
tiny_pvh_start64:
	movl $GDT_DATA, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	xorl %r8d, %r8d
	movl $tiny_main_pvh, %eax
	jmp tiny_run

/* The state recorded at entry (pvh.c reads it), and the tables long mode needs, all static. */
	.section .data.pvh, "aw"
	.balign 4
	.globl tiny_pvh_ebx, tiny_pvh_cr0, tiny_pvh_cr4, tiny_pvh_efer, tiny_pvh_eflags
	.globl tiny_pvh_sel, tiny_pvh_gdtr
tiny_pvh_ebx:	.long 0
tiny_pvh_cr0:	.long 0
tiny_pvh_cr4:	.long 0
tiny_pvh_efer:	.long 0
tiny_pvh_eflags:	.long 0
tiny_pvh_sel:	.word 0, 0, 0, 0, 0		/* cs, ds, es, ss, tr */
tiny_pvh_gdtr:	.word 0				/* limit, then the 32-bit base */
	.long 0

	.balign 8
tiny_pvh_gdt:
	.quad 0
	.quad 0x00af9a000000ffff	/* GDT_CODE64 */
	.quad 0x00cf92000000ffff	/* GDT_DATA */
tiny_pvh_gdt_end:
tiny_pvh_gdt_ptr:
	.word tiny_pvh_gdt_end - tiny_pvh_gdt - 1
	.long tiny_pvh_gdt

	/* PML4 -> PDPT -> four page directories of 2 MiB pages: [0, 4 GiB) maps itself. */
	.balign 4096
tiny_pvh_pml4:
	.quad tiny_pvh_pdpt + PTE_PRESENT_RW
	.fill 511, 8, 0
tiny_pvh_pdpt:
	.quad tiny_pvh_pd + PTE_PRESENT_RW
	.quad tiny_pvh_pd + 0x1000 + PTE_PRESENT_RW
	.quad tiny_pvh_pd + 0x2000 + PTE_PRESENT_RW
	.quad tiny_pvh_pd + 0x3000 + PTE_PRESENT_RW
	.fill 508, 8, 0
tiny_pvh_pd:
	.set page, 0
	.rept 2048
	.quad page + PDE_LARGE
	.set page, page + 0x200000
	.endr

	.section .note.GNU-stack, "", @progbits
