#include "lookup.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "files.h"
#include "microvm/cleanup.h"

/* A candidate that exists and is not a directory, as execvp would consider it. */
static bool lookup_candidate(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0 && !S_ISDIR(st.st_mode);
}

/* dir/name into out; false when it does not fit. */
static bool lookup_join(char *out, size_t size, const char *dir, size_t dir_len, const char *name)
{
	return (size_t)snprintf(out, size, "%.*s/%s", (int)dir_len, dir, name) < size;
}

static int lookup_search(const char *name, const char *path_env, char *out, size_t size)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n > 0) {
		char *slash;

		self[n] = '\0';
		slash = strrchr(self, '/');
		if (slash && lookup_join(out, size, self, (size_t)(slash - self), name) && lookup_candidate(out))
			return 0;
	}
	for (const char *p = path_env; ; ) {
		size_t len = strcspn(p, ":");

		/* An empty PATH entry means the current directory, as for execvp. */
		if (lookup_join(out, size, len ? p : ".", len ? len : 1, name) && lookup_candidate(out))
			return 0;
		if (p[len] == '\0')
			return -ENOENT;
		p += len + 1;
	}
}

int lookup_vmm(const char *name, bool search, const char *path_env, int *fd, char **path, struct diag *d)
{
	char found[PATH_MAX];
	cleanup_fd int f = -1;
	struct stat st;
	int ret;

	if (name[0] == '\0')
		return diag_fail(d, "VMM: empty name");
	if (search && !strchr(name, '/')) {
		if (lookup_search(name, path_env, found, sizeof(found)))
			return diag_fail_errno(d, -ENOENT, "VMM %s: not found next to the jailer or in PATH", name);
	} else if ((size_t)snprintf(found, sizeof(found), "%s", name) >= sizeof(found)) {
		return diag_fail_errno(d, -ENAMETOOLONG, "VMM %.64s...: path too long", name);
	}
	ret = files_open_original("VMM", found, false, &f, d);
	if (ret)
		return ret;
	if (fstat(f, &st))
		return diag_fail_errno(d, -errno, "VMM %s: %s", found, strerror(errno));
	if (!(st.st_mode & (S_IXUSR | S_IXGRP | S_IXOTH)))
		return diag_fail_errno(d, -EACCES, "VMM %s: not executable", found);
	if (st.st_nlink != 1)
		return diag_fail_errno(d, -EPERM, "VMM %s: has %lu hard links; the jailer copies only a file "
				       "with one name", found, (unsigned long)st.st_nlink);
	*path = strdup(found);
	if (!*path)
		return diag_fail_errno(d, -ENOMEM, "VMM %s: out of memory", found);
	*fd = steal_fd(&f);
	return 0;
}
