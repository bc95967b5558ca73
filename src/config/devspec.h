/*
 * A device kind's configuration, described as data: its option, the fields of its
 * KEY=VALUE,FLAG,... text, how many a VM may have. One generic parser fills a kind's
 * config struct from that text (the command line) or one field at a time (the JSON
 * config file and the API next); the jailer reads the same fields to find the paths a
 * device names. KVM-free: the jailer links it.
 */
#ifndef MICROVM_CONFIG_DEVSPEC_H
#define MICROVM_CONFIG_DEVSPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "microvm/compiler.h"
#include "microvm/diag.h"

/* How a jail places the file a path field names. */
enum devspec_place {
	DEVSPEC_PLACE_BIND,    /* a file the VMM opens in place (a disk image): bound in */
	DEVSPEC_PLACE_CREATE,  /* a socket the VMM creates: cannot be placed in a read-only jail */
};

enum devspec_type {
	DEVSPEC_PATH,  /* char *: an owned copy of 1..max bytes (max 0: no limit) */
	DEVSPEC_FLAG,  /* bool: the KEY alone */
	DEVSPEC_NAME,  /* char[max + 1]: 1..max bytes that valid() accepts */
	DEVSPEC_MAC,   /* uint8_t[6]: a unicast address other than zero; sets the bool at set_offset */
	DEVSPEC_U32,   /* uint32_t: a decimal number in [min, max] */
	DEVSPEC_BUCKET, /* struct bucket_config: SIZE:REFILL_MS[:BURST], a token bucket (microvm/ratelimit.h) */
};

struct devspec_field {
	const char *key;
	enum devspec_type type;
	size_t offset;            /* into the kind's config struct */
	size_t set_offset;        /* DEVSPEC_MAC: its "given" bool */
	uint64_t min, max;
	bool (*valid)(const char *value);  /* DEVSPEC_NAME */
	bool required;
	enum devspec_place place; /* DEVSPEC_PATH */
	/* DEVSPEC_FLAG: given, the device only reads the files it names; a jail binds them read-only. */
	bool read_only;
	const char *rule;         /* why a value is refused: "id must be 1-20 of ..." */
};

struct device_spec {
	const char *name;         /* the device: "virtio-blk" */
	const char *option;       /* its command-line option, without "--": "drive" */
	const char *usage;        /* its lines in --help */
	const char *grammar;      /* "path=FILE[,ro][,id=NAME]"; NULL: the option takes no value */
	/* The option may come alone (--rng) or with its text (--rng=bw=...): no field is required. */
	bool value_optional;
	unsigned int max;         /* per VM */
	const char *too_many;     /* "at most 16 drives" */
	size_t config_size;       /* 0 when there are no fields */
	const struct devspec_field *fields;
	size_t nr_fields;
	/* Defaults that depend on the device's place among its kind; may be NULL. */
	void (*defaults)(void *config, unsigned int index);
	/* Rules across the devices of the kind (configs[0..n)); may be NULL. */
	int (*check)(void *const *configs, unsigned int n, struct diag *d);
};

/* One KEY[=VALUE] of a spec text; value is NULL for a bare KEY. */
struct devspec_item {
	const char *key, *value;
	size_t key_len, value_len;
};

/* Takes the next comma-separated item from *p (NULL at the end); false when none is left. */
bool devspec_next(const char **p, struct devspec_item *item);
/* The field of spec named by key, or NULL. */
const struct devspec_field *devspec_field(const struct device_spec *spec, const char *key,
					   size_t key_len);
/* Sets one field of config from its text (len bytes, not NUL-terminated); reason: f->rule. */
MUST_CHECK int devspec_set(const struct devspec_field *f, void *config, const char *value,
			   size_t len, struct diag *d);
/*
 * Fills a zeroed config from KEY=VALUE,FLAG,... text: every key known and given once,
 * the required ones present. The reason needs no prefix but the option's.
 */
MUST_CHECK int devspec_parse(const struct device_spec *spec, void *config, const char *text,
			     struct diag *d);
/* A new copy of config (its strings copied too); NULL when out of memory. */
void *devspec_copy(const struct device_spec *spec, const void *config);
/* Frees the strings config holds, then config. */
void devspec_free(const struct device_spec *spec, void *config);

#endif
