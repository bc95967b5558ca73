#include "microvm/registry.h"

#include <errno.h>
#include <linux/virtio_mmio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "config/devices.h"
#include "microvm/log.h"

_Static_assert(SNAP_MAX_DEVICES == REGISTRY_MAX_DEVICES, "a snapshot holds every device");

struct registry_kind {
	const struct device_spec *spec;
	const struct device_ops *ops;
};

#define REGISTRY_OPS_DECLARE(spec, ops) extern const struct device_ops ops;
DEVICE_KINDS(REGISTRY_OPS_DECLARE)
#define REGISTRY_KIND(spec, ops) { &spec, &ops },

static const struct registry_kind registry_kinds[] = { DEVICE_KINDS(REGISTRY_KIND) };

/* Opens one device of kind k from its config into the next slot. */
static int registry_open_one(struct registry *r, const struct registry_kind *k,
			     const void *config, struct diag *d)
{
	struct registry_slot *s = &r->slots[r->nr];
	void *dev = calloc(1, k->ops->size);
	int ret;

	if (!dev)
		return diag_fail_errno(d, -ENOMEM, "--%s: out of memory", k->spec->option);
	ret = k->ops->open ? k->ops->open(dev, config, d) : 0;
	if (ret) {
		free(dev);
		return ret;
	}
	*s = (struct registry_slot){
		.spec = k->spec,
		.ops = k->ops,
		.dev = dev,
		.config = config,
		.base = LAYOUT_VIRTIO_MMIO_START + r->nr * LAYOUT_VIRTIO_MMIO_SIZE,
		.irq = LAYOUT_VIRTIO_IRQ_FIRST + r->nr,
	};
	for (unsigned int q = 0; q < VIRTIO_MMIO_MAX_QUEUES; q++)
		s->kicks[q].efd = -1;
	r->nr++;
	return 0;
}

int registry_open(struct registry *r, const struct vm_resources *res, struct diag *d)
{
	memset(r, 0, sizeof(*r));
	if (res->nr_devices > REGISTRY_MAX_DEVICES)
		return diag_fail(d, "%u devices: at most %d fit the interrupt lines", res->nr_devices,
				 REGISTRY_MAX_DEVICES);
	r->slots = calloc(res->nr_devices ? res->nr_devices : 1, sizeof(*r->slots));
	if (!r->slots)
		return diag_fail_errno(d, -ENOMEM, "out of memory");
	for (size_t k = 0; k < ARRAY_SIZE(registry_kinds); k++) {
		for (unsigned int i = 0; i < res->nr_devices; i++) {
			int ret;

			if (res->devices[i].spec != registry_kinds[k].spec)
				continue;
			ret = registry_open_one(r, &registry_kinds[k], res->devices[i].config, d);
			if (ret) {
				registry_close(r);
				return ret;
			}
		}
	}
	return 0;
}

void registry_describe(const struct registry *r, struct platform_config *cfg)
{
	cfg->nr_virtio = r->nr;
	for (unsigned int i = 0; i < r->nr; i++)
		cfg->virtio[i] = (struct platform_virtio){ .base = r->slots[i].base, .irq = r->slots[i].irq };
}

int registry_cmdline(const struct registry *r, struct cmdline_buf *cl, struct diag *d)
{
	for (unsigned int i = 0; i < r->nr; i++) {
		char param[64];
		int ret;

		snprintf(param, sizeof(param), "virtio_mmio.device=%lluK@0x%llx:%u",
			 LAYOUT_VIRTIO_MMIO_SIZE >> 10, (unsigned long long)r->slots[i].base,
			 r->slots[i].irq);
		ret = cmdline_append(cl, param, d);
		if (ret)
			return ret;
	}
	return 0;
}

/* The I/O thread's loop, made for the first device that needs it. */
static int registry_watch(struct registry *r, struct registry_slot *s)
{
	int ret;

	if (!r->io_ready) {
		ret = iothread_init(&r->io);
		r->io_ready = true;
		if (ret)
			return ret;
	}
	return s->ops->watch(s->dev, &r->io);
}

int registry_attach(struct registry *r, struct bus *mmio, const struct gmem *mem,
		    void (*pulse)(void *ctx, unsigned int gsi), void *ctx)
{
	int ret;

	for (unsigned int i = 0; i < r->nr; i++) {
		struct registry_slot *s = &r->slots[i];
		struct virtio_irq irq = { .pulse = pulse, .ctx = ctx, .gsi = s->irq };
		struct virtio_device dev;

		s->ops->attach(s->dev, &s->mmio, &dev);
		ret = virtio_mmio_init(&s->mmio, &dev, mem, &irq, s->base);
		if (ret)
			return ret;
		s->attached = true;
		ret = bus_register(mmio, s->spec->name, s->base, LAYOUT_VIRTIO_MMIO_SIZE,
				   &virtio_mmio_bus_ops, &s->mmio);
		if (!ret && (s->ops->threads & DEVICE_THREAD_IO))
			ret = registry_watch(r, s);
		if (ret)
			return ret;
	}
	return 0;
}

/* KVM saw the driver notify the queue: served as the MMIO write would have been. */
static void registry_kicked(void *ctx, uint32_t events)
{
	struct registry_kick *k = ctx;
	uint64_t count;

	(void)events;
	if (read(k->efd, &count, sizeof(count)) < 0 && errno != EAGAIN)
		log_warn("%s at 0x%llx: queue %u notification eventfd: %s", k->slot->spec->name,
			 (unsigned long long)k->slot->base, k->queue, strerror(errno));
	virtio_mmio_lock(&k->slot->mmio);
	virtio_mmio_queue_notify(&k->slot->mmio, k->queue);
	virtio_mmio_unlock(&k->slot->mmio);
}

int registry_bind_notify(struct registry *r,
			 int (*bind)(void *ctx, uint64_t addr, uint32_t queue, int efd), void *ctx)
{
	for (unsigned int i = 0; i < r->nr; i++) {
		struct registry_slot *s = &r->slots[i];

		for (unsigned int q = 0; q < VIRTIO_MMIO_MAX_QUEUES; q++) {
			struct registry_kick *k = &s->kicks[q];
			int ret;

			if (!(s->ops->io_notify & (1u << q)) || !r->io_ready)
				continue;
			k->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
			if (k->efd < 0)
				return -errno;
			ret = bind(ctx, s->base + VIRTIO_MMIO_QUEUE_NOTIFY, q, k->efd);
			if (ret) {
				log_debug("%s at 0x%llx: queue %u notified by MMIO exits (KVM_IOEVENTFD: %s)",
					  s->spec->name, (unsigned long long)s->base, q, strerror(-ret));
				close(k->efd);
				k->efd = -1;
				continue;
			}
			k->slot = s;
			k->queue = q;
			k->handler = (struct io_handler){ .ready = registry_kicked, .ctx = k };
			ret = iothread_watch(&r->io, k->efd, EPOLLIN, &k->handler);
			if (ret)
				return ret;
		}
	}
	return 0;
}

int registry_start(struct registry *r, const struct sandbox *sb, void (*failed)(void *ctx),
		   void *ctx)
{
	return r->io_ready ? iothread_start(&r->io, sb, failed, ctx) : 0;
}

int registry_update(struct registry *r, const void *config, const void *next, unsigned int changes,
		    struct diag *d)
{
	for (unsigned int i = 0; i < r->nr; i++) {
		struct registry_slot *s = &r->slots[i];
		int ret;

		if (s->config != config)
			continue;
		if (!s->ops->update)
			return diag_fail_errno(d, -EOPNOTSUPP, "a %s cannot change while the VM runs",
					       s->spec->name);
		ret = s->ops->update(s->dev, next, changes, d);
		if (!ret)
			s->config = next;
		return ret;
	}
	return diag_fail_errno(d, -ENOENT, "no such device");
}

void *registry_device(const struct registry *r, const struct device_spec *spec)
{
	for (unsigned int i = 0; i < r->nr; i++)
		if (r->slots[i].spec == spec)
			return r->slots[i].dev;
	return NULL;
}

void registry_hold(struct registry *r)
{
	if (r->io_ready)
		iothread_hold(&r->io);
}

void registry_release(struct registry *r)
{
	if (r->io_ready)
		iothread_release(&r->io);
}

void registry_save(struct registry *r, struct snapshot *snap)
{
	for (unsigned int i = 0; i < r->nr; i++) {
		struct registry_slot *s = &r->slots[i];

		virtio_mmio_lock(&s->mmio);
		virtio_mmio_save(&s->mmio, &snap->devices[i]);
		if (s->ops->save)
			s->ops->save(s->dev, snap, i);
		virtio_mmio_unlock(&s->mmio);
	}
}

int registry_restore(struct registry *r, const struct snapshot *snap, struct diag *d)
{
	for (unsigned int i = 0; i < r->nr; i++) {
		struct registry_slot *s = &r->slots[i];
		const char *why;
		int ret;

		virtio_mmio_lock(&s->mmio);
		ret = virtio_mmio_restore(&s->mmio, &snap->devices[i], &why);
		virtio_mmio_unlock(&s->mmio);
		/* The model takes the lock itself (vsock pushes an event). */
		if (!ret && s->ops->restore)
			ret = s->ops->restore(s->dev, snap, i, &why);
		if (ret)
			return diag_fail(d, "device %u (%s at 0x%llx): %s", i, s->spec->name,
					 (unsigned long long)s->base, why);
	}
	return 0;
}

void registry_stop(struct registry *r)
{
	if (r->io_ready)
		iothread_destroy(&r->io);
	r->io_ready = false;
}

void registry_close(struct registry *r)
{
	registry_stop(r);
	for (unsigned int i = 0; i < r->nr; i++) {
		struct registry_slot *s = &r->slots[i];

		if (s->attached)
			virtio_mmio_destroy(&s->mmio);
		if (s->ops->close)
			s->ops->close(s->dev);
		for (unsigned int q = 0; q < VIRTIO_MMIO_MAX_QUEUES; q++)
			if (s->kicks[q].efd >= 0)
				close(s->kicks[q].efd);
		free(s->dev);
	}
	r->nr = 0;
	free(r->slots);
	r->slots = NULL;
}
