#include "jailconfig.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config/devices.h"
#include "config/drive.h"
#include "config/vmconfig.h"
#include "config/vsock.h"
#include "vmmargs.h"

/* Brings the file at *path into the jail at /<its name> and points *path there. */
static int jailconfig_bring(struct jail_files *files, const char *field, char **path, bool disk,
			    bool read_only, struct diag *d)
{
	char inside[NAME_MAX + 2], *copy;
	int fd, ret = files_open_original(field, *path, disk, &fd, d);

	if (ret)
		return ret;
	snprintf(inside, sizeof(inside), "/%s", files_basename(*path));
	ret = files_add(files, disk ? JAIL_FILE_DISK : JAIL_FILE_INPUT, fd, inside);
	if (ret == -EEXIST)
		return diag_fail_errno(d, ret, "%s %s: the jail already holds a file or directory %s; "
				       "rename one of them", field, *path, inside);
	if (ret)
		return diag_fail_errno(d, ret, "%s %s: %s", field, *path, strerror(-ret));
	files->items[files->n - 1].read_only = read_only;
	copy = strdup(inside);
	if (!copy)
		return diag_fail_errno(d, -ENOMEM, "out of memory");
	free(*path);
	*path = copy;
	return 0;
}

/* A path the VMM creates: it stays as written, and must be in the jail's run directory. */
static int jailconfig_created(const char *field, const char *path, struct diag *d)
{
	if (!path || vmmargs_in_run_dir(path, strlen(path)))
		return 0;
	return diag_fail(d, "%s %s: the VMM creates it, which a jail allows only in " VMMARGS_RUN_DIR
			 " (such as " VMMARGS_RUN_DIR "metrics)", field, path);
}

static int jailconfig_files(struct jail_files *files, struct vm_resources *r, struct diag *d)
{
	int ret = jailconfig_bring(files, "boot-source.kernel_image_path", &r->boot.kernel_path,
				   false, false, d);

	if (!ret && r->boot.initrd_path)
		ret = jailconfig_bring(files, "boot-source.initrd_path", &r->boot.initrd_path, false,
				       false, d);
	for (unsigned int i = 0; !ret && i < r->nr_devices; i++) {
		if (r->devices[i].spec == &drive_spec) {
			struct drive_config *c = r->devices[i].config;

			ret = jailconfig_bring(files, "drives.path_on_host", &c->path, true, c->read_only, d);
		} else if (r->devices[i].spec == &vsock_spec) {
			const struct vsock_config *c = r->devices[i].config;

			ret = jailconfig_created("vsock.uds_path", c->uds, d);
		}
	}
	if (!ret)
		ret = jailconfig_created("logger.log_path", r->logger.path, d);
	if (!ret)
		ret = jailconfig_created("metrics.metrics_path", r->metrics.path, d);
	return ret;
}

/* The rewritten config as an in-memory file, to be copied into the jail like an input. */
static int jailconfig_memfd(const struct vm_resources *r, int *out, struct diag *d)
{
	json_t *v = vmconfig_export(r);
	char *text = v ? json_dumps(v, JSON_INDENT(2)) : NULL;
	size_t len = text ? strlen(text) : 0, off = 0;
	int fd = text ? memfd_create("config", MFD_CLOEXEC) : -1, ret = 0;

	json_decref(v);
	if (!text)
		return diag_fail_errno(d, -ENOMEM, "out of memory");
	if (fd < 0)
		ret = diag_fail_errno(d, -errno, "memfd_create: %s", strerror(errno));
	while (!ret && off < len) {
		ssize_t n = write(fd, text + off, len - off);

		if (n <= 0)
			ret = diag_fail_errno(d, -EIO, "writing the jail's config: %s", strerror(errno));
		else
			off += (size_t)n;
	}
	free(text);
	if (ret) {
		if (fd >= 0)
			close(fd);
		return ret;
	}
	*out = fd;
	return 0;
}

int jailconfig_take(struct jail_files *files, const char *host, char *inside, size_t inside_size,
		    struct diag *d)
{
	struct vm_resources r;
	int fd = -1, ret;

	resources_init(&r);
	ret = vmconfig_load(&r, host, d);
	if (!ret && r.snapshot_load)
		ret = diag_fail(d, "snapshot-load: a jailed VMM restores with --snapshot FILE --mem-file FILE, "
				"whose files the jailer brings into the jail");
	if (!ret && !r.boot.kernel_path)
		ret = diag_fail(d, "no boot-source: a jailed VMM boots from its config file at once");
	if (!ret)
		ret = jailconfig_files(files, &r, d);
	if (!ret)
		ret = jailconfig_memfd(&r, &fd, d);
	resources_free(&r);
	if (ret)
		return ret;
	snprintf(inside, inside_size, "/%s", files_basename(host));
	ret = files_add(files, JAIL_FILE_INPUT, fd, inside);
	if (ret == -EEXIST)
		return diag_fail_errno(d, ret, "the jail already holds a file or directory %s; rename "
				       "the config file", inside);
	return ret ? diag_fail_errno(d, ret, "%s", strerror(-ret)) : 0;
}
