#include "snapshot/state.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <linux/virtio_balloon.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>

#include "arch/x86/layout.h"
#include "config/balloon.h"

static const char *const snap_tag_names[] = {
	[SNAP_MACHINE] = "machine", [SNAP_CONFIG] = "config", [SNAP_CPUID] = "cpuid",
	[SNAP_VCPU] = "vcpu",       [SNAP_MSRS] = "msrs",     [SNAP_VM] = "vm",
	[SNAP_LEGACY] = "legacy",   [SNAP_DEVICE] = "device", [SNAP_ACPI] = "acpi",
	[SNAP_BALLOON] = "balloon",
};

_Static_assert(SNAP_MAX_DEVICES == LAYOUT_VIRTIO_MAX_DEVICES, "a slot per virtio window");

static const char *snap_tag_name(uint32_t tag)
{
	return tag < ARRAY_SIZE(snap_tag_names) && snap_tag_names[tag] ? snap_tag_names[tag] : "unknown";
}

static int snap_bad(struct diag *d, const struct snapfmt_section *s, const char *what)
{
	return diag_fail(d, "section %s %u at offset %llu: %s", snap_tag_name(s->tag), s->index,
			 (unsigned long long)s->offset, what);
}

static int snap_exact(const struct snapfmt_section *s, size_t size, void *out, struct diag *d)
{
	if (s->len != size)
		return diag_fail(d, "section %s %u at offset %llu: %llu bytes, expected %zu",
				 snap_tag_name(s->tag), s->index, (unsigned long long)s->offset,
				 (unsigned long long)s->len, size);
	memcpy(out, s->data, size);
	return 0;
}

/* A section that must exist once: missing ones are named. */
static const struct snapfmt_section *snap_need(const struct snapfmt_view *v, uint32_t tag,
					       uint32_t index, struct diag *d)
{
	const struct snapfmt_section *s = snapfmt_find(v, tag, index);

	if (!s)
		diag_fail(d, "section %s %u is missing", snap_tag_name(tag), index);
	return s;
}

/* u32 count, u32 zero, then count entries of size each, at most max. */
static int snap_counted(const struct snapfmt_section *s, size_t size, uint32_t max, uint32_t *nr,
			void *entries, struct diag *d)
{
	uint32_t count, zero;

	if (s->len < 8)
		return snap_bad(d, s, "shorter than its 8-byte count");
	memcpy(&count, s->data, 4);
	memcpy(&zero, s->data + 4, 4);
	if (count > max || zero)
		return diag_fail(d, "section %s %u at offset %llu: count %u (at most %u) or reserved word 0x%x",
				 snap_tag_name(s->tag), s->index, (unsigned long long)s->offset, count, max, zero);
	if (s->len != 8 + (uint64_t)count * size)
		return diag_fail(d, "section %s %u at offset %llu: %llu bytes for %u entries of %zu",
				 snap_tag_name(s->tag), s->index, (unsigned long long)s->offset,
				 (unsigned long long)s->len, count, size);
	*nr = count;
	memcpy(entries, s->data + 8, (size_t)count * size);
	return 0;
}

static int snap_decode_machine(const struct snapfmt_view *v, struct snapshot *s, struct diag *d)
{
	const struct snapfmt_section *sec = snap_need(v, SNAP_MACHINE, 0, d);
	const struct snap_machine *m = &s->machine;
	int ret;

	if (!sec)
		return -EINVAL;
	ret = snap_exact(sec, sizeof(s->machine), &s->machine, d);
	if (ret)
		return ret;
	if (m->nr_vcpus == 0 || m->nr_vcpus > SNAP_MAX_VCPUS)
		return diag_fail(d, "section machine: %u vCPUs (1 to %u)", m->nr_vcpus, SNAP_MAX_VCPUS);
	if (m->nr_devices > SNAP_MAX_DEVICES)
		return diag_fail(d, "section machine: %u devices (at most %u)", m->nr_devices, SNAP_MAX_DEVICES);
	if (m->ram_size < LAYOUT_MIN_RAM || m->ram_size > LAYOUT_MAX_RAM ||
	    m->ram_size % LAYOUT_PAGE_SIZE || m->reserved)
		return diag_fail(d, "section machine: memory size %llu bytes (whole pages, 2 MiB to 1 TiB) or reserved word",
				 (unsigned long long)m->ram_size);
	return 0;
}

static int snap_decode_config(const struct snapfmt_view *v, struct snapshot *s, struct diag *d)
{
	const struct snapfmt_section *sec = snap_need(v, SNAP_CONFIG, 0, d);

	if (!sec)
		return -EINVAL;
	if (sec->len == 0 || sec->len > SNAP_CONFIG_MAX || memchr(sec->data, 0, sec->len))
		return snap_bad(d, sec, "the configuration is empty, too large or holds a NUL byte");
	s->config = malloc(sec->len + 1);
	if (!s->config)
		return diag_fail_errno(d, -ENOMEM, "out of memory");
	memcpy(s->config, sec->data, sec->len);
	s->config[sec->len] = '\0';
	return 0;
}

static int snap_decode_vcpu(const struct snapfmt_view *v, struct snapshot *s, uint32_t i,
			    struct diag *d)
{
	const struct snapfmt_section *sec;
	struct snap_vcpu *c = &s->vcpus[i];
	int ret;

	sec = snap_need(v, SNAP_VCPU, i, d);
	if (!sec)
		return -EINVAL;
	ret = snap_exact(sec, sizeof(*c), c, d);
	if (ret)
		return ret;
	if (c->xcrs.nr_xcrs > KVM_MAX_XCRS)
		return snap_bad(d, sec, "more XCRs than KVM has");
	if (c->mp_state.mp_state > KVM_MP_STATE_SUSPENDED)
		return snap_bad(d, sec, "unknown MP state");
	sec = snap_need(v, SNAP_CPUID, i, d);
	if (!sec)
		return -EINVAL;
	ret = snap_counted(sec, sizeof(struct kvm_cpuid_entry2), SNAP_MAX_CPUID, &s->cpuid[i].nr,
			   s->cpuid[i].entries, d);
	if (ret)
		return ret;
	sec = snap_need(v, SNAP_MSRS, i, d);
	if (!sec)
		return -EINVAL;
	return snap_counted(sec, sizeof(struct kvm_msr_entry), SNAP_MAX_MSRS, &s->msrs[i].nr,
			    s->msrs[i].entries, d);
}

static int snap_decode_legacy(const struct snapfmt_view *v, struct snapshot *s, struct diag *d)
{
	const struct snapfmt_section *sec = snap_need(v, SNAP_LEGACY, 0, d);
	const struct snap_legacy *l = &s->legacy;
	int ret;

	if (!sec)
		return -EINVAL;
	ret = snap_exact(sec, sizeof(*l), &s->legacy, d);
	if (ret)
		return ret;
	if (l->serial.rx_head >= sizeof(l->serial.rx) || l->serial.rx_count > sizeof(l->serial.rx))
		return snap_bad(d, sec, "serial receive FIFO index out of range");
	if (l->i8042.out_head >= sizeof(l->i8042.out) || l->i8042.out_count > sizeof(l->i8042.out))
		return snap_bad(d, sec, "i8042 output buffer index out of range");
	return 0;
}

static int snap_decode_vm(const struct snapfmt_view *v, struct snapshot *s, struct diag *d)
{
	const struct snapfmt_section *sec = snap_need(v, SNAP_VM, 0, d);
	int ret;

	if (!sec)
		return -EINVAL;
	ret = snap_exact(sec, sizeof(s->vm), &s->vm, d);
	for (uint32_t i = 0; !ret && i < 3; i++)
		if (s->vm.chips[i].chip_id != i)
			ret = snap_bad(d, sec, "interrupt controllers out of order");
	return ret;
}

static int snap_decode_device(const struct snapfmt_view *v, struct snapshot *s, uint32_t i,
			      struct diag *d)
{
	const struct snapfmt_section *sec = snap_need(v, SNAP_DEVICE, i, d);
	const struct snap_transport *t = &s->devices[i];
	int ret;

	if (!sec)
		return -EINVAL;
	ret = snap_exact(sec, sizeof(*t), &s->devices[i], d);
	if (ret)
		return ret;
	if (t->nr_queues == 0 || t->nr_queues > SNAP_MAX_QUEUES)
		return snap_bad(d, sec, "queue count out of range");
	for (uint32_t q = 0; q < SNAP_MAX_QUEUES; q++) {
		if (t->queues[q].ready > 1 || (q >= t->nr_queues && t->queues[q].ready))
			return snap_bad(d, sec, "queue ready flag out of range");
		/* A notification waits for DRIVER_OK only on a ready queue (virtio_mmio_notify). */
		if ((t->early_notify & (1u << q)) && !t->queues[q].ready)
			return snap_bad(d, sec, "an early notification for a queue not ready");
	}
	if (t->early_notify >> SNAP_MAX_QUEUES || t->reserved ||
	    (t->early_notify && (t->status & VIRTIO_CONFIG_S_DRIVER_OK)))
		return snap_bad(d, sec, "early notifications after DRIVER_OK, or reserved word");
	return 0;
}

/*
 * The balloon's section, which a machine has exactly when one of its devices is a
 * balloon: its page counts within guest RAM, flags 0 or 1, reserved bytes zero, only
 * statistics the driver could have sent. Its queues were checked with its transport;
 * the held statistics buffer is checked against its queue on restore.
 */
static int snap_decode_balloon(const struct snapfmt_view *v, struct snapshot *s, struct diag *d)
{
	const struct snapfmt_section *sec = snapfmt_find(v, SNAP_BALLOON, 0);
	const struct snap_balloon *b = &s->balloon;
	uint64_t pages = s->machine.ram_size / LAYOUT_PAGE_SIZE;
	int ret = sec ? snap_exact(sec, sizeof(*b), &s->balloon, d) : 0;

	if (ret)
		return ret;
	for (uint32_t i = 0; i < s->machine.nr_devices; i++)
		if (s->devices[i].device_id == VIRTIO_ID_BALLOON && (!sec || b->slot != i))
			return diag_fail(d, "section device %u: a balloon without its section", i);
	if (!sec)
		return 0;
	if (b->slot >= s->machine.nr_devices || s->devices[b->slot].device_id != VIRTIO_ID_BALLOON)
		return diag_fail(d, "section balloon at offset %llu: device %u is not a balloon",
				 (unsigned long long)sec->offset, b->slot);
	if (b->num_pages > pages || b->actual > pages)
		return diag_fail(d, "section balloon at offset %llu: target %u or actual %u pages beyond the guest's %llu",
				 (unsigned long long)sec->offset, b->num_pages, b->actual,
				 (unsigned long long)pages);
	if (b->stats_interval_s > BALLOON_STATS_INTERVAL_MAX)
		return diag_fail(d, "section balloon at offset %llu: statistics interval %u s (at most %d)",
				 (unsigned long long)sec->offset, b->stats_interval_s,
				 BALLOON_STATS_INTERVAL_MAX);
	if (b->deflate_on_oom > 1 || b->reporting > 1 || b->stats_held > 1 || b->reserved0 ||
	    b->reserved1 || b->reserved2)
		return snap_bad(d, sec, "a flag or reserved field out of range");
	if (b->stats_held ? !b->stats_interval_s : b->stats_head != 0)
		return snap_bad(d, sec, "a held statistics buffer without a statistics queue, or a head with none held");
	for (uint32_t tag = 0; tag < SNAP_BALLOON_STATS; tag++)
		if (!(b->stats_present & (1u << tag)) ? b->stats[tag] != 0 : tag >= VIRTIO_BALLOON_S_NR)
			return diag_fail(d, "section balloon at offset %llu: statistic %u: %s",
					 (unsigned long long)sec->offset, tag,
					 tag < VIRTIO_BALLOON_S_NR ? "a value not sent" : "not one the device keeps");
	if (b->stats_present >> SNAP_BALLOON_STATS)
		return snap_bad(d, sec, "statistics beyond those kept");
	s->has_balloon = true;
	return 0;
}

static bool snap_zero(const void *p, size_t len)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < len; i++)
		if (b[i])
			return false;
	return true;
}

/* A slot the tables could list: a virtio window in the MMIO gap, on a virtio line. */
static bool snap_slot_valid(const struct snap_slot *sl)
{
	return sl->base >= LAYOUT_VIRTIO_MMIO_START &&
	       sl->base <= LAYOUT_MMIO_GAP_END - LAYOUT_VIRTIO_MMIO_SIZE &&
	       sl->base % LAYOUT_VIRTIO_MMIO_SIZE == 0 && sl->irq >= LAYOUT_VIRTIO_IRQ_FIRST &&
	       sl->irq <= LAYOUT_VIRTIO_IRQ_LAST && !sl->reserved;
}

static int snap_decode_acpi(const struct snapfmt_view *v, struct snapshot *s, struct diag *d)
{
	const struct snapfmt_section *sec = snap_need(v, SNAP_ACPI, 0, d);
	const struct snap_acpi *a = &s->acpi;
	int ret;

	if (!sec)
		return -EINVAL;
	ret = snap_exact(sec, sizeof(*a), &s->acpi, d);
	if (ret)
		return ret;
	if (a->nr_vcpus != s->machine.nr_vcpus || a->nr_slots != s->machine.nr_devices)
		return diag_fail(d, "section acpi at offset %llu: tables for %u vCPUs and %u devices, but the machine has %u and %u",
				 (unsigned long long)sec->offset, a->nr_vcpus, a->nr_slots,
				 s->machine.nr_vcpus, s->machine.nr_devices);
	for (uint32_t i = 0; i < SNAP_MAX_DEVICES; i++) {
		const struct snap_slot *sl = &a->slots[i];

		if (i < a->nr_slots ? !snap_slot_valid(sl) : !snap_zero(sl, sizeof(*sl)))
			return diag_fail(d, "section acpi at offset %llu: slot %u at 0x%llx IRQ %u: %s",
					 (unsigned long long)sec->offset, i, (unsigned long long)sl->base,
					 sl->irq, i < a->nr_slots ? "not a virtio-mmio window and line"
								  : "beyond the devices, not zero");
	}
	if (a->button_pressed > 1 || !snap_zero(a->reserved, sizeof(a->reserved)))
		return snap_bad(d, sec, "power button state or reserved bytes out of range");
	return 0;
}

void snapstate_describe(struct snap_acpi *out, const struct platform_config *cfg, bool button_pressed)
{
	memset(out, 0, sizeof(*out));
	out->nr_vcpus = cfg->vcpus;
	out->nr_slots = cfg->nr_virtio;
	for (unsigned int i = 0; i < cfg->nr_virtio && i < SNAP_MAX_DEVICES; i++)
		out->slots[i] = (struct snap_slot){ .base = cfg->virtio[i].base, .irq = cfg->virtio[i].irq };
	out->button_pressed = button_pressed;
}

int snapstate_check_platform(const struct snap_acpi *saved, const struct platform_config *now,
			     struct diag *d)
{
	if (saved->nr_vcpus != now->vcpus || saved->nr_slots != now->nr_virtio)
		return diag_fail(d, "the snapshot's ACPI tables describe %u vCPUs and %u devices, its configuration makes %u and %u",
				 saved->nr_vcpus, saved->nr_slots, now->vcpus, now->nr_virtio);
	for (unsigned int i = 0; i < now->nr_virtio; i++) {
		const struct snap_slot *sl = &saved->slots[i];

		if (sl->base != now->virtio[i].base || sl->irq != now->virtio[i].irq)
			return diag_fail(d, "the snapshot's ACPI tables put device %u at 0x%llx IRQ %u, its configuration at 0x%llx IRQ %u",
					 i, (unsigned long long)sl->base, sl->irq,
					 (unsigned long long)now->virtio[i].base, now->virtio[i].irq);
	}
	return 0;
}

/* Every section must be one decode looked at: its index within the machine. */
static int snap_check_indices(const struct snapfmt_view *v, const struct snapshot *s, struct diag *d)
{
	for (uint32_t i = 0; i < v->nr; i++) {
		const struct snapfmt_section *sec = &v->sections[i];
		uint32_t limit;

		switch (sec->tag) {
		case SNAP_CPUID:
		case SNAP_VCPU:
		case SNAP_MSRS:
			limit = s->machine.nr_vcpus;
			break;
		case SNAP_DEVICE:
			limit = s->machine.nr_devices;
			break;
		case SNAP_MACHINE:
		case SNAP_CONFIG:
		case SNAP_VM:
		case SNAP_LEGACY:
		case SNAP_ACPI:
		case SNAP_BALLOON:
			limit = 1;
			break;
		default:
			return diag_fail(d, "section %u at offset %llu: unknown tag %u", i,
					 (unsigned long long)sec->offset, sec->tag);
		}
		if (sec->index >= limit)
			return diag_fail(d, "section %s %u at offset %llu: index beyond the machine's %u",
					 snap_tag_name(sec->tag), sec->index, (unsigned long long)sec->offset,
					 limit);
	}
	return 0;
}

int snapstate_decode(const struct snapfmt_view *v, struct snapshot *s, struct diag *d)
{
	int ret = snap_decode_machine(v, s, d);

	if (!ret)
		ret = snap_check_indices(v, s, d);
	if (!ret)
		ret = snap_decode_config(v, s, d);
	for (uint32_t i = 0; !ret && i < s->machine.nr_vcpus; i++)
		ret = snap_decode_vcpu(v, s, i, d);
	if (!ret)
		ret = snap_decode_vm(v, s, d);
	if (!ret)
		ret = snap_decode_legacy(v, s, d);
	for (uint32_t i = 0; !ret && i < s->machine.nr_devices; i++)
		ret = snap_decode_device(v, s, i, d);
	if (!ret)
		ret = snap_decode_acpi(v, s, d);
	if (!ret)
		ret = snap_decode_balloon(v, s, d);
	if (ret)
		snapstate_free(s);
	return ret;
}

static void snap_add_counted(struct snapfmt_writer *w, uint32_t tag, uint32_t index, uint32_t nr,
			     const void *entries, size_t size)
{
	size_t len = 8 + (size_t)nr * size;
	uint8_t *buf = calloc(1, len);

	if (!buf) {
		if (!w->err)
			w->err = -ENOMEM;
		return;
	}
	memcpy(buf, &nr, 4);
	memcpy(buf + 8, entries, (size_t)nr * size);
	snapfmt_add(w, tag, index, buf, len);
	free(buf);
}

int snapstate_encode(const struct snapshot *s, struct snapfmt_writer *w)
{
	const struct snap_machine *m = &s->machine;

	if (m->nr_vcpus > SNAP_MAX_VCPUS || m->nr_devices > SNAP_MAX_DEVICES || !s->config)
		return -EINVAL;
	snapfmt_add(w, SNAP_MACHINE, 0, m, sizeof(*m));
	snapfmt_add(w, SNAP_CONFIG, 0, s->config, strlen(s->config));
	for (uint32_t i = 0; i < m->nr_vcpus; i++) {
		if (s->cpuid[i].nr > SNAP_MAX_CPUID || s->msrs[i].nr > SNAP_MAX_MSRS)
			return -EINVAL;
		snapfmt_add(w, SNAP_VCPU, i, &s->vcpus[i], sizeof(s->vcpus[i]));
		snap_add_counted(w, SNAP_CPUID, i, s->cpuid[i].nr, s->cpuid[i].entries,
				 sizeof(s->cpuid[i].entries[0]));
		snap_add_counted(w, SNAP_MSRS, i, s->msrs[i].nr, s->msrs[i].entries,
				 sizeof(s->msrs[i].entries[0]));
	}
	snapfmt_add(w, SNAP_VM, 0, &s->vm, sizeof(s->vm));
	snapfmt_add(w, SNAP_LEGACY, 0, &s->legacy, sizeof(s->legacy));
	for (uint32_t i = 0; i < m->nr_devices; i++)
		snapfmt_add(w, SNAP_DEVICE, i, &s->devices[i], sizeof(s->devices[i]));
	snapfmt_add(w, SNAP_ACPI, 0, &s->acpi, sizeof(s->acpi));
	if (s->has_balloon)
		snapfmt_add(w, SNAP_BALLOON, 0, &s->balloon, sizeof(s->balloon));
	return w->err;
}

void snapstate_free(struct snapshot *s)
{
	free(s->config);
	s->config = NULL;
}

/* The feature registers compared: leaf, subleaf, and which register (0 eax .. 3 edx). */
static const struct {
	uint32_t function, index;
	unsigned int reg;
	const char *name;
} snap_feature_regs[] = {
	{ 0x1, 0, 2, "ecx" },        { 0x1, 0, 3, "edx" },
	{ 0x7, 0, 1, "ebx" },        { 0x7, 0, 2, "ecx" }, { 0x7, 0, 3, "edx" },
	{ 0xd, 0, 0, "eax" },        /* XSAVE components */
	{ 0xd, 1, 0, "eax" },        /* XSAVEOPT, XSAVEC, XSAVES */
	{ 0x80000001, 0, 2, "ecx" }, { 0x80000001, 0, 3, "edx" },
};

static const struct kvm_cpuid_entry2 *snap_cpuid_find(const struct kvm_cpuid_entry2 *e, uint32_t nr,
						      uint32_t function, uint32_t index)
{
	for (uint32_t i = 0; i < nr; i++)
		if (e[i].function == function &&
		    (!(e[i].flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) || e[i].index == index))
			return &e[i];
	return NULL;
}

static uint32_t snap_cpuid_reg(const struct kvm_cpuid_entry2 *e, unsigned int reg)
{
	const uint32_t regs[4] = { e->eax, e->ebx, e->ecx, e->edx };

	return regs[reg];
}

int snapstate_check_cpu(const struct snap_cpuid *saved, const struct kvm_cpuid2 *supported,
			struct diag *d)
{
	for (size_t i = 0; i < ARRAY_SIZE(snap_feature_regs); i++) {
		const struct kvm_cpuid_entry2 *want, *have;
		uint32_t missing;

		want = snap_cpuid_find(saved->entries, saved->nr, snap_feature_regs[i].function,
				       snap_feature_regs[i].index);
		if (!want)
			continue;
		have = snap_cpuid_find(supported->entries, supported->nent, snap_feature_regs[i].function,
				       snap_feature_regs[i].index);
		missing = snap_cpuid_reg(want, snap_feature_regs[i].reg) &
			  ~(have ? snap_cpuid_reg(have, snap_feature_regs[i].reg) : 0);
		/* Leaf 1: ECX bits 31 (hypervisor) and 27 (OSXSAVE), EDX bit 28 (HTT) are the VMM's and the guest's, not the CPU's. */
		if (snap_feature_regs[i].function == 0x1)
			missing &= snap_feature_regs[i].reg == 2 ? ~((1u << 31) | (1u << 27)) : ~(1u << 28);
		if (missing)
			return diag_fail_errno(d, -ENOTSUP,
					       "the snapshot needs CPU features this host lacks: CPUID leaf 0x%x.%u %s bits 0x%08x",
					       snap_feature_regs[i].function, snap_feature_regs[i].index,
					       snap_feature_regs[i].name, missing);
	}
	return 0;
}
