/* SPDX-License-Identifier: MIT */
/*
 * The parental agent's decision, without I/O: from what every nameserver address
 * said (CDS, CDNSKEY, DNSKEY with RRSIGs) and, for bootstraps, what the RFC 9615
 * signals said, to exactly one result with its reasons (SPECS.md S1-S11).
 */
#include <string.h>

#include "scan/internal.h"

#define R(x) (1u << (x))

static const char *const result_names[ZC_SCAN_RESULT_COUNT] = {
	"no-cds", "unchanged", "update", "delete", "rejected", "error",
};

static const char *const reason_names[ZC_R_COUNT] = {
	[ZC_R_NS_INCONSISTENT] = "ns-inconsistent",
	[ZC_R_CDS_CDNSKEY_MISMATCH] = "cds-cdnskey-mismatch",
	[ZC_R_NOT_SIGNED_BY_DS_KEY] = "not-signed-by-ds-key",
	[ZC_R_DNSKEY_NOT_VALIDATED] = "dnskey-not-validated",
	[ZC_R_BOOTSTRAP_SIGNAL_MISSING] = "bootstrap-signal-missing",
	[ZC_R_BOOTSTRAP_SIGNAL_MISMATCH] = "bootstrap-signal-mismatch",
	[ZC_R_BOOTSTRAP_SIGNAL_INSECURE] = "bootstrap-signal-insecure",
	[ZC_R_BOOTSTRAP_NO_OUT_OF_CHILD_NS] = "bootstrap-no-out-of-child-ns",
	[ZC_R_BREAKS_CHAIN] = "breaks-chain",
	[ZC_R_ALGORITHM_NOT_ALLOWED] = "algorithm-not-allowed",
	[ZC_R_DIGEST_NOT_ALLOWED] = "digest-not-allowed",
	[ZC_R_DELETE_MALFORMED] = "delete-malformed",
	[ZC_R_REPLAY] = "replay",
	[ZC_R_TOO_MANY_RECORDS] = "too-many-records",
	[ZC_R_TIMEOUT] = "timeout",
	[ZC_R_UNREACHABLE] = "unreachable",
	[ZC_R_LAME] = "lame",
	[ZC_R_MALFORMED] = "malformed",
	[ZC_R_SIGNATURE_INVALID] = "signature-invalid",
	[ZC_R_DELAY_PENDING] = "delay-pending",
	[ZC_R_BOOTSTRAP_DISABLED] = "bootstrap-disabled",
	[ZC_R_DS_LOOKUP_FAILED] = "ds-lookup-failed",
	[ZC_R_NO_ADDRESS] = "no-address",
	[ZC_R_STORE_FAILED] = "store-failed",
};

const char *zc_scan_result_str(enum zc_scan_result r)
{
	return (unsigned)r < ZC_SCAN_RESULT_COUNT ? result_names[r] : "unknown";
}

const char *zc_scan_mode_str(enum zc_scan_mode m)
{
	switch (m) {
	case ZC_SCAN_MODE_BOOTSTRAP:
		return "bootstrap";
	case ZC_SCAN_MODE_ROLLOVER:
		return "rollover";
	case ZC_SCAN_MODE_DELETE:
		return "delete";
	default:
		return NULL;
	}
}

const char *zc_scan_reason_str(enum zc_scan_reason r)
{
	return (unsigned)r < ZC_R_COUNT ? reason_names[r] : "unknown";
}

void zc_scan_policy_default(struct zc_scan_policy *p)
{
	static const uint8_t algs[] = { 8, 10, 13, 14, 15, 16 };

	memset(p, 0, sizeof(*p));
	memcpy(p->algorithms, algs, sizeof(algs));
	p->n_algorithms = sizeof(algs);
	p->digests[0] = ZC_DIGEST_SHA256;
	p->digests[1] = ZC_DIGEST_SHA384;
	p->n_digests = 2;
	p->cdnskey_digests[0] = ZC_DIGEST_SHA256;
	p->n_cdnskey_digests = 1;
	p->max_records = 8;
	p->strict_continuity = true;
	p->bootstrap = true;
	p->leave_out_after = 7;
}

static bool in_set(const uint8_t *set, unsigned n, uint8_t v)
{
	for (unsigned i = 0; i < n; i++) {
		if (set[i] == v) {
			return true;
		}
	}
	return false;
}

static size_t count(const ldns_rr_list *l)
{
	return l ? ldns_rr_list_rr_count(l) : 0;
}

void scan_answer_release(struct scan_answer *a)
{
	for (int t = 0; t < SQ_COUNT; t++) {
		if (!a->borrowed[t]) {
			ldns_rr_list_deep_free(a->rrset[t]);
			ldns_rr_list_deep_free(a->rrsig[t]);
		}
		free(a->wire[t]);
		a->rrset[t] = NULL;
		a->rrsig[t] = NULL;
		a->wire[t] = NULL;
		a->wire_len[t] = 0;
		a->borrowed[t] = false;
	}
}

void scan_signal_release(struct scan_signal *s)
{
	for (int t = 0; t < 2; t++) {
		ldns_rr_list_deep_free(s->rrset[t]);
		s->rrset[t] = NULL;
	}
}

bool scan_answer_usable(const struct scan_answer *a, uint32_t *ret_reasons)
{
	if (a->left_out) {
		return false; /* S3: not counted, neither for nor against */
	}
	for (int t = 0; t < SQ_COUNT; t++) {
		if (!a->asked[t]) {
			return false;
		}
		switch (a->status[t]) {
		case 0:
			break;
		case ZC_ETIMEOUT:
			*ret_reasons |= R(ZC_R_TIMEOUT);
			return false;
		case ZC_EMALF:
		case ZC_EMISMATCH:
			*ret_reasons |= R(ZC_R_MALFORMED);
			return false;
		default:
			*ret_reasons |= R(ZC_R_UNREACHABLE);
			return false;
		}
		/* NXDOMAIN at the apex, REFUSED, SERVFAIL, no AA: the server is lame. */
		if (a->rcode[t] != LDNS_RCODE_NOERROR || !a->aa[t]) {
			*ret_reasons |= R(ZC_R_LAME);
			return false;
		}
	}
	return true;
}

/*
 * A borrowed view of a CDS set without the digest types the parent does not use
 * (S4: disagreement modulo unused digest types is no disagreement). Delete forms
 * stay. Free with ldns_rr_list_free() (shallow).
 */
static ldns_rr_list *cds_used(const ldns_rr_list *cds, const struct zc_scan_policy *p)
{
	ldns_rr_list *l = ldns_rr_list_new();

	for (size_t i = 0; l && i < count(cds); i++) {
		ldns_rr *rr = ldns_rr_list_rr(cds, i);

		if (zc_cds_is_delete(rr) || in_set(p->digests, p->n_digests, zc_ds_digest_type(rr))) {
			ldns_rr_list_push_rr(l, rr);
		}
	}
	return l;
}

static bool cds_equal_used(const ldns_rr_list *a, const ldns_rr_list *b,
			   const struct zc_scan_policy *p)
{
	ldns_rr_list *ua = cds_used(a, p), *ub = cds_used(b, p);
	bool eq = ua && ub && zc_rrset_equal(ua, ub);

	ldns_rr_list_free(ua);
	ldns_rr_list_free(ub);
	return eq;
}

/* Every key tag/algorithm named by the CDS set has at least one allowed digest. */
static bool cds_digests_ok(const ldns_rr_list *cds, const struct zc_scan_policy *p)
{
	for (size_t i = 0; i < count(cds); i++) {
		const ldns_rr *a = ldns_rr_list_rr(cds, i);
		bool covered = false;

		for (size_t j = 0; j < count(cds) && !covered; j++) {
			const ldns_rr *b = ldns_rr_list_rr(cds, j);

			covered = zc_ds_key_tag(a) == zc_ds_key_tag(b) &&
				  zc_rr_algorithm(a) == zc_rr_algorithm(b) &&
				  in_set(p->digests, p->n_digests, zc_ds_digest_type(b));
		}
		if (!covered) {
			return false;
		}
	}
	return true;
}

/* S4: each CDNSKEY has a CDS (of a used digest type), each used CDS a CDNSKEY. */
static bool cds_cdnskey_agree(const ldns_rr_list *cds, const ldns_rr_list *cdnskey,
			      const struct zc_scan_policy *p)
{
	ldns_rr_list *used = cds_used(cds, p);
	bool ok = used != NULL;

	for (size_t i = 0; ok && i < count(cdnskey); i++) {
		bool found = false;

		for (size_t j = 0; j < count(used) && !found; j++) {
			found = zc_ds_matches_key(ldns_rr_list_rr(used, j),
						  ldns_rr_list_rr(cdnskey, i));
		}
		ok = found;
	}
	for (size_t j = 0; ok && j < count(used); j++) {
		bool found = false;

		for (size_t i = 0; i < count(cdnskey) && !found; i++) {
			found = zc_ds_matches_key(ldns_rr_list_rr(used, j),
						  ldns_rr_list_rr(cdnskey, i));
		}
		ok = found;
	}
	ldns_rr_list_free(used);
	return ok;
}

/* The DS set the parent would publish: from CDS (used digests), else from CDNSKEY. */
static ldns_rr_list *candidate_ds(const ldns_rr_list *cds, const ldns_rr_list *cdnskey,
				  const struct zc_scan_policy *p)
{
	ldns_rr_list *ds = ldns_rr_list_new();

	if (!ds) {
		return NULL;
	}
	if (count(cds) > 0) {
		for (size_t i = 0; i < count(cds); i++) {
			const ldns_rr *c = ldns_rr_list_rr(cds, i);
			ldns_rr *copy;

			if (!in_set(p->digests, p->n_digests, zc_ds_digest_type(c))) {
				continue;
			}
			copy = ldns_rr_clone(c);
			if (!copy) {
				goto fail;
			}
			ldns_rr_set_type(copy, LDNS_RR_TYPE_DS);
			ldns_rr_list_push_rr(ds, copy);
		}
	} else {
		for (size_t i = 0; i < count(cdnskey); i++) {
			for (unsigned d = 0; d < p->n_cdnskey_digests; d++) {
				ldns_rr *r = NULL;

				if (zc_ds_from_key(ldns_rr_list_rr(cdnskey, i),
						   (enum zc_digest)p->cdnskey_digests[d], &r) < 0) {
					goto fail;
				}
				ldns_rr_list_push_rr(ds, r);
			}
		}
	}
	zc_rrset_canonicalize(ds);
	return ds;
fail:
	ldns_rr_list_deep_free(ds);
	return NULL;
}

static uint32_t policy_reasons(const ldns_rr_list *cds, const ldns_rr_list *cdnskey,
			       const struct zc_scan_policy *p)
{
	uint32_t r = 0;

	if (count(cds) > p->max_records || count(cdnskey) > p->max_records) {
		r |= R(ZC_R_TOO_MANY_RECORDS);
	}
	for (size_t i = 0; i < count(cds); i++) {
		if (!in_set(p->algorithms, p->n_algorithms, zc_rr_algorithm(ldns_rr_list_rr(cds, i)))) {
			r |= R(ZC_R_ALGORITHM_NOT_ALLOWED);
		}
	}
	for (size_t i = 0; i < count(cdnskey); i++) {
		if (!in_set(p->algorithms, p->n_algorithms,
			    zc_rr_algorithm(ldns_rr_list_rr(cdnskey, i)))) {
			r |= R(ZC_R_ALGORITHM_NOT_ALLOWED);
		}
	}
	if (!cds_digests_ok(cds, p)) {
		r |= R(ZC_R_DIGEST_NOT_ALLOWED);
	}
	return r;
}

bool scan_prepare(const struct scan_input *in, struct scan_outcome *out)
{
	const struct scan_answer *first = NULL;
	uint32_t fail = 0;
	bool any = false, inconsistent = false;
	size_t n_usable = 0;
	enum zc_delete_form df_cds, df_key;
	const ldns_rr_list *cds, *cdnskey;

	memset(out, 0, sizeof(*out));
	out->mode = count(in->d->ds) ? ZC_SCAN_MODE_ROLLOVER : ZC_SCAN_MODE_BOOTSTRAP;
	for (size_t i = 0; i < in->n_answers; i++) {
		const struct scan_answer *a = &in->answers[i];

		if (!scan_answer_usable(a, &fail)) {
			continue;
		}
		n_usable++;
		any = any || count(a->rrset[SQ_CDS]) || count(a->rrset[SQ_CDNSKEY]);
		if (!first) {
			first = a;
			continue;
		}
		/* S4: every answer must agree. */
		if (!cds_equal_used(first->rrset[SQ_CDS], a->rrset[SQ_CDS], in->policy) ||
		    !zc_rrset_equal(first->rrset[SQ_CDNSKEY], a->rrset[SQ_CDNSKEY])) {
			inconsistent = true;
		}
	}
	if (n_usable == 0) {
		out->result = ZC_SCAN_ERROR;
		out->mode = ZC_SCAN_MODE_NONE;
		out->reasons = fail ? fail : R(ZC_R_NO_ADDRESS);
		return true;
	}
	out->reasons = fail;
	if (!any) {
		out->result = ZC_SCAN_NO_CDS;
		out->mode = ZC_SCAN_MODE_NONE;
		return true;
	}
	if (inconsistent) {
		out->result = ZC_SCAN_REJECTED;
		out->reasons |= R(ZC_R_NS_INCONSISTENT);
		return true;
	}
	if (fail) {
		/*
		 * S3: something is published but not every server answered, so their
		 * agreement cannot be checked: the scan could not finish; retry later.
		 */
		out->result = ZC_SCAN_ERROR;
		return true;
	}
	cds = out->cds = first->rrset[SQ_CDS];
	cdnskey = out->cdnskey = first->rrset[SQ_CDNSKEY];

	/* S8: delete forms. */
	df_cds = zc_rrset_delete_form(cds);
	df_key = zc_rrset_delete_form(cdnskey);
	if (df_cds == ZC_DELETE_MIXED || df_key == ZC_DELETE_MIXED) {
		out->result = ZC_SCAN_REJECTED;
		out->mode = ZC_SCAN_MODE_DELETE;
		out->reasons |= R(ZC_R_DELETE_MALFORMED);
		return true;
	}
	if (df_cds == ZC_DELETE_VALID || df_key == ZC_DELETE_VALID) {
		out->mode = ZC_SCAN_MODE_DELETE;
		if ((count(cds) && df_cds != ZC_DELETE_VALID) ||
		    (count(cdnskey) && df_key != ZC_DELETE_VALID)) {
			out->result = ZC_SCAN_REJECTED;
			out->reasons |= R(ZC_R_CDS_CDNSKEY_MISMATCH);
			return true;
		}
		if (count(in->d->ds) == 0) {
			/* Nothing to remove: the delegation is already unsecured. */
			out->result = ZC_SCAN_UNCHANGED;
			out->ds_new = ldns_rr_list_new();
			return true;
		}
		return false;
	}

	out->reasons |= policy_reasons(cds, cdnskey, in->policy);
	if (count(cds) && count(cdnskey) && !cds_cdnskey_agree(cds, cdnskey, in->policy)) {
		out->reasons |= R(ZC_R_CDS_CDNSKEY_MISMATCH);
	}
	if (out->reasons) {
		out->result = ZC_SCAN_REJECTED;
		return true;
	}
	out->ds_new = candidate_ds(cds, cdnskey, in->policy);
	if (!out->ds_new) {
		out->result = ZC_SCAN_ERROR;
		out->reasons |= R(ZC_R_MALFORMED);
		return true;
	}
	if (zc_rrset_equal(out->ds_new, in->d->ds)) {
		out->result = ZC_SCAN_UNCHANGED;
		return true;
	}
	return false;
}

/* Keys of @dnskey that some DS of @ds names. Shallow list; NULL on ENOMEM. */
static ldns_rr_list *keys_named_by(const ldns_rr_list *dnskey, const ldns_rr_list *ds)
{
	ldns_rr_list *l = ldns_rr_list_new();

	for (size_t i = 0; l && i < count(dnskey); i++) {
		ldns_rr *k = ldns_rr_list_rr(dnskey, i);

		for (size_t j = 0; j < count(ds); j++) {
			if (zc_ds_matches_key(ldns_rr_list_rr(ds, j), k)) {
				ldns_rr_list_push_rr(l, k);
				break;
			}
		}
	}
	return l;
}

#define MAX_SIGS 64

/*
 * Verifies @rrset (non-empty) against @keys; on success raises *inception to the
 * newest inception of a validating RRSIG. Returns 0 or the check's error.
 */
static int verify(const struct scan_input *in, const ldns_rr_list *rrset, const ldns_rr_list *sigs,
		  const ldns_rr_list *keys, uint32_t *inception)
{
	struct zc_sig_result res[MAX_SIGS];
	size_t n = 0;
	int r = zc_rrsig_check_cached(in->sigcache, rrset, sigs, keys, in->now, res, MAX_SIGS, &n);

	for (size_t i = 0; r == 0 && i < n; i++) {
		/* RFC 4034 §3.1.5: signature times compare in serial-number arithmetic */
		if (res[i].status == 0 &&
		    (*inception == 0 || (int32_t)(res[i].inception - *inception) > 0)) {
			*inception = res[i].inception;
		}
	}
	return r;
}

static bool sig_failure(int r)
{
	return r == ZC_EBOGUS || r == ZC_EEXPIRED || r == ZC_ENOTYET;
}

/* S5: CDS/CDNSKEY signed by a key the current DS set names; DNSKEY validated by it. */
static uint32_t auth_through_ds(const struct scan_input *in, const struct scan_answer *a,
				uint32_t *inception)
{
	const ldns_rr_list *dnskey = a->rrset[SQ_DNSKEY];
	ldns_rr_list *ds_keys = keys_named_by(dnskey, in->d->ds);
	uint32_t reasons = 0, dummy = 0;
	int r;

	if (!ds_keys) {
		return R(ZC_R_MALFORMED);
	}
	r = count(dnskey) ? verify(in, dnskey, a->rrsig[SQ_DNSKEY], ds_keys, &dummy) :
			    ZC_ENOKEY;
	if (r != 0) {
		reasons |= R(ZC_R_DNSKEY_NOT_VALIDATED);
		if (sig_failure(r)) {
			reasons |= R(ZC_R_SIGNATURE_INVALID);
		}
	}
	for (int t = SQ_CDS; t <= SQ_CDNSKEY; t++) {
		if (!count(a->rrset[t])) {
			continue;
		}
		r = verify(in, a->rrset[t], a->rrsig[t], ds_keys, inception);
		if (r != 0) {
			reasons |= R(ZC_R_NOT_SIGNED_BY_DS_KEY);
			if (sig_failure(r)) {
				reasons |= R(ZC_R_SIGNATURE_INVALID);
			}
		}
	}
	ldns_rr_list_free(ds_keys);
	return reasons;
}

/* Bootstrap: the apex CDS/CDNSKEY must be signed by the child's own DNSKEY set. */
static uint32_t auth_self(const struct scan_input *in, const struct scan_answer *a,
			  uint32_t *inception)
{
	const ldns_rr_list *dnskey = a->rrset[SQ_DNSKEY];
	uint32_t reasons = 0;

	if (!count(dnskey)) {
		return R(ZC_R_BREAKS_CHAIN); /* an unsigned child: a DS would make it bogus */
	}
	for (int t = SQ_CDS; t <= SQ_CDNSKEY; t++) {
		int r;

		if (!count(a->rrset[t])) {
			continue;
		}
		r = verify(in, a->rrset[t], a->rrsig[t], dnskey, inception);
		if (r == ZC_ENOKEY) {
			reasons |= R(ZC_R_BREAKS_CHAIN);
		} else if (r != 0) {
			reasons |= R(ZC_R_SIGNATURE_INVALID);
		}
	}
	return reasons;
}

/* S6: RFC 9615 §4.2 signals at every out-of-child nameserver. */
static uint32_t auth_signals(const struct scan_input *in, const struct scan_outcome *out)
{
	const ldns_rr_list *apex[2] = { out->cds, out->cdnskey };
	unsigned outside = 0;
	uint32_t reasons = 0;

	for (size_t i = 0; i < in->n_signals; i++) {
		const struct scan_signal *s = &in->signals[i];

		if (s->in_child) {
			continue;
		}
		outside++;
		if (s->name_too_long) {
			reasons |= R(ZC_R_BOOTSTRAP_SIGNAL_MISSING);
			continue;
		}
		if (s->status[0] != 0 || s->status[1] != 0) {
			reasons |= R(ZC_R_BOOTSTRAP_SIGNAL_MISSING);
			continue;
		}
		if (s->security[0] != ZC_SEC_SECURE || s->security[1] != ZC_SEC_SECURE) {
			reasons |= R(ZC_R_BOOTSTRAP_SIGNAL_INSECURE);
			continue;
		}
		if (!count(s->rrset[0]) && !count(s->rrset[1])) {
			reasons |= R(ZC_R_BOOTSTRAP_SIGNAL_MISSING);
			continue;
		}
		for (int t = 0; t < 2; t++) {
			if (!zc_rrset_equal(s->rrset[t], apex[t])) {
				reasons |= R(ZC_R_BOOTSTRAP_SIGNAL_MISMATCH);
			}
		}
	}
	if (outside == 0) {
		reasons |= R(ZC_R_BOOTSTRAP_NO_OUT_OF_CHILD_NS);
	}
	return reasons;
}

/*
 * S9: the new DS set must not break the delegation. Strict (BIND dnssec-cds): every
 * algorithm in it validates the DNSKEY RRset through a key it names, and every
 * digest type covers the same keys. Lenient: at least one DS does.
 */
static uint32_t continuity(const struct scan_input *in, const struct scan_answer *a,
			   const ldns_rr_list *ds_new)
{
	const ldns_rr_list *dnskey = a->rrset[SQ_DNSKEY];
	struct zc_sig_result res[MAX_SIGS];
	size_t n = 0, ok_algs = 0, algs = 0;
	uint8_t seen_alg[256] = { 0 };

	if (!count(dnskey)) {
		return R(ZC_R_BREAKS_CHAIN);
	}
	(void)zc_rrsig_check_cached(in->sigcache, dnskey, a->rrsig[SQ_DNSKEY], dnskey, in->now, res,
				    MAX_SIGS, &n);
	for (size_t i = 0; i < count(ds_new); i++) {
		uint8_t alg = zc_rr_algorithm(ldns_rr_list_rr(ds_new, i));
		bool ok = false;

		if (seen_alg[alg]++) {
			continue;
		}
		algs++;
		for (size_t j = 0; j < count(ds_new) && !ok; j++) {
			const ldns_rr *ds = ldns_rr_list_rr(ds_new, j);

			if (zc_rr_algorithm(ds) != alg) {
				continue;
			}
			for (size_t s = 0; s < n && !ok; s++) {
				ok = res[s].status == 0 && res[s].key && zc_ds_matches_key(ds, res[s].key);
			}
		}
		ok_algs += ok;
	}
	if (!in->policy->strict_continuity) {
		return ok_algs > 0 ? 0 : R(ZC_R_BREAKS_CHAIN);
	}
	if (ok_algs != algs) {
		return R(ZC_R_BREAKS_CHAIN);
	}
	/* every digest type names the same keys of the DNSKEY set */
	for (size_t i = 0; i < count(ds_new); i++) {
		uint8_t dt = zc_ds_digest_type(ldns_rr_list_rr(ds_new, i));

		for (size_t k = 0; k < count(dnskey); k++) {
			const ldns_rr *key = ldns_rr_list_rr(dnskey, k);
			bool by_dt = false, by_any = false;

			for (size_t j = 0; j < count(ds_new); j++) {
				const ldns_rr *ds = ldns_rr_list_rr(ds_new, j);

				if (zc_ds_matches_key(ds, key)) {
					by_any = true;
					by_dt = by_dt || zc_ds_digest_type(ds) == dt;
				}
			}
			if (by_any && !by_dt) {
				return R(ZC_R_BREAKS_CHAIN);
			}
		}
	}
	return 0;
}

static void answer_security(struct scan_outcome *out, size_t i, enum zc_security sec)
{
	if (i < ZC_ARRAY_SIZE(out->answer_security)) {
		out->answer_security[i] = sec;
	}
}

void scan_decide(const struct scan_input *in, struct scan_outcome *out)
{
	if (!scan_prepare(in, out)) {
		scan_authenticate(in, out);
	}
}

/*
 * An earlier usable answer with the very same lists as answer @i (shared because
 * the answers were the same bytes, see answer_share() in scan.c), or -1. Checking
 * @i again would give the same verdict and the same inception: the checks depend on
 * nothing else of an answer, and the inception kept is the latest (serial
 * arithmetic over valid signatures, all within 2^31 s of now), so seeing the same
 * signatures twice changes nothing.
 */
static ssize_t same_lists_before(const struct scan_input *in, size_t i)
{
	const struct scan_answer *a = &in->answers[i];

	for (size_t k = 0; k < i; k++) {
		const struct scan_answer *b = &in->answers[k];
		uint32_t dummy = 0;
		bool same = scan_answer_usable(b, &dummy);

		for (int t = 0; same && t < SQ_COUNT; t++) {
			same = a->rrset[t] == b->rrset[t] && a->rrsig[t] == b->rrsig[t];
		}
		if (same) {
			return (ssize_t)k;
		}
	}
	return -1;
}

void scan_authenticate(const struct scan_input *in, struct scan_outcome *out)
{
	enum { N = ZC_ARRAY_SIZE(out->answer_security) };
	bool secured = count(in->d->ds) > 0, again[N] = { false };
	uint32_t reasons = 0, inception = 0;

	out->authenticated = true;
	/* S5 through the current DS set, or the child's own keys for a bootstrap */
	for (size_t i = 0; i < in->n_answers; i++) {
		uint32_t dummy = 0, r;
		ssize_t k;

		if (!scan_answer_usable(&in->answers[i], &dummy)) {
			continue;
		}
		k = i < N ? same_lists_before(in, i) : -1;
		if (k >= 0) {
			again[i] = true;
			answer_security(out, i, out->answer_security[k]);
			continue;
		}
		r = secured ? auth_through_ds(in, &in->answers[i], &inception)
			    : auth_self(in, &in->answers[i], &inception);
		reasons |= r;
		answer_security(out, i, r ? ZC_SEC_BOGUS : secured ? ZC_SEC_SECURE : ZC_SEC_INSECURE);
	}
	if (!secured) {
		uint32_t sig = in->policy->bootstrap ? auth_signals(in, out)
						     : R(ZC_R_BOOTSTRAP_DISABLED);

		if (sig && in->policy->accept_after_delay_ms) {
			/* S7: RFC 8078 §3.3 accept after delay replaces the signals. */
			sig = in->delay_elapsed ? 0 : sig | R(ZC_R_DELAY_PENDING);
		}
		reasons |= sig;
	}
	if (out->mode != ZC_SCAN_MODE_DELETE) {
		for (size_t i = 0; i < in->n_answers; i++) {
			uint32_t dummy = 0;

			/* the same lists as an earlier answer: the same result, already in */
			if (scan_answer_usable(&in->answers[i], &dummy) && !(i < N && again[i])) {
				reasons |= continuity(in, &in->answers[i], out->ds_new);
			}
		}
	}
	/* S10: the signature must be newer than the last one acted upon. */
	if (!reasons && in->have_last_inception &&
	    (int32_t)(inception - in->last_inception) <= 0) {
		reasons |= R(ZC_R_REPLAY);
	}
	out->inception = inception;
	out->reasons |= reasons;
	if (out->reasons) {
		out->result = ZC_SCAN_REJECTED;
		ldns_rr_list_deep_free(out->ds_new);
		out->ds_new = NULL;
		return;
	}
	if (out->mode == ZC_SCAN_MODE_DELETE) {
		out->result = ZC_SCAN_DELETE;
		ldns_rr_list_deep_free(out->ds_new);
		out->ds_new = ldns_rr_list_new();
	} else {
		out->result = ZC_SCAN_UPDATE;
	}
}
