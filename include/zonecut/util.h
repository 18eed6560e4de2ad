/* SPDX-License-Identifier: MIT */
/*
 * zonecut/util.h: the library context (logging callback), the configuration
 * file reader, number parsing helpers and the terminal progress display.
 * The library never prints: it hands messages to the caller's log function.
 */
#ifndef ZONECUT_UTIL_H
#define ZONECUT_UTIL_H

#include <stdarg.h>
#include <stdio.h>
#include <zonecut/common.h>

/* Log levels are syslog's. */
enum zc_log_level {
	ZC_LOG_ERR = 3,
	ZC_LOG_WARNING = 4,
	ZC_LOG_NOTICE = 5,
	ZC_LOG_INFO = 6,
	ZC_LOG_DEBUG = 7,
};

/* Receives one message, without trailing newline. @msg is valid during the call. */
typedef void (*zc_log_fn)(void *userdata, int level, const char *msg);

struct zc_ctx;

/*
 * zc_ctx_new() - a library context: the log callback and its threshold.
 * Returns NULL only when out of memory. Free with zc_ctx_free().
 * A context is used by one thread at a time.
 */
ZC_PUBLIC struct zc_ctx *zc_ctx_new(void);
/* zc_ctx_free() - frees @ctx; NULL is a no-op. */
ZC_PUBLIC void zc_ctx_free(struct zc_ctx *ctx);
/* Messages at or below @level (syslog order: lower is more severe) go to @fn. */
ZC_PUBLIC void zc_ctx_set_log_fn(struct zc_ctx *ctx, zc_log_fn fn, void *userdata);
ZC_PUBLIC void zc_ctx_set_log_level(struct zc_ctx *ctx, int level);
ZC_PUBLIC int zc_ctx_get_log_level(const struct zc_ctx *ctx);

/*
 * zc_log() - formats and hands a message to the context's log function, when one
 * is set and @level passes the threshold. @ctx may be NULL (message dropped).
 */
ZC_PUBLIC void zc_log(const struct zc_ctx *ctx, int level, const char *fmt, ...) ZC_PRINTF(3, 4);

/* --- configuration file ------------------------------------------------ */

/*
 * Configuration files hold the same keys as the long command-line options:
 *
 *     # comment
 *     trust-anchor = /etc/zonecut/root.ds
 *     tcp-only = yes
 *     forward = 127.0.0.1     # repeated keys form lists
 *
 * Values may be quoted with "..." (then # is literal). Which keys are valid is
 * decided by the caller (the command's option table): an unknown key is an error
 * there. Environment variables ZC_<KEY> (upper-case, '-' as '_') can be merged
 * with zc_conf_add_env().
 */
struct zc_conf_entry {
	char *key;
	char *value;
	unsigned line;  /* 0 for entries from the environment */
	const char *origin; /* file path or "environment" (borrowed from the conf) */
};

struct zc_conf {
	struct zc_conf_entry *entries;
	size_t n;
	char *path;
};

#define ZC_CONF_MAX_LINE 4096
#define ZC_CONF_MAX_ENTRIES 10000

/*
 * zc_conf_load() - parses @path. On success *ret_conf is set (caller frees with
 * zc_conf_free()). On failure returns -errno or ZC_ECONFIG and writes a message
 * "FILE:LINE: reason" into @err (size @errlen).
 */
ZC_PUBLIC ZC_MUSTCHECK int zc_conf_load(const char *path, struct zc_conf **ret_conf, char *err,
					size_t errlen);
/* zc_conf_new() - an empty configuration (for env-only use). NULL on ENOMEM. */
ZC_PUBLIC struct zc_conf *zc_conf_new(void);
/*
 * zc_conf_add_env() - appends ZC_* variables from @envp whose key, converted to
 * option form, is accepted by @known (may be NULL: accept all). Returns 0 or -ENOMEM.
 */
ZC_PUBLIC ZC_MUSTCHECK int zc_conf_add_env(struct zc_conf *conf, char *const *envp,
					   bool (*known)(const char *key));
ZC_PUBLIC void zc_conf_free(struct zc_conf *conf);

/* --- parsing helpers --------------------------------------------------- */

/* Decimal unsigned in [min, max]; returns 0, -EINVAL (syntax) or -ERANGE. */
ZC_PUBLIC ZC_MUSTCHECK int zc_parse_u32(const char *s, uint32_t min, uint32_t max,
					uint32_t *ret);
/* yes/no/true/false/on/off/1/0; returns 0 or -EINVAL. */
ZC_PUBLIC ZC_MUSTCHECK int zc_parse_bool(const char *s, bool *ret);
/*
 * Duration: a number with optional unit ms, s, m, h, d (default @default_unit_ms
 * per unit). Result in milliseconds. Returns 0, -EINVAL or -ERANGE.
 */
ZC_PUBLIC ZC_MUSTCHECK int zc_parse_duration_ms(const char *s, uint64_t default_unit_ms,
						uint64_t *ret_ms);

/* --- progress display -------------------------------------------------- */

struct zc_progress;

/*
 * zc_progress_new() - a one-line progress display written to @out (normally
 * stderr), active only when @out is a terminal (or @force). @label is copied.
 * @total may be 0 when unknown. Returns NULL on ENOMEM.
 */
ZC_PUBLIC struct zc_progress *zc_progress_new(FILE *out, const char *label, uint64_t total,
					      bool force);
/* Records progress; redraws at most ~10 times a second. */
ZC_PUBLIC void zc_progress_update(struct zc_progress *p, uint64_t done, const char *detail);
/* Clears the line (when drawn) and frees. NULL is a no-op. */
ZC_PUBLIC void zc_progress_free(struct zc_progress *p);

/* Monotonic and wall clock in milliseconds. */
ZC_PUBLIC uint64_t zc_now_mono_ms(void);
ZC_PUBLIC uint64_t zc_now_wall_ms(void);

#endif
