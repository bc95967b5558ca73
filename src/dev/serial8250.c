#include "microvm/serial8250.h"

#include <string.h>

_Static_assert(sizeof(((struct snap_serial *)0)->rx) == SERIAL_FIFO_SIZE, "a snapshot holds the whole FIFO");

enum {
	REG_DATA = 0, /* RBR / THR, DLL with DLAB */
	REG_IER = 1,  /* DLM with DLAB */
	REG_IIR = 2,  /* FCR on write */
	REG_LCR = 3,
	REG_MCR = 4,
	REG_LSR = 5,
	REG_MSR = 6,
	REG_SCR = 7,
};

#define IER_RDI 0x01
#define IER_THRI 0x02
#define IER_MASK 0x0f
#define IIR_NO_INT 0x01
#define IIR_THRI 0x02
#define IIR_RDI 0x04
#define IIR_FIFO_ENABLED 0xc0
#define FCR_ENABLE 0x01
#define FCR_CLEAR_RX 0x02
#define LCR_DLAB 0x80
#define MCR_DTR 0x01
#define MCR_RTS 0x02
#define MCR_OUT1 0x04
#define MCR_OUT2 0x08
#define MCR_LOOP 0x10
#define MCR_MASK 0x1f
#define LSR_DR 0x01
#define LSR_THRE 0x20
#define LSR_TEMT 0x40
#define MSR_CTS 0x10
#define MSR_DSR 0x20
#define MSR_RI 0x40
#define MSR_DCD 0x80

int serial8250_init(struct serial8250 *s, const struct serial_sink *sink)
{
	int ret;

	memset(s, 0, sizeof(*s));
	ret = pthread_mutex_init(&s->lock, NULL);
	if (ret)
		return -ret;
	s->sink = *sink;
	/* Power-on values: 8N1 and OUT2, as firmware leaves a console port. */
	s->lcr = 0x03;
	s->mcr = MCR_OUT2;
	s->dll = 0x0c; /* 9600 baud */
	return 0;
}

void serial8250_destroy(struct serial8250 *s)
{
	pthread_mutex_destroy(&s->lock);
}

/* The highest-priority pending source as IIR reports it (line status and modem never fire). */
static uint8_t serial_iir(const struct serial8250 *s)
{
	uint8_t fifo = s->fifo_enabled ? IIR_FIFO_ENABLED : 0;

	if ((s->ier & IER_RDI) && s->rx_count)
		return fifo | IIR_RDI;
	if ((s->ier & IER_THRI) && s->thr_pending)
		return fifo | IIR_THRI;
	return fifo | IIR_NO_INT;
}

static void serial_update_irq(struct serial8250 *s)
{
	bool level = !(serial_iir(s) & IIR_NO_INT);

	if (level != s->irq_level) {
		s->irq_level = level;
		s->sink.set_irq(s->sink.ctx, level);
	}
}

static size_t serial_rx_capacity(const struct serial8250 *s)
{
	/* Without the FIFO the 8250 holds one byte. */
	return s->fifo_enabled ? SERIAL_FIFO_SIZE : 1;
}

static size_t serial_push_locked(struct serial8250 *s, const uint8_t *buf, size_t len)
{
	size_t cap = serial_rx_capacity(s);
	size_t n = 0;

	while (n < len && s->rx_count < cap) {
		s->rx[(s->rx_head + s->rx_count) % SERIAL_FIFO_SIZE] = buf[n++];
		s->rx_count++;
	}
	return n;
}

static uint8_t serial_pop_locked(struct serial8250 *s, bool *made_room)
{
	bool was_full = s->rx_count >= serial_rx_capacity(s);

	*made_room = false;
	if (s->rx_count == 0)
		return s->last_rx;
	s->last_rx = s->rx[s->rx_head];
	s->rx_head = (s->rx_head + 1) % SERIAL_FIFO_SIZE;
	s->rx_count--;
	*made_room = was_full;
	return s->last_rx;
}

static uint8_t serial_msr(const struct serial8250 *s)
{
	if (s->mcr & MCR_LOOP) {
		/* Loopback wires the modem outputs back to the inputs (the 8250 probe checks this). */
		uint8_t msr = 0;

		if (s->mcr & MCR_RTS)
			msr |= MSR_CTS;
		if (s->mcr & MCR_DTR)
			msr |= MSR_DSR;
		if (s->mcr & MCR_OUT1)
			msr |= MSR_RI;
		if (s->mcr & MCR_OUT2)
			msr |= MSR_DCD;
		return msr;
	}
	/* A terminal is always connected and ready. */
	return MSR_DCD | MSR_DSR | MSR_CTS;
}

uint8_t serial8250_read(struct serial8250 *s, unsigned int offset)
{
	bool made_room = false;
	uint8_t val;

	pthread_mutex_lock(&s->lock);
	switch (offset) {
	case REG_DATA:
		val = (s->lcr & LCR_DLAB) ? s->dll : serial_pop_locked(s, &made_room);
		break;
	case REG_IER:
		val = (s->lcr & LCR_DLAB) ? s->dlm : s->ier;
		break;
	case REG_IIR:
		val = serial_iir(s);
		/* Reading IIR acknowledges a THR-empty interrupt it reports. */
		if ((val & 0x0f) == IIR_THRI)
			s->thr_pending = false;
		break;
	case REG_LCR:
		val = s->lcr;
		break;
	case REG_MCR:
		val = s->mcr;
		break;
	case REG_LSR:
		/* Transmission is instantaneous: the holding and shift registers are always empty. */
		val = LSR_THRE | LSR_TEMT | (s->rx_count ? LSR_DR : 0);
		break;
	case REG_MSR:
		val = serial_msr(s);
		break;
	case REG_SCR:
		val = s->scr;
		break;
	default:
		val = 0xff;
		break;
	}
	serial_update_irq(s);
	pthread_mutex_unlock(&s->lock);
	if (made_room && s->sink.rx_room)
		s->sink.rx_room(s->sink.ctx);
	return val;
}

static void serial_write_fcr(struct serial8250 *s, uint8_t val)
{
	bool enable = val & FCR_ENABLE;

	/* Toggling the FIFO enable, or the clear bit, empties the receive side. */
	if (enable != s->fifo_enabled || (val & FCR_CLEAR_RX)) {
		s->rx_head = 0;
		s->rx_count = 0;
	}
	s->fifo_enabled = enable;
}

void serial8250_write(struct serial8250 *s, unsigned int offset, uint8_t val)
{
	bool room = false, tx = false;

	pthread_mutex_lock(&s->lock);
	switch (offset) {
	case REG_DATA:
		if (s->lcr & LCR_DLAB) {
			s->dll = val;
			break;
		}
		if (s->mcr & MCR_LOOP)
			(void)serial_push_locked(s, &val, 1);
		else
			tx = true;
		/* The byte leaves at once, so THR is empty again and may interrupt. */
		s->thr_pending = true;
		break;
	case REG_IER:
		if (s->lcr & LCR_DLAB) {
			s->dlm = val;
			break;
		}
		/* Enabling THRI while THR is empty raises it (Linux checks for this at startup). */
		if ((val & IER_THRI) && !(s->ier & IER_THRI))
			s->thr_pending = true;
		s->ier = val & IER_MASK;
		break;
	case REG_IIR:
		room = s->rx_count >= serial_rx_capacity(s);
		serial_write_fcr(s, val);
		room = room && s->rx_count < serial_rx_capacity(s);
		break;
	case REG_LCR:
		s->lcr = val;
		break;
	case REG_MCR:
		s->mcr = val & MCR_MASK;
		break;
	case REG_SCR:
		s->scr = val;
		break;
	case REG_LSR:
	case REG_MSR:
	default:
		/* Read-only registers. */
		break;
	}
	serial_update_irq(s);
	pthread_mutex_unlock(&s->lock);
	/* Outside the lock: a slow or blocked stdout must not stall input or the other vCPUs' reads. */
	if (tx)
		s->sink.tx(s->sink.ctx, val);
	if (room && s->sink.rx_room)
		s->sink.rx_room(s->sink.ctx);
}

size_t serial8250_rx_push(struct serial8250 *s, const uint8_t *buf, size_t len)
{
	size_t n;

	pthread_mutex_lock(&s->lock);
	n = serial_push_locked(s, buf, len);
	serial_update_irq(s);
	pthread_mutex_unlock(&s->lock);
	return n;
}

size_t serial8250_rx_room(struct serial8250 *s)
{
	size_t room;

	pthread_mutex_lock(&s->lock);
	room = serial_rx_capacity(s) - s->rx_count;
	pthread_mutex_unlock(&s->lock);
	return room;
}

static void serial_bus_read(void *dev, uint64_t offset, uint8_t *data, uint32_t len)
{
	/* Linux uses byte accesses; a wider one reads as an open bus. */
	if (len != 1 || offset >= SERIAL_NR_REGS) {
		memset(data, 0xff, len);
		return;
	}
	data[0] = serial8250_read(dev, (unsigned int)offset);
}

static void serial_bus_write(void *dev, uint64_t offset, const uint8_t *data, uint32_t len)
{
	if (len != 1 || offset >= SERIAL_NR_REGS)
		return;
	serial8250_write(dev, (unsigned int)offset, data[0]);
}

const struct bus_ops serial8250_bus_ops = {
	.read = serial_bus_read,
	.write = serial_bus_write,
};

void serial8250_save(struct serial8250 *s, struct snap_serial *out)
{
	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&s->lock);
	*out = (struct snap_serial){
		.ier = s->ier, .lcr = s->lcr, .mcr = s->mcr, .scr = s->scr, .dll = s->dll,
		.dlm = s->dlm, .last_rx = s->last_rx, .fifo_enabled = s->fifo_enabled,
		.thr_pending = s->thr_pending, .irq_level = s->irq_level,
		.rx_head = (uint8_t)s->rx_head, .rx_count = (uint8_t)s->rx_count,
	};
	memcpy(out->rx, s->rx, sizeof(out->rx));
	pthread_mutex_unlock(&s->lock);
}

void serial8250_restore(struct serial8250 *s, const struct snap_serial *in)
{
	pthread_mutex_lock(&s->lock);
	s->ier = in->ier;
	s->lcr = in->lcr;
	s->mcr = in->mcr;
	s->scr = in->scr;
	s->dll = in->dll;
	s->dlm = in->dlm;
	s->last_rx = in->last_rx;
	s->fifo_enabled = in->fifo_enabled;
	s->thr_pending = in->thr_pending;
	/* The line's level is the interrupt controllers' state, restored with them. */
	s->irq_level = in->irq_level;
	/* Indices stay within the FIFO whatever the file said: decode checked, this makes sure. */
	s->rx_head = in->rx_head % SERIAL_FIFO_SIZE;
	s->rx_count = in->rx_count <= SERIAL_FIFO_SIZE ? in->rx_count : SERIAL_FIFO_SIZE;
	memcpy(s->rx, in->rx, sizeof(s->rx));
	pthread_mutex_unlock(&s->lock);
}
