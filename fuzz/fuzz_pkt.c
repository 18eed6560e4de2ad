/* SPDX-License-Identifier: MIT */
/*
 * fuzz_pkt: untrusted DNS messages through zc_pkt_from_wire(), then every record
 * of every section through the dns.h accessors (DS/CDS/CDNSKEY rdata, DSYNC on
 * type 66, key tags, DS digests) and the RRset functions (extraction, delete
 * forms, comparison, canonical order, RRSIG checks at a fixed time). The answer
 * section alone (zc_pkt_answer_records(), the scan's reader) gets the same
 * treatment and, when both parse, must hold the same records; so does the authority
 * section alone (zc_pkt_authority_records()), which also goes through the NSEC
 * denial reader (zc_nsec_denial()) for the question's name and type.
 */
#include <stddef.h>
#include <stdint.h>

#include "fuzz_dns.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Whatever the records, a proof is one or two NSEC RRsets of one record, each with
 * RRSIGs by the signer, and the signer an ancestor of the name. */
static void exercise_denial(const ldns_rr_list *ns, const ldns_rr_list *question)
{
	const ldns_rr *q;

	if (!ns || !question || ldns_rr_list_rr_count(question) == 0) {
		return;
	}
	q = ldns_rr_list_rr(question, 0);
	for (int nx = 0; nx < 2; nx++) {
		struct zc_denial d;

		if (zc_nsec_denial(ns, ldns_rr_owner(q), ldns_rr_get_type(q), nx, &d) != 0) {
			continue;
		}
		if (d.n < 1 || d.n > ZC_DENIAL_MAX ||
		    !zc_name_is_at_or_below(ldns_rr_owner(q), d.signer)) {
			__builtin_trap();
		}
		for (size_t i = 0; i < d.n; i++) {
			if (ldns_rr_list_rr_count(d.rrset[i]) != 1 ||
			    ldns_rr_list_rr_count(d.sigs[i]) == 0) {
				__builtin_trap();
			}
		}
		zc_denial_release(&d);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ldns_pkt *pkt = NULL;
	ldns_rr_list *all, *an = NULL, *ns = NULL;

	if (zc_pkt_answer_records(data, size, &an) == 0) {
		fuzz_exercise_list(an);
	}
	if (zc_pkt_authority_records(data, size, &ns) == 0) {
		fuzz_exercise_list(ns);
	}
	if (zc_pkt_from_wire(data, size, &pkt) != 0) {
		ldns_rr_list_deep_free(an);
		ldns_rr_list_deep_free(ns);
		return 0;
	}
	if (ns && ldns_rr_list_compare(ns, ldns_pkt_authority(pkt)) != 0) {
		__builtin_trap();
	}
	exercise_denial(ns, ldns_pkt_question(pkt));
	ldns_rr_list_deep_free(ns);
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
