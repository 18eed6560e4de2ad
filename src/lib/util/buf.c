/* SPDX-License-Identifier: MIT */
/*
 * util/buf.c: a growable byte buffer with a sticky out-of-memory flag, always
 * NUL-terminated so that text built in it can be used as a string.
 */
#include <string.h>

#include "util/internal.h"

void zc_buf_put(struct zc_buf *b, const void *data, size_t len)
{
	if (b->oom) {
		return;
	}
	if (b->len + len + 1 > b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 512;
		uint8_t *p;

		while (cap < b->len + len + 1) {
			cap *= 2;
		}
		p = realloc(b->p, cap);
		if (!p) {
			b->oom = true;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	if (len > 0) {
		memcpy(b->p + b->len, data, len);
	}
	b->len += len;
	b->p[b->len] = '\0';
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
