#include "elfdeps.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "microvm/cleanup.h"

#define ELFDEPS_PHNUM_MAX 128
#define ELFDEPS_DYN_MAX 4096
#define ELFDEPS_LIBS_MAX 64

/*
 * glibc's built-in search path on x86-64 Debian (`ld.so --help`), in its order: with no
 * /etc/ld.so.cache in the jail, these are where the interpreter looks, so the libraries
 * are copied to the same paths.
 */
static const char *const elfdeps_dirs[] = {
	"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib", "/usr/lib",
};

struct elf_file {
	int fd;
	uint64_t size;
	Elf64_Ehdr eh;
	Elf64_Phdr ph[ELFDEPS_PHNUM_MAX];
};

struct elfdeps_queue {
	char name[ELFDEPS_LIBS_MAX][NAME_MAX + 1];
	size_t n;
};

/* Reads exactly len bytes at off, which must lie within the file. */
static int elf_pread(const struct elf_file *e, void *buf, uint64_t len, uint64_t off)
{
	uint64_t end;
	ssize_t n;

	if (add_overflows_u64(off, len, &end) || end > e->size)
		return -ENOEXEC;
	n = pread(e->fd, buf, len, (off_t)off);
	if (n < 0)
		return -errno;
	return (uint64_t)n == len ? 0 : -ENOEXEC;
}

/* An x86-64 little-endian ELF executable or shared object, with sane program headers. */
static int elf_open(struct elf_file *e, int fd)
{
	struct stat st;
	int ret;

	e->fd = fd;
	if (fstat(fd, &st))
		return -errno;
	e->size = (uint64_t)st.st_size;
	ret = elf_pread(e, &e->eh, sizeof(e->eh), 0);
	if (ret)
		return ret;
	if (memcmp(e->eh.e_ident, ELFMAG, SELFMAG) || e->eh.e_ident[EI_CLASS] != ELFCLASS64 ||
	    e->eh.e_ident[EI_DATA] != ELFDATA2LSB || e->eh.e_ident[EI_VERSION] != EV_CURRENT ||
	    e->eh.e_machine != EM_X86_64 || (e->eh.e_type != ET_EXEC && e->eh.e_type != ET_DYN) ||
	    e->eh.e_phentsize != sizeof(Elf64_Phdr) || e->eh.e_phnum > ELFDEPS_PHNUM_MAX)
		return -ENOEXEC;
	return elf_pread(e, e->ph, (uint64_t)e->eh.e_phnum * sizeof(Elf64_Phdr), e->eh.e_phoff);
}

static const Elf64_Phdr *elf_find(const struct elf_file *e, uint32_t type)
{
	for (size_t i = 0; i < e->eh.e_phnum; i++)
		if (e->ph[i].p_type == type)
			return &e->ph[i];
	return NULL;
}

/* The file offset of [vaddr, vaddr + len), which must lie in one PT_LOAD's file bytes. */
static int elf_vaddr_to_off(const struct elf_file *e, uint64_t vaddr, uint64_t len, uint64_t *off)
{
	for (size_t i = 0; i < e->eh.e_phnum; i++) {
		const Elf64_Phdr *p = &e->ph[i];

		if (p->p_type != PT_LOAD || vaddr < p->p_vaddr)
			continue;
		if (vaddr - p->p_vaddr > p->p_filesz || len > p->p_filesz - (vaddr - p->p_vaddr))
			continue;
		return add_overflows_u64(p->p_offset, vaddr - p->p_vaddr, off) ? -ENOEXEC : 0;
	}
	return -ENOEXEC;
}

/* Reads PT_INTERP into out; *has is false for a static executable. */
static int elf_interp(const struct elf_file *e, char *out, size_t size, bool *has)
{
	const Elf64_Phdr *p = elf_find(e, PT_INTERP);
	int ret;

	*has = p != NULL;
	if (!p)
		return 0;
	if (p->p_filesz < 2 || p->p_filesz > size)
		return -ENOEXEC;
	ret = elf_pread(e, out, p->p_filesz, p->p_offset);
	if (ret)
		return ret;
	if (out[p->p_filesz - 1] != '\0' || strlen(out) != p->p_filesz - 1 || out[0] != '/')
		return -ENOEXEC;
	return 0;
}

static bool elfdeps_queued(const struct elfdeps_queue *q, const char *name)
{
	for (size_t i = 0; i < q->n; i++)
		if (!strcmp(q->name[i], name))
			return true;
	return false;
}

/* Appends e's DT_NEEDED names that are not queued yet. */
static int elf_needed(const struct elf_file *e, struct elfdeps_queue *q)
{
	const Elf64_Phdr *p = elf_find(e, PT_DYNAMIC);
	cleanup_free Elf64_Dyn *dyn = NULL;
	cleanup_free char *strtab = NULL;
	uint64_t count, strtab_vaddr = 0, strsz = 0, stroff;
	bool have_strtab = false;
	int ret;

	if (!p)
		return 0;
	count = p->p_filesz / sizeof(Elf64_Dyn);
	if (count == 0 || count > ELFDEPS_DYN_MAX)
		return -ENOEXEC;
	dyn = calloc(count, sizeof(*dyn));
	if (!dyn)
		return -ENOMEM;
	ret = elf_pread(e, dyn, count * sizeof(*dyn), p->p_offset);
	if (ret)
		return ret;
	for (uint64_t i = 0; i < count && dyn[i].d_tag != DT_NULL; i++) {
		if (dyn[i].d_tag == DT_STRTAB) {
			strtab_vaddr = dyn[i].d_un.d_ptr;
			have_strtab = true;
		} else if (dyn[i].d_tag == DT_STRSZ) {
			strsz = dyn[i].d_un.d_val;
		}
	}
	if (!have_strtab || strsz == 0 || strsz > e->size)
		return -ENOEXEC;
	ret = elf_vaddr_to_off(e, strtab_vaddr, strsz, &stroff);
	if (ret)
		return ret;
	strtab = malloc(strsz);
	if (!strtab)
		return -ENOMEM;
	ret = elf_pread(e, strtab, strsz, stroff);
	if (ret)
		return ret;
	for (uint64_t i = 0; i < count && dyn[i].d_tag != DT_NULL; i++) {
		const char *name;
		size_t len;

		if (dyn[i].d_tag != DT_NEEDED)
			continue;
		if (dyn[i].d_un.d_val >= strsz)
			return -ENOEXEC;
		name = strtab + dyn[i].d_un.d_val;
		len = strnlen(name, strsz - dyn[i].d_un.d_val);
		/* A name with a '/' is a path the jail does not reproduce; "." and ".." are never names. */
		if (len == 0 || len > NAME_MAX || len == strsz - dyn[i].d_un.d_val || strchr(name, '/') ||
		    !strcmp(name, ".") || !strcmp(name, ".."))
			return -ENOEXEC;
		if (elfdeps_queued(q, name))
			continue;
		if (q->n == ELFDEPS_LIBS_MAX)
			return -E2BIG;
		memcpy(q->name[q->n++], name, len + 1);
	}
	return 0;
}

/*
 * The jail path of the interpreter is PT_INTERP itself: an absolute path of plain names,
 * without empty, "." or ".." components, so that it names a place inside the jail.
 */
static bool elfdeps_interp_path_ok(const char *path)
{
	const char *p = path;

	if (*p != '/')
		return false;
	while (*p == '/') {
		size_t len = strcspn(++p, "/");

		if (len == 0 || len > NAME_MAX || (len == 1 && p[0] == '.') ||
		    (len == 2 && p[0] == '.' && p[1] == '.'))
			return false;
		p += len;
	}
	return *p == '\0';
}

/*
 * A file the jailer copies into the jail as a program (root-owned, mode 0555) must be a
 * system file already: owned by root, writable by no one else and readable by everyone,
 * so the copy neither trusts a user's file nor reveals one only root could read.
 */
static int elfdeps_check_system_file(int fd, const char *exe_path, const char *what, const char *path,
				     struct diag *d)
{
	struct stat st;

	if (fstat(fd, &st))
		return diag_fail_errno(d, -errno, "VMM %s: %s %s: %s", exe_path, what, path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return diag_fail(d, "VMM %s: %s %s is not a regular file", exe_path, what, path);
	if (st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH)) || !(st.st_mode & S_IROTH))
		return diag_fail_errno(d, -EPERM, "VMM %s: %s %s: owner uid %u, mode %04o: a system file "
				       "(owned by root, writable only by it, readable by all) is required",
				       exe_path, what, path, (unsigned int)st.st_uid,
				       (unsigned int)(st.st_mode & 07777));
	return 0;
}

/* The first system directory holding an x86-64 shared object called name, as ld.so picks it. */
static int elfdeps_find(const char *name, struct elf_file *e, char *path, size_t size)
{
	for (size_t i = 0; i < ARRAY_SIZE(elfdeps_dirs); i++) {
		int fd;

		snprintf(path, size, "%s/%s", elfdeps_dirs[i], name);
		/* System paths: their symlinks (libfoo.so.1 -> libfoo.so.1.2.3) are the distribution's. */
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (elf_open(e, fd) == 0 && e->eh.e_type == ET_DYN)
			return fd;
		close(fd);
	}
	return -ENOENT;
}

static int elfdeps_add(struct jail_files *files, int fd, const char *path, const char *exe_path,
		       struct diag *d)
{
	int ret;

	if (files_has(files, path)) {
		close(fd);
		return 0;
	}
	ret = files_add(files, JAIL_FILE_PROGRAM, fd, path);
	if (ret)
		return diag_fail_errno(d, ret, "VMM %s: cannot place %s in the jail: %s", exe_path, path,
				       ret == -EEXIST ? "its path clashes with another file" : strerror(-ret));
	return 0;
}

int elfdeps_collect(int exe_fd, const char *exe_path, struct jail_files *files, struct diag *d)
{
	cleanup_free struct elf_file *e = calloc(1, sizeof(*e));
	cleanup_free struct elfdeps_queue *q = calloc(1, sizeof(*q));
	char interp[PATH_MAX], path[PATH_MAX];
	bool dynamic;
	int fd, ret;

	if (!e || !q)
		return diag_fail_errno(d, -ENOMEM, "VMM %s: out of memory", exe_path);
	ret = elf_open(e, exe_fd);
	if (ret == 0)
		ret = elf_interp(e, interp, sizeof(interp), &dynamic);
	if (ret == 0 && dynamic)
		ret = elf_needed(e, q);
	if (ret)
		return diag_fail_errno(d, ret, "VMM %s: not an x86-64 ELF executable the jailer can read (%s)",
				       exe_path, strerror(-ret));
	if (!dynamic)
		return 0;

	if (!elfdeps_interp_path_ok(interp))
		return diag_fail(d, "VMM %s: its ELF interpreter '%s': not a plain absolute path (empty, "
				 "'.' or '..' components)", exe_path, interp);
	/* Symlinks are followed, as the kernel does (/lib64 is one on Debian); the target is checked. */
	fd = open(interp, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return diag_fail_errno(d, -errno, "VMM %s: its ELF interpreter %s: %s", exe_path, interp,
				       strerror(errno));
	ret = elfdeps_check_system_file(fd, exe_path, "its ELF interpreter", interp, d);
	if (!ret && (elf_open(e, fd) || e->eh.e_type != ET_DYN))
		ret = diag_fail(d, "VMM %s: its ELF interpreter %s is not an x86-64 ELF shared object",
				exe_path, interp);
	if (ret) {
		close(fd);
		return ret;
	}
	ret = elfdeps_add(files, fd, interp, exe_path, d);
	if (ret)
		return ret;
	/* Breadth first over the queue, which grows with each library's own needs. */
	for (size_t i = 0; i < q->n; i++) {
		fd = elfdeps_find(q->name[i], e, path, sizeof(path));
		if (fd < 0)
			return diag_fail_errno(d, fd, "VMM %s: needs %s, which is in none of the system "
					       "library directories (%s first)", exe_path, q->name[i],
					       elfdeps_dirs[0]);
		ret = elf_needed(e, q);
		if (ret) {
			close(fd);
			return diag_fail_errno(d, ret, "VMM %s: library %s: unreadable dynamic section (%s)",
					       exe_path, path, strerror(-ret));
		}
		ret = elfdeps_check_system_file(fd, exe_path, "library", path, d);
		if (ret) {
			close(fd);
			return ret;
		}
		ret = elfdeps_add(files, fd, path, exe_path, d);
		if (ret)
			return ret;
	}
	return 0;
}
