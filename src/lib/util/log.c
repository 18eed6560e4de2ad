/* SPDX-License-Identifier: MIT */
/*
 * The library context and its logging callback. The library never writes to
 * stdout or stderr itself: messages go to the function the caller installs.
 */
#include <stdarg.h>
#include <stdio.h>

#include "util/internal.h"

#define LOG_MAX_MSG 2048

struct zc_ctx {
	zc_log_fn log_fn;
	void *log_ud;
	int log_level;
};

struct zc_ctx *zc_ctx_new(void)
{
	struct zc_ctx *ctx = calloc(1, sizeof(*ctx));

	if (ctx) {
		ctx->log_level = ZC_LOG_WARNING;
	}
	return ctx;
}

void zc_ctx_free(struct zc_ctx *ctx)
{
	free(ctx);
}

void zc_ctx_set_log_fn(struct zc_ctx *ctx, zc_log_fn fn, void *userdata)
{
	if (!ctx) {
		return;
	}
	ctx->log_fn = fn;
	ctx->log_ud = userdata;
}

void zc_ctx_set_log_level(struct zc_ctx *ctx, int level)
{
	if (ctx) {
		ctx->log_level = level;
	}
}

int zc_ctx_get_log_level(const struct zc_ctx *ctx)
{
	return ctx ? ctx->log_level : ZC_LOG_ERR;
}

void zc_log(const struct zc_ctx *ctx, int level, const char *fmt, ...)
{
	char msg[LOG_MAX_MSG];
	va_list ap;

	if (!ctx || !ctx->log_fn || level > ctx->log_level) {
		return;
	}
	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ctx->log_fn(ctx->log_ud, level, msg);
}
