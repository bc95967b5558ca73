/*
 * The jailer's pure helpers: ids, cgroup names, resource limits, VMM argument rewriting, jail
 * paths, the VMM's ELF interpreter.
 */
#include <elf.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "args.h"
#include "cgroup.h"
#include "elfdeps.h"
#include "files.h"
#include "fs.h"
#include "mountinfo.h"
#include "rlimit.h"
#include "vmmargs.h"

static enum jailer_args_result parse(struct jailer_args *a, int argc, const char **argv)
{
	return jailer_args_parse(a, argc, (char **)(uintptr_t)argv);
}

static void id_validation(void **state)
{
	(void)state;
	char id64[65], id65[66];

	memset(id64, 'a', 64);
	id64[64] = '\0';
	memset(id65, 'a', 65);
	id65[65] = '\0';
	assert_true(jailer_id_valid("vm1"));
	assert_true(jailer_id_valid("551e7604-e35c-42b3-b825-416853441234"));
	assert_true(jailer_id_valid("A-z-0-9"));
	assert_true(jailer_id_valid(id64));
	assert_false(jailer_id_valid(id65));
	assert_false(jailer_id_valid(""));
	assert_false(jailer_id_valid("a/b"));
	assert_false(jailer_id_valid(".."));
	assert_false(jailer_id_valid("a b"));
	assert_false(jailer_id_valid("a_b"));
	assert_false(jailer_id_valid("a.b"));
	assert_false(jailer_id_valid("a\nb"));
	assert_false(jailer_id_valid("\xc3\xa9"));
}

static void cgroup_names(void **state)
{
	(void)state;

	assert_true(cgroup_file_valid("memory.max"));
	assert_true(cgroup_file_valid("cpu.max"));
	assert_true(cgroup_file_valid("pids.max"));
	assert_true(cgroup_file_valid("hugetlb.2MB.max"));
	assert_true(cgroup_file_valid("cgroup.max.descendants"));
	assert_true(cgroup_file_valid("io.bfq.weight"));
	assert_false(cgroup_file_valid(""));
	assert_false(cgroup_file_valid("memory"));
	assert_false(cgroup_file_valid("memory."));
	assert_false(cgroup_file_valid(".max"));
	assert_false(cgroup_file_valid(".."));
	assert_false(cgroup_file_valid("memory..max"));
	assert_false(cgroup_file_valid("../cgroup.procs"));
	assert_false(cgroup_file_valid("a/memory.max"));
	assert_false(cgroup_file_valid("memory.max/"));
	assert_false(cgroup_file_valid("memory max"));
	assert_false(cgroup_file_valid("memory.max\n"));

	assert_true(cgroup_path_valid("microvm"));
	assert_true(cgroup_path_valid("a/b/c"));
	assert_true(cgroup_path_valid("machine.slice/vms_1"));
	assert_false(cgroup_path_valid(""));
	assert_false(cgroup_path_valid("/a"));
	assert_false(cgroup_path_valid("a/"));
	assert_false(cgroup_path_valid("a//b"));
	assert_false(cgroup_path_valid(".."));
	assert_false(cgroup_path_valid("a/../b"));
	assert_false(cgroup_path_valid("a/./b"));
	assert_false(cgroup_path_valid("."));
	assert_false(cgroup_path_valid("a b"));
	assert_true(cgroup_path_valid("a..b"));
}

static void cgroup_settings(void **state)
{
	(void)state;
	struct cgroup_setting s;
	struct diag d;

	assert_int_equal(cgroup_setting_parse(&s, "memory.max=256M", &d), 0);
	assert_string_equal(s.file, "memory.max");
	assert_string_equal(s.value, "256M");
	assert_int_equal(cgroup_setting_parse(&s, "cpu.max=50000 100000", &d), 0);
	assert_string_equal(s.file, "cpu.max");
	assert_string_equal(s.value, "50000 100000");
	assert_int_equal(cgroup_setting_parse(&s, "memory.max=a=b", &d), 0);
	assert_string_equal(s.value, "a=b");

	assert_int_equal(cgroup_setting_parse(&s, "memory.max", &d), -EINVAL);
	assert_non_null(strstr(d.msg, "expected FILE=VALUE"));
	assert_int_equal(cgroup_setting_parse(&s, "=1", &d), -EINVAL);
	assert_int_equal(cgroup_setting_parse(&s, "memory.max=", &d), -EINVAL);
	assert_int_equal(cgroup_setting_parse(&s, "memory.max=1\n2", &d), -EINVAL);
	assert_int_equal(cgroup_setting_parse(&s, "../cgroup.procs=0", &d), -EINVAL);
	assert_non_null(strstr(d.msg, "'../cgroup.procs' is not a cgroup file name"));
	assert_int_equal(cgroup_setting_parse(&s, "memory..max=1", &d), -EINVAL);
	assert_int_equal(cgroup_setting_parse(&s,
		"a123456789012345678901234567890123456789012345678901234567890123.max=1", &d), -EINVAL);
}

static void resource_limits(void **state)
{
	(void)state;
	struct rlimit_settings r;
	struct diag d;

	rlimit_settings_init(&r);
	assert_false(r.fsize_set);
	assert_int_equal(r.nofile, 2048);
	assert_int_equal(rlimit_parse(&r, "fsize=1048576", &d), 0);
	assert_true(r.fsize_set);
	assert_int_equal(r.fsize, 1048576);
	assert_int_equal(rlimit_parse(&r, "no-file=64", &d), 0);
	assert_int_equal(r.nofile, 64);
	assert_int_equal(rlimit_parse(&r, "fsize=0", &d), 0);
	assert_int_equal(r.fsize, 0);
	assert_int_equal(rlimit_parse(&r, "fsize=18446744073709551615", &d), 0);
	assert_true(r.fsize == UINT64_MAX);

	assert_int_equal(rlimit_parse(&r, "fsize=18446744073709551616", &d), -EINVAL);
	assert_int_equal(rlimit_parse(&r, "fsize=-1", &d), -EINVAL);
	assert_int_equal(rlimit_parse(&r, "fsize= 1", &d), -EINVAL);
	assert_int_equal(rlimit_parse(&r, "fsize=1k", &d), -EINVAL);
	assert_non_null(strstr(d.msg, "decimal number"));
	assert_int_equal(rlimit_parse(&r, "fsize=", &d), -EINVAL);
	assert_int_equal(rlimit_parse(&r, "fsize", &d), -EINVAL);
	assert_int_equal(rlimit_parse(&r, "nofile=1", &d), -EINVAL);
	assert_non_null(strstr(d.msg, "unknown limit"));
	assert_int_equal(rlimit_parse(&r, "no-file-x=1", &d), -EINVAL);
	assert_int_equal(rlimit_parse(&r, "=1", &d), -EINVAL);
}

/* Scans argv and returns the number of file references found, or the negative error. */
static int scan(int argc, const char **argv, struct vmm_file_ref *refs, struct diag *d)
{
	size_t n;
	int ret = vmmargs_scan(argc, (char *const *)(uintptr_t)argv, refs, VMMARGS_REFS_MAX, &n, d);

	return ret ? ret : (int)n;
}

static void assert_ref(const char **argv, const struct vmm_file_ref *r, int argi,
		       enum vmm_file_role role, const char *path)
{
	assert_int_equal(r->argi, argi);
	assert_int_equal(r->role, role);
	assert_int_equal(r->len, strlen(path));
	assert_memory_equal(argv[argi] + r->off, path, r->len);
}

static void vmm_args_files(void **state)
{
	(void)state;
	struct vmm_file_ref refs[VMMARGS_REFS_MAX];
	struct diag d;
	const char *plain[] = { "--kernel", "bzImage", "--mem", "64" };
	const char *forms[] = { "--kernel=/k/vmlinux", "-v", "--initrd", "i.img", "--cmdline",
				"--kernel x", "--drive", "path=/d/root.ext4,ro", "--drive=ro,path=d2" };
	const char *value_like[] = { "--cmdline", "--kernel", "--kernel", "k" };
	const char *stops[] = { "--kernel", "k", "stray", "--initrd", "i" };
	const char *dashdash[] = { "--kernel", "k", "--", "--initrd", "i" };
	const char *abbreviated_plain[] = { "--cmd", "--kernel", "--kernel", "k" };
	const char *flags[] = { "--check", "-vq", "--rng", "--no-pvm", "--entry64", "--kernel", "k" };
	const char *policy[] = { "--seccomp-policy", "/etc/f.bin", "--kernel", "k" };

	assert_int_equal(scan(4, plain, refs, &d), 1);
	assert_ref(plain, &refs[0], 1, VMM_FILE_COPY, "bzImage");

	assert_int_equal(scan(9, forms, refs, &d), 4);
	assert_ref(forms, &refs[0], 0, VMM_FILE_COPY, "/k/vmlinux");
	assert_ref(forms, &refs[1], 3, VMM_FILE_COPY, "i.img");
	assert_ref(forms, &refs[2], 7, VMM_FILE_DISK, "/d/root.ext4");
	assert_ref(forms, &refs[3], 8, VMM_FILE_DISK, "d2");
	assert_string_equal(refs[1].option, "initrd");
	assert_null(refs[1].key);
	assert_string_equal(refs[2].option, "drive");
	assert_string_equal(refs[2].key, "path");
	/* The "ro" flag, anywhere in a drive spec: the jail binds that image read-only. */
	assert_false(refs[0].read_only || refs[1].read_only);
	assert_true(refs[2].read_only && refs[3].read_only);
	{
		const char *not_ro[] = { "--drive", "path=/d/rom,id=ro2", "--drive=path=ro" };

		assert_int_equal(scan(3, not_ro, refs, &d), 2);
		assert_false(refs[0].read_only || refs[1].read_only);
	}

	/* A value is never read as an option, even one spelled like --kernel. */
	assert_int_equal(scan(4, value_like, refs, &d), 1);
	assert_ref(value_like, &refs[0], 3, VMM_FILE_COPY, "k");
	assert_int_equal(scan(4, abbreviated_plain, refs, &d), 1);
	assert_ref(abbreviated_plain, &refs[0], 3, VMM_FILE_COPY, "k");

	/* The VMM stops at its first non-option and at "--": so does the scan. */
	assert_int_equal(scan(5, stops, refs, &d), 1);
	assert_int_equal(scan(5, dashdash, refs, &d), 1);
	assert_int_equal(scan(0, plain, refs, &d), 0);
	/* Flags, short ones in a cluster, and a device that takes no value. */
	assert_int_equal(scan(7, flags, refs, &d), 1);
	assert_ref(flags, &refs[0], 6, VMM_FILE_COPY, "k");
	/* Every option naming a file is in the table: --seccomp-policy too. */
	assert_int_equal(scan(4, policy, refs, &d), 2);
	assert_ref(policy, &refs[0], 1, VMM_FILE_COPY, "/etc/f.bin");
}

/*
 * Regression: the jailer kept its own table of microvm's options, without --net, and
 * passed an option it did not know through as a flag; the value tap=t0 then ended the
 * scan, and the kernel after it was never brought into the jail.
 */
static void vmm_args_follow_the_vmm_table(void **state)
{
	(void)state;
	struct vmm_file_ref refs[VMMARGS_REFS_MAX];
	struct diag d;
	const char *net_first[] = { "--net", "tap=t0", "--kernel", "bzImage" };
	const char *vsock_in_run[] = { "--vsock", "cid=3,uds=/run/v.sock", "--kernel", "k" };
	/* Refused, each with the argument named: nothing the jailer cannot place slips past. */
	struct {
		const char *argv[4];
		const char *reason;
	} refused[] = {
		{ { "--vsock", "cid=3,uds=/v.sock", "--kernel", "k" },
		  "--vsock 'cid=3,uds=/v.sock': uds= names a socket the VMM creates, which a jail "
		  "holds only in /run/" },
		{ { "--vsock", "cid=3,uds=/run/a/v.sock", "--kernel", "k" }, "uds= names a socket" },
		{ { "--vsock", "cid=3,uds=/run/..", "--kernel", "k" }, "uds= names a socket" },
		{ { "--check", "--future-flag", "--kernel", "k" },
		  "VMM argument '--future-flag': not an option of microvm" },
		{ { "-vx", "--kernel", "k" }, "VMM argument '-vx': unknown option '-x'" },
		{ { "--v", "--kernel", "k" }, "'--v': not an option of microvm (or an ambiguous abbreviation)" },
		{ { "--check=yes", "--kernel", "k" }, "--check takes no value" },
		{ { "--dri", "path=/d.img" }, "write --drive in full" },
	};

	assert_int_equal(scan(4, net_first, refs, &d), 1);
	assert_ref(net_first, &refs[0], 3, VMM_FILE_COPY, "bzImage");
	/*
	 * Regression: a socket in the jail's /run was not counted as given, so the required
	 * uds= was then reported missing.
	 */
	assert_int_equal(scan(4, vsock_in_run, refs, &d), 1);
	assert_ref(vsock_in_run, &refs[0], 3, VMM_FILE_COPY, "k");
	for (size_t i = 0; i < ARRAY_SIZE(refused); i++) {
		int argc = 0;

		while (argc < 4 && refused[i].argv[argc])
			argc++;
		assert_int_equal(scan(argc, refused[i].argv, refs, &d), -EINVAL);
		if (!strstr(d.msg, refused[i].reason))
			fail_msg("case %zu: '%s' does not say '%s'", i, d.msg, refused[i].reason);
	}
}

static void vmm_args_errors(void **state)
{
	(void)state;
	struct vmm_file_ref refs[VMMARGS_REFS_MAX];
	struct diag d;
	const char *abbreviated[] = { "--kern", "k" };
	const char *abbreviated_eq[] = { "--ini=i" };
	const char *missing[] = { "--mem", "64", "--kernel" };
	const char *empty[] = { "--kernel=" };
	const char *no_path[] = { "--drive", "ro" };
	const char *empty_path[] = { "--drive", "path=,ro" };
	const char *two_paths[] = { "--drive", "path=a,path=b" };
	const char *many[2 * VMMARGS_REFS_MAX + 2];

	assert_int_equal(scan(2, abbreviated, refs, &d), -EINVAL);
	assert_non_null(strstr(d.msg, "write --kernel in full"));
	assert_int_equal(scan(1, abbreviated_eq, refs, &d), -EINVAL);
	assert_non_null(strstr(d.msg, "write --initrd in full"));
	assert_int_equal(scan(3, missing, refs, &d), -EINVAL);
	assert_non_null(strstr(d.msg, "needs a value"));
	assert_int_equal(scan(1, empty, refs, &d), -EINVAL);
	assert_non_null(strstr(d.msg, "empty path"));
	assert_int_equal(scan(2, no_path, refs, &d), -EINVAL);
	assert_non_null(strstr(d.msg, "--drive 'ro': expected path=FILE"));
	assert_int_equal(scan(2, empty_path, refs, &d), -EINVAL);
	assert_int_equal(scan(2, two_paths, refs, &d), -EINVAL);
	assert_non_null(strstr(d.msg, "more than one path="));
	for (size_t i = 0; i < ARRAY_SIZE(many); i += 2) {
		many[i] = "--drive";
		many[i + 1] = "path=x";
	}
	assert_int_equal(scan((int)ARRAY_SIZE(many), many, refs, &d), -EINVAL);
	assert_non_null(strstr(d.msg, "more than"));
}

static void vmm_args_splice(void **state)
{
	(void)state;
	char *s;

	s = vmmargs_splice("path=/d/root.ext4,ro", 5, 12, "/root.ext4");
	assert_string_equal(s, "path=/root.ext4,ro");
	free(s);
	s = vmmargs_splice("--kernel=/very/long/path/bzImage", 9, 23, "/bzImage");
	assert_string_equal(s, "--kernel=/bzImage");
	free(s);
	s = vmmargs_splice("k", 0, 1, "/k");
	assert_string_equal(s, "/k");
	free(s);
	assert_null(vmmargs_splice("abc", 2, 2, "x"));
	assert_null(vmmargs_splice("abc", 4, 0, "x"));
}

static int add(struct jail_files *f, const char *path)
{
	return files_add(f, JAIL_FILE_INPUT, open("/dev/null", O_RDONLY | O_CLOEXEC), path);
}

static void jail_paths(void **state)
{
	(void)state;
	struct jail_files f;

	files_init(&f);
	assert_int_equal(add(&f, "/microvm"), 0);
	assert_int_equal(add(&f, "/lib/x86_64-linux-gnu/libc.so.6"), 0);
	assert_int_equal(add(&f, "/lib/x86_64-linux-gnu/libm.so.6"), 0);
	assert_int_equal(add(&f, "/bzImage"), 0);
	assert_int_equal(add(&f, "/devices"), 0);
	assert_true(files_has(&f, "/bzImage"));
	assert_false(files_has(&f, "/lib"));
	/* The same path, a directory on the way to one, a path below a file, the jail's /dev. */
	assert_int_equal(add(&f, "/bzImage"), -EEXIST);
	assert_int_equal(add(&f, "/lib"), -EEXIST);
	assert_int_equal(add(&f, "/lib/x86_64-linux-gnu"), -EEXIST);
	assert_int_equal(add(&f, "/microvm/x"), -EEXIST);
	assert_int_equal(add(&f, "/dev"), -EEXIST);
	assert_int_equal(add(&f, "/dev/kvm"), -EEXIST);
	assert_int_equal(f.n, 5);
	for (size_t i = 0; i < f.n; i++) {
		close(f.items[i].fd);
		free(f.items[i].path);
	}
	assert_string_equal(files_basename("dir/bzImage"), "bzImage");
	assert_string_equal(files_basename("/a/b/c"), "c");
	assert_string_equal(files_basename("k"), "k");
}

/* An x86-64 ELF of headers only: type, with a PT_INTERP naming interp unless NULL. */
static void write_elf(const char *path, uint16_t type, const char *interp, mode_t mode)
{
	struct {
		Elf64_Ehdr eh;
		Elf64_Phdr ph[2];
		char interp[PATH_MAX];
	} f;
	size_t size = offsetof(__typeof__(f), interp) + (interp ? strlen(interp) + 1 : 0);
	int fd;

	memset(&f, 0, sizeof(f));
	memcpy(f.eh.e_ident, ELFMAG, SELFMAG);
	f.eh.e_ident[EI_CLASS] = ELFCLASS64;
	f.eh.e_ident[EI_DATA] = ELFDATA2LSB;
	f.eh.e_ident[EI_VERSION] = EV_CURRENT;
	f.eh.e_type = type;
	f.eh.e_machine = EM_X86_64;
	f.eh.e_version = EV_CURRENT;
	f.eh.e_phoff = offsetof(__typeof__(f), ph);
	f.eh.e_ehsize = sizeof(f.eh);
	f.eh.e_phentsize = sizeof(Elf64_Phdr);
	f.eh.e_phnum = interp ? 2 : 1;
	f.ph[0] = (Elf64_Phdr){ .p_type = PT_LOAD, .p_filesz = size, .p_memsz = size, .p_align = 4096 };
	if (interp) {
		strcpy(f.interp, interp);
		f.ph[1] = (Elf64_Phdr){ .p_type = PT_INTERP, .p_offset = offsetof(__typeof__(f), interp),
					.p_filesz = strlen(interp) + 1, .p_memsz = strlen(interp) + 1 };
	}
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	assert_true(fd >= 0);
	assert_int_equal(fchmod(fd, mode), 0);
	assert_int_equal(write(fd, &f, size), (ssize_t)size);
	close(fd);
}

/* elfdeps_collect on an executable whose PT_INTERP is interp; the message in d. */
static int collect(const char *dir, const char *interp, struct jail_files *files, struct diag *d)
{
	char exe[PATH_MAX];
	int fd, ret;

	snprintf(exe, sizeof(exe), "%s/vmm", dir);
	write_elf(exe, ET_EXEC, interp, 0755);
	fd = open(exe, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	files_init(files);
	ret = elfdeps_collect(fd, exe, files, d);
	close(fd);
	return ret;
}

static void free_files(struct jail_files *f)
{
	for (size_t i = 0; i < f->n; i++) {
		close(f->items[i].fd);
		free(f->items[i].path);
	}
	f->n = 0;
}

/*
 * The interpreter is copied into the jail at its PT_INTERP path, as root: that path must
 * stay inside the jail, and the file must be one everybody may read already.
 */
static void elf_interpreter(void **state)
{
	(void)state;
	static const char *const escapes[] = {
		"/lib64/../../../../etc/passwd", "/..", "/lib64/./ld.so", "/lib64//ld.so", "/lib64/",
	};
	char dir[] = "/tmp/test-jailer-XXXXXX", path[PATH_MAX];
	struct jail_files f;
	struct diag d;

	assert_non_null(mkdtemp(dir));
	for (size_t i = 0; i < ARRAY_SIZE(escapes); i++) {
		assert_int_not_equal(collect(dir, escapes[i], &f, &d), 0);
		if (!strstr(d.msg, "not a plain absolute path"))
			fail_msg("PT_INTERP %s: %s", escapes[i], d.msg);
		assert_int_equal(f.n, 0);
	}
	/* A file only its owner may read is not copied out for everybody. */
	snprintf(path, sizeof(path), "%s/ld-private.so", dir);
	write_elf(path, ET_DYN, NULL, 0600);
	assert_int_not_equal(collect(dir, path, &f, &d), 0);
	assert_non_null(strstr(d.msg, "a system file (owned by root, writable only by it, readable by all)"));
	/* Readable by all, but no shared object: /etc/passwd; an executable (as root, owned by root). */
	assert_int_not_equal(collect(dir, "/etc/passwd", &f, &d), 0);
	assert_non_null(strstr(d.msg, "its ELF interpreter /etc/passwd is not an x86-64 ELF shared object"));
	if (geteuid() == 0) {
		snprintf(path, sizeof(path), "%s/ld-exec.so", dir);
		write_elf(path, ET_EXEC, NULL, 0755);
		assert_int_not_equal(collect(dir, path, &f, &d), 0);
		assert_non_null(strstr(d.msg, "is not an x86-64 ELF shared object"));
		snprintf(path, sizeof(path), "%s/ld-ok.so", dir);
		write_elf(path, ET_DYN, NULL, 0755);
		assert_int_equal(collect(dir, path, &f, &d), 0);
		assert_int_equal(f.n, 1);
		assert_true(files_has(&f, path));
		free_files(&f);
		unlink(path);
		snprintf(path, sizeof(path), "%s/ld-exec.so", dir);
		unlink(path);
	}
	/* Debian's own interpreter: a symlink through /lib64, followed to a system file. */
	if (access("/lib64/ld-linux-x86-64.so.2", R_OK) == 0) {
		assert_int_equal(collect(dir, "/lib64/ld-linux-x86-64.so.2", &f, &d), 0);
		assert_true(files_has(&f, "/lib64/ld-linux-x86-64.so.2"));
		free_files(&f);
	}
	snprintf(path, sizeof(path), "%s/ld-private.so", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/vmm", dir);
	unlink(path);
	assert_int_equal(rmdir(dir), 0);
}

/* Directories in the jail are made component by component: none may step out of it. */
static void jail_mkdirs(void **state)
{
	(void)state;
	char dir[] = "/tmp/test-jailer-XXXXXX", path[PATH_MAX];
	int root, out = -1;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/root", dir);
	assert_int_equal(mkdir(path, 0755), 0);
	root = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(root >= 0);
	assert_int_equal(fs_mkdirs_at(root, "a/../../escaped", 0755, &out), -EINVAL);
	assert_int_equal(fs_mkdirs_at(root, "..", 0755, &out), -EINVAL);
	assert_int_equal(fs_mkdirs_at(root, "b/./c", 0755, &out), -EINVAL);
	assert_int_equal(out, -1);
	snprintf(path, sizeof(path), "%s/escaped", dir);
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(fs_mkdirs_at(root, "lib/x86_64-linux-gnu", 0755, &out), 0);
	assert_true(out >= 0);
	close(out);
	assert_int_equal(unlinkat(root, "lib/x86_64-linux-gnu", AT_REMOVEDIR), 0);
	assert_int_equal(unlinkat(root, "lib", AT_REMOVEDIR), 0);
	/* What was made before a refusal stays inside. */
	unlinkat(root, "a", AT_REMOVEDIR);
	unlinkat(root, "b", AT_REMOVEDIR);
	close(root);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/root", dir);
	assert_int_equal(rmdir(path), 0);
	assert_int_equal(rmdir(dir), 0);
}

static int parse_mountinfo(const char *text, struct mount_table *t, struct diag *d)
{
	FILE *f = fmemopen((void *)(uintptr_t)text, strlen(text), "r");
	int ret;

	assert_non_null(f);
	ret = mountinfo_parse(f, "mountinfo", t, d);
	fclose(f);
	return ret;
}

/* /proc/self/mountinfo as the kernel writes it, and as a hostile mount point name could bend it. */
static void mountinfo_lines(void **state)
{
	(void)state;
	static const char good[] =
		"1 1 0:2 / / rw - rootfs rootfs rw\n"
		"40 1 0:5 / /dev rw,nosuid shared:2 - devtmpfs devtmpfs rw,size=1k\n"
		"41 40 0:23 / /dev/pts rw master:3 shared:4 - devpts devpts rw\n"
		"58 1 0:2 /srv/jailer/microvm/vm1/root / ro - rootfs rootfs rw\n"
		"59 58 0:2 /tmp/disk.img /disk\\040image rw - rootfs rootfs rw\n"
		"60 59 0:2 / /a\\134b\\011c\\012 rw - tmpfs none rw\n";
	static const char *const bad[] = {
		"x 1 0:2 / / rw - rootfs rootfs rw\n",       /* id */
		"1 -1 0:2 / / rw - rootfs rootfs rw\n",      /* parent */
		"1 1 0:2 / / rw rootfs rootfs rw\n",         /* no separator */
		"1 1 0:2 / / rw -\n",                       /* no type */
		"1 1 0:2 / / rw -  rootfs rw\n",             /* an empty type (found by fuzz_mountinfo) */
		"1  1 0:2 / / rw - rootfs rootfs rw\n",
		"1 1 0:2 / relative rw - rootfs rootfs rw\n",
		"1 1 0:2 / /a\\0 rw - rootfs rootfs rw\n",   /* a cut escape */
		"1 1 0:2 / /a\\000 rw - rootfs rootfs rw\n", /* an escaped NUL */
		"1 1 0:2 / /a\\400 rw - rootfs rootfs rw\n",
		"1 1 0:2 / / rw - a-type-name-longer-than-31-bytes rootfs rw\n",
		"1 1 0:2 /\n",
		"\n",
	};
	static const char nul[] = "1 1 0:2 / / rw - rootfs\0 rootfs rw\n";
	static const char loop[] = "2 3 0:2 / /a rw - tmpfs t rw\n3 2 0:2 / /b rw - tmpfs t rw\n";
	struct mount_table t;
	struct diag d;
	FILE *f;

	assert_int_equal(parse_mountinfo(good, &t, &d), 0);
	assert_int_equal(t.n, 6);
	assert_int_equal(t.items[2].id, 41);
	assert_int_equal(t.items[2].parent, 40);
	assert_string_equal(t.items[2].point, "/dev/pts");
	assert_string_equal(t.items[2].fstype, "devpts");
	assert_string_equal(t.items[4].point, "/disk image");
	assert_string_equal(t.items[5].point, "/a\\b\tc\n");
	assert_string_equal(mountinfo_find(&t, 58)->fstype, "rootfs");
	assert_null(mountinfo_find(&t, 7));
	/* The jail (58) and what is mounted in it, not the namespace's first mount or /dev. */
	assert_true(mountinfo_below(&t, 58, 58) && mountinfo_below(&t, 59, 58) && mountinfo_below(&t, 60, 58));
	assert_false(mountinfo_below(&t, 1, 58) || mountinfo_below(&t, 41, 58) || mountinfo_below(&t, 99, 58));
	mountinfo_free(&t);
	assert_int_equal(t.n, 0);

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		if (parse_mountinfo(bad[i], &t, &d) == 0)
			fail_msg("accepted: %s", bad[i]);
		assert_non_null(strstr(d.msg, "mountinfo:1: "));
		assert_int_equal(t.n, 0);
	}
	f = fmemopen((void *)(uintptr_t)nul, sizeof(nul) - 1, "r");
	assert_int_not_equal(mountinfo_parse(f, "mountinfo", &t, &d), 0);
	assert_non_null(strstr(d.msg, "NUL byte"));
	fclose(f);
	/* Parents that loop end the walk. */
	assert_int_equal(parse_mountinfo(loop, &t, &d), 0);
	assert_false(mountinfo_below(&t, 2, 1));
	mountinfo_free(&t);
	assert_int_equal(parse_mountinfo("", &t, &d), 0);
	assert_int_equal(t.n, 0);
}

static void args_flags(void **state)
{
	(void)state;
	struct jailer_args a;
	const char *full[] = { "jailer", "--id", "vm1", "--uid", "1000", "--gid", "1001",
			       "--chroot-base-dir", "/j", "--netns", "/run/netns/x", "--daemonize",
			       "--new-pid-ns", "--cleanup", "--userns", "--cgroup", "memory.max=1G",
			       "--cgroup", "pids.max=10", "--parent-cgroup", "vms/a",
			       "--resource-limit", "fsize=10", "--resource-limit", "no-file=20",
			       "--", "microvm", "--kernel", "k" };
	const char *defaults[] = { "jailer", "--id", "x", "--exec-file", "/bin/vmm", "--", "--kernel", "k" };
	const char *root[] = { "jailer", "--id", "x", "--uid", "0", "--allow-root", "--", "vmm" };
	const char *bad_cgroup[] = { "jailer", "--id", "x", "--cgroup", "a/b.max=1", "--", "vmm" };
	const char *bad_parent[] = { "jailer", "--id", "x", "--parent-cgroup", "a/../b", "--", "vmm" };
	const char *bad_limit[] = { "jailer", "--id", "x", "--resource-limit", "fsize=x", "--", "vmm" };
	const char *no_vmm[] = { "jailer", "--id", "x" };

	assert_int_equal(parse(&a, (int)ARRAY_SIZE(full), full), JAILER_ARGS_OK);
	assert_string_equal(a.id, "vm1");
	assert_int_equal(a.uid, 1000);
	assert_int_equal(a.gid, 1001);
	assert_string_equal(a.chroot_base, "/j");
	assert_string_equal(a.netns, "/run/netns/x");
	assert_true(a.daemonize && a.cleanup && a.userns);
	assert_int_equal(a.n_cgroups, 2);
	assert_string_equal(a.cgroups[1].file, "pids.max");
	assert_string_equal(a.parent_cgroup, "vms/a");
	assert_true(a.limits.fsize_set);
	assert_int_equal(a.limits.fsize, 10);
	assert_int_equal(a.limits.nofile, 20);
	assert_string_equal(a.exec_file, "microvm");
	assert_true(a.exec_search);
	assert_int_equal(a.vmm_argc, 2);
	assert_string_equal(a.vmm_argv[0], "--kernel");

	assert_int_equal(parse(&a, (int)ARRAY_SIZE(defaults), defaults), JAILER_ARGS_OK);
	assert_int_equal(a.uid, 65534);
	assert_int_equal(a.gid, 65534);
	assert_string_equal(a.chroot_base, "/srv/jailer");
	assert_int_equal(a.limits.nofile, 2048);
	assert_false(a.limits.fsize_set);
	assert_null(a.parent_cgroup);
	assert_false(a.daemonize || a.cleanup || a.userns);
	assert_string_equal(a.exec_file, "/bin/vmm");
	assert_false(a.exec_search);
	assert_int_equal(a.vmm_argc, 2);

	assert_int_equal(parse(&a, (int)ARRAY_SIZE(root), root), JAILER_ARGS_OK);
	assert_int_equal(a.uid, 0);
	assert_int_equal(parse(&a, (int)ARRAY_SIZE(bad_cgroup), bad_cgroup), JAILER_ARGS_EXIT_USAGE);
	assert_int_equal(parse(&a, (int)ARRAY_SIZE(bad_parent), bad_parent), JAILER_ARGS_EXIT_USAGE);
	assert_int_equal(parse(&a, (int)ARRAY_SIZE(bad_limit), bad_limit), JAILER_ARGS_EXIT_USAGE);
	assert_int_equal(parse(&a, (int)ARRAY_SIZE(no_vmm), no_vmm), JAILER_ARGS_EXIT_USAGE);
}

/*
 * Found by fuzz_jailer_args ("-hP"): a parse that stops inside a short-option
 * cluster must not leave glibc's getopt in it, where the next parse, of
 * another vector, would go on with the 'P' (optind = 1 did; 0 resets it).
 */
static void args_reparse_after_cluster(void **state)
{
	(void)state;
	struct jailer_args a;
	const char *cluster[] = { "jailer", "-xP" };
	const char *valid[] = { "jailer", "--id", "x", "--", "vmm" };

	assert_int_equal(parse(&a, (int)ARRAY_SIZE(cluster), cluster), JAILER_ARGS_EXIT_USAGE);
	assert_int_equal(parse(&a, (int)ARRAY_SIZE(valid), valid), JAILER_ARGS_OK);
	assert_string_equal(a.id, "x");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(id_validation),
		cmocka_unit_test(cgroup_names),
		cmocka_unit_test(cgroup_settings),
		cmocka_unit_test(resource_limits),
		cmocka_unit_test(vmm_args_files),
		cmocka_unit_test(vmm_args_follow_the_vmm_table),
		cmocka_unit_test(vmm_args_errors),
		cmocka_unit_test(vmm_args_splice),
		cmocka_unit_test(jail_paths),
		cmocka_unit_test(elf_interpreter),
		cmocka_unit_test(jail_mkdirs),
		cmocka_unit_test(mountinfo_lines),
		cmocka_unit_test(args_flags),
		cmocka_unit_test(args_reparse_after_cluster),
	};

	return cmocka_run_group_tests_name("jailer", tests, NULL, NULL);
}
