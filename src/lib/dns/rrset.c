/* SPDX-License-Identifier: MIT */
/*
 * dns/rrset.c: rdata in (canonical) wire form, RRset extraction, comparison as
 * sets of canonical rdata (RFC 4034 §6.2) and canonical ordering (§6.3).
 */
#include <errno.h>
#include <string.h>

#include "dns/internal.h"

ldns_rr_type dns_type_family(ldns_rr_type type)
{
	/* RFC 7344 §3.1, §3.2: CDS and CDNSKEY carry DS and DNSKEY rdata. */
	switch (type) {
	case LDNS_RR_TYPE_CDS:
		return LDNS_RR_TYPE_DS;
	case LDNS_RR_TYPE_CDNSKEY:
		return LDNS_RR_TYPE_DNSKEY;
	default:
		return type;
	}
}

/*
 * Rdata without a domain name field (DS, DNSKEY, CDS, CDNSKEY: most of what
 * the scan reads) is the same in plain and canonical form: ldns keeps every field in
 * wire form, so the rdata is the fields one after the other. Returns 1 when @rr has
 * a name field (the caller takes the general way), else 0 or -errno.
 */
static int rdata_concat(const ldns_rr *rr, uint8_t **ret_data, size_t *ret_len)
{
	size_t n = ldns_rr_rd_count(rr), len = 0, pos = 0;
	uint8_t *data;

	for (size_t i = 0; i < n; i++) {
		const ldns_rdf *f = ldns_rr_rdf(rr, i);

		if (!f || ldns_rdf_get_type(f) == LDNS_RDF_TYPE_DNAME) {
			return 1;
		}
		len += ldns_rdf_size(f);
	}
	if (len > DNS_MAX_RDATA) {
		return ZC_EMALF;
	}
	if (len == 0) {
		*ret_data = NULL;
		*ret_len = 0;
		return 0;
	}
	data = malloc(len);
	if (!data) {
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		const ldns_rdf *f = ldns_rr_rdf(rr, i);

		if (ldns_rdf_size(f) > 0) {
			memcpy(data + pos, ldns_rdf_data(f), ldns_rdf_size(f));
			pos += ldns_rdf_size(f);
		}
	}
	*ret_data = data;
	*ret_len = len;
	return 0;
}

int dns_rdata_wire(const ldns_rr *rr, bool canonical, uint8_t **ret_data, size_t *ret_len)
{
	ldns_buffer *buf;
	size_t skip = 0, total, len;
	uint8_t *data = NULL;
	ldns_status st;
	int r;

	if (!rr) {
		return -EINVAL;
	}
	r = rdata_concat(rr, ret_data, ret_len);
	if (r != 1) {
		return r;
	}
	buf = ldns_buffer_new(256);
	if (!buf) {
		return -ENOMEM;
	}
	if (canonical) {
		/*
		 * ldns knows which types get their embedded names lower-cased (the
		 * RFC 4034 §6.2 list, without NSEC as RFC 6840 §5.1 says). It only
		 * writes whole records, so skip owner, type, class, TTL, rdlength.
		 */
		st = ldns_rr2buffer_wire_canonical(buf, rr, LDNS_SECTION_ANSWER);
		skip = (ldns_rr_owner(rr) ? ldns_rdf_size(ldns_rr_owner(rr)) : 0) + 10;
	} else {
		st = ldns_rr_rdata2buffer_wire(buf, rr);
	}
	if (st != LDNS_STATUS_OK) {
		r = dns_err_from_ldns(st);
		goto out;
	}
	total = ldns_buffer_position(buf);
	if (total < skip) {
		r = ZC_EMALF;
		goto out;
	}
	len = total - skip;
	if (len > DNS_MAX_RDATA) {
		r = ZC_EMALF;
		goto out;
	}
	if (len > 0) {
		data = malloc(len);
		if (!data) {
			r = -ENOMEM;
			goto out;
		}
		memcpy(data, ldns_buffer_begin(buf) + skip, len);
	}
	*ret_data = data;
	*ret_len = len;
	r = 0;
out:
	ldns_buffer_free(buf);
	return r;
}

static bool owner_matches(const ldns_rr *rr, const ldns_rdf *owner)
{
	if (!owner) {
		return true;
	}
	return zc_name_equal(ldns_rr_owner(rr), owner);
}

/* Copies the records of @rrs that @pick accepts into a new list. */
static ldns_rr_list *extract(const ldns_rr_list *rrs, const ldns_rdf *owner, ldns_rr_type type,
			     bool (*pick)(const ldns_rr *rr, ldns_rr_type type))
{
	ldns_rr_list *out = ldns_rr_list_new();
	size_t n = rrs ? ldns_rr_list_rr_count(rrs) : 0;

	if (!out) {
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		const ldns_rr *rr = ldns_rr_list_rr(rrs, i);
		ldns_rr *copy;

		if (!rr || ldns_rr_get_class(rr) != LDNS_RR_CLASS_IN || !pick(rr, type) ||
		    !owner_matches(rr, owner)) {
			continue;
		}
		copy = ldns_rr_clone(rr);
		if (!copy || !ldns_rr_list_push_rr(out, copy)) {
			ldns_rr_free(copy);
			ldns_rr_list_deep_free(out);
			return NULL;
		}
	}
	return out;
}

static bool pick_type(const ldns_rr *rr, ldns_rr_type type)
{
	return ldns_rr_get_type(rr) == type;
}

static bool pick_rrsig(const ldns_rr *rr, ldns_rr_type covered)
{
	const ldns_rdf *tc;

	if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_RRSIG || ldns_rr_rd_count(rr) < 1) {
		return false;
	}
	tc = ldns_rr_rrsig_typecovered(rr);
	return tc && ldns_rdf_size(tc) == 2 && ldns_rdf2rr_type(tc) == covered;
}

ldns_rr_list *zc_rrset_extract(const ldns_rr_list *rrs, const ldns_rdf *owner, ldns_rr_type type)
{
	return extract(rrs, owner, type, pick_type);
}

ldns_rr_list *zc_rrsig_extract(const ldns_rr_list *rrs, const ldns_rdf *owner, ldns_rr_type covered)
{
	return extract(rrs, owner, covered, pick_rrsig);
}

/* A record zc_rrset_take() moves: the RRset's own, or an RRSIG over it. */
static bool take_this(const ldns_rr *rr, const ldns_rdf *owner, ldns_rr_type type)
{
	return rr && ldns_rr_get_class(rr) == LDNS_RR_CLASS_IN &&
	       (pick_type(rr, type) || pick_rrsig(rr, type)) && owner_matches(rr, owner);
}

int zc_rrset_take(ldns_rr_list *rrs, const ldns_rdf *owner, ldns_rr_type type,
		  ldns_rr_list **ret_set, ldns_rr_list **ret_sigs)
{
	size_t n = rrs ? ldns_rr_list_rr_count(rrs) : 0, keep = 0;
	ldns_rr_list *set, *sigs;

	if (!ret_set || !ret_sigs) {
		return -EINVAL;
	}
	set = ldns_rr_list_new();
	sigs = ldns_rr_list_new();
	if (!set || !sigs) {
		ldns_rr_list_free(set);
		ldns_rr_list_free(sigs);
		return -ENOMEM;
	}
	/* room first, so that nothing moves unless everything can */
	for (size_t i = 0; i < n; i++) {
		ldns_rr *rr = ldns_rr_list_rr(rrs, i);
		ldns_rr_list *to = !take_this(rr, owner, type) ? NULL :
				   pick_type(rr, type)          ? set :
								  sigs;

		if (to && !ldns_rr_list_push_rr(to, rr)) {
			ldns_rr_list_free(set);
			ldns_rr_list_free(sigs);
			return -ENOMEM;
		}
	}
	/* the same choice again (the tests are pure): what was not taken stays */
	for (size_t i = 0; i < n; i++) {
		ldns_rr *rr = ldns_rr_list_rr(rrs, i);

		if (!take_this(rr, owner, type)) {
			(void)ldns_rr_list_set_rr(rrs, rr, keep++);
		}
	}
	if (rrs) {
		ldns_rr_list_set_rr_count(rrs, keep);
	}
	*ret_set = set;
	*ret_sigs = sigs;
	return 0;
}

/* One record reduced to what RRset comparisons look at. */
struct rdata_key {
	ldns_rr *rr;   /* borrowed */
	size_t pos;    /* position in the list: ties keep the first record */
	uint16_t type; /* exact type, or its family for set comparison */
	uint8_t *data; /* canonical rdata, owned */
	size_t len;
};

/*
 * RFC 4034 §6.3: rdata compared as left-justified unsigned octet sequences,
 * where the absence of an octet sorts before a zero octet.
 */
static int rdata_cmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	size_t n = alen < blen ? alen : blen;
	int c = n ? memcmp(a, b, n) : 0;

	if (c != 0) {
		return c;
	}
	return (alen > blen) - (alen < blen);
}

static int key_cmp(const void *pa, const void *pb)
{
	const struct rdata_key *a = pa, *b = pb;

	if (a->type != b->type) {
		return a->type < b->type ? -1 : 1;
	}
	return rdata_cmp(a->data, a->len, b->data, b->len);
}

static void keys_free(struct rdata_key *keys, size_t n)
{
	if (!keys) {
		return;
	}
	for (size_t i = 0; i < n; i++) {
		free(keys[i].data);
	}
	free(keys);
}

/* Canonical rdata of every record of @rrs, with the type (or its family). */
static int keys_build(const ldns_rr_list *rrs, bool family, struct rdata_key **ret_keys,
		      size_t *ret_n)
{
	size_t n = rrs ? ldns_rr_list_rr_count(rrs) : 0;
	struct rdata_key *keys;
	int r;

	keys = calloc(n ? n : 1, sizeof(*keys));
	if (!keys) {
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		ldns_rr *rr = ldns_rr_list_rr(rrs, i);

		if (!rr) {
			keys_free(keys, i);
			return -EINVAL;
		}
		keys[i].rr = rr;
		keys[i].pos = i;
		keys[i].type = (uint16_t)(family ? dns_type_family(ldns_rr_get_type(rr))
						 : ldns_rr_get_type(rr));
		r = dns_rdata_wire(rr, true, &keys[i].data, &keys[i].len);
		if (r < 0) {
			keys_free(keys, i);
			return r;
		}
	}
	*ret_keys = keys;
	*ret_n = n;
	return 0;
}

/* Sorts and drops repeats; returns the new count. */
static size_t keys_unique(struct rdata_key *keys, size_t n)
{
	size_t out = 0;

	if (n == 0) {
		return 0;
	}
	qsort(keys, n, sizeof(*keys), key_cmp);
	for (size_t i = 1; i < n; i++) {
		if (key_cmp(&keys[out], &keys[i]) == 0) {
			free(keys[i].data);
			keys[i].data = NULL;
			continue;
		}
		keys[++out] = keys[i];
		if (out != i) {
			keys[i].data = NULL;
		}
	}
	return out + 1;
}

bool zc_rrset_equal(const ldns_rr_list *a, const ldns_rr_list *b)
{
	struct rdata_key *ka = NULL, *kb = NULL;
	size_t na = 0, nb = 0, ua, ub;
	bool eq = false;

	if (keys_build(a, true, &ka, &na) < 0) {
		return false;
	}
	if (keys_build(b, true, &kb, &nb) < 0) {
		keys_free(ka, na);
		return false;
	}
	ua = keys_unique(ka, na);
	ub = keys_unique(kb, nb);
	if (ua == ub) {
		eq = true;
		for (size_t i = 0; i < ua && eq; i++) {
			eq = key_cmp(&ka[i], &kb[i]) == 0;
		}
	}
	keys_free(ka, na);
	keys_free(kb, nb);
	return eq;
}

bool zc_rdata_equal(const ldns_rr *a, const ldns_rr *b)
{
	uint8_t *da = NULL, *db = NULL;
	size_t la = 0, lb = 0;
	bool eq = false;

	if (!a || !b ||
	    dns_type_family(ldns_rr_get_type(a)) != dns_type_family(ldns_rr_get_type(b))) {
		return false;
	}
	if (dns_rdata_wire(a, true, &da, &la) < 0) {
		return false;
	}
	if (dns_rdata_wire(b, true, &db, &lb) == 0) {
		eq = rdata_cmp(da, la, db, lb) == 0;
		free(db);
	}
	free(da);
	return eq;
}

/* Owner, class, type, rdata: the order zc_rrset_canonicalize() produces. */
static int full_cmp(const void *pa, const void *pb)
{
	const struct rdata_key *a = pa, *b = pb;
	const ldns_rdf *oa = ldns_rr_owner(a->rr), *ob = ldns_rr_owner(b->rr);
	int c = zc_name_cmp(oa, ob);

	if (c != 0) {
		return c;
	}
	if (ldns_rr_get_class(a->rr) != ldns_rr_get_class(b->rr)) {
		return ldns_rr_get_class(a->rr) < ldns_rr_get_class(b->rr) ? -1 : 1;
	}
	c = key_cmp(a, b);
	if (c != 0) {
		return c;
	}
	/* qsort() is not stable: among equal records the first one stays. */
	return (a->pos > b->pos) - (a->pos < b->pos);
}

void zc_rrset_canonicalize(ldns_rr_list *rrs)
{
	struct rdata_key *keys = NULL;
	size_t n = 0, out = 0;

	if (!rrs || keys_build(rrs, false, &keys, &n) < 0) {
		return;
	}
	if (n < 2) {
		keys_free(keys, n);
		return;
	}
	qsort(keys, n, sizeof(*keys), full_cmp);
	for (size_t i = 0; i < n; i++) {
		if (out > 0) {
			struct rdata_key *prev = &keys[out - 1];
			const ldns_rdf *po = ldns_rr_owner(prev->rr);

			if (zc_name_cmp(po, ldns_rr_owner(keys[i].rr)) == 0 &&
			    ldns_rr_get_class(prev->rr) == ldns_rr_get_class(keys[i].rr) &&
			    key_cmp(prev, &keys[i]) == 0) {
				ldns_rr_free(keys[i].rr);
				free(keys[i].data);
				keys[i].data = NULL;
				continue;
			}
		}
		if (out != i) {
			keys[out] = keys[i];
			keys[i].data = NULL;
		}
		out++;
	}
	for (size_t i = 0; i < out; i++) {
		(void)ldns_rr_list_set_rr(rrs, keys[i].rr, i);
	}
	ldns_rr_list_set_rr_count(rrs, out);
	keys_free(keys, n);
}
