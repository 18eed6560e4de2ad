/* SPDX-License-Identifier: MIT */
/*
 * dns/sig.c: RRSIG verification at a given time. We pick the candidate keys
 * and check the RFC 4035 §5.3.1 conditions, build the signed data (RFC 4034
 * §3.1.8.1: canonical RRset, original TTL, wildcard labels), let dns/verify.c
 * do the cryptography (through the caller's cache, if any) and judge the
 * validity window afterwards with serial-number arithmetic (RFC 4034 §3.1.5,
 * RFC 1982), so an expired signature by the right key over the right data says
 * "expired".
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dns/internal.h"

/* The fields of an RRSIG we look at (RFC 4034 §3.1). */
struct sig_fields {
	uint16_t covered;
	uint8_t algorithm;
	uint8_t labels;
	uint32_t expiration;
	uint32_t inception;
	uint16_t key_tag;
	const ldns_rdf *signer;
};

/* ldns keeps RRSIG rdata as nine fields; anything else is malformed. */
static int sig_read(const ldns_rr *rrsig, struct sig_fields *f)
{
	static const size_t fixed[7] = { 2, 1, 1, 4, 4, 4, 2 };

	if (ldns_rr_get_type(rrsig) != LDNS_RR_TYPE_RRSIG || ldns_rr_rd_count(rrsig) != 9) {
		return ZC_EMALF;
	}
	for (size_t i = 0; i < ZC_ARRAY_SIZE(fixed); i++) {
		const ldns_rdf *rdf = ldns_rr_rdf(rrsig, i);

		if (!rdf || ldns_rdf_size(rdf) != fixed[i]) {
			return ZC_EMALF;
		}
	}
	if (!dns_name_abs_ok(ldns_rr_rdf(rrsig, 7)) || !ldns_rr_rdf(rrsig, 8) ||
	    ldns_rdf_size(ldns_rr_rdf(rrsig, 8)) == 0) {
		return ZC_EMALF;
	}
	f->covered = ldns_rdf2native_int16(ldns_rr_rdf(rrsig, 0));
	f->algorithm = ldns_rdf2native_int8(ldns_rr_rdf(rrsig, 1));
	f->labels = ldns_rdf2native_int8(ldns_rr_rdf(rrsig, 2));
	f->expiration = ldns_rdf2native_int32(ldns_rr_rdf(rrsig, 4));
	f->inception = ldns_rdf2native_int32(ldns_rr_rdf(rrsig, 5));
	f->key_tag = ldns_rdf2native_int16(ldns_rr_rdf(rrsig, 6));
	f->signer = ldns_rr_rdf(rrsig, 7);
	return 0;
}

/* RFC 1982 §3.2: s1 < s2 in serial-number arithmetic. */
static bool serial_lt(uint32_t s1, uint32_t s2)
{
	return s1 != s2 && (uint32_t)(s2 - s1) < 0x80000000u;
}

/* RFC 4034 §3.1.5: valid when inception <= now <= expiration (serial order). */
static int window_status(const struct sig_fields *f, uint32_t now)
{
	if (serial_lt(now, f->inception)) {
		return ZC_ENOTYET;
	}
	if (serial_lt(f->expiration, now)) {
		return ZC_EEXPIRED;
	}
	return 0;
}

/* Higher is better: the "most telling" failure wins. */
static int status_rank(int status)
{
	switch (status) {
	case 0:
		return 7;
	case ZC_EEXPIRED:
		return 6;
	case ZC_ENOTYET:
		return 5;
	case ZC_EBOGUS:
		return 4;
	case ZC_ELIMIT:
		return 3;
	case ZC_ENOTSUP:
		return 2;
	case ZC_ENOKEY:
		return 1;
	default:
		return 0;
	}
}

/*
 * RFC 4035 §5.3.1: may @key have made @sig? (Not yet: does the signature verify.)
 * On true, @k views the key's rdata in *ret_buf (caller frees).
 */
static bool key_is_candidate(const ldns_rr *key, const struct sig_fields *f, struct dns_key *k,
			     uint8_t **ret_buf)
{
	uint8_t *buf = NULL;
	bool ok;

	if (!key || ldns_rr_get_type(key) != LDNS_RR_TYPE_DNSKEY || dns_key_read(key, k, &buf) < 0) {
		return false;
	}
	ok = k->protocol == DNS_KEY_PROTOCOL && (k->flags & DNS_KEY_FLAG_ZONE) &&
	     k->algorithm == f->algorithm && k->key_len > 0 &&
	     ldns_calc_keytag_raw(k->rdata, k->rdata_len) == f->key_tag &&
	     dns_name_abs_ok(ldns_rr_owner(key)) &&
	     zc_name_equal(ldns_rr_owner(key), f->signer);
	if (!ok) {
		free(buf);
		return false;
	}
	*ret_buf = buf;
	return true;
}

/* A name, lower-cased (RFC 4034 §6.2); length octets are <= 63 and never touched. */
static void sd_put_lower(struct zc_buf *b, const uint8_t *name, size_t len)
{
	size_t at = b->len;

	zc_buf_put(b, name, len);
	for (size_t i = at; !b->oom && i < b->len; i++) {
		if (b->p[i] >= 'A' && b->p[i] <= 'Z') {
			b->p[i] = (uint8_t)(b->p[i] + 32);
		}
	}
}

static void sd_put16(struct zc_buf *b, uint16_t v)
{
	uint8_t o[2] = { (uint8_t)(v >> 8), (uint8_t)v };

	zc_buf_put(b, o, sizeof(o));
}

/*
 * RFC 4034 §3.1.8.1: RRSIG_RDATA without the signature (the signer's name in
 * canonical form), then every record of the sorted, deduplicated @set in
 * canonical form with the original TTL; an owner with more labels than the
 * RRSIG's Labels field is the wildcard that produced it (RFC 4035 §5.3.2).
 */
static int signed_data(const ldns_rr_list *set, const ldns_rr *rrsig, const struct sig_fields *f,
		       struct zc_buf *b)
{
	const ldns_rdf *owner = ldns_rr_owner(ldns_rr_list_rr(set, 0));
	const uint8_t *ow = ldns_rdf_data(owner);
	const uint8_t *ttl = ldns_rdf_data(ldns_rr_rdf(rrsig, 3));
	size_t ow_len = ldns_rdf_size(owner);
	size_t nlabels = ldns_dname_label_count(owner);
	bool wildcard = f->labels < nlabels;

	for (size_t i = 0; i < 7; i++) {
		const ldns_rdf *rdf = ldns_rr_rdf(rrsig, i);

		zc_buf_put(b, ldns_rdf_data(rdf), ldns_rdf_size(rdf));
	}
	sd_put_lower(b, ldns_rdf_data(f->signer), ldns_rdf_size(f->signer));
	if (wildcard) {
		/* keep the rightmost f->labels labels (and the root) */
		for (size_t skip = nlabels - f->labels; skip > 0 && ow_len > 0; skip--) {
			ow_len -= 1u + ow[0];
			ow += 1u + ow[0];
		}
	}
	for (size_t i = 0; i < ldns_rr_list_rr_count(set); i++) {
		const ldns_rr *rr = ldns_rr_list_rr(set, i);
		uint8_t *rd = NULL;
		size_t rd_len = 0;
		int r;

		if (wildcard) {
			zc_buf_put(b, "\001*", 2);
		}
		sd_put_lower(b, ow, ow_len);
		sd_put16(b, ldns_rr_get_type(rr));
		sd_put16(b, ldns_rr_get_class(rr));
		zc_buf_put(b, ttl, 4);
		r = dns_rdata_wire(rr, true, &rd, &rd_len);
		if (r < 0) {
			return r;
		}
		sd_put16(b, (uint16_t)rd_len);
		zc_buf_put(b, rd, rd_len);
		free(rd);
	}
	return b->oom ? -ENOMEM : 0;
}

/* One RRSIG against every candidate key, within the verification budget. */
static int check_one(struct zc_sig_cache *cache, const ldns_rr_list *rrset, const ldns_rr *rrsig,
		     const ldns_rr_list *keys, uint32_t now, unsigned *budget,
		     struct zc_sig_result *res)
{
	struct zc_buf data = { 0 };
	const ldns_rdf *sig;
	const ldns_rr *first = ldns_rr_list_rr(rrset, 0);
	const ldns_rdf *owner = ldns_rr_owner(first);
	struct sig_fields f;
	size_t nkeys = keys ? ldns_rr_list_rr_count(keys) : 0;
	unsigned tries = 0;
	int best = ZC_ENOKEY;

	if (sig_read(rrsig, &f) < 0) {
		res->status = ZC_EBOGUS;
		return 0;
	}
	res->algorithm = f.algorithm;
	res->key_tag = f.key_tag;
	res->inception = f.inception;
	res->expiration = f.expiration;
	/*
	 * RFC 4035 §5.3.1: same class as the RRset, the signer is the zone that
	 * holds the RRset, Labels is not more than the owner's labels, and the
	 * window is sane (expiration not before inception, RFC 4034 §3.1.5).
	 */
	if (ldns_rr_get_class(rrsig) != ldns_rr_get_class(first) ||
	    !zc_name_is_at_or_below(owner, f.signer) || f.labels > ldns_dname_label_count(owner) ||
	    serial_lt(f.expiration, f.inception)) {
		res->status = ZC_EBOGUS;
		return 0;
	}
	sig = ldns_rr_rdf(rrsig, 8);
	for (size_t i = 0; i < nkeys && best != 0; i++) {
		const ldns_rr *key = ldns_rr_list_rr(keys, i);
		struct dns_key k;
		uint8_t *kbuf = NULL;
		int st;

		if (!key_is_candidate(key, &f, &k, &kbuf)) {
			continue;
		}
		if (tries >= ZC_DNS_MAX_KEY_TRIES || *budget == 0) {
			free(kbuf);
			if (status_rank(ZC_ELIMIT) > status_rank(best)) {
				best = ZC_ELIMIT;
			}
			break;
		}
		/* A cache hit counts against the budget too: results never depend on it. */
		tries++;
		(*budget)--;
		st = data.len ? 0 : signed_data(rrset, rrsig, &f, &data);
		if (st == 0) {
			st = dns_verify(cache, f.algorithm, k.key, k.key_len, data.p, data.len,
					ldns_rdf_data(sig), ldns_rdf_size(sig));
		}
		free(kbuf);
		if (st == -ENOMEM) {
			zc_buf_release(&data);
			return st;
		}
		if (st == 0) {
			st = window_status(&f, now);
		}
		if (status_rank(st) > status_rank(best)) {
			best = st;
			res->key = key;
		}
	}
	zc_buf_release(&data);
	res->status = best;
	return 0;
}

/* One owner, one class, one type, within the size limit. */
static int rrset_check_shape(const ldns_rr_list *rrset)
{
	size_t n = rrset ? ldns_rr_list_rr_count(rrset) : 0;
	const ldns_rr *first;

	if (n == 0) {
		return -EINVAL;
	}
	if (n > ZC_DNS_MAX_RRSET) {
		return ZC_ELIMIT;
	}
	first = ldns_rr_list_rr(rrset, 0);
	if (!first || !dns_name_abs_ok(ldns_rr_owner(first)) ||
	    ldns_rr_get_type(first) == LDNS_RR_TYPE_RRSIG) {
		return -EINVAL;
	}
	for (size_t i = 1; i < n; i++) {
		const ldns_rr *rr = ldns_rr_list_rr(rrset, i);

		if (!rr || ldns_rr_get_type(rr) != ldns_rr_get_type(first) ||
		    ldns_rr_get_class(rr) != ldns_rr_get_class(first) ||
		    zc_name_cmp(ldns_rr_owner(rr), ldns_rr_owner(first)) != 0) {
			return -EINVAL;
		}
	}
	return 0;
}

int zc_rrsig_check_cached(struct zc_sig_cache *cache, const ldns_rr_list *rrset,
			  const ldns_rr_list *rrsigs, const ldns_rr_list *keys, time_t now,
			  struct zc_sig_result *res, size_t max, size_t *ret_n)
{
	size_t nsigs = rrsigs ? ldns_rr_list_rr_count(rrsigs) : 0;
	ldns_rr_list *set = NULL;
	ldns_rr_type type;
	unsigned budget = ZC_DNS_MAX_VERIFY;
	size_t n = 0;
	int best = ZC_ENOKEY;
	int r;

	if (max > 0 && !res) {
		return -EINVAL;
	}
	r = rrset_check_shape(rrset);
	if (r < 0) {
		return r;
	}
	/* RFC 4034 §6.3: the signer dropped duplicate records; so do we (an
	 * answer may repeat one, RFC 2181 §5). */
	set = ldns_rr_list_clone(rrset);
	if (!set) {
		return -ENOMEM;
	}
	zc_rrset_canonicalize(set);
	type = ldns_rr_get_type(ldns_rr_list_rr(set, 0));
	for (size_t i = 0; i < nsigs; i++) {
		const ldns_rr *rrsig = ldns_rr_list_rr(rrsigs, i);
		struct zc_sig_result one = { .rrsig = rrsig, .status = ZC_ENOKEY };
		const ldns_rdf *tc;

		if (!rrsig || ldns_rr_get_type(rrsig) != LDNS_RR_TYPE_RRSIG) {
			continue;
		}
		tc = ldns_rr_rd_count(rrsig) > 0 ? ldns_rr_rdf(rrsig, 0) : NULL;
		if (!tc || ldns_rdf_size(tc) != 2 || ldns_rdf2rr_type(tc) != type) {
			continue;
		}
		r = check_one(cache, set, rrsig, keys, (uint32_t)now, &budget, &one);
		if (r < 0) {
			ldns_rr_list_deep_free(set);
			return r;
		}
		if (n < max) {
			res[n++] = one;
		}
		if (status_rank(one.status) > status_rank(best)) {
			best = one.status;
		}
	}
	ldns_rr_list_deep_free(set);
	if (ret_n) {
		*ret_n = n;
	}
	return best;
}

int zc_rrsig_check(const ldns_rr_list *rrset, const ldns_rr_list *rrsigs, const ldns_rr_list *keys,
		   time_t now, struct zc_sig_result *res, size_t max, size_t *ret_n)
{
	return zc_rrsig_check_cached(NULL, rrset, rrsigs, keys, now, res, max, ret_n);
}
