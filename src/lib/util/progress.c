/* SPDX-License-Identifier: MIT */
/*
 * One-line progress display for long runs, drawn on a terminal only (stderr by
 * convention, chosen by the caller), redrawn at most ten times a second.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "util/internal.h"

#define PROGRESS_INTERVAL_MS 100

struct zc_progress {
	FILE *out;
	char label[64];
	uint64_t total;
	uint64_t start_ms;
	uint64_t last_draw_ms;
	bool active;
	bool drawn;
};

struct zc_progress *zc_progress_new(FILE *out, const char *label, uint64_t total, bool force)
{
	struct zc_progress *p = calloc(1, sizeof(*p));

	if (!p) {
		return NULL;
	}
	p->out = out;
	snprintf(p->label, sizeof(p->label), "%s", label ? label : "");
	p->total = total;
	p->start_ms = zc_now_mono_ms();
	p->active = out && (force || isatty(fileno(out)));
	return p;
}

void zc_progress_update(struct zc_progress *p, uint64_t done, const char *detail)
{
	uint64_t now, elapsed;
	double rate;

	if (!p || !p->active) {
		return;
	}
	now = zc_now_mono_ms();
	if (p->drawn && now - p->last_draw_ms < PROGRESS_INTERVAL_MS) {
		return;
	}
	p->last_draw_ms = now;
	elapsed = now - p->start_ms;
	rate = elapsed ? (double)done * 1000.0 / (double)elapsed : 0.0;
	if (p->total) {
		fprintf(p->out, "\r\033[K%s %llu/%llu (%.0f%%) %.0f/s %s", p->label,
			(unsigned long long)done, (unsigned long long)p->total,
			100.0 * (double)done / (double)p->total, rate, detail ? detail : "");
	} else {
		fprintf(p->out, "\r\033[K%s %llu %.0f/s %s", p->label, (unsigned long long)done,
			rate, detail ? detail : "");
	}
	fflush(p->out);
	p->drawn = true;
}

void zc_progress_free(struct zc_progress *p)
{
	if (!p) {
		return;
	}
	if (p->drawn) {
		fputs("\r\033[K", p->out);
		fflush(p->out);
	}
	free(p);
}
