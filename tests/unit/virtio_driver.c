#include "virtio_driver.h"

#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_ring.h>
#include <stdlib.h>
#include <string.h>

static void vd_pulse(void *ctx, unsigned int gsi)
{
	struct vd *v = ctx;

	(void)gsi;
	v->irqs++;
}

void vd_init(struct vd *v)
{
	memset(v, 0, sizeof(*v));
	v->ram = calloc(1, VD_RAM);
	if (!v->ram || gmem_wrap(&v->mem, v->ram, VD_RAM))
		abort();
}

void vd_free(struct vd *v)
{
	free(v->ram);
	v->ram = NULL;
}

struct virtio_irq vd_irq(struct vd *v)
{
	return (struct virtio_irq){ .pulse = vd_pulse, .ctx = v, .gsi = 5 };
}

uint32_t vd_read32(struct vd *v, uint64_t off)
{
	uint32_t val;

	virtio_mmio_bus_ops.read(v->t, off, (uint8_t *)&val, 4);
	return val;
}

void vd_write32(struct vd *v, uint64_t off, uint32_t val)
{
	virtio_mmio_bus_ops.write(v->t, off, (const uint8_t *)&val, 4);
}

uint64_t vd_device_features(struct vd *v)
{
	uint64_t f;

	vd_write32(v, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	f = (uint64_t)vd_read32(v, VIRTIO_MMIO_DEVICE_FEATURES) << 32;
	vd_write32(v, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	return f | vd_read32(v, VIRTIO_MMIO_DEVICE_FEATURES);
}

bool vd_negotiate(struct vd *v, uint64_t features)
{
	vd_write32(v, VIRTIO_MMIO_STATUS, 0);
	vd_write32(v, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE);
	vd_write32(v, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	vd_write32(v, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	vd_write32(v, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(features >> 32));
	vd_write32(v, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	vd_write32(v, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)features);
	vd_write32(v, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
						  VIRTIO_CONFIG_S_FEATURES_OK);
	memset(v->next_desc, 0, sizeof(v->next_desc));
	memset(v->avail_idx, 0, sizeof(v->avail_idx));
	memset(v->used_seen, 0, sizeof(v->used_seen));
	return vd_read32(v, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_FEATURES_OK;
}

void vd_setup_queue(struct vd *v, unsigned int q, uint16_t size)
{
	uint64_t base = VD_RINGS(q);

	memset(v->ram + base, 0, 0x4000);
	vd_write32(v, VIRTIO_MMIO_QUEUE_SEL, q);
	vd_write32(v, VIRTIO_MMIO_QUEUE_NUM, size);
	vd_write32(v, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)base);
	vd_write32(v, VIRTIO_MMIO_QUEUE_DESC_HIGH, 0);
	vd_write32(v, VIRTIO_MMIO_QUEUE_AVAIL_LOW, (uint32_t)(base + 0x1000));
	vd_write32(v, VIRTIO_MMIO_QUEUE_AVAIL_HIGH, 0);
	vd_write32(v, VIRTIO_MMIO_QUEUE_USED_LOW, (uint32_t)(base + 0x2000));
	vd_write32(v, VIRTIO_MMIO_QUEUE_USED_HIGH, 0);
	vd_write32(v, VIRTIO_MMIO_QUEUE_READY, 1);
}

void vd_driver_ok(struct vd *v)
{
	vd_write32(v, VIRTIO_MMIO_STATUS, vd_read32(v, VIRTIO_MMIO_STATUS) | VIRTIO_CONFIG_S_DRIVER_OK);
}

void vd_start(struct vd *v, unsigned int nr, bool indirect)
{
	if (!vd_negotiate(v, (1ULL << VIRTIO_F_VERSION_1) |
				     (indirect ? 1ULL << VIRTIO_RING_F_INDIRECT_DESC : 0)))
		abort();
	for (unsigned int q = 0; q < nr; q++)
		vd_setup_queue(v, q, VD_QUEUE_SIZE);
	vd_driver_ok(v);
}

static void vd_put_desc(struct vd *v, uint64_t gpa, const struct vd_buf *b, bool more,
			uint16_t next)
{
	struct vring_desc d = {
		.addr = b->gpa,
		.len = b->len,
		.flags = (uint16_t)((b->write ? VRING_DESC_F_WRITE : 0) | (more ? VRING_DESC_F_NEXT : 0)),
		.next = next,
	};

	memcpy(v->ram + gpa, &d, sizeof(d));
}

static void vd_publish(struct vd *v, unsigned int q, uint16_t head)
{
	uint64_t avail = VD_RINGS(q) + 0x1000;
	uint16_t idx = v->avail_idx[q];

	memcpy(v->ram + avail + 4 + 2 * (idx % VD_QUEUE_SIZE), &head, 2);
	idx++;
	memcpy(v->ram + avail + 2, &idx, 2);
	v->avail_idx[q] = idx;
}

uint16_t vd_offer(struct vd *v, unsigned int q, const struct vd_buf *bufs, unsigned int n)
{
	uint16_t head = v->next_desc[q];

	for (unsigned int i = 0; i < n; i++) {
		uint16_t d = (uint16_t)((head + i) % VD_QUEUE_SIZE);

		vd_put_desc(v, VD_RINGS(q) + 16ULL * d, &bufs[i], i + 1 < n,
			    (uint16_t)((d + 1) % VD_QUEUE_SIZE));
	}
	v->next_desc[q] = (uint16_t)((head + n) % VD_QUEUE_SIZE);
	vd_publish(v, q, head);
	return head;
}

void vd_notify(struct vd *v, unsigned int q)
{
	vd_write32(v, VIRTIO_MMIO_QUEUE_NOTIFY, q);
}

uint16_t vd_submit(struct vd *v, unsigned int q, const struct vd_buf *bufs, unsigned int n)
{
	uint16_t head = vd_offer(v, q, bufs, n);

	vd_notify(v, q);
	return head;
}

uint16_t vd_submit_indirect(struct vd *v, unsigned int q, const struct vd_buf *bufs,
			    unsigned int n, uint64_t table_gpa)
{
	uint16_t head = v->next_desc[q];
	struct vring_desc d = { .addr = table_gpa, .len = 16 * n, .flags = VRING_DESC_F_INDIRECT };

	for (unsigned int i = 0; i < n; i++)
		vd_put_desc(v, table_gpa + 16ULL * i, &bufs[i], i + 1 < n, (uint16_t)(i + 1));
	memcpy(v->ram + VD_RINGS(q) + 16ULL * head, &d, sizeof(d));
	v->next_desc[q] = (uint16_t)((head + 1) % VD_QUEUE_SIZE);
	vd_publish(v, q, head);
	vd_notify(v, q);
	return head;
}

bool vd_used(struct vd *v, unsigned int q, uint32_t *id, uint32_t *len)
{
	uint64_t used = VD_RINGS(q) + 0x2000;
	uint16_t idx;

	memcpy(&idx, v->ram + used + 2, 2);
	if (idx == v->used_seen[q])
		return false;
	memcpy(id, v->ram + used + 4 + 8 * (v->used_seen[q] % VD_QUEUE_SIZE), 4);
	memcpy(len, v->ram + used + 8 + 8 * (v->used_seen[q] % VD_QUEUE_SIZE), 4);
	v->used_seen[q]++;
	return true;
}
