#include "microvm/kvm.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "arch/x86/cpuid.h"
#include "arch/x86/layout.h"
#include "microvm/log.h"

#define KVM_EXPECTED_API 12

/* Logs "what: strerror(errno)" and returns -errno, with errno read before logging can change it. */
static int kvm_fail_errno(const char *what)
{
	int err = errno;

	log_error("%s: %s", what, strerror(err));
	return -err;
}

/* What every VM here needs of KVM, whatever its configuration; KVM's vCPU limit into k. */
static int kvm_check(struct kvm *k, struct diag *d)
{
	static const struct {
		int cap;
		const char *name;
	} caps[] = {
		{ KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY" },
		{ KVM_CAP_SET_TSS_ADDR, "KVM_CAP_SET_TSS_ADDR" },
		{ KVM_CAP_SET_IDENTITY_MAP_ADDR, "KVM_CAP_SET_IDENTITY_MAP_ADDR" },
		{ KVM_CAP_IRQCHIP, "KVM_CAP_IRQCHIP" },
		{ KVM_CAP_PIT2, "KVM_CAP_PIT2" },
		{ KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID" },
		{ KVM_CAP_MP_STATE, "KVM_CAP_MP_STATE" },
		{ KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT" },
		{ KVM_CAP_VCPU_EVENTS, "KVM_CAP_VCPU_EVENTS" },
	};
	int api = ioctl(k->kvm_fd, KVM_GET_API_VERSION, 0);

	if (api != KVM_EXPECTED_API)
		return diag_fail_errno(d, -ENOTSUP, "%s: KVM API version %d, expected %d", KVM_DEVICE, api,
				       KVM_EXPECTED_API);
	for (size_t i = 0; i < ARRAY_SIZE(caps); i++)
		if (ioctl(k->kvm_fd, KVM_CHECK_EXTENSION, caps[i].cap) <= 0)
			return diag_fail_errno(d, -ENOTSUP, "%s: missing %s", KVM_DEVICE, caps[i].name);
	k->max_vcpus = ioctl(k->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS);
	if (k->max_vcpus <= 0)
		k->max_vcpus = ioctl(k->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_VCPUS);
	return 0;
}

/* The VM without memory or devices, what each vCPU's kvm_run maps, what KVM supports. */
static int kvm_create_vm(struct kvm *k, struct diag *d)
{
	uint64_t identity_map = LAYOUT_KVM_IDENTITY_MAP_ADDR;
	int mmap_size;

	do
		k->vm_fd = ioctl(k->kvm_fd, KVM_CREATE_VM, 0);
	while (k->vm_fd < 0 && errno == EINTR);
	if (k->vm_fd < 0)
		return diag_fail_errno(d, -errno, "KVM_CREATE_VM: %s", strerror(errno));
	/* Both must precede vCPU creation; they only matter on Intel without unrestricted guests. */
	if (ioctl(k->vm_fd, KVM_SET_TSS_ADDR, (unsigned long)LAYOUT_KVM_TSS_ADDR) < 0)
		return diag_fail_errno(d, -errno, "KVM_SET_TSS_ADDR: %s", strerror(errno));
	if (ioctl(k->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &identity_map) < 0)
		return diag_fail_errno(d, -errno, "KVM_SET_IDENTITY_MAP_ADDR: %s", strerror(errno));
	mmap_size = ioctl(k->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (mmap_size < (int)sizeof(struct kvm_run))
		return diag_fail(d, "KVM_GET_VCPU_MMAP_SIZE: %d", mmap_size);
	k->run_size = (size_t)mmap_size;
	k->supported = cpuid_alloc();
	if (!k->supported)
		return diag_fail_errno(d, -ENOMEM, "out of memory");
	k->supported->nent = CPUID_MAX_ENTRIES;
	if (ioctl(k->kvm_fd, KVM_GET_SUPPORTED_CPUID, k->supported) < 0)
		return diag_fail_errno(d, -errno, "KVM_GET_SUPPORTED_CPUID: %s", strerror(errno));
	return 0;
}

int kvm_create(struct kvm *k, struct diag *d)
{
	int ret;

	*k = (struct kvm){ .kvm_fd = -1, .vm_fd = -1 };
	k->kvm_fd = open(KVM_DEVICE, O_RDWR | O_CLOEXEC);
	if (k->kvm_fd < 0)
		return diag_fail_errno(d, -errno, "cannot open %s: %s", KVM_DEVICE, strerror(errno));
	ret = kvm_check(k, d);
	if (!ret)
		ret = kvm_create_vm(k, d);
	if (ret)
		kvm_close(k);
	return ret;
}

/* Every region of guest memory as a memory slot. */
static int kvm_set_memory(struct kvm *k, const struct gmem *mem)
{
	for (unsigned int i = 0; i < mem->nr_regions; i++) {
		const struct gmem_region *r = &mem->regions[i];
		struct kvm_userspace_memory_region slot = {
			.slot = i,
			.guest_phys_addr = r->gpa,
			.memory_size = r->size,
			.userspace_addr = (uintptr_t)r->host,
		};

		if (ioctl(k->vm_fd, KVM_SET_USER_MEMORY_REGION, &slot) < 0) {
			int err = errno;

			log_error("KVM_SET_USER_MEMORY_REGION slot %u (%llu MiB at 0x%llx): %s", i,
				  (unsigned long long)(r->size >> 20), (unsigned long long)r->gpa,
				  strerror(err));
			return -err;
		}
	}
	return 0;
}

int kvm_setup(struct kvm *k, unsigned int vcpus, const struct gmem *mem)
{
	struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };
	int ret;

	if (k->max_vcpus > 0 && vcpus > (unsigned int)k->max_vcpus) {
		log_error("%u vCPUs requested, KVM supports at most %d", vcpus, k->max_vcpus);
		return -EINVAL;
	}
	/*
	 * The memory slots before the interrupt controllers, as Firecracker orders them: on
	 * this project's hosts the first KVM_SET_USER_MEMORY_REGION after KVM_CREATE_IRQCHIP
	 * took 5-6 ms whatever the guest's size (likely a second back-to-back SRCU grace
	 * period), before it 0.15 ms; that was half of a snapshot restore.
	 */
	ret = kvm_set_memory(k, mem);
	if (ret)
		return ret;
	if (ioctl(k->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0)
		return kvm_fail_errno("KVM_CREATE_IRQCHIP");
	if (ioctl(k->vm_fd, KVM_CREATE_PIT2, &pit) < 0)
		return kvm_fail_errno("KVM_CREATE_PIT2");
	return 0;
}

/*
 * A pulse's two levels are one step for the other threads: KVM's IOAPIC delivers an
 * edge-triggered line only when it rises, so a second pulse on a line another thread
 * has raised and not yet lowered is lost. The i8042 lost Ctrl+Alt+Del that way: the
 * guest read the first key while the VMM thread was between its two levels, and the
 * vCPU's pulse for the next key found the line high. One VM per process: one lock.
 */
static pthread_mutex_t kvm_irq_lock = PTHREAD_MUTEX_INITIALIZER;

static void kvm_irq_set(const struct kvm *k, unsigned int gsi, bool level)
{
	struct kvm_irq_level irq = { .irq = gsi, .level = level };

	if (ioctl(k->vm_fd, KVM_IRQ_LINE, &irq) < 0)
		log_debug("KVM_IRQ_LINE %u: %s", gsi, strerror(errno));
}

void kvm_irq_line(const struct kvm *k, unsigned int gsi, bool level)
{
	pthread_mutex_lock(&kvm_irq_lock);
	kvm_irq_set(k, gsi, level);
	pthread_mutex_unlock(&kvm_irq_lock);
}

void kvm_irq_pulse(const struct kvm *k, unsigned int gsi)
{
	pthread_mutex_lock(&kvm_irq_lock);
	kvm_irq_set(k, gsi, true);
	kvm_irq_set(k, gsi, false);
	pthread_mutex_unlock(&kvm_irq_lock);
}

int kvm_ioeventfd(const struct kvm *k, uint64_t addr, uint32_t value, int efd)
{
	struct kvm_ioeventfd io = {
		.datamatch = value, .addr = addr, .len = 4, .fd = efd, .flags = KVM_IOEVENTFD_FLAG_DATAMATCH,
	};

	return ioctl(k->vm_fd, KVM_IOEVENTFD, &io) < 0 ? -errno : 0;
}

void kvm_close(struct kvm *k)
{
	if (k->vm_fd >= 0)
		close(k->vm_fd);
	if (k->kvm_fd >= 0)
		close(k->kvm_fd);
	k->vm_fd = k->kvm_fd = -1;
	free(k->supported);
	k->supported = NULL;
}
