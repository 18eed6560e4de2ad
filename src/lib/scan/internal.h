/* SPDX-License-Identifier: MIT */
/*
 * scan/internal.h: what the scan collects per delegation (answers per nameserver
 * address, RFC 9615 signals) and the pure decision function that turns them into
 * one result. decide.c has no I/O, so unit tests drive it with fixed data.
 */
#ifndef ZC_SCAN_INTERNAL_H
#define ZC_SCAN_INTERNAL_H

#include <zonecut/dns.h>
#include <zonecut/scan.h>

#include "util/internal.h"

/* The apex types asked at every address (stage 3 of the funnel). */
enum scan_qtype { SQ_CDS = 0, SQ_CDNSKEY, SQ_DNSKEY, SQ_COUNT };

/* What one address of one nameserver said, per type. */
struct scan_answer {
	unsigned ns_index;                /* into the delegation's ns[] */
	struct sockaddr_storage addr;
	socklen_t addr_len;
	bool asked[SQ_COUNT];
	int status[SQ_COUNT];             /* 0 answered, else ZC_ETIMEOUT, ZC_ECONN, ... */
	int rcode[SQ_COUNT];
	bool aa[SQ_COUNT];
	bool tcp[SQ_COUNT];
	ldns_rr_list *rrset[SQ_COUNT];    /* owned; records at the apex of that type */
	ldns_rr_list *rrsig[SQ_COUNT];    /* owned; RRSIGs covering them */
	/*
	 * An answer with records is kept (owned) so that another address's answer that
	 * is the same, byte for byte but the ID, shares its parsed lists instead of
	 * parsing them again: then borrowed[t], and rrset[t]/rrsig[t] are the other
	 * answer's (freed with it, as every answer of a job is freed together).
	 */
	uint8_t *wire[SQ_COUNT];
	size_t wire_len[SQ_COUNT];
	bool borrowed[SQ_COUNT];
	bool left_out;                    /* S3: failing for too many runs, not counted */
	uint32_t failures;                /* consecutive failed runs (from the store) */
};

/* An RFC 9615 signal lookup for one nameserver, through the validating resolver. */
struct scan_signal {
	unsigned ns_index;
	bool in_child;                    /* nameserver inside the child: skipped */
	bool name_too_long;
	int status[2];                    /* per CDS, CDNSKEY: 0 answered */
	int rcode[2];
	enum zc_security security[2];
	ldns_rr_list *rrset[2];           /* owned */
};

struct scan_input {
	const struct zc_delegation *d;
	const struct zc_scan_policy *policy;
	const struct scan_answer *answers;
	size_t n_answers;
	const struct scan_signal *signals;
	size_t n_signals;
	time_t now;
	bool have_last_inception;         /* from the store (S10) */
	uint32_t last_inception;
	bool delay_elapsed;               /* accept-after-delay satisfied (S7) */
	struct zc_sig_cache *sigcache;    /* the scan's verification cache; may be NULL */
};

struct scan_outcome {
	enum zc_scan_result result;
	enum zc_scan_mode mode;
	uint32_t reasons;
	ldns_rr_list *ds_new;             /* owned by the caller afterwards; may be NULL */
	uint32_t inception;
	/*
	 * per answer, once authentication ran: secure (validated through the DS set),
	 * insecure (an unsecured delegation, self-signed data), bogus (failed)
	 */
	bool authenticated;
	enum zc_security answer_security[ZC_SCAN_MAX_NS * ZC_SCAN_MAX_ADDRS];
	/* consensus apex sets (borrowed from the answers) for signals and the store */
	const ldns_rr_list *cds;
	const ldns_rr_list *cdnskey;
};

/* A usable answer: every type answered authoritatively with NOERROR. */
bool scan_answer_usable(const struct scan_answer *a, uint32_t *ret_reasons);

/*
 * scan_prepare() - the first half of the decision, over answers only: usable
 * servers, consistency, delete forms, policy. Returns true when the decision is
 * final already (out filled); false when authentication must go on, in which
 * case out->mode says whether RFC 9615 signals are needed (bootstrap).
 */
bool scan_prepare(const struct scan_input *in, struct scan_outcome *out);

/*
 * scan_authenticate() - the second half, after scan_prepare() returned false (and,
 * for a bootstrap, after the signals were collected into @in): authentication
 * (S5 or S6), continuity (S9) and replay (S10). Sets the final result.
 */
void scan_authenticate(const struct scan_input *in, struct scan_outcome *out);

/*
 * scan_decide() - scan_prepare() then, when needed, scan_authenticate().
 * out->ds_new is allocated for update, delete and unchanged; the caller frees it.
 */
void scan_decide(const struct scan_input *in, struct scan_outcome *out);

void scan_answer_release(struct scan_answer *a);

/*
 * scan_zone_line_fast() - one zone file line in the shape parent zones are made
 * of ("OWNER. TTL IN NS|DS|A|AAAA RDATA": absolute owner, TTL in seconds, no
 * escapes, quotes, parentheses or comments) into *ret_rr exactly as
 * ldns_rr_new_frm_str() reads it, *prev updated as ldns does. Returns 1, 0 (not
 * that shape: leave it to ldns) or -ENOMEM.
 */
int scan_zone_line_fast(const char *line, ldns_rdf **prev, ldns_rr **ret_rr);
void scan_signal_release(struct scan_signal *s);

#endif
