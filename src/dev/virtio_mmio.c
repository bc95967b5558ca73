#include "microvm/virtio_mmio.h"

#include <endian.h>
#include <errno.h>
#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_ring.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "microvm/log.h"

_Static_assert(SNAP_MAX_QUEUES == VIRTIO_MMIO_MAX_QUEUES, "a snapshot holds every queue");

#define VIRTIO_MMIO_MAGIC 0x74726976u /* "virt" */
#define VIRTIO_MMIO_VERSION_2 2u
#define VIRTIO_MMIO_VENDOR 0u
/* The features every device offers, whatever its model adds. */
#define VIRTIO_MMIO_TRANSPORT_FEATURES \
	((1ULL << VIRTIO_F_VERSION_1) | (1ULL << VIRTIO_RING_F_INDIRECT_DESC))

int virtio_mmio_init(struct virtio_mmio *t, const struct virtio_device *dev,
		     const struct gmem *mem, const struct virtio_irq *irq, uint64_t base)
{
	int ret;

	if (dev->ops->nr_queues == 0 || dev->ops->nr_queues > VIRTIO_MMIO_MAX_QUEUES)
		return -EINVAL;
	memset(t, 0, sizeof(*t));
	ret = pthread_mutex_init(&t->lock, NULL);
	if (ret)
		return -ret;
	t->dev = *dev;
	t->mem = mem;
	t->irq = *irq;
	t->base = base;
	for (unsigned int i = 0; i < dev->ops->nr_queues; i++) {
		t->queues[i].max_size = VIRTQ_MAX_SIZE;
		virtq_reset(&t->queues[i]);
	}
	return 0;
}

void virtio_mmio_destroy(struct virtio_mmio *t)
{
	pthread_mutex_destroy(&t->lock);
}

void virtio_mmio_lock(struct virtio_mmio *t)
{
	pthread_mutex_lock(&t->lock);
}

void virtio_mmio_unlock(struct virtio_mmio *t)
{
	pthread_mutex_unlock(&t->lock);
}

void virtio_mmio_guest_error(struct virtio_mmio *t, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	atomic_fetch_add_explicit(&t->stats.guest_errors, 1, memory_order_relaxed);
	if (t->errors_logged >= VIRTIO_MMIO_ERRORS_LOGGED)
		return;
	t->errors_logged++;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_warn("%s at 0x%llx: guest error: %s%s", t->dev.ops->name, (unsigned long long)t->base, msg,
		 t->errors_logged == VIRTIO_MMIO_ERRORS_LOGGED ? "; not logging further ones" : "");
}

static void virtio_mmio_interrupt(struct virtio_mmio *t, uint32_t why)
{
	atomic_fetch_add_explicit(&t->stats.interrupts, 1, memory_order_relaxed);
	t->isr |= why;
	t->irq.pulse(t->irq.ctx, t->irq.gsi);
}

void virtio_mmio_needs_reset(struct virtio_mmio *t, const char *why)
{
	virtio_mmio_guest_error(t, "%s: the device needs a reset", why);
	if (t->status & VIRTIO_CONFIG_S_NEEDS_RESET)
		return;
	t->status |= VIRTIO_CONFIG_S_NEEDS_RESET;
	if (t->status & VIRTIO_CONFIG_S_DRIVER_OK)
		virtio_mmio_interrupt(t, VIRTIO_MMIO_INT_CONFIG);
}

void virtio_mmio_config_changed(struct virtio_mmio *t)
{
	t->config_generation++;
	if (t->status & VIRTIO_CONFIG_S_DRIVER_OK)
		virtio_mmio_interrupt(t, VIRTIO_MMIO_INT_CONFIG);
}

static struct virtq *virtio_mmio_selected(struct virtio_mmio *t)
{
	return t->queue_sel < t->dev.ops->nr_queues ? &t->queues[t->queue_sel] : NULL;
}

bool virtio_mmio_queue_live(const struct virtio_mmio *t, unsigned int queue)
{
	return (t->status & (VIRTIO_CONFIG_S_DRIVER_OK | VIRTIO_CONFIG_S_NEEDS_RESET)) ==
		       VIRTIO_CONFIG_S_DRIVER_OK &&
	       queue < t->dev.ops->nr_queues && t->queues[queue].ready;
}

const struct virtq_chain *virtio_mmio_pop(struct virtio_mmio *t, unsigned int queue)
{
	struct virtq *q = &t->queues[queue];

	if (!virtio_mmio_queue_live(t, queue))
		return NULL;
	/* Each malformed chain is consumed, so this ends within one pass over the queue. */
	for (unsigned int i = 0; i <= q->size; i++) {
		switch (virtq_pop(q, t->mem, &t->chain)) {
		case VIRTQ_CHAIN:
			return &t->chain;
		case VIRTQ_BAD_CHAIN:
			virtio_mmio_guest_error(t, "queue %u: chain %u: %s", queue, t->chain.head,
						t->chain.fault);
			virtio_mmio_push(t, queue, t->chain.head, 0);
			if (!virtio_mmio_queue_live(t, queue))
				return NULL;
			break;
		case VIRTQ_BROKEN:
			virtio_mmio_needs_reset(t, "corrupt available ring");
			return NULL;
		case VIRTQ_EMPTY:
		default:
			return NULL;
		}
	}
	return NULL;
}

void virtio_mmio_push_many(struct virtio_mmio *t, unsigned int queue, const uint16_t *heads,
			   const uint32_t *lens, unsigned int n)
{
	uint64_t bytes = 0;

	if (virtq_push_many(&t->queues[queue], t->mem, heads, lens, n)) {
		virtio_mmio_needs_reset(t, "used ring outside guest RAM");
		return;
	}
	for (unsigned int i = 0; i < n; i++)
		bytes += lens[i];
	atomic_fetch_add_explicit(&t->stats.used, n, memory_order_relaxed);
	atomic_fetch_add_explicit(&t->stats.used_bytes, bytes, memory_order_relaxed);
}

void virtio_mmio_push(struct virtio_mmio *t, unsigned int queue, uint16_t head, uint32_t len)
{
	virtio_mmio_push_many(t, queue, &head, &len, 1);
}

void virtio_mmio_signal(struct virtio_mmio *t, unsigned int queue)
{
	if (virtq_wants_interrupt(&t->queues[queue], t->mem))
		virtio_mmio_interrupt(t, VIRTIO_MMIO_INT_VRING);
}

void virtio_mmio_unpop(struct virtio_mmio *t, unsigned int queue)
{
	virtq_undo_pop(&t->queues[queue]);
}

uint16_t virtio_mmio_taken(const struct virtio_mmio *t, unsigned int queue)
{
	return t->queues[queue].next_avail;
}

void virtio_mmio_drain_admitted(struct virtio_mmio *t, unsigned int queue,
				bool (*admit)(void *ctx, const struct virtq_chain *c),
				uint32_t (*fn)(void *ctx, const struct virtq_chain *c), void *ctx)
{
	const struct virtq_chain *c;
	unsigned int served = 0;

	/* Bounded: chains the driver adds meanwhile come with a notification of their own. */
	while (served < t->queues[queue].size && (c = virtio_mmio_pop(t, queue)) != NULL) {
		if (admit && !admit(ctx, c)) {
			virtio_mmio_unpop(t, queue);
			break;
		}
		virtio_mmio_push(t, queue, c->head, fn(ctx, c));
		served++;
	}
	if (served)
		virtio_mmio_signal(t, queue);
}

void virtio_mmio_drain(struct virtio_mmio *t, unsigned int queue,
		       uint32_t (*fn)(void *ctx, const struct virtq_chain *c), void *ctx)
{
	virtio_mmio_drain_admitted(t, queue, NULL, fn, ctx);
}

static void virtio_mmio_reset(struct virtio_mmio *t)
{
	t->status = 0;
	t->device_features_sel = t->driver_features_sel = t->queue_sel = 0;
	t->driver_features = 0;
	t->isr = 0;
	t->early_notify = 0;
	for (unsigned int i = 0; i < t->dev.ops->nr_queues; i++)
		virtq_reset(&t->queues[i]);
	if (t->dev.ops->reset)
		t->dev.ops->reset(t->dev.ctx);
}

static uint64_t virtio_mmio_offered(const struct virtio_mmio *t)
{
	return t->dev.features | VIRTIO_MMIO_TRANSPORT_FEATURES;
}

/* The driver accepted the features it wrote: a subset of ours, with VERSION_1. */
static bool virtio_mmio_features_ok(struct virtio_mmio *t)
{
	uint64_t f = t->driver_features;

	if (f & ~virtio_mmio_offered(t)) {
		virtio_mmio_guest_error(t, "driver features 0x%llx not offered", (unsigned long long)f);
		return false;
	}
	if (!(f & (1ULL << VIRTIO_F_VERSION_1))) {
		virtio_mmio_guest_error(t, "driver did not accept VIRTIO_F_VERSION_1");
		return false;
	}
	for (unsigned int i = 0; i < t->dev.ops->nr_queues; i++)
		t->queues[i].indirect = f & (1ULL << VIRTIO_RING_F_INDIRECT_DESC);
	return true;
}

static void virtio_mmio_set_status(struct virtio_mmio *t, uint32_t val)
{
	uint32_t old = t->status, set;

	if (val == 0) {
		virtio_mmio_reset(t);
		return;
	}
	/* The driver only adds bits; NEEDS_RESET is the device's to set. */
	if ((val & old & ~VIRTIO_CONFIG_S_NEEDS_RESET) != (old & ~VIRTIO_CONFIG_S_NEEDS_RESET) ||
	    val > 0xff) {
		virtio_mmio_guest_error(t, "status 0x%x after 0x%x: bits cleared without a reset", val, old);
		return;
	}
	set = val & ~old & ~VIRTIO_CONFIG_S_NEEDS_RESET;
	if ((set & VIRTIO_CONFIG_S_FEATURES_OK) && !virtio_mmio_features_ok(t))
		set &= ~VIRTIO_CONFIG_S_FEATURES_OK; /* the driver reads it back and gives up */
	if ((set & VIRTIO_CONFIG_S_DRIVER_OK) && !((old | set) & VIRTIO_CONFIG_S_FEATURES_OK)) {
		virtio_mmio_guest_error(t, "DRIVER_OK before FEATURES_OK");
		set &= ~VIRTIO_CONFIG_S_DRIVER_OK;
	}
	t->status = old | set;
	if (set & VIRTIO_CONFIG_S_DRIVER_OK) {
		uint32_t early = t->early_notify;

		if (t->dev.ops->driver_ok)
			t->dev.ops->driver_ok(t->dev.ctx, t->driver_features);
		t->early_notify = 0;
		for (unsigned int q = 0; q < t->dev.ops->nr_queues; q++)
			if ((early & (1u << q)) && virtio_mmio_queue_live(t, q))
				t->dev.ops->notify(t->dev.ctx, q);
	}
	if (set & VIRTIO_CONFIG_S_DRIVER_OK)
		log_debug("%s at 0x%llx (IRQ %u): driver ready, features 0x%llx", t->dev.ops->name,
			  (unsigned long long)t->base, t->irq.gsi, (unsigned long long)t->driver_features);
}

static void virtio_mmio_set_ready(struct virtio_mmio *t, struct virtq *q, uint32_t val)
{
	const char *why;

	if (val == 0) {
		q->ready = false;
		return;
	}
	if (q->ready)
		return;
	if (!(t->status & VIRTIO_CONFIG_S_FEATURES_OK) || (t->status & VIRTIO_CONFIG_S_NEEDS_RESET)) {
		virtio_mmio_guest_error(t, "queue %u made ready before FEATURES_OK or while the device needs a reset", t->queue_sel);
		return;
	}
	if (virtq_enable(q, t->mem, &why))
		virtio_mmio_needs_reset(t, why);
}

void virtio_mmio_queue_notify(struct virtio_mmio *t, uint32_t queue)
{
	atomic_fetch_add_explicit(&t->stats.notifications, 1, memory_order_relaxed);
	/* Before DRIVER_OK, a ready queue's notification waits for it (Linux's balloon). */
	if (queue < t->dev.ops->nr_queues && t->queues[queue].ready &&
	    !(t->status & (VIRTIO_CONFIG_S_DRIVER_OK | VIRTIO_CONFIG_S_NEEDS_RESET))) {
		t->early_notify |= 1u << queue;
		return;
	}
	if (!virtio_mmio_queue_live(t, queue)) {
		virtio_mmio_guest_error(t, "notification for queue %u, which is not live", queue);
		return;
	}
	t->dev.ops->notify(t->dev.ctx, queue);
}

/* Writes to the selected queue's layout count only while it is not ready. */
static void virtio_mmio_set_queue_field(struct virtio_mmio *t, uint64_t offset, uint32_t val)
{
	struct virtq *q = virtio_mmio_selected(t);
	uint64_t *field;
	bool high;

	if (!q || q->ready) {
		virtio_mmio_guest_error(t, "queue register 0x%llx written for queue %u %s",
					(unsigned long long)offset, t->queue_sel,
					q ? "while it is ready" : "which does not exist");
		return;
	}
	switch (offset) {
	case VIRTIO_MMIO_QUEUE_NUM:
		q->num = val;
		return;
	case VIRTIO_MMIO_QUEUE_DESC_LOW:
	case VIRTIO_MMIO_QUEUE_DESC_HIGH:
		field = &q->desc;
		break;
	case VIRTIO_MMIO_QUEUE_AVAIL_LOW:
	case VIRTIO_MMIO_QUEUE_AVAIL_HIGH:
		field = &q->avail;
		break;
	case VIRTIO_MMIO_QUEUE_USED_LOW:
	case VIRTIO_MMIO_QUEUE_USED_HIGH:
	default:
		field = &q->used;
		break;
	}
	high = offset % 8 == 4;
	*field = high ? (*field & 0xffffffffULL) | ((uint64_t)val << 32)
		      : (*field & ~0xffffffffULL) | val;
}

static uint32_t virtio_mmio_read_reg(struct virtio_mmio *t, uint64_t offset)
{
	const struct virtq *q = virtio_mmio_selected(t);
	uint64_t features = virtio_mmio_offered(t);

	switch (offset) {
	case VIRTIO_MMIO_MAGIC_VALUE:
		return VIRTIO_MMIO_MAGIC;
	case VIRTIO_MMIO_VERSION:
		return VIRTIO_MMIO_VERSION_2;
	case VIRTIO_MMIO_DEVICE_ID:
		return t->dev.ops->device_id;
	case VIRTIO_MMIO_VENDOR_ID:
		return VIRTIO_MMIO_VENDOR;
	case VIRTIO_MMIO_DEVICE_FEATURES:
		if (t->device_features_sel > 1)
			return 0;
		return (uint32_t)(features >> (32 * t->device_features_sel));
	case VIRTIO_MMIO_QUEUE_NUM_MAX:
		return q ? q->max_size : 0;
	case VIRTIO_MMIO_QUEUE_READY:
		return q ? q->ready : 0;
	case VIRTIO_MMIO_INTERRUPT_STATUS:
		return t->isr;
	case VIRTIO_MMIO_STATUS:
		return t->status;
	case VIRTIO_MMIO_SHM_LEN_LOW:
	case VIRTIO_MMIO_SHM_LEN_HIGH:
		return 0xffffffffu; /* no shared memory regions */
	case VIRTIO_MMIO_CONFIG_GENERATION:
		return t->config_generation;
	default:
		return 0;
	}
}

static void virtio_mmio_write_reg(struct virtio_mmio *t, uint64_t offset, uint32_t val)
{
	struct virtq *q;

	switch (offset) {
	case VIRTIO_MMIO_DEVICE_FEATURES_SEL:
		t->device_features_sel = val;
		break;
	case VIRTIO_MMIO_DRIVER_FEATURES:
		if (t->status & VIRTIO_CONFIG_S_FEATURES_OK || t->driver_features_sel > 1) {
			virtio_mmio_guest_error(t, "driver features written after FEATURES_OK or with selector %u",
						t->driver_features_sel);
			break;
		}
		t->driver_features &= ~(0xffffffffULL << (32 * t->driver_features_sel));
		t->driver_features |= (uint64_t)val << (32 * t->driver_features_sel);
		break;
	case VIRTIO_MMIO_DRIVER_FEATURES_SEL:
		t->driver_features_sel = val;
		break;
	case VIRTIO_MMIO_QUEUE_SEL:
		t->queue_sel = val;
		break;
	case VIRTIO_MMIO_QUEUE_NUM:
	case VIRTIO_MMIO_QUEUE_DESC_LOW:
	case VIRTIO_MMIO_QUEUE_DESC_HIGH:
	case VIRTIO_MMIO_QUEUE_AVAIL_LOW:
	case VIRTIO_MMIO_QUEUE_AVAIL_HIGH:
	case VIRTIO_MMIO_QUEUE_USED_LOW:
	case VIRTIO_MMIO_QUEUE_USED_HIGH:
		virtio_mmio_set_queue_field(t, offset, val);
		break;
	case VIRTIO_MMIO_QUEUE_READY:
		q = virtio_mmio_selected(t);
		if (q)
			virtio_mmio_set_ready(t, q, val);
		break;
	case VIRTIO_MMIO_QUEUE_NOTIFY:
		virtio_mmio_queue_notify(t, val);
		break;
	case VIRTIO_MMIO_INTERRUPT_ACK:
		t->isr &= ~val;
		break;
	case VIRTIO_MMIO_STATUS:
		virtio_mmio_set_status(t, val);
		break;
	default:
		virtio_mmio_guest_error(t, "write to read-only or unknown register 0x%llx",
					(unsigned long long)offset);
		break;
	}
}

static void virtio_mmio_read(struct virtio_mmio *t, uint64_t offset, uint8_t *data, uint32_t len)
{
	memset(data, 0, len);
	if (offset >= VIRTIO_MMIO_CONFIG) {
		uint64_t off = offset - VIRTIO_MMIO_CONFIG;

		if (off < t->dev.config_size && len <= t->dev.config_size - off)
			memcpy(data, (const uint8_t *)t->dev.config + off, len);
		return;
	}
	/* Registers are 32 bits wide and read whole. */
	if (len == 4 && offset % 4 == 0) {
		uint32_t v = htole32(virtio_mmio_read_reg(t, offset));

		memcpy(data, &v, 4);
	}
}

static void virtio_mmio_write(struct virtio_mmio *t, uint64_t offset, const uint8_t *data, uint32_t len)
{
	uint32_t v;

	if (offset >= VIRTIO_MMIO_CONFIG && t->dev.ops->config_write) {
		uint64_t off = offset - VIRTIO_MMIO_CONFIG;

		if (off < t->dev.config_size && len <= t->dev.config_size - off) {
			t->dev.ops->config_write(t->dev.ctx, (uint32_t)off, data, len);
			return;
		}
	}
	if (offset >= VIRTIO_MMIO_CONFIG || len != 4 || offset % 4) {
		virtio_mmio_guest_error(t, "%u-byte write at 0x%llx ignored", len, (unsigned long long)offset);
		return;
	}
	memcpy(&v, data, 4);
	virtio_mmio_write_reg(t, offset, le32toh(v));
}

static void virtio_mmio_bus_read(void *dev, uint64_t offset, uint8_t *data, uint32_t len)
{
	struct virtio_mmio *t = dev;

	virtio_mmio_lock(t);
	virtio_mmio_read(t, offset, data, len);
	virtio_mmio_unlock(t);
}

static void virtio_mmio_bus_write(void *dev, uint64_t offset, const uint8_t *data, uint32_t len)
{
	struct virtio_mmio *t = dev;

	virtio_mmio_lock(t);
	virtio_mmio_write(t, offset, data, len);
	virtio_mmio_unlock(t);
}

const struct bus_ops virtio_mmio_bus_ops = {
	.read = virtio_mmio_bus_read,
	.write = virtio_mmio_bus_write,
};

void virtio_mmio_save(const struct virtio_mmio *t, struct snap_transport *out)
{
	memset(out, 0, sizeof(*out));
	out->device_id = t->dev.ops->device_id;
	out->nr_queues = t->dev.ops->nr_queues;
	out->status = t->status;
	out->isr = t->isr;
	out->config_generation = t->config_generation;
	out->device_features_sel = t->device_features_sel;
	out->driver_features_sel = t->driver_features_sel;
	out->queue_sel = t->queue_sel;
	out->driver_features = t->driver_features;
	out->early_notify = t->early_notify;
	for (unsigned int i = 0; i < t->dev.ops->nr_queues; i++) {
		const struct virtq *q = &t->queues[i];

		out->queues[i] = (struct snap_queue){
			.desc = q->desc, .avail = q->avail, .used = q->used, .num = q->num,
			.next_avail = q->next_avail, .next_used = q->next_used, .ready = q->ready,
		};
	}
}

/* The status and features a driver could have reached through the registers. */
static const char *virtio_mmio_restore_check(const struct virtio_mmio *t,
					     const struct snap_transport *in)
{
	uint64_t f = in->driver_features;

	if (in->device_id != t->dev.ops->device_id || in->nr_queues != t->dev.ops->nr_queues)
		return "a different device kind from the machine's at this slot";
	if (in->status > 0xff || in->isr & ~(uint32_t)(VIRTIO_MMIO_INT_VRING | VIRTIO_MMIO_INT_CONFIG))
		return "status or interrupt bits out of range";
	if (f & ~virtio_mmio_offered(t))
		return "driver features the device does not offer";
	if ((in->status & VIRTIO_CONFIG_S_FEATURES_OK) && !(f & (1ULL << VIRTIO_F_VERSION_1)))
		return "FEATURES_OK without VIRTIO_F_VERSION_1";
	if ((in->status & VIRTIO_CONFIG_S_DRIVER_OK) && !(in->status & VIRTIO_CONFIG_S_FEATURES_OK))
		return "DRIVER_OK without FEATURES_OK";
	return NULL;
}

int virtio_mmio_restore(struct virtio_mmio *t, const struct snap_transport *in, const char **why)
{
	*why = virtio_mmio_restore_check(t, in);
	if (*why)
		return -EINVAL;
	t->status = in->status;
	t->isr = in->isr;
	t->config_generation = in->config_generation;
	t->device_features_sel = in->device_features_sel;
	t->driver_features_sel = in->driver_features_sel;
	t->queue_sel = in->queue_sel;
	t->driver_features = in->driver_features;
	t->early_notify = in->early_notify;
	for (unsigned int i = 0; i < t->dev.ops->nr_queues; i++) {
		const struct snap_queue *s = &in->queues[i];
		struct virtq *q = &t->queues[i];

		virtq_reset(q);
		q->indirect = in->driver_features & (1ULL << VIRTIO_RING_F_INDIRECT_DESC);
		q->num = s->num;
		q->desc = s->desc;
		q->avail = s->avail;
		q->used = s->used;
		if (!s->ready)
			continue;
		/* The checks of QUEUE_READY, in the same order (virtio_mmio_set_ready). */
		if (!(t->status & VIRTIO_CONFIG_S_FEATURES_OK))
			*why = "a queue ready before FEATURES_OK";
		else if (!virtq_enable(q, t->mem, why) &&
			 (uint16_t)(s->next_avail - s->next_used) > q->size)
			*why = "more chains in flight than the queue holds";
		if (*why) {
			virtio_mmio_reset(t);
			return -EINVAL;
		}
		q->next_avail = s->next_avail;
		q->next_used = s->next_used;
	}
	return 0;
}
