#include "microvm/i8042.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

_Static_assert(sizeof(((struct snap_i8042 *)0)->out) == I8042_OUTBUF_SIZE, "a snapshot holds the whole buffer");

#define STATUS_OBF 0x01
#define STATUS_SYS 0x04
#define STATUS_CMD 0x08
#define STATUS_UNLOCKED 0x10

#define CTR_KBD_INT 0x01
#define CTR_KBD_DISABLED 0x10
#define CTR_AUX_DISABLED 0x20
#define CTR_XLATE 0x40
#define OUTP_RESET_LINE 0x01 /* active low: clearing it resets the CPU */

#define CMD_READ_CTR 0x20
#define CMD_WRITE_CTR 0x60
#define CMD_AUX_DISABLE 0xa7
#define CMD_AUX_ENABLE 0xa8
#define CMD_SELF_TEST 0xaa
#define CMD_KBD_TEST 0xab
#define CMD_KBD_DISABLE 0xad
#define CMD_KBD_ENABLE 0xae
#define CMD_READ_OUTP 0xd0
#define CMD_WRITE_OUTP 0xd1
#define CMD_PULSE_FIRST 0xf0

#define REPLY_SELF_TEST_OK 0x55
#define REPLY_KBD_TEST_OK 0x00

int i8042_init(struct i8042 *k, void (*reset)(void *ctx), void (*kbd_irq)(void *ctx), void *ctx)
{
	int ret;

	memset(k, 0, sizeof(*k));
	ret = pthread_mutex_init(&k->lock, NULL);
	if (ret)
		return -ret;
	k->reset = reset;
	k->kbd_irq = kbd_irq;
	k->ctx = ctx;
	/* As firmware leaves it: self-test passed, keyboard unlocked, translation on. */
	k->status = STATUS_SYS | STATUS_UNLOCKED;
	k->ctr = 0x47 & ~CTR_AUX_DISABLED;
	k->outp = OUTP_RESET_LINE | 0x02; /* A20 enabled */
	return 0;
}

void i8042_destroy(struct i8042 *k)
{
	pthread_mutex_destroy(&k->lock);
}

static void i8042_push(struct i8042 *k, uint8_t byte)
{
	/* A full buffer drops the newest reply, as a controller nobody reads would. */
	if (k->out_count == I8042_OUTBUF_SIZE)
		return;
	k->out[(k->out_head + k->out_count) % I8042_OUTBUF_SIZE] = byte;
	k->out_count++;
	k->status |= STATUS_OBF;
}

uint8_t i8042_read_data(struct i8042 *k)
{
	bool more_keys;
	uint8_t val = 0;

	pthread_mutex_lock(&k->lock);
	if (k->out_count) {
		val = k->out[k->out_head];
		k->out_head = (k->out_head + 1) % I8042_OUTBUF_SIZE;
		k->out_count--;
		if (k->irq_bytes)
			k->irq_bytes--;
	}
	if (!k->out_count)
		k->status &= (uint8_t)~STATUS_OBF;
	/* Linux reads one byte per interrupt: the next key byte gets its own. */
	more_keys = k->irq_bytes && (k->ctr & CTR_KBD_INT);
	pthread_mutex_unlock(&k->lock);
	if (more_keys && k->kbd_irq)
		k->kbd_irq(k->ctx);
	return val;
}

int i8042_ctrl_alt_del(struct i8042 *k)
{
	/* Make codes only, as Firecracker sends: Ctrl, Alt, then the extended Del. */
	static const uint8_t set1[] = { 0x1d, 0x38, 0xe0, 0x53 };
	static const uint8_t set2[] = { 0x14, 0x11, 0xe0, 0x71 };
	const uint8_t *keys;

	pthread_mutex_lock(&k->lock);
	if (!(k->ctr & CTR_KBD_INT) || !k->kbd_irq || k->out_count + sizeof(set1) > I8042_OUTBUF_SIZE) {
		pthread_mutex_unlock(&k->lock);
		return -EAGAIN;
	}
	keys = k->ctr & CTR_XLATE ? set1 : set2;
	/* Replies queued before stay first; the keys follow them, every byte announced. */
	for (size_t i = 0; i < sizeof(set1); i++)
		i8042_push(k, keys[i]);
	k->irq_bytes = (uint8_t)k->out_count;
	pthread_mutex_unlock(&k->lock);
	k->kbd_irq(k->ctx);
	return 0;
}

uint8_t i8042_read_status(struct i8042 *k)
{
	uint8_t val;

	pthread_mutex_lock(&k->lock);
	val = k->status;
	pthread_mutex_unlock(&k->lock);
	return val;
}

void i8042_write_data(struct i8042 *k, uint8_t val)
{
	bool reset = false;

	pthread_mutex_lock(&k->lock);
	k->status &= (uint8_t)~STATUS_CMD;
	switch (k->pending_cmd) {
	case CMD_WRITE_CTR:
		k->ctr = val;
		break;
	case CMD_WRITE_OUTP:
		k->outp = val;
		reset = !(val & OUTP_RESET_LINE);
		break;
	default:
		/* A byte for the keyboard: none is attached, so nothing answers. */
		break;
	}
	k->pending_cmd = 0;
	pthread_mutex_unlock(&k->lock);
	if (reset)
		k->reset(k->ctx);
}

void i8042_write_cmd(struct i8042 *k, uint8_t cmd)
{
	bool reset = false;

	pthread_mutex_lock(&k->lock);
	k->status |= STATUS_CMD;
	k->pending_cmd = 0;
	switch (cmd) {
	case CMD_READ_CTR:
		i8042_push(k, k->ctr);
		break;
	case CMD_WRITE_CTR:
	case CMD_WRITE_OUTP:
		k->pending_cmd = cmd;
		break;
	case CMD_AUX_DISABLE:
		k->ctr |= CTR_AUX_DISABLED;
		break;
	case CMD_AUX_ENABLE:
		k->ctr &= (uint8_t)~CTR_AUX_DISABLED;
		break;
	case CMD_SELF_TEST:
		i8042_push(k, REPLY_SELF_TEST_OK);
		break;
	case CMD_KBD_TEST:
		i8042_push(k, REPLY_KBD_TEST_OK);
		break;
	case CMD_KBD_DISABLE:
		k->ctr |= CTR_KBD_DISABLED;
		break;
	case CMD_KBD_ENABLE:
		k->ctr &= (uint8_t)~CTR_KBD_DISABLED;
		break;
	case CMD_READ_OUTP:
		i8042_push(k, k->outp);
		break;
	default:
		/* 0xf0-0xff pulse output-port lines low for a moment; bit 0 is the CPU reset. */
		reset = cmd >= CMD_PULSE_FIRST && !(cmd & OUTP_RESET_LINE);
		break;
	}
	pthread_mutex_unlock(&k->lock);
	if (reset)
		k->reset(k->ctx);
}

static void i8042_data_read(void *dev, uint64_t offset, uint8_t *data, uint32_t len)
{
	memset(data, 0xff, len);
	if (offset == 0 && len == 1)
		data[0] = i8042_read_data(dev);
}

static void i8042_data_write(void *dev, uint64_t offset, const uint8_t *data, uint32_t len)
{
	if (offset == 0 && len == 1)
		i8042_write_data(dev, data[0]);
}

static void i8042_cmd_read(void *dev, uint64_t offset, uint8_t *data, uint32_t len)
{
	memset(data, 0xff, len);
	if (offset == 0 && len == 1)
		data[0] = i8042_read_status(dev);
}

static void i8042_cmd_write(void *dev, uint64_t offset, const uint8_t *data, uint32_t len)
{
	if (offset == 0 && len == 1)
		i8042_write_cmd(dev, data[0]);
}

const struct bus_ops i8042_data_ops = { .read = i8042_data_read, .write = i8042_data_write };
const struct bus_ops i8042_cmd_ops = { .read = i8042_cmd_read, .write = i8042_cmd_write };

void i8042_save(struct i8042 *k, struct snap_i8042 *out)
{
	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&k->lock);
	*out = (struct snap_i8042){
		.status = k->status, .ctr = k->ctr, .outp = k->outp, .pending_cmd = k->pending_cmd,
		.out_head = (uint8_t)k->out_head, .out_count = (uint8_t)k->out_count,
		.irq_bytes = k->irq_bytes,
	};
	memcpy(out->out, k->out, sizeof(out->out));
	pthread_mutex_unlock(&k->lock);
}

void i8042_restore(struct i8042 *k, const struct snap_i8042 *in)
{
	pthread_mutex_lock(&k->lock);
	k->status = in->status;
	k->ctr = in->ctr;
	k->outp = in->outp;
	k->pending_cmd = in->pending_cmd;
	k->out_head = in->out_head % I8042_OUTBUF_SIZE;
	k->out_count = in->out_count <= I8042_OUTBUF_SIZE ? in->out_count : I8042_OUTBUF_SIZE;
	k->irq_bytes = in->irq_bytes;
	memcpy(k->out, in->out, sizeof(k->out));
	pthread_mutex_unlock(&k->lock);
}
