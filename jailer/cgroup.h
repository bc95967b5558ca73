/* The VM's cgroup v2: <hierarchy>/<parent>/<id>, its limits, and the VMM moved into it. */
#ifndef JAILER_CGROUP_H
#define JAILER_CGROUP_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "microvm/compiler.h"
#include "microvm/diag.h"

#define CGROUP_FILE_MAX 64
#define CGROUP_SETTINGS_MAX 32
#define CGROUP_PATH_MAX 256

/* One --cgroup FILE=VALUE: "memory.max=256M" (controller "memory"), or a core "cgroup.*" file. */
struct cgroup_setting {
	char file[CGROUP_FILE_MAX];
	const char *value;
};

/* CONTROLLER.KEY: [A-Za-z0-9_.-] only, so never '/', never "..", never a leading '.'. */
bool cgroup_file_valid(const char *name);
/* A relative cgroup path: components of [A-Za-z0-9_.-], none empty, "." or "..". */
bool cgroup_path_valid(const char *path);
/* Parses "FILE=VALUE"; -EINVAL with a reason in d. */
MUST_CHECK int cgroup_setting_parse(struct cgroup_setting *s, const char *arg, struct diag *d);

struct cgroup {
	int mount_fd;                 /* root of the cgroup v2 hierarchy */
	int parent_fd;                /* <parent>, once created */
	int fd;                       /* <parent>/<id>, once created */
	char mount_path[PATH_MAX];
	char rel[CGROUP_PATH_MAX * 2]; /* "<parent>/<id>", for messages */
	const char *parent;
	const char *id;
	bool created;                 /* <id> was made here, so it is ours to remove */
};

void cgroup_init(struct cgroup *cg);
/*
 * Finds the cgroup v2 hierarchy and checks, creating nothing, that every controller the
 * settings name is available there and that <parent>/<id> does not exist yet.
 */
MUST_CHECK int cgroup_check(struct cgroup *cg, const char *parent, const char *id,
			    const struct cgroup_setting *s, size_t n, struct diag *d);
/* Creates <parent>/<id> (and a missing <parent>), empty: part of building the jail. */
MUST_CHECK int cgroup_create(struct cgroup *cg, struct diag *d);
/*
 * Enables the settings' controllers in every cgroup above <id> (cgroup v2 offers a child
 * only what its parent's cgroup.subtree_control lists), then writes the settings.
 */
MUST_CHECK int cgroup_configure(struct cgroup *cg, const struct cgroup_setting *s, size_t n,
				struct diag *d);
/* Moves the calling process in; done after the limits so it never runs unlimited there. */
MUST_CHECK int cgroup_join(struct cgroup *cg, struct diag *d);
/* Removes <parent>/<id>, which is empty once its processes have exited; 0 if already gone. */
MUST_CHECK int cgroup_remove(struct cgroup *cg);

#endif
