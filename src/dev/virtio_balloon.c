#include "microvm/virtio_balloon.h"

#include <endian.h>
#include <errno.h>
#include <linux/virtio_ids.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "arch/x86/layout.h"
#include "config/balloon.h"
#include "microvm/log.h"

/* 4 KiB pages per MiB: the config space counts pages, the API MiB. */
#define BALLOON_PAGES_PER_MIB (LAYOUT_MIB / LAYOUT_PAGE_SIZE)
/* One statistics entry: le16 tag, le64 value, packed. */
#define BALLOON_STAT_SIZE 10
/* PFNs read from guest memory at once. */
#define BALLOON_PFN_CHUNK 256

_Static_assert(LAYOUT_PAGE_SIZE == 1ULL << VIRTIO_BALLOON_PFN_SHIFT, "balloon pages are the guest's pages");
_Static_assert(VIRTIO_BALLOON_S_NR <= SNAP_BALLOON_STATS, "a snapshot keeps every statistic");

enum balloon_role { BALLOON_INFLATE, BALLOON_DEFLATE, BALLOON_STATS, BALLOON_REPORTING, BALLOON_NONE };

static void virtio_balloon_target(struct virtio_balloon *b, uint32_t amount_mib)
{
	b->config.num_pages = htole32(amount_mib * (uint32_t)BALLOON_PAGES_PER_MIB);
}

int virtio_balloon_open(void *dev, const void *config, struct diag *d)
{
	struct virtio_balloon *b = dev;
	const struct balloon_config *c = config;

	memset(b, 0, sizeof(*b));
	b->stats_timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (b->stats_timer_fd < 0)
		return diag_fail_errno(d, -errno, "--balloon: timerfd_create: %s", strerror(errno));
	virtio_balloon_target(b, c->amount_mib);
	b->deflate_on_oom = c->deflate_on_oom;
	b->reporting = c->free_page_reporting;
	b->stats_interval_s = c->stats_interval_s;
	return 0;
}

void virtio_balloon_close(void *dev)
{
	struct virtio_balloon *b = dev;

	if (b->stats_timer_fd >= 0)
		close(b->stats_timer_fd);
	b->stats_timer_fd = -1;
}

/* The negotiated features number the queues: statistics and reporting only when agreed. */
static enum balloon_role virtio_balloon_role(const struct virtio_balloon *b, unsigned int queue)
{
	unsigned int next = 2;

	if (queue < 2)
		return queue == 0 ? BALLOON_INFLATE : BALLOON_DEFLATE;
	if (b->t->driver_features & (1ULL << VIRTIO_BALLOON_F_STATS_VQ)) {
		if (queue == next)
			return BALLOON_STATS;
		next++;
	}
	if ((b->t->driver_features & (1ULL << VIRTIO_BALLOON_F_REPORTING)) && queue == next)
		return BALLOON_REPORTING;
	return BALLOON_NONE;
}

/* The queue of a role, or VIRTIO_MMIO_MAX_QUEUES when the driver did not agree to it. */
static unsigned int virtio_balloon_queue(const struct virtio_balloon *b, enum balloon_role role)
{
	for (unsigned int q = 0; q < VIRTIO_MMIO_MAX_QUEUES; q++)
		if (virtio_balloon_role(b, q) == role)
			return q;
	return VIRTIO_MMIO_MAX_QUEUES;
}

/* Gives the host back [gpa, gpa+len) of guest RAM; false on a host failure (logged). */
static bool virtio_balloon_discard(struct virtio_balloon *b, uint64_t gpa, uint64_t len)
{
	int ret = gmem_discard(b->t->mem, gpa, len);

	if (ret)
		log_warn("virtio-balloon: cannot give back 0x%llx+0x%llx: %s", (unsigned long long)gpa,
			 (unsigned long long)len, strerror(-ret));
	return ret == 0;
}

/* The inflate (true) or deflate queue's chain: an array of le32 PFNs, each checked. */
static uint32_t virtio_balloon_pfns(void *ctx, const struct virtq_chain *c, bool inflate)
{
	struct virtio_balloon *b = ctx;
	const struct gmem *mem = b->t->mem;
	uint64_t n = c->read_len / sizeof(uint32_t), start = 0, len = 0;
	uint32_t pfns[BALLOON_PFN_CHUNK];

	if (c->read_len % sizeof(uint32_t) || n > VIRTIO_BALLOON_PFNS_MAX) {
		virtio_mmio_guest_error(b->t, "%s chain %u of %llu bytes: not at most %d PFNs",
					inflate ? "inflate" : "deflate", c->head,
					(unsigned long long)c->read_len, VIRTIO_BALLOON_PFNS_MAX);
		return 0;
	}
	for (uint64_t i = 0; i < n; i += BALLOON_PFN_CHUNK) {
		uint64_t chunk = n - i < BALLOON_PFN_CHUNK ? n - i : BALLOON_PFN_CHUNK;

		if (virtq_chain_read(c, mem, i * sizeof(uint32_t), pfns, chunk * sizeof(uint32_t)))
			break;
		for (uint64_t k = 0; k < chunk; k++) {
			uint32_t pfn = le32toh(pfns[k]);
			uint64_t gpa = (uint64_t)pfn << VIRTIO_BALLOON_PFN_SHIFT;

			if (!gmem_is_ram(mem, gpa, LAYOUT_PAGE_SIZE)) {
				virtio_mmio_guest_error(b->t, "PFN 0x%x is not guest RAM", pfn);
				continue;
			}
			if (!inflate) {
				b->counts.deflated++;
				continue;
			}
			/* Runs of pages go back in one call, as long as they stay in one region. */
			if (len && gpa == start + len && gmem_is_ram(mem, start, len + LAYOUT_PAGE_SIZE)) {
				len += LAYOUT_PAGE_SIZE;
				continue;
			}
			if (len && virtio_balloon_discard(b, start, len))
				b->counts.inflated += len / LAYOUT_PAGE_SIZE;
			start = gpa;
			len = LAYOUT_PAGE_SIZE;
		}
	}
	if (len && virtio_balloon_discard(b, start, len))
		b->counts.inflated += len / LAYOUT_PAGE_SIZE;
	return 0;
}

static uint32_t virtio_balloon_inflate(void *ctx, const struct virtq_chain *c)
{
	return virtio_balloon_pfns(ctx, c, true);
}

static uint32_t virtio_balloon_deflate(void *ctx, const struct virtq_chain *c)
{
	return virtio_balloon_pfns(ctx, c, false);
}

/* A report of free pages: each writable buffer is pages the host may take. */
static uint32_t virtio_balloon_report(void *ctx, const struct virtq_chain *c)
{
	struct virtio_balloon *b = ctx;

	for (unsigned int i = c->nr_read; i < c->nr_read + c->nr_write; i++) {
		const struct virtq_seg *s = &c->segs[i];

		if (s->gpa % LAYOUT_PAGE_SIZE || s->len % LAYOUT_PAGE_SIZE) {
			virtio_mmio_guest_error(b->t, "reported range 0x%llx+0x%x is not whole pages",
						(unsigned long long)s->gpa, s->len);
			continue;
		}
		if (virtio_balloon_discard(b, s->gpa, s->len))
			b->counts.reported_bytes += s->len;
	}
	return 0;
}

/* Reads the statistics of the driver's buffer, then holds it until the next poll. */
static void virtio_balloon_stats_in(struct virtio_balloon *b, unsigned int queue)
{
	const struct virtq_chain *c;
	bool returned = false;

	for (unsigned int i = 0; i < VIRTQ_MAX_SIZE && (c = virtio_mmio_pop(b->t, queue)) != NULL; i++) {
		uint64_t n = c->read_len / BALLOON_STAT_SIZE;

		/* A new buffer while one is held: the old one goes back, empty. */
		if (b->stats_held) {
			virtio_mmio_push(b->t, queue, b->stats_head, 0);
			returned = true;
		}
		for (uint64_t k = 0; k < n && k < VIRTIO_BALLOON_STATS_MAX; k++) {
			uint8_t e[BALLOON_STAT_SIZE];
			uint16_t tag;
			uint64_t val;

			if (virtq_chain_read(c, b->t->mem, k * BALLOON_STAT_SIZE, e, sizeof(e)))
				break;
			memcpy(&tag, e, sizeof(tag));
			memcpy(&val, e + sizeof(tag), sizeof(val));
			tag = le16toh(tag);
			if (tag >= VIRTIO_BALLOON_S_NR)
				continue; /* a newer driver's statistic */
			b->stats.values[tag] = le64toh(val);
			b->stats.present |= 1u << tag;
		}
		b->stats_held = true;
		b->stats_head = c->head;
		b->counts.stats_updates++;
	}
	if (returned)
		virtio_mmio_signal(b->t, queue);
}

static void virtio_balloon_notify(void *ctx, unsigned int queue)
{
	struct virtio_balloon *b = ctx;

	switch (virtio_balloon_role(b, queue)) {
	case BALLOON_INFLATE:
		virtio_mmio_drain(b->t, queue, virtio_balloon_inflate, b);
		break;
	case BALLOON_DEFLATE:
		virtio_mmio_drain(b->t, queue, virtio_balloon_deflate, b);
		break;
	case BALLOON_STATS:
		virtio_balloon_stats_in(b, queue);
		break;
	case BALLOON_REPORTING:
		virtio_mmio_drain(b->t, queue, virtio_balloon_report, b);
		break;
	case BALLOON_NONE:
	default:
		virtio_mmio_guest_error(b->t, "notification for queue %u, which no feature gave", queue);
		break;
	}
}

/* The statistics timer (the I/O thread): the held buffer goes back for fresh numbers. */
static void virtio_balloon_stats_tick(void *ctx, uint32_t events)
{
	struct virtio_balloon *b = ctx;
	unsigned int queue;
	uint64_t expirations;

	(void)events;
	if (read(b->stats_timer_fd, &expirations, sizeof(expirations)) < 0 && errno != EAGAIN)
		log_warn("virtio-balloon: statistics timer: %s", strerror(errno));
	virtio_mmio_lock(b->t);
	queue = virtio_balloon_queue(b, BALLOON_STATS);
	if (b->stats_held && virtio_mmio_queue_live(b->t, queue)) {
		virtio_mmio_push(b->t, queue, b->stats_head, 0);
		virtio_mmio_signal(b->t, queue);
		b->stats_held = false;
	}
	virtio_mmio_unlock(b->t);
}

static void virtio_balloon_reset(void *ctx)
{
	struct virtio_balloon *b = ctx;

	b->stats_held = false;
	b->config.actual = 0;
}

/* The driver writes actual, the pages it holds; the rest is the host's. */
static void virtio_balloon_config_write(void *ctx, uint32_t off, const uint8_t *data, uint32_t len)
{
	struct virtio_balloon *b = ctx;

	if (off != offsetof(struct virtio_balloon_config, actual) || len != sizeof(b->config.actual)) {
		virtio_mmio_guest_error(b->t, "%u-byte config write at %u: only actual is writable", len, off);
		return;
	}
	memcpy(&b->config.actual, data, len);
}

static const struct virtio_device_ops virtio_balloon_ops = {
	.name = "virtio-balloon",
	.device_id = VIRTIO_ID_BALLOON,
	.nr_queues = 4,
	.notify = virtio_balloon_notify,
	.reset = virtio_balloon_reset,
	.config_write = virtio_balloon_config_write,
};

void virtio_balloon_device(void *dev, struct virtio_mmio *t, struct virtio_device *out)
{
	struct virtio_balloon *b = dev;

	b->t = t;
	*out = (struct virtio_device){
		.ops = &virtio_balloon_ops,
		.ctx = b,
		.features = (b->stats_interval_s ? 1ULL << VIRTIO_BALLOON_F_STATS_VQ : 0) |
			    (b->deflate_on_oom ? 1ULL << VIRTIO_BALLOON_F_DEFLATE_ON_OOM : 0) |
			    (b->reporting ? 1ULL << VIRTIO_BALLOON_F_REPORTING : 0),
		.config = &b->config,
		/* num_pages and actual: no free page hinting, no page poisoning. */
		.config_size = 2 * sizeof(uint32_t),
	};
}

/* The statistics timer every interval_s seconds; 0 stops it. */
static int virtio_balloon_arm(struct virtio_balloon *b, uint32_t interval_s)
{
	const struct itimerspec every = { .it_interval = { (time_t)interval_s, 0 },
					  .it_value = { (time_t)interval_s, 0 } };

	return timerfd_settime(b->stats_timer_fd, 0, &every, NULL) < 0 ? -errno : 0;
}

static int virtio_balloon_watch(void *dev, struct iothread *io)
{
	struct virtio_balloon *b = dev;
	int ret;

	b->stats_handler = (struct io_handler){ .ready = virtio_balloon_stats_tick, .ctx = b };
	ret = iothread_watch(io, b->stats_timer_fd, EPOLLIN, &b->stats_handler);
	return ret ? ret : virtio_balloon_arm(b, b->stats_interval_s);
}

/* PATCH /balloon and /balloon/statistics: a new target (the driver is told), a new interval. */
static int virtio_balloon_update(void *dev, const void *config, unsigned int changes, struct diag *d)
{
	struct virtio_balloon *b = dev;
	const struct balloon_config *c = config;
	int ret = 0;

	if (changes & ~DEVICE_CHANGE_BALLOON)
		return diag_fail_errno(d, -EOPNOTSUPP, "a balloon changes only its target and statistics interval");
	/* The statistics queue exists or not since the driver negotiated: on stays on. */
	if (!b->stats_interval_s != !c->stats_interval_s)
		return diag_fail(d, "statistics cannot be turned on or off after start");
	virtio_mmio_lock(b->t);
	if (c->stats_interval_s != b->stats_interval_s) {
		ret = virtio_balloon_arm(b, c->stats_interval_s);
		if (!ret)
			b->stats_interval_s = c->stats_interval_s;
	}
	if (!ret && b->config.num_pages != htole32(c->amount_mib * (uint32_t)BALLOON_PAGES_PER_MIB)) {
		virtio_balloon_target(b, c->amount_mib);
		virtio_mmio_config_changed(b->t);
	}
	virtio_mmio_unlock(b->t);
	return ret ? diag_fail_errno(d, ret, "statistics timer: %s", strerror(-ret)) : 0;
}

void virtio_balloon_get_stats(struct virtio_balloon *b, struct virtio_balloon_stats *out)
{
	virtio_mmio_lock(b->t);
	*out = b->stats;
	out->target_pages = le32toh(b->config.num_pages);
	out->actual_pages = le32toh(b->config.actual);
	virtio_mmio_unlock(b->t);
}

void virtio_balloon_get_counts(struct virtio_balloon *b, struct virtio_balloon_counts *out)
{
	virtio_mmio_lock(b->t);
	*out = b->counts;
	virtio_mmio_unlock(b->t);
}

/* Under the lock, the device quiet: its state beside its transport's (struct snap_balloon). */
static void virtio_balloon_save(void *dev, struct snapshot *s, unsigned int slot)
{
	const struct virtio_balloon *b = dev;
	struct snap_balloon *out = &s->balloon;

	memset(out, 0, sizeof(*out));
	out->slot = slot;
	out->num_pages = le32toh(b->config.num_pages);
	out->actual = le32toh(b->config.actual);
	out->stats_interval_s = b->stats_interval_s;
	out->deflate_on_oom = b->deflate_on_oom;
	out->reporting = b->reporting;
	out->stats_held = b->stats_held;
	out->stats_head = b->stats_held ? b->stats_head : 0;
	out->stats_present = b->stats.present;
	for (unsigned int tag = 0; tag < VIRTIO_BALLOON_S_NR; tag++)
		if (b->stats.present & (1u << tag))
			out->stats[tag] = b->stats.values[tag];
	s->has_balloon = true;
}

/*
 * The snapshot's state (decoded: counts within guest RAM, flags and statistics in
 * range) into the device its configuration rebuilt: target, interval and features must
 * be the configuration's, and a held statistics buffer a chain in flight on the ready
 * statistics queue.
 */
static const char *virtio_balloon_restore_check(const struct virtio_balloon *b,
						const struct snap_balloon *in)
{
	unsigned int queue = virtio_balloon_queue(b, BALLOON_STATS);
	const struct virtq *q = queue < VIRTIO_MMIO_MAX_QUEUES ? &b->t->queues[queue] : NULL;

	if (in->num_pages != le32toh(b->config.num_pages) || in->stats_interval_s != b->stats_interval_s ||
	    in->deflate_on_oom != b->deflate_on_oom || in->reporting != b->reporting)
		return "the balloon's target, statistics interval or features differ from its configuration";
	if (in->stats_held && (!q || !q->ready || in->stats_head >= q->size ||
			       (uint16_t)(q->next_avail - q->next_used) == 0))
		return "a held statistics buffer that is not in flight on the statistics queue";
	return NULL;
}

static int virtio_balloon_restore(void *dev, const struct snapshot *s, unsigned int slot, const char **why)
{
	struct virtio_balloon *b = dev;
	const struct snap_balloon *in = &s->balloon;

	if (!s->has_balloon || in->slot != slot) {
		*why = "no balloon state for it";
		return -EINVAL;
	}
	virtio_mmio_lock(b->t);
	*why = virtio_balloon_restore_check(b, in);
	if (!*why) {
		b->config.actual = htole32(in->actual);
		b->stats_held = in->stats_held;
		b->stats_head = in->stats_head;
		b->stats.present = in->stats_present;
		for (unsigned int tag = 0; tag < VIRTIO_BALLOON_S_NR; tag++)
			b->stats.values[tag] = in->stats[tag];
	}
	virtio_mmio_unlock(b->t);
	return *why ? -EINVAL : 0;
}

const struct device_ops virtio_balloon_device_ops = {
	/* Its queues in the notifying vCPU; the statistics timer in the I/O thread. */
	.threads = DEVICE_THREAD_VCPU | DEVICE_THREAD_IO,
	.size = sizeof(struct virtio_balloon),
	.open = virtio_balloon_open,
	.attach = virtio_balloon_device,
	.watch = virtio_balloon_watch,
	.update = virtio_balloon_update,
	.save = virtio_balloon_save,
	.restore = virtio_balloon_restore,
	.close = virtio_balloon_close,
};
