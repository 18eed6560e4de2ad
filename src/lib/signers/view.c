/* SPDX-License-Identifier: MIT */
/*
 * What a signer serves, read from every one of its authoritative servers: the
 * apex SOA (and the keys that sign it), DNSKEY, CDS, CDNSKEY, NS and CSYNC.
 * Servers of one signer must agree (RFC 8901 §3: what one provider serves is one
 * zone); a disagreement is reported, never averaged. And the parent's DS and NS
 * sets for the zone, read from the parent's own servers so that their TTLs are
 * the full ones (DS-Wait, NS-Wait).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <zonecut/apply.h>

#include "signers/internal.h"

static void verr(char *buf, const char *fmt, ...) ZC_PRINTF(2, 3);
static void verr(char *buf, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, SGN_ERR_LEN, fmt, ap);
	va_end(ap);
}

void sgn_view_release(struct sgn_view *v)
{
	if (!v) {
		return;
	}
	ldns_rr_list_deep_free(v->dnskey);
	ldns_rr_list_deep_free(v->cds);
	ldns_rr_list_deep_free(v->cdnskey);
	ldns_rr_list_deep_free(v->ns);
	ldns_rr_list_deep_free(v->csync);
	v->dnskey = v->cds = v->cdnskey = v->ns = v->csync = NULL;
}

/* Copies of the records of @type owned by @owner in @section; *ret_ttl the first TTL. */
static ldns_rr_list *take(const ldns_rr_list *section, const ldns_rdf *owner, ldns_rr_type type,
			  uint32_t *ret_ttl)
{
	ldns_rr_list *l = zc_rrset_extract(section, owner, type);

	if (l && ret_ttl) {
		*ret_ttl = ldns_rr_list_rr_count(l) ? ldns_rr_ttl(ldns_rr_list_rr(l, 0)) : 0;
	}
	if (l) {
		zc_rrset_canonicalize(l);
	}
	return l;
}

/*
 * One question to one server; the answer must be authoritative, NOERROR (NODATA
 * included). Returns 0 with *ret_pkt, or an error with @err set.
 */
static int ask(struct zc_signers *c, const char *server, const ldns_rdf *zone, ldns_rr_type type,
	       const char *who, ldns_pkt **ret_pkt, char *err)
{
	char why[SGN_ERR_LEN] = "";
	char *tname = ldns_rr_type2str(type);
	ldns_pkt *p = NULL;
	int r = c->io->query(c->io_ud, server, zone, type, c->o.timeout_ms, &p, why, sizeof(why));

	if (r < 0) {
		verr(err, "%s: %s query to %s failed (%s)", who, tname ? tname : "?", server,
		     why[0] ? why : zc_strerror(r));
		free(tname);
		return r;
	}
	if (ldns_pkt_get_rcode(p) != LDNS_RCODE_NOERROR || !ldns_pkt_aa(p)) {
		verr(err, "%s: %s at %s is not served authoritatively (%s%s)", who,
		     tname ? tname : "?", server, zc_rcode_str(ldns_pkt_get_rcode(p)),
		     ldns_pkt_aa(p) ? "" : ", no AA flag");
		free(tname);
		ldns_pkt_free(p);
		return ZC_ENOTFOUND;
	}
	free(tname);
	*ret_pkt = p;
	return 0;
}

/* What one server serves. */
struct one {
	ldns_rr_list *sets[5]; /* dnskey, cds, cdnskey, ns, csync */
	uint32_t ttl[5];
	uint32_t ttl_soa, serial, minimum;
	struct sgn_keyref zsig[SGN_MAX_ZSIG];
	unsigned n_zsig;
	struct sgn_keyref ksig[SGN_MAX_ZSIG];
	unsigned n_ksig;
	struct sgn_keyref nsig[SGN_MAX_ZSIG];
	unsigned n_nsig;
};

static const ldns_rr_type set_types[5] = { LDNS_RR_TYPE_DNSKEY, LDNS_RR_TYPE_CDS,
					   LDNS_RR_TYPE_CDNSKEY, LDNS_RR_TYPE_NS,
					   LDNS_RR_TYPE_CSYNC };

static void one_release(struct one *o)
{
	for (int i = 0; i < 5; i++) {
		ldns_rr_list_deep_free(o->sets[i]);
		o->sets[i] = NULL;
	}
}

/* The keys (tag, algorithm) the RRSIGs of @sigs name, each once, into @out. */
static unsigned sig_refs(const ldns_rr_list *sigs, struct sgn_keyref *out)
{
	unsigned n = 0;

	for (size_t i = 0; i < ldns_rr_list_rr_count(sigs) && n < SGN_MAX_ZSIG; i++) {
		const ldns_rr *sig = ldns_rr_list_rr(sigs, i);
		const ldns_rdf *tag = ldns_rr_rdf(sig, 6);
		bool known = false;

		if (!tag || ldns_rdf_size(tag) != 2) {
			continue;
		}
		for (unsigned k = 0; k < n; k++) {
			known = known || (out[k].tag == ldns_read_uint16(ldns_rdf_data(tag)) &&
					  out[k].alg == zc_rr_algorithm(sig));
		}
		if (!known) {
			out[n].tag = ldns_read_uint16(ldns_rdf_data(tag));
			out[n].alg = zc_rr_algorithm(sig);
			out[n].servers = 1;
			n++;
		}
	}
	return n;
}

/* Adds the keys of @from (one server) to @to (the union so far), counting servers. */
static void merge_refs(struct sgn_keyref *to, unsigned *n_to, const struct sgn_keyref *from,
		       unsigned n_from)
{
	for (unsigned k = 0; k < n_from; k++) {
		bool known = false;

		for (unsigned m = 0; m < *n_to && !known; m++) {
			if (to[m].tag == from[k].tag && to[m].alg == from[k].alg) {
				to[m].servers++;
				known = true;
			}
		}
		if (!known && *n_to < SGN_MAX_ZSIG) {
			to[(*n_to)++] = from[k];
		}
	}
}

unsigned sgn_signed_by(const struct sgn_view *v, const ldns_rr *key, ldns_rr_type covered)
{
	const struct sgn_keyref *refs = covered == LDNS_RR_TYPE_DNSKEY ? v->ksig
					: covered == LDNS_RR_TYPE_NS   ? v->nsig
								       : v->zsig;
	unsigned n = covered == LDNS_RR_TYPE_DNSKEY ? v->n_ksig
		     : covered == LDNS_RR_TYPE_NS   ? v->n_nsig
						    : v->n_zsig;

	for (unsigned i = 0; i < n; i++) {
		if (refs[i].tag == zc_key_tag(key) && refs[i].alg == zc_rr_algorithm(key)) {
			return refs[i].servers;
		}
	}
	return 0;
}

static int read_one(struct zc_signers *c, const char *server, const ldns_rdf *zone,
		    const char *who, struct one *o, char *err)
{
	ldns_pkt *p = NULL;
	ldns_rr_list *soa = NULL, *sigs = NULL;
	int r;

	memset(o, 0, sizeof(*o));
	r = ask(c, server, zone, LDNS_RR_TYPE_SOA, who, &p, err);
	if (r < 0) {
		return r;
	}
	soa = take(ldns_pkt_answer(p), zone, LDNS_RR_TYPE_SOA, &o->ttl_soa);
	sigs = zc_rrsig_extract(ldns_pkt_answer(p), zone, LDNS_RR_TYPE_SOA);
	if (!soa || !sigs) {
		r = -ENOMEM;
		goto out;
	}
	if (ldns_rr_list_rr_count(soa) != 1) {
		verr(err, "%s: %s has no SOA at the apex (is the zone loaded?)", who, server);
		r = ZC_ENOTFOUND;
		goto out;
	}
	o->serial = ldns_rdf2native_int32(ldns_rr_rdf(ldns_rr_list_rr(soa, 0), 2));
	o->minimum = ldns_rdf2native_int32(ldns_rr_rdf(ldns_rr_list_rr(soa, 0), 6));
	o->n_zsig = sig_refs(sigs, o->zsig);
	if (o->n_zsig == 0) {
		verr(err, "%s: the SOA at %s is not signed (DNSSEC signing off?)", who, server);
		r = ZC_ENOTFOUND;
		goto out;
	}
	for (int i = 0; i < 5; i++) {
		ldns_pkt_free(p);
		p = NULL;
		r = ask(c, server, zone, set_types[i], who, &p, err);
		if (r < 0) {
			goto out;
		}
		o->sets[i] = take(ldns_pkt_answer(p), zone, set_types[i], &o->ttl[i]);
		if (!o->sets[i]) {
			r = -ENOMEM;
			goto out;
		}
		if (set_types[i] == LDNS_RR_TYPE_DNSKEY || set_types[i] == LDNS_RR_TYPE_NS) {
			/*
			 * which keys sign the DNSKEY set and the apex NS set: rollovers watch
			 * them (the NS set, which seldom changes, shows whether a signer
			 * re-signed its stable data with a new ZSK, not only the SOA)
			 */
			bool dk = set_types[i] == LDNS_RR_TYPE_DNSKEY;

			ldns_rr_list_deep_free(sigs);
			sigs = zc_rrsig_extract(ldns_pkt_answer(p), zone, set_types[i]);
			if (!sigs) {
				r = -ENOMEM;
				goto out;
			}
			if (dk) {
				o->n_ksig = sig_refs(sigs, o->ksig);
			} else {
				o->n_nsig = sig_refs(sigs, o->nsig);
			}
		}
	}
	r = 0;
out:
	ldns_pkt_free(p);
	ldns_rr_list_deep_free(soa);
	ldns_rr_list_deep_free(sigs);
	if (r < 0) {
		one_release(o);
	}
	return r;
}

int sgn_view_read(struct zc_signers *c, const struct zc_signer *s, const char *zone,
		  struct sgn_view *v)
{
	struct sgn_server servers[SGN_MAX_SERVERS];
	char who[ZC_SIGNER_MAX_NAME + 16];
	ldns_rdf *apex = NULL;
	struct one first = { 0 }, o;
	unsigned n;
	int r;

	memset(v, 0, sizeof(*v));
	v->s = s;
	snprintf(who, sizeof(who), "signer '%s'", s->name);
	r = sgn_servers(c, s, servers, ZC_ARRAY_SIZE(servers), &n, v->err, sizeof(v->err));
	if (r < 0) {
		/* a nameserver without an address now: not fewer servers, no view */
		return v->status = r;
	}
	v->n_servers = n;
	if (n == 0) {
		verr(v->err, "%s has no server to read from (give ns=NAME=ADDR)", who);
		return v->status = ZC_ECONFIG;
	}
	r = zc_name_from_str(zone, &apex);
	if (r < 0) {
		verr(v->err, "bad zone name '%s'", zone);
		return v->status = r;
	}
	for (unsigned i = 0; i < n; i++) {
		r = read_one(c, servers[i].addr, apex, who, i ? &o : &first, v->err);
		if (r < 0) {
			goto out;
		}
		if (i == 0) {
			continue;
		}
		for (int t = 0; t < 5; t++) {
			if (!zc_rrset_equal(first.sets[t], o.sets[t])) {
				char *tname = ldns_rr_type2str(set_types[t]);

				verr(v->err, "%s: servers %s and %s serve different %s sets (a "
					     "secondary not in sync yet?)",
				     who, servers[0].addr, servers[i].addr, tname ? tname : "?");
				free(tname);
				one_release(&o);
				r = ZC_EMISMATCH;
				goto out;
			}
			first.ttl[t] = ZC_MAX(first.ttl[t], o.ttl[t]);
		}
		first.ttl_soa = ZC_MAX(first.ttl_soa, o.ttl_soa);
		first.minimum = ZC_MAX(first.minimum, o.minimum);
		merge_refs(first.zsig, &first.n_zsig, o.zsig, o.n_zsig);
		merge_refs(first.ksig, &first.n_ksig, o.ksig, o.n_ksig);
		merge_refs(first.nsig, &first.n_nsig, o.nsig, o.n_nsig);
		one_release(&o);
	}
	v->dnskey = first.sets[0];
	v->cds = first.sets[1];
	v->cdnskey = first.sets[2];
	v->ns = first.sets[3];
	v->csync = first.sets[4];
	memset(first.sets, 0, sizeof(first.sets));
	v->ttl_dnskey = first.ttl[0];
	v->ttl_cds = ZC_MAX(first.ttl[1], first.ttl[2]);
	v->ttl_ns = first.ttl[3];
	v->ttl_soa = first.ttl_soa;
	v->serial = first.serial;
	v->soa_minimum = first.minimum;
	memcpy(v->zsig, first.zsig, sizeof(v->zsig));
	v->n_zsig = first.n_zsig;
	memcpy(v->ksig, first.ksig, sizeof(v->ksig));
	v->n_ksig = first.n_ksig;
	memcpy(v->nsig, first.nsig, sizeof(v->nsig));
	v->n_nsig = first.n_nsig;
	if (ldns_rr_list_rr_count(v->dnskey) == 0) {
		verr(v->err, "%s publishes no DNSKEY for %s", who, zone);
		r = ZC_ENOTFOUND;
		goto out;
	}
	r = 0;
out:
	one_release(&first);
	ldns_rdf_deep_free(apex);
	if (r < 0) {
		sgn_view_release(v);
	}
	return v->status = r;
}

/* --- the parent --------------------------------------------------------------- */

void sgn_parent_release(struct sgn_parent *p)
{
	if (!p) {
		return;
	}
	ldns_rr_list_deep_free(p->ds);
	ldns_rr_list_deep_free(p->ns);
	p->ds = p->ns = NULL;
}

/* The DS and NS sets at one parent server. */
static int parent_one(struct zc_signers *c, const char *server, const ldns_rdf *zone,
		      ldns_rr_list **ret_ds, uint32_t *ret_ttl_ds, ldns_rr_list **ret_ns,
		      uint32_t *ret_ttl_ns, char *err)
{
	char why[SGN_ERR_LEN] = "";
	ldns_pkt *p = NULL;
	int r;

	r = c->io->query(c->io_ud, server, zone, LDNS_RR_TYPE_DS, c->o.timeout_ms, &p, why,
			 sizeof(why));
	if (r < 0) {
		verr(err, "parent: DS query to %s failed (%s)", server, why[0] ? why : zc_strerror(r));
		return r;
	}
	/* The DS RRset belongs to the parent zone: its answer is authoritative. */
	if (ldns_pkt_get_rcode(p) != LDNS_RCODE_NOERROR || !ldns_pkt_aa(p)) {
		verr(err, "parent: DS at %s is not served authoritatively (%s)", server,
		     zc_rcode_str(ldns_pkt_get_rcode(p)));
		ldns_pkt_free(p);
		return ZC_ENOTFOUND;
	}
	*ret_ds = take(ldns_pkt_answer(p), zone, LDNS_RR_TYPE_DS, ret_ttl_ds);
	ldns_pkt_free(p);
	p = NULL;
	if (!*ret_ds) {
		return -ENOMEM;
	}
	r = c->io->query(c->io_ud, server, zone, LDNS_RR_TYPE_NS, c->o.timeout_ms, &p, why,
			 sizeof(why));
	if (r < 0) {
		verr(err, "parent: NS query to %s failed (%s)", server, why[0] ? why : zc_strerror(r));
		return r;
	}
	/* A referral: the delegation's NS set is in the authority section. */
	*ret_ns = take(ldns_pkt_authority(p), zone, LDNS_RR_TYPE_NS, ret_ttl_ns);
	if (*ret_ns && ldns_rr_list_rr_count(*ret_ns) == 0) {
		ldns_rr_list_deep_free(*ret_ns);
		*ret_ns = take(ldns_pkt_answer(p), zone, LDNS_RR_TYPE_NS, ret_ttl_ns);
	}
	ldns_pkt_free(p);
	if (!*ret_ns) {
		return -ENOMEM;
	}
	if (ldns_rr_list_rr_count(*ret_ns) == 0) {
		verr(err, "parent: %s does not delegate the zone (no NS set)", server);
		return ZC_ENOTFOUND;
	}
	return 0;
}

int sgn_parent_read(struct zc_signers *c, const struct zc_signer_zone *z, struct sgn_parent *p)
{
	ldns_rdf *apex = NULL;
	int r;

	memset(p, 0, sizeof(*p));
	if (z->n_parent == 0) {
		verr(p->err, "zone '%s' has no parent=ADDR servers: the DS and NS sets the "
			     "controller waits for cannot be read",
		     z->zone);
		return p->status = ZC_ECONFIG;
	}
	r = zc_name_from_str(z->zone, &apex);
	if (r < 0) {
		return p->status = r;
	}
	for (unsigned i = 0; i < z->n_parent; i++) {
		ldns_rr_list *ds = NULL, *ns = NULL;
		uint32_t tds = 0, tns = 0;

		r = parent_one(c, z->parent[i], apex, &ds, &tds, &ns, &tns, p->err);
		if (r == 0 && i > 0 && (!zc_rrset_equal(ds, p->ds) || !zc_rrset_equal(ns, p->ns))) {
			verr(p->err, "parent: servers %s and %s serve different DS or NS sets",
			     z->parent[0], z->parent[i]);
			r = ZC_EMISMATCH;
		}
		if (r < 0) {
			ldns_rr_list_deep_free(ds);
			ldns_rr_list_deep_free(ns);
			break;
		}
		if (i == 0) {
			p->ds = ds;
			p->ns = ns;
		} else {
			ldns_rr_list_deep_free(ds);
			ldns_rr_list_deep_free(ns);
		}
		p->ttl_ds = ZC_MAX(p->ttl_ds, tds);
		p->ttl_ns = ZC_MAX(p->ttl_ns, tns);
	}
	ldns_rdf_deep_free(apex);
	if (r < 0) {
		sgn_parent_release(p);
	}
	return p->status = r;
}
