/* SPDX-License-Identifier: MIT */
/*
 * util/buf.c: a growable byte buffer with a sticky out-of-memory flag, always
 * NUL-terminated so that text built in it can be used as a string.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "util/internal.h"

/* Room for @extra more octets and the terminating NUL; false (and oom) if not. */
static bool buf_reserve(struct zc_buf *b, size_t extra)
{
	size_t cap;
	uint8_t *p;

	if (b->oom) {
		return false;
	}
	if (b->len + extra + 1 <= b->cap) {
		return true;
	}
	cap = b->cap ? b->cap * 2 : 512;
	while (cap < b->len + extra + 1) {
		cap *= 2;
	}
	p = realloc(b->p, cap);
	if (!p) {
		b->oom = true;
		return false;
	}
	b->p = p;
	b->cap = cap;
	return true;
}

void zc_buf_put(struct zc_buf *b, const void *data, size_t len)
{
	if (!buf_reserve(b, len)) {
		return;
	}
	if (len > 0) {
		memcpy(b->p + b->len, data, len);
	}
	b->len += len;
	b->p[b->len] = '\0';
}

void zc_buf_repeat(struct zc_buf *b, size_t start, size_t len)
{
	if (b->oom || start > b->len || len > b->len - start) {
		return;
	}
	if (!buf_reserve(b, len)) {
		return;
	}
	/* after the reserve: the buffer may have moved; the copy cannot overlap */
	if (len > 0) {
		memcpy(b->p + b->len, b->p + start, len);
	}
	b->len += len;
	b->p[b->len] = '\0';
}

void zc_buf_printf(struct zc_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->oom = true;
		return;
	}
	if (!buf_reserve(b, (size_t)n)) {
		return;
	}
	va_start(ap, fmt);
	(void)vsnprintf((char *)b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

char *zc_buf_steal(struct zc_buf *b)
{
	char *s = b->oom ? NULL : (char *)b->p;

	if (b->oom) {
		free(b->p);
	}
	memset(b, 0, sizeof(*b));
	return s;
}

void zc_buf_release(struct zc_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

void zc_buf_json_str(struct zc_buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t run = 0;

	zc_buf_put(b, "\"", 1);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 0x20 && c != '"' && c != '\\') {
			continue;
		}
		zc_buf_put(b, s + run, i - run);
		run = i + 1;
		switch (c) {
		case '"':
			zc_buf_put(b, "\\\"", 2);
			break;
		case '\\':
			zc_buf_put(b, "\\\\", 2);
			break;
		case '\b':
			zc_buf_put(b, "\\b", 2);
			break;
		case '\f':
			zc_buf_put(b, "\\f", 2);
			break;
		case '\n':
			zc_buf_put(b, "\\n", 2);
			break;
		case '\t':
			zc_buf_put(b, "\\t", 2);
			break;
		case '\r':
			zc_buf_put(b, "\\r", 2);
			break;
		default: {
			char esc[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };

			zc_buf_put(b, esc, sizeof(esc));
		}
		}
	}
	zc_buf_put(b, s + run, n - run);
	zc_buf_put(b, "\"", 1);
}
