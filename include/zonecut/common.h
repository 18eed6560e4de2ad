/* SPDX-License-Identifier: MIT */
/*
 * zonecut/common.h: symbol visibility, attributes and the error codes shared by
 * every module of libzonecut.
 */
#ifndef ZONECUT_COMMON_H
#define ZONECUT_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Exported from libzonecut.so; everything else stays hidden. */
#define ZC_PUBLIC __attribute__((visibility("default")))
/* The caller must look at the result of a fallible function. */
#define ZC_MUSTCHECK __attribute__((warn_unused_result))
#define ZC_PRINTF(f, a) __attribute__((format(printf, f, a)))

/*
 * Error codes. Functions return 0 on success, -errno for system failures
 * (-ENOMEM, -EINVAL, ...) and one of these (all <= -1000) for our own failures.
 * zc_strerror() turns either kind into text.
 */
enum zc_error {
	ZC_EMALF = -1000,     /* malformed data (packet, record, zone text) */
	ZC_ETIMEOUT = -1001,  /* no answer within the time bound */
	ZC_EBOGUS = -1002,    /* DNSSEC validation failed */
	ZC_ELIMIT = -1003,    /* a hard limit was reached (size, count) */
	ZC_ETRUNC = -1004,    /* truncated data */
	ZC_EMISMATCH = -1005, /* an answer does not match its question */
	ZC_ENOKEY = -1006,    /* no key matches the signature */
	ZC_EEXPIRED = -1007,  /* signature expired */
	ZC_ENOTYET = -1008,   /* signature not yet valid */
	ZC_ECONFIG = -1009,   /* bad configuration */
	ZC_EUSAGE = -1010,    /* bad usage */
	ZC_ECANCELED = -1011, /* operation canceled (engine shut down) */
	ZC_ERESOLV = -1012,   /* resolver failure (SERVFAIL, no servers) */
	ZC_ENOTSUP = -1013,   /* not supported (algorithm, digest, feature) */
	ZC_ECONN = -1014,     /* connection refused or reset */
	ZC_ENOTFOUND = -1015, /* no such name or record */
	ZC_ESTORE = -1016,    /* state store failure */
};

/*
 * zc_strerror() - text for an error code (negative errno or ZC_E*).
 * Returns a static string; never NULL. Thread-safe.
 */
ZC_PUBLIC const char *zc_strerror(int err);

#endif
