/* SPDX-License-Identifier: MIT */
/*
 * The validating resolver: libunbound attached to our libevent loop
 * (ub_ctx_create_event), configured from a trust anchor file, root hints and/or
 * forwarders. Every answer comes back with its security status and, when bogus,
 * unbound's reason. An overall timer bounds each lookup.
 */
#include <errno.h>
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>
#include <unbound-event.h>
#include <unbound.h>

#include "util/internal.h"
#include <zonecut/dns.h>
#include <zonecut/net.h>

#define RESOLVER_DEFAULT_TIMEOUT_MS 15000

struct zc_resolver;

struct lookup {
	struct zc_resolver *res;
	struct lookup *next, *prev;
	struct event *timer;
	int async_id;
	bool done;     /* libunbound answered; outcome below */
	int rcode;
	int sec;
	ldns_pkt *pkt;
	char *why_bogus;
	zc_resolve_cb cb;
	void *ud;
	ldns_rr_type type;
};

struct zc_resolver {
	struct zc_ctx *ctx;
	struct event_base *base;
	struct ub_ctx *ub;
	unsigned timeout_ms;
	struct lookup *lookups; /* in flight */
};

const char *zc_security_str(enum zc_security sec)
{
	switch (sec) {
	case ZC_SEC_SECURE:
		return "secure";
	case ZC_SEC_INSECURE:
		return "insecure";
	case ZC_SEC_BOGUS:
		return "bogus";
	default:
		return "indeterminate";
	}
}

static int ub_opt(struct zc_resolver *res, const char *name, const char *value)
{
	int r = ub_ctx_set_option(res->ub, name, value);

	if (r != 0) {
		zc_log(res->ctx, ZC_LOG_ERR, "resolver option '%s %s' rejected (%s)", name, value,
		       ub_strerror(r));
		return ZC_ECONFIG;
	}
	return 0;
}

/* Splits "name: value" into the two parts unbound wants ("name:", "value"). */
static int ub_opt_line(struct zc_resolver *res, const char *line)
{
	const char *colon = strchr(line, ':');
	char name[128];
	size_t n;

	if (!colon || (n = (size_t)(colon - line + 1)) >= sizeof(name)) {
		zc_log(res->ctx, ZC_LOG_ERR, "resolver option '%s' is not 'name: value'", line);
		return ZC_ECONFIG;
	}
	memcpy(name, line, n);
	name[n] = '\0';
	colon++;
	while (*colon == ' ') {
		colon++;
	}
	return ub_opt(res, name, colon);
}

static int resolver_configure(struct zc_resolver *res, const struct zc_resolver_opts *o)
{
	/*
	 * Special-use TLDs that unbound answers locally by default; testbeds use them.
	 * A "local-zone: ... nodefault" set through ub_ctx_set_option() has no effect
	 * in libunbound 1.17, so the zones are removed instead, after every other
	 * setting (removing a zone finalizes the context).
	 */
	static const char *const local_defaults[] = { "test.", "invalid.", "onion.",
						      "home.arpa." };
	int r;

	/* Authoritative servers under test may live on loopback addresses. */
	r = ub_opt(res, "do-not-query-localhost:", "no");
	if (r == 0 && o->tcp_only) {
		r = ub_opt(res, "tcp-upstream:", "yes");
	}
	if (r == 0 && o->root_hints) {
		r = ub_opt(res, "root-hints:", o->root_hints);
	}
	if (r == 0 && o->trust_anchor_file) {
		int u = ub_ctx_add_ta_file(res->ub, o->trust_anchor_file);

		if (u != 0) {
			zc_log(res->ctx, ZC_LOG_ERR, "trust anchor file '%s' not usable (%s)",
			       o->trust_anchor_file, ub_strerror(u));
			r = ZC_ECONFIG;
		}
	}
	for (const char *const *f = o->forward; r == 0 && f && *f; f++) {
		int u = ub_ctx_set_fwd(res->ub, *f);

		if (u != 0) {
			zc_log(res->ctx, ZC_LOG_ERR, "forwarder '%s' not usable (%s)", *f,
			       ub_strerror(u));
			r = ZC_ECONFIG;
		}
	}
	for (const char *const *opt = o->options; r == 0 && opt && *opt; opt++) {
		r = ub_opt_line(res, *opt);
	}
	for (size_t i = 0; r == 0 && i < ZC_ARRAY_SIZE(local_defaults); i++) {
		int u = ub_ctx_zone_remove(res->ub, local_defaults[i]);

		if (u != 0) {
			zc_log(res->ctx, ZC_LOG_ERR, "resolver set-up failed (%s)", ub_strerror(u));
			r = ZC_ECONFIG;
		}
	}
	return r;
}

int zc_resolver_new(struct zc_ctx *ctx, struct event_base *base, const struct zc_resolver_opts *opts,
		    struct zc_resolver **ret_res)
{
	static const struct zc_resolver_opts defaults;
	struct zc_resolver *res;
	int r;

	if (!base || !ret_res) {
		return -EINVAL;
	}
	if (!opts) {
		opts = &defaults;
	}
	res = calloc(1, sizeof(*res));
	if (!res) {
		return -ENOMEM;
	}
	res->ctx = ctx;
	res->base = base;
	res->timeout_ms = opts->timeout_ms ? opts->timeout_ms : RESOLVER_DEFAULT_TIMEOUT_MS;
	res->ub = ub_ctx_create_event(base);
	if (!res->ub) {
		free(res);
		return -ENOMEM;
	}
	r = resolver_configure(res, opts);
	if (r < 0) {
		zc_resolver_free(res);
		return r;
	}
	*ret_res = res;
	return 0;
}

static void lookup_unlink_free(struct lookup *l)
{
	struct zc_resolver *res = l->res;

	if (l->prev) {
		l->prev->next = l->next;
	} else {
		res->lookups = l->next;
	}
	if (l->next) {
		l->next->prev = l->prev;
	}
	if (l->timer) {
		event_free(l->timer);
	}
	ldns_pkt_free(l->pkt);
	free(l->why_bogus);
	free(l);
}

void zc_resolver_free(struct zc_resolver *res)
{
	if (!res) {
		return;
	}
	while (res->lookups) {
		struct lookup *l = res->lookups;

		(void)ub_cancel(res->ub, l->async_id);
		lookup_unlink_free(l);
	}
	ub_ctx_delete(res->ub);
	free(res);
}

static bool has_answer_type(const ldns_pkt *pkt, ldns_rr_type type)
{
	const ldns_rr_list *an = ldns_pkt_answer(pkt);

	for (size_t i = 0; i < ldns_rr_list_rr_count(an); i++) {
		if (ldns_rr_get_type(ldns_rr_list_rr(an, i)) == type) {
			return true;
		}
	}
	return false;
}

/* Hands the stored outcome (or a timeout) to the caller and frees the lookup. */
static void lookup_deliver(struct lookup *l)
{
	struct zc_resolved out = { 0 };

	if (!l->done) {
		out.status = ZC_ETIMEOUT;
		(void)ub_cancel(l->res->ub, l->async_id);
	} else {
		out.rcode = l->rcode;
		out.status = l->pkt ? 0 : ZC_ERESOLV;
		out.pkt = l->pkt;
		out.havedata = l->pkt && has_answer_type(l->pkt, l->type);
		out.why_bogus = l->why_bogus;
		switch (l->sec) {
		case 2:
			out.security = ZC_SEC_SECURE;
			break;
		case 1:
			out.security = ZC_SEC_BOGUS;
			break;
		default:
			out.security = l->pkt ? ZC_SEC_INSECURE : ZC_SEC_INDETERMINATE;
			break;
		}
		/* A SERVFAIL that is not a validation failure says nothing about security. */
		if (out.rcode == LDNS_RCODE_SERVFAIL && out.security != ZC_SEC_BOGUS) {
			out.security = ZC_SEC_INDETERMINATE;
		}
	}
	l->cb(&out, l->ud);
	lookup_unlink_free(l);
}

/*
 * libunbound's callback. It may run inside ub_resolve_event() (answers from cache
 * or local data), so the outcome is stored and delivered from the loop.
 */
static void on_answer(void *mydata, int rcode, void *packet, int packet_len, int sec,
		      char *why_bogus, int was_ratelimited)
{
	struct lookup *l = mydata;
	struct timeval now = { 0, 0 };

	(void)was_ratelimited;
	if (l->done) {
		return;
	}
	l->done = true;
	l->rcode = rcode;
	l->sec = sec;
	if (packet && packet_len > 0 &&
	    zc_pkt_from_wire(packet, (size_t)packet_len, &l->pkt) == 0) {
		l->rcode = ldns_pkt_get_rcode(l->pkt);
	}
	if (sec == 1 && why_bogus) {
		l->why_bogus = strdup(why_bogus);
	}
	evtimer_del(l->timer);
	evtimer_add(l->timer, &now);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	lookup_deliver(arg);
}

int zc_resolver_resolve(struct zc_resolver *res, const ldns_rdf *name, ldns_rr_type type,
			zc_resolve_cb cb, void *userdata)
{
	char qname[ZC_DNS_MAX_NAME_TEXT];
	struct timeval tv;
	struct lookup *l;
	int r;

	if (!res || !name || !cb) {
		return -EINVAL;
	}
	r = zc_name_to_str(name, qname, sizeof(qname));
	if (r < 0) {
		return r;
	}
	l = calloc(1, sizeof(*l));
	if (!l) {
		return -ENOMEM;
	}
	l->res = res;
	l->cb = cb;
	l->ud = userdata;
	l->type = type;
	l->timer = evtimer_new(res->base, on_timer, l);
	if (!l->timer) {
		free(l);
		return -ENOMEM;
	}
	l->next = res->lookups;
	if (l->next) {
		l->next->prev = l;
	}
	res->lookups = l;
	r = ub_resolve_event(res->ub, qname, type, LDNS_RR_CLASS_IN, l, on_answer, &l->async_id);
	if (r != 0) {
		zc_log(res->ctx, ZC_LOG_ERR, "lookup of '%s' failed to start (%s)", qname,
		       ub_strerror(r));
		lookup_unlink_free(l);
		return ZC_ERESOLV;
	}
	if (!l->done) {
		tv.tv_sec = res->timeout_ms / 1000;
		tv.tv_usec = (res->timeout_ms % 1000) * 1000;
		evtimer_add(l->timer, &tv);
	}
	return 0;
}
