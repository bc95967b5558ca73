#include "config/devspec.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "microvm/ratelimit.h"
#include "microvm/strparse.h"

bool devspec_next(const char **p, struct devspec_item *item)
{
	const char *s = *p, *eq;
	size_t len;

	if (!s)
		return false;
	len = strcspn(s, ",");
	eq = memchr(s, '=', len);
	item->key = s;
	item->key_len = eq ? (size_t)(eq - s) : len;
	item->value = eq ? eq + 1 : NULL;
	item->value_len = eq ? len - item->key_len - 1 : 0;
	*p = s[len] ? s + len + 1 : NULL;
	return true;
}

const struct devspec_field *devspec_field(const struct device_spec *spec, const char *key,
					   size_t key_len)
{
	for (size_t i = 0; i < spec->nr_fields; i++) {
		const struct devspec_field *f = &spec->fields[i];

		if (strlen(f->key) == key_len && !strncmp(f->key, key, key_len))
			return f;
	}
	return NULL;
}

/* Six colon-separated pairs of hex digits, a unicast address other than all zeros. */
static bool devspec_mac(const char *s, size_t len, uint8_t mac[6])
{
	static const char hex[] = "0123456789abcdef";
	bool nonzero = false;

	if (len != 17)
		return false;
	for (size_t i = 0; i < 6; i++) {
		const char *hi, *lo;

		if (i < 5 && s[3 * i + 2] != ':')
			return false;
		hi = s[3 * i] ? strchr(hex, s[3 * i] | 0x20) : NULL;
		lo = s[3 * i + 1] ? strchr(hex, s[3 * i + 1] | 0x20) : NULL;
		if (!hi || !lo)
			return false;
		mac[i] = (uint8_t)((hi - hex) << 4 | (lo - hex));
		nonzero |= mac[i] != 0;
	}
	return nonzero && !(mac[0] & 1);
}

/*
 * SIZE:REFILL_MS[:BURST], three decimal numbers; 0 for SIZE or REFILL_MS limits nothing.
 * REFILL_MS at most RATELIMIT_REFILL_MS_MAX (its nanoseconds fit 64 bits).
 */
static bool devspec_bucket(const char *value, size_t len, struct bucket_config *out)
{
	char text[3 * 20 + 3], *p = text;
	uint64_t v[3] = { 0, 0, 0 };
	size_t n = 0;

	if (len >= sizeof(text))
		return false;
	memcpy(text, value, len);
	text[len] = '\0';
	while (p) {
		char *colon = strchr(p, ':');

		if (colon)
			*colon = '\0';
		if (n == 3 || !parse_decimal_u64(p, 0, UINT64_MAX, &v[n++]))
			return false;
		p = colon ? colon + 1 : NULL;
	}
	if (n < 2 || v[1] > RATELIMIT_REFILL_MS_MAX)
		return false;
	*out = (struct bucket_config){ .size = v[0], .refill_time_ms = v[1], .one_time_burst = v[2] };
	return true;
}

/* A NUL-terminated copy of len bytes, or NULL when out of memory. */
static char *devspec_copy_string(const char *value, size_t len)
{
	char *s = malloc(len + 1);

	if (s) {
		memcpy(s, value, len);
		s[len] = '\0';
	}
	return s;
}

int devspec_set(const struct devspec_field *f, void *config, const char *value, size_t len,
		struct diag *d)
{
	uint8_t *field = (uint8_t *)config + f->offset;
	char num[24];
	uint64_t v;

	switch (f->type) {
	case DEVSPEC_PATH: {
		char *copy;

		if (len == 0 || (f->max && len > f->max) || memchr(value, '\0', len))
			return diag_fail(d, "%s", f->rule);
		copy = devspec_copy_string(value, len);
		if (!copy)
			return diag_fail_errno(d, -ENOMEM, "%s: out of memory", f->key);
		free(*(char **)(void *)field);
		*(char **)(void *)field = copy;
		return 0;
	}
	case DEVSPEC_FLAG:
		*(bool *)(void *)field = true;
		return 0;
	case DEVSPEC_NAME:
		if (len == 0 || len > f->max || memchr(value, '\0', len))
			return diag_fail(d, "%s", f->rule);
		memcpy(field, value, len);
		field[len] = '\0';
		if (f->valid && !f->valid((const char *)field)) {
			field[0] = '\0';
			return diag_fail(d, "%s", f->rule);
		}
		return 0;
	case DEVSPEC_MAC:
		if (!devspec_mac(value, len, field))
			return diag_fail(d, "%s", f->rule);
		*(bool *)(void *)((uint8_t *)config + f->set_offset) = true;
		return 0;
	case DEVSPEC_U32:
		if (len == 0 || len >= sizeof(num))
			return diag_fail(d, "%s", f->rule);
		memcpy(num, value, len);
		num[len] = '\0';
		if (!parse_decimal_u64(num, f->min, f->max, &v) || v > UINT32_MAX)
			return diag_fail(d, "%s", f->rule);
		*(uint32_t *)(void *)field = (uint32_t)v;
		return 0;
	case DEVSPEC_BUCKET:
		if (memchr(value, '\0', len) || !devspec_bucket(value, len, (struct bucket_config *)(void *)field))
			return diag_fail(d, "%s", f->rule);
		return 0;
	default:
		return diag_fail(d, "%s: unknown field type", f->key);
	}
}

int devspec_parse(const struct device_spec *spec, void *config, const char *text, struct diag *d)
{
	uint32_t seen = 0; /* by field index: a spec has at most 32 fields */
	struct devspec_item it;
	const char *p = text;

	while (devspec_next(&p, &it)) {
		const struct devspec_field *f = devspec_field(spec, it.key, it.key_len);
		uint32_t bit = f ? 1u << (f - spec->fields) : 0;
		int ret;

		/* A flag takes no value, every other field needs one, and none comes twice. */
		if (!f || (seen & bit) || (f->type == DEVSPEC_FLAG) != (it.value == NULL))
			return diag_fail(d, "unexpected '%.*s': expected %s, each once",
					 (int)(it.key_len + (it.value ? it.value_len + 1 : 0)), it.key,
					 spec->grammar);
		ret = devspec_set(f, config, it.value, it.value_len, d);
		if (ret)
			return ret;
		seen |= bit;
	}
	for (size_t i = 0; i < spec->nr_fields; i++) {
		if (spec->fields[i].required && !(seen & (1u << i)))
			return diag_fail(d, "expected %s", spec->grammar);
	}
	return 0;
}

void *devspec_copy(const struct device_spec *spec, const void *config)
{
	uint8_t *copy = malloc(spec->config_size ? spec->config_size : 1);

	if (!copy)
		return NULL;
	memcpy(copy, config, spec->config_size);
	/* Each string its own first, so a failure frees only copies. */
	for (size_t i = 0; i < spec->nr_fields; i++) {
		if (spec->fields[i].type == DEVSPEC_PATH)
			*(char **)(void *)(copy + spec->fields[i].offset) = NULL;
	}
	for (size_t i = 0; i < spec->nr_fields; i++) {
		const struct devspec_field *f = &spec->fields[i];
		const char *s;

		/* Only a path field holds a pointer: the others may sit at any offset. */
		if (f->type != DEVSPEC_PATH)
			continue;
		s = *(char *const *)(const void *)((const uint8_t *)config + f->offset);
		if (!s)
			continue;
		*(char **)(void *)(copy + f->offset) = devspec_copy_string(s, strlen(s));
		if (!*(char **)(void *)(copy + f->offset)) {
			devspec_free(spec, copy);
			return NULL;
		}
	}
	return copy;
}

void devspec_free(const struct device_spec *spec, void *config)
{
	if (!config)
		return;
	for (size_t i = 0; i < spec->nr_fields; i++) {
		if (spec->fields[i].type == DEVSPEC_PATH)
			free(*(char **)(void *)((uint8_t *)config + spec->fields[i].offset));
	}
	free(config);
}
