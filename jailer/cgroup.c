#include "cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs.h"
#include "microvm/cleanup.h"

#define CGROUP_CORE_PREFIX "cgroup"

static bool cgroup_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '-' || c == '.';
}

bool cgroup_file_valid(const char *name)
{
	size_t n = strnlen(name, CGROUP_FILE_MAX);
	const char *dot = strchr(name, '.');

	if (n == 0 || n >= CGROUP_FILE_MAX || name[0] == '.' || !dot || dot[1] == '\0')
		return false;
	if (strstr(name, ".."))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!cgroup_name_char(name[i]))
			return false;
	return true;
}

bool cgroup_path_valid(const char *path)
{
	size_t n = strnlen(path, CGROUP_PATH_MAX);
	const char *p = path;

	if (n == 0 || n >= CGROUP_PATH_MAX)
		return false;
	while (*p) {
		size_t len = strcspn(p, "/");

		if (len == 0 || (len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.'))
			return false;
		for (size_t i = 0; i < len; i++)
			if (!cgroup_name_char(p[i]))
				return false;
		p += len;
		if (*p == '/') {
			p++;
			if (*p == '\0')
				return false;
		}
	}
	return true;
}

int cgroup_setting_parse(struct cgroup_setting *s, const char *arg, struct diag *d)
{
	const char *eq = strchr(arg, '=');
	size_t name_len;

	if (!eq)
		return diag_fail(d, "--cgroup '%s': expected FILE=VALUE, e.g. memory.max=256M", arg);
	name_len = (size_t)(eq - arg);
	if (name_len == 0 || name_len >= sizeof(s->file))
		return diag_fail(d, "--cgroup '%s': the file name must be 1-%zu characters", arg,
				 sizeof(s->file) - 1);
	memcpy(s->file, arg, name_len);
	s->file[name_len] = '\0';
	if (!cgroup_file_valid(s->file))
		return diag_fail(d, "--cgroup '%s': '%s' is not a cgroup file name "
				 "(CONTROLLER.KEY of [A-Za-z0-9_.-], no '/' or '..')", arg, s->file);
	s->value = eq + 1;
	/* One write is one setting: a newline would smuggle in a second line. */
	if (s->value[0] == '\0' || strpbrk(s->value, "\n\r"))
		return diag_fail(d, "--cgroup '%s': the value must be non-empty and on one line", arg);
	return 0;
}

void cgroup_init(struct cgroup *cg)
{
	memset(cg, 0, sizeof(*cg));
	cg->mount_fd = -1;
	cg->parent_fd = -1;
	cg->fd = -1;
}

/* Undoes mountinfo's octal escapes (\040 for a space) in place. */
static void cgroup_unescape(char *s)
{
	char *out = s;

	while (*s) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*out++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 4;
		} else {
			*out++ = *s++;
		}
	}
	*out = '\0';
}

/* The mount point of the first cgroup2 filesystem in /proc/self/mountinfo. */
static int cgroup_find_mount(char *out, size_t size)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char *line = NULL;
	size_t cap = 0;
	int ret = -ENOENT;

	if (!f)
		return -errno;
	while (getline(&line, &cap, f) > 0) {
		/* id parent major:minor root mount-point options [optional...] - fstype source ... */
		char *sep = strstr(line, " - ");
		char *fields[5], *save = NULL, *tok = line;
		int i;

		if (!sep || strncmp(sep + 3, "cgroup2 ", 8))
			continue;
		*sep = '\0';
		for (i = 0; i < 5 && (fields[i] = strtok_r(tok, " ", &save)); i++)
			tok = NULL;
		if (i < 5)
			continue;
		cgroup_unescape(fields[4]);
		if (strlen(fields[4]) >= size) {
			ret = -ENAMETOOLONG;
			break;
		}
		strcpy(out, fields[4]);
		ret = 0;
		break;
	}
	free(line);
	fclose(f);
	return ret;
}

/* Reads a small cgroup file such as cgroup.controllers into buf, NUL-terminated. */
static int cgroup_read_file(int dirfd, const char *name, char *buf, size_t size)
{
	cleanup_fd int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return 0;
}

/* True when the space-separated list holds word (len bytes). */
static bool cgroup_list_has(const char *list, const char *word, size_t len)
{
	const char *p = list;

	while (*p) {
		size_t n = strcspn(p, " \n");

		if (n == len && !strncmp(p, word, len))
			return true;
		p += n;
		p += strspn(p, " \n");
	}
	return false;
}

/* The controller a setting needs ("memory" for memory.max), or 0 for core cgroup.* files. */
static size_t cgroup_controller_of(const struct cgroup_setting *s)
{
	size_t len = strcspn(s->file, ".");

	if (len == strlen(CGROUP_CORE_PREFIX) && !strncmp(s->file, CGROUP_CORE_PREFIX, len))
		return 0;
	return len;
}

int cgroup_check(struct cgroup *cg, const char *parent, const char *id,
		 const struct cgroup_setting *s, size_t n, struct diag *d)
{
	char controllers[4096];
	struct stat st;
	int ret;

	cg->parent = parent;
	cg->id = id;
	snprintf(cg->rel, sizeof(cg->rel), "%s/%s", parent, id);
	if (!cgroup_path_valid(parent))
		return diag_fail(d, "cgroup parent '%s' (--parent-cgroup, by default the exec file's name): "
				 "expected a relative path of [A-Za-z0-9_.-] components, without '.' or '..'",
				 parent);
	ret = cgroup_find_mount(cg->mount_path, sizeof(cg->mount_path));
	if (ret)
		return diag_fail_errno(d, ret, "cgroup: no cgroup v2 hierarchy in /proc/self/mountinfo: %s",
				       strerror(-ret));
	cg->mount_fd = open(cg->mount_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cg->mount_fd < 0)
		return diag_fail_errno(d, -errno, "cgroup: %s: %s", cg->mount_path, strerror(errno));
	ret = cgroup_read_file(cg->mount_fd, "cgroup.controllers", controllers, sizeof(controllers));
	if (ret)
		return diag_fail_errno(d, ret, "cgroup: %s/cgroup.controllers: %s", cg->mount_path,
				       strerror(-ret));
	controllers[strcspn(controllers, "\n")] = '\0';
	for (size_t i = 0; i < n; i++) {
		size_t len = cgroup_controller_of(&s[i]);

		if (len && !cgroup_list_has(controllers, s[i].file, len))
			return diag_fail(d, "--cgroup %s: controller '%.*s' is not available in the "
					 "cgroup v2 hierarchy at %s (available: %s)", s[i].file, (int)len,
					 s[i].file, cg->mount_path, controllers[0] ? controllers : "none");
	}
	if (fstatat(cg->mount_fd, cg->rel, &st, AT_SYMLINK_NOFOLLOW) == 0)
		return diag_fail_errno(d, -EEXIST, "cgroup %s/%s already exists", cg->mount_path, cg->rel);
	return 0;
}

static int cgroup_write(int dirfd, const char *file, const char *value)
{
	cleanup_fd int fd = openat(dirfd, file, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	size_t len = strlen(value);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, value, len);
	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

/* Writes "+controller" for every setting's controller into dirfd's cgroup.subtree_control. */
static int cgroup_enable(int dirfd, const char *where, const struct cgroup_setting *s, size_t n,
			 struct diag *d)
{
	for (size_t i = 0; i < n; i++) {
		size_t len = cgroup_controller_of(&s[i]);
		char word[CGROUP_FILE_MAX + 1];
		int ret;

		if (!len)
			continue;
		snprintf(word, sizeof(word), "+%.*s", (int)len, s[i].file);
		ret = cgroup_write(dirfd, "cgroup.subtree_control", word);
		if (ret)
			return diag_fail_errno(d, ret, "cgroup: enabling '%s' in %s/cgroup.subtree_control: %s",
					       word, where, strerror(-ret));
	}
	return 0;
}

int cgroup_create(struct cgroup *cg, struct diag *d)
{
	int ret = fs_mkdirs_at(cg->mount_fd, cg->parent, 0755, &cg->parent_fd);

	if (ret)
		return diag_fail_errno(d, ret, "cgroup: creating %s/%s: %s", cg->mount_path, cg->parent,
				       strerror(-ret));
	if (mkdirat(cg->parent_fd, cg->id, 0755))
		return diag_fail_errno(d, -errno, "cgroup: creating %s/%s: %s", cg->mount_path, cg->rel,
				       errno == EEXIST ? "it already exists" : strerror(errno));
	cg->created = true;
	cg->fd = openat(cg->parent_fd, cg->id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (cg->fd < 0)
		return diag_fail_errno(d, -errno, "cgroup: %s/%s: %s", cg->mount_path, cg->rel, strerror(errno));
	return 0;
}

int cgroup_configure(struct cgroup *cg, const struct cgroup_setting *s, size_t n, struct diag *d)
{
	char prefix[CGROUP_PATH_MAX], where[PATH_MAX + CGROUP_PATH_MAX];
	size_t len = strlen(cg->parent);
	int ret;

	/* Every level from the hierarchy's root down to <parent> (validated: no empty part). */
	for (size_t end = 0; end <= len; end++) {
		cleanup_fd int fd = -1;

		if (end != 0 && end != len && cg->parent[end] != '/')
			continue;
		snprintf(prefix, sizeof(prefix), "%.*s", (int)end, cg->parent);
		snprintf(where, sizeof(where), "%s%s%s", cg->mount_path, end ? "/" : "", prefix);
		fd = end ? openat(cg->mount_fd, prefix, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
			 : fcntl(cg->mount_fd, F_DUPFD_CLOEXEC, 0);
		if (fd < 0)
			return diag_fail_errno(d, -errno, "cgroup: %s: %s", where, strerror(errno));
		ret = cgroup_enable(fd, where, s, n, d);
		if (ret)
			return ret;
	}
	for (size_t i = 0; i < n; i++) {
		ret = cgroup_write(cg->fd, s[i].file, s[i].value);
		if (ret)
			return diag_fail_errno(d, ret, "--cgroup %s=%s: %s", s[i].file, s[i].value,
					       ret == -ENOENT ? "no such file in the cgroup" : strerror(-ret));
	}
	return 0;
}

int cgroup_join(struct cgroup *cg, struct diag *d)
{
	/* "0" names the writer itself, whatever pid namespace it is in. */
	int ret = cgroup_write(cg->fd, "cgroup.procs", "0");

	if (ret)
		return diag_fail_errno(d, ret, "cgroup: joining %s/%s: %s", cg->mount_path, cg->rel,
				       strerror(-ret));
	return 0;
}

int cgroup_remove(struct cgroup *cg)
{
	if (!cg->created)
		return 0;
	if (unlinkat(cg->parent_fd, cg->id, AT_REMOVEDIR) && errno != ENOENT)
		return -errno;
	return 0;
}
