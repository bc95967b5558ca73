#include "virtio_script.h"

#include <fcntl.h>
#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_ring.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "microvm/log.h"

static struct virtio_mmio transport;
static unsigned int pulses;

static void count_pulse(void *ctx, unsigned int gsi)
{
	(void)ctx;
	(void)gsi;
	pulses++;
}

static void mmio_write(uint64_t offset, const void *data, uint32_t len)
{
	virtio_mmio_bus_ops.write(&transport, offset, data, len);
}

static void mmio_write32(uint64_t offset, uint32_t val)
{
	mmio_write(offset, &val, sizeof(val));
}

static void bring_up(const struct virtio_script_header *h, unsigned int nr_queues)
{
	const uint32_t ack = VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER;

	mmio_write32(VIRTIO_MMIO_STATUS, 0);
	mmio_write32(VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE);
	mmio_write32(VIRTIO_MMIO_STATUS, ack);
	mmio_write32(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	mmio_write32(VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(h->features >> 32));
	mmio_write32(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	mmio_write32(VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)h->features);
	mmio_write32(VIRTIO_MMIO_STATUS, ack | VIRTIO_CONFIG_S_FEATURES_OK);
	for (unsigned int i = 0; i < nr_queues; i++) {
		const struct virtio_script_queue *q = &h->queues[i];

		if (q->size == 0)
			continue;
		mmio_write32(VIRTIO_MMIO_QUEUE_SEL, i);
		mmio_write32(VIRTIO_MMIO_QUEUE_NUM, q->size);
		mmio_write32(VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)(VIRTIO_SCRIPT_WINDOW + q->desc));
		mmio_write32(VIRTIO_MMIO_QUEUE_DESC_HIGH, 0);
		mmio_write32(VIRTIO_MMIO_QUEUE_AVAIL_LOW, (uint32_t)(VIRTIO_SCRIPT_WINDOW + q->avail));
		mmio_write32(VIRTIO_MMIO_QUEUE_AVAIL_HIGH, 0);
		mmio_write32(VIRTIO_MMIO_QUEUE_USED_LOW, (uint32_t)(VIRTIO_SCRIPT_WINDOW + q->used));
		mmio_write32(VIRTIO_MMIO_QUEUE_USED_HIGH, 0);
		mmio_write32(VIRTIO_MMIO_QUEUE_READY, 1);
	}
	mmio_write32(VIRTIO_MMIO_STATUS, ack | VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK);
}

static void run_op(const struct virtio_script_device *d, const struct virtio_script_op *op)
{
	const struct gmem *mem = fuzz_ram();
	uint8_t buf[8] = { 0 };
	uint32_t len = 1U << (op->width & 3);

	switch ((enum virtio_script_kind)(op->kind % VIRTIO_SCRIPT_KINDS)) {
	case VIRTIO_SCRIPT_MMIO_WRITE:
		memcpy(buf, &op->value, sizeof(op->value));
		mmio_write(op->offset & 0xfff, buf, len);
		break;
	case VIRTIO_SCRIPT_MMIO_READ:
		virtio_mmio_bus_ops.read(&transport, op->offset & 0xfff, buf, len);
		break;
	case VIRTIO_SCRIPT_STORE:
		FUZZ_CHECK(gmem_write(mem, VIRTIO_SCRIPT_WINDOW + op->offset, &op->value,
				      sizeof(op->value)) == 0);
		break;
	case VIRTIO_SCRIPT_HOST:
		if (d->host)
			d->host(op);
		break;
	case VIRTIO_SCRIPT_KINDS:
	default:
		abort();
	}
	if (d->poll)
		d->poll();
}

/* What the transport must keep whatever the driver does. */
static void check_transport(void)
{
	const struct gmem *mem = fuzz_ram();
	const struct virtio_mmio *t = &transport;
	const uint64_t offered = t->dev.features | (1ULL << VIRTIO_F_VERSION_1) |
				 (1ULL << VIRTIO_RING_F_INDIRECT_DESC);

	FUZZ_CHECK((t->isr & ~(uint32_t)(VIRTIO_MMIO_INT_VRING | VIRTIO_MMIO_INT_CONFIG)) == 0);
	FUZZ_CHECK(t->status <= 0xff);
	if (t->status & VIRTIO_CONFIG_S_DRIVER_OK)
		FUZZ_CHECK(t->status & VIRTIO_CONFIG_S_FEATURES_OK);
	if (t->status & VIRTIO_CONFIG_S_FEATURES_OK)
		FUZZ_CHECK((t->driver_features & ~offered) == 0 &&
			   (t->driver_features & (1ULL << VIRTIO_F_VERSION_1)));
	for (unsigned int i = 0; i < t->dev.ops->nr_queues; i++) {
		const struct virtq *q = &t->queues[i];

		if (!q->ready)
			continue;
		FUZZ_CHECK(q->size >= 1 && q->size <= VIRTQ_MAX_SIZE && (q->size & (q->size - 1)) == 0);
		FUZZ_CHECK(gmem_ptr(mem, q->desc, 16ULL * q->size) != NULL);
		FUZZ_CHECK(gmem_ptr(mem, q->avail, 6 + 2ULL * q->size) != NULL);
		FUZZ_CHECK(gmem_ptr(mem, q->used, 6 + 8ULL * q->size) != NULL);
		/* Every chain handed back was taken first, and at most size are out at once. */
		FUZZ_CHECK((uint16_t)(q->next_avail - q->next_used) <= q->size);
	}
}

/* The lowest free descriptor: one left open by the device moves it. */
static int lowest_free_fd(void)
{
	int fd = fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 0);

	FUZZ_CHECK(fd >= 0);
	close(fd);
	return fd;
}

void virtio_script_run(const struct virtio_script_device *d, const uint8_t *data, size_t size)
{
	static bool ready;
	const struct gmem *mem = fuzz_ram();
	const struct fuzz_range all_ram = { 0, FUZZ_RAM_SIZE };
	struct virtio_script_header h;
	struct virtio_device dev;
	struct virtio_irq irq = { .pulse = count_pulse, .gsi = 5 };
	uint32_t window;
	size_t ops;
	int free_fd;

	if (!ready) {
		/* Guest errors are warnings: thousands a second would be the fuzzer's whole time. */
		log_init("fuzz", getenv("FUZZ_LOG") ? LOG_DEBUG : LOG_ERROR);
		/* As in the VMM (vm.c): a host socket closed under a device is an error, not death. */
		signal(SIGPIPE, SIG_IGN);
		if (d->init)
			d->init();
		ready = true;
	}
	if (size < sizeof(h))
		return;
	memcpy(&h, data, sizeof(h));
	data += sizeof(h);
	size -= sizeof(h);
	window = h.window_len < VIRTIO_SCRIPT_WINDOW_MAX ? h.window_len : VIRTIO_SCRIPT_WINDOW_MAX;
	if (window > size)
		window = (uint32_t)size;
	FUZZ_CHECK(gmem_write(mem, VIRTIO_SCRIPT_WINDOW, data, window) == 0);
	data += window;
	size -= window;
	ops = size / sizeof(struct virtio_script_op);
	if (ops > VIRTIO_SCRIPT_MAX_OPS)
		ops = VIRTIO_SCRIPT_MAX_OPS;

	free_fd = lowest_free_fd();
	d->open(&h, &transport, &dev);
	FUZZ_CHECK(virtio_mmio_init(&transport, &dev, mem, &irq, 0xd0000000) == 0);
	if (h.flags & VIRTIO_SCRIPT_BRING_UP) {
		bring_up(&h, dev.ops->nr_queues);
		if (d->poll)
			d->poll();
		check_transport();
	}
	for (size_t i = 0; i < ops; i++) {
		struct virtio_script_op op;

		memcpy(&op, data + i * sizeof(op), sizeof(op));
		run_op(d, &op);
		check_transport();
	}
	if (d->close)
		d->close();
	virtio_mmio_destroy(&transport);
	FUZZ_CHECK(lowest_free_fd() == free_fd);
	/* Devices write wherever the driver's buffers are: any RAM; refreshed for the next input. */
	fuzz_ram_check_writes(&all_ram, 1);
}
