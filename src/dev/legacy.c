#include "microvm/legacy.h"

#include <string.h>

static void legacy_read(void *dev, uint64_t offset, uint8_t *data, uint32_t len)
{
	(void)dev;
	(void)offset;
	memset(data, 0, len);
}

static void legacy_write(void *dev, uint64_t offset, const uint8_t *data, uint32_t len)
{
	(void)dev;
	(void)offset;
	(void)data;
	(void)len;
}

/* Reads return 0, writes are dropped: present but inert, unlike an open bus. */
static const struct bus_ops legacy_inert_ops = { .read = legacy_read, .write = legacy_write };

int legacy_init(struct legacy *l, struct bus *pio, const struct serial_sink *com1,
		const struct legacy_power *power)
{
	int ret = serial8250_init(&l->serial, com1);

	if (ret)
		return ret;
	l->serial_ready = true;
	ret = i8042_init(&l->i8042, power->i8042_reset, power->kbd_irq, power->ctx);
	if (ret)
		return ret;
	l->i8042_ready = true;
	boottimer_init(&l->boottimer);
	acpi_pm_init(&l->pm, power->acpi, power->ctx);

	ret = bus_register(pio, "i8042-data", I8042_DATA_PORT, 1, &i8042_data_ops, &l->i8042);
	if (!ret)
		ret = bus_register(pio, "speaker", LEGACY_SPEAKER_PORT, 1, &legacy_inert_ops, NULL);
	if (!ret)
		ret = bus_register(pio, "i8042-cmd", I8042_CMD_PORT, 1, &i8042_cmd_ops, &l->i8042);
	if (!ret)
		ret = bus_register(pio, "post", LEGACY_POST_PORT, 1, &legacy_inert_ops, NULL);
	if (!ret)
		ret = bus_register(pio, "boot-timer", BOOTTIMER_PORT, 1, &boottimer_bus_ops,
				   &l->boottimer);
	if (!ret)
		ret = bus_register(pio, "com1", SERIAL_COM1_BASE, SERIAL_NR_REGS, &serial8250_bus_ops,
				   &l->serial);
	if (!ret)
		ret = bus_register(pio, "acpi-pm", ACPI_PM_PORT, ACPI_PM_NR_PORTS, &acpi_pm_bus_ops,
				   &l->pm);
	return ret;
}

void legacy_destroy(struct legacy *l)
{
	if (l->i8042_ready)
		i8042_destroy(&l->i8042);
	if (l->serial_ready)
		serial8250_destroy(&l->serial);
	l->i8042_ready = l->serial_ready = false;
}
