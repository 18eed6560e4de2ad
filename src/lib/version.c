/* SPDX-License-Identifier: MIT */
/* Library version, from the build configuration. */
#include "zc_config.h"
#include <zonecut/zonecut.h>

const char *zc_version(void)
{
	return ZC_VERSION;
}
