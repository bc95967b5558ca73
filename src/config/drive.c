#include "config/drive.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "config/devices.h"
#include "microvm/compiler.h"

static bool drive_id_valid(const char *id)
{
	return strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") ==
	       strlen(id);
}

static void drive_defaults(void *config, unsigned int index)
{
	struct drive_config *c = config;

	if (!c->id[0])
		snprintf(c->id, sizeof(c->id), "drive%u", index);
}

/* Drive ids answer GET_ID, so each names one drive; one root at most. */
static int drive_check(void *const *configs, unsigned int n, struct diag *d)
{
	for (unsigned int i = 0; i < n; i++) {
		const struct drive_config *a = configs[i];

		for (unsigned int j = 0; j < i; j++) {
			const struct drive_config *b = configs[j];

			if (!strcmp(a->id, b->id))
				return diag_fail(d, "id '%s' used twice", a->id);
			if (a->root && b->root)
				return diag_fail(d, "'%s' and '%s' are both the root device", b->id, a->id);
		}
	}
	return 0;
}

static const struct devspec_field drive_fields[] = {
	{ .key = "path", .type = DEVSPEC_PATH, .offset = offsetof(struct drive_config, path),
	  .required = true, .place = DEVSPEC_PLACE_BIND, .rule = "path must not be empty" },
	{ .key = "ro", .type = DEVSPEC_FLAG, .offset = offsetof(struct drive_config, read_only),
	  .read_only = true },
	{ .key = "root", .type = DEVSPEC_FLAG, .offset = offsetof(struct drive_config, root) },
	{ .key = "id", .type = DEVSPEC_NAME, .offset = offsetof(struct drive_config, id),
	  .max = DRIVE_ID_MAX, .valid = drive_id_valid,
	  .rule = "id must be 1-" STRINGIFY(DRIVE_ID_MAX) " of A-Z a-z 0-9 . _ -" },
};

const struct device_spec drive_spec = {
	.name = "virtio-blk",
	.option = "drive",
	.usage = "  --drive path=FILE[,ro][,root][,id=NAME]\n"
		 "                    a virtio-blk disk over the raw image FILE (repeatable, at\n"
		 "                    most " STRINGIFY(DRIVES_MAX) "); ro makes it read-only; root makes it the guest's\n"
		 "                    root (root=/dev/vdX on its command line); NAME (at most " STRINGIFY(DRIVE_ID_MAX) "\n"
		 "                    of A-Z a-z 0-9 . _ -, default driveN) is its serial number\n",
	.grammar = "path=FILE[,ro][,root][,id=NAME]",
	.max = DRIVES_MAX,
	.too_many = "at most " STRINGIFY(DRIVES_MAX) " drives",
	.config_size = sizeof(struct drive_config),
	.fields = drive_fields,
	.nr_fields = ARRAY_SIZE(drive_fields),
	.defaults = drive_defaults,
	.check = drive_check,
};
