/* SPDX-License-Identifier: MIT */
/*
 * The key model of multi-signer model 2 (RFC 8901 §2.1.2): which keys a signer
 * owns (what it publishes minus what the controller put there), which of them the
 * other signers must publish (ZSKs and CSKs), which the parent's DS set must name
 * (KSKs and CSKs), the CDS/CDNSKEY records for them, and the record-level
 * difference between what a signer has and what it should have. Pure functions:
 * no I/O.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "signers/internal.h"

#define KEY_FLAG_SEP 0x0001

ldns_rr_list *sgn_filter(const ldns_rr_list *list, bool (*keep)(const ldns_rr *rr, const void *arg),
			 const void *arg)
{
	ldns_rr_list *out = ldns_rr_list_new();

	for (size_t i = 0; out && list && i < ldns_rr_list_rr_count(list); i++) {
		const ldns_rr *rr = ldns_rr_list_rr(list, i);
		ldns_rr *copy;

		if (!keep(rr, arg)) {
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

bool sgn_has_rdata(const ldns_rr_list *list, const ldns_rr *rr)
{
	for (size_t i = 0; list && i < ldns_rr_list_rr_count(list); i++) {
		if (zc_rdata_equal(ldns_rr_list_rr(list, i), rr)) {
			return true;
		}
	}
	return false;
}

bool sgn_has_key(const ldns_rr_list *list, const ldns_rr *key)
{
	for (size_t i = 0; list && i < ldns_rr_list_rr_count(list); i++) {
		if (zc_key_equal(ldns_rr_list_rr(list, i), key)) {
			return true;
		}
	}
	return false;
}

static uint16_t key_flags(const ldns_rr *key)
{
	const ldns_rdf *f = ldns_rr_rdf(key, 0);

	return f && ldns_rdf_size(f) == 2 ? ldns_read_uint16(ldns_rdf_data(f)) : 0;
}

static bool not_in_list(const ldns_rr *rr, const void *arg)
{
	return !sgn_has_key(arg, rr);
}

ldns_rr_list *sgn_own_keys(const struct sgn_view *v, const ldns_rr_list *pushed)
{
	return sgn_filter(v->dnskey, not_in_list, pushed);
}

static bool signs_soa(const struct sgn_view *v, const ldns_rr *key)
{
	uint16_t tag = zc_key_tag(key);
	uint8_t alg = zc_rr_algorithm(key);

	for (unsigned i = 0; i < v->n_zsig; i++) {
		if (v->zsig[i].tag == tag && v->zsig[i].alg == alg) {
			return true;
		}
	}
	return false;
}

struct zone_key_arg {
	const struct sgn_view *v;
	const ldns_rr_list *extra;
};

static bool is_zone_key(const ldns_rr *rr, const void *arg)
{
	const struct zone_key_arg *a = arg;

	return !(key_flags(rr) & KEY_FLAG_SEP) || signs_soa(a->v, rr) || sgn_has_key(a->extra, rr);
}

ldns_rr_list *sgn_zone_keys(const struct sgn_view *v, const ldns_rr_list *own,
			    const ldns_rr_list *extra)
{
	struct zone_key_arg a = { .v = v, .extra = extra };

	return sgn_filter(own, is_zone_key, &a);
}

static bool is_sep(const ldns_rr *rr, const void *arg)
{
	(void)arg;
	return (key_flags(rr) & KEY_FLAG_SEP) != 0;
}

ldns_rr_list *sgn_sep_keys(const ldns_rr_list *own)
{
	return sgn_filter(own, is_sep, NULL);
}

/* @rr re-owned as @zone, type @type, TTL @ttl (a copy); NULL on ENOMEM. */
static ldns_rr *retype(const ldns_rr *rr, const ldns_rdf *zone, ldns_rr_type type, uint32_t ttl)
{
	ldns_rr *c = ldns_rr_clone(rr);
	ldns_rdf *owner = ldns_rdf_clone(zone);

	if (!c || !owner) {
		ldns_rr_free(c);
		ldns_rdf_deep_free(owner);
		return NULL;
	}
	ldns_rdf_deep_free(ldns_rr_owner(c));
	ldns_rr_set_owner(c, owner);
	ldns_rr_set_type(c, type);
	ldns_rr_set_ttl(c, ttl);
	ldns_rr_set_class(c, LDNS_RR_CLASS_IN);
	return c;
}

int sgn_cds_of(const ldns_rr_list *keys, const ldns_rdf *zone, uint32_t ttl,
	       const uint8_t *digests, unsigned n_digests, ldns_rr_list **ret_cds,
	       ldns_rr_list **ret_cdnskey)
{
	ldns_rr_list *cds = ldns_rr_list_new(), *cdnskey = ldns_rr_list_new();
	int r = cds && cdnskey ? 0 : -ENOMEM;

	for (size_t i = 0; r == 0 && i < ldns_rr_list_rr_count(keys); i++) {
		ldns_rr *key = retype(ldns_rr_list_rr(keys, i), zone, LDNS_RR_TYPE_DNSKEY, ttl);
		ldns_rr *ck;

		if (!key) {
			r = -ENOMEM;
			break;
		}
		for (unsigned d = 0; r == 0 && d < n_digests; d++) {
			ldns_rr *ds = NULL, *c;

			r = zc_ds_from_key(key, (enum zc_digest)digests[d], &ds);
			if (r < 0) {
				break;
			}
			c = retype(ds, zone, LDNS_RR_TYPE_CDS, ttl);
			ldns_rr_free(ds);
			if (!c || !ldns_rr_list_push_rr(cds, c)) {
				ldns_rr_free(c);
				r = -ENOMEM;
			}
		}
		ck = r == 0 ? retype(key, zone, LDNS_RR_TYPE_CDNSKEY, ttl) : NULL;
		ldns_rr_free(key);
		if (r == 0 && (!ck || !ldns_rr_list_push_rr(cdnskey, ck))) {
			ldns_rr_free(ck);
			r = -ENOMEM;
		}
	}
	if (r < 0) {
		ldns_rr_list_deep_free(cds);
		ldns_rr_list_deep_free(cdnskey);
		return r;
	}
	zc_rrset_canonicalize(cds);
	zc_rrset_canonicalize(cdnskey);
	*ret_cds = cds;
	*ret_cdnskey = cdnskey;
	return 0;
}

bool sgn_ds_names_exactly(const ldns_rr_list *ds, const ldns_rr_list *keys)
{
	size_t nd = ds ? ldns_rr_list_rr_count(ds) : 0;
	size_t nk = keys ? ldns_rr_list_rr_count(keys) : 0;

	for (size_t i = 0; i < nd; i++) {
		bool named = false;

		for (size_t k = 0; !named && k < nk; k++) {
			named = zc_ds_matches_key(ldns_rr_list_rr(ds, i), ldns_rr_list_rr(keys, k));
		}
		if (!named) {
			return false;
		}
	}
	for (size_t k = 0; k < nk; k++) {
		bool has = false;

		for (size_t i = 0; !has && i < nd; i++) {
			has = zc_ds_matches_key(ldns_rr_list_rr(ds, i), ldns_rr_list_rr(keys, k));
		}
		if (!has) {
			return false;
		}
	}
	return true;
}

static int push_copy(ldns_rr_list *l, const ldns_rr *rr)
{
	ldns_rr *c = ldns_rr_clone(rr);

	if (!c || !ldns_rr_list_push_rr(l, c)) {
		ldns_rr_free(c);
		return -ENOMEM;
	}
	return 0;
}

int sgn_diff(const ldns_rr_list *have, const ldns_rr_list *want, const ldns_rr_list *removable,
	     ldns_rr_list **ret_add, ldns_rr_list **ret_del)
{
	ldns_rr_list *add = ldns_rr_list_new(), *del = ldns_rr_list_new();
	const ldns_rr_list *may_go = removable ? removable : have;
	int r = add && del ? 0 : -ENOMEM;

	for (size_t i = 0; r == 0 && want && i < ldns_rr_list_rr_count(want); i++) {
		const ldns_rr *rr = ldns_rr_list_rr(want, i);

		if (!sgn_has_rdata(have, rr) && !sgn_has_rdata(add, rr)) {
			r = push_copy(add, rr);
		}
	}
	for (size_t i = 0; r == 0 && may_go && i < ldns_rr_list_rr_count(may_go); i++) {
		const ldns_rr *rr = ldns_rr_list_rr(may_go, i);

		if (sgn_has_rdata(have, rr) && !sgn_has_rdata(want, rr) && !sgn_has_rdata(del, rr)) {
			r = push_copy(del, rr);
		}
	}
	if (r < 0) {
		ldns_rr_list_deep_free(add);
		ldns_rr_list_deep_free(del);
		return r;
	}
	*ret_add = add;
	*ret_del = del;
	return 0;
}

void sgn_key_str(const ldns_rr *rr, char *buf, size_t len)
{
	ldns_rr_type t = ldns_rr_get_type(rr);

	if (t == LDNS_RR_TYPE_DS || t == LDNS_RR_TYPE_CDS) {
		snprintf(buf, len, "%u/%u/%u", zc_rr_algorithm(rr), zc_ds_key_tag(rr),
			 zc_ds_digest_type(rr));
	} else {
		snprintf(buf, len, "%u/%u", zc_rr_algorithm(rr), zc_key_tag(rr));
	}
}

char *sgn_rdata_str(const ldns_rr *rr)
{
	ldns_buffer *b = ldns_buffer_new(512);
	char *out = NULL;

	if (!b) {
		return NULL;
	}
	for (size_t i = 0; i < ldns_rr_rd_count(rr); i++) {
		if ((i && ldns_buffer_printf(b, " ") < 0) ||
		    ldns_rdf2buffer_str(b, ldns_rr_rdf(rr, i)) != LDNS_STATUS_OK) {
			ldns_buffer_free(b);
			return NULL;
		}
	}
	out = ldns_buffer_export2str(b);
	ldns_buffer_free(b);
	if (!out) {
		return NULL;
	}
	/* ldns writes base64 in one piece, but DS digests may carry blanks: keep as is. */
	return out;
}

static void change_part(ldns_buffer *b, char sign, const ldns_rr_list *l, bool *first)
{
	for (size_t i = 0; l && i < ldns_rr_list_rr_count(l); i++) {
		const ldns_rr *rr = ldns_rr_list_rr(l, i);
		char *rd = sgn_rdata_str(rr);
		char *type = ldns_rr_type2str(ldns_rr_get_type(rr));

		(void)ldns_buffer_printf(b, "%s%c%s %s", *first ? "" : "; ", sign,
					 type ? type : "?", rd ? rd : "?");
		*first = false;
		free(rd);
		free(type);
	}
}

char *sgn_change_str(const ldns_rr_list *add, const ldns_rr_list *del)
{
	ldns_buffer *b = ldns_buffer_new(1024);
	bool first = true;
	char *out;

	if (!b) {
		return NULL;
	}
	change_part(b, '+', add, &first);
	change_part(b, '-', del, &first);
	out = ldns_buffer_export2str(b);
	ldns_buffer_free(b);
	return out;
}

/* --- what a group should publish ------------------------------------------------- */


void sgn_targets_release(struct sgn_targets *t)
{
	for (unsigned i = 0; i < ZC_SIGNERS_MAX_GROUP; i++) {
		ldns_rr_list_deep_free(t->own[i]);
		ldns_rr_list_deep_free(t->zone_keys[i]);
	}
	ldns_rr_list_deep_free(t->sep);
	ldns_rr_list_deep_free(t->cds);
	ldns_rr_list_deep_free(t->cdnskey);
	ldns_rr_list_deep_free(t->ns);
	memset(t, 0, sizeof(*t));
}

static void add_digest(struct sgn_targets *t, uint8_t d)
{
	/* SPECS S11: SHA-256 always, SHA-384 allowed; SHA-1 and others never published. */
	if (d != ZC_DIGEST_SHA256 && d != ZC_DIGEST_SHA384) {
		return;
	}
	for (unsigned i = 0; i < t->n_digests; i++) {
		if (t->digests[i] == d) {
			return;
		}
	}
	if (t->n_digests < ZC_SIGNERS_MAX_DIGESTS) {
		t->digests[t->n_digests++] = d;
	}
}

int sgn_append_copies(ldns_rr_list *to, const ldns_rr_list *from)
{
	for (size_t i = 0; from && i < ldns_rr_list_rr_count(from); i++) {
		ldns_rr *c = ldns_rr_clone(ldns_rr_list_rr(from, i));

		if (!c || !ldns_rr_list_push_rr(to, c)) {
			ldns_rr_free(c);
			return -ENOMEM;
		}
	}
	return 0;
}

static int ns_rr(const ldns_rdf *apex, const char *name, uint32_t ttl, ldns_rr **ret)
{
	char line[ZC_DNS_MAX_NAME_TEXT + 32];

	snprintf(line, sizeof(line), "@ %u IN NS %s", ttl, name);
	return zc_rr_from_str(line, ttl, apex, ret);
}

/* Requires the views of all participants. 0 or an error (ZC_ENOTSUP, -ENOMEM). */
int sgn_targets_compute(const struct sgn_set *r, struct sgn_targets *t)
{
	int e = 0;

	memset(t, 0, sizeof(*t));
	t->sep = ldns_rr_list_new();
	t->ns = ldns_rr_list_new();
	if (!t->sep || !t->ns) {
		return -ENOMEM;
	}
	for (unsigned i = 0; i < r->zone->n_digests; i++) {
		add_digest(t, r->zone->digests[i]);
	}
	add_digest(t, ZC_DIGEST_SHA256);
	for (unsigned i = 0; e == 0 && i < r->group->n; i++) {
		ldns_rr_list *sep;

		if (!sgn_participates(r->group, i)) {
			continue;
		}
		t->own[i] = sgn_own_keys(&r->view[i], r->group->m[i].pushed);
		t->zone_keys[i] =
			t->own[i] ? sgn_zone_keys(&r->view[i], t->own[i], r->zone_extra) : NULL;
		sep = t->own[i] ? sgn_sep_keys(t->own[i]) : NULL;
		if (!t->zone_keys[i] || !sep) {
			ldns_rr_list_deep_free(sep);
			return -ENOMEM;
		}
		e = sgn_append_copies(t->sep, sep);
		ldns_rr_list_deep_free(sep);
		/* digest types in use: what the signers publish in CDS */
		for (size_t k = 0; k < ldns_rr_list_rr_count(r->view[i].cds); k++) {
			add_digest(t, zc_ds_digest_type(ldns_rr_list_rr(r->view[i].cds, k)));
		}
		for (unsigned k = 0; e == 0 && k < r->cfg[i]->n_ns; k++) {
			ldns_rr *rr = NULL;

			e = ns_rr(r->apex, r->cfg[i]->ns[k].name, 0, &rr);
			if (e == 0 && !ldns_rr_list_push_rr(t->ns, rr)) {
				ldns_rr_free(rr);
				e = -ENOMEM;
			}
		}
	}
	/* ... and in the parent's DS set */
	for (size_t k = 0; k < ldns_rr_list_rr_count(r->parent_ds); k++) {
		add_digest(t, zc_ds_digest_type(ldns_rr_list_rr(r->parent_ds, k)));
	}
	if (e == 0) {
		zc_rrset_canonicalize(t->sep);
		zc_rrset_canonicalize(t->ns);
		e = sgn_cds_of(t->sep, r->apex, 0, t->digests, t->n_digests, &t->cds, &t->cdnskey);
	}
	return e;
}

/* The DNSKEY set participant @i must publish: its own keys and everyone else's zone keys. */
static ldns_rr_list *want_dnskey(const struct sgn_set *r, const struct sgn_targets *t, unsigned i)
{
	ldns_rr_list *want = ldns_rr_list_new();

	if (!want || sgn_append_copies(want, t->own[i]) < 0) {
		ldns_rr_list_deep_free(want);
		return NULL;
	}
	for (unsigned j = 0; j < r->group->n; j++) {
		if (j == i || !sgn_participates(r->group, j)) {
			continue;
		}
		for (size_t k = 0; k < ldns_rr_list_rr_count(t->zone_keys[j]); k++) {
			const ldns_rr *key = ldns_rr_list_rr(t->zone_keys[j], k);

			if (!sgn_has_key(want, key)) {
				ldns_rr *c = ldns_rr_clone(key);

				if (!c || !ldns_rr_list_push_rr(want, c)) {
					ldns_rr_free(c);
					ldns_rr_list_deep_free(want);
					return NULL;
				}
			}
		}
	}
	return want;
}

/* Sets the TTL of every record of @l to @ttl. */
void sgn_set_ttl(ldns_rr_list *l, uint32_t ttl)
{
	for (size_t i = 0; l && i < ldns_rr_list_rr_count(l); i++) {
		ldns_rr_set_ttl(ldns_rr_list_rr(l, i), ttl);
	}
}

static uint32_t ttl_or(uint32_t a, uint32_t b)
{
	return a ? a : b ? b : SGN_DEFAULT_TTL;
}

/* What participant @i lacks or has too much of, for @what. 0 or an error. */
int sgn_diff_for(const struct sgn_set *r, const struct sgn_targets *t, unsigned i, int what, bool csync,
		    ldns_rr_list **ret_add, ldns_rr_list **ret_del)
{
	const struct sgn_view *v = &r->view[i];
	ldns_rr_list *want = NULL, *have = NULL, *add = NULL, *del = NULL;
	int e = 0;

	switch (what) {
	case SGN_W_DNSKEY:
		want = want_dnskey(r, t, i);
		if (!want) {
			return -ENOMEM;
		}
		sgn_set_ttl(want, ttl_or(v->ttl_dnskey, v->ttl_soa));
		/* only keys the controller put there may go; the signer's own never */
		e = sgn_diff(v->dnskey, want, r->group->m[i].pushed, &add, &del);
		break;
	case SGN_W_CDS:
		want = ldns_rr_list_new();
		have = ldns_rr_list_new();
		if (!want || !have || sgn_append_copies(want, t->cds) < 0 ||
		    sgn_append_copies(want, t->cdnskey) < 0 || sgn_append_copies(have, v->cds) < 0 ||
		    sgn_append_copies(have, v->cdnskey) < 0) {
			e = -ENOMEM;
			break;
		}
		sgn_set_ttl(want, ttl_or(v->ttl_cds, v->ttl_dnskey));
		e = sgn_diff(have, want, NULL, &add, &del);
		break;
	case SGN_W_NS:
		want = ldns_rr_list_new();
		have = ldns_rr_list_new();
		if (!want || !have || sgn_append_copies(want, t->ns) < 0 ||
		    sgn_append_copies(have, v->ns) < 0 || sgn_append_copies(have, v->csync) < 0) {
			e = -ENOMEM;
			break;
		}
		if (csync) {
			/*
			 * RFC 7477 §2.1: serial 0 (each signer has its own serial; no
			 * soaminimum), immediate; NS, and A/AAAA when a nameserver is in
			 * the zone (its glue).
			 */
			bool glue = false;
			char line[128];
			ldns_rr *rr = NULL;

			for (size_t k = 0; k < ldns_rr_list_rr_count(t->ns); k++) {
				glue = glue || zc_name_is_at_or_below(
						       ldns_rr_rdf(ldns_rr_list_rr(t->ns, k), 0),
						       r->apex);
			}
			snprintf(line, sizeof(line), "@ 0 IN CSYNC 0 1 NS%s", glue ? " A AAAA" : "");
			e = zc_rr_from_str(line, 0, r->apex, &rr);
			if (e == 0 && !ldns_rr_list_push_rr(want, rr)) {
				ldns_rr_free(rr);
				e = -ENOMEM;
			}
		}
		sgn_set_ttl(want, ttl_or(v->ttl_ns, v->ttl_soa));
		if (e == 0) {
			e = sgn_diff(have, want, NULL, &add, &del);
		}
		break;
	default:
		e = -EINVAL;
	}
	ldns_rr_list_deep_free(want);
	ldns_rr_list_deep_free(have);
	if (e < 0) {
		return e;
	}
	*ret_add = add;
	*ret_del = del;
	return 0;
}


/* The parent holds the NS union (names compared, TTLs not). */
bool sgn_parent_ns_done(const struct sgn_set *r, const struct sgn_targets *t)
{
	ldns_rr_list *ns = ldns_rr_list_clone(r->parent_ns);
	bool eq;

	sgn_set_ttl(ns, 0);
	eq = ns && zc_rrset_equal(ns, t->ns);
	ldns_rr_list_deep_free(ns);
	return eq;
}


/* @name is one of the nameservers some member of the group declares. */
static bool ns_declared(const struct sgn_set *r, const ldns_rdf *name)
{
	for (unsigned j = 0; j < r->group->n; j++) {
		for (unsigned q = 0; r->cfg[j] && q < r->cfg[j]->n_ns; q++) {
			ldns_rdf *d = NULL;
			bool same = false;

			if (zc_name_from_str(r->cfg[j]->ns[q].name, &d) == 0) {
				same = zc_name_cmp(d, name) == 0;
			}
			ldns_rdf_deep_free(d);
			if (same) {
				return true;
			}
		}
	}
	return false;
}

int sgn_check_group(const struct sgn_set *r, const struct sgn_targets *t, const char **ret_signer,
		    char *why, size_t len)
{
	const struct sgn_group *g = r->group;

	for (unsigned i = 0; i < g->n; i++) {
		if (!sgn_participates(g, i)) {
			continue;
		}
		*ret_signer = g->m[i].name;
		if (ldns_rr_list_rr_count(t->own[i]) == 0) {
			snprintf(why, len, "signer '%s' publishes no key of its own for the zone",
				 g->m[i].name);
			return 1;
		}
		for (unsigned j = 0; j <= i; j++) {
			if (!sgn_participates(g, j)) {
				continue;
			}
			for (size_t a = 0; a < ldns_rr_list_rr_count(t->own[i]); a++) {
				const ldns_rr *ka = ldns_rr_list_rr(t->own[i], a);

				for (size_t b = 0; b < ldns_rr_list_rr_count(t->own[j]); b++) {
					const ldns_rr *kb = ldns_rr_list_rr(t->own[j], b);
					char sa[32], sb[32];

					if (i == j && a == b) {
						continue;
					}
					sgn_key_str(ka, sa, sizeof(sa));
					sgn_key_str(kb, sb, sizeof(sb));
					/* RFC 8901 §4: one algorithm for every provider */
					if (zc_rr_algorithm(ka) != zc_rr_algorithm(kb)) {
						snprintf(why, len,
							 "algorithm mismatch: signer '%s' signs with "
							 "algorithm %u, signer '%s' with %u; every signer "
							 "of a group must use the same algorithm (RFC "
							 "8901 §4)",
							 g->m[i].name, zc_rr_algorithm(ka), g->m[j].name,
							 zc_rr_algorithm(kb));
						return 1;
					}
					if (i != j && zc_key_equal(ka, kb)) {
						snprintf(why, len,
							 "signers '%s' and '%s' both publish key %s as "
							 "their own: one key cannot belong to two signers",
							 g->m[i].name, g->m[j].name, sa);
						return 1;
					}
					/* keys are told apart by algorithm and public key, but a
					 * validator picks candidates by tag: no two alike */
					if (zc_key_tag(ka) == zc_key_tag(kb) && !zc_key_equal(ka, kb)) {
						snprintf(why, len,
							 "key tag collision: key %s of signer '%s' and key "
							 "%s of signer '%s' are different keys with the "
							 "same tag and algorithm; one of them must roll "
							 "first",
							 sa, g->m[i].name, sb, g->m[j].name);
						return 1;
					}
				}
			}
		}
		/* every NS name a signer serves is declared by some signer of the group */
		for (size_t k = 0; k < ldns_rr_list_rr_count(r->view[i].ns); k++) {
			const ldns_rdf *ns = ldns_rr_rdf(ldns_rr_list_rr(r->view[i].ns, k), 0);

			if (!ns_declared(r, ns)) {
				char n[ZC_DNS_MAX_NAME_TEXT];

				zc_name_to_str(ns, n, sizeof(n));
				snprintf(why, len,
					 "signer '%s' serves NS %s, which no signer of the group "
					 "declares (add it to a signer's ns= list)",
					 g->m[i].name, n);
				return 1;
			}
		}
	}
	*ret_signer = NULL;
	return 0;
}
