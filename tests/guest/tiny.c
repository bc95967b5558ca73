/*
 * The tiny test guest: a freestanding x86-64 "kernel" that reports, one
 * `key: value` line per fact on COM1, what the VMM gave it (CPU mode, GDT,
 * zero page, e820 map, command line, initrd, MP table, secondary CPUs), then
 * resets through the i8042. The line format is documented in README.md;
 * integration tests grep for it, so keep it stable.
 *
 * Runs entirely in long mode on the VMM's identity map of the first 4 GiB.
 * Only plain instructions: no SSE, no popcnt, nothing the PVM host's
 * instruction emulator lacks (docs/HOST-KVM.md). Every loop is bounded.
 */
#include <stdarg.h>
#include <stdint.h>

#ifndef TINY_FORMAT
#error "build with -DTINY_FORMAT='\"elf\"' or '\"bzimage\"'"
#endif

/* I/O ports. */
#define COM1_THR 0x3f8
#define COM1_LSR 0x3fd
#define COM1_LSR_THR_EMPTY 0x20
#define I8042_COMMAND 0x64
#define I8042_CMD_RESET 0xfe

/* Everything below 4 GiB is identity-mapped by the VMM. */
#define IDENTITY_MAP_END 0x100000000ULL

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

extern const uint8_t tiny_trampoline_start[], tiny_trampoline_end[];
void tiny_main(uint64_t zero_page);

/* ---- port I/O, MSRs, control registers ---- */

static inline void outb(uint16_t port, uint8_t val)
{
	__asm__ volatile("outb %0, %1" : : "a"(val), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t val;

	__asm__ volatile("inb %1, %0" : "=a"(val) : "Nd"(port));
	return val;
}

static inline uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;

	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((uint64_t)hi << 32) | lo;
}

static inline uint64_t read_cr0(void)
{
	uint64_t v;

	__asm__ volatile("mov %%cr0, %0" : "=r"(v));
	return v;
}

static inline uint64_t read_cr4(void)
{
	uint64_t v;

	__asm__ volatile("mov %%cr4, %0" : "=r"(v));
	return v;
}

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

static inline void cpu_pause(void)
{
	__asm__ volatile("pause" ::: "memory");
}

/* Guest-physical memory: identity-mapped, read through volatile accesses. */
static inline uint8_t phys_read8(uint64_t pa)
{
	return *(volatile const uint8_t *)(uintptr_t)pa;
}

static inline uint16_t phys_read16(uint64_t pa)
{
	return *(volatile const uint16_t *)(uintptr_t)pa;
}

static inline uint32_t phys_read32(uint64_t pa)
{
	return *(volatile const uint32_t *)(uintptr_t)pa;
}

static inline uint64_t phys_read64(uint64_t pa)
{
	return *(volatile const uint64_t *)(uintptr_t)pa;
}

static inline void phys_write8(uint64_t pa, uint8_t v)
{
	*(volatile uint8_t *)(uintptr_t)pa = v;
}

static inline void phys_write32(uint64_t pa, uint32_t v)
{
	*(volatile uint32_t *)(uintptr_t)pa = v;
}

/* True if [pa, pa+len) lies inside the identity map. */
static int phys_mapped(uint64_t pa, uint64_t len)
{
	return pa <= IDENTITY_MAP_END && len <= IDENTITY_MAP_END - pa;
}

/* ---- COM1 output and a minimal printf ---- */

static int uart_dead; /* set once the LSR never reported THR empty */

static void uart_putc(char c)
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
__attribute__((format(printf, 1, 2))) static void kprintf(const char *fmt, ...)
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

/* One character of guest-provided text, kept on one printable line. */
static char printable(uint8_t c)
{
	return c >= 0x20 && c < 0x7f ? (char)c : '?';
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

static void report_cmdline(uint64_t zp)
{
	uint64_t ptr = phys_read32(zp + BP_CMD_LINE_PTR) |
		       ((uint64_t)phys_read32(zp + BP_EXT_CMD_LINE_PTR) << 32);
	uint32_t max = phys_read32(zp + BP_CMDLINE_SIZE), i;

	if (max == 0 || max > CMDLINE_MAX)
		max = CMDLINE_MAX;
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

static void report_initrd(uint64_t zp)
{
	uint64_t addr = phys_read32(zp + BP_RAMDISK_IMAGE) |
			((uint64_t)phys_read32(zp + BP_EXT_RAMDISK_IMAGE) << 32);
	uint64_t size = phys_read32(zp + BP_RAMDISK_SIZE) |
			((uint64_t)phys_read32(zp + BP_EXT_RAMDISK_SIZE) << 32);
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

/* ---- the report ---- */

void tiny_main(uint64_t zero_page)
{
	struct mp_info mp;

	kprintf("tiny: hello format=%s\n", TINY_FORMAT);
	report_long_mode();
	report_gdt();
	if (report_zero_page(zero_page) == 0) {
		report_e820(zero_page);
		report_cmdline(zero_page);
		report_initrd(zero_page);
	}
	report_mptable(&mp);
	start_aps(&mp);
	kprintf("tiny: done\n");
	outb(I8042_COMMAND, I8042_CMD_RESET);
	for (;;)
		__asm__ volatile("cli; hlt");
}
