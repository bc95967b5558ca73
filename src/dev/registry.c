#include "microvm/registry.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "microvm/log.h"
#include "microvm/virtio_blk.h"
#include "microvm/virtio_net.h"
#include "microvm/virtio_rng.h"
#include "microvm/virtio_vsock.h"

/* One kind of device: how many the configuration asks for and how to run one. */
struct registry_kind {
	const char *name;
	unsigned int (*count)(const struct microvm_config *cfg);
	/* Opens device index of this kind; *dev is the model, freed by close. */
	int (*open)(void **dev, const struct microvm_config *cfg, unsigned int index, struct diag *d);
	void (*device)(void *dev, struct virtio_mmio *t, struct virtio_device *out);
	/* Descriptors for the I/O thread; NULL when the device needs none. */
	int (*watch)(void *dev, struct iothread *io);
	void (*close)(void *dev);
};

static unsigned int blk_count(const struct microvm_config *cfg)
{
	return cfg->nr_drives;
}

static int blk_open(void **dev, const struct microvm_config *cfg, unsigned int index,
		    struct diag *d)
{
	const struct config_drive *dr = &cfg->drives[index];
	struct virtio_blk *b;
	char path[PATH_MAX];
	int ret;

	if (dr->path_len >= sizeof(path))
		return diag_fail(d, "--drive %.*s...: path longer than %zu bytes", 64, dr->path,
				 sizeof(path) - 1);
	memcpy(path, dr->path, dr->path_len);
	path[dr->path_len] = '\0';
	b = malloc(sizeof(*b));
	if (!b)
		return diag_fail_errno(d, -ENOMEM, "--drive %s: out of memory", path);
	ret = virtio_blk_open(b, path, dr->read_only, dr->id, d);
	if (ret) {
		free(b);
		return ret;
	}
	*dev = b;
	return 0;
}

static void blk_device(void *dev, struct virtio_mmio *t, struct virtio_device *out)
{
	virtio_blk_device(dev, t, out);
}

static void blk_close(void *dev)
{
	virtio_blk_close(dev);
	free(dev);
}

static unsigned int net_count(const struct microvm_config *cfg)
{
	return cfg->net.enabled;
}

static int net_open(void **dev, const struct microvm_config *cfg, unsigned int index,
		    struct diag *d)
{
	struct virtio_net *n = malloc(sizeof(*n));
	int ret;

	(void)index;
	if (!n)
		return diag_fail_errno(d, -ENOMEM, "--net: out of memory");
	ret = virtio_net_open(n, cfg->net.tap, cfg->net.has_mac ? cfg->net.mac : NULL, d);
	if (ret) {
		free(n);
		return ret;
	}
	*dev = n;
	return 0;
}

static void net_device(void *dev, struct virtio_mmio *t, struct virtio_device *out)
{
	virtio_net_device(dev, t, out);
}

static int net_watch(void *dev, struct iothread *io)
{
	return virtio_net_watch(dev, io);
}

static void net_close(void *dev)
{
	virtio_net_close(dev);
	free(dev);
}

static unsigned int rng_count(const struct microvm_config *cfg)
{
	return cfg->rng;
}

static int rng_open(void **dev, const struct microvm_config *cfg, unsigned int index,
		    struct diag *d)
{
	(void)cfg;
	(void)index;
	*dev = calloc(1, sizeof(struct virtio_rng));
	return *dev ? 0 : diag_fail_errno(d, -ENOMEM, "--rng: out of memory");
}

static void rng_device(void *dev, struct virtio_mmio *t, struct virtio_device *out)
{
	virtio_rng_device(dev, t, out);
}

_Static_assert(CONFIG_UDS_PATH_MAX <= VSOCK_UDS_MAX, "--vsock uds= fits the device");

static unsigned int vsock_count(const struct microvm_config *cfg)
{
	return cfg->vsock.enabled;
}

static int vsock_open(void **dev, const struct microvm_config *cfg, unsigned int index,
		      struct diag *d)
{
	struct virtio_vsock *v = malloc(sizeof(*v));
	int ret;

	(void)index;
	if (!v)
		return diag_fail_errno(d, -ENOMEM, "--vsock: out of memory");
	ret = virtio_vsock_open(v, cfg->vsock.cid, cfg->vsock.uds, d);
	if (ret) {
		free(v);
		return ret;
	}
	*dev = v;
	return 0;
}

static void vsock_device(void *dev, struct virtio_mmio *t, struct virtio_device *out)
{
	virtio_vsock_device(dev, t, out);
}

static int vsock_watch(void *dev, struct iothread *io)
{
	return virtio_vsock_watch(dev, io);
}

static void vsock_close(void *dev)
{
	virtio_vsock_close(dev);
	free(dev);
}

/* The device order, and so the windows, IRQs and the guest's names (vda, vdb ...). */
static const struct registry_kind registry_kinds[] = {
	{ .name = "virtio-blk", .count = blk_count, .open = blk_open, .device = blk_device,
	  .close = blk_close },
	{ .name = "virtio-net", .count = net_count, .open = net_open, .device = net_device,
	  .watch = net_watch, .close = net_close },
	{ .name = "virtio-rng", .count = rng_count, .open = rng_open, .device = rng_device,
	  .close = free },
	{ .name = "virtio-vsock", .count = vsock_count, .open = vsock_open, .device = vsock_device,
	  .watch = vsock_watch, .close = vsock_close },
};

int registry_open(struct registry *r, const struct microvm_config *cfg, struct diag *d)
{
	unsigned int total = 0;

	memset(r, 0, sizeof(*r));
	for (size_t k = 0; k < ARRAY_SIZE(registry_kinds); k++)
		total += registry_kinds[k].count(cfg);
	if (total > REGISTRY_MAX_DEVICES)
		return diag_fail(d, "%u devices: at most %d fit the interrupt lines", total,
				 REGISTRY_MAX_DEVICES);
	for (size_t k = 0; k < ARRAY_SIZE(registry_kinds); k++) {
		const struct registry_kind *kind = &registry_kinds[k];

		for (unsigned int i = 0; i < kind->count(cfg); i++) {
			struct registry_slot *s = &r->slots[r->nr];
			int ret = kind->open(&s->dev, cfg, i, d);

			if (ret) {
				registry_close(r);
				return ret;
			}
			s->kind = kind;
			s->base = LAYOUT_VIRTIO_MMIO_START + r->nr * LAYOUT_VIRTIO_MMIO_SIZE;
			s->irq = LAYOUT_VIRTIO_IRQ_FIRST + r->nr;
			r->nr++;
		}
	}
	return 0;
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

int registry_attach(struct registry *r, struct bus *mmio, const struct gmem *mem,
		    void (*pulse)(void *ctx, unsigned int gsi), void *ctx)
{
	int ret;

	for (unsigned int i = 0; i < r->nr; i++) {
		struct registry_slot *s = &r->slots[i];
		struct virtio_irq irq = { .pulse = pulse, .ctx = ctx, .gsi = s->irq };
		struct virtio_device dev;

		s->kind->device(s->dev, &s->mmio, &dev);
		ret = virtio_mmio_init(&s->mmio, &dev, mem, &irq, s->base);
		if (ret)
			return ret;
		s->attached = true;
		ret = bus_register(mmio, s->kind->name, s->base, LAYOUT_VIRTIO_MMIO_SIZE,
				   &virtio_mmio_bus_ops, &s->mmio);
		if (ret)
			return ret;
		if (!s->kind->watch)
			continue;
		if (!r->io_ready) {
			ret = iothread_init(&r->io);
			r->io_ready = true;
			if (ret)
				return ret;
		}
		ret = s->kind->watch(s->dev, &r->io);
		if (ret)
			return ret;
	}
	return 0;
}

int registry_start(struct registry *r, const struct sandbox *sb, void (*failed)(void *ctx),
		   void *ctx)
{
	return r->io_ready ? iothread_start(&r->io, sb, failed, ctx) : 0;
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
		s->kind->close(s->dev);
	}
	r->nr = 0;
}
