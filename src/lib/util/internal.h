/* SPDX-License-Identifier: MIT */
/*
 * util/internal.h: helpers shared inside libzonecut (not exported).
 */
#ifndef ZC_UTIL_INTERNAL_H
#define ZC_UTIL_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zonecut/util.h>

#include "util/banned.h"

#define ZC_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define ZC_MIN(a, b) ((a) < (b) ? (a) : (b))
#define ZC_MAX(a, b) ((a) > (b) ? (a) : (b))

static inline void zc_freep(void *p)
{
	free(*(void **)p);
}
#define _cleanup_free_ __attribute__((cleanup(zc_freep)))

/*
 * struct zc_buf - a growable byte buffer; start from { 0 }. Appends after an
 * allocation failure are ignored and the buffer says so (oom); p is always
 * NUL-terminated once anything was put.
 */
struct zc_buf {
	uint8_t *p;
	size_t len, cap;
	bool oom;
};

void zc_buf_put(struct zc_buf *b, const void *data, size_t len);
/* zc_buf_repeat() - appends a copy of @len octets of @b itself from @start
 * (start + len <= b->len); safe although the buffer may move. */
void zc_buf_repeat(struct zc_buf *b, size_t start, size_t len);
void zc_buf_printf(struct zc_buf *b, const char *fmt, ...) ZC_PRINTF(2, 3);
/* zc_buf_steal() - the contents as a string (caller frees), NULL after an allocation
 * failure or when nothing was put; @b is empty afterwards. */
char *zc_buf_steal(struct zc_buf *b);
void zc_buf_release(struct zc_buf *b);
/* zc_buf_json_str() - @n octets of @s as a JSON string, quoted and escaped
 * (RFC 8259 §7: '"', '\\' and control characters, with the short forms where
 * there are some, as jansson writes them; other octets as they are). */
void zc_buf_json_str(struct zc_buf *b, const char *s, size_t n);
/* zc_buf_puts() - a C string, without its NUL. */
static inline void zc_buf_puts(struct zc_buf *b, const char *s)
{
	zc_buf_put(b, s, strlen(s));
}

/*
 * struct zc_wire - a bounds-checked cursor over untrusted bytes with a sticky
 * error: once a read runs past the end, every later read returns 0 and
 * zc_wire_ok() is false.
 */
struct zc_wire {
	const uint8_t *buf;
	size_t len;
	size_t pos;
	bool err;
};

void zc_wire_init(struct zc_wire *w, const uint8_t *buf, size_t len);
uint8_t zc_wire_u8(struct zc_wire *w);
uint16_t zc_wire_u16(struct zc_wire *w);
uint32_t zc_wire_u32(struct zc_wire *w);
/* Copies @n bytes into @out (may be NULL: skip). */
void zc_wire_bytes(struct zc_wire *w, void *out, size_t n);
/*
 * Skips the domain name at *off of the message @msg (RFC 1035 §4.1.4: labels, ending
 * with the root label or a compression pointer, which must point backwards: no
 * loops). Only bounds are checked, not where a pointer leads. False when the name
 * runs past @len, is longer than 255 octets or uses an extended label type.
 */
bool zc_wire_skip_name(const uint8_t *msg, size_t len, size_t *off);
static inline bool zc_wire_ok(const struct zc_wire *w)
{
	return !w->err;
}
static inline size_t zc_wire_left(const struct zc_wire *w)
{
	return w->err ? 0 : w->len - w->pos;
}

#endif
