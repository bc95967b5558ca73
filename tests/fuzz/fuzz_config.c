/*
 * config_parse, microvm's command line, on any argument vector: the input split
 * at NUL bytes is argv after "microvm". An accepted vector yields only values in
 * their documented ranges, strings that point into argv or are bounded copies,
 * and the same result when parsed again.
 */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "microvm/config.h"

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

static void check_accepted(const struct microvm_config *c, char **argv, int argc)
{
	FUZZ_CHECK(c->kernel_path ? fuzz_in_argv(c->kernel_path, argv, argc, NULL) : c->print_seccomp);
	FUZZ_CHECK(!c->initrd_path || fuzz_in_argv(c->initrd_path, argv, argc, NULL));
	FUZZ_CHECK(fuzz_in_argv(c->cmdline, argv, argc, CONFIG_DEFAULT_CMDLINE));
	FUZZ_CHECK(!c->seccomp_policy || fuzz_in_argv(c->seccomp_policy, argv, argc, NULL));
	FUZZ_CHECK(c->mem_mib >= CONFIG_MIN_MEM_MIB && c->mem_mib <= CONFIG_MAX_MEM_MIB);
	FUZZ_CHECK(c->vcpus >= 1 && c->vcpus <= CONFIG_MAX_VCPUS);
	FUZZ_CHECK(c->verbosity >= -1);
	FUZZ_CHECK(c->nr_drives <= CONFIG_MAX_DRIVES);
	for (unsigned int i = 0; i < c->nr_drives; i++) {
		const struct config_drive *d = &c->drives[i];

		FUZZ_CHECK(d->path_len > 0 && fuzz_in_argv(d->path, argv, argc, NULL) &&
			   fuzz_in_argv(d->path + d->path_len - 1, argv, argc, NULL));
		FUZZ_CHECK(bounded(d->id, sizeof(d->id), CONFIG_DRIVE_ID_MAX) &&
			   strspn(d->id, DRIVE_ID_CHARS) == strlen(d->id));
		/* Each drive answers GET_ID with its own id. */
		for (unsigned int j = 0; j < i; j++)
			FUZZ_CHECK(strcmp(d->id, c->drives[j].id) != 0);
	}
	/* A name the kernel takes for an interface (dev_valid_name). */
	FUZZ_CHECK(!c->net.enabled ||
		   (bounded(c->net.tap, sizeof(c->net.tap), CONFIG_TAP_NAME_MAX) &&
		    !strpbrk(c->net.tap, IFNAME_BAD_CHARS) && strcmp(c->net.tap, ".") != 0 &&
		    strcmp(c->net.tap, "..") != 0));
	/* A MAC the guest can use: unicast, not all zeros. */
	FUZZ_CHECK(!c->net.has_mac || (c->net.enabled && !(c->net.mac[0] & 1) &&
				       memcmp(c->net.mac, "\0\0\0\0\0\0", 6) != 0));
	if (c->vsock.enabled) {
		FUZZ_CHECK(c->vsock.cid >= CONFIG_VSOCK_CID_MIN && c->vsock.cid <= CONFIG_VSOCK_CID_MAX);
		FUZZ_CHECK(bounded(c->vsock.uds, sizeof(c->vsock.uds), CONFIG_UDS_PATH_MAX));
	}
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
	FUZZ_CHECK(r != CONFIG_OK || memcmp(&cfg, &again, sizeof(cfg)) == 0);
	free(argv);
	free(buf);
	return 0;
}
