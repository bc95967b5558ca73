/*
 * config_parse, microvm's command line, on any argument vector: the input split
 * at NUL bytes is argv after "microvm". An accepted vector yields only values in
 * their documented ranges, strings that are owned copies of text the vector holds,
 * and the same result when parsed again.
 */
#include <stdlib.h>
#include <string.h>

#include "config/balloon.h"
#include "config/cli.h"
#include "config/devices.h"
#include "config/drive.h"
#include "config/net.h"
#include "config/rng.h"
#include "config/vsock.h"
#include "harness.h"

#define DRIVE_ID_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-"
/* Control characters and space, '/', ':' and DEL. */
#define IFNAME_BAD_CHARS                                                                          \
	"\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10\x11\x12\x13\x14\x15\x16"  \
	"\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f /:\x7f"

static enum config_result parse_quietly(struct microvm_config *cfg, int argc, char **argv)
{
	enum config_result r;

	fuzz_quiet(true);
	r = config_parse(cfg, argc, argv);
	fuzz_quiet(false);
	return r;
}

/* A fixed-size string field: terminated, non-empty, at most max bytes. */
static bool bounded(const char *s, size_t size, size_t max)
{
	const char *end = memchr(s, '\0', size);

	return end && end > s && (size_t)(end - s) <= max;
}

/* s is the parser's own copy (not argv's memory) of text found in one of the arguments. */
static bool copied_from_argv(const char *s, char **argv, int argc)
{
	if (!s || fuzz_in_argv(s, argv, argc, NULL))
		return false;
	for (int i = 1; i < argc; i++) {
		if (strstr(argv[i], s))
			return true;
	}
	return false;
}

static void check_drives(const struct vm_resources *r, char **argv, int argc)
{
	const struct drive_config *seen[DRIVES_MAX];
	unsigned int n = 0;

	for (unsigned int i = 0; i < r->nr_devices; i++) {
		const struct drive_config *d = r->devices[i].config;

		if (r->devices[i].spec != &drive_spec)
			continue;
		FUZZ_CHECK(n < DRIVES_MAX);
		FUZZ_CHECK(d->path[0] && copied_from_argv(d->path, argv, argc));
		FUZZ_CHECK(bounded(d->id, sizeof(d->id), DRIVE_ID_MAX) &&
			   strspn(d->id, DRIVE_ID_CHARS) == strlen(d->id));
		/* Each drive answers GET_ID with its own id. */
		for (unsigned int j = 0; j < n; j++)
			FUZZ_CHECK(strcmp(d->id, seen[j]->id) != 0);
		seen[n++] = d;
	}
}

static void check_limiter(const struct rate_limiter_config *c)
{
	FUZZ_CHECK(c->bandwidth.refill_time_ms <= RATELIMIT_REFILL_MS_MAX &&
		   c->ops.refill_time_ms <= RATELIMIT_REFILL_MS_MAX);
}

static void check_device(const struct device_config *dc, char **argv, int argc)
{
	if (dc->spec == &net_spec) {
		const struct net_config *net = dc->config;

		/* A name the kernel takes for an interface (dev_valid_name). */
		FUZZ_CHECK(bounded(net->tap, sizeof(net->tap), NET_TAP_NAME_MAX) &&
			   !strpbrk(net->tap, IFNAME_BAD_CHARS) && strcmp(net->tap, ".") != 0 &&
			   strcmp(net->tap, "..") != 0);
		/* A MAC the guest can use: unicast, not all zeros. */
		FUZZ_CHECK(!net->has_mac ||
			   (!(net->mac[0] & 1) && memcmp(net->mac, "\0\0\0\0\0\0", 6) != 0));
	} else if (dc->spec == &vsock_spec) {
		const struct vsock_config *vs = dc->config;

		FUZZ_CHECK(vs->cid >= VSOCK_CONFIG_CID_MIN && vs->cid <= VSOCK_CONFIG_CID_MAX);
		FUZZ_CHECK(strlen(vs->uds) <= VSOCK_CONFIG_UDS_MAX && copied_from_argv(vs->uds, argv, argc));
	} else if (dc->spec == &balloon_spec) {
		const struct balloon_config *b = dc->config;

		/* The target in pages fits the config space's 32 bits. */
		FUZZ_CHECK(b->amount_mib <= BALLOON_AMOUNT_MIB_MAX &&
			   b->stats_interval_s <= BALLOON_STATS_INTERVAL_MAX);
	} else {
		FUZZ_CHECK(dc->spec == &drive_spec || dc->spec == &rng_spec);
	}
	/* A refill time whose nanoseconds overflow never gets through. */
	if (dc->spec == &drive_spec)
		check_limiter(&((const struct drive_config *)dc->config)->limiter);
	else if (dc->spec == &net_spec) {
		check_limiter(&((const struct net_config *)dc->config)->rx_limiter);
		check_limiter(&((const struct net_config *)dc->config)->tx_limiter);
	} else if (dc->spec == &rng_spec)
		check_limiter(&((const struct rng_config *)dc->config)->limiter);
}

static void check_accepted(const struct microvm_config *c, char **argv, int argc)
{
	const struct vm_resources *r = &c->res;

	FUZZ_CHECK(r->boot.kernel_path ? copied_from_argv(r->boot.kernel_path, argv, argc) ||
						 !r->boot.kernel_path[0]
				       : c->print_seccomp || c->api_sock || c->restoring);
	/* A restore is --snapshot's (both paths from argv) or a config file's snapshot-load. */
	FUZZ_CHECK(!c->restoring || (c->restore.snapshot_path && c->restore.mem_path));
	FUZZ_CHECK(!c->snapshot || (c->restoring && fuzz_in_argv(c->restore.snapshot_path, argv, argc, NULL) &&
				    fuzz_in_argv(c->restore.mem_path, argv, argc, NULL)));
	FUZZ_CHECK(!c->api_sock || fuzz_in_argv(c->api_sock, argv, argc, NULL));
	FUZZ_CHECK(config_id_valid(c->id));
	FUZZ_CHECK(!r->boot.initrd_path || !r->boot.initrd_path[0] ||
		   copied_from_argv(r->boot.initrd_path, argv, argc));
	FUZZ_CHECK(!r->boot.cmdline || !r->boot.cmdline[0] ||
		   copied_from_argv(r->boot.cmdline, argv, argc));
	FUZZ_CHECK(!c->seccomp_policy || fuzz_in_argv(c->seccomp_policy, argv, argc, NULL));
	FUZZ_CHECK(r->machine.mem_mib >= RESOURCES_MIN_MEM_MIB && r->machine.mem_mib <= RESOURCES_MAX_MEM_MIB);
	FUZZ_CHECK(r->machine.vcpus >= 1 && r->machine.vcpus <= RESOURCES_MAX_VCPUS);
	FUZZ_CHECK(c->verbosity >= -1);
	FUZZ_CHECK(r->nr_devices <= RESOURCES_MAX_DEVICES);
	for (unsigned int i = 0; i < r->nr_devices; i++) {
		check_device(&r->devices[i], argv, argc);
		FUZZ_CHECK(resources_count(r, r->devices[i].spec) <= r->devices[i].spec->max);
	}
	check_drives(r, argv, argc);
}

/* The same strings, numbers and devices: what a second parse of the vector must give. */
static bool same_config(const struct microvm_config *a, const struct microvm_config *b)
{
	const struct vm_resources *x = &a->res, *y = &b->res;
	bool same = a->check_only == b->check_only && a->seccomp == b->seccomp &&
		    a->seccomp_policy == b->seccomp_policy && a->print_seccomp == b->print_seccomp &&
		    a->verbosity == b->verbosity && a->restoring == b->restoring &&
		    a->restore.resume_vm == b->restore.resume_vm && x->machine.vcpus == y->machine.vcpus &&
		    x->machine.mem_mib == y->machine.mem_mib && x->machine.pvm == y->machine.pvm &&
		    !strcmp(resources_cmdline(x), resources_cmdline(y)) && x->nr_devices == y->nr_devices &&
		    !x->boot.kernel_path == !y->boot.kernel_path && !x->boot.initrd_path == !y->boot.initrd_path &&
		    (!x->boot.kernel_path || !strcmp(x->boot.kernel_path, y->boot.kernel_path)) &&
		    (!x->boot.initrd_path || !strcmp(x->boot.initrd_path, y->boot.initrd_path));

	for (unsigned int i = 0; same && i < x->nr_devices; i++) {
		const struct device_config *p = &x->devices[i], *q = &y->devices[i];

		same = p->spec == q->spec;
		if (same && p->spec == &drive_spec) {
			const struct drive_config *d = p->config, *e = q->config;

			same = !strcmp(d->path, e->path) && d->read_only == e->read_only && !strcmp(d->id, e->id);
		} else if (same && p->spec == &net_spec) {
			same = memcmp(p->config, q->config, sizeof(struct net_config)) == 0;
		} else if (same && p->spec == &vsock_spec) {
			const struct vsock_config *v = p->config, *w = q->config;

			same = v->cid == w->cid && !strcmp(v->uds, w->uds);
		}
	}
	return same;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct microvm_config cfg, again;
	enum config_result r;
	char *buf, **argv;
	int argc;

	argv = fuzz_split_argv(data, size, "microvm", &buf, &argc);
	r = parse_quietly(&cfg, argc, argv);
	if (r == CONFIG_OK)
		check_accepted(&cfg, argv, argc);
	else
		FUZZ_CHECK(r == CONFIG_EXIT_HELP || r == CONFIG_EXIT_USAGE);
	/* No hidden state: the same vector parses the same way again (getopt keeps some in globals). */
	FUZZ_CHECK(parse_quietly(&again, argc, argv) == r);
	FUZZ_CHECK(r != CONFIG_OK || same_config(&cfg, &again));
	if (r == CONFIG_OK) {
		config_free(&cfg);
		config_free(&again);
	}
	free(argv);
	free(buf);
	return 0;
}
