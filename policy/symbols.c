/* The symbolic constants policies may name, with values from the kernel's and libc's own headers. */
#include <asm/ioctls.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <linux/kvm.h>
#include <linux/if_tun.h>
#include <sched.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include "policy.h"

struct policy_symbol_entry {
	const char *name;
	uint64_t value;
};

#define SYM(x) { #x, (uint64_t)(x) }

static const struct policy_symbol_entry policy_symbols[] = {
	/* KVM requests a running VMM makes after start-up. */
	SYM(KVM_RUN), SYM(KVM_IRQ_LINE), SYM(KVM_IRQ_LINE_STATUS), SYM(KVM_GET_REGS),
	SYM(KVM_SET_REGS), SYM(KVM_GET_SREGS), SYM(KVM_SET_SREGS), SYM(KVM_GET_VCPU_EVENTS),
	SYM(KVM_SET_VCPU_EVENTS), SYM(KVM_GET_MP_STATE), SYM(KVM_SET_MP_STATE),
	SYM(KVM_IOEVENTFD), SYM(KVM_IRQFD), SYM(KVM_SET_USER_MEMORY_REGION), SYM(KVM_GET_LAPIC),
	SYM(KVM_SET_LAPIC), SYM(KVM_GET_MSRS), SYM(KVM_SET_MSRS), SYM(KVM_TRANSLATE),
	SYM(KVM_KVMCLOCK_CTRL), SYM(KVM_GET_FPU), SYM(KVM_SET_FPU),
	/* What a snapshot reads of the parked vCPUs and the VM. */
	SYM(KVM_GET_XSAVE), SYM(KVM_GET_XCRS), SYM(KVM_GET_DEBUGREGS), SYM(KVM_GET_MSR_INDEX_LIST),
	SYM(KVM_GET_TSC_KHZ), SYM(KVM_GET_IRQCHIP), SYM(KVM_GET_PIT2), SYM(KVM_GET_CLOCK),
	/* Terminal and tap requests. */
	SYM(TCGETS), SYM(TCSETS), SYM(TCSETSW), SYM(TIOCGWINSZ), SYM(TUNSETIFF),
	SYM(TUNSETOFFLOAD), SYM(TUNSETVNETHDRSZ), SYM(FIONBIO),
	/* Memory protection and mapping flags. */
	SYM(PROT_NONE), SYM(PROT_READ), SYM(PROT_WRITE), SYM(PROT_EXEC), SYM(MAP_SHARED),
	SYM(MAP_PRIVATE), SYM(MAP_ANONYMOUS), SYM(MAP_FIXED), SYM(MAP_NORESERVE),
	SYM(MAP_STACK), SYM(MADV_DONTNEED), SYM(MADV_FREE), SYM(MADV_DONTDUMP),
	/* fcntl commands and file flags. */
	SYM(F_GETFD), SYM(F_SETFD), SYM(F_GETFL), SYM(F_SETFL), SYM(F_DUPFD_CLOEXEC),
	SYM(FD_CLOEXEC), SYM(O_NONBLOCK), SYM(O_RDONLY), SYM(O_WRONLY), SYM(O_RDWR),
	SYM(O_CLOEXEC), SYM(O_CREAT), SYM(O_TRUNC), SYM(O_NOFOLLOW),
	/* Socket families and types. */
	SYM(AF_UNIX), SYM(AF_INET), SYM(AF_INET6), SYM(AF_NETLINK), SYM(AF_PACKET),
	SYM(AF_VSOCK), SYM(SOCK_STREAM), SYM(SOCK_DGRAM), SYM(SOCK_RAW), SYM(SOCK_SEQPACKET),
	SYM(SOCK_CLOEXEC), SYM(SOCK_NONBLOCK),
	/* futex operations glibc's pthreads use. */
	SYM(FUTEX_WAIT), SYM(FUTEX_WAKE), SYM(FUTEX_WAIT_BITSET), SYM(FUTEX_PRIVATE_FLAG),
	SYM(FUTEX_CLOCK_REALTIME), SYM(FUTEX_CMD_MASK),
	/* clone flags glibc's pthread_create passes: threads, never processes. */
	SYM(CLONE_VM), SYM(CLONE_FS), SYM(CLONE_FILES), SYM(CLONE_SIGHAND), SYM(CLONE_THREAD),
	SYM(CLONE_SYSVSEM), SYM(CLONE_SETTLS), SYM(CLONE_PARENT_SETTID),
	SYM(CLONE_CHILD_CLEARTID),
};

bool policy_symbol(const char *name, uint64_t *value)
{
	for (size_t i = 0; i < ARRAY_SIZE(policy_symbols); i++) {
		if (strcmp(policy_symbols[i].name, name) == 0) {
			*value = policy_symbols[i].value;
			return true;
		}
	}
	return false;
}
