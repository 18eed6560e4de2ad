/* SPDX-License-Identifier: MIT */
/*
 * fuzz_rdata: the input's first octet picks a type (DS, CDS, CDNSKEY, DNSKEY,
 * RRSIG, SMIMEA, DSYNC), the rest is wire rdata that ldns splits into fields as
 * it would from a packet. The record then goes through every accessor and
 * formatter of zonecut/dns.h, alone and next to a signed-looking A RRset and a
 * DNSKEY, so that an RRSIG from the input is checked too.
 */
#include <stddef.h>
#include <stdint.h>

#include "fuzz_dns.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint16_t types[] = {
	LDNS_RR_TYPE_DS,    LDNS_RR_TYPE_CDS, LDNS_RR_TYPE_CDNSKEY, LDNS_RR_TYPE_DNSKEY,
	LDNS_RR_TYPE_RRSIG, 53 /* SMIMEA */,  ZC_RR_TYPE_DSYNC,
};

/* The RFC 6605 §6.1 key, moved to the owner the fuzzed records use. */
static const char *const fixed[] = {
	"x.example. 3600 IN A 192.0.2.1",
	"x.example. 3600 IN DNSKEY 257 3 13 "
	"GojIhhXUN/u4v54ZQqGSnyhWJwaubCvTmeexv7bR6edbkrSqQpF64cYbcB7w"
	"NcP+e+MAnLr+Wi9xMWyQLc8NAA==",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t wire[2 + 65535];
	ldns_rr *rr;
	ldns_rr_list *list;
	size_t len, pos = 0;

	if (size < 1) {
		return 0;
	}
	len = size - 1 > 65535 ? 65535 : size - 1;
	wire[0] = (uint8_t)(len >> 8);
	wire[1] = (uint8_t)len;
	memcpy(wire + 2, data + 1, len);

	rr = ldns_rr_new();
	if (!rr) {
		return 0;
	}
	ldns_rr_set_owner(rr, ldns_dname_new_frm_str("x.example."));
	ldns_rr_set_type(rr, (ldns_rr_type)types[data[0] % (sizeof(types) / sizeof(types[0]))]);
	ldns_rr_set_class(rr, LDNS_RR_CLASS_IN);
	ldns_rr_set_ttl(rr, 3600);
	if (!ldns_rr_owner(rr) || ldns_wire2rdf(rr, wire, 2 + len, &pos) != LDNS_STATUS_OK) {
		ldns_rr_free(rr);
		return 0;
	}
	fuzz_exercise_rr(rr, NULL);

	list = ldns_rr_list_new();
	if (list) {
		for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
			ldns_rr *f = NULL;

			if (zc_rr_from_str(fixed[i], 0, NULL, &f) != 0 ||
			    !ldns_rr_list_push_rr(list, f)) {
				ldns_rr_free(f);
			}
		}
		if (ldns_rr_list_push_rr(list, rr)) {
			rr = NULL;
		}
		fuzz_exercise_list(list);
		ldns_rr_list_deep_free(list);
	}
	ldns_rr_free(rr);
	return 0;
}
