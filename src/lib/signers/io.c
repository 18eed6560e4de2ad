/* SPDX-License-Identifier: MIT */
/*
 * The controller's transport: questions to authoritative servers and changes
 * through a signer's driver, blocking and bounded (the controller talks to a
 * handful of servers, a few messages per step), and the system clock. The RFC
 * 2136 driver builds one UPDATE per change -- adds (class IN) and exact deletes
 * (class NONE, RFC 2136 §2.5.4), no prerequisites: each record-level change is
 * idempotent, so sending it again after a crash changes nothing -- signs it with
 * the signer's TSIG key and sends it to the signer's primary.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <zonecut/apply.h>
#include <zonecut/net.h>

#include "signers/internal.h"

#define IO_EDNS_BUFSIZE 1232

static int real_query(void *ud, const char *server, const ldns_rdf *qname, ldns_rr_type type,
		      unsigned timeout_ms, ldns_pkt **ret_answer, char *why, size_t whylen)
{
	struct sockaddr_storage ss;
	socklen_t len;
	struct zc_exchange x;
	ldns_rdf *name;
	ldns_pkt *q;
	int r;

	(void)ud;
	if (zc_addr_parse(server, 53, &ss, &len) < 0) {
		snprintf(why, whylen, "bad server address '%s'", server);
		return -EINVAL;
	}
	name = ldns_rdf_clone(qname);
	q = name ? ldns_pkt_query_new(name, type, LDNS_RR_CLASS_IN, 0) : NULL;
	if (!q) {
		ldns_rdf_deep_free(name);
		return -ENOMEM;
	}
	/* DO: the RRSIGs tell which keys sign; no RD: the server's own data only. */
	ldns_pkt_set_edns_udp_size(q, IO_EDNS_BUFSIZE);
	ldns_pkt_set_edns_do(q, true);
	r = zc_apply_exchange((struct sockaddr *)&ss, len, NULL, q, "query", timeout_ms, 0, &x);
	ldns_pkt_free(q);
	if (r < 0) {
		snprintf(why, whylen, "%s", x.why);
		return r;
	}
	*ret_answer = x.answer;
	return 0;
}

static int push_clone(ldns_rr_list *l, const ldns_rr *rr, ldns_rr_class klass, uint32_t ttl)
{
	ldns_rr *c = ldns_rr_clone(rr);

	if (!c) {
		return -ENOMEM;
	}
	ldns_rr_set_class(c, klass);
	ldns_rr_set_ttl(c, ttl);
	if (!ldns_rr_list_push_rr(l, c)) {
		ldns_rr_free(c);
		return -ENOMEM;
	}
	return 0;
}

int sgn_rfc2136_build(const char *zone, const ldns_rr_list *add, const ldns_rr_list *del,
		      ldns_pkt **ret_pkt)
{
	ldns_rdf *apex = NULL;
	ldns_rr_list *up = ldns_rr_list_new();
	ldns_pkt *pkt;
	int r = up ? zc_name_from_str(zone, &apex) : -ENOMEM;

	for (size_t i = 0; r == 0 && add && i < ldns_rr_list_rr_count(add); i++) {
		const ldns_rr *rr = ldns_rr_list_rr(add, i);

		r = push_clone(up, rr, LDNS_RR_CLASS_IN, ldns_rr_ttl(rr));
	}
	/* RFC 2136 §2.5.4: delete an RR from an RRset: class NONE, TTL 0. */
	for (size_t i = 0; r == 0 && del && i < ldns_rr_list_rr_count(del); i++) {
		const ldns_rr *d = ldns_rr_list_rr(del, i);

		if (ldns_rr_get_type(d) == LDNS_RR_TYPE_CSYNC) {
			continue;
		}
		r = push_clone(up, d, LDNS_RR_CLASS_NONE, 0);
	}
	/*
	 * A zone has one CSYNC record at most (RFC 7477 §2), so it goes as a whole
	 * RRset (§2.5.2: class ANY, TTL 0, no rdata): PowerDNS 4.7 does not find a
	 * CSYNC record to delete by its rdata and answers NOERROR anyway.
	 */
	for (size_t i = 0; r == 0 && del && i < ldns_rr_list_rr_count(del); i++) {
		const ldns_rr *d = ldns_rr_list_rr(del, i);
		ldns_rr *any;

		if (ldns_rr_get_type(d) != LDNS_RR_TYPE_CSYNC) {
			continue;
		}
		any = ldns_rr_new();
		if (!any) {
			r = -ENOMEM;
			break;
		}
		ldns_rr_set_owner(any, ldns_rdf_clone(ldns_rr_owner(d)));
		ldns_rr_set_type(any, LDNS_RR_TYPE_CSYNC);
		ldns_rr_set_class(any, LDNS_RR_CLASS_ANY);
		ldns_rr_set_ttl(any, 0);
		if (!ldns_rr_owner(any) || !ldns_rr_list_push_rr(up, any)) {
			ldns_rr_free(any);
			r = -ENOMEM;
		}
		break;
	}
	if (r < 0) {
		ldns_rr_list_deep_free(up);
		ldns_rdf_deep_free(apex);
		return r;
	}
	/* ldns_update_pkt_new() takes @apex and copies the lists. */
	pkt = ldns_update_pkt_new(apex, LDNS_RR_CLASS_IN, NULL, up, NULL);
	ldns_rr_list_deep_free(up);
	if (!pkt) {
		return -ENOMEM;
	}
	/* RFC 2136 §2.2: the bits after the opcode are zero in an UPDATE. */
	ldns_pkt_set_rd(pkt, false);
	*ret_pkt = pkt;
	return 0;
}

static int rfc2136_apply(const struct zc_signer *s, const char *zone, const ldns_rr_list *add,
			 const ldns_rr_list *del, unsigned timeout_ms, int *ret_rcode, char *why,
			 size_t whylen)
{
	struct sockaddr_storage ss;
	socklen_t len;
	struct zc_tsig *tsig = NULL;
	struct zc_exchange x;
	ldns_pkt *pkt = NULL;
	char err[256] = "";
	int r = 0;

	if (zc_addr_parse(s->server, 53, &ss, &len) < 0) {
		snprintf(why, whylen, "bad server address '%s'", s->server);
		return -EINVAL;
	}
	if (s->tsig) {
		r = zc_tsig_parse(s->tsig, &tsig, err, sizeof(err));
	} else if (s->tsig_file) {
		r = zc_tsig_load_file(s->tsig_file, &tsig, err, sizeof(err));
	}
	if (r < 0) {
		snprintf(why, whylen, "TSIG key of signer '%s': %s", s->name,
			 err[0] ? err : zc_strerror(r));
		return ZC_ECONFIG;
	}
	r = sgn_rfc2136_build(zone, add, del, &pkt);
	if (r == 0) {
		r = zc_apply_exchange((struct sockaddr *)&ss, len, tsig, pkt, "UPDATE", timeout_ms,
				      0, &x);
		if (r < 0) {
			snprintf(why, whylen, "%s", x.why);
		} else {
			*ret_rcode = x.rcode;
			ldns_pkt_free(x.answer);
		}
	}
	ldns_pkt_free(pkt);
	zc_tsig_free(tsig);
	return r;
}

static int real_apply(void *ud, const struct zc_signer *s, const char *zone,
		      const ldns_rr_list *add, const ldns_rr_list *del, unsigned timeout_ms,
		      int *ret_rcode, char *why, size_t whylen)
{
	(void)ud;
	switch (s->driver) {
	case ZC_SIGNER_RFC2136:
		return rfc2136_apply(s, zone, add, del, timeout_ms, ret_rcode, why, whylen);
	case ZC_SIGNER_PDNS_API:
		return sgn_pdns_apply(s, zone, add, del, timeout_ms, ret_rcode, why, whylen);
	}
	snprintf(why, whylen, "signer '%s': unknown driver", s->name);
	return -EINVAL;
}

static int64_t real_now(void *ud)
{
	(void)ud;
	return (int64_t)(zc_now_wall_ms() / 1000);
}

static uint64_t real_mono_ms(void *ud)
{
	(void)ud;
	return zc_now_mono_ms();
}

static void real_sleep_ms(void *ud, unsigned ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };

	(void)ud;
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
	}
}

const struct sgn_io sgn_io_real = {
	.query = real_query,
	.apply = real_apply,
	.now = real_now,
	.mono_ms = real_mono_ms,
	.sleep_ms = real_sleep_ms,
	.run = sgn_run_command,
	.resolve = sgn_resolve_real,
};
