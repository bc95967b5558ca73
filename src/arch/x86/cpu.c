#include "arch/x86/cpu.h"

#include <asm/processor-flags.h>
#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "arch/x86/layout.h"
#include "arch/x86/platform.h"
#include "microvm/log.h"

/* Architectural MSR numbers and bits (Intel SDM vol. 4); no UAPI header exports them. */
#define MSR_IA32_TSC 0x10
#define MSR_IA32_SYSENTER_CS 0x174
#define MSR_IA32_SYSENTER_ESP 0x175
#define MSR_IA32_SYSENTER_EIP 0x176
#define MSR_IA32_MISC_ENABLE 0x1a0
#define MSR_MTRR_DEF_TYPE 0x2ff
#define MSR_STAR 0xc0000081
#define MSR_LSTAR 0xc0000082
#define MSR_CSTAR 0xc0000083
#define MSR_SYSCALL_MASK 0xc0000084
#define MSR_KERNEL_GS_BASE 0xc0000102
#define MISC_ENABLE_FAST_STRING 0x1ULL
/* MTRRs on, default type write-back: without it Linux maps all RAM uncached. */
#define MTRR_DEF_TYPE_ENABLED_WB ((1ULL << 11) | 6)
#define EFER_LME (1ULL << 8)
#define EFER_LMA (1ULL << 10)

#define LAPIC_LVT_LINT0 0x350
#define LAPIC_LVT_LINT1 0x360
#define LAPIC_MODE_NMI 0x4
#define LAPIC_MODE_EXTINT 0x7

#define FPU_DEFAULT_FCW 0x37f
#define SSE_DEFAULT_MXCSR 0x1f80

struct kvm_segment cpu_segment_from_gdt(uint64_t entry, uint16_t selector)
{
	uint32_t limit = (uint32_t)((entry & 0xffff) | ((entry >> 32) & 0xf0000));
	uint8_t g = (entry >> 55) & 1;
	uint8_t present = (entry >> 47) & 1;

	return (struct kvm_segment){
		.base = ((entry >> 16) & 0xffffff) | (((entry >> 56) & 0xff) << 24),
		/* KVM takes the limit in bytes: 4 KiB granularity scales it. */
		.limit = g ? (limit << 12) | 0xfff : limit,
		.selector = selector,
		.type = (entry >> 40) & 0xf,
		.present = present,
		.dpl = (entry >> 45) & 3,
		.db = (entry >> 54) & 1,
		.s = (entry >> 44) & 1,
		.l = (entry >> 53) & 1,
		.g = g,
		.avl = (entry >> 52) & 1,
		.unusable = !present,
	};
}

static int cpu_set_msrs(int fd)
{
	static const struct kvm_msr_entry defaults[] = {
		{ .index = MSR_IA32_SYSENTER_CS },
		{ .index = MSR_IA32_SYSENTER_ESP },
		{ .index = MSR_IA32_SYSENTER_EIP },
		{ .index = MSR_STAR },
		{ .index = MSR_CSTAR },
		{ .index = MSR_KERNEL_GS_BASE },
		{ .index = MSR_SYSCALL_MASK },
		{ .index = MSR_LSTAR },
		{ .index = MSR_IA32_TSC },
		{ .index = MSR_IA32_MISC_ENABLE, .data = MISC_ENABLE_FAST_STRING },
		{ .index = MSR_MTRR_DEF_TYPE, .data = MTRR_DEF_TYPE_ENABLED_WB },
	};
	struct kvm_msrs *msrs = calloc(1, sizeof(*msrs) + sizeof(defaults));
	int n;

	if (!msrs)
		return -ENOMEM;
	msrs->nmsrs = ARRAY_SIZE(defaults);
	memcpy(msrs->entries, defaults, sizeof(defaults));
	n = ioctl(fd, KVM_SET_MSRS, msrs);
	free(msrs);
	if (n < 0)
		return -errno;
	/* KVM stops at the first MSR it refuses and returns how many it set. */
	if ((size_t)n < ARRAY_SIZE(defaults)) {
		log_error("KVM refused MSR 0x%x", defaults[n].index);
		return -EINVAL;
	}
	return 0;
}

static int cpu_set_fpu(int fd)
{
	struct kvm_fpu fpu = { .fcw = FPU_DEFAULT_FCW, .mxcsr = SSE_DEFAULT_MXCSR };

	return ioctl(fd, KVM_SET_FPU, &fpu) < 0 ? -errno : 0;
}

static void cpu_lapic_set_mode(struct kvm_lapic_state *l, unsigned int reg, uint32_t mode)
{
	uint32_t v;

	memcpy(&v, &l->regs[reg], sizeof(v));
	v = (v & ~0x700u) | (mode << 8);
	memcpy(&l->regs[reg], &v, sizeof(v));
}

static int cpu_set_lapic(int fd)
{
	struct kvm_lapic_state lapic;

	if (ioctl(fd, KVM_GET_LAPIC, &lapic) < 0)
		return -errno;
	/* Virtual wire: the PIC reaches LINT0 as ExtINT, NMIs arrive on LINT1. */
	cpu_lapic_set_mode(&lapic, LAPIC_LVT_LINT0, LAPIC_MODE_EXTINT);
	cpu_lapic_set_mode(&lapic, LAPIC_LVT_LINT1, LAPIC_MODE_NMI);
	return ioctl(fd, KVM_SET_LAPIC, &lapic) < 0 ? -errno : 0;
}

int cpu_setup_vcpu(int fd, const struct kvm_cpuid2 *cpuid, unsigned int index)
{
	int ret = ioctl(fd, KVM_SET_CPUID2, cpuid) < 0 ? -errno : 0;

	if (!ret)
		ret = cpu_set_msrs(fd);
	if (!ret)
		ret = cpu_set_fpu(fd);
	if (!ret)
		ret = cpu_set_lapic(fd);
	if (!ret && index > 0) {
		/* The guest starts secondaries itself, with INIT and SIPI. */
		struct kvm_mp_state mp = { .mp_state = KVM_MP_STATE_UNINITIALIZED };

		if (ioctl(fd, KVM_SET_MP_STATE, &mp) < 0)
			ret = -errno;
	}
	return ret;
}

/* The boot CPU's mode: its segments (from the platform's GDT) and control registers. */
struct cpu_boot_mode {
	uint16_t code_sel;
	uint16_t tss_sel;
	uint64_t cr0, cr3, cr4, efer;
};

static int cpu_set_boot_sregs(int fd, const struct cpu_boot_mode *m)
{
	uint64_t gdt[LAYOUT_GDT_ENTRIES];
	struct kvm_sregs sregs;
	struct kvm_segment data;

	if (ioctl(fd, KVM_GET_SREGS, &sregs) < 0)
		return -errno;
	platform_gdt(gdt);
	data = cpu_segment_from_gdt(gdt[PLATFORM_GDT_DATA_SEL / 8], PLATFORM_GDT_DATA_SEL);
	sregs.cs = cpu_segment_from_gdt(gdt[m->code_sel / 8], m->code_sel);
	sregs.ds = data;
	sregs.es = data;
	sregs.fs = data;
	sregs.gs = data;
	sregs.ss = data;
	sregs.tr = cpu_segment_from_gdt(gdt[m->tss_sel / 8], m->tss_sel);
	sregs.gdt.base = LAYOUT_GDT_START;
	sregs.gdt.limit = (uint16_t)(sizeof(gdt) - 1);
	sregs.idt.base = LAYOUT_IDT_START;
	sregs.idt.limit = (uint16_t)(LAYOUT_IDT_SIZE - 1);
	sregs.cr0 = m->cr0;
	sregs.cr3 = m->cr3;
	sregs.cr4 = m->cr4;
	sregs.efer = m->efer;
	return ioctl(fd, KVM_SET_SREGS, &sregs) < 0 ? -errno : 0;
}

static int cpu_enter(int fd, const struct cpu_boot_mode *m, const struct kvm_regs *regs)
{
	int ret = cpu_set_boot_sregs(fd, m);

	if (ret)
		return ret;
	return ioctl(fd, KVM_SET_REGS, regs) < 0 ? -errno : 0;
}

int cpu_setup_boot_regs(int fd, uint64_t rip)
{
	static const struct cpu_boot_mode long_mode = {
		.code_sel = PLATFORM_GDT_CODE_SEL,
		.tss_sel = PLATFORM_GDT_TSS_SEL,
		.cr0 = X86_CR0_PE | X86_CR0_ET | X86_CR0_NE | X86_CR0_PG,
		.cr3 = LAYOUT_PML4_START,
		.cr4 = X86_CR4_PAE,
		.efer = EFER_LME | EFER_LMA,
	};
	struct kvm_regs regs = {
		.rflags = X86_EFLAGS_FIXED,
		.rip = rip,
		.rsi = LAYOUT_ZERO_PAGE_START,
		.rsp = LAYOUT_BOOT_STACK_POINTER,
		.rbp = LAYOUT_BOOT_STACK_POINTER,
	};

	return cpu_enter(fd, &long_mode, &regs);
}

int cpu_setup_pvh_regs(int fd, uint32_t entry)
{
	/*
	 * Xen's docs/misc/pvh.pandoc: of CR0's writable bits only PE (ET is hardwired), CR4
	 * clear, no paging and no long mode; flat 32-bit code and data, a 32-bit TSS of base 0
	 * and limit 0x67; EFLAGS.IF, TF and VM clear; EBX = the start info. No stack.
	 */
	static const struct cpu_boot_mode protected_mode = {
		.code_sel = PLATFORM_GDT_CODE32_SEL,
		.tss_sel = PLATFORM_GDT_TSS32_SEL,
		.cr0 = X86_CR0_PE | X86_CR0_ET,
	};
	struct kvm_regs regs = {
		.rflags = X86_EFLAGS_FIXED,
		.rip = entry,
		.rbx = LAYOUT_PVH_INFO_START,
	};

	return cpu_enter(fd, &protected_mode, &regs);
}
