/*
 * Entry code of the tiny test guest: the 0x200-byte head, the 64-bit entry
 * point at load address + 0x200, and the real-mode AP trampoline.
 *
 * Only plain instructions: on PVM hosts every guest CPL0 instruction goes
 * through KVM's instruction emulator (see docs/HOST-KVM.md).
 */

#define BOOT_TIMER_PORT 0x3f0
#define BOOT_TIMER_MAGIC 123

/*
 * The head: the first 0x200 bytes of the image. The Linux 64-bit boot
 * protocol enters at load address + 0x200, so this is never run by our VMM;
 * a loader that wrongly uses the 32-bit entry lands here and halts.
 */
	.section .head, "ax"
	.code32
	.globl tiny_head32
tiny_head32:
	cli
1:	hlt
	jmp 1b
	.org 0x200, 0

/*
 * The 64-bit entry, at load address + 0x200 (the linker script checks this).
 * State: long mode, flat CS 0x10, RSI = zero page, RSP = the VMM's boot stack,
 * interrupts off.
 */
	.section .text.entry64, "ax"
	.code64
	.globl tiny_start64
tiny_start64:
	/* 1. Boot-timer mark, before anything else (clobbers only AL and DX). */
	movb $BOOT_TIMER_MAGIC, %al
	movw $BOOT_TIMER_PORT, %dx
	outb %al, %dx
	/* 2. tiny_main(zero page), through tiny_run. */
	movq %rsi, %r8
	movl $tiny_main, %eax

/*
 * Zeroes our bss, then calls *%rax with %r8 as its argument on our own stack.
 * Shared by the entries (pvh.S jumps here in long mode too).
 */
	.globl tiny_run
tiny_run:
	/*
	 * Zero our bss (it holds the stack): an ELF loader zero-fills p_memsz,
	 * but a bzImage loader copies only syssize*16 bytes. The bounds are
	 * 16-byte aligned by the linker script; the loop needs no stack. All
	 * addresses are below 2 GiB, so 32-bit immediates hold them.
	 */
	movl $__bss_start, %edi
	movl $__bss_end, %ecx
2:	cmpq %rcx, %rdi
	jae 3f
	movq $0, (%rdi)
	addq $8, %rdi
	jmp 2b
3:
	movl $tiny_stack_top, %esp
	movq %r8, %rdi
	call *%rax
4:	cli
	hlt
	jmp 4b

/*
 * AP trampoline, copied by the BSP to a page below 1 MiB (the SIPI vector
 * page). An AP starts here in real mode at CS:IP = (page >> 4):0000. It
 * increments a 32-bit counter at offset TRAMP_COUNTER_OFFSET of the same page
 * and halts forever. Position-independent: it only uses offsets from CS.
 */
#define TRAMP_COUNTER_OFFSET 0x800
	.section .rodata.trampoline, "a"
	.code16
	.globl tiny_trampoline_start, tiny_trampoline_end
tiny_trampoline_start:
	cli
	movw %cs, %ax
	movw %ax, %ds
	lock incl (TRAMP_COUNTER_OFFSET)
5:	cli
	hlt
	jmp 5b
tiny_trampoline_end:
	.code64

/* The boot stack, in bss (zeroed above before use). */
#define STACK_SIZE 16384
	.section .bss.stack, "aw", @nobits
	.balign 16
tiny_stack:
	.skip STACK_SIZE
	.globl tiny_stack_top
tiny_stack_top:

	.section .note.GNU-stack, "", @progbits
