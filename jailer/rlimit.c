#include "rlimit.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "microvm/strparse.h"

void rlimit_settings_init(struct rlimit_settings *r)
{
	r->fsize_set = false;
	r->fsize = 0;
	r->nofile = RLIMIT_SETTINGS_DEFAULT_NOFILE;
}

int rlimit_parse(struct rlimit_settings *r, const char *arg, struct diag *d)
{
	const char *eq = strchr(arg, '=');
	uint64_t v;
	size_t name_len;

	if (!eq)
		return diag_fail(d, "--resource-limit '%s': expected NAME=VALUE (fsize or no-file)", arg);
	name_len = (size_t)(eq - arg);
	if (!parse_decimal_u64(eq + 1, 0, UINT64_MAX, &v))
		return diag_fail(d, "--resource-limit '%s': the value must be a decimal number", arg);
	if (name_len == strlen("fsize") && !strncmp(arg, "fsize", name_len)) {
		r->fsize_set = true;
		r->fsize = v;
	} else if (name_len == strlen("no-file") && !strncmp(arg, "no-file", name_len)) {
		r->nofile = v;
	} else {
		return diag_fail(d, "--resource-limit '%s': unknown limit (expected fsize or no-file)", arg);
	}
	return 0;
}

static int rlimit_set(int resource, uint64_t v)
{
	struct rlimit rl = { .rlim_cur = (rlim_t)v, .rlim_max = (rlim_t)v };

	return setrlimit(resource, &rl) ? -errno : 0;
}

int rlimit_apply(const struct rlimit_settings *r, struct diag *d)
{
	int ret;

	if (r->fsize_set) {
		ret = rlimit_set(RLIMIT_FSIZE, r->fsize);
		if (ret)
			return diag_fail_errno(d, ret, "--resource-limit fsize=%llu: %s",
					       (unsigned long long)r->fsize, strerror(-ret));
	}
	ret = rlimit_set(RLIMIT_NOFILE, r->nofile);
	if (ret)
		return diag_fail_errno(d, ret, "--resource-limit no-file=%llu: %s%s",
				       (unsigned long long)r->nofile, strerror(-ret),
				       ret == -EPERM ? " (above the hard limit or fs.nr_open)" : "");
	return 0;
}
