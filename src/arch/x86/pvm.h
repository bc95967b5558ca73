/*
 * PVM hosts (../shared/docs/HOST-KVM.md): KVM runs guest kernel code through its
 * instruction emulator, which lacks some instructions. This module detects such a
 * host, names the kernel switches that keep Linux off the worst of them, and finishes
 * the few simple instructions (int3, popcnt, clac, stac, fwait) the emulator gives up on.
 */
#ifndef MICROVM_ARCH_X86_PVM_H
#define MICROVM_ARCH_X86_PVM_H

#include <asm/kvm.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arch/x86/insn.h"
#include "microvm/compiler.h"
#include "microvm/gmem.h"

/* Where an emulation failure happened and what is there, read through the guest's page tables. */
struct pvm_site {
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	uint8_t bytes[INSN_MAX_LEN];
	size_t nbytes; /* how many of bytes[] could be read (may be 0) */
};

/* cpu_parse_early_param() copies clearcpuid= into a 128-byte buffer. */
#define PVM_CLEARCPUID_MAX 127

/* True on a PVM host (the kvm_pvm module is loaded, or no VMX/SVM): guest kernel code is emulated. */
bool pvm_host_detected(void);
/* Kernel command-line switches that keep Linux off instructions a PVM host cannot emulate. */
const char *pvm_cmdline_switches(void);

#define PVM_CPUID_1_ECX_VMX (1U << 5)
#define PVM_CPUID_80000001_ECX_SVM (1U << 2)
/* The decision behind pvm_host_detected(), from what it reads. */
bool pvm_detect(bool sysfs_module, uint32_t leaf1_ecx, uint32_t ext_leaf1_ecx);

/* Reads the registers and up to 15 instruction bytes at CS:RIP. */
MUST_CHECK int pvm_site_read(int vcpu_fd, const struct gmem *mem, struct pvm_site *site);
/*
 * Finishes the instruction at site when it is one the VMM knows, at CPL 0; *done
 * names it. -ENOTSUP when it is not, other -errno when KVM refused the new state.
 */
MUST_CHECK int pvm_finish(int vcpu_fd, struct pvm_site *site, enum insn_kind *done);
/* "f3 48 0f b8 c7" for the message naming an instruction; buf holds 3 chars per byte. */
void pvm_format_bytes(const struct pvm_site *site, char *buf, size_t size);

#endif
