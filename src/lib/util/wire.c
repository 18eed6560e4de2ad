/* SPDX-License-Identifier: MIT */
/*
 * Bounds-checked reading of untrusted bytes (sticky error cursor).
 */
#include <string.h>

#include "util/internal.h"

void zc_wire_init(struct zc_wire *w, const uint8_t *buf, size_t len)
{
	w->buf = buf;
	w->len = buf ? len : 0;
	w->pos = 0;
	w->err = false;
}

static bool wire_need(struct zc_wire *w, size_t n)
{
	if (w->err || w->len - w->pos < n) {
		w->err = true;
		return false;
	}
	return true;
}

uint8_t zc_wire_u8(struct zc_wire *w)
{
	if (!wire_need(w, 1)) {
		return 0;
	}
	return w->buf[w->pos++];
}

uint16_t zc_wire_u16(struct zc_wire *w)
{
	uint16_t v;

	if (!wire_need(w, 2)) {
		return 0;
	}
	v = (uint16_t)((w->buf[w->pos] << 8) | w->buf[w->pos + 1]);
	w->pos += 2;
	return v;
}

uint32_t zc_wire_u32(struct zc_wire *w)
{
	uint32_t hi = zc_wire_u16(w);
	uint32_t lo = zc_wire_u16(w);

	return w->err ? 0 : (hi << 16) | lo;
}

void zc_wire_bytes(struct zc_wire *w, void *out, size_t n)
{
	if (!wire_need(w, n)) {
		if (out) {
			memset(out, 0, n);
		}
		return;
	}
	if (out) {
		memcpy(out, w->buf + w->pos, n);
	}
	w->pos += n;
}

bool zc_wire_skip_name(const uint8_t *msg, size_t len, size_t *off)
{
	size_t i = *off, total = 0;

	while (i < len) {
		uint8_t l = msg[i];

		if ((l & 0xc0) == 0xc0) {
			if (i + 1 >= len || (((size_t)(l & 0x3f) << 8) | msg[i + 1]) >= i) {
				return false;
			}
			*off = i + 2;
			return true;
		}
		if (l & 0xc0) {
			return false; /* extended label types (RFC 6891 §5) */
		}
		total += 1u + l;
		if (total > 255) {
			return false;
		}
		i += 1u + l;
		if (l == 0) {
			*off = i;
			return i <= len;
		}
	}
	return false;
}
