/* SPDX-License-Identifier: MIT */
/*
 * Error texts: our ZC_E* codes and negative errno values.
 */
#include <string.h>
#include <zonecut/common.h>

const char *zc_strerror(int err)
{
	switch (err) {
	case 0:
		return "success";
	case ZC_EMALF:
		return "malformed data";
	case ZC_ETIMEOUT:
		return "timeout";
	case ZC_EBOGUS:
		return "DNSSEC validation failed";
	case ZC_ELIMIT:
		return "limit exceeded";
	case ZC_ETRUNC:
		return "truncated data";
	case ZC_EMISMATCH:
		return "answer does not match the question";
	case ZC_ENOKEY:
		return "no matching key";
	case ZC_EEXPIRED:
		return "signature expired";
	case ZC_ENOTYET:
		return "signature not yet valid";
	case ZC_ECONFIG:
		return "invalid configuration";
	case ZC_EUSAGE:
		return "invalid usage";
	case ZC_ECANCELED:
		return "canceled";
	case ZC_ERESOLV:
		return "resolution failed";
	case ZC_ENOTSUP:
		return "not supported";
	case ZC_ECONN:
		return "connection refused";
	case ZC_ENOTFOUND:
		return "not found";
	case ZC_ESTORE:
		return "state store failure";
	default:
		break;
	}
	if (err < 0 && err > -4096) {
		/* strerror() of glibc returns static text for valid errno values. */
		return strerror(-err);
	}
	return "unknown error";
}
