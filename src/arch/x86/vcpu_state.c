#include "arch/x86/vcpu_state.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "arch/x86/cpuid.h"

_Static_assert(SNAP_MAX_CPUID == CPUID_MAX_ENTRIES, "a snapshot holds a whole CPUID table");

/* One ioctl; on failure *what names it and -errno comes back. */
#define VCPU_STATE_IOCTL(fd, req, arg, what)                 \
	(ioctl((fd), (req), (arg)) < 0 ? (*(what) = #req, -errno) : 0)

/* A message naming an MSR, for *what: restores run on one thread, before any other starts. */
static char vcpu_state_what[64];

_Static_assert(sizeof(struct kvm_xsave) == sizeof(((struct snap_vcpu *)0)->xsave),
	       "a snapshot holds KVM_GET_XSAVE's whole area");

/* struct kvm_msrs with room for n entries, or NULL. */
static struct kvm_msrs *vcpu_state_msrs_alloc(uint32_t n)
{
	struct kvm_msrs *m = calloc(1, sizeof(*m) + (size_t)n * sizeof(m->entries[0]));

	if (m)
		m->nmsrs = n;
	return m;
}

void vcpu_state_cpuid(const struct kvm_cpuid2 *t, struct snap_cpuid *out)
{
	out->nr = t->nent <= SNAP_MAX_CPUID ? t->nent : SNAP_MAX_CPUID;
	memcpy(out->entries, t->entries, out->nr * sizeof(out->entries[0]));
}

int vcpu_state_msr_list(int kvm_fd, int vcpu_fd, struct snap_msrs *list)
{
	const uint32_t max = 1024;
	struct kvm_msr_list *all = calloc(1, sizeof(*all) + max * sizeof(all->indices[0]));
	struct kvm_msrs *one = vcpu_state_msrs_alloc(1);
	int ret = 0;

	if (!all || !one) {
		ret = -ENOMEM;
		goto out;
	}
	all->nmsrs = max;
	if (ioctl(kvm_fd, KVM_GET_MSR_INDEX_LIST, all) < 0) {
		ret = -errno;
		goto out;
	}
	list->nr = 0;
	for (uint32_t i = 0; i < all->nmsrs && i < max; i++) {
		one->entries[0] = (struct kvm_msr_entry){ .index = all->indices[i] };
		/* KVM lists MSRs this CPU may lack: keep those it can read back. */
		if (ioctl(vcpu_fd, KVM_GET_MSRS, one) != 1)
			continue;
		if (list->nr == SNAP_MAX_MSRS) {
			ret = -E2BIG;
			break;
		}
		list->entries[list->nr++] = (struct kvm_msr_entry){ .index = all->indices[i] };
	}
out:
	free(all);
	free(one);
	return ret;
}

static int vcpu_state_get_msrs(int fd, const struct snap_msrs *list, struct snap_msrs *out,
			       const char **what)
{
	struct kvm_msrs *m = vcpu_state_msrs_alloc(list->nr);
	int n;

	if (!m)
		return -ENOMEM;
	memcpy(m->entries, list->entries, list->nr * sizeof(list->entries[0]));
	n = ioctl(fd, KVM_GET_MSRS, m);
	if (n < 0 || (uint32_t)n != list->nr) {
		*what = "KVM_GET_MSRS";
		free(m);
		return n < 0 ? -errno : -EIO;
	}
	out->nr = list->nr;
	memcpy(out->entries, m->entries, list->nr * sizeof(list->entries[0]));
	free(m);
	return 0;
}

int vcpu_state_save(int fd, const struct snap_msrs *list, struct snap_vcpu *out,
		    struct snap_msrs *msrs, const char **what)
{
	int ret;

	memset(out, 0, sizeof(*out));
	ret = VCPU_STATE_IOCTL(fd, KVM_GET_MP_STATE, &out->mp_state, what);
	if (!ret)
		ret = VCPU_STATE_IOCTL(fd, KVM_GET_REGS, &out->regs, what);
	if (!ret)
		ret = VCPU_STATE_IOCTL(fd, KVM_GET_SREGS, &out->sregs, what);
	if (!ret)
		ret = VCPU_STATE_IOCTL(fd, KVM_GET_XSAVE, out->xsave, what);
	if (!ret)
		ret = VCPU_STATE_IOCTL(fd, KVM_GET_XCRS, &out->xcrs, what);
	if (!ret)
		ret = VCPU_STATE_IOCTL(fd, KVM_GET_DEBUGREGS, &out->debugregs, what);
	if (!ret)
		ret = VCPU_STATE_IOCTL(fd, KVM_GET_LAPIC, &out->lapic, what);
	if (!ret)
		ret = vcpu_state_get_msrs(fd, list, msrs, what);
	if (!ret)
		ret = VCPU_STATE_IOCTL(fd, KVM_GET_VCPU_EVENTS, &out->events, what);
	return ret;
}

static int vcpu_state_set_msrs(int fd, const struct snap_msrs *in, const char **what)
{
	struct kvm_msrs *m = vcpu_state_msrs_alloc(in->nr);
	int n;

	if (!m)
		return -ENOMEM;
	memcpy(m->entries, in->entries, in->nr * sizeof(in->entries[0]));
	n = ioctl(fd, KVM_SET_MSRS, m);
	free(m);
	if (n < 0) {
		*what = "KVM_SET_MSRS";
		return -errno;
	}
	if ((uint32_t)n != in->nr) {
		/* KVM stops at the first MSR it refuses: n is its position. */
		snprintf(vcpu_state_what, sizeof(vcpu_state_what), "KVM_SET_MSRS refused MSR 0x%x",
			 in->entries[n].index);
		*what = vcpu_state_what;
		return -EINVAL;
	}
	return 0;
}

int vcpu_state_restore(int fd, const struct snap_vcpu *in, const struct snap_msrs *msrs,
		       const struct snap_cpuid *cpuid, const char **what)
{
	struct kvm_cpuid2 *t = cpuid_alloc();
	struct kvm_vcpu_events events = in->events;
	int ret;

	if (!t)
		return -ENOMEM;
	t->nent = cpuid->nr;
	memcpy(t->entries, cpuid->entries, cpuid->nr * sizeof(t->entries[0]));
	ret = VCPU_STATE_IOCTL(fd, KVM_SET_CPUID2, t, what);
	free(t);
	if (!ret)
		ret = VCPU_STATE_IOCTL(fd, KVM_SET_MP_STATE, &in->mp_state, what);
	if (!ret)
		ret = VCPU_STATE_IOCTL(fd, KVM_SET_REGS, &in->regs, what);
	if (!ret)
		ret = VCPU_STATE_IOCTL(fd, KVM_SET_SREGS, &in->sregs, what);
	if (!ret)
		ret = VCPU_STATE_IOCTL(fd, KVM_SET_XSAVE, in->xsave, what);
	if (!ret)
		ret = VCPU_STATE_IOCTL(fd, KVM_SET_XCRS, &in->xcrs, what);
	if (!ret)
		ret = VCPU_STATE_IOCTL(fd, KVM_SET_DEBUGREGS, &in->debugregs, what);
	if (!ret)
		ret = VCPU_STATE_IOCTL(fd, KVM_SET_LAPIC, &in->lapic, what);
	if (!ret)
		ret = vcpu_state_set_msrs(fd, msrs, what);
	/* Only the fields a snapshot can carry: NMI, SIPI vector, SMM and exception state. */
	events.flags &= KVM_VCPUEVENT_VALID_NMI_PENDING | KVM_VCPUEVENT_VALID_SIPI_VECTOR |
			KVM_VCPUEVENT_VALID_SHADOW | KVM_VCPUEVENT_VALID_SMM |
			KVM_VCPUEVENT_VALID_PAYLOAD;
	if (!ret)
		ret = VCPU_STATE_IOCTL(fd, KVM_SET_VCPU_EVENTS, &events, what);
	return ret;
}

uint32_t vcpu_state_tsc_khz(int vcpu_fd)
{
	int khz = ioctl(vcpu_fd, KVM_GET_TSC_KHZ, 0);

	return khz > 0 ? (uint32_t)khz : 0;
}

int vcpu_state_set_tsc_khz(int vcpu_fd, uint32_t khz)
{
	uint32_t now = vcpu_state_tsc_khz(vcpu_fd);

	/* KVM's own tolerance for a TSC that needs no scaling: 250 ppm. */
	if (khz == 0 || (now && (uint64_t)(now > khz ? now - khz : khz - now) * 1000000 <= 250ULL * khz))
		return 0;
	return ioctl(vcpu_fd, KVM_SET_TSC_KHZ, (unsigned long)khz) < 0 ? -errno : 0;
}

int vm_state_save(int vm_fd, struct snap_vm *out, const char **what)
{
	int ret = 0;

	memset(out, 0, sizeof(*out));
	for (uint32_t i = 0; !ret && i < 3; i++) {
		out->chips[i].chip_id = i;
		ret = VCPU_STATE_IOCTL(vm_fd, KVM_GET_IRQCHIP, &out->chips[i], what);
	}
	if (!ret)
		ret = VCPU_STATE_IOCTL(vm_fd, KVM_GET_PIT2, &out->pit, what);
	if (!ret)
		ret = VCPU_STATE_IOCTL(vm_fd, KVM_GET_CLOCK, &out->clock, what);
	return ret;
}

int vm_state_restore(int vm_fd, const struct snap_vm *in, const char **what)
{
	/* The clock goes on from the snapshot's value: KVM takes no other flag here. */
	struct kvm_clock_data clock = { .clock = in->clock.clock };
	int ret = VCPU_STATE_IOCTL(vm_fd, KVM_SET_PIT2, &in->pit, what);

	if (!ret)
		ret = VCPU_STATE_IOCTL(vm_fd, KVM_SET_CLOCK, &clock, what);
	for (uint32_t i = 0; !ret && i < 3; i++)
		ret = VCPU_STATE_IOCTL(vm_fd, KVM_SET_IRQCHIP, &in->chips[i], what);
	return ret;
}
