/* SPDX-License-Identifier: MIT */
/*
 * fuzz_pkt: untrusted DNS messages through zc_pkt_from_wire(), then every record
 * of every section through the dns.h accessors (DS/CDS/CDNSKEY rdata, DSYNC on
 * type 66, key tags, DS digests) and the RRset functions (extraction, delete
 * forms, comparison, canonical order, RRSIG checks at a fixed time). The answer
 * section alone (zc_pkt_answer_records(), the scan's reader) gets the same
 * treatment and, when both parse, must hold the same records.
 */
#include <stddef.h>
#include <stdint.h>

#include "fuzz_dns.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ldns_pkt *pkt = NULL;
	ldns_rr_list *all, *an = NULL;

	if (zc_pkt_answer_records(data, size, &an) == 0) {
		fuzz_exercise_list(an);
	}
	if (zc_pkt_from_wire(data, size, &pkt) != 0) {
		ldns_rr_list_deep_free(an);
		return 0;
	}
	/* read alone, the answer section holds what the whole message holds there (it
	 * may refuse more: compression pointers must point backwards, RFC 1035 §4.1.4) */
	if (an && ldns_rr_list_compare(an, ldns_pkt_answer(pkt)) != 0) {
		__builtin_trap();
	}
	ldns_rr_list_deep_free(an);
	all = ldns_pkt_all_noquestion(pkt);
	if (all) {
		fuzz_exercise_list(all);
		ldns_rr_list_deep_free(all);
	}
	fuzz_exercise_list(ldns_pkt_answer(pkt));
	ldns_pkt_free(pkt);
	return 0;
}
