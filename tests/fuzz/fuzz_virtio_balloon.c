/*
 * virtio-balloon behind its transport, driven by a hostile driver (virtio_script.h):
 * PFNs on the inflate and deflate queues (each must name guest RAM, and only those
 * pages may change), statistics buffers, free page reports, writes to the config
 * space. The header's device_arg picks the offered features: bit 0 statistics, bit 1
 * deflate-on-OOM, bit 2 free page reporting; HOST operations are the statistics
 * timer firing (width 0) and a new target from the API (width 1, value in MiB).
 */
#include <sys/epoll.h>

#include "config/balloon.h"
#include "microvm/iothread.h"
#include "microvm/virtio_balloon.h"
#include "virtio_script.h"

static struct iothread io;
static struct virtio_balloon balloon;
static uint32_t target_mib;  /* what the API last asked for */

static void balloon_init(void)
{
	FUZZ_CHECK(iothread_init(&io) == 0);
}

static void balloon_open(const struct virtio_script_header *h, struct virtio_mmio *t,
			 struct virtio_device *dev)
{
	const struct balloon_config c = {
		.amount_mib = 16,
		.stats_interval_s = h->device_arg & 1 ? 1 : 0,
		.deflate_on_oom = h->device_arg & 2,
		.free_page_reporting = h->device_arg & 4,
	};
	struct diag d;

	FUZZ_CHECK(virtio_balloon_open(&balloon, &c, &d) == 0);
	target_mib = c.amount_mib;
	virtio_balloon_device(&balloon, t, dev);
	FUZZ_CHECK(virtio_balloon_device_ops.watch(&balloon, &io) == 0);
}

static void balloon_host(const struct virtio_script_op *op)
{
	struct balloon_config c = { .stats_interval_s = balloon.stats_interval_s };
	struct diag d;

	/* The statistics timer's own handler, as the I/O thread calls it when the timer fires. */
	if (op->width % 2 == 0) {
		balloon.stats_handler.ready(balloon.stats_handler.ctx, EPOLLIN);
		return;
	}
	c.amount_mib = op->value % (BALLOON_AMOUNT_MIB_MAX + 1);
	FUZZ_CHECK(virtio_balloon_device_ops.update(&balloon, &c, DEVICE_CHANGE_BALLOON, &d) == 0);
	target_mib = c.amount_mib;
}

static void balloon_close(void)
{
	struct virtio_balloon_stats st;

	virtio_balloon_get_stats(&balloon, &st);
	/* The driver writes actual, never the target; only the statistics it knows are kept. */
	FUZZ_CHECK(st.target_pages == target_mib * 256);
	FUZZ_CHECK(st.present < (1u << VIRTIO_BALLOON_S_NR));
	virtio_balloon_close(&balloon);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct virtio_script_device device = {
		.init = balloon_init,
		.open = balloon_open,
		.host = balloon_host,
		.close = balloon_close,
	};

	virtio_script_run(&device, data, size);
	return 0;
}
