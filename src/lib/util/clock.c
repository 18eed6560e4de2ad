/* SPDX-License-Identifier: MIT */
/*
 * Clocks in milliseconds: monotonic for timers, wall for records and signatures.
 */
#include <time.h>

#include "util/internal.h"

static uint64_t clock_ms(clockid_t id)
{
	struct timespec ts;

	if (clock_gettime(id, &ts) < 0) {
		return 0;
	}
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t zc_now_mono_ms(void)
{
	return clock_ms(CLOCK_MONOTONIC);
}

uint64_t zc_now_wall_ms(void)
{
	return clock_ms(CLOCK_REALTIME);
}
