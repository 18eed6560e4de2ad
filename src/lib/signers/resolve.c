/* SPDX-License-Identifier: MIT */
/*
 * The authoritative servers of a signer: the addresses given with its ns names,
 * and for a name given without addresses, what the validating resolver answers
 * for it (A and AAAA), asked once per pass. The controller is blocking, so the
 * resolver gets a libevent loop of its own that runs only while a name is looked
 * up. A name that gives no address is an error of that pass, never a smaller
 * set of servers: a write read back from fewer servers than the signer has would
 * count as done while a server still lacks it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <stdio.h>
#include <string.h>

#include <zonecut/apply.h>

#include "signers/internal.h"

/* Beyond the resolver's own bound: the loop is left even if a callback never came. */
#define DNS_GUARD_MS 2000

struct sgn_dns {
	struct event_base *base;
	struct zc_resolver *res;
};

static const char *const source_names[] = {
	[SGN_SRC_CONFIG] = "config",
	[SGN_SRC_DNS] = "dns",
	[SGN_SRC_SERVER] = "server",
};

const char *sgn_source_str(enum sgn_source s)
{
	return (unsigned)s < ZC_ARRAY_SIZE(source_names) ? source_names[s] : "?";
}

void sgn_dns_free(struct zc_signers *c)
{
	if (!c->dns) {
		return;
	}
	zc_resolver_free(c->dns->res);
	if (c->dns->base) {
		event_base_free(c->dns->base);
	}
	free(c->dns);
	c->dns = NULL;
}

static unsigned dns_timeout_ms(const struct zc_signers *c)
{
	if (c->o.resolver && c->o.resolver->timeout_ms) {
		return c->o.resolver->timeout_ms;
	}
	return 3 * c->o.timeout_ms;
}

/* The loop and the resolver, made on first use (nothing to resolve: never). */
static int dns_ensure(struct zc_signers *c, char *why, size_t whylen)
{
	struct zc_resolver_opts ro = { 0 };
	int r;

	if (c->dns && c->dns->res) {
		return 0;
	}
	if (!c->dns) {
		c->dns = calloc(1, sizeof(*c->dns));
		if (!c->dns) {
			return -ENOMEM;
		}
	}
	if (!c->dns->base) {
		c->dns->base = event_base_new();
		if (!c->dns->base) {
			return -ENOMEM;
		}
	}
	if (c->o.resolver) {
		ro = *c->o.resolver;
	}
	ro.timeout_ms = dns_timeout_ms(c);
	r = zc_resolver_new(c->ctx, c->dns->base, &ro, &c->dns->res);
	if (r < 0) {
		snprintf(why, whylen,
			 "the resolver cannot be set up (%s: check the trust anchor, "
			 "root hints and forwarders)",
			 zc_strerror(r));
		c->dns->res = NULL;
	}
	return r;
}

/* One lookup (A or AAAA) of a name, filled by its callback. */
struct lk {
	ldns_rr_type type;
	bool done;
	int status, rcode;
	enum zc_security sec;
	char why_bogus[256];
	char addrs[ZC_SIGNERS_MAX_ADDRS][SGN_ADDR_LEN];
	unsigned n;
	bool more; /* more addresses than fit */
};

static void on_resolved(const struct zc_resolved *res, void *ud)
{
	struct lk *l = ud;
	const ldns_rr_list *an = res->pkt ? ldns_pkt_answer(res->pkt) : NULL;

	l->done = true;
	l->status = res->status;
	l->rcode = res->rcode;
	l->sec = res->security;
	snprintf(l->why_bogus, sizeof(l->why_bogus), "%s", res->why_bogus ? res->why_bogus : "");
	for (size_t i = 0; res->status == 0 && an && i < ldns_rr_list_rr_count(an); i++) {
		const ldns_rr *rr = ldns_rr_list_rr(an, i);
		const ldns_rdf *rd = ldns_rr_rdf(rr, 0);
		char text[INET6_ADDRSTRLEN];
		int af = l->type == LDNS_RR_TYPE_A ? AF_INET : AF_INET6;
		size_t want = l->type == LDNS_RR_TYPE_A ? 4 : 16;

		/* the answer's chain ends in the name's addresses (an alias is followed) */
		if (ldns_rr_get_type(rr) != l->type || !rd || ldns_rdf_size(rd) != want ||
		    !inet_ntop(af, ldns_rdf_data(rd), text, sizeof(text))) {
			continue;
		}
		if (l->n == ZC_SIGNERS_MAX_ADDRS) {
			l->more = true;
			continue;
		}
		snprintf(l->addrs[l->n++], SGN_ADDR_LEN, "%s@53", text);
	}
}

/* Why lookup @l gave no usable answer; 0 when it did. */
static int lk_error(const struct lk *l, const char *name, char *why, size_t whylen)
{
	const char *tn = l->type == LDNS_RR_TYPE_A ? "A" : "AAAA";

	if (!l->done || l->status == ZC_ETIMEOUT) {
		snprintf(why, whylen, "%s %s: no answer from the resolver (timeout)", name, tn);
		return ZC_ETIMEOUT;
	}
	if (l->status < 0) {
		snprintf(why, whylen, "%s %s: the resolver failed (%s)", name, tn,
			 zc_strerror(l->status));
		return l->status;
	}
	if (l->sec == ZC_SEC_BOGUS) {
		snprintf(why, whylen, "%s %s: DNSSEC validation failed (%s)", name, tn,
			 l->why_bogus[0] ? l->why_bogus : "bogus");
		return ZC_EBOGUS;
	}
	if (l->rcode != LDNS_RCODE_NOERROR) {
		snprintf(why, whylen, "%s %s: %s", name, tn, zc_rcode_str(l->rcode));
		return ZC_ERESOLV;
	}
	return 0;
}

int sgn_resolve_real(void *ud, const char *name, char (*out)[SGN_ADDR_LEN], unsigned max,
		     unsigned *ret_n, enum zc_security *ret_sec, char *why, size_t whylen)
{
	struct zc_signers *c = ud;
	struct lk lks[2] = { { .type = LDNS_RR_TYPE_A }, { .type = LDNS_RR_TYPE_AAAA } };
	ldns_rdf *qname = NULL;
	uint64_t guard;
	unsigned n = 0;
	bool secure = true;
	int r;

	r = zc_name_from_str(name, &qname);
	if (r < 0) {
		snprintf(why, whylen, "'%s' is not a domain name", name);
		return r;
	}
	r = dns_ensure(c, why, whylen);
	for (int i = 0; r == 0 && i < 2; i++) {
		r = zc_resolver_resolve(c->dns->res, qname, lks[i].type, on_resolved, &lks[i]);
		if (r < 0) {
			snprintf(why, whylen, "%s: the lookup could not start (%s)", name,
				 zc_strerror(r));
		}
	}
	ldns_rdf_deep_free(qname);
	guard = zc_now_mono_ms() + dns_timeout_ms(c) + DNS_GUARD_MS;
	/* each lookup has its own timer in the resolver: the loop always has an event */
	while (r == 0 && !(lks[0].done && lks[1].done) && zc_now_mono_ms() < guard) {
		if (event_base_loop(c->dns->base, EVLOOP_ONCE) < 0) {
			break;
		}
	}
	if (r < 0 || !(lks[0].done && lks[1].done)) {
		/* lookups may still point at @lks: cancel them with the resolver */
		if (c->dns) {
			zc_resolver_free(c->dns->res);
			c->dns->res = NULL;
		}
		if (r == 0) {
			snprintf(why, whylen, "%s: no answer from the resolver (timeout)", name);
			r = ZC_ETIMEOUT;
		}
		return r;
	}
	/* both must answer: a failed AAAA lookup may hide the address that lags */
	for (int i = 0; i < 2; i++) {
		r = lk_error(&lks[i], name, why, whylen);
		if (r < 0) {
			return r;
		}
	}
	for (int i = 0; i < 2; i++) {
		if (lks[i].more) {
			snprintf(why, whylen,
				 "%s has more addresses than the %d a nameserver may have", name,
				 ZC_SIGNERS_MAX_ADDRS);
			return ZC_ELIMIT;
		}
		secure = secure && lks[i].sec == ZC_SEC_SECURE;
		for (unsigned k = 0; k < lks[i].n; k++) {
			if (n == max) {
				snprintf(why, whylen,
					 "%s has more addresses than the %u a nameserver "
					 "may have",
					 name, max);
				return ZC_ELIMIT;
			}
			memcpy(out[n++], lks[i].addrs[k], SGN_ADDR_LEN);
		}
	}
	*ret_n = n;
	*ret_sec = secure ? ZC_SEC_SECURE : ZC_SEC_INSECURE;
	return 0;
}

/* --- the pass's answers ---------------------------------------------------------- */

void sgn_ns_cache_clear(struct zc_signers *c)
{
	while (c->ns_cache) {
		struct sgn_ns_entry *e = c->ns_cache;

		c->ns_cache = e->next;
		free(e);
	}
}

const struct sgn_ns_entry *sgn_ns_resolve(struct zc_signers *c, const char *name)
{
	struct sgn_ns_entry *e;

	for (e = c->ns_cache; e; e = e->next) {
		if (strcmp(e->name, name) == 0) {
			return e;
		}
	}
	e = calloc(1, sizeof(*e));
	if (!e) {
		return NULL;
	}
	snprintf(e->name, sizeof(e->name), "%s", name);
	if (!c->io->resolve) {
		e->status = ZC_ENOTSUP;
		snprintf(e->why, sizeof(e->why), "%s: no resolver to ask", name);
	} else {
		e->status = c->io->resolve(c->io_ud, name, e->addrs, ZC_SIGNERS_MAX_ADDRS,
					   &e->n_addrs, &e->sec, e->why, sizeof(e->why));
		if (e->status == -ENOMEM) {
			free(e);
			return NULL;
		}
		if (e->status == 0 && e->n_addrs == 0) {
			e->status = ZC_ERESOLV;
			snprintf(e->why, sizeof(e->why), "%s has no A or AAAA record", name);
		}
		if (e->status < 0 && !e->why[0]) {
			snprintf(e->why, sizeof(e->why), "%s (%s)", name, zc_strerror(e->status));
		}
	}
	if (e->status < 0) {
		e->n_addrs = 0;
		/* not logged louder here: the step that needed it says why (retry) */
		zc_log(c->ctx, ZC_LOG_DEBUG, "nameserver %s gives no address (%s)", name, e->why);
	} else {
		zc_log(c->ctx, ZC_LOG_DEBUG, "nameserver %s resolved to %u address(es), %s", name,
		       e->n_addrs, zc_security_str(e->sec));
	}
	e->next = c->ns_cache;
	c->ns_cache = e;
	return e;
}

static void add_server(struct sgn_server *out, unsigned max, unsigned *n, const char *addr,
		       const char *ns, enum sgn_source src)
{
	for (unsigned k = 0; k < *n; k++) {
		if (strcmp(out[k].addr, addr) == 0) {
			return;
		}
	}
	if (*n < max) {
		out[(*n)++] = (struct sgn_server){ .addr = addr, .ns = ns, .source = src };
	}
}

int sgn_servers(struct zc_signers *c, const struct zc_signer *s, struct sgn_server *out,
		unsigned max, unsigned *ret_n, char *why, size_t whylen)
{
	unsigned n = 0;
	int err = 0;

	for (unsigned i = 0; i < s->n_ns; i++) {
		const struct sgn_ns_entry *e;

		for (unsigned j = 0; j < s->ns[i].n_addrs; j++) {
			add_server(out, max, &n, s->ns[i].addrs[j], s->ns[i].name, SGN_SRC_CONFIG);
		}
		if (s->ns[i].n_addrs > 0) {
			continue;
		}
		e = sgn_ns_resolve(c, s->ns[i].name);
		if (!e) {
			return -ENOMEM;
		}
		if (e->status < 0) {
			/* the first failure is the one reported; the others are in status */
			if (err == 0) {
				err = e->status;
				snprintf(why, whylen,
					 "signer '%s': nameserver %s gives no address to read back "
					 "from (%s)",
					 s->name, s->ns[i].name, e->why);
			}
			continue;
		}
		for (unsigned j = 0; j < e->n_addrs; j++) {
			add_server(out, max, &n, e->addrs[j], s->ns[i].name, SGN_SRC_DNS);
		}
	}
	/* No ns name at all to ask (cannot be configured, but never read from nobody). */
	if (n == 0 && err == 0 && s->driver == ZC_SIGNER_RFC2136 && max > 0) {
		out[n++] = (struct sgn_server){ .addr = s->server, .source = SGN_SRC_SERVER };
	}
	*ret_n = n;
	return err;
}
