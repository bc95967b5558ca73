/*
 * fuzz-seeds: writes the seed corpus of every fuzz target (make-corpus.sh
 * runs it).
 *
 *   fuzz-seeds OUTDIR [KERNEL...]
 *
 * OUTDIR/NAME/ gets, per harness NAME: the unit tests' synthetic images
 * (tests/unit/images.c), shrunk; each KERNEL (ELF vmlinux or bzImage) trimmed
 * to the bytes the loader parses plus the start of its code; boot frames
 * (boot_frame.h) of those kernels with and without an initrd; command lines
 * and jailer and microvm argument vectors; virtqueues and virtio driver scripts
 * (seeds_virtio.c); guest page tables and instructions (seeds_guest.c).
 */
#include <errno.h>
#include <linux/elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../unit/images.h"
#include "boot_frame.h"
#include "seeds.h"

/* Room for a trimmed kernel: headers, notes and a few KiB per segment. */
#define TRIM_MAX (64 * 1024)
/* Per PT_LOAD: file bytes kept (more if an entry point lies further in), and bss kept after them. */
#define TRIM_SEGMENT 0x1000
#define TRIM_BSS 0x1000
/* Protected-mode bytes kept from a bzImage: past the 64-bit entry at 0x200. */
#define TRIM_BZ_KERNEL 0x1000
#define XEN_ELFNOTE_PHYS32_ENTRY 18
#define ARGV_SEED_WORDS 24

static const char *outdir;

static void die_errno(const char *what)
{
	fprintf(stderr, "fuzz-seeds: %s: %s\n", what, strerror(errno));
	exit(1);
}

void write_seed(const char *target, const char *name, const void *data, size_t size)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", outdir, target);
	if (mkdir(path, 0755) != 0 && errno != EEXIST)
		die_errno(path);
	snprintf(path, sizeof(path), "%s/%s/%s", outdir, target, name);
	f = fopen(path, "wb");
	if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0)
		die_errno(path);
}

/* Strings back to back, each NUL-terminated: argv pieces and command-line parameters. */
static size_t join(uint8_t *buf, size_t cap, const char *const *parts)
{
	size_t n = 0;

	for (; *parts; parts++) {
		size_t len = strlen(*parts) + 1;

		if (n + len > cap)
			abort();
		memcpy(buf + n, *parts, len);
		n += len;
	}
	return n;
}

static void write_boot_flags(const char *name, const uint8_t *kernel, size_t kernel_size,
			     size_t initrd_size, uint64_t relocate, uint64_t flags,
			     const char *cmdline)
{
	struct boot_frame f = { (uint32_t)kernel_size, (uint32_t)initrd_size, relocate, flags };
	size_t cmdline_size = strlen(cmdline), size = sizeof(f) + kernel_size + initrd_size + cmdline_size;
	uint8_t *buf = malloc(size);

	if (!buf)
		abort();
	memcpy(buf, &f, sizeof(f));
	memcpy(buf + sizeof(f), kernel, kernel_size);
	/* A cpio "newc" magic, then a recognisable pattern. */
	for (size_t i = 0; i < initrd_size; i++)
		buf[sizeof(f) + kernel_size + i] = i < 6 ? (uint8_t)"070701"[i] : (uint8_t)(i * 29);
	memcpy(buf + sizeof(f) + kernel_size + initrd_size, cmdline, cmdline_size);
	write_seed("boot", name, buf, size);
	free(buf);
}

static void write_boot(const char *name, const uint8_t *kernel, size_t kernel_size,
		       size_t initrd_size, uint64_t relocate, const char *cmdline)
{
	write_boot_flags(name, kernel, kernel_size, initrd_size, relocate, 0, cmdline);
}

/* Each kernel seed boots twice: bare, and with an initrd and a realistic command line. */
static void write_kernel(const char *target, const char *name, const uint8_t *data, size_t size)
{
	char boot_name[256];

	write_seed(target, name, data, size);
	write_boot(name, data, size, 0, 0, "console=ttyS0");
	snprintf(boot_name, sizeof(boot_name), "%s-initrd", name);
	write_boot(boot_name, data, size, 512,
		   0, "console=ttyS0 reboot=k panic=1 pci=off root=/dev/ram0 rdinit=/init");
}

static void synthetic_elf(void)
{
	static const uint8_t notes[] = {
		/* GNU build id: namesz 4, descsz 8, type 3 */
		4, 0, 0, 0, 8, 0, 0, 0, 3, 0, 0, 0, 'G', 'N', 'U', 0, 1, 2, 3, 4, 5, 6, 7, 8,
		/* Linux: namesz 6 (padded to 8), descsz 4, type 1 */
		6, 0, 0, 0, 4, 0, 0, 0, 1, 0, 0, 0, 'L', 'i', 'n', 'u', 'x', 0, 0, 0, 0, 0, 0, 0,
		/* Xen PVH entry 0x100040: namesz 4, descsz 8, type 18 */
		4, 0, 0, 0, 8, 0, 0, 0, XEN_ELFNOTE_PHYS32_ENTRY, 0, 0, 0, 'X', 'e', 'n', 0,
		0x40, 0, 0x10, 0, 0, 0, 0, 0,
	};
	struct elf_builder b;
	Elf64_Phdr *text;

	/* The builder's image with 0x100 bytes of code instead of 0x1000: small seeds mutate faster. */
	elfb_init(&b);
	text = elfb_phdr(&b, 0);
	text->p_filesz = 0x100;
	b.size = 0x1100;
	write_kernel("elf", "synthetic-basic", b.buf, b.size);
	elfb_add_pvh_note(&b, 0x200, 0x100020, 8, 4);
	write_kernel("elf", "synthetic-pvh", b.buf, b.size);
	write_boot_flags("synthetic-pvh-entry64", b.buf, b.size, 512, 0, BOOT_FRAME_ENTRY64,
			 "console=ttyS0");
	elfb_free(&b);

	/* Everything a real vmlinux has: several PT_LOADs, a bss-only one, notes aligned by 8, GNU_STACK. */
	elfb_init(&b);
	text = elfb_phdr(&b, 0);
	text->p_filesz = 0x100;
	b.size = 0x1100;
	elfb_add(&b, PT_LOAD, 0x1100, 0x200000, 0x80, 0x1000, 0x200000);
	elfb_add(&b, PT_LOAD, 0, 0x300000, 0, 0x2000, 0x1000);
	elfb_phdr(&b, elfb_add(&b, PT_LOAD, 0x1180, 0x210000, 0x40, 0x40, 0x1000))->p_vaddr = 0;
	memcpy(b.buf + 0x400, notes, sizeof(notes));
	elfb_add(&b, PT_NOTE, 0x400, 0, sizeof(notes), 0, 8);
	elfb_add(&b, PT_GNU_STACK, 0, 0, 0, 0, 0x10);
	b.size = 0x11c0;
	write_kernel("elf", "synthetic-segments", b.buf, b.size);
	write_boot("synthetic-segments-relocated", b.buf, b.size, 512, 0x400000, "console=ttyS0");
	elfb_free(&b);
}

static void synthetic_bzimage(void)
{
	struct bz_builder b;

	/* The builder's relocatable 2.15 image with 0x400 bytes of kernel. */
	bzb_init(&b);
	bzb_set_kernel_size(&b, 0x400);
	b.hdr->init_size = 0x10000;
	write_kernel("bzimage", "synthetic-relocatable", b.buf, b.size);
	write_boot("synthetic-relocatable-load-addr", b.buf, b.size, 512, 0x800000, "console=ttyS0");
	b.hdr->payload_offset = 0x300;
	b.hdr->payload_length = 0x100;
	write_kernel("bzimage", "synthetic-payload", b.buf, b.size);
	b.hdr->payload_offset = b.hdr->payload_length = 0;
	/* The oldest header we take: 2.12, ending right after init_size. */
	b.buf[0x201] = 0x264 - 0x202;
	b.hdr->version = 0x020c;
	b.hdr->setup_sects = 0;
	write_kernel("bzimage", "synthetic-2.12-short-header", b.buf, b.size);
	/* A header longer than struct setup_header knows (a newer protocol): only what fits is read (C4). */
	b.buf[0x201] = 0x7f;
	b.hdr->version = 0x020f;
	write_seed("bzimage", "synthetic-long-header", b.buf, b.size);
	bzb_free(&b);

	/* Not relocatable: decompresses at pref_address, like the tiny guest. */
	bzb_init(&b);
	bzb_set_kernel_size(&b, 0x400);
	b.hdr->relocatable_kernel = 0;
	b.hdr->pref_address = 0x100000;
	b.hdr->init_size = 0x8000;
	write_kernel("bzimage", "synthetic-fixed", b.buf, b.size);
	bzb_free(&b);
}

/* The cmdline harness's input: cmdline_max (little-endian u32), then NUL-terminated parameters. */
static void write_cmdline(const char *name, uint32_t cmdline_max, const char *const *params)
{
	uint8_t buf[8192];
	size_t n = sizeof(cmdline_max);

	memcpy(buf, &cmdline_max, n);
	n += join(buf + n, sizeof(buf) - n, params);
	write_seed("cmdline", name, buf, n);
}

static void synthetic_cmdline(void)
{
	static const char *const typical[] = { "console=ttyS0", "reboot=k", "panic=1", "pci=off", NULL };
	static const char *const pre_2_06[] = { "root=/dev/vda rw", "init=/sbin/init", "", "quiet", NULL };
	static char long_param[3001];
	const char *const near_limit[] = { "console=ttyS0", long_param, NULL };

	write_cmdline("typical", 2047, typical);
	write_cmdline("pre-2.06-limit", 255, pre_2_06);
	/* Near the VMM's own 4095-byte limit. */
	memset(long_param, 'x', sizeof(long_param) - 1);
	memcpy(long_param, "init=", 5);
	write_cmdline("near-limit", 4095, near_limit);
}

/* Argument vectors (NULL-terminated, at most 23 words) as target/argv-N. */
static void write_argv_seeds(const char *target, const char *const (*vectors)[ARGV_SEED_WORDS],
			     size_t n)
{
	uint8_t buf[1024];
	char name[32];

	for (size_t i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "argv-%zu", i);
		write_seed(target, name, buf, join(buf, sizeof(buf), vectors[i]));
	}
}

static void synthetic_jailer_args(void)
{
	static const char *const vectors[][ARGV_SEED_WORDS] = {
		{ "--id", "vm1", "--", "microvm", "--kernel", "vmlinux", NULL },
		{ "--id", "a-B-9", "--exec-file", "/usr/bin/microvm", "--uid", "1000", "--gid", "1000",
		  "--chroot-base-dir", "/srv/jail", "--", "--kernel", "bzImage", NULL },
		{ "--id", "root-vm", "--uid", "0", "--gid", "0", "--allow-root", "--", "microvm", NULL },
		{ "--id", "vm2", "--netns", "/var/run/netns/vm2", "--cgroup", "memory.max=256M",
		  "--cgroup", "pids.max=64", "--parent-cgroup", "microvm/vms", "--resource-limit",
		  "fsize=1048576", "--resource-limit", "no-file=1024", "--new-pid-ns", "--daemonize",
		  "--cleanup", "--userns", "--", "microvm", NULL },
		{ "--uid=4294967294", "--id=x", "--", "vmm", NULL },
		{ "-h", NULL },
		{ "--version", NULL },
		{ "--id", "bad_id!", "--", "vmm", NULL },
		{ "--id", "vm", "--uid", NULL },
		/* Stops inside a short-option cluster: the next parse must not go on with the P. */
		{ "-hP", NULL },
		/* The VMM's own options, as the jailer finds the files they name. */
		{ "--id", "vm1", "--", "microvm", "--net", "tap=t0", "--kernel=bzImage", "-vq",
		  "--drive", "ro,path=/d.img,id=root", "--seccomp-policy", "f.bin", "--rng", "--",
		  "--vsock", NULL },
	};
	write_argv_seeds("jailer_args", vectors, ARRAY_SIZE(vectors));
}

static void synthetic_config(void)
{
	static const char *const vectors[][ARGV_SEED_WORDS] = {
		{ "--kernel", "bzImage", "--initrd", "rootfs.cpio", "--cmdline", "console=ttyS0", NULL },
		{ "--kernel=vmlinux", "--mem", "256", "--vcpus", "4", "--check", "--no-pvm", "-vv", NULL },
		{ "--kernel", "k", "--drive", "path=disk.img,ro,id=root", "--drive", "path=b.img",
		  "--net", "tap=tap0,mac=06:00:ac:10:00:02", "--rng", "--vsock", "cid=3,uds=/tmp/v.sock",
		  NULL },
		{ "--kernel", "k", "--seccomp-policy", "filters.bin", "-q", NULL },
		{ "--print-seccomp", "--no-seccomp", NULL },
		{ "--kernel", "k", "--drive=ro,path=a", "--vsock=uds=/v,cid=4294967294", "--rng", NULL },
		{ "--kernel", "k", "--drive", "path=a,id=x", "--drive", "path=b,id=x", NULL },
		{ "--kernel", "k", "--net", "tap=..", NULL },
		{ "--kernel", "k", "--mem", "1048577", NULL },
		/* Stops inside a short-option cluster: the next parse must not go on with the v. */
		{ "-hv", NULL },
		{ "--version", NULL },
		{ "--kernel", "k", "--drive", "path=a,bw=52428:100:4096,ops=100:1000", "--net",
		  "tap=t,rx_bw=1000:10,tx_ops=2:2", "--rng=bw=64:1000", "--balloon",
		  "amount_mib=64,deflate_on_oom,stats_polling_interval_s=1,free_page_reporting", NULL },
	};
	write_argv_seeds("config", vectors, ARRAY_SIZE(vectors));
}

/*
 * A host that runs from its initramfs, once the jail is moved onto "/", with escaped
 * mount points and optional fields; make-corpus.sh adds the build host's own table.
 */
static void synthetic_mountinfo(void)
{
	static const char initramfs[] =
		"39 39 0:2 / / rw shared:1 - rootfs rootfs rw\n"
		"40 39 0:5 / /dev rw,nosuid - devtmpfs devtmpfs rw,size=1k,mode=755\n"
		"41 40 0:23 / /dev/pts rw master:3 shared:4 - devpts devpts rw,ptmxmode=666\n"
		"43 39 0:21 / /proc rw,nosuid,nodev,noexec - proc proc rw\n"
		"53 39 0:34 /usr /usr ro - 9p hostroot ro,trans=virtio\n"
		"58 39 0:2 /srv/jailer/microvm/vm1/root / ro - rootfs rootfs rw\n"
		"59 58 0:2 /tmp/disk\\040image /disk\\040image ro,nosuid,nodev,noexec - rootfs rootfs rw\n";

	write_seed("mountinfo", "initramfs", initramfs, sizeof(initramfs) - 1);
}

/* Conditions of every form; make-corpus.sh adds the project's own policies. */
static void synthetic_policy(void)
{
	static const char conds[] = "ioctl arg1 == KVM_RUN && arg0 != 3 # x\n"
				    "mmap arg2 & PROT_EXEC|PROT_WRITE == 0 # y\n";

	write_seed("policy", "conds.policy", conds, sizeof(conds) - 1);
}

/* The Xen PVH entry of an ELF's notes, or 0. */
static uint64_t elf_pvh_entry(const uint8_t *in, size_t size, const Elf64_Phdr *ph)
{
	uint64_t off = 0;

	if (ph->p_offset > size || ph->p_filesz > size - ph->p_offset)
		return 0;
	while (ph->p_filesz - off >= sizeof(Elf64_Nhdr)) {
		Elf64_Nhdr nh;
		const uint8_t *p = in + ph->p_offset + off;
		uint64_t name;

		memcpy(&nh, p, sizeof(nh));
		name = (nh.n_namesz + 3ULL) & ~3ULL;
		if (sizeof(nh) + name + nh.n_descsz > ph->p_filesz - off)
			return 0;
		if (nh.n_type == XEN_ELFNOTE_PHYS32_ENTRY && nh.n_namesz == 4 &&
		    memcmp(p + sizeof(nh), "Xen", 4) == 0 && nh.n_descsz >= 4) {
			uint32_t entry;

			memcpy(&entry, p + sizeof(nh) + name, sizeof(entry));
			return entry;
		}
		off += sizeof(nh) + name + ((nh.n_descsz + 3ULL) & ~3ULL);
	}
	return 0;
}

/*
 * A vmlinux cut down to its headers, its notes and the start of each
 * PT_LOAD (still covering both entry points), with small bss: the same
 * header values as the real kernel in a few KiB. 0 if it does not parse.
 */
static size_t trim_elf(const uint8_t *in, size_t size, uint8_t *out, size_t cap)
{
	Elf64_Ehdr eh;
	Elf64_Phdr ph[64];
	uint64_t pvh = 0, off;

	if (size < sizeof(eh))
		return 0;
	memcpy(&eh, in, sizeof(eh));
	if (eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum == 0 || eh.e_phnum > 64 ||
	    eh.e_phoff > size || eh.e_phnum * sizeof(Elf64_Phdr) > size - eh.e_phoff)
		return 0;
	memcpy(ph, in + eh.e_phoff, eh.e_phnum * sizeof(Elf64_Phdr));
	for (unsigned int i = 0; i < eh.e_phnum && !pvh; i++)
		if (ph[i].p_type == PT_NOTE)
			pvh = elf_pvh_entry(in, size, &ph[i]);

	eh.e_phoff = sizeof(eh);
	eh.e_shoff = eh.e_shnum = eh.e_shstrndx = 0;
	off = sizeof(eh) + eh.e_phnum * sizeof(Elf64_Phdr);
	for (unsigned int i = 0; i < eh.e_phnum; i++) {
		uint64_t keep = ph[i].p_filesz;

		if (ph[i].p_type == PT_LOAD) {
			const uint64_t entries[] = { eh.e_entry, pvh };

			keep = keep < TRIM_SEGMENT ? keep : TRIM_SEGMENT;
			for (size_t e = 0; e < ARRAY_SIZE(entries); e++) {
				uint64_t at = entries[e] - ph[i].p_paddr;

				if (entries[e] >= ph[i].p_paddr && at < ph[i].p_filesz && at + 16 > keep)
					keep = at + 16 < ph[i].p_filesz ? at + 16 : ph[i].p_filesz;
			}
			if (ph[i].p_memsz > keep + TRIM_BSS)
				ph[i].p_memsz = keep + TRIM_BSS;
		} else if (ph[i].p_type != PT_NOTE) {
			continue;
		}
		off = (off + 15) & ~15ULL;
		if (ph[i].p_offset > size || keep > size - ph[i].p_offset || keep > cap - off)
			return 0;
		memcpy(out + off, in + ph[i].p_offset, keep);
		ph[i].p_offset = off;
		ph[i].p_filesz = keep;
		off += keep;
	}
	memcpy(out, &eh, sizeof(eh));
	memcpy(out + sizeof(eh), ph, eh.e_phnum * sizeof(Elf64_Phdr));
	return off;
}

/* A bzImage cut down to its setup sectors and the first TRIM_BZ_KERNEL bytes of its kernel. 0 if it does not parse. */
static size_t trim_bzimage(const uint8_t *in, size_t size, uint8_t *out, size_t cap)
{
	struct setup_header hdr;
	uint64_t setup_size, keep;

	if (size < 0x1f1 + sizeof(hdr))
		return 0;
	memcpy(&hdr, in + 0x1f1, sizeof(hdr));
	setup_size = ((uint64_t)(hdr.setup_sects ? hdr.setup_sects : 4) + 1) * 512;
	keep = (uint64_t)hdr.syssize * 16 < TRIM_BZ_KERNEL ? (uint64_t)hdr.syssize * 16 : TRIM_BZ_KERNEL;
	if (setup_size > size || keep > size - setup_size || setup_size + keep > cap)
		return 0;
	hdr.syssize = (uint32_t)(keep / 16);
	/* The payload (the compressed kernel) is cut too; keep its offset valid (B6). */
	if (hdr.payload_offset >= keep)
		hdr.payload_offset = hdr.payload_length = 0;
	else if (hdr.payload_length > keep - hdr.payload_offset)
		hdr.payload_length = (uint32_t)(keep - hdr.payload_offset);
	memcpy(out, in, setup_size + keep);
	memcpy(out + 0x1f1, &hdr, sizeof(hdr));
	return setup_size + keep;
}

/* Every kernel is trimmed, the tiny guest too: small seeds mutate faster, and stay small as the guest grows. */
static void external_kernel(const char *path)
{
	const char *name = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	bool is_elf;
	uint8_t *in, *out;
	size_t size, n;
	FILE *f = fopen(path, "rb");

	if (!f || fseek(f, 0, SEEK_END) != 0)
		die_errno(path);
	size = (size_t)ftell(f);
	rewind(f);
	in = malloc(size ? size : 1);
	out = malloc(TRIM_MAX);
	if (!in || !out || fread(in, 1, size, f) != size)
		die_errno(path);
	fclose(f);
	is_elf = size >= 4 && memcmp(in, ELFMAG, SELFMAG) == 0;
	if (!is_elf && (size < 0x206 || memcmp(in + 0x202, "HdrS", 4) != 0)) {
		fprintf(stderr, "fuzz-seeds: %s: neither an ELF vmlinux nor a bzImage\n", path);
		exit(1);
	}
	n = is_elf ? trim_elf(in, size, out, TRIM_MAX) : trim_bzimage(in, size, out, TRIM_MAX);
	if (n == 0) {
		fprintf(stderr, "fuzz-seeds: %s: cannot be trimmed below %d bytes\n", path, TRIM_MAX);
		exit(1);
	}
	write_kernel(is_elf ? "elf" : "bzimage", name, out, n);
	free(in);
	free(out);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s OUTDIR [KERNEL...]\n", argv[0]);
		return 2;
	}
	outdir = argv[1];
	if (mkdir(outdir, 0755) != 0 && errno != EEXIST)
		die_errno(outdir);
	synthetic_elf();
	synthetic_bzimage();
	synthetic_cmdline();
	synthetic_jailer_args();
	synthetic_config();
	synthetic_policy();
	synthetic_mountinfo();
	synthetic_virtq();
	synthetic_virtio();
	synthetic_guest_insn();
	synthetic_snapshot();
	for (int i = 2; i < argc; i++)
		external_kernel(argv[i]);
	return 0;
}
