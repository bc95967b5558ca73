/*
 * The tiny test guest: a freestanding x86-64 "kernel" that reports, one
 * `key: value` line per fact on COM1, what the VMM gave it (CPU mode, GDT,
 * zero page, e820 map, command line, initrd, MP table, secondary CPUs), with
 * tiny.wait=1 waits for a byte on COM1, with tiny.virtio=1 drives the
 * virtio-mmio devices on its command line, then resets through the i8042. The line format is documented in README.md;
 * integration tests grep for it, so keep it stable.
 *
 * Runs entirely in long mode on the VMM's identity map of the first 4 GiB.
 * Only plain instructions: no SSE, no popcnt, nothing the PVM host's
 * instruction emulator lacks (docs/HOST-KVM.md). Every loop is bounded.
 */
#include <stdarg.h>
#include <stdint.h>

#include "tiny.h"

#ifndef TINY_FORMAT
#error "build with -DTINY_FORMAT='\"elf\"' or '\"bzimage\"'"
#endif

/* I/O ports. */
#define COM1_THR 0x3f8
#define COM1_RBR 0x3f8
#define COM1_LSR 0x3fd
#define COM1_LSR_DATA_READY 0x01
#define COM1_LSR_THR_EMPTY 0x20
#define I8042_COMMAND 0x64
#define I8042_CMD_RESET 0xfe

/* Everything below 4 GiB is identity-mapped by the VMM. */

/* The zero page (struct boot_params, <asm/bootparam.h>): offsets we read. */
#define BP_EXT_RAMDISK_IMAGE 0x0c0 /* u32, high half of ramdisk_image */
#define BP_EXT_RAMDISK_SIZE 0x0c4  /* u32 */
#define BP_EXT_CMD_LINE_PTR 0x0c8  /* u32 */
#define BP_E820_ENTRIES 0x1e8      /* u8 */
#define BP_BOOT_FLAG 0x1fe         /* u16, hdr.boot_flag */
#define BP_HEADER 0x202            /* u32, hdr.header */
#define BP_TYPE_OF_LOADER 0x210    /* u8 */
#define BP_RAMDISK_IMAGE 0x218     /* u32 */
#define BP_RAMDISK_SIZE 0x21c      /* u32 */
#define BP_CMD_LINE_PTR 0x228      /* u32 */
#define BP_CMDLINE_SIZE 0x238      /* u32 */
#define BP_E820_TABLE 0x2d0        /* struct boot_e820_entry[128], 20 bytes each */
#define BP_SIZE 0x1000
#define E820_ENTRY_SIZE 20
#define E820_MAX_ENTRIES 128
#define HDRS_MAGIC 0x53726448u /* "HdrS" */
#define EXPECTED_ZERO_PAGE 0x7000u
#define CMDLINE_MAX 4096u

/* Intel MultiProcessor Specification 1.4. */
#define MPF_SIZE 16
#define MPC_HEADER_SIZE 44
#define MPC_PROCESSOR 0
#define MPC_PROCESSOR_SIZE 20
#define MPC_OTHER_SIZE 8 /* bus, I/O APIC, I/O and local interrupt entries */
#define MPC_CPU_ENABLED 0x01
#define MAX_CPUS 256

/* Local xAPIC (MMIO) and the AP start-up. */
#define LAPIC_DEFAULT_BASE 0xfee00000u
#define LAPIC_ID 0x020
#define LAPIC_SVR 0x0f0
#define LAPIC_ICR_LOW 0x300
#define LAPIC_ICR_HIGH 0x310
#define LAPIC_SVR_ENABLE 0x100
#define ICR_DELIVERY_PENDING 0x1000
#define ICR_INIT_ASSERT 0x0000c500u   /* INIT, level-triggered, assert */
#define ICR_INIT_DEASSERT 0x00008500u /* INIT, level-triggered, de-assert */
#define ICR_STARTUP 0x00000600u       /* SIPI; the low 8 bits are the vector page */
/*
 * The SIPI vector page: free RAM below 1 MiB that the VMM does not use (it
 * owns 0x500-0xefff, 0x20000 and 0x9fc00 up). Its counter offset must match
 * TRAMP_COUNTER_OFFSET in entry.S.
 */
#define TRAMP_PAGE 0x10000u
#define TRAMP_COUNTER_OFFSET 0x800u
/*
 * Bounds of the start-up delays, in `pause` iterations: about 2 us each under
 * the PVM host's instruction emulator, 10-100 times less on hardware KVM.
 */
#define SPIN_IPI_DELIVERY 10000u
#define SPIN_AFTER_INIT 10000u
#define SPIN_AFTER_SIPI 2000u
/*
 * The wait for the APs ends when all have checked in, or after 2^32 TSC ticks
 * (1-4 s for a 1-4 GHz TSC, emulated or not), or, should the TSC not move,
 * after 2^28 iterations.
 */
#define AP_WAIT_TSC_TICKS (1ULL << 32)
#define AP_WAIT_MAX_SPINS (1u << 28)
/* LSR polls per character before we stop waiting for the UART at all. */
#define SPIN_UART 100000u
/* Polls of COM1 for a byte with tiny.wait=1: minutes, even with every poll emulated. */
#define SPIN_WAIT_INPUT 100000000u

extern const uint8_t tiny_trampoline_start[], tiny_trampoline_end[];

/* ---- COM1 output and a minimal printf ---- */

static int uart_dead; /* set once the LSR never reported THR empty */

void uart_putc(char c)
{
	uint32_t i;

	for (i = 0; !uart_dead; i++) {
		if (inb(COM1_LSR) & COM1_LSR_THR_EMPTY)
			break;
		if (i == SPIN_UART)
			uart_dead = 1;
	}
	outb(COM1_THR, (uint8_t)c);
}

static void put_str(const char *s)
{
	while (*s)
		uart_putc(*s++);
}

/* Unsigned number in base 10 or 16, at least `width` digits, zero-padded. */
static void put_num(uint64_t v, unsigned int base, int width)
{
	char buf[24];
	int n = 0;

	do {
		buf[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v && n < (int)sizeof(buf));
	while (n < width && n < (int)sizeof(buf))
		buf[n++] = '0';
	while (n > 0)
		uart_putc(buf[--n]);
}

/*
 * Supports %s %c %u %x %lu %lx, with an optional zero-pad width (%08x). That
 * is all the report needs; anything else is printed verbatim.
 */
void kprintf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	for (; *fmt; fmt++) {
		int width = 0, is_long = 0;
		uint64_t v;

		if (*fmt != '%') {
			uart_putc(*fmt);
			continue;
		}
		fmt++;
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (*fmt++ - '0');
		if (*fmt == 'l') {
			is_long = 1;
			fmt++;
		}
		switch (*fmt) {
		case 's':
			put_str(va_arg(ap, const char *));
			break;
		case 'c':
			uart_putc((char)va_arg(ap, int));
			break;
		case 'u':
		case 'x':
			v = is_long ? va_arg(ap, uint64_t) : va_arg(ap, unsigned int);
			put_num(v, *fmt == 'u' ? 10 : 16, width);
			break;
		case '%':
			uart_putc('%');
			break;
		case '\0':
			va_end(ap);
			return;
		default:
			uart_putc('%');
			uart_putc(*fmt);
			break;
		}
	}
	va_end(ap);
}


/* ---- 3. CPU mode ---- */

#define MSR_EFER 0xc0000080u
#define EFER_LMA (1ULL << 10)
#define CR0_PG (1ULL << 31)
#define CR4_PAE (1ULL << 5)

static void report_long_mode(void)
{
	uint64_t efer = rdmsr(MSR_EFER), cr0 = read_cr0(), cr4 = read_cr4();

	if ((efer & EFER_LMA) && (cr0 & CR0_PG) && (cr4 & CR4_PAE))
		kprintf("long-mode: yes\n");
	else
		kprintf("long-mode: no efer=0x%lx cr0=0x%lx cr4=0x%lx\n", efer, cr0, cr4);
}

/* ---- 4. GDT and CS ---- */

#define DESC_L (1ULL << 53)

static void report_gdt(void)
{
	struct __attribute__((packed)) {
		uint16_t limit;
		uint64_t base;
	} gdtr;
	uint16_t cs;
	uint64_t off;

	__asm__ volatile("sgdt %0" : "=m"(gdtr));
	__asm__ volatile("mov %%cs, %0" : "=r"(cs));
	off = (uint64_t)(cs & ~7u);
	kprintf("gdt: base=0x%lx limit=0x%x cs=0x%x ", gdtr.base, gdtr.limit, cs);
	/* The descriptor's 8 bytes must lie inside the limit and the map. */
	if ((cs & 4) || off + 7 > gdtr.limit || !phys_mapped(gdtr.base, off + 8))
		kprintf("l=?\n");
	else
		kprintf("l=%u\n", (phys_read64(gdtr.base + off) & DESC_L) ? 1u : 0u);
}

/* ---- 5. zero page ---- */

static int report_zero_page(uint64_t zp)
{
	uint16_t flag;
	uint32_t hdr;
	uint8_t loader;

	if (zp == 0 || !phys_mapped(zp, BP_SIZE)) {
		kprintf("zero-page: rsi=0x%lx\n", zp);
		kprintf("zero-page: bad rsi unmapped\n");
		return -1;
	}
	flag = phys_read16(zp + BP_BOOT_FLAG);
	hdr = phys_read32(zp + BP_HEADER);
	loader = phys_read8(zp + BP_TYPE_OF_LOADER);
	kprintf("zero-page: rsi=0x%lx boot_flag=0x%x header=%c%c%c%c loader=0x%x\n", zp, flag,
		printable((uint8_t)hdr), printable((uint8_t)(hdr >> 8)),
		printable((uint8_t)(hdr >> 16)), printable((uint8_t)(hdr >> 24)), loader);
	if (zp == EXPECTED_ZERO_PAGE && flag == 0xaa55 && hdr == HDRS_MAGIC && loader == 0xff) {
		kprintf("zero-page: ok\n");
	} else {
		kprintf("zero-page: bad%s%s%s%s\n", zp != EXPECTED_ZERO_PAGE ? " rsi" : "",
			flag != 0xaa55 ? " boot_flag" : "", hdr != HDRS_MAGIC ? " header" : "",
			loader != 0xff ? " loader" : "");
	}
	return 0;
}

/* ---- 6. e820 ---- */

static void report_e820(uint64_t zp)
{
	unsigned int n = phys_read8(zp + BP_E820_ENTRIES), i;

	kprintf("e820: entries=%u\n", n);
	if (n > E820_MAX_ENTRIES)
		n = E820_MAX_ENTRIES;
	for (i = 0; i < n; i++) {
		uint64_t e = zp + BP_E820_TABLE + (uint64_t)i * E820_ENTRY_SIZE;

		kprintf("e820: addr=0x%lx size=0x%lx type=%u\n", phys_read64(e), phys_read64(e + 8),
			phys_read32(e + 16));
	}
}

/* ---- 7. command line ---- */

void report_cmdline(uint64_t ptr, uint32_t max)
{
	uint32_t i;

	kprintf("cmdline: ");
	if (ptr != 0 && phys_mapped(ptr, max)) {
		for (i = 0; i < max; i++) {
			uint8_t c = phys_read8(ptr + i);

			if (c == 0)
				break;
			uart_putc(printable(c));
		}
	}
	kprintf("\n");
}

/* ---- 8. initrd ---- */

#define FNV32_OFFSET 0x811c9dc5u
#define FNV32_PRIME 0x01000193u
#define INITRD_HEAD 8

void report_initrd(uint64_t addr, uint64_t size)
{
	uint32_t h = FNV32_OFFSET;
	uint64_t i;

	if (addr == 0 || size == 0) {
		kprintf("initrd: none\n");
		return;
	}
	if (!phys_mapped(addr, size)) {
		kprintf("initrd: addr=0x%lx size=0x%lx unmapped\n", addr, size);
		return;
	}
	/*
	 * One load per 8 bytes, then the bytes in order from the register:
	 * every instruction is emulated on PVM hosts, memory operands most
	 * expensively.
	 */
	for (i = 0; size - i >= 8; i += 8) {
		uint64_t w = phys_read64(addr + i);

		h = (h ^ (uint8_t)w) * FNV32_PRIME;
		h = (h ^ (uint8_t)(w >> 8)) * FNV32_PRIME;
		h = (h ^ (uint8_t)(w >> 16)) * FNV32_PRIME;
		h = (h ^ (uint8_t)(w >> 24)) * FNV32_PRIME;
		h = (h ^ (uint8_t)(w >> 32)) * FNV32_PRIME;
		h = (h ^ (uint8_t)(w >> 40)) * FNV32_PRIME;
		h = (h ^ (uint8_t)(w >> 48)) * FNV32_PRIME;
		h = (h ^ (uint8_t)(w >> 56)) * FNV32_PRIME;
	}
	for (; i < size; i++)
		h = (h ^ phys_read8(addr + i)) * FNV32_PRIME;
	kprintf("initrd: addr=0x%lx size=0x%lx fnv1a=0x%08x head=", addr, size, h);
	for (i = 0; i < size && i < INITRD_HEAD; i++)
		kprintf("%02x", phys_read8(addr + i));
	kprintf("\n");
}

/* ---- 9. MP table ---- */

struct mp_info {
	unsigned int cpus;          /* enabled processor entries */
	uint8_t apic_ids[MAX_CPUS]; /* their local APIC IDs (the first MAX_CPUS) */
	uint32_t lapic_base;
};

static uint8_t phys_sum8(uint64_t pa, uint64_t len)
{
	uint8_t sum = 0;
	uint64_t i;

	for (i = 0; i < len; i++)
		sum = (uint8_t)(sum + phys_read8(pa + i));
	return sum;
}

/* A valid "_MP_" floating pointer structure in [start, end), or 0. */
static uint64_t mpf_search(uint64_t start, uint64_t end)
{
	uint64_t p;

	for (p = start; p + MPF_SIZE <= end; p += 16) {
		uint8_t len = phys_read8(p + 8);

		if (phys_read32(p) != 0x5f504d5fu) /* "_MP_" */
			continue;
		if (len == 1 && phys_sum8(p, MPF_SIZE) == 0)
			return p;
	}
	return 0;
}

static void report_mptable(struct mp_info *mp)
{
	uint64_t mpf, mpc, p, end;
	uint16_t len, count, i;

	mp->cpus = 0;
	mp->lapic_base = LAPIC_DEFAULT_BASE;
	mpf = mpf_search(0x9fc00, 0xa0000);
	if (!mpf)
		mpf = mpf_search(0xf0000, 0x100000);
	if (!mpf) {
		kprintf("mptable: none\n");
		goto out;
	}
	mpc = phys_read32(mpf + 4);
	if (mpc == 0 || !phys_mapped(mpc, MPC_HEADER_SIZE) || phys_read32(mpc) != 0x504d4350u) {
		kprintf("mptable: bad mpf=0x%lx config=0x%lx signature\n", mpf, mpc);
		goto out;
	}
	len = phys_read16(mpc + 4);
	count = phys_read16(mpc + 34);
	if (len < MPC_HEADER_SIZE || !phys_mapped(mpc, len) || phys_sum8(mpc, len) != 0) {
		kprintf("mptable: bad mpf=0x%lx config=0x%lx length=%u checksum\n", mpf, mpc, len);
		goto out;
	}
	if (phys_read32(mpc + 36) != 0)
		mp->lapic_base = phys_read32(mpc + 36);
	kprintf("mptable: mpf=0x%lx config=0x%lx length=%u entries=%u lapic=0x%x\n", mpf, mpc,
		len, count, mp->lapic_base);
	/* Walk at most `count` entries, never past the table's length. */
	end = mpc + len;
	p = mpc + MPC_HEADER_SIZE;
	for (i = 0; i < count && p < end; i++) {
		uint8_t type = phys_read8(p);

		if (type == MPC_PROCESSOR) {
			uint8_t id, flags;

			if (p + MPC_PROCESSOR_SIZE > end)
				break;
			id = phys_read8(p + 1);
			flags = phys_read8(p + 3);
			if (flags & MPC_CPU_ENABLED) {
				if (mp->cpus < MAX_CPUS)
					mp->apic_ids[mp->cpus] = id;
				mp->cpus++;
			}
			p += MPC_PROCESSOR_SIZE;
		} else if (type <= 4) {
			p += MPC_OTHER_SIZE;
		} else {
			kprintf("mptable: unknown entry type %u\n", type);
			break;
		}
	}
out:
	kprintf("cpus: %u\n", mp->cpus);
}

/* ---- 10. secondary CPU start-up (INIT, SIPI, SIPI) ---- */

static void spin(uint32_t n)
{
	while (n--)
		cpu_pause();
}

static uint32_t lapic_read(const struct mp_info *mp, uint32_t reg)
{
	return phys_read32((uint64_t)mp->lapic_base + reg);
}

static void lapic_write(const struct mp_info *mp, uint32_t reg, uint32_t v)
{
	phys_write32((uint64_t)mp->lapic_base + reg, v);
}

/* Send one IPI and wait, bounded, for the delivery status to clear. */
static void lapic_ipi(const struct mp_info *mp, uint8_t apic_id, uint32_t icr)
{
	uint32_t i;

	lapic_write(mp, LAPIC_ICR_HIGH, (uint32_t)apic_id << 24);
	lapic_write(mp, LAPIC_ICR_LOW, icr);
	for (i = 0; i < SPIN_IPI_DELIVERY; i++) {
		if (!(lapic_read(mp, LAPIC_ICR_LOW) & ICR_DELIVERY_PENDING))
			break;
		cpu_pause();
	}
}

/*
 * Start every enabled CPU of the MP table except ourselves. The BSP is told
 * apart by its local APIC ID, not by the table's BSP flag: an INIT sent to
 * ourselves would reset us.
 */
static void start_aps(const struct mp_info *mp)
{
	uint64_t len = (uint64_t)(tiny_trampoline_end - tiny_trampoline_start);
	uint64_t counter = TRAMP_PAGE + TRAMP_COUNTER_OFFSET;
	unsigned int i, round, n_ids, n_aps = 0;
	uint8_t self;
	uint32_t n = 0, spins;
	uint64_t t0;

	if (mp->cpus <= 1) {
		kprintf("cpus-started: 1\n");
		return;
	}
	for (i = 0; i < len; i++)
		phys_write8(TRAMP_PAGE + i, tiny_trampoline_start[i]);
	phys_write32(counter, 0);

	/* Software-enable the local APIC (spurious vector 0xff). */
	lapic_write(mp, LAPIC_SVR, lapic_read(mp, LAPIC_SVR) | LAPIC_SVR_ENABLE | 0xff);
	self = (uint8_t)(lapic_read(mp, LAPIC_ID) >> 24);
	n_ids = mp->cpus < MAX_CPUS ? mp->cpus : MAX_CPUS;
	for (i = 0; i < n_ids; i++)
		n_aps += mp->apic_ids[i] != self;
	kprintf("smp: bsp-apic-id=%u aps=%u trampoline=0x%x\n", self, n_aps, TRAMP_PAGE);

	/* INIT, then SIPI twice (MP spec B.4), each step to every AP in turn. */
	for (i = 0; i < n_ids; i++) {
		if (mp->apic_ids[i] == self)
			continue;
		lapic_ipi(mp, mp->apic_ids[i], ICR_INIT_ASSERT);
		lapic_ipi(mp, mp->apic_ids[i], ICR_INIT_DEASSERT);
	}
	spin(SPIN_AFTER_INIT);
	for (round = 0; round < 2; round++) {
		for (i = 0; i < n_ids; i++) {
			if (mp->apic_ids[i] != self)
				lapic_ipi(mp, mp->apic_ids[i], ICR_STARTUP | (TRAMP_PAGE >> 12));
		}
		spin(SPIN_AFTER_SIPI);
	}
	/* Wait, bounded, for every AP to check in. */
	t0 = rdtsc();
	for (spins = 0; spins < AP_WAIT_MAX_SPINS; spins++) {
		n = phys_read32(counter);
		if (n >= n_aps || rdtsc() - t0 >= AP_WAIT_TSC_TICKS)
			break;
		cpu_pause();
	}
	kprintf("cpus-started: %u\n", 1 + n);
}

/* ---- 11. virtio-mmio devices (only with tiny.virtio=1 on the command line) ---- */

#define VIRTIO_MAGIC 0x74726976u /* "virt" */
#define VIRTIO_MAX_DEVICES 8
#define VIRTIO_REG_MAGIC 0x000
#define VIRTIO_REG_VERSION 0x004
#define VIRTIO_REG_DEVICE_ID 0x008
#define VIRTIO_REG_DEVICE_FEATURES 0x010
#define VIRTIO_REG_DEVICE_FEATURES_SEL 0x014
#define VIRTIO_REG_DRIVER_FEATURES 0x020
#define VIRTIO_REG_DRIVER_FEATURES_SEL 0x024
#define VIRTIO_REG_QUEUE_SEL 0x030
#define VIRTIO_REG_QUEUE_NUM_MAX 0x034
#define VIRTIO_REG_QUEUE_NUM 0x038
#define VIRTIO_REG_QUEUE_READY 0x044
#define VIRTIO_REG_QUEUE_NOTIFY 0x050
#define VIRTIO_REG_STATUS 0x070
#define VIRTIO_REG_QUEUE_DESC 0x080
#define VIRTIO_REG_QUEUE_AVAIL 0x090
#define VIRTIO_REG_QUEUE_USED 0x0a0
#define VIRTIO_REG_CONFIG 0x100
#define VIRTIO_STATUS_ACK 1u
#define VIRTIO_STATUS_DRIVER 2u
#define VIRTIO_STATUS_DRIVER_OK 4u
#define VIRTIO_STATUS_FEATURES_OK 8u
#define VIRTIO_F_VERSION_1_HIGH 1u /* bit 32: bit 0 of the high word */
#define VIRTIO_ID_NET 1u
#define VIRTIO_ID_BLOCK 2u
#define VIRTIO_ID_RNG 4u
#define VIRTIO_BLK_F_RO (1u << 5)
#define VIRTIO_NET_F_MAC (1u << 5)
#define VIRTIO_BLK_T_IN 0u
#define VIRTIO_BLK_T_OUT 1u
#define VIRTIO_BLK_T_FLUSH 4u
#define VIRTIO_BLK_T_GET_ID 8u
#define VIRTIO_BLK_ID_BYTES 20u
#define VRING_DESC_F_NEXT 1u
#define VRING_DESC_F_WRITE 2u
/*
 * Queues of 8 entries in free RAM below the EBDA (the VMM uses 0x500-0xefff and
 * 0x20000-0x20fff; the AP trampoline 0x10000): 16 KiB per device from 0x40000.
 * In each: descriptors at +0, the avail ring at +0x200, the used ring at +0x400
 * (per queue, 0x800 apart), buffers from +0x2000.
 */
#define VQ_SIZE 8u
#define VQ_AREA 0x40000u
#define VQ_AREA_PER_DEVICE 0x4000u
#define VQ_QUEUE_STRIDE 0x800u
#define VQ_AVAIL 0x200u
#define VQ_USED 0x400u
#define VQ_BUFS 0x2000u
/*
 * The wait for the device to use a chain: 2^32 TSC ticks (1-4 s), or 2^28 polls if
 * the TSC does not move. The VMM serves blk, rng and net transmit within the
 * notification itself; net receive waits for a frame from the host.
 */
#define VIRTQ_WAIT_TSC_TICKS (1ULL << 32)
#define VIRTQ_WAIT_MAX_SPINS (1u << 28)
/* Frames the guest looks at before giving up on the host's. */
#define NET_RX_MAX_FRAMES 32u
#define NET_RX_BUF_LEN 1526u /* header + 1514 */
#define SECTOR_SIZE 512u
#define TEST_SECTOR 1u
#define NET_FRAME_LEN 60u
#define NET_HDR_LEN 12u

struct virtio_dev {
	uint64_t base;
	unsigned int irq;
	uint64_t area;           /* its rings and buffers */
	uint16_t avail_idx[2];
};

struct vq_buf {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;          /* VRING_DESC_F_WRITE or 0 */
};

static inline void phys_write16(uint64_t pa, uint16_t v)
{
	*(volatile uint16_t *)(uintptr_t)pa = v;
}

static inline void phys_write64(uint64_t pa, uint64_t v)
{
	*(volatile uint64_t *)(uintptr_t)pa = v;
}

static uint32_t vio_read(const struct virtio_dev *d, uint32_t reg)
{
	return phys_read32(d->base + reg);
}

static void vio_write(const struct virtio_dev *d, uint32_t reg, uint32_t v)
{
	phys_write32(d->base + reg, v);
}

int cmdline_has(uint64_t cmdline, uint32_t max, const char *word)
{
	uint32_t i, j;

	for (i = 0; i < max; i++) {
		if (phys_read8(cmdline + i) == 0)
			return 0;
		if (i > 0 && phys_read8(cmdline + i - 1) != ' ')
			continue;
		for (j = 0; word[j] && i + j < max && phys_read8(cmdline + i + j) == (uint8_t)word[j]; j++)
			;
		if (word[j] == 0 && (i + j >= max || phys_read8(cmdline + i + j) == ' ' ||
				     phys_read8(cmdline + i + j) == 0))
			return 1;
	}
	return 0;
}

/* Reads a number in base 10 or 16 at cmdline + *i; advances *i past it. */
static uint64_t cmdline_number(uint64_t cmdline, uint32_t max, uint32_t *i, unsigned int base)
{
	uint64_t v = 0;

	for (; *i < max; (*i)++) {
		uint8_t c = phys_read8(cmdline + *i);
		unsigned int digit;

		if (c >= '0' && c <= '9')
			digit = c - '0';
		else if (base == 16 && c >= 'a' && c <= 'f')
			digit = c - 'a' + 10;
		else
			break;
		v = v * base + digit;
	}
	return v;
}

/* Every virtio_mmio.device=SIZE@0xADDR:IRQ on the command line, at most `max`. */
static unsigned int find_virtio(uint64_t cmdline, uint32_t max, struct virtio_dev *devs,
				unsigned int max_devs)
{
	static const char key[] = "virtio_mmio.device=";
	unsigned int n = 0;
	uint32_t i, j;

	for (i = 0; i < max && n < max_devs; i++) {
		if (phys_read8(cmdline + i) == 0)
			break;
		for (j = 0; key[j] && i + j < max && phys_read8(cmdline + i + j) == (uint8_t)key[j]; j++)
			;
		if (key[j])
			continue;
		for (i += j; i < max && phys_read8(cmdline + i) != '@' && phys_read8(cmdline + i) > ' '; i++)
			;
		if (i + 3 >= max || phys_read8(cmdline + i + 1) != '0' || phys_read8(cmdline + i + 2) != 'x')
			continue;
		i += 3;
		devs[n].base = cmdline_number(cmdline, max, &i, 16);
		if (i >= max || phys_read8(cmdline + i) != ':')
			continue;
		i++;
		devs[n].irq = (unsigned int)cmdline_number(cmdline, max, &i, 10);
		devs[n].area = VQ_AREA + (uint64_t)n * VQ_AREA_PER_DEVICE;
		devs[n].avail_idx[0] = devs[n].avail_idx[1] = 0;
		n++;
	}
	return n;
}

static uint64_t vq_base(const struct virtio_dev *d, unsigned int q)
{
	return d->area + (uint64_t)q * VQ_QUEUE_STRIDE;
}

/* Reset, negotiate VERSION_1 only, set up queues 0..nq-1, DRIVER_OK. Returns the device features' low word, or -1. */
static int64_t virtio_setup(struct virtio_dev *d, unsigned int nq)
{
	uint32_t low, high;
	unsigned int q;

	vio_write(d, VIRTIO_REG_STATUS, 0);
	vio_write(d, VIRTIO_REG_STATUS, VIRTIO_STATUS_ACK);
	vio_write(d, VIRTIO_REG_STATUS, VIRTIO_STATUS_ACK | VIRTIO_STATUS_DRIVER);
	vio_write(d, VIRTIO_REG_DEVICE_FEATURES_SEL, 1);
	high = vio_read(d, VIRTIO_REG_DEVICE_FEATURES);
	vio_write(d, VIRTIO_REG_DEVICE_FEATURES_SEL, 0);
	low = vio_read(d, VIRTIO_REG_DEVICE_FEATURES);
	if (!(high & VIRTIO_F_VERSION_1_HIGH))
		return -1;
	vio_write(d, VIRTIO_REG_DRIVER_FEATURES_SEL, 1);
	vio_write(d, VIRTIO_REG_DRIVER_FEATURES, VIRTIO_F_VERSION_1_HIGH);
	vio_write(d, VIRTIO_REG_DRIVER_FEATURES_SEL, 0);
	vio_write(d, VIRTIO_REG_DRIVER_FEATURES, 0);
	vio_write(d, VIRTIO_REG_STATUS, VIRTIO_STATUS_ACK | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
	if (!(vio_read(d, VIRTIO_REG_STATUS) & VIRTIO_STATUS_FEATURES_OK))
		return -1;
	for (q = 0; q < nq; q++) {
		uint64_t base = vq_base(d, q);
		uint32_t i;

		for (i = 0; i < VQ_QUEUE_STRIDE; i += 4)
			phys_write32(base + i, 0);
		vio_write(d, VIRTIO_REG_QUEUE_SEL, q);
		if (vio_read(d, VIRTIO_REG_QUEUE_NUM_MAX) < VQ_SIZE)
			return -1;
		vio_write(d, VIRTIO_REG_QUEUE_NUM, VQ_SIZE);
		vio_write(d, VIRTIO_REG_QUEUE_DESC, (uint32_t)base);
		vio_write(d, VIRTIO_REG_QUEUE_DESC + 4, (uint32_t)(base >> 32));
		vio_write(d, VIRTIO_REG_QUEUE_AVAIL, (uint32_t)(base + VQ_AVAIL));
		vio_write(d, VIRTIO_REG_QUEUE_AVAIL + 4, (uint32_t)((base + VQ_AVAIL) >> 32));
		vio_write(d, VIRTIO_REG_QUEUE_USED, (uint32_t)(base + VQ_USED));
		vio_write(d, VIRTIO_REG_QUEUE_USED + 4, (uint32_t)((base + VQ_USED) >> 32));
		vio_write(d, VIRTIO_REG_QUEUE_READY, 1);
	}
	vio_write(d, VIRTIO_REG_STATUS, VIRTIO_STATUS_ACK | VIRTIO_STATUS_DRIVER |
					     VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
	return low;
}

/*
 * Puts one chain in descriptors 0..n-1 of queue q, notifies, and waits (bounded)
 * for the device to use it. Returns the used length, or -1 if it never came.
 */
static int64_t virtq_run(struct virtio_dev *d, unsigned int q, const struct vq_buf *bufs,
			 unsigned int n)
{
	uint64_t base = vq_base(d, q);
	uint16_t idx = d->avail_idx[q];
	unsigned int i;
	uint32_t spins;
	uint64_t t0;

	for (i = 0; i < n; i++) {
		uint64_t desc = base + 16ULL * i;

		phys_write64(desc, bufs[i].addr);
		phys_write32(desc + 8, bufs[i].len);
		phys_write16(desc + 12, (uint16_t)(bufs[i].flags | (i + 1 < n ? VRING_DESC_F_NEXT : 0)));
		phys_write16(desc + 14, (uint16_t)(i + 1));
	}
	phys_write16(base + VQ_AVAIL + 4 + 2u * (idx % VQ_SIZE), 0);
	idx++;
	phys_write16(base + VQ_AVAIL + 2, idx);
	d->avail_idx[q] = idx;
	vio_write(d, VIRTIO_REG_QUEUE_NOTIFY, q);
	t0 = rdtsc();
	for (spins = 0; spins < VIRTQ_WAIT_MAX_SPINS; spins++) {
		if (phys_read16(base + VQ_USED + 2) == idx)
			return phys_read32(base + VQ_USED + 4 + 8u * ((idx - 1u) % VQ_SIZE) + 4);
		if (rdtsc() - t0 >= VIRTQ_WAIT_TSC_TICKS)
			break;
		cpu_pause();
	}
	return -1;
}

/* One block request: header, optional data, status. Returns the status byte, or 0xff. */
static unsigned int blk_request(struct virtio_dev *d, uint32_t type, uint64_t sector,
				uint32_t data_len, int device_writes)
{
	uint64_t hdr = d->area + VQ_BUFS, status = hdr + 0x100, data = hdr + 0x200;
	struct vq_buf bufs[3];
	unsigned int n = 0;

	phys_write32(hdr, type);
	phys_write32(hdr + 4, 0);
	phys_write64(hdr + 8, sector);
	phys_write8(status, 0xff);
	bufs[n++] = (struct vq_buf){ hdr, 16, 0 };
	if (data_len)
		bufs[n++] = (struct vq_buf){ data, data_len, device_writes ? VRING_DESC_F_WRITE : 0 };
	bufs[n++] = (struct vq_buf){ status, 1, VRING_DESC_F_WRITE };
	if (virtq_run(d, 0, bufs, n) < 0)
		return 0xff;
	return phys_read8(status);
}

static uint32_t fnv1a(uint64_t addr, uint32_t len)
{
	uint32_t h = FNV32_OFFSET, i;

	for (i = 0; i < len; i++)
		h = (h ^ phys_read8(addr + i)) * FNV32_PRIME;
	return h;
}

/* The sector the guest writes: its text marker, then a byte pattern. */
static uint8_t test_pattern(uint32_t i)
{
	static const char marker[] = "tiny virtio-blk sector 1";

	return i < sizeof(marker) - 1 ? (uint8_t)marker[i] : (uint8_t)(i * 13 + 7);
}

static void virtio_blk_test(struct virtio_dev *d)
{
	uint64_t data = d->area + VQ_BUFS + 0x200, capacity;
	int64_t features = virtio_setup(d, 1);
	unsigned int status, i;
	int match = 1;

	if (features < 0) {
		kprintf("virtio-blk: base=0x%lx setup failed\n", d->base);
		return;
	}
	capacity = vio_read(d, VIRTIO_REG_CONFIG) | ((uint64_t)vio_read(d, VIRTIO_REG_CONFIG + 4) << 32);
	for (i = 0; i <= VIRTIO_BLK_ID_BYTES; i++)
		phys_write8(data + i, 0);
	status = blk_request(d, VIRTIO_BLK_T_GET_ID, 0, VIRTIO_BLK_ID_BYTES, 1);
	kprintf("virtio-blk: base=0x%lx irq=%u capacity=%lu ro=%u id=", d->base, d->irq, capacity,
		(features & VIRTIO_BLK_F_RO) ? 1u : 0u);
	for (i = 0; status == 0 && i < VIRTIO_BLK_ID_BYTES && phys_read8(data + i); i++)
		uart_putc(printable(phys_read8(data + i)));
	kprintf("\n");

	for (i = 0; i < SECTOR_SIZE; i++)
		phys_write8(data + i, test_pattern(i));
	kprintf("virtio-blk: write sector=%u status=%u\n", TEST_SECTOR,
		blk_request(d, VIRTIO_BLK_T_OUT, TEST_SECTOR, SECTOR_SIZE, 0));
	kprintf("virtio-blk: flush status=%u\n", blk_request(d, VIRTIO_BLK_T_FLUSH, 0, 0, 0));
	for (i = 0; i < SECTOR_SIZE; i++)
		phys_write8(data + i, 0);
	status = blk_request(d, VIRTIO_BLK_T_IN, TEST_SECTOR, SECTOR_SIZE, 1);
	for (i = 0; i < SECTOR_SIZE; i++)
		match &= phys_read8(data + i) == test_pattern(i);
	kprintf("virtio-blk: read sector=%u status=%u fnv1a=0x%08x written=%s\n", TEST_SECTOR, status,
		fnv1a(data, SECTOR_SIZE), match ? "yes" : "no");
	kprintf("virtio-blk: read-past-end status=%u\n",
		blk_request(d, VIRTIO_BLK_T_IN, capacity, SECTOR_SIZE, 1));
}

static void virtio_rng_test(struct virtio_dev *d)
{
	uint64_t buf = d->area + VQ_BUFS;
	struct vq_buf b = { buf, 32, VRING_DESC_F_WRITE };
	unsigned int i, nonzero = 0;
	int64_t got;

	if (virtio_setup(d, 1) < 0) {
		kprintf("virtio-rng: base=0x%lx setup failed\n", d->base);
		return;
	}
	for (i = 0; i < 32; i++)
		phys_write8(buf + i, 0);
	got = virtq_run(d, 0, &b, 1);
	for (i = 0; i < 32; i++)
		nonzero += phys_read8(buf + i) != 0;
	kprintf("virtio-rng: base=0x%lx irq=%u bytes=%lu nonzero=%s\n", d->base, d->irq,
		(uint64_t)got, nonzero > 16 ? "yes" : "no");
}

/*
 * Offers receive buffers one at a time until a frame of EtherType 0x88b6 comes
 * from the host (others, such as the host's own IPv6 chatter, are skipped).
 */
static void virtio_net_receive(struct virtio_dev *d)
{
	uint64_t buf = d->area + VQ_BUFS + 0x800;
	struct vq_buf b = { buf, NET_RX_BUF_LEN, VRING_DESC_F_WRITE };
	unsigned int frames, i;

	for (frames = 0; frames < NET_RX_MAX_FRAMES; frames++) {
		int64_t len = virtq_run(d, 0, &b, 1);

		if (len < 0) {
			kprintf("virtio-net: rx timeout frames=%u\n", frames);
			return;
		}
		if (len < NET_HDR_LEN + 14 || phys_read8(buf + NET_HDR_LEN + 12) != 0x88 ||
		    phys_read8(buf + NET_HDR_LEN + 13) != 0xb6)
			continue;
		kprintf("virtio-net: rx len=%lu num_buffers=%u payload=", (uint64_t)len - NET_HDR_LEN,
			phys_read16(buf + 10));
		for (i = NET_HDR_LEN + 14; i < len && phys_read8(buf + i); i++)
			uart_putc(printable(phys_read8(buf + i)));
		kprintf("\n");
		return;
	}
	kprintf("virtio-net: rx none of %u frames\n", frames);
}

/*
 * Sends one broadcast frame of EtherType 0x88b5 (local experimental) through
 * queue 1; then, with tiny.net-rx=1, waits for one from the host on queue 0.
 */
static void virtio_net_test(struct virtio_dev *d, int rx)
{
	static const char payload[] = "microvm tiny guest frame";
	uint64_t frame = d->area + VQ_BUFS;
	struct vq_buf b = { frame, NET_HDR_LEN + NET_FRAME_LEN, 0 };
	int64_t features = virtio_setup(d, 2);
	uint8_t mac[6] = { 0x02, 0, 0, 0, 0, 0x01 };
	unsigned int i;

	if (features < 0) {
		kprintf("virtio-net: base=0x%lx setup failed\n", d->base);
		return;
	}
	if (features & VIRTIO_NET_F_MAC)
		for (i = 0; i < 6; i++)
			mac[i] = phys_read8(d->base + VIRTIO_REG_CONFIG + i);
	for (i = 0; i < NET_HDR_LEN + NET_FRAME_LEN; i++)
		phys_write8(frame + i, 0);
	for (i = 0; i < 6; i++) {
		phys_write8(frame + NET_HDR_LEN + i, 0xff);
		phys_write8(frame + NET_HDR_LEN + 6 + i, mac[i]);
	}
	phys_write8(frame + NET_HDR_LEN + 12, 0x88);
	phys_write8(frame + NET_HDR_LEN + 13, 0xb5);
	for (i = 0; i < sizeof(payload) - 1; i++)
		phys_write8(frame + NET_HDR_LEN + 14 + i, (uint8_t)payload[i]);
	kprintf("virtio-net: base=0x%lx irq=%u mac=%02x:%02x:%02x:%02x:%02x:%02x tx=%s\n", d->base,
		d->irq, mac[0], mac[1], mac[2], mac[3], mac[4], mac[5],
		virtq_run(d, 1, &b, 1) >= 0 ? "done" : "timeout");
	if (rx)
		virtio_net_receive(d);
}

/* The command line the zero page points at and its bound; 0 when there is none to read. */
static uint64_t zp_cmdline(uint64_t zp, uint32_t *max)
{
	uint64_t cmdline = phys_read32(zp + BP_CMD_LINE_PTR) |
			   ((uint64_t)phys_read32(zp + BP_EXT_CMD_LINE_PTR) << 32);

	*max = phys_read32(zp + BP_CMDLINE_SIZE);
	if (*max == 0 || *max > CMDLINE_MAX)
		*max = CMDLINE_MAX;
	return cmdline != 0 && phys_mapped(cmdline, *max) ? cmdline : 0;
}

/* The devices report_virtio set up: tiny.snapshot=1 uses their queues again afterwards. */
static struct virtio_dev virtio_devs[VIRTIO_MAX_DEVICES];
static unsigned int nr_virtio_devs;

static void report_virtio(uint64_t cmdline, uint32_t max)
{
	unsigned int n, i;

	if (cmdline == 0 || !cmdline_has(cmdline, max, "tiny.virtio=1"))
		return;
	n = nr_virtio_devs = find_virtio(cmdline, max, virtio_devs, VIRTIO_MAX_DEVICES);
	kprintf("virtio: devices=%u\n", n);
	for (i = 0; i < n; i++) {
		uint32_t id;

		if (vio_read(&virtio_devs[i], VIRTIO_REG_MAGIC) != VIRTIO_MAGIC ||
		    vio_read(&virtio_devs[i], VIRTIO_REG_VERSION) != 2) {
			kprintf("virtio: base=0x%lx not a version 2 virtio-mmio device\n", virtio_devs[i].base);
			continue;
		}
		id = vio_read(&virtio_devs[i], VIRTIO_REG_DEVICE_ID);
		if (id == VIRTIO_ID_BLOCK)
			virtio_blk_test(&virtio_devs[i]);
		else if (id == VIRTIO_ID_RNG)
			virtio_rng_test(&virtio_devs[i]);
		else if (id == VIRTIO_ID_NET)
			virtio_net_test(&virtio_devs[i], cmdline_has(cmdline, max, "tiny.net-rx=1"));
		else
			kprintf("virtio: base=0x%lx device-id=%u skipped\n", virtio_devs[i].base, id);
	}
}

/* ---- 12. a byte from the host (only with tiny.wait=1 on the command line) ---- */

/* Polls COM1 until a byte arrives: the guest stays busy, and the host decides when it goes on. */
static void wait_for_input(uint64_t cmdline, uint32_t max)
{
	uint32_t spins;

	if (cmdline == 0 || !cmdline_has(cmdline, max, "tiny.wait=1"))
		return;
	kprintf("wait: ready\n");
	for (spins = 0; spins < SPIN_WAIT_INPUT; spins++) {
		if (inb(COM1_LSR) & COM1_LSR_DATA_READY) {
			kprintf("wait: got 0x%x\n", inb(COM1_RBR));
			return;
		}
	}
	kprintf("wait: timeout\n");
}

/*
 * tiny.snapshot=1: the virtio devices first, then the wait (a snapshot is taken and
 * restored there), then one more read on each block device's queue as it was left:
 * the restored VMM must carry the queue's indices over.
 */
static void virtio_again(void)
{
	unsigned int i, j, match;

	for (i = 0; i < nr_virtio_devs; i++) {
		uint64_t data = virtio_devs[i].area + VQ_BUFS + 0x200;
		unsigned int status;

		if (vio_read(&virtio_devs[i], VIRTIO_REG_DEVICE_ID) != VIRTIO_ID_BLOCK)
			continue;
		for (j = 0; j < SECTOR_SIZE; j++)
			phys_write8(data + j, 0);
		status = blk_request(&virtio_devs[i], VIRTIO_BLK_T_IN, TEST_SECTOR, SECTOR_SIZE, 1);
		for (j = 0, match = 1; j < SECTOR_SIZE; j++)
			match &= phys_read8(data + j) == test_pattern(j);
		kprintf("virtio-blk: again base=0x%lx status=%u written=%s\n", virtio_devs[i].base, status,
			match ? "yes" : "no");
	}
}

/* ---- the report ---- */

void tiny_finish(uint64_t cmdline, uint32_t cmdline_max)
{
	struct mp_info mp;
	struct acpi_info acpi;

	report_mptable(&mp);
	start_aps(&mp);
	acpi_report(cmdline, cmdline_max, &acpi);
	if (cmdline != 0 && cmdline_has(cmdline, cmdline_max, "tiny.snapshot=1")) {
		report_virtio(cmdline, cmdline_max);
		wait_for_input(cmdline, cmdline_max);
		virtio_again();
	} else if (cmdline != 0) {
		wait_for_input(cmdline, cmdline_max);
		report_virtio(cmdline, cmdline_max);
	}
	kprintf("tiny: done\n");
	acpi_end(cmdline, cmdline_max, &acpi);
	outb(I8042_COMMAND, I8042_CMD_RESET);
	for (;;)
		__asm__ volatile("cli; hlt");
}

/* The 64-bit boot protocol's entry (entry.S), with the zero page. */
void tiny_main(uint64_t zero_page)
{
	uint64_t cmdline = 0;
	uint32_t max = 0;

	kprintf("tiny: hello format=%s\n", TINY_FORMAT);
	report_long_mode();
	report_gdt();
	if (report_zero_page(zero_page) == 0) {
		report_e820(zero_page);
		cmdline = zp_cmdline(zero_page, &max);
		report_cmdline(cmdline, max);
		report_initrd(phys_read32(zero_page + BP_RAMDISK_IMAGE) |
				      ((uint64_t)phys_read32(zero_page + BP_EXT_RAMDISK_IMAGE) << 32),
			      phys_read32(zero_page + BP_RAMDISK_SIZE) |
				      ((uint64_t)phys_read32(zero_page + BP_EXT_RAMDISK_SIZE) << 32));
	}
	tiny_finish(cmdline, max);
}
