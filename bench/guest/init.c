/*
 * The /init of the Linux boot benchmark (bench/kvmbench.py): one line on the
 * console, the moment user space runs, then power off, which ends the VMM. No libc:
 * the initramfs stays a few KiB, so unpacking it costs the guest nothing to speak of.
 * Built with BENCH_IDLE (the density measurement's guest) it stays up after the line
 * instead, idle until its VMM is stopped.
 */
#include <asm/unistd.h>
#include <linux/reboot.h>

void _start(void);

static long syscall3(long nr, long a, long b, long c)
{
	long ret;

	__asm__ volatile("syscall" : "=a"(ret) : "a"(nr), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
	return ret;
}

void _start(void)
{
	static const char line[] = "bench-init: user space\n";

	syscall3(__NR_write, 1, (long)line, sizeof(line) - 1);
#ifndef BENCH_IDLE
	syscall3(__NR_reboot, (long)LINUX_REBOOT_MAGIC1, LINUX_REBOOT_MAGIC2, LINUX_REBOOT_CMD_POWER_OFF);
#endif
	/* Idle, or a failed power-off: init must not return. */
	for (;;)
		syscall3(__NR_pause, 0, 0, 0);
}
