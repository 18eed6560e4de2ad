/* SPDX-License-Identifier: MIT */
/*
 * The scan's state machine, one job per delegation, all on one event loop:
 *
 *   J_DS      (--list only) read the current DS set through the validating resolver
 *   J_ADDR    addresses of every nameserver: glue, else the resolver, cached by host
 *   J_PROBE   CDS and CDNSKEY at one address; nothing there means nothing to do
 *   J_FULL    CDS, CDNSKEY and DNSKEY at every address of every nameserver
 *   J_SIGNAL  (bootstrap only) RFC 9615 signals of every out-of-child nameserver
 *   then the decision (decide.c) and the caller's callback.
 *
 * At most `concurrency` jobs live at once; finished jobs make room for the next
 * delegation from the source, so memory does not grow with the input.
 */
#include <errno.h>
#include <stddef.h>
#include <event2/event.h>
#include <string.h>
#include <time.h>

#include "scan/internal.h"
#include <zonecut/apply.h>
#include <zonecut/store.h>

#define ADDR_CACHE_BUCKETS 16384
#define ADDR_CACHE_MAX 200000
#define MAX_TARGETS (ZC_SCAN_MAX_NS * ZC_SCAN_MAX_ADDRS)

enum job_state { J_DS, J_ADDR, J_PROBE, J_FULL, J_SIGNAL, J_DONE };

struct job;

/* A job waiting for a host's addresses. */
struct addr_waiter {
	struct job *job;
	unsigned ns_index;
	struct addr_waiter *next;
};

/* Addresses of one nameserver host, shared by every delegation that names it. */
struct addr_entry {
	ldns_rdf *name;
	uint32_t hash;
	bool ready;
	bool cached;             /* in the table (else freed once delivered) */
	unsigned pending;        /* A and AAAA lookups still out */
	struct sockaddr_storage addrs[ZC_SCAN_MAX_ADDRS];
	unsigned n_addrs;
	struct addr_waiter *waiters;
	struct addr_entry *next; /* hash chain */
};

struct addr_lookup {
	struct addr_entry *entry;
	ldns_rr_type type;
};

/* One query of a job. */
struct qctx {
	struct job *job;
	unsigned target;   /* index into targets / answers */
	int qtype;         /* enum scan_qtype, or signal index * 2 + type for J_SIGNAL */
};

struct target {
	unsigned ns_index;
	struct sockaddr_storage addr;
	socklen_t len;
};

struct job {
	struct zc_scan *scan;
	struct zc_delegation *d;
	enum job_state state;
	unsigned pending;
	unsigned ns_addr_pending;
	unsigned ns_n_addrs[ZC_SCAN_MAX_NS];
	unsigned n_targets;
	unsigned probe;                 /* target index being probed */
	struct scan_answer *answers;    /* n_targets of them */
	unsigned n_signals;
	struct scan_outcome out;
	unsigned queries;
	char child[ZC_DNS_MAX_NAME_TEXT];
	struct job *prev, *next;
	/*
	 * Last and not zeroed at start (JOB_ZEROED): about 35 kB per job, written
	 * before they are read, up to ns_n_addrs[], n_targets and n_signals.
	 */
	struct sockaddr_storage ns_addrs[ZC_SCAN_MAX_NS][ZC_SCAN_MAX_ADDRS];
	struct target targets[MAX_TARGETS];
	struct scan_signal signals[ZC_SCAN_MAX_NS];
};

#define JOB_ZEROED offsetof(struct job, ns_addrs)

struct zc_scan {
	struct zc_ctx *ctx;
	struct event_base *base;
	struct zc_engine *eng;
	struct zc_resolver *res;
	struct zc_scan_opts opts;
	zc_scan_decision_fn cb;
	void *ud;
	struct zc_scan_source *src;
	bool src_done;
	int src_err;
	bool refilling;
	unsigned active;
	struct job *jobs;
	struct addr_entry *buckets[ADDR_CACHE_BUCKETS];
	unsigned n_cached;
	struct zc_sig_cache *sigcache; /* one RRset seen at every address is verified once */
	struct zc_buf evidence;        /* the evidence of the decision being delivered */
	struct zone_keys *zkeys;       /* signers' keys for the RFC 9615 signals */
	struct zc_scan_stats stats;
};

static void job_step(struct job *j);
static void job_record(struct job *j, time_t now);
static void refill(struct zc_scan *scan);

void zc_scan_opts_default(struct zc_scan_opts *o)
{
	memset(o, 0, sizeof(*o));
	zc_scan_policy_default(&o->policy);
	o->concurrency = 1000;
}

void zc_delegation_free(struct zc_delegation *d)
{
	if (!d) {
		return;
	}
	ldns_rdf_deep_free(d->child);
	ldns_rr_list_deep_free(d->ds);
	for (unsigned i = 0; i < d->n_ns; i++) {
		ldns_rdf_deep_free(d->ns[i].name);
	}
	free(d);
}

int zc_scan_new(struct zc_ctx *ctx, struct event_base *base, struct zc_engine *eng,
		struct zc_resolver *res, const struct zc_scan_opts *opts, zc_scan_decision_fn cb,
		void *userdata, struct zc_scan **ret_scan)
{
	struct zc_scan *scan;

	if (!base || !eng || !cb || !ret_scan) {
		return -EINVAL;
	}
	scan = calloc(1, sizeof(*scan));
	if (!scan) {
		return -ENOMEM;
	}
	scan->ctx = ctx;
	scan->base = base;
	scan->eng = eng;
	scan->res = res;
	if (opts) {
		scan->opts = *opts;
	} else {
		zc_scan_opts_default(&scan->opts);
	}
	if (scan->opts.concurrency == 0) {
		scan->opts.concurrency = 1;
	}
	scan->cb = cb;
	scan->ud = userdata;
	scan->sigcache = zc_sig_cache_new(0);
	if (!scan->sigcache) {
		free(scan);
		return -ENOMEM;
	}
	*ret_scan = scan;
	return 0;
}

/* --- the address cache ------------------------------------------------- */

static uint32_t name_hash(const ldns_rdf *name)
{
	const uint8_t *p = ldns_rdf_data(name);
	uint32_t h = 2166136261u; /* FNV-1a over the lower-cased wire form */

	for (size_t i = 0; i < ldns_rdf_size(name); i++) {
		uint8_t c = p[i];

		if (c >= 'A' && c <= 'Z') {
			c += 32;
		}
		h = (h ^ c) * 16777619u;
	}
	return h;
}

static struct addr_entry *cache_find(struct zc_scan *scan, const ldns_rdf *name, uint32_t h)
{
	for (struct addr_entry *e = scan->buckets[h % ADDR_CACHE_BUCKETS]; e; e = e->next) {
		if (e->hash == h && zc_name_equal(e->name, name)) {
			return e;
		}
	}
	return NULL;
}

static void entry_free(struct addr_entry *e)
{
	ldns_rdf_deep_free(e->name);
	free(e);
}

static void job_addr_ready(struct job *j, unsigned ns_index, const struct addr_entry *e)
{
	unsigned n = 0;

	for (unsigned i = 0; i < e->n_addrs && n < ZC_SCAN_MAX_ADDRS; i++) {
		j->ns_addrs[ns_index][n++] = e->addrs[i];
	}
	j->ns_n_addrs[ns_index] = n;
}

static void entry_deliver(struct addr_entry *e)
{
	struct addr_waiter *w = e->waiters;

	e->ready = true;
	e->waiters = NULL;
	while (w) {
		struct addr_waiter *next = w->next;
		struct job *j = w->job;

		job_addr_ready(j, w->ns_index, e);
		free(w);
		if (--j->ns_addr_pending == 0 && j->state == J_ADDR) {
			job_step(j);
		}
		w = next;
	}
	if (!e->cached) {
		entry_free(e);
	}
}

static void on_addr(const struct zc_resolved *r, void *ud)
{
	struct addr_lookup *l = ud;
	struct addr_entry *e = l->entry;

	if (r->status == 0 && r->pkt && r->security != ZC_SEC_BOGUS) {
		const ldns_rr_list *an = ldns_pkt_answer(r->pkt);

		for (size_t i = 0; i < ldns_rr_list_rr_count(an) && e->n_addrs < ZC_SCAN_MAX_ADDRS;
		     i++) {
			const ldns_rr *rr = ldns_rr_list_rr(an, i);
			const ldns_rdf *rd = ldns_rr_rdf(rr, 0);
			struct sockaddr_storage *ss = &e->addrs[e->n_addrs];

			if (ldns_rr_get_type(rr) != l->type || !rd) {
				continue;
			}
			memset(ss, 0, sizeof(*ss));
			if (l->type == LDNS_RR_TYPE_A && ldns_rdf_size(rd) == 4) {
				struct sockaddr_in *sin = (struct sockaddr_in *)ss;

				sin->sin_family = AF_INET;
				sin->sin_port = htons(53);
				memcpy(&sin->sin_addr, ldns_rdf_data(rd), 4);
				e->n_addrs++;
			} else if (l->type == LDNS_RR_TYPE_AAAA && ldns_rdf_size(rd) == 16) {
				struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

				sin6->sin6_family = AF_INET6;
				sin6->sin6_port = htons(53);
				memcpy(&sin6->sin6_addr, ldns_rdf_data(rd), 16);
				e->n_addrs++;
			}
		}
	}
	free(l);
	if (--e->pending == 0) {
		entry_deliver(e);
	}
}

/* Starts (or joins) the address lookup of @ns_index; returns true when pending. */
static bool job_want_addr(struct job *j, unsigned ns_index)
{
	struct zc_scan *scan = j->scan;
	const ldns_rdf *name = j->d->ns[ns_index].name;
	uint32_t h = name_hash(name);
	struct addr_entry *e = cache_find(scan, name, h);
	struct addr_waiter *w;
	static const ldns_rr_type types[] = { LDNS_RR_TYPE_A, LDNS_RR_TYPE_AAAA };

	if (e && e->ready) {
		scan->stats.addr_cache_hits++;
		job_addr_ready(j, ns_index, e);
		return false;
	}
	w = calloc(1, sizeof(*w));
	if (!w) {
		return false;
	}
	w->job = j;
	w->ns_index = ns_index;
	if (e) {
		scan->stats.addr_cache_hits++;
		w->next = e->waiters;
		e->waiters = w;
		return true;
	}
	scan->stats.addr_cache_misses++;
	e = calloc(1, sizeof(*e));
	if (!e || !scan->res || !(e->name = ldns_rdf_clone(name))) {
		free(e);
		free(w);
		return false;
	}
	e->hash = h;
	e->waiters = w;
	if (scan->n_cached < ADDR_CACHE_MAX) {
		e->cached = true;
		e->next = scan->buckets[h % ADDR_CACHE_BUCKETS];
		scan->buckets[h % ADDR_CACHE_BUCKETS] = e;
		scan->n_cached++;
	}
	e->pending = 2;
	for (size_t t = 0; t < 2; t++) {
		struct addr_lookup *l = calloc(1, sizeof(*l));

		if (l) {
			l->entry = e;
			l->type = types[t];
		}
		if (!l || zc_resolver_resolve(scan->res, name, types[t], on_addr, l) < 0) {
			free(l);
			e->pending--;
		}
	}
	if (e->pending == 0) {
		/* nothing started: deliver an empty result, but not from inside this job */
		e->waiters = NULL;
		free(w);
		e->ready = true;
		if (!e->cached) {
			entry_free(e);
		}
		return false;
	}
	return true;
}

/* --- queries ----------------------------------------------------------- */

static void on_apex_answer(const struct zc_answer *ans, void *ud);

static const ldns_rr_type apex_types[SQ_COUNT] = {
	LDNS_RR_TYPE_CDS, LDNS_RR_TYPE_CDNSKEY, LDNS_RR_TYPE_DNSKEY,
};

static void job_query(struct job *j, unsigned target, int qtype)
{
	struct qctx *q = calloc(1, sizeof(*q));
	struct scan_answer *a = &j->answers[target];
	int r;

	a->asked[qtype] = true;
	if (!q) {
		a->status[qtype] = -ENOMEM;
		return;
	}
	q->job = j;
	q->target = target;
	q->qtype = qtype;
	r = zc_engine_query(j->scan->eng, (const struct sockaddr *)&j->targets[target].addr,
			    j->targets[target].len, j->d->child, apex_types[qtype],
			    ZC_Q_DNSSEC | ZC_Q_WIRE_ONLY | (j->scan->opts.flags & ZC_Q_TCP),
			    on_apex_answer, q);
	if (r < 0) {
		free(q);
		a->status[qtype] = r;
		return;
	}
	j->pending++;
	j->queries++;
	j->scan->stats.queries++;
}

/*
 * The same answer from another address of the delegation (every byte but the ID:
 * flags, question, every section): its parsed lists serve @a too, borrowed. Most
 * children are served the same by all their addresses; parsing it again would
 * give the same lists, at a tenth of the decision's CPU. Only a successfully
 * parsed answer lends its lists, and whole bytes are compared, never a hash.
 */
static bool answer_share(struct job *j, struct scan_answer *a, int t, const uint8_t *wire,
			 size_t len)
{
	for (unsigned i = 0; i < j->n_targets; i++) {
		const struct scan_answer *b = &j->answers[i];

		if (b != a && b->wire[t] && b->wire_len[t] == len && b->status[t] == 0 &&
		    b->rrset[t] && b->rrsig[t] && len > 2 &&
		    memcmp(b->wire[t] + 2, wire + 2, len - 2) == 0) {
			a->rrset[t] = b->rrset[t];
			a->rrsig[t] = b->rrsig[t];
			a->borrowed[t] = true;
			j->scan->stats.answers_shared++;
			return true;
		}
	}
	return false;
}

static void on_apex_answer(const struct zc_answer *ans, void *ud)
{
	struct qctx *q = ud;
	struct job *j = q->job;
	struct scan_answer *a = &j->answers[q->target];
	int t = q->qtype;

	free(q);
	a->status[t] = ans->status;
	if (ans->status == 0) {
		/*
		 * The engine checked the structure; the header says the rest. Most
		 * answers are "nothing here" (no answer records): no parsing at all.
		 */
		a->rcode[t] = ans->wire[3] & 0x0f;
		a->aa[t] = (ans->wire[2] & 0x04) != 0;
		a->tcp[t] = ans->tcp;
		if (ans->wire[6] == 0 && ans->wire[7] == 0) {
			a->rrset[t] = ldns_rr_list_new();
			a->rrsig[t] = ldns_rr_list_new();
		} else if (!answer_share(j, a, t, ans->wire, ans->wire_len)) {
			ldns_rr_list *an = NULL;
			int r = zc_pkt_answer_records(ans->wire, ans->wire_len, &an);

			if (r < 0) {
				a->status[t] = r == -ENOMEM ? r : ZC_EMALF;
				goto out;
			}
			/* the records move out of the list, which is freed anyway */
			if (zc_rrset_take(an, j->d->child, apex_types[t], &a->rrset[t],
					  &a->rrsig[t]) < 0) {
				a->rrset[t] = NULL;
				a->rrsig[t] = NULL;
			}
			ldns_rr_list_deep_free(an);
			/* kept for the other addresses' answers (none kept without memory) */
			a->wire[t] = malloc(ans->wire_len);
			if (a->wire[t]) {
				memcpy(a->wire[t], ans->wire, ans->wire_len);
				a->wire_len[t] = ans->wire_len;
			}
		}
		if (!a->rrset[t] || !a->rrsig[t]) {
			a->status[t] = -ENOMEM;
		} else if (ldns_rr_list_rr_count(a->rrset[t]) > ZC_DNS_MAX_RRSET) {
			a->status[t] = ZC_EMALF;
		}
	}
out:
	if (--j->pending == 0) {
		job_step(j);
	}
}

/* --- RFC 9615 signals -------------------------------------------------- */

/*
 * Every signal is validated. The validating resolver does it (S6) unless the scan
 * has an unvalidating resolver too (opts.signal_resolver): then a signal is first
 * resolved without validation, and a positive answer (only the signal RRset and its
 * RRSIGs, at the signal name) is accepted when an RRSIG whose Labels field is the
 * name's own (no wildcard) verifies with a key of its signer's DNSKEY set, which
 * the validating resolver found secure (asked once per zone, kept for its TTL, at
 * most an hour). The signer's key speaks for every name below its zone, so this
 * is the trust a validator gives the answer, with our own verification (OpenSSL,
 * through the scan's cache) instead of libunbound's. Anything else goes to the
 * validating resolver, whose verdict stands.
 */
#define ZONE_KEYS_MAX 64
#define ZONE_KEYS_TTL_MAX 3600
#define ZONE_KEYS_RETRY 300

struct sigctx {
	struct job *job;
	unsigned idx;
	unsigned type;              /* 0 CDS, 1 CDNSKEY */
	ldns_rdf *name;             /* the signal name */
	ldns_rr_list *rrset, *sigs; /* the unvalidated answer being checked */
	bool denial;                /* or an unvalidated denial, in den */
	unsigned rcode;             /* the denial's: NXDOMAIN or NOERROR (NODATA) */
	struct zc_denial den;
	struct sigctx *next;        /* waiting for its signer's keys */
};

struct zone_keys {
	ldns_rdf *zone;
	bool pending;               /* the DNSKEY lookup is out */
	ldns_rr_list *keys;         /* secure zone keys (not revoked), or NULL: none */
	time_t until;               /* keys (or their absence) used until then */
	struct sigctx *waiters;
	struct zone_keys *next;
};

static ldns_rr_type signal_type(const struct sigctx *c)
{
	return c->type == 0 ? LDNS_RR_TYPE_CDS : LDNS_RR_TYPE_CDNSKEY;
}

static void sigctx_free(struct sigctx *c)
{
	ldns_rdf_deep_free(c->name);
	ldns_rr_list_deep_free(c->rrset);
	ldns_rr_list_deep_free(c->sigs);
	zc_denial_release(&c->den);
	free(c);
}

static time_t scan_now(const struct zc_scan *scan)
{
	return scan->opts.now ? scan->opts.now : time(NULL);
}

/* The lookup of @c is over (its outcome is in the job's signal). */
static void signal_done(struct sigctx *c)
{
	struct job *j = c->job;

	sigctx_free(c);
	if (--j->pending == 0) {
		job_step(j);
	}
}

static void on_signal(const struct zc_resolved *r, void *ud)
{
	struct sigctx *c = ud;
	struct job *j = c->job;
	struct scan_signal *s = &j->signals[c->idx];
	unsigned t = c->type;

	j->scan->stats.signals_resolved++;
	s->status[t] = r->status;
	s->rcode[t] = r->rcode;
	s->security[t] = r->security;
	if (r->status == 0 && r->pkt) {
		const ldns_rr_list *an = ldns_pkt_answer(r->pkt);

		s->rrset[t] = zc_rrset_extract(an, NULL, signal_type(c));
		if (!s->rrset[t]) {
			s->status[t] = -ENOMEM;
		}
		if (r->rcode != LDNS_RCODE_NOERROR && r->rcode != LDNS_RCODE_NXDOMAIN) {
			s->status[t] = ZC_ERESOLV;
		}
	}
	signal_done(c);
}

/* @c through the validating resolver. */
static void signal_resolve(struct sigctx *c)
{
	struct zc_scan *scan = c->job->scan;

	ldns_rr_list_deep_free(c->rrset);
	ldns_rr_list_deep_free(c->sigs);
	c->rrset = c->sigs = NULL;
	zc_denial_release(&c->den);
	c->denial = false;
	if (!scan->res || zc_resolver_resolve(scan->res, c->name, signal_type(c), on_signal, c) < 0) {
		c->job->signals[c->idx].status[c->type] = ZC_ERESOLV;
		signal_done(c);
	}
}

/* The unvalidated answer of @c against its signer's secure @keys. */
static void signal_check(struct sigctx *c, const ldns_rr_list *keys)
{
	struct zc_scan *scan = c->job->scan;
	struct scan_signal *s = &c->job->signals[c->idx];
	bool ok = keys != NULL;

	if (c->denial) {
		/* every NSEC RRset of the proof, each by the signer's keys */
		for (size_t i = 0; ok && i < c->den.n; i++) {
			ok = zc_rrsig_check_cached(scan->sigcache, c->den.rrset[i], c->den.sigs[i],
						   keys, scan_now(scan), NULL, 0, NULL) == 0;
		}
		if (ok) {
			c->rrset = ldns_rr_list_new(); /* no records: what a resolver says */
			ok = c->rrset != NULL;
		}
	} else {
		ok = ok && zc_rrsig_check_cached(scan->sigcache, c->rrset, c->sigs, keys,
						 scan_now(scan), NULL, 0, NULL) == 0;
	}
	if (!ok) {
		signal_resolve(c);
		return;
	}
	scan->stats.signals_checked++;
	s->status[c->type] = 0;
	s->rcode[c->type] = c->denial ? c->rcode : LDNS_RCODE_NOERROR;
	s->security[c->type] = ZC_SEC_SECURE;
	s->rrset[c->type] = c->rrset;
	c->rrset = NULL;
	signal_done(c);
}

/* Zone keys of a DNSKEY answer: protocol 3, Zone Key flag, not revoked (RFC 5011). */
static ldns_rr_list *secure_zone_keys(const struct zc_resolved *r, const ldns_rdf *zone,
				      time_t *ret_ttl)
{
	ldns_rr_list *all, *keys;
	uint32_t ttl = ZONE_KEYS_TTL_MAX;

	if (r->status != 0 || r->rcode != LDNS_RCODE_NOERROR || r->security != ZC_SEC_SECURE ||
	    !r->pkt) {
		return NULL;
	}
	all = zc_rrset_extract(ldns_pkt_answer(r->pkt), zone, LDNS_RR_TYPE_DNSKEY);
	keys = ldns_rr_list_new();
	for (size_t i = 0; all && keys && i < ldns_rr_list_rr_count(all); i++) {
		ldns_rr *k = ldns_rr_list_rr(all, i), *copy;
		uint16_t flags;

		if (ldns_rr_rd_count(k) != 4) {
			continue;
		}
		flags = ldns_rdf2native_int16(ldns_rr_rdf(k, 0));
		if ((flags & 0x0100) && !(flags & 0x0080) &&
		    ldns_rdf2native_int8(ldns_rr_rdf(k, 1)) == 3 && (copy = ldns_rr_clone(k))) {
			ttl = ZC_MIN(ttl, ldns_rr_ttl(k));
			ldns_rr_list_push_rr(keys, copy);
		}
	}
	ldns_rr_list_deep_free(all);
	if (keys && ldns_rr_list_rr_count(keys) == 0) {
		ldns_rr_list_deep_free(keys);
		keys = NULL;
	}
	*ret_ttl = (time_t)ttl;
	return keys;
}

static void on_zone_keys(const struct zc_resolved *r, void *ud)
{
	struct zone_keys *zk = ud;
	struct sigctx *w = zk->waiters;
	time_t ttl = ZONE_KEYS_RETRY;

	zk->pending = false;
	zk->waiters = NULL;
	zk->keys = secure_zone_keys(r, zk->zone, &ttl);
	zk->until = (w ? scan_now(w->job->scan) : time(NULL)) + (zk->keys ? ttl : ZONE_KEYS_RETRY);
	while (w) {
		struct sigctx *next = w->next;

		w->next = NULL;
		signal_check(w, zk->keys);
		w = next;
	}
}

/* The signer's keys for @c: now, later (when asked), or never (resolver). */
static void signal_keys(struct sigctx *c, const ldns_rdf *signer)
{
	struct zc_scan *scan = c->job->scan;
	struct zone_keys *zk = scan->zkeys;
	unsigned n = 0;

	while (zk && !zc_name_equal(zk->zone, signer)) {
		zk = zk->next;
		n++;
	}
	if (zk && (zk->pending || scan_now(scan) < zk->until)) {
		if (zk->pending) {
			c->next = zk->waiters;
			zk->waiters = c;
		} else {
			signal_check(c, zk->keys);
		}
		return;
	}
	if (!zk) {
		zk = n < ZONE_KEYS_MAX ? calloc(1, sizeof(*zk)) : NULL;
		if (!zk || !(zk->zone = ldns_rdf_clone(signer))) {
			free(zk);
			signal_resolve(c);
			return;
		}
		zk->next = scan->zkeys;
		scan->zkeys = zk;
	}
	ldns_rr_list_deep_free(zk->keys);
	zk->keys = NULL;
	zk->pending = true;
	c->next = zk->waiters;
	zk->waiters = c;
	if (!scan->res ||
	    zc_resolver_resolve(scan->res, zk->zone, LDNS_RR_TYPE_DNSKEY, on_zone_keys, zk) < 0) {
		struct zc_resolved none = { .status = ZC_ERESOLV };

		on_zone_keys(&none, zk);
	}
}

/*
 * An unvalidated answer section @an for @c: when it holds nothing but the signal
 * RRset and RRSIGs over it at the signal name, the RRset and the RRSIGs of one
 * signer with the name's own label count (no wildcard) go into c->rrset and
 * c->sigs, and the signer (the name or an ancestor) is returned; else NULL.
 */
static const ldns_rdf *signal_take(struct sigctx *c, const ldns_rr_list *an)
{
	const ldns_rdf *signer = NULL;
	uint8_t labels = (uint8_t)ldns_dname_label_count(c->name);
	bool ok = an != NULL;

	for (size_t i = 0; ok && i < ldns_rr_list_rr_count(an); i++) {
		const ldns_rr *rr = ldns_rr_list_rr(an, i);
		ldns_rr_type t = ldns_rr_get_type(rr);

		/* nothing but the signal RRset and its RRSIGs, at the signal name */
		ok = zc_name_equal(ldns_rr_owner(rr), c->name) &&
		     ldns_rr_get_class(rr) == LDNS_RR_CLASS_IN &&
		     (t == signal_type(c) ||
		      (t == LDNS_RR_TYPE_RRSIG && ldns_rr_rrsig_typecovered(rr) &&
		       ldns_rdf2rr_type(ldns_rr_rrsig_typecovered(rr)) == signal_type(c)));
	}
	if (ok) {
		c->rrset = zc_rrset_extract(an, c->name, signal_type(c));
		c->sigs = ldns_rr_list_new();
	}
	for (size_t i = 0; ok && c->rrset && c->sigs && i < ldns_rr_list_rr_count(an); i++) {
		const ldns_rr *rr = ldns_rr_list_rr(an, i);

		if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_RRSIG || !ldns_rr_rrsig_labels(rr) ||
		    !ldns_rr_rrsig_signame(rr) ||
		    ldns_rdf2native_int8(ldns_rr_rrsig_labels(rr)) != labels) {
			continue; /* (a wildcard answer needs a denial: the resolver's job) */
		}
		if (!signer) {
			signer = ldns_rr_rrsig_signame(rr);
		}
		if (zc_name_equal(ldns_rr_rrsig_signame(rr), signer)) {
			ldns_rr *copy = ldns_rr_clone(rr);

			if (copy) {
				ldns_rr_list_push_rr(c->sigs, copy);
			}
		}
	}
	if (!ok || !c->rrset || !c->sigs || ldns_rr_list_rr_count(c->rrset) == 0 ||
	    ldns_rr_list_rr_count(c->sigs) == 0 || !zc_name_is_at_or_below(c->name, signer)) {
		return NULL;
	}
	return ldns_rr_rrsig_signame(ldns_rr_list_rr(c->sigs, 0));
}

/* An unvalidated answer: checked against the signer's keys when it is a plain one. */
static void on_signal_plain(const struct zc_resolved *r, void *ud)
{
	struct sigctx *c = ud;
	const ldns_rdf *signer = NULL;

	if (r->status == 0 && r->rcode == LDNS_RCODE_NOERROR && r->pkt) {
		signer = signal_take(c, ldns_pkt_answer(r->pkt));
	}
	if (!signer) {
		signal_resolve(c);
		return;
	}
	signal_keys(c, signer);
}

/* @c through the unvalidating resolver first (see on_signal_plain). */
static void signal_plain(struct sigctx *c)
{
	struct zc_resolver *plain = c->job->scan->opts.signal_resolver;

	if (zc_resolver_resolve(plain, c->name, signal_type(c), on_signal_plain, c) < 0) {
		signal_resolve(c);
	}
}

/*
 * An authoritative answer without the signal (@rcode NXDOMAIN, or NOERROR with an
 * empty answer section): when its authority section holds an NSEC proof that the
 * signal is not there (zc_nsec_denial()), the proof goes into c->den and its signer
 * is returned; else NULL.
 */
static const ldns_rdf *signal_denial(struct sigctx *c, const struct zc_answer *ans,
				     unsigned rcode)
{
	ldns_rr_list *auth = NULL;
	int r;

	ldns_rr_list_deep_free(c->rrset); /* what signal_take() left */
	ldns_rr_list_deep_free(c->sigs);
	c->rrset = c->sigs = NULL;
	if (ans->wire_len < 12 || ans->wire[6] != 0 || ans->wire[7] != 0 ||
	    zc_pkt_authority_records(ans->wire, ans->wire_len, &auth) != 0) {
		return NULL;
	}
	r = zc_nsec_denial(auth, c->name, signal_type(c), rcode == LDNS_RCODE_NXDOMAIN, &c->den);
	ldns_rr_list_deep_free(auth);
	if (r != 0) {
		return NULL;
	}
	c->denial = true;
	c->rcode = rcode;
	return c->den.signer;
}

/*
 * The answer of the signal's own nameserver. Not authoritative, or no answer: the
 * unvalidating resolver finds the signal zone's servers. Authoritative and plain,
 * or an authoritative NSEC denial: checked against the signer's keys as a
 * resolver's answer would be. Any other authoritative answer (an alias, a wildcard,
 * NSEC3, a failed check): the validating resolver decides.
 */
static void on_signal_direct(const struct zc_answer *ans, void *ud)
{
	struct sigctx *c = ud;
	ldns_rr_list *an = NULL;
	const ldns_rdf *signer = NULL;
	unsigned rcode;

	if (ans->status != 0 || !(ans->wire[2] & 0x04)) {
		signal_plain(c);
		return;
	}
	rcode = ans->wire[3] & 0x0f;
	if (rcode != LDNS_RCODE_NOERROR && rcode != LDNS_RCODE_NXDOMAIN) {
		signal_plain(c);
		return;
	}
	if (rcode == LDNS_RCODE_NOERROR &&
	    zc_pkt_answer_records(ans->wire, ans->wire_len, &an) == 0) {
		signer = signal_take(c, an);
	}
	if (!signer) {
		signer = signal_denial(c, ans, rcode);
	}
	if (!signer) {
		ldns_rr_list_deep_free(an);
		signal_resolve(c);
		return;
	}
	c->job->scan->stats.signals_direct_taken++;
	signal_keys(c, signer); /* signer points into c->sigs or c->den, not into an */
	ldns_rr_list_deep_free(an);
}

/*
 * Signal zones are most often served by the nameserver they are named after: the
 * signal is asked there first, at the first of its addresses that answered the
 * funnel (not counted among the delegation's queries, as the resolvers' are not).
 * Returns false when none answered or the query could not start.
 */
static bool signal_ask_direct(struct sigctx *c, unsigned ns_index)
{
	struct job *j = c->job;
	const struct scan_answer *a = NULL;

	for (unsigned i = 0; i < j->n_targets && !a; i++) {
		const struct scan_answer *x = &j->answers[i];

		if (x->ns_index == ns_index && !x->left_out &&
		    ((x->asked[SQ_CDS] && x->status[SQ_CDS] == 0) ||
		     (x->asked[SQ_CDNSKEY] && x->status[SQ_CDNSKEY] == 0))) {
			a = x;
		}
	}
	if (!a || zc_engine_query(j->scan->eng, (const struct sockaddr *)&a->addr, a->addr_len,
				  c->name, signal_type(c),
				  ZC_Q_DNSSEC | ZC_Q_WIRE_ONLY | (j->scan->opts.flags & ZC_Q_TCP),
				  on_signal_direct, c) < 0) {
		return false;
	}
	j->scan->stats.signals_direct++;
	return true;
}

static void zone_keys_free_all(struct zc_scan *scan)
{
	while (scan->zkeys) {
		struct zone_keys *zk = scan->zkeys;

		scan->zkeys = zk->next;
		while (zk->waiters) {
			struct sigctx *c = zk->waiters;

			zk->waiters = c->next;
			sigctx_free(c);
		}
		ldns_rdf_deep_free(zk->zone);
		ldns_rr_list_deep_free(zk->keys);
		free(zk);
	}
}

static void job_start_signals(struct job *j)
{
	/* held while starting: a lookup that fails at once must not end the job here */
	j->pending++;
	for (unsigned i = 0; i < j->d->n_ns; i++) {
		struct scan_signal *s = &j->signals[j->n_signals++];
		const ldns_rdf *ns = j->d->ns[i].name;
		char text[3 * ZC_DNS_MAX_NAME_TEXT];
		char child[ZC_DNS_MAX_NAME_TEXT], nstext[ZC_DNS_MAX_NAME_TEXT];
		ldns_rdf *name = NULL;

		memset(s, 0, sizeof(*s));
		s->ns_index = i;
		s->in_child = zc_name_is_at_or_below(ns, j->d->child);
		if (s->in_child) {
			continue;
		}
		if (zc_name_to_str(j->d->child, child, sizeof(child)) < 0 ||
		    zc_name_to_str(ns, nstext, sizeof(nstext)) < 0) {
			s->name_too_long = true;
			continue;
		}
		snprintf(text, sizeof(text), "_dsboot.%s_signal.%s", child, nstext);
		if (strlen(text) > 254 || zc_name_from_str(text, &name) < 0) {
			s->name_too_long = true;
			continue;
		}
		for (unsigned t = 0; t < 2; t++) {
			struct sigctx *c = calloc(1, sizeof(*c));

			if (!c || !(c->name = ldns_rdf_clone(name))) {
				free(c);
				s->status[t] = -ENOMEM;
				continue;
			}
			c->job = j;
			c->idx = j->n_signals - 1;
			c->type = t;
			j->pending++;
			if (!j->scan->opts.signal_resolver) {
				signal_resolve(c);
			} else if (!signal_ask_direct(c, i)) {
				signal_plain(c);
			}
		}
		ldns_rdf_deep_free(name);
	}
	j->pending--;
}

/* --- evidence ---------------------------------------------------------- */

/*
 * The evidence is made for every delegation, so it is written straight as compact
 * JSON text into the scan's buffer (no objects built and serialised again).
 * Strings we wrote ourselves (names and rdata in escaped presentation form,
 * addresses, fixed words) are ASCII; they are still escaped as JSON strings.
 */
static void ev_str(struct zc_buf *b, const char *s)
{
	zc_buf_json_str(b, s, strlen(s));
}

/* ,"key": or, as the @first member, {"key": */
static void ev_key(struct zc_buf *b, const char *key, bool first)
{
	zc_buf_put(b, first ? "{\"" : ",\"", 2);
	zc_buf_puts(b, key);
	zc_buf_put(b, "\":", 2);
}

static void ev_uint(struct zc_buf *b, unsigned long long v)
{
	char num[24];
	size_t i = sizeof(num);

	do {
		num[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	zc_buf_put(b, num + i, sizeof(num) - i);
}

static void ev_bool(struct zc_buf *b, bool v)
{
	zc_buf_puts(b, v ? "true" : "false");
}

static void ev_records(struct zc_buf *b, const ldns_rr_list *l, ldns_rr_type type)
{
	zc_buf_put(b, "[", 1);
	for (size_t i = 0; l && i < ldns_rr_list_rr_count(l); i++) {
		const ldns_rr *rr = ldns_rr_list_rr(l, i);
		char buf[512];

		if (i) {
			zc_buf_put(b, ",", 1);
		}
		if (type == LDNS_RR_TYPE_DNSKEY) {
			snprintf(buf, sizeof(buf), "%u %u tag=%u",
				 ldns_rdf2native_int16(ldns_rr_rdf(rr, 0)), zc_rr_algorithm(rr),
				 zc_key_tag(rr));
			ev_str(b, buf);
		} else if (type == LDNS_RR_TYPE_CDS && zc_ds_to_str(rr, buf, sizeof(buf)) == 0) {
			ev_str(b, buf);
		} else {
			char *s = zc_rr_rdata_to_str(rr);

			ev_str(b, s ? s : "");
			free(s);
		}
	}
	zc_buf_put(b, "]", 1);
}

/* RFC 1035 §4.1.1, RFC 2136 §2.2 rcodes by name (the header's four bits). */
static const char *rcode_name(int rcode)
{
	static const char *const names[16] = {
		"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMPL", "REFUSED",
		"YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH", "NOTZONE", "RCODE11",
		"RCODE12", "RCODE13", "RCODE14", "RCODE15",
	};

	return rcode >= 0 && rcode < 16 ? names[rcode] : "?";
}

/* {"status":..[,"rcode":..[,"aa":..]] left open for more members. */
static void ev_status(struct zc_buf *b, int status, int rcode, const bool *aa)
{
	ev_key(b, "status", true);
	if (status != 0) {
		ev_str(b, zc_strerror(status));
		return;
	}
	zc_buf_puts(b, "\"ok\"");
	ev_key(b, "rcode", false);
	ev_str(b, rcode_name(rcode));
	if (aa) {
		ev_key(b, "aa", false);
		ev_bool(b, *aa);
	}
}

/*
 * Where the records of a list were written into the evidence: an answer that
 * shares another's lists (answer_share()) shows the same records, copied.
 */
struct ev_memo {
	const ldns_rr_list *list[SQ_COUNT];
	size_t start[SQ_COUNT], len[SQ_COUNT];
};

static void ev_records_memo(struct zc_buf *b, const ldns_rr_list *l, int t,
			    struct ev_memo *memo)
{
	size_t start = b->len;

	if (l && memo->list[t] == l) {
		zc_buf_repeat(b, memo->start[t], memo->len[t]);
		return;
	}
	ev_records(b, l, apex_types[t]);
	if (l && !b->oom) {
		memo->list[t] = l;
		memo->start[t] = start;
		memo->len[t] = b->len - start;
	}
}

static void ev_server(struct zc_buf *b, const struct job *j, unsigned i, struct ev_memo *memo)
{
	static const char *const type_names[SQ_COUNT] = { "CDS", "CDNSKEY", "DNSKEY" };
	const struct scan_answer *a = &j->answers[i];
	char ns[ZC_DNS_MAX_NAME_TEXT] = "", addr[128] = "";

	(void)zc_name_to_str(j->d->ns[a->ns_index].name, ns, sizeof(ns));
	(void)zc_addr_to_str((const struct sockaddr *)&a->addr, addr, sizeof(addr));
	ev_key(b, "ns", true);
	ev_str(b, ns);
	ev_key(b, "address", false);
	ev_str(b, addr);
	if (a->failures) {
		ev_key(b, "failed_runs", false);
		ev_uint(b, a->failures);
		ev_key(b, "left_out", false);
		ev_bool(b, a->left_out);
	}
	if (j->out.authenticated && i < ZC_ARRAY_SIZE(j->out.answer_security)) {
		/* secure: validated through the DS set; insecure: unsecured delegation */
		ev_key(b, "security", false);
		ev_str(b, zc_security_str(j->out.answer_security[i]));
	}
	for (int t = 0; t < SQ_COUNT; t++) {
		if (!a->asked[t]) {
			continue;
		}
		ev_key(b, type_names[t], false);
		ev_status(b, a->status[t], a->rcode[t], &a->aa[t]);
		if (a->status[t] == 0) {
			ev_key(b, "transport", false);
			zc_buf_puts(b, a->tcp[t] ? "\"tcp\"" : "\"udp\"");
			ev_key(b, "records", false);
			ev_records_memo(b, a->rrset[t], t, memo);
			ev_key(b, "rrsigs", false);
			ev_uint(b, a->rrsig[t] ? ldns_rr_list_rr_count(a->rrsig[t]) : 0);
		}
		zc_buf_put(b, "}", 1);
	}
	zc_buf_put(b, "}", 1);
}

static void ev_signal(struct zc_buf *b, const struct job *j, const struct scan_signal *s)
{
	char ns[ZC_DNS_MAX_NAME_TEXT] = "";

	(void)zc_name_to_str(j->d->ns[s->ns_index].name, ns, sizeof(ns));
	ev_key(b, "ns", true);
	ev_str(b, ns);
	ev_key(b, "in_child", false);
	ev_bool(b, s->in_child);
	for (int t = 0; !s->in_child && !s->name_too_long && t < 2; t++) {
		ev_key(b, t == 0 ? "CDS" : "CDNSKEY", false);
		ev_status(b, s->status[t], s->rcode[t], NULL);
		ev_key(b, "security", false);
		ev_str(b, zc_security_str(s->security[t]));
		ev_key(b, "records", false);
		ev_records(b, s->rrset[t], t == 0 ? LDNS_RR_TYPE_CDS : LDNS_RR_TYPE_CDNSKEY);
		zc_buf_put(b, "}", 1);
	}
	zc_buf_put(b, "}", 1);
}

/* The evidence of @j as a JSON object in the scan's buffer; false without memory. */
static bool job_evidence(const struct job *j, unsigned n_answers, struct zc_buf *b)
{
	struct ev_memo memo = { 0 };

	b->len = 0;
	zc_buf_puts(b, "{\"servers\":[");
	for (unsigned i = 0; i < n_answers; i++) {
		if (i) {
			zc_buf_put(b, ",", 1);
		}
		ev_server(b, j, i, &memo);
	}
	zc_buf_puts(b, j->d->ds_from_dns ? "],\"ds_source\":\"dns\"" : "],\"ds_source\":\"zone\"");
	if (j->n_signals) {
		zc_buf_puts(b, ",\"signals\":[");
		for (unsigned i = 0; i < j->n_signals; i++) {
			if (i) {
				zc_buf_put(b, ",", 1);
			}
			ev_signal(b, j, &j->signals[i]);
		}
		zc_buf_put(b, "]", 1);
	}
	zc_buf_put(b, "}", 1);
	return !b->oom;
}

/* --- job life ---------------------------------------------------------- */

static void job_free(struct job *j)
{
	struct zc_scan *scan = j->scan;

	if (j->prev) {
		j->prev->next = j->next;
	} else {
		scan->jobs = j->next;
	}
	if (j->next) {
		j->next->prev = j->prev;
	}
	if (j->answers) {
		for (unsigned i = 0; i < j->n_targets; i++) {
			scan_answer_release(&j->answers[i]);
		}
		free(j->answers);
	}
	for (unsigned i = 0; i < j->n_signals; i++) {
		scan_signal_release(&j->signals[i]);
	}
	ldns_rr_list_deep_free(j->out.ds_new);
	zc_delegation_free(j->d);
	free(j);
}

static void job_finish(struct job *j, unsigned n_answers)
{
	struct zc_scan *scan = j->scan;
	struct zc_scan_decision dec = {
		.child = j->child,
		.seq = j->d->seq,
		.result = j->out.result,
		.mode = j->out.mode,
		.reasons = j->out.reasons,
		.ds_old = j->d->ds,
		.ds_new = j->out.ds_new,
		.inception = j->out.inception,
		.queries = j->queries,
	};

	j->state = J_DONE;
	job_record(j, scan_now(scan));
	if (job_evidence(j, n_answers, &scan->evidence)) {
		dec.evidence_json = (const char *)scan->evidence.p;
		dec.evidence_len = scan->evidence.len;
	} else {
		/* what came back cannot be shown (memory): the decision still stands */
		zc_buf_release(&scan->evidence);
	}
	scan->stats.delegations++;
	scan->stats.results[dec.result]++;
	scan->cb(&dec, scan->ud);
	job_free(j);
	scan->active--;
	refill(scan);
}

static void job_fail(struct job *j, uint32_t reasons, unsigned n_answers)
{
	memset(&j->out, 0, sizeof(j->out));
	j->out.result = ZC_SCAN_ERROR;
	j->out.reasons = reasons;
	job_finish(j, n_answers);
}

static int addr_cmp(const void *pa, const void *pb)
{
	const struct sockaddr_storage *a = pa, *b = pb;

	if (a->ss_family != b->ss_family) {
		return a->ss_family == AF_INET ? -1 : 1;
	}
	if (a->ss_family == AF_INET) {
		return memcmp(&((const struct sockaddr_in *)a)->sin_addr,
			      &((const struct sockaddr_in *)b)->sin_addr, 4);
	}
	return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
		      &((const struct sockaddr_in6 *)b)->sin6_addr, 16);
}

/*
 * Every address of every nameserver, in a stable order (nameservers as the parent
 * lists them, each one's addresses sorted): the funnel's first address does not
 * depend on the order a resolver returned them in.
 */
static void job_collect_targets(struct job *j)
{
	for (unsigned i = 0; i < j->d->n_ns; i++) {
		qsort(j->ns_addrs[i], j->ns_n_addrs[i], sizeof(j->ns_addrs[i][0]), addr_cmp);
	}
	for (unsigned i = 0; i < j->d->n_ns; i++) {
		for (unsigned a = 0; a < j->ns_n_addrs[i] && j->n_targets < MAX_TARGETS; a++) {
			struct target *t = &j->targets[j->n_targets++];
			const struct sockaddr_storage *ss = &j->ns_addrs[i][a];

			t->ns_index = i;
			t->addr = *ss;
			t->len = ss->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) :
							      sizeof(struct sockaddr_in);
		}
	}
}

static bool probe_empty(const struct scan_answer *a)
{
	for (int t = SQ_CDS; t <= SQ_CDNSKEY; t++) {
		if (a->status[t] != 0 || a->rcode[t] != LDNS_RCODE_NOERROR || !a->aa[t] ||
		    ldns_rr_list_rr_count(a->rrset[t]) != 0) {
			return false;
		}
	}
	return true;
}

static bool probe_answered(const struct scan_answer *a)
{
	for (int t = SQ_CDS; t <= SQ_CDNSKEY; t++) {
		if (a->status[t] != 0 || a->rcode[t] != LDNS_RCODE_NOERROR || !a->aa[t]) {
			return false;
		}
	}
	return true;
}

/*
 * What the store knows of the child: the inception of the last applied change
 * (S10) and, for accept-after-delay (S7), since when the same DS set has been
 * asked for. Returns 0, or an error when replay protection cannot be ensured.
 */
static int job_store_state(struct job *j, struct scan_input *in)
{
	struct zc_store *st = j->scan->opts.store;
	const struct zc_scan_policy *p = &j->scan->opts.policy;
	struct zc_child_state cs = { 0 };
	int r;

	if (!st) {
		return 0;
	}
	r = zc_store_child_get(st, j->child, &cs);
	if (r == 0) {
		in->have_last_inception = cs.last_inception != 0;
		in->last_inception = cs.last_inception;
		zc_child_state_release(&cs);
	} else if (r != ZC_ENOTFOUND) {
		zc_log(j->scan->ctx, ZC_LOG_ERR, "child '%s', store read failed (%s)", j->child,
		       zc_strerror(r));
		return r;
	}
	if (p->accept_after_delay_ms && j->out.mode == ZC_SCAN_MODE_BOOTSTRAP && j->out.ds_new) {
		struct zc_observation obs;
		char *fp = NULL;

		r = zc_apply_ds_text(j->out.ds_new, &fp);
		if (r == 0) {
			r = zc_store_observe(st, j->child, fp, (int64_t)in->now, &obs);
		}
		free(fp);
		if (r < 0) {
			return r;
		}
		/* RFC 8078 §3.3: the same request, seen over several runs, for the delay */
		in->delay_elapsed = obs.count >= 2 &&
				    (uint64_t)(in->now - obs.first_seen) * 1000 >= p->accept_after_delay_ms;
	}
	return 0;
}

/* S10 bookkeeping when the change is handed on outside the journal. */
static void job_record(struct job *j, time_t now)
{
	struct zc_store *st = j->scan->opts.store;
	char *text = NULL;
	int r;

	if (!st || !j->scan->opts.record ||
	    (j->out.result != ZC_SCAN_UPDATE && j->out.result != ZC_SCAN_DELETE)) {
		return;
	}
	r = zc_apply_ds_text(j->out.ds_new, &text);
	if (r == 0) {
		r = zc_store_child_set_applied(st, j->child, j->out.inception, text, (int64_t)now);
	}
	if (r == 0 && j->out.mode == ZC_SCAN_MODE_BOOTSTRAP) {
		r = zc_store_observe_clear(st, j->child);
	}
	free(text);
	if (r < 0) {
		zc_log(j->scan->ctx, ZC_LOG_ERR, "child '%s', recording the change failed (%s)",
		       j->child, zc_strerror(r));
	}
}

/*
 * S3 (RFC 9975 §3): a server that does not answer is retried on later runs; one
 * that kept failing for `leave_out_after` runs in a row is left out, and the
 * decision is made over the others. Without a store every failure counts.
 */
static void job_server_backoff(struct job *j, time_t now)
{
	struct zc_store *st = j->scan->opts.store;
	unsigned limit = j->scan->opts.policy.leave_out_after;
	unsigned backing_off = 1;

	if (!st) {
		return;
	}
	/* nearly always none: then an answer has nothing to clear (one read, not one each) */
	if (zc_store_servers_backing_off(st, j->child, &backing_off) < 0) {
		backing_off = 1; /* ask per server, which reports what fails */
	}
	for (unsigned i = 0; i < j->n_targets; i++) {
		struct scan_answer *a = &j->answers[i];
		char addr[128];
		uint32_t reasons = 0;
		bool usable = scan_answer_usable(a, &reasons);
		int r;

		if ((usable && !backing_off) ||
		    zc_addr_to_str((const struct sockaddr *)&a->addr, addr, sizeof(addr)) < 0) {
			continue;
		}
		if (usable) {
			r = zc_store_server_success(st, j->child, addr);
		} else {
			r = zc_store_server_failure(st, j->child, addr, (int64_t)now, NULL,
						    &a->failures);
			a->left_out = r == 0 && limit && a->failures >= limit;
		}
		if (r < 0) {
			zc_log(j->scan->ctx, ZC_LOG_WARNING,
			       "child '%s', server %s, back-off state not saved (%s)", j->child, addr,
			       zc_strerror(r));
		}
	}
}

static void job_decide(struct job *j)
{
	struct scan_input in = {
		.d = j->d,
		.policy = &j->scan->opts.policy,
		.answers = j->answers,
		.n_answers = j->n_targets,
		.signals = j->signals,
		.n_signals = j->n_signals,
		.now = scan_now(j->scan),
		.sigcache = j->scan->sigcache,
	};

	if (j->state == J_FULL) {
		job_server_backoff(j, in.now);
		if (scan_prepare(&in, &j->out)) {
			job_finish(j, j->n_targets);
			return;
		}
		if (j->out.mode == ZC_SCAN_MODE_BOOTSTRAP && j->scan->opts.policy.bootstrap) {
			j->state = J_SIGNAL;
			job_start_signals(j);
			if (j->pending) {
				return;
			}
		}
	}
	if (job_store_state(j, &in) < 0) {
		ldns_rr_list_deep_free(j->out.ds_new);
		j->out.ds_new = NULL;
		j->out.result = ZC_SCAN_ERROR;
		j->out.reasons = 1u << ZC_R_STORE_FAILED;
	} else {
		scan_authenticate(&in, &j->out);
	}
	job_finish(j, j->n_targets);
}

/* Stage 3: CDS, CDNSKEY and DNSKEY at every address (what the probe has not asked). */
static void job_start_full(struct job *j)
{
	j->state = J_FULL;
	for (unsigned i = 0; i < j->n_targets; i++) {
		for (int t = 0; t < SQ_COUNT; t++) {
			if (!j->answers[i].asked[t]) {
				job_query(j, i, t);
			}
		}
	}
	if (j->pending == 0) {
		job_decide(j);
	}
}

static void job_step(struct job *j)
{
	switch (j->state) {
	case J_DS:
		/* handled by on_ds(); falls to J_ADDR there */
		break;
	case J_ADDR:
		if (j->ns_addr_pending) {
			return;
		}
		job_collect_targets(j);
		if (j->n_targets == 0) {
			job_fail(j, 1u << ZC_R_NO_ADDRESS, 0);
			return;
		}
		j->answers = calloc(j->n_targets, sizeof(*j->answers));
		if (!j->answers) {
			job_fail(j, 1u << ZC_R_MALFORMED, 0);
			return;
		}
		for (unsigned i = 0; i < j->n_targets; i++) {
			j->answers[i].ns_index = j->targets[i].ns_index;
			j->answers[i].addr = j->targets[i].addr;
			j->answers[i].addr_len = j->targets[i].len;
		}
		if (j->scan->opts.probe_all) {
			j->state = J_PROBE;
			j->probe = j->n_targets - 1; /* as if every probe found something */
			job_start_full(j);
			return;
		}
		j->state = J_PROBE;
		j->probe = 0;
		job_query(j, 0, SQ_CDS);
		job_query(j, 0, SQ_CDNSKEY);
		if (j->pending == 0) {
			job_fail(j, 1u << ZC_R_UNREACHABLE, 1);
		}
		return;
	case J_PROBE: {
		struct scan_answer *a = &j->answers[j->probe];

		if (probe_empty(a)) {
			/* The common case: nothing published at the first server that answers. */
			memset(&j->out, 0, sizeof(j->out));
			j->out.result = ZC_SCAN_NO_CDS;
			job_finish(j, j->probe + 1);
			return;
		}
		if (!probe_answered(a) && j->probe + 1 < j->n_targets) {
			j->probe++;
			job_query(j, j->probe, SQ_CDS);
			job_query(j, j->probe, SQ_CDNSKEY);
			if (j->pending) {
				return;
			}
		}
		/* Something is published (or nobody answers): ask everything everywhere. */
		job_start_full(j);
		return;
	}
	case J_FULL:
	case J_SIGNAL:
		job_decide(j);
		return;
	case J_DONE:
		return;
	}
}

static void job_resolve_addrs(struct job *j)
{
	j->state = J_ADDR;
	j->ns_addr_pending = 1; /* held while starting lookups */
	for (unsigned i = 0; i < j->d->n_ns; i++) {
		struct zc_scan_ns *ns = &j->d->ns[i];

		if (ns->n_glue) {
			for (unsigned a = 0; a < ns->n_glue; a++) {
				j->ns_addrs[i][a] = ns->glue[a];
			}
			j->ns_n_addrs[i] = ns->n_glue;
			continue;
		}
		if (job_want_addr(j, i)) {
			j->ns_addr_pending++;
		}
	}
	if (--j->ns_addr_pending == 0) {
		job_step(j);
	}
}

static void on_ds(const struct zc_resolved *r, void *ud)
{
	struct job *j = ud;

	j->pending--;
	if (r->status != 0 || r->security == ZC_SEC_BOGUS || r->security == ZC_SEC_INDETERMINATE ||
	    (r->rcode != LDNS_RCODE_NOERROR && r->rcode != LDNS_RCODE_NXDOMAIN)) {
		job_fail(j, 1u << ZC_R_DS_LOOKUP_FAILED, 0);
		return;
	}
	ldns_rr_list_deep_free(j->d->ds);
	j->d->ds = zc_rrset_extract(ldns_pkt_answer(r->pkt), j->d->child, LDNS_RR_TYPE_DS);
	if (!j->d->ds) {
		job_fail(j, 1u << ZC_R_DS_LOOKUP_FAILED, 0);
		return;
	}
	job_resolve_addrs(j);
}

static void job_start(struct zc_scan *scan, struct zc_delegation *d)
{
	struct job *j = malloc(sizeof(*j));

	if (!j) {
		zc_delegation_free(d);
		return;
	}
	memset(j, 0, JOB_ZEROED);
	j->scan = scan;
	j->d = d;
	if (zc_name_to_str(d->child, j->child, sizeof(j->child)) < 0) {
		snprintf(j->child, sizeof(j->child), "?");
	}
	j->next = scan->jobs;
	if (j->next) {
		j->next->prev = j;
	}
	scan->jobs = j;
	scan->active++;
	if (!d->ds) {
		d->ds = ldns_rr_list_new();
	}
	if (d->ds_from_dns) {
		j->state = J_DS;
		if (!scan->res || zc_resolver_resolve(scan->res, d->child, LDNS_RR_TYPE_DS, on_ds, j) < 0) {
			job_fail(j, 1u << ZC_R_DS_LOOKUP_FAILED, 0);
			return;
		}
		j->pending++;
		return;
	}
	job_resolve_addrs(j);
}

/* Keeps `concurrency` jobs running while the source has delegations. */
static void refill(struct zc_scan *scan)
{
	if (scan->refilling) {
		return;
	}
	scan->refilling = true;
	while (!scan->src_done && scan->active < scan->opts.concurrency) {
		struct zc_delegation *d = NULL;
		int r = scan->src->next(scan->src, &d);

		if (r == ZC_SCAN_SOURCE_LATER) {
			if (scan->active > 0) {
				break; /* asked again when one of them is decided */
			}
			zc_log(scan->ctx, ZC_LOG_ERR,
			       "scan input: asked to wait with no delegation in progress");
			r = -EIO;
		}
		if (r != 0) {
			scan->src_done = true;
			if (r < 0) {
				scan->src_err = r;
			}
			break;
		}
		job_start(scan, d);
	}
	scan->refilling = false;
	if (scan->src_done && scan->active == 0) {
		event_base_loopbreak(scan->base);
	}
}

int zc_scan_run(struct zc_scan *scan, struct zc_scan_source *src)
{
	if (!scan || !src) {
		return -EINVAL;
	}
	scan->src = src;
	scan->src_done = false;
	scan->src_err = 0;
	refill(scan);
	while (!(scan->src_done && scan->active == 0)) {
		int r = event_base_dispatch(scan->base);

		if (r < 0) {
			return -EIO;
		}
		if (r == 1 && scan->active > 0) {
			/* no events left but jobs unfinished: a bug, never wait forever */
			zc_log(scan->ctx, ZC_LOG_ERR, "scan stalled with %u delegations in progress",
			       scan->active);
			return -EIO;
		}
		refill(scan);
	}
	scan->src = NULL;
	{
		struct zc_sig_cache_stats cs;

		zc_sig_cache_get_stats(scan->sigcache, &cs);
		zc_log(scan->ctx, ZC_LOG_DEBUG,
		       "this scan: %llu delegations decided, %llu queries; %llu answers with "
		       "records the same as another address's (parsed once)",
		       (unsigned long long)scan->stats.delegations,
		       (unsigned long long)scan->stats.queries,
		       (unsigned long long)scan->stats.answers_shared);
		zc_log(scan->ctx, ZC_LOG_DEBUG,
		       "signatures: %llu verified, %llu answered by the cache; public keys: "
		       "%llu built, %llu reused",
		       (unsigned long long)cs.misses, (unsigned long long)cs.hits,
		       (unsigned long long)cs.key_builds, (unsigned long long)cs.key_hits);
		zc_log(scan->ctx, ZC_LOG_DEBUG,
		       "RFC 9615 signals: %llu checked with the signer's keys, %llu validated by "
		       "the resolver; %llu asked at their own nameserver first, %llu of them "
		       "checked from its answer",
		       (unsigned long long)scan->stats.signals_checked,
		       (unsigned long long)scan->stats.signals_resolved,
		       (unsigned long long)scan->stats.signals_direct,
		       (unsigned long long)scan->stats.signals_direct_taken);
	}
	return scan->src_err;
}

unsigned zc_scan_in_progress(const struct zc_scan *scan)
{
	return scan ? scan->active : 0;
}

void zc_scan_get_stats(const struct zc_scan *scan, struct zc_scan_stats *ret)
{
	*ret = scan->stats;
}

void zc_scan_free(struct zc_scan *scan)
{
	if (!scan) {
		return;
	}
	while (scan->jobs) {
		job_free(scan->jobs);
	}
	for (size_t b = 0; b < ADDR_CACHE_BUCKETS; b++) {
		struct addr_entry *e = scan->buckets[b];

		while (e) {
			struct addr_entry *next = e->next;

			while (e->waiters) {
				struct addr_waiter *w = e->waiters;

				e->waiters = w->next;
				free(w);
			}
			entry_free(e);
			e = next;
		}
	}
	zone_keys_free_all(scan);
	zc_sig_cache_free(scan->sigcache);
	zc_buf_release(&scan->evidence);
	free(scan);
}
