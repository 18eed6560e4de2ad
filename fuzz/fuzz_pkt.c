/* SPDX-License-Identifier: MIT */
/*
 * fuzz_pkt: untrusted DNS messages through zc_pkt_from_wire(), then every record
 * of every section through the dns.h accessors (DS/CDS/CDNSKEY rdata, DSYNC on
 * type 66, key tags, DS digests) and the RRset functions (extraction, delete
 * forms, comparison, canonical order, RRSIG checks at a fixed time).
 */
#include <stddef.h>
#include <stdint.h>

#include "fuzz_dns.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ldns_pkt *pkt = NULL;
	ldns_rr_list *all;

	if (zc_pkt_from_wire(data, size, &pkt) != 0) {
		return 0;
	}
	all = ldns_pkt_all_noquestion(pkt);
	if (all) {
		fuzz_exercise_list(all);
		ldns_rr_list_deep_free(all);
	}
	fuzz_exercise_list(ldns_pkt_answer(pkt));
	ldns_pkt_free(pkt);
	return 0;
}
