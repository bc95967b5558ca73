#include "arch/x86/pvm.h"

#include <asm/processor-flags.h>
#include <cpuid.h>
#include <errno.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "arch/x86/pagewalk.h"

#define PVM_SYSFS_MODULE "/sys/module/kvm_pvm"
#define BP_VECTOR 3
#define FSW_ES 0x80 /* x87 exception summary */
#define PVM_CLEARCPUID "cx16,smap,smep,popcnt,fsgsbase,pcid,invpcid,rdrand,rdseed,erms,fsrm," \
		       "clflushopt,clwb,umip,movbe,bmi1,bmi2,sse4_2,aes,pclmulqdq"
_Static_assert(sizeof(PVM_CLEARCPUID) - 1 <= PVM_CLEARCPUID_MAX,
	       "Linux would cut the clearcpuid list short");

bool pvm_detect(bool sysfs_module, uint32_t leaf1_ecx, uint32_t ext_leaf1_ecx)
{
	/*
	 * KVM without VMX or SVM in the host CPU can only be a software KVM: PVM.
	 * The CPUID test also works inside a jail, where /sys is not mounted.
	 */
	return sysfs_module || (!(leaf1_ecx & PVM_CPUID_1_ECX_VMX) && !(ext_leaf1_ecx & PVM_CPUID_80000001_ECX_SVM));
}

bool pvm_host_detected(void)
{
	unsigned int eax, ebx, ecx = 0, edx, ext_ecx = 0;

	if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx))
		ecx = 0;
	if (!__get_cpuid(0x80000001, &eax, &ebx, &ext_ecx, &edx))
		ext_ecx = 0;
	return pvm_detect(access(PVM_SYSFS_MODULE, F_OK) == 0, ecx, ext_ecx);
}

const char *pvm_cmdline_switches(void)
{
	/*
	 * noxsave also clears everything built on XSAVE (AVX*, XSAVEOPT/C/S, PKU). The
	 * clearcpuid list holds the other features whose instructions the host's emulator
	 * lacks (HOST-KVM.md), most important first, because Linux 6.1 reads at most
	 * PVM_CLEARCPUID_MAX characters of it and silently ignores the rest.
	 */
	return "noxsave clearcpuid=" PVM_CLEARCPUID;
}

static struct insn_mode pvm_mode_of(const struct kvm_sregs *s)
{
	return (struct insn_mode){
		.long64 = (s->efer & (1ULL << 10)) && s->cs.l,
		.db32 = s->cs.db,
	};
}

int pvm_site_read(int fd, const struct gmem *mem, struct pvm_site *site)
{
	struct pagewalk_ctx ctx;
	struct insn_mode mode;
	uint64_t la;

	memset(site, 0, sizeof(*site));
	if (ioctl(fd, KVM_GET_REGS, &site->regs) < 0 || ioctl(fd, KVM_GET_SREGS, &site->sregs) < 0)
		return -errno;
	ctx = (struct pagewalk_ctx){
		.cr0 = site->sregs.cr0, .cr3 = site->sregs.cr3,
		.cr4 = site->sregs.cr4, .efer = site->sregs.efer,
	};
	mode = pvm_mode_of(&site->sregs);
	/* In 64-bit mode CS.base is ignored; elsewhere EIP is 32 bits (or 16) on top of it. */
	la = mode.long64 ? site->regs.rip : (site->sregs.cs.base + (site->regs.rip & 0xffffffffULL));
	site->nbytes = pagewalk_read(mem, &ctx, la, site->bytes, sizeof(site->bytes));
	return 0;
}

static int pvm_inject_bp(int fd, struct pvm_site *site, const struct insn *insn,
			 const struct insn_mode *mode)
{
	struct kvm_vcpu_events events;

	/* #BP is a trap: it is delivered with RIP already past the int3. */
	site->regs.rip = insn_next_rip(insn, mode, site->regs.rip);
	if (ioctl(fd, KVM_SET_REGS, &site->regs) < 0)
		return -errno;
	if (ioctl(fd, KVM_GET_VCPU_EVENTS, &events) < 0)
		return -errno;
	events.exception.injected = 1;
	events.exception.nr = BP_VECTOR;
	events.exception.has_error_code = 0;
	events.exception.error_code = 0;
	return ioctl(fd, KVM_SET_VCPU_EVENTS, &events) < 0 ? -errno : 0;
}

/* FWAIT faults with #NM when CR0.TS and CR0.MP are set and #MF when FSW.ES is: not ours then. */
static int pvm_fwait_is_nop(int fd, const struct kvm_sregs *sregs)
{
	struct kvm_fpu fpu;

	if ((sregs->cr0 & (X86_CR0_TS | X86_CR0_MP)) == (X86_CR0_TS | X86_CR0_MP))
		return -ENOTSUP;
	if (ioctl(fd, KVM_GET_FPU, &fpu) < 0)
		return -errno;
	return (fpu.fsw & FSW_ES) ? -ENOTSUP : 0;
}

int pvm_finish(int fd, struct pvm_site *site, enum insn_kind *done)
{
	struct insn_mode mode = pvm_mode_of(&site->sregs);
	struct insn insn;
	int ret;

	/* Only kernel code is emulated on PVM; anything else reaching here is not ours to finish. */
	if (site->sregs.cs.dpl != 0 || (site->sregs.cs.selector & 3) != 0)
		return -ENOTSUP;
	ret = insn_decode(site->bytes, site->nbytes, &mode, &insn);
	if (ret)
		return ret;
	*done = insn.kind;
	if (insn.kind == INSN_INT3)
		return pvm_inject_bp(fd, site, &insn, &mode);
	if (insn.kind == INSN_FWAIT) {
		ret = pvm_fwait_is_nop(fd, &site->sregs);
		if (ret)
			return ret;
	}
	ret = insn_emulate(&insn, &mode, &site->regs);
	if (ret)
		return ret;
	return ioctl(fd, KVM_SET_REGS, &site->regs) < 0 ? -errno : 0;
}

void pvm_format_bytes(const struct pvm_site *site, char *buf, size_t size)
{
	size_t used = 0;

	if (size == 0)
		return;
	buf[0] = '\0';
	if (site->nbytes == 0) {
		snprintf(buf, size, "(unreadable)");
		return;
	}
	for (size_t i = 0; i < site->nbytes && used + 4 <= size; i++)
		used += (size_t)snprintf(buf + used, size - used, "%s%02x", i ? " " : "", site->bytes[i]);
}
