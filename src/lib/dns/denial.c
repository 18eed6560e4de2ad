/* SPDX-License-Identifier: MIT */
/*
 * dns/denial.c: NSEC denials of existence read from an untrusted authority section
 * (RFC 4035 §3.1.3, §5.4; RFC 6840 §4.1, §4.3). Only the structure is checked here:
 * which NSEC RRsets prove that a name or a type is not there. Their signatures are
 * verified by the caller, with the keys of the signer found here, before anything is
 * believed. What this does not cover (NSEC3, wildcard answers, wildcard NODATA) is
 * not a proof here; the caller asks a validating resolver instead.
 */
#include <errno.h>
#include <ldns/dnssec.h>
#include <string.h>

#include "dns/internal.h"

#define MAX_LABELS 128 /* a name of 255 octets has at most 127 labels */
#define NSEC_MAX 8     /* NSEC records looked at in one authority section */

/* The start of each label of the absolute name @n (the root not counted). */
static unsigned labels_of(const ldns_rdf *n, const uint8_t *lab[MAX_LABELS])
{
	const uint8_t *p = ldns_rdf_data(n);
	size_t len = ldns_rdf_size(n), off = 0;
	unsigned count = 0;

	while (off < len && p[off] != 0 && count < MAX_LABELS) {
		lab[count++] = p + off;
		off += 1u + p[off];
	}
	return count;
}

static bool label_equal(const uint8_t *a, const uint8_t *b)
{
	if (a[0] != b[0]) {
		return false;
	}
	for (unsigned i = 1; i <= a[0]; i++) {
		uint8_t x = a[i], y = b[i];

		if (x >= 'A' && x <= 'Z') {
			x = (uint8_t)(x + 32);
		}
		if (y >= 'A' && y <= 'Z') {
			y = (uint8_t)(y + 32);
		}
		if (x != y) {
			return false;
		}
	}
	return true;
}

/* How many labels, counted from the root, @a and @b have in common. */
static unsigned common_labels(const ldns_rdf *a, const ldns_rdf *b)
{
	const uint8_t *la[MAX_LABELS], *lb[MAX_LABELS];
	unsigned na = labels_of(a, la), nb = labels_of(b, lb), n = 0;

	while (n < na && n < nb && label_equal(la[na - 1 - n], lb[nb - 1 - n])) {
		n++;
	}
	return n;
}

static bool strictly_below(const ldns_rdf *name, const ldns_rdf *ancestor)
{
	return zc_name_is_at_or_below(name, ancestor) && !zc_name_equal(name, ancestor);
}

struct nsec {
	const ldns_rr *rr;
	const ldns_rdf *owner, *next, *bitmap;
};

static bool nsec_has(const struct nsec *n, ldns_rr_type t)
{
	return ldns_nsec_bitmap_covers_type(n->bitmap, t);
}

/*
 * RFC 6840 §4.1: an NSEC at a zone cut seen from the parent side (NS without SOA)
 * says nothing about the names below the cut, nor about the types at it but DS; an
 * NSEC at a DNAME says nothing about the names below it.
 */
static bool nsec_speaks_for(const struct nsec *n, const ldns_rdf *name)
{
	bool cut = nsec_has(n, LDNS_RR_TYPE_NS) && !nsec_has(n, LDNS_RR_TYPE_SOA);

	if (zc_name_equal(n->owner, name)) {
		return !cut;
	}
	if (strictly_below(name, n->owner)) {
		return !cut && !nsec_has(n, LDNS_RR_TYPE_DNAME);
	}
	return true;
}

/* @name falls strictly between the owner and the next name (canonical order, RFC 4034
 * §6.1); the last NSEC of the zone names the apex as next and covers what follows. */
static bool nsec_covers(const struct nsec *n, const ldns_rdf *zone, const ldns_rdf *name)
{
	if (zc_name_cmp(n->owner, name) >= 0) {
		return false;
	}
	if (zc_name_cmp(n->owner, n->next) < 0) {
		return zc_name_cmp(name, n->next) < 0;
	}
	return zc_name_equal(n->next, zone) && zc_name_is_at_or_below(name, zone);
}

/* The RRSIGs by @signer over the NSEC at @owner, unexpanded (labels as the owner's). */
static ldns_rr_list *nsec_sigs(const ldns_rr_list *auth, const ldns_rdf *owner,
			       const ldns_rdf *signer)
{
	uint8_t labels = (uint8_t)ldns_dname_label_count(owner);
	ldns_rr_list *sigs = ldns_rr_list_new();

	for (size_t i = 0; sigs && i < ldns_rr_list_rr_count(auth); i++) {
		const ldns_rr *rr = ldns_rr_list_rr(auth, i);
		const ldns_rdf *cov = ldns_rr_rrsig_typecovered(rr);
		const ldns_rdf *lab = ldns_rr_rrsig_labels(rr);
		const ldns_rdf *sn = ldns_rr_rrsig_signame(rr);
		ldns_rr *copy;

		if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_RRSIG ||
		    ldns_rr_get_class(rr) != LDNS_RR_CLASS_IN || !cov || !lab || !sn ||
		    ldns_rdf2rr_type(cov) != LDNS_RR_TYPE_NSEC ||
		    ldns_rdf2native_int8(lab) != labels ||
		    !zc_name_equal(ldns_rr_owner(rr), owner) || !zc_name_equal(sn, signer)) {
			continue;
		}
		copy = ldns_rr_clone(rr);
		if (!copy || !ldns_rr_list_push_rr(sigs, copy)) {
			ldns_rr_free(copy);
			ldns_rr_list_deep_free(sigs);
			return NULL;
		}
	}
	return sigs;
}

/* The proof's NSEC @n (once) with its RRSIGs into @d. */
static int denial_add(struct zc_denial *d, const ldns_rr_list *auth, const struct nsec *n)
{
	ldns_rr_list *rrset, *sigs;
	ldns_rr *copy;

	for (size_t i = 0; i < d->n; i++) {
		if (zc_name_equal(ldns_rr_owner(ldns_rr_list_rr(d->rrset[i], 0)), n->owner)) {
			return 0;
		}
	}
	if (d->n == ZC_DENIAL_MAX) {
		return ZC_EBOGUS;
	}
	sigs = nsec_sigs(auth, n->owner, d->signer);
	if (!sigs) {
		return -ENOMEM;
	}
	if (ldns_rr_list_rr_count(sigs) == 0) {
		ldns_rr_list_deep_free(sigs);
		return ZC_EBOGUS;
	}
	rrset = ldns_rr_list_new();
	copy = ldns_rr_clone(n->rr);
	if (!rrset || !copy || !ldns_rr_list_push_rr(rrset, copy)) {
		ldns_rr_free(copy);
		ldns_rr_list_deep_free(rrset);
		ldns_rr_list_deep_free(sigs);
		return -ENOMEM;
	}
	d->rrset[d->n] = rrset;
	d->sigs[d->n] = sigs;
	d->n++;
	return 0;
}

/* "*." and the last @keep labels of @name: 0, ZC_EBOGUS (no such name), -ENOMEM. */
static int wildcard_at(const ldns_rdf *name, unsigned keep, ldns_rdf **ret)
{
	const uint8_t *lab[MAX_LABELS];
	unsigned n = labels_of(name, lab);
	const uint8_t *end = ldns_rdf_data(name) + ldns_rdf_size(name);
	const uint8_t *start;
	size_t tail;
	uint8_t buf[2 + 255];

	if (keep > n) {
		return ZC_EBOGUS;
	}
	start = keep == 0 ? end - 1 : lab[n - keep]; /* the root label, or that label */
	tail = (size_t)(end - start);
	if (2 + tail > 255) {
		return ZC_EBOGUS;
	}
	buf[0] = 1;
	buf[1] = '*';
	memcpy(buf + 2, start, tail);
	*ret = ldns_rdf_new_frm_data(LDNS_RDF_TYPE_DNAME, 2 + tail, buf);
	return *ret ? 0 : -ENOMEM;
}

void zc_denial_release(struct zc_denial *d)
{
	if (!d) {
		return;
	}
	for (size_t i = 0; i < d->n; i++) {
		ldns_rr_list_deep_free(d->rrset[i]);
		ldns_rr_list_deep_free(d->sigs[i]);
	}
	ldns_rdf_deep_free(d->signer);
	memset(d, 0, sizeof(*d));
}

int zc_nsec_denial(const ldns_rr_list *auth, const ldns_rdf *qname, ldns_rr_type qtype,
		   bool nxdomain, struct zc_denial *ret)
{
	struct nsec ns[NSEC_MAX];
	const struct nsec *hit = NULL, *wild = NULL;
	struct zc_denial d = { 0 };
	const ldns_rdf *signer = NULL; /* in @auth until the proof holds */
	size_t n = 0;
	int r;

	if (!ret || !dns_name_abs_ok(qname)) {
		return -EINVAL;
	}
	memset(ret, 0, sizeof(*ret));
	if (!auth) {
		return ZC_EBOGUS;
	}
	/* the NSEC records, and one signer over them that is an ancestor of the name */
	for (size_t i = 0; i < ldns_rr_list_rr_count(auth); i++) {
		const ldns_rr *rr = ldns_rr_list_rr(auth, i);
		const ldns_rdf *sn;

		if (ldns_rr_get_class(rr) != LDNS_RR_CLASS_IN) {
			continue;
		}
		if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_NSEC) {
			if (n == NSEC_MAX || ldns_rr_rd_count(rr) != 2 ||
			    ldns_rdf_get_type(ldns_rr_rdf(rr, 0)) != LDNS_RDF_TYPE_DNAME ||
			    ldns_rdf_get_type(ldns_rr_rdf(rr, 1)) != LDNS_RDF_TYPE_BITMAP ||
			    !dns_name_abs_ok(ldns_rr_owner(rr)) ||
			    !dns_name_abs_ok(ldns_rr_rdf(rr, 0))) {
				return ZC_EBOGUS;
			}
			for (size_t k = 0; k < n; k++) {
				if (zc_name_equal(ns[k].owner, ldns_rr_owner(rr))) {
					return ZC_EBOGUS; /* an NSEC RRset has one record */
				}
			}
			ns[n++] = (struct nsec){ rr, ldns_rr_owner(rr), ldns_rr_rdf(rr, 0),
						 ldns_rr_rdf(rr, 1) };
		} else if (!signer && ldns_rr_get_type(rr) == LDNS_RR_TYPE_RRSIG &&
			   ldns_rr_rrsig_typecovered(rr) &&
			   ldns_rdf2rr_type(ldns_rr_rrsig_typecovered(rr)) == LDNS_RR_TYPE_NSEC &&
			   (sn = ldns_rr_rrsig_signame(rr)) && dns_name_abs_ok(sn) &&
			   zc_name_is_at_or_below(qname, sn)) {
			signer = sn;
		}
	}
	if (!signer) {
		return ZC_EBOGUS;
	}
	d.signer = ldns_rdf_clone(signer);
	if (!d.signer) {
		return -ENOMEM;
	}
	for (size_t k = 0; k < n; k++) {
		if (!zc_name_is_at_or_below(ns[k].owner, d.signer)) {
			continue; /* another zone's */
		}
		if (zc_name_equal(ns[k].owner, qname)) {
			hit = &ns[k];
		} else if (!hit && nsec_covers(&ns[k], d.signer, qname)) {
			hit = &ns[k];
		}
	}
	r = ZC_EBOGUS;
	if (!hit || !nsec_speaks_for(hit, qname)) {
		goto out;
	}
	if (zc_name_equal(hit->owner, qname)) {
		/* NODATA at the name: the type is not there, nor an alias instead */
		if (nxdomain || nsec_has(hit, qtype) || nsec_has(hit, LDNS_RR_TYPE_CNAME)) {
			goto out;
		}
	} else if (strictly_below(hit->next, qname)) {
		/* the name has descendants: an empty non-terminal, NODATA */
		if (nxdomain) {
			goto out;
		}
	} else {
		/* NXDOMAIN: no name, and no wildcard at the closest encloser (§5.4) */
		unsigned ce = common_labels(qname, hit->owner),
			 ce2 = common_labels(qname, hit->next);
		ldns_rdf *w = NULL;

		if (!nxdomain) {
			goto out;
		}
		ce = ce > ce2 ? ce : ce2;
		if (ce < (unsigned)ldns_dname_label_count(d.signer)) {
			goto out;
		}
		r = wildcard_at(qname, ce, &w);
		if (r != 0) {
			goto out;
		}
		r = ZC_EBOGUS;
		for (size_t k = 0; k < n && !wild; k++) {
			if (zc_name_is_at_or_below(ns[k].owner, d.signer) &&
			    nsec_covers(&ns[k], d.signer, w) && nsec_speaks_for(&ns[k], w)) {
				wild = &ns[k];
			}
		}
		ldns_rdf_deep_free(w);
		if (!wild) {
			goto out;
		}
	}
	r = denial_add(&d, auth, hit);
	if (r == 0 && wild) {
		r = denial_add(&d, auth, wild);
	}
out:
	if (r != 0) {
		zc_denial_release(&d);
		return r;
	}
	*ret = d;
	return 0;
}
