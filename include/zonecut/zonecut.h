/* SPDX-License-Identifier: MIT */
/*
 * zonecut/zonecut.h: umbrella header of libzonecut.
 */
#ifndef ZONECUT_ZONECUT_H
#define ZONECUT_ZONECUT_H

#include <zonecut/common.h>
#include <zonecut/util.h>
#include <zonecut/dns.h>
#include <zonecut/net.h>
#include <zonecut/scan.h>
#include <zonecut/store.h>
#include <zonecut/apply.h>
#include <zonecut/signers.h>

/* zc_version() - the library version string, e.g. "0.1.0". */
ZC_PUBLIC const char *zc_version(void);

#endif
