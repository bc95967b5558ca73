#include "arch/x86/acpi.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "arch/x86/aml.h"
#include "arch/x86/fwtable.h"
#include "arch/x86/layout.h"
#include "arch/x86/mptable.h"
#include "microvm/acpi_pm.h"
#include "microvm/i8042.h"
#include "microvm/serial8250.h"

/* The spec's structures (ACPI 6.4, chapter 5), packed: the spec fixes every offset. */
struct acpi_rsdp {
	char signature[8];
	uint8_t checksum;           /* over the first 20 bytes (the ACPI 1.0 part) */
	char oem_id[6];
	uint8_t revision;
	uint32_t rsdt_address;
	uint32_t length;
	uint64_t xsdt_address;
	uint8_t extended_checksum;  /* over all of it */
	uint8_t reserved[3];
} __attribute__((packed));

struct acpi_header {
	char signature[4];
	uint32_t length;
	uint8_t revision;
	uint8_t checksum;
	char oem_id[6];
	char oem_table_id[8];
	uint32_t oem_revision;
	char creator_id[4];
	uint32_t creator_revision;
} __attribute__((packed));

/* Generic Address Structure. */
struct acpi_gas {
	uint8_t space_id;
	uint8_t bit_width;
	uint8_t bit_offset;
	uint8_t access_size;
	uint64_t address;
} __attribute__((packed));

struct acpi_fadt {
	struct acpi_header header;
	uint32_t firmware_ctrl;
	uint32_t dsdt;
	uint8_t reserved0;
	uint8_t preferred_pm_profile;
	uint16_t sci_int;
	uint32_t smi_cmd;
	uint8_t acpi_enable, acpi_disable, s4bios_req, pstate_cnt;
	uint32_t pm1a_evt_blk, pm1b_evt_blk, pm1a_cnt_blk, pm1b_cnt_blk;
	uint32_t pm2_cnt_blk, pm_tmr_blk, gpe0_blk, gpe1_blk;
	uint8_t pm1_evt_len, pm1_cnt_len, pm2_cnt_len, pm_tmr_len;
	uint8_t gpe0_blk_len, gpe1_blk_len, gpe1_base, cst_cnt;
	uint16_t p_lvl2_lat, p_lvl3_lat, flush_size, flush_stride;
	uint8_t duty_offset, duty_width, day_alrm, mon_alrm, century;
	uint16_t iapc_boot_arch;
	uint8_t reserved1;
	uint32_t flags;
	struct acpi_gas reset_reg;
	uint8_t reset_value;
	uint16_t arm_boot_arch;
	uint8_t minor_version;
	uint64_t x_firmware_ctrl;
	uint64_t x_dsdt;
	struct acpi_gas x_pm1a_evt_blk, x_pm1b_evt_blk, x_pm1a_cnt_blk, x_pm1b_cnt_blk;
	struct acpi_gas x_pm2_cnt_blk, x_pm_tmr_blk, x_gpe0_blk, x_gpe1_blk;
	struct acpi_gas sleep_control_reg;
	struct acpi_gas sleep_status_reg;
	uint64_t hypervisor_vendor_id;
} __attribute__((packed));

struct acpi_madt {
	struct acpi_header header;
	uint32_t lapic_address;
	uint32_t flags;
} __attribute__((packed));

struct madt_lapic {
	uint8_t type, length;
	uint8_t processor_uid;
	uint8_t apic_id;
	uint32_t flags;
} __attribute__((packed));

struct madt_ioapic {
	uint8_t type, length;
	uint8_t ioapic_id;
	uint8_t reserved;
	uint32_t address;
	uint32_t gsi_base;
} __attribute__((packed));

struct madt_lapic_nmi {
	uint8_t type, length;
	uint8_t processor_uid;
	uint16_t flags;
	uint8_t lint;
} __attribute__((packed));

_Static_assert(sizeof(struct acpi_rsdp) == 36, "RSDP (revision 2) is 36 bytes");
_Static_assert(sizeof(struct acpi_header) == 36, "a table header is 36 bytes");
_Static_assert(sizeof(struct acpi_gas) == 12, "a generic address is 12 bytes");
_Static_assert(offsetof(struct acpi_fadt, flags) == 112, "FADT flags at 112");
_Static_assert(offsetof(struct acpi_fadt, x_dsdt) == 140, "FADT X_DSDT at 140");
_Static_assert(offsetof(struct acpi_fadt, sleep_control_reg) == 244, "FADT sleep control at 244");
_Static_assert(sizeof(struct acpi_fadt) == 276, "FADT (6.x) is 276 bytes");
_Static_assert(sizeof(struct madt_lapic) == 8 && sizeof(struct madt_ioapic) == 12 &&
	       sizeof(struct madt_lapic_nmi) == 6, "MADT entry sizes");

#define ACPI_OEM_ID "MICRVM"
#define ACPI_OEM_TABLE_ID "MICROVM "
#define ACPI_CREATOR_ID "MCVM"
#define ACPI_ALIGN 16
#define ACPI_RSDP_V1_LENGTH 20 /* what the RSDP's first checksum covers */

#define RSDP_REVISION 2     /* ACPI 2.0 and later: the XSDT */
#define XSDT_REVISION 1
#define FADT_REVISION 6
#define FADT_MINOR_REVISION 4
#define MADT_REVISION 5
#define DSDT_REVISION 2     /* 64-bit AML integers */

#define GAS_SYSTEM_IO 1
#define GAS_ACCESS_BYTE 1

/* FADT flags and IA-PC boot architecture flags (5.2.9.3, 5.2.9.4). */
#define FADT_PWR_BUTTON (1U << 4)      /* the power button is a device, not a fixed feature */
#define FADT_SLP_BUTTON (1U << 5)      /* no sleep button */
#define FADT_RESET_REG_SUP (1U << 10)
#define FADT_HW_REDUCED_ACPI (1U << 20)
#define IAPC_8042 (1U << 1)
#define IAPC_VGA_NOT_PRESENT (1U << 2)
#define IAPC_MSI_NOT_SUPPORTED (1U << 3)
#define IAPC_CMOS_RTC_NOT_PRESENT (1U << 5)

#define MADT_PCAT_COMPAT 1U            /* KVM emulates the dual 8259 too */
#define MADT_TYPE_LAPIC 0
#define MADT_TYPE_IOAPIC 1
#define MADT_TYPE_LAPIC_NMI 4
#define MADT_LAPIC_ENABLED 1U
#define MADT_ALL_PROCESSORS 0xff

#define DSDT_NOTIFY_BUTTON_PRESSED 0x80
/* Resource templates are small: a few descriptors each. */
#define DSDT_RESOURCES_MAX 32

static void acpi_header(struct acpi_header *h, const char *signature, uint8_t revision,
			size_t length)
{
	memcpy(h->signature, signature, 4);
	h->length = (uint32_t)length;
	h->revision = revision;
	memcpy(h->oem_id, ACPI_OEM_ID, 6);
	memcpy(h->oem_table_id, ACPI_OEM_TABLE_ID, 8);
	h->oem_revision = 1;
	memcpy(h->creator_id, ACPI_CREATOR_ID, 4);
	h->creator_revision = 1;
}

/* A byte-wide I/O port register. */
static struct acpi_gas acpi_port(uint16_t port)
{
	return (struct acpi_gas){ .space_id = GAS_SYSTEM_IO, .bit_width = 8,
				  .access_size = GAS_ACCESS_BYTE, .address = port };
}

static void acpi_fadt(struct acpi_fadt *f, uint64_t dsdt)
{
	acpi_header(&f->header, "FACP", FADT_REVISION, sizeof(*f));
	f->minor_version = FADT_MINOR_REVISION;
	f->flags = FADT_HW_REDUCED_ACPI | FADT_PWR_BUTTON | FADT_SLP_BUTTON | FADT_RESET_REG_SUP;
	/* The i8042 is there (Linux skips its probe otherwise); the RTC is not (nor its probe). */
	f->iapc_boot_arch = IAPC_8042 | IAPC_VGA_NOT_PRESENT | IAPC_MSI_NOT_SUPPORTED |
			    IAPC_CMOS_RTC_NOT_PRESENT;
	f->reset_reg = acpi_port(ACPI_PM_RESET);
	f->reset_value = ACPI_PM_RESET_VALUE;
	f->sleep_control_reg = acpi_port(ACPI_PM_SLEEP_CONTROL);
	f->sleep_status_reg = acpi_port(ACPI_PM_SLEEP_STATUS);
	/* Below 4 GiB, so the 32-bit field holds it too, as older readers want. */
	f->dsdt = (uint32_t)dsdt;
	f->x_dsdt = dsdt;
}

/* The MADT for vcpus CPUs, at buf; returns its length. */
static size_t acpi_madt(uint8_t *buf, unsigned int vcpus)
{
	struct acpi_madt madt = { .lapic_address = (uint32_t)LAYOUT_LAPIC_ADDR,
				  .flags = MADT_PCAT_COMPAT };
	struct madt_ioapic ioapic = {
		.type = MADT_TYPE_IOAPIC, .length = sizeof(ioapic), .ioapic_id = (uint8_t)vcpus,
		.address = (uint32_t)LAYOUT_IOAPIC_ADDR, .gsi_base = 0,
	};
	struct madt_lapic_nmi nmi = { .type = MADT_TYPE_LAPIC_NMI, .length = sizeof(nmi),
				      .processor_uid = MADT_ALL_PROCESSORS, .flags = 0, .lint = 1 };
	size_t off = sizeof(madt);

	for (unsigned int i = 0; i < vcpus; i++) {
		struct madt_lapic lapic = { .type = MADT_TYPE_LAPIC, .length = sizeof(lapic),
					    .processor_uid = (uint8_t)i, .apic_id = (uint8_t)i,
					    .flags = MADT_LAPIC_ENABLED };

		fwtable_put(buf, &off, &lapic, sizeof(lapic));
	}
	fwtable_put(buf, &off, &ioapic, sizeof(ioapic));
	fwtable_put(buf, &off, &nmi, sizeof(nmi));
	acpi_header(&madt.header, "APIC", MADT_REVISION, off);
	memcpy(buf, &madt, sizeof(madt));
	return off;
}

/* Name (_CRS, ResourceTemplate () {...}) from the descriptors built in r. */
static void dsdt_crs(struct aml *a, struct aml *r)
{
	aml_res_end(r);
	aml_name(a, "_CRS");
	aml_buffer(a, r);
}

static void dsdt_com1(struct aml *a)
{
	uint8_t res[DSDT_RESOURCES_MAX];
	struct aml r;
	size_t dev = aml_device(a, "COM1");

	aml_name(a, "_HID");
	aml_eisaid(a, "PNP0501");
	aml_name(a, "_UID");
	aml_integer(a, 1);
	aml_init(&r, res, sizeof(res));
	aml_res_io(&r, SERIAL_COM1_BASE, SERIAL_NR_REGS);
	aml_res_irq(&r, SERIAL_COM1_IRQ);
	dsdt_crs(a, &r);
	aml_close(a, dev);
}

static void dsdt_i8042(struct aml *a)
{
	uint8_t res[DSDT_RESOURCES_MAX];
	struct aml r;
	size_t dev = aml_device(a, "PS2K");

	aml_name(a, "_HID");
	aml_eisaid(a, "PNP0303");
	aml_init(&r, res, sizeof(res));
	aml_res_io(&r, I8042_DATA_PORT, 1);
	aml_res_io(&r, I8042_CMD_PORT, 1);
	aml_res_irq(&r, I8042_KBD_IRQ);
	dsdt_crs(a, &r);
	aml_close(a, dev);
}

static void dsdt_virtio(struct aml *a, unsigned int index, const struct platform_virtio *v)
{
	uint8_t res[DSDT_RESOURCES_MAX];
	char name[16];
	struct aml r;
	size_t dev;

	/* V000 ... V018: index is below LAYOUT_VIRTIO_MAX_DEVICES. */
	snprintf(name, sizeof(name), "V%03u", index);
	dev = aml_device(a, name);
	aml_name(a, "_HID");
	aml_string(a, "LNRO0005");
	aml_name(a, "_UID");
	aml_integer(a, index);
	/* Coherent DMA, as virtio-mmio always is here. */
	aml_name(a, "_CCA");
	aml_integer(a, 1);
	aml_init(&r, res, sizeof(res));
	aml_res_memory32(&r, (uint32_t)v->base, (uint32_t)LAYOUT_VIRTIO_MMIO_SIZE);
	aml_res_interrupt(&r, v->irq);
	dsdt_crs(a, &r);
	aml_close(a, dev);
}

/* The power button, and the event device whose _EVT presses it when its line fires. */
static void dsdt_power_button(struct aml *a)
{
	uint8_t res[DSDT_RESOURCES_MAX];
	struct aml r;
	size_t dev, method, cond;

	dev = aml_device(a, "PWRB");
	aml_name(a, "_HID");
	aml_eisaid(a, "PNP0C0C");
	aml_name(a, "_UID");
	aml_integer(a, 0);
	aml_close(a, dev);

	dev = aml_device(a, "GED0");
	aml_name(a, "_HID");
	aml_string(a, "ACPI0013");
	aml_name(a, "_UID");
	aml_integer(a, 0);
	aml_init(&r, res, sizeof(res));
	aml_res_interrupt(&r, LAYOUT_ACPI_GED_IRQ);
	dsdt_crs(a, &r);
	/* Method (_EVT, 1) { If (Arg0 == the line) { Notify (\_SB.PWRB, 0x80) } } */
	method = aml_method(a, "_EVT", 1);
	cond = aml_if(a);
	aml_lequal(a);
	aml_arg(a, 0);
	aml_integer(a, LAYOUT_ACPI_GED_IRQ);
	aml_notify(a, "\\_SB_.PWRB", DSDT_NOTIFY_BUTTON_PRESSED);
	aml_close(a, cond);
	aml_close(a, method);
	aml_close(a, dev);
}

/* The DSDT's definition block after its header; returns its AML's first error. */
static int acpi_dsdt_aml(struct aml *a, const struct platform_config *cfg)
{
	size_t scope = aml_scope(a, "\\_SB_"), pkg;

	dsdt_com1(a);
	dsdt_i8042(a);
	for (unsigned int i = 0; i < cfg->nr_virtio; i++)
		dsdt_virtio(a, i, &cfg->virtio[i]);
	dsdt_power_button(a);
	aml_close(a, scope);
	/* Name (\_S5, Package () { SLP_TYPa, SLP_TYPb, 0, 0 }): S5 is the only sleep state. */
	aml_name(a, "\\_S5_");
	pkg = aml_package(a, 4);
	aml_integer(a, ACPI_PM_SLP_TYP_S5);
	aml_integer(a, ACPI_PM_SLP_TYP_S5);
	aml_integer(a, 0);
	aml_integer(a, 0);
	aml_close(a, pkg);
	return aml_error(a);
}

static int acpi_check(const struct platform_config *cfg)
{
	if (cfg->vcpus == 0 || cfg->vcpus > ACPI_MAX_CPUS || cfg->nr_virtio > LAYOUT_VIRTIO_MAX_DEVICES)
		return -EINVAL;
	for (unsigned int i = 0; i < cfg->nr_virtio; i++) {
		const struct platform_virtio *v = &cfg->virtio[i];

		if (v->base < LAYOUT_MMIO_GAP_START || v->base > LAYOUT_MMIO_GAP_END - LAYOUT_VIRTIO_MMIO_SIZE ||
		    v->irq >= MPTABLE_IOAPIC_PINS || v->irq == LAYOUT_ACPI_GED_IRQ)
			return -EINVAL;
	}
	return 0;
}

static size_t acpi_align(size_t off)
{
	return (off + ACPI_ALIGN - 1) & ~(size_t)(ACPI_ALIGN - 1);
}

int acpi_write(const struct gmem *mem, const struct platform_config *cfg)
{
	/* Built in a local buffer, checksummed, then copied into the guest in one checked write. */
	uint8_t buf[ACPI_TABLES_MAX];
	const size_t xsdt_off = acpi_align(sizeof(struct acpi_rsdp));
	const size_t fadt_off = acpi_align(xsdt_off + sizeof(struct acpi_header) + 2 * sizeof(uint64_t));
	const size_t madt_off = acpi_align(fadt_off + sizeof(struct acpi_fadt));
	struct acpi_rsdp rsdp = { .revision = RSDP_REVISION, .length = sizeof(rsdp),
				  .xsdt_address = LAYOUT_ACPI_START + xsdt_off };
	struct acpi_header xsdt = { .length = 0 }, dsdt = { .length = 0 };
	struct acpi_fadt fadt = { .firmware_ctrl = 0 };
	uint64_t entries[2] = { LAYOUT_ACPI_START + fadt_off, LAYOUT_ACPI_START + madt_off };
	size_t dsdt_off, end, tables[4];
	struct aml a;
	int ret = acpi_check(cfg);

	_Static_assert(ACPI_TABLES_MAX <= LAYOUT_ACPI_MAX, "the tables' buffer fits their region");
	_Static_assert(LAYOUT_ACPI_RSDP == LAYOUT_ACPI_START, "the RSDP opens the tables");
	_Static_assert(LAYOUT_ACPI_START + LAYOUT_ACPI_MAX <= LAYOUT_MPTABLE_START,
		       "the ACPI tables stay below the MP table");
	_Static_assert(ACPI_MAX_CPUS <= MPTABLE_MAX_CPUS, "the MADT's CPUs are the MP table's");
	if (ret)
		return ret;
	memset(buf, 0, sizeof(buf));
	tables[0] = xsdt_off;
	tables[1] = fadt_off;
	tables[2] = madt_off;

	dsdt_off = acpi_align(madt_off + acpi_madt(buf + madt_off, cfg->vcpus));
	aml_init(&a, buf + dsdt_off + sizeof(dsdt), sizeof(buf) - dsdt_off - sizeof(dsdt));
	ret = acpi_dsdt_aml(&a, cfg);
	if (ret)
		return ret;
	end = dsdt_off + sizeof(dsdt) + a.len;
	acpi_header(&dsdt, "DSDT", DSDT_REVISION, end - dsdt_off);
	tables[3] = dsdt_off;
	memcpy(buf + dsdt_off, &dsdt, sizeof(dsdt));
	acpi_fadt(&fadt, LAYOUT_ACPI_START + dsdt_off);
	memcpy(buf + fadt_off, &fadt, sizeof(fadt));
	acpi_header(&xsdt, "XSDT", XSDT_REVISION, sizeof(xsdt) + sizeof(entries));
	memcpy(buf + xsdt_off, &xsdt, sizeof(xsdt));
	memcpy(buf + xsdt_off + sizeof(xsdt), entries, sizeof(entries));
	memcpy(rsdp.signature, "RSD PTR ", 8);
	memcpy(rsdp.oem_id, ACPI_OEM_ID, 6);
	memcpy(buf, &rsdp, sizeof(rsdp));

	/* Each table's checksum over its own length; the RSDP has two. */
	for (size_t i = 0; i < ARRAY_SIZE(tables); i++) {
		uint32_t len;

		memcpy(&len, buf + tables[i] + offsetof(struct acpi_header, length), sizeof(len));
		buf[tables[i] + offsetof(struct acpi_header, checksum)] = fwtable_checksum(buf + tables[i], len);
	}
	buf[offsetof(struct acpi_rsdp, checksum)] = fwtable_checksum(buf, ACPI_RSDP_V1_LENGTH);
	buf[offsetof(struct acpi_rsdp, extended_checksum)] = fwtable_checksum(buf, sizeof(rsdp));
	return gmem_write(mem, LAYOUT_ACPI_START, buf, end);
}
