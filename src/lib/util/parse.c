/* SPDX-License-Identifier: MIT */
/*
 * Strict parsing of numbers, booleans and durations from configuration values and
 * command-line arguments (no atoi: trailing garbage and overflow are errors).
 */
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <strings.h>

#include "util/internal.h"

static int parse_u64(const char *s, const char **ret_end, uint64_t *ret)
{
	uint64_t v = 0;
	const char *p = s;

	if (!s || *s < '0' || *s > '9') {
		return -EINVAL;
	}
	for (; *p >= '0' && *p <= '9'; p++) {
		unsigned d = (unsigned)(*p - '0');

		if (v > (UINT64_MAX - d) / 10) {
			return -ERANGE;
		}
		v = v * 10 + d;
	}
	*ret_end = p;
	*ret = v;
	return 0;
}

int zc_parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *ret)
{
	const char *end;
	uint64_t v;
	int r = parse_u64(s, &end, &v);

	if (r < 0) {
		return r;
	}
	if (*end != '\0') {
		return -EINVAL;
	}
	if (v < min || v > max) {
		return -ERANGE;
	}
	*ret = (uint32_t)v;
	return 0;
}

int zc_parse_bool(const char *s, bool *ret)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };

	if (!s) {
		return -EINVAL;
	}
	for (size_t i = 0; i < ZC_ARRAY_SIZE(yes); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*ret = true;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*ret = false;
			return 0;
		}
	}
	return -EINVAL;
}

int zc_parse_duration_ms(const char *s, uint64_t default_unit_ms, uint64_t *ret_ms)
{
	static const struct {
		const char *suffix;
		uint64_t ms;
	} units[] = {
		{ "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "h", 3600000 }, { "d", 86400000 },
	};
	const char *end;
	uint64_t v, unit = default_unit_ms;
	int r = parse_u64(s, &end, &v);

	if (r < 0) {
		return r;
	}
	if (*end != '\0') {
		size_t i;

		for (i = 0; i < ZC_ARRAY_SIZE(units); i++) {
			if (strcmp(end, units[i].suffix) == 0) {
				unit = units[i].ms;
				break;
			}
		}
		if (i == ZC_ARRAY_SIZE(units)) {
			return -EINVAL;
		}
	}
	if (unit && v > UINT64_MAX / unit) {
		return -ERANGE;
	}
	*ret_ms = v * unit;
	return 0;
}
