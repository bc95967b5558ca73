#include "arch/x86/mptable.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "arch/x86/fwtable.h"
#include "arch/x86/layout.h"

/*
 * The spec's structures, as Linux reads them (arch/x86/include/asm/mpspec_def.h,
 * which is not exported to user space). Packed: the spec fixes every offset.
 */
struct mpf_intel {
	char signature[4];
	uint32_t physptr;
	uint8_t length;        /* in 16-byte paragraphs */
	uint8_t specification;
	uint8_t checksum;
	uint8_t feature1;
	uint8_t feature2;
	uint8_t feature3[3];
} __attribute__((packed));

struct mpc_table {
	char signature[4];
	uint16_t length;
	uint8_t spec;
	uint8_t checksum;
	char oem[8];
	char productid[12];
	uint32_t oemptr;
	uint16_t oemsize;
	uint16_t oemcount;
	uint32_t lapic;
	uint32_t reserved;
} __attribute__((packed));

struct mpc_cpu {
	uint8_t type;
	uint8_t apicid;
	uint8_t apicver;
	uint8_t cpuflag;
	uint32_t cpufeature;
	uint32_t featureflag;
	uint32_t reserved[2];
} __attribute__((packed));

struct mpc_bus {
	uint8_t type;
	uint8_t busid;
	char bustype[6];
} __attribute__((packed));

struct mpc_ioapic {
	uint8_t type;
	uint8_t apicid;
	uint8_t apicver;
	uint8_t flags;
	uint32_t apicaddr;
} __attribute__((packed));

/* Both interrupt entry kinds (I/O and local) share this layout. */
struct mpc_intsrc {
	uint8_t type;
	uint8_t irqtype;
	uint16_t irqflag;
	uint8_t srcbus;
	uint8_t srcbusirq;
	uint8_t dstapic;
	uint8_t dstirq;
} __attribute__((packed));

_Static_assert(sizeof(struct mpf_intel) == 16, "MP floating pointer is 16 bytes");
_Static_assert(sizeof(struct mpc_table) == 44, "MP config header is 44 bytes");
_Static_assert(sizeof(struct mpc_cpu) == 20, "processor entry is 20 bytes");
_Static_assert(sizeof(struct mpc_bus) == 8, "bus entry is 8 bytes");
_Static_assert(sizeof(struct mpc_ioapic) == 8, "IOAPIC entry is 8 bytes");
_Static_assert(sizeof(struct mpc_intsrc) == 8, "interrupt entry is 8 bytes");

enum {
	MP_PROCESSOR = 0,
	MP_BUS = 1,
	MP_IOAPIC = 2,
	MP_INTSRC = 3,
	MP_LINTSRC = 4,
};

#define MP_SPEC_REV 4           /* 1.4 */
#define CPU_ENABLED 1
#define CPU_BOOTPROCESSOR 2
#define APIC_VERSION 0x14       /* an integrated xAPIC, as KVM's LAPIC reports */
#define MPC_APIC_USABLE 1
#define MP_IRQ_INT 0
#define MP_IRQ_NMI 1
#define MP_IRQ_EXTINT 3
#define MP_IRQFLAG_DEFAULT 0    /* conforms to the bus: ISA is edge, active high */
#define MP_APIC_ALL 0xff
#define ISA_BUS_ID 0
/* family 6 with the FPU and APIC feature bits, a neutral signature for every CPU */
#define CPU_SIGNATURE 0x600
#define CPU_FEATURES 0x201

uint64_t mptable_size(unsigned int ncpus)
{
	return sizeof(struct mpf_intel) + sizeof(struct mpc_table) +
	       (uint64_t)ncpus * sizeof(struct mpc_cpu) + sizeof(struct mpc_bus) +
	       sizeof(struct mpc_ioapic) + MPTABLE_IOAPIC_PINS * sizeof(struct mpc_intsrc) +
	       2 * sizeof(struct mpc_intsrc);
}

int mptable_write(const struct gmem *mem, unsigned int ncpus)
{
	/* Built in a local buffer, checksummed, then copied into the guest in one checked write. */
	uint8_t buf[sizeof(struct mpf_intel) + sizeof(struct mpc_table) +
		    MPTABLE_MAX_CPUS * sizeof(struct mpc_cpu) + sizeof(struct mpc_bus) +
		    sizeof(struct mpc_ioapic) + (MPTABLE_IOAPIC_PINS + 2) * sizeof(struct mpc_intsrc)];
	const uint8_t ioapic_id = (uint8_t)ncpus;
	const size_t table_off = sizeof(struct mpf_intel);
	size_t off = table_off + sizeof(struct mpc_table);
	struct mpf_intel mpf = { 0 };
	struct mpc_table table = { 0 };
	uint64_t size = mptable_size(ncpus);

	_Static_assert(MPTABLE_MAX_CPUS < MP_APIC_ALL, "APIC IDs must stay below the broadcast ID");
	_Static_assert(LAYOUT_VIRTIO_IRQ_LAST < MPTABLE_IOAPIC_PINS, "every virtio IRQ is routed");
	if (ncpus == 0 || ncpus > MPTABLE_MAX_CPUS || size > LAYOUT_MPTABLE_MAX)
		return -EINVAL;
	memset(buf, 0, sizeof(buf));

	for (unsigned int i = 0; i < ncpus; i++) {
		struct mpc_cpu cpu = {
			.type = MP_PROCESSOR,
			.apicid = (uint8_t)i,
			.apicver = APIC_VERSION,
			.cpuflag = CPU_ENABLED | (i == 0 ? CPU_BOOTPROCESSOR : 0),
			.cpufeature = CPU_SIGNATURE,
			.featureflag = CPU_FEATURES,
		};
		fwtable_put(buf, &off, &cpu, sizeof(cpu));
	}
	struct mpc_bus bus = { .type = MP_BUS, .busid = ISA_BUS_ID, .bustype = { 'I', 'S', 'A', ' ', ' ', ' ' } };
	fwtable_put(buf, &off, &bus, sizeof(bus));
	struct mpc_ioapic ioapic = {
		.type = MP_IOAPIC,
		.apicid = ioapic_id,
		.apicver = APIC_VERSION,
		.flags = MPC_APIC_USABLE,
		.apicaddr = (uint32_t)LAYOUT_IOAPIC_ADDR,
	};
	fwtable_put(buf, &off, &ioapic, sizeof(ioapic));
	/* IRQ n arrives on IOAPIC pin n: KVM's in-kernel IOAPIC routes GSI n to pin n. */
	for (uint8_t irq = 0; irq < MPTABLE_IOAPIC_PINS; irq++) {
		struct mpc_intsrc src = {
			.type = MP_INTSRC,
			.irqtype = MP_IRQ_INT,
			.irqflag = MP_IRQFLAG_DEFAULT,
			.srcbus = ISA_BUS_ID,
			.srcbusirq = irq,
			.dstapic = ioapic_id,
			.dstirq = irq,
		};
		fwtable_put(buf, &off, &src, sizeof(src));
	}
	/* LINT0 takes the PIC's ExtINT, LINT1 the NMI, on every local APIC. */
	struct mpc_intsrc lint0 = {
		.type = MP_LINTSRC, .irqtype = MP_IRQ_EXTINT, .irqflag = MP_IRQFLAG_DEFAULT,
		.srcbus = ISA_BUS_ID, .srcbusirq = 0, .dstapic = MP_APIC_ALL, .dstirq = 0,
	};
	struct mpc_intsrc lint1 = {
		.type = MP_LINTSRC, .irqtype = MP_IRQ_NMI, .irqflag = MP_IRQFLAG_DEFAULT,
		.srcbus = ISA_BUS_ID, .srcbusirq = 0, .dstapic = MP_APIC_ALL, .dstirq = 1,
	};
	fwtable_put(buf, &off, &lint0, sizeof(lint0));
	fwtable_put(buf, &off, &lint1, sizeof(lint1));

	memcpy(table.signature, "PCMP", 4);
	table.length = (uint16_t)(off - table_off);
	table.spec = MP_SPEC_REV;
	memcpy(table.oem, "MICROVM ", 8);
	memcpy(table.productid, "MICROVM     ", 12);
	table.oemcount = (uint16_t)(ncpus + 1 + 1 + MPTABLE_IOAPIC_PINS + 2);
	table.lapic = (uint32_t)LAYOUT_LAPIC_ADDR;
	memcpy(buf + table_off, &table, sizeof(table));
	buf[table_off + offsetof(struct mpc_table, checksum)] =
		fwtable_checksum(buf + table_off, table.length);

	memcpy(mpf.signature, "_MP_", 4);
	mpf.physptr = (uint32_t)(LAYOUT_MPTABLE_START + table_off);
	mpf.length = 1;
	mpf.specification = MP_SPEC_REV;
	memcpy(buf, &mpf, sizeof(mpf));
	buf[offsetof(struct mpf_intel, checksum)] = fwtable_checksum(buf, sizeof(mpf));

	return gmem_write(mem, LAYOUT_MPTABLE_START, buf, off);
}
