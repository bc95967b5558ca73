/*
 * The benchmark guest: one image that both VMMs can boot, entered either
 *   - at e_entry, 0x100200, in 64-bit mode (the Linux 64-bit boot protocol,
 *     what microvm uses with --entry64), or
 *   - at its Xen PVH entry (XEN_ELFNOTE_PHYS32_ENTRY), in 32-bit protected mode
 *     with paging off (what microvm uses by default, and QEMU's microvm machine
 *     for an ELF via qboot).
 * Either way the first instructions write 123 to the boot-timer port 0x3f0
 * (Firecracker's convention; QEMU has nothing there) and then the first byte of
 * the report to COM1, so "first serial byte" marks the same point, the guest's
 * first instruction, on both. The PVH path then builds long mode itself (GDT,
 * static identity page tables, EFER.LME) and joins the common 64-bit code.
 *
 * Report, one line on COM1:  "bench-guest: entry=64|pvh32 long-mode=yes\n".
 * Then, built without BENCH_IDLE: reset through the i8042 (microvm exits 0),
 * then write 0 to port 0xf4 (QEMU's isa-debug-exit: QEMU exits 1). Built with
 * BENCH_IDLE: a second line "bench-guest: idle\n", then halt forever with
 * interrupts off, so that the VMM stays alive to be measured until SIGTERM.
 *
 * Plain instructions only: on PVM hosts guest CPL0 code is emulated by KVM
 * (docs/HOST-KVM.md). No IDT: nothing here takes an interrupt or exception.
 * Its own 4 KiB stack, since the PVH entry gets none.
 */

#define BOOT_TIMER_PORT 0x3f0
#define BOOT_TIMER_MAGIC 123
#define COM1_THR 0x3f8
#define COM1_LSR 0x3fd
#define COM1_LSR_THR_EMPTY 0x20
#define LSR_POLL_LIMIT 100000
#define I8042_COMMAND 0x64
#define I8042_CMD_RESET 0xfe
#define ISA_DEBUG_EXIT_PORT 0xf4	/* QEMU -device isa-debug-exit,iobase=0xf4 */

#define CR0_PG 0x80000000
#define CR4_PAE 0x20
#define MSR_EFER 0xc0000080
#define EFER_LME 0x100
#define PTE_PRESENT_RW 0x3
#define PDE_LARGE 0x80
#define GDT_CODE64 0x08
#define GDT_DATA 0x10

#define XEN_ELFNOTE_PHYS32_ENTRY 18

/* The first instructions on either path: boot-timer mark, then 'b' on COM1. */
.macro first_mark
	movb $BOOT_TIMER_MAGIC, %al
	movw $BOOT_TIMER_PORT, %dx
	outb %al, %dx
	movb $'b', %al
	movw $COM1_THR, %dx
	outb %al, %dx
.endm

/* The first 0x200 bytes: the 32-bit PVH entry (nothing requires it to be here). */
	.section .head, "ax"
	.code32
	.globl bench_pvh_start32
bench_pvh_start32:
	first_mark
	movl $hello_pvh, %ebx	/* the rest of the report line, for the 64-bit code */
	lgdt gdt_desc
	movl %cr4, %eax
	orl $CR4_PAE, %eax
	movl %eax, %cr4
	movl $pml4, %eax
	movl %eax, %cr3
	movl $MSR_EFER, %ecx
	rdmsr
	orl $EFER_LME, %eax
	wrmsr
	movl %cr0, %eax
	orl $CR0_PG, %eax
	movl %eax, %cr0
	ljmp $GDT_CODE64, $bench_pvh_long64
	.org 0x200, 0

/* The 64-bit entry, at load address + 0x200 (the linker script checks this). */
	.section .text.entry64, "ax"
	.code64
	.globl bench_start64
bench_start64:
	first_mark
	movl $hello_64, %ebx
	jmp bench_common64

bench_pvh_long64:
	movl $GDT_DATA, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss

/* RBX: the NUL-terminated rest of the report line. */
bench_common64:
	movl $bench_stack_top, %esp
	movq %rbx, %rsi
	call serial_puts
#ifdef BENCH_IDLE
	movl $idle_line, %esi
	call serial_puts
#else
	movb $I8042_CMD_RESET, %al
	movw $I8042_COMMAND, %dx
	outb %al, %dx
	/* QEMU's microvm machine has no i8042: its isa-debug-exit device ends it instead. */
	xorl %eax, %eax
	movw $ISA_DEBUG_EXIT_PORT, %dx
	outb %al, %dx
#endif
1:	cli
	hlt
	jmp 1b

/* Writes the string at RSI to COM1, polling LSR (boundedly) before each byte. */
serial_puts:
	movb (%rsi), %bl
	testb %bl, %bl
	jz 3f
	movl $LSR_POLL_LIMIT, %ecx
	movw $COM1_LSR, %dx
2:	inb %dx, %al
	testb $COM1_LSR_THR_EMPTY, %al
	jnz 4f
	decl %ecx
	jnz 2b
4:	movb %bl, %al
	movw $COM1_THR, %dx
	outb %al, %dx
	incq %rsi
	jmp serial_puts
3:	ret

	.section .rodata, "a"
hello_64:
	.asciz "ench-guest: entry=64 long-mode=yes\n"
hello_pvh:
	.asciz "ench-guest: entry=pvh32 long-mode=yes\n"
#ifdef BENCH_IDLE
idle_line:
	.asciz "bench-guest: idle\n"
#endif

	.balign 8
gdt:
	.quad 0
	.quad 0x00af9a000000ffff	/* GDT_CODE64: long mode, present, execute/read */
	.quad 0x00cf92000000ffff	/* GDT_DATA: flat 4 GiB, read/write */
gdt_end:
gdt_desc:
	.word gdt_end - gdt - 1
	.long gdt

/* Identity map of the first 1 GiB with 2 MiB pages, for the PVH path. File-backed, so no zeroing. */
	.section .data, "aw"
	.balign 4096
pml4:
	.quad pdpt + PTE_PRESENT_RW
	.fill 511, 8, 0
pdpt:
	.quad pd + PTE_PRESENT_RW
	.fill 511, 8, 0
pd:
	.set addr, 0
	.rept 512
	.quad addr + PTE_PRESENT_RW + PDE_LARGE
	.set addr, addr + 0x200000
	.endr

	.section .bss.stack, "aw", @nobits
	.balign 16
	.skip 4096
bench_stack_top:

/* XEN_ELFNOTE_PHYS32_ENTRY: name "Xen", descriptor: the 32-bit entry. */
	.section .note.Xen, "a", @note
	.balign 4
	.long 4
	.long 8
	.long XEN_ELFNOTE_PHYS32_ENTRY
	.asciz "Xen"
	.quad bench_pvh_start32		/* 8 bytes, as Linux emits it */

	.section .note.GNU-stack, "", @progbits
