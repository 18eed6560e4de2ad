/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_engine.c: the query engine's state machine driven through a
 * scripted transport and a fake clock (no sockets, no sleeps): UDP answers, TC
 * fallback, TCP-only, pipelining and reconnects, back-off timing, in-flight caps,
 * the per-server rate, spoofed answers, cancellation and limits; plus the address
 * helpers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "net/internal.h"

#define NEVER ZC_TIME_NEVER
#define T0 1000 /* the fake clock starts here */

/* --- the scripted transport ------------------------------------------------ */

struct fmsg {
	struct fmsg *next;
	size_t len, off;
	struct sockaddr_storage from;
	uint8_t data[];
};

struct fake;

struct fsock {
	struct zc_sock s; /* first */
	struct fake *f;
	unsigned id;
	struct sockaddr_storage peer;
	unsigned watch;
	bool open;
	int recv_err;     /* returned once by the next recv (an ICMP error) */
	bool eof;         /* TCP: the peer closed after what is queued */
	struct fmsg *rx, *rx_tail;
	uint8_t in[8192]; /* TCP bytes from the engine not yet framed */
	size_t inlen;
	unsigned nqueries;        /* queries received on this socket */
	unsigned outstanding, max_outstanding;
	unsigned next_answer_seq; /* TCP: out-of-order detection */
	struct fsock *next;
};

enum fev_kind { FEV_DATA, FEV_EOF, FEV_ERR };

struct fev {
	struct fev *next;
	uint64_t at, seq;
	enum fev_kind kind;
	struct fsock *s;
	struct fmsg *m;
	int err;
	bool completes;  /* answers one query: outstanding goes down */
	unsigned qseq;   /* which query on the socket it answers */
};

struct sent_rec {
	uint64_t at;
	unsigned sock;
	int type;
	uint8_t server; /* last address byte */
	uint16_t id;
};

typedef void (*fake_server_fn)(struct fake *f, struct fsock *s, const uint8_t *q, size_t len);

struct fake {
	struct zc_engine *eng;
	struct event_base *base;
	struct zc_ctx *ctx;
	uint64_t now, wake_at;
	unsigned wakeups;
	struct fev *events;
	uint64_t seq;
	struct fsock *socks;
	unsigned nsocks, nopen, max_open, closes;
	fake_server_fn server;
	/* knobs */
	unsigned delay_ms;
	size_t tcp_send_max, tcp_recv_max;
	int open_err, connect_err;
	int udp_send_err, tcp_send_err; /* returned by the next sends ... */
	unsigned udp_send_errs, tcp_send_errs; /* ... this many times */
	unsigned close_after; /* TCP: close a connection after this many answers */
	unsigned txt;         /* TXT records added to answers */
	/* records */
	struct sent_rec sent[8192];
	size_t nsent;
	unsigned udp_queries, tcp_queries, tcp_opens, out_of_order;
	unsigned tcp_recvs, tcp_eagain; /* recv() calls on streams, and those that found nothing */
	unsigned outstanding[256], max_outstanding[256], total_out, max_total_out;
	bool in_query;
	unsigned ncb;
	/* the last query seen, decoded */
	bool last_edns, last_do, last_rd, last_cd;
	uint16_t last_udpsize;
};

static uint8_t sa_key(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET) {
		return (uint8_t)(ntohl(((const struct sockaddr_in *)ss)->sin_addr.s_addr) & 0xff);
	}
	return ((const struct sockaddr_in6 *)ss)->sin6_addr.s6_addr[15];
}

static uint64_t f_now(void *impl)
{
	return ((struct fake *)impl)->now;
}

static void f_wakeup(void *impl, uint64_t at)
{
	struct fake *f = impl;

	f->wake_at = at;
	f->wakeups++;
}

static int f_open(void *impl, int type, const struct sockaddr *sa, socklen_t salen,
		  struct zc_sock **ret)
{
	struct fake *f = impl;
	struct fsock *s;

	if (f->open_err) {
		return f->open_err;
	}
	s = calloc(1, sizeof(*s));
	assert_non_null(s);
	s->s.type = type;
	s->f = f;
	s->id = ++f->nsocks;
	memcpy(&s->peer, sa, salen);
	s->open = true;
	s->next = f->socks;
	f->socks = s;
	if (++f->nopen > f->max_open) {
		f->max_open = f->nopen;
	}
	if (type == SOCK_STREAM) {
		f->tcp_opens++;
	}
	*ret = &s->s;
	return 0;
}

static int f_finish_connect(void *impl, struct zc_sock *s)
{
	(void)s;
	return ((struct fake *)impl)->connect_err;
}

static void query_seen(struct fake *f, struct fsock *s, const uint8_t *q, size_t len)
{
	ldns_pkt *p = NULL;
	uint8_t k = sa_key(&s->peer);

	assert_true(f->nsent < sizeof(f->sent) / sizeof(f->sent[0]));
	f->sent[f->nsent++] = (struct sent_rec){ .at = f->now,
						 .sock = s->id,
						 .type = s->s.type,
						 .server = k,
						 .id = (uint16_t)((q[0] << 8) | q[1]) };
	assert_int_equal(ldns_wire2pkt(&p, q, len), LDNS_STATUS_OK);
	f->last_edns = ldns_pkt_edns(p);
	f->last_do = ldns_pkt_edns_do(p);
	f->last_udpsize = ldns_pkt_edns_udp_size(p);
	f->last_rd = ldns_pkt_rd(p);
	f->last_cd = ldns_pkt_cd(p);
	ldns_pkt_free(p);
	s->nqueries++;
	if (++s->outstanding > s->max_outstanding) {
		s->max_outstanding = s->outstanding;
	}
	if (++f->outstanding[k] > f->max_outstanding[k]) {
		f->max_outstanding[k] = f->outstanding[k];
	}
	if (++f->total_out > f->max_total_out) {
		f->max_total_out = f->total_out;
	}
	f->server(f, s, q, len);
}

static ssize_t f_send(void *impl, struct zc_sock *zs, const uint8_t *buf, size_t len)
{
	struct fake *f = impl;
	struct fsock *s = (struct fsock *)zs;
	size_t n = len;

	assert_true(s->open);
	assert_true(len > 0);
	if (zs->type == SOCK_DGRAM && f->udp_send_errs > 0) {
		f->udp_send_errs--;
		return f->udp_send_err;
	}
	if (zs->type == SOCK_STREAM && f->tcp_send_errs > 0) {
		f->tcp_send_errs--;
		return f->tcp_send_err;
	}
	if (zs->type == SOCK_DGRAM) {
		f->udp_queries++;
		query_seen(f, s, buf, len);
		return (ssize_t)len;
	}
	if (f->tcp_send_max && n > f->tcp_send_max) {
		n = f->tcp_send_max;
	}
	assert_true(s->inlen + n <= sizeof(s->in));
	memcpy(s->in + s->inlen, buf, n);
	s->inlen += n;
	/* RFC 7766 framing, as a server reads it */
	while (s->inlen >= 2) {
		size_t flen = (size_t)((s->in[0] << 8) | s->in[1]);

		if (s->inlen < 2 + flen) {
			break;
		}
		f->tcp_queries++;
		query_seen(f, s, s->in + 2, flen);
		memmove(s->in, s->in + 2 + flen, s->inlen - 2 - flen);
		s->inlen -= 2 + flen;
	}
	return (ssize_t)n;
}

static ssize_t f_recv(void *impl, struct zc_sock *zs, uint8_t *buf, size_t len,
		      struct sockaddr_storage *from, socklen_t *fromlen)
{
	struct fake *f = impl;
	struct fsock *s = (struct fsock *)zs;
	struct fmsg *m = s->rx;
	size_t n;

	assert_true(s->open);
	if (s->recv_err) {
		int e = s->recv_err;

		s->recv_err = 0;
		return e;
	}
	if (zs->type == SOCK_STREAM) {
		f->tcp_recvs++;
		f->tcp_eagain += !m && !s->eof;
	}
	if (!m) {
		return s->eof ? 0 : -EAGAIN;
	}
	n = m->len - m->off;
	if (n > len) {
		assert_int_equal(zs->type, SOCK_STREAM); /* the engine offers 65535 for UDP */
		n = len;
	}
	if (zs->type == SOCK_STREAM && f->tcp_recv_max && n > f->tcp_recv_max) {
		n = f->tcp_recv_max;
	}
	memcpy(buf, m->data + m->off, n);
	m->off += n;
	if (from) {
		*from = m->from;
		*fromlen = m->from.ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
							  : sizeof(struct sockaddr_in);
	}
	if (m->off == m->len || zs->type == SOCK_DGRAM) {
		s->rx = m->next;
		if (!s->rx) {
			s->rx_tail = NULL;
		}
		free(m);
	}
	return (ssize_t)n;
}

static void f_watch(void *impl, struct zc_sock *zs, unsigned events)
{
	(void)impl;
	((struct fsock *)zs)->watch = events;
}

static void f_close(void *impl, struct zc_sock *zs)
{
	struct fake *f = impl;
	struct fsock *s = (struct fsock *)zs;

	assert_true(s->open);
	s->open = false;
	f->nopen--;
	f->closes++;
	while (s->rx) {
		struct fmsg *m = s->rx;

		s->rx = m->next;
		free(m);
	}
	s->rx_tail = NULL;
}

static const struct zc_transport_ops fake_ops = {
	.now_ms = f_now,
	.wakeup = f_wakeup,
	.open = f_open,
	.finish_connect = f_finish_connect,
	.send = f_send,
	.recv = f_recv,
	.watch = f_watch,
	.close = f_close,
};

static void schedule(struct fake *f, struct fev *e)
{
	struct fev **pp = &f->events;

	e->seq = f->seq++;
	while (*pp && (*pp)->at <= e->at) {
		pp = &(*pp)->next;
	}
	e->next = *pp;
	*pp = e;
}

/* Delivers @wire on @s after @delay ms, from @from (NULL: the server itself). */
static void reply_from(struct fake *f, struct fsock *s, const uint8_t *wire, size_t len,
		       unsigned delay, const struct sockaddr_storage *from, bool completes)
{
	bool tcp = s->s.type == SOCK_STREAM;
	struct fmsg *m = calloc(1, sizeof(*m) + len + 2);
	struct fev *e = calloc(1, sizeof(*e));

	assert_non_null(m);
	assert_non_null(e);
	m->from = from ? *from : s->peer;
	if (tcp) {
		m->data[0] = (uint8_t)(len >> 8);
		m->data[1] = (uint8_t)len;
	}
	memcpy(m->data + (tcp ? 2 : 0), wire, len);
	m->len = len + (tcp ? 2 : 0);
	e->at = f->now + delay;
	e->kind = FEV_DATA;
	e->s = s;
	e->m = m;
	e->completes = completes;
	e->qseq = s->nqueries - 1;
	schedule(f, e);
}

static void schedule_kind(struct fake *f, struct fsock *s, unsigned delay, enum fev_kind kind,
			  int err)
{
	struct fev *e = calloc(1, sizeof(*e));

	assert_non_null(e);
	e->at = f->now + delay;
	e->kind = kind;
	e->s = s;
	e->err = err;
	schedule(f, e);
}

static void apply_event(struct fake *f, struct fev *e)
{
	struct fsock *s = e->s;
	uint8_t k = sa_key(&s->peer);

	if (e->completes) {
		s->outstanding--;
		f->outstanding[k]--;
		f->total_out--;
		if (e->qseq < s->next_answer_seq) {
			f->out_of_order++;
		}
		s->next_answer_seq = e->qseq;
	}
	if (!s->open) {
		free(e->m);
		return;
	}
	switch (e->kind) {
	case FEV_DATA:
		if (s->rx_tail) {
			s->rx_tail->next = e->m;
		} else {
			s->rx = e->m;
		}
		s->rx_tail = e->m;
		break;
	case FEV_EOF:
		s->eof = true;
		break;
	case FEV_ERR:
		s->recv_err = e->err;
		break;
	}
}

/* Level-triggered readiness: report every watched condition that holds. */
static bool deliver_io(struct fake *f)
{
	struct fsock *ready[4096];
	unsigned what[4096];
	size_t n = 0;

	for (struct fsock *s = f->socks; s && n < 4096; s = s->next) {
		if (!s->open) {
			continue;
		}
		if (s->watch & ZC_IO_WRITE) {
			ready[n] = s;
			what[n++] = ZC_IO_WRITE;
		} else if ((s->watch & ZC_IO_READ) && (s->rx || s->eof || s->recv_err)) {
			ready[n] = s;
			what[n++] = ZC_IO_READ;
		}
	}
	for (size_t i = 0; i < n; i++) {
		/* an earlier delivery may have closed it */
		if (ready[i]->open && (ready[i]->watch & what[i])) {
			zc_engine_io_ready(f->eng, &ready[i]->s, what[i]);
		}
	}
	return n > 0;
}

static void run_until(struct fake *f, uint64_t t_end)
{
	for (unsigned guard = 0;; guard++) {
		uint64_t t_ev, t;

		assert_true(guard < 5000000);
		if (deliver_io(f)) {
			continue;
		}
		t_ev = f->events ? f->events->at : NEVER;
		t = f->wake_at < t_ev ? f->wake_at : t_ev;
		if (t == NEVER || t > t_end) {
			if (t_end != NEVER && f->now < t_end) {
				f->now = t_end;
			}
			return;
		}
		if (t > f->now) {
			f->now = t;
		}
		if (t_ev <= f->wake_at) {
			struct fev *e = f->events;

			f->events = e->next;
			apply_event(f, e);
			free(e);
		} else {
			f->wake_at = NEVER;
			zc_engine_on_wakeup(f->eng);
		}
	}
}

static void run(struct fake *f)
{
	run_until(f, NEVER);
}

/* --- scripted servers -------------------------------------------------------- */

struct mod {
	bool tc;
	uint16_t id_xor;
	const char *qname;
	uint16_t qtype;
	uint16_t qclass;
	bool upper;
	bool not_response;
	bool no_question;
	unsigned txt;
};

static uint8_t *make_answer(const uint8_t *q, size_t qlen, const struct mod *m, size_t *ret_len)
{
	ldns_pkt *p = NULL;
	ldns_rr *qrr, *rr;
	uint8_t *wire = NULL;

	assert_int_equal(ldns_wire2pkt(&p, q, qlen), LDNS_STATUS_OK);
	ldns_pkt_set_qr(p, !(m && m->not_response));
	ldns_pkt_set_aa(p, true);
	qrr = ldns_rr_list_rr(ldns_pkt_question(p), 0);
	if (m && m->tc) {
		ldns_pkt_set_tc(p, true);
	} else {
		assert_int_equal(ldns_rr_new_frm_str(&rr, "x. 300 IN A 192.0.2.53", 0, NULL, NULL),
				 LDNS_STATUS_OK);
		ldns_rdf_deep_free(ldns_rr_owner(rr));
		ldns_rr_set_owner(rr, ldns_rdf_clone(ldns_rr_owner(qrr)));
		ldns_pkt_push_rr(p, LDNS_SECTION_ANSWER, rr);
		for (unsigned i = 0; m && i < m->txt; i++) {
			static const char txt[] = "x. 300 IN TXT \"0123456789abcdef0123456789abcdef"
						  "0123456789abcdef\"";

			assert_int_equal(ldns_rr_new_frm_str(&rr, txt, 0, NULL, NULL),
					 LDNS_STATUS_OK);
			ldns_pkt_push_rr(p, LDNS_SECTION_ANSWER, rr);
		}
	}
	if (m && m->id_xor) {
		ldns_pkt_set_id(p, ldns_pkt_id(p) ^ m->id_xor);
	}
	if (m && m->qname) {
		ldns_rdf *n = ldns_dname_new_frm_str(m->qname);

		ldns_rdf_deep_free(ldns_rr_owner(qrr));
		ldns_rr_set_owner(qrr, n);
	}
	if (m && m->qtype) {
		ldns_rr_set_type(qrr, m->qtype);
	}
	if (m && m->qclass) {
		ldns_rr_set_class(qrr, m->qclass);
	}
	if (m && m->upper) {
		uint8_t *d = ldns_rdf_data(ldns_rr_owner(qrr));

		for (size_t i = 0; i < ldns_rdf_size(ldns_rr_owner(qrr)); i++) {
			if (d[i] >= 'a' && d[i] <= 'z') {
				d[i] = (uint8_t)(d[i] - 32);
			}
		}
	}
	if (m && m->no_question) {
		ldns_rr_free(ldns_rr_list_pop_rr(ldns_pkt_question(p)));
		ldns_pkt_set_qdcount(p, 0);
	}
	assert_int_equal(ldns_pkt2wire(&wire, p, ret_len), LDNS_STATUS_OK);
	ldns_pkt_free(p);
	return wire;
}

static void answer(struct fake *f, struct fsock *s, const uint8_t *q, size_t len,
		   const struct mod *m, unsigned delay)
{
	size_t alen;
	uint8_t *a = make_answer(q, len, m, &alen);

	reply_from(f, s, a, alen, delay, NULL, true);
	free(a);
}

/* Answers everything after delay_ms (with f->txt extra records). */
static void srv_answer(struct fake *f, struct fsock *s, const uint8_t *q, size_t len)
{
	struct mod m = { .txt = f->txt };

	answer(f, s, q, len, &m, f->delay_ms);
}

static void srv_silent(struct fake *f, struct fsock *s, const uint8_t *q, size_t len)
{
	(void)f;
	(void)s;
	(void)q;
	(void)len;
}

/* UDP: truncated; TCP: the full answer. */
static void srv_tc(struct fake *f, struct fsock *s, const uint8_t *q, size_t len)
{
	struct mod m = { .tc = s->s.type == SOCK_DGRAM, .txt = f->txt };

	answer(f, s, q, len, &m, f->delay_ms);
}

/* UDP: ICMP port unreachable. */
static void srv_refuse(struct fake *f, struct fsock *s, const uint8_t *q, size_t len)
{
	(void)q;
	(void)len;
	schedule_kind(f, s, 1, FEV_ERR, -ECONNREFUSED);
}

/* TCP: answers in reverse order of arrival within a batch. */
static void srv_reverse(struct fake *f, struct fsock *s, const uint8_t *q, size_t len)
{
	unsigned delay = 200 - (s->nqueries % 100);

	answer(f, s, q, len, NULL, delay);
}

/* TCP: answers close_after queries per connection, then closes it. */
static void srv_close_after(struct fake *f, struct fsock *s, const uint8_t *q, size_t len)
{
	if (s->nqueries <= f->close_after) {
		answer(f, s, q, len, NULL, 1);
		if (s->nqueries == f->close_after) {
			schedule_kind(f, s, 2, FEV_EOF, 0);
		}
	}
}

/* --- helpers ------------------------------------------------------------------- */

struct result {
	struct fake *f;
	int calls;
	int status;
	bool tcp, tc_fallback;
	unsigned attempts;
	uint64_t at;
	size_t ancount;
	size_t wire_len;
	bool wire_only; /* answered without an ldns_pkt (ZC_Q_WIRE_ONLY) */
	uint8_t server;
	int requery; /* the callback makes one more query ... */
	int requery_ret; /* ... with this result */
	struct result *next_res;
};

static void on_done(const struct zc_answer *a, void *ud);

static void log_sink(void *ud, int level, const char *msg)
{
	(void)ud;
	(void)level;
	assert_non_null(msg);
}

static struct fake *fake_new(const struct zc_engine_opts *o, fake_server_fn server)
{
	struct fake *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->base = event_base_new();
	assert_non_null(f->base);
	/* debug logging on, so that every log path runs under the sanitizers */
	f->ctx = zc_ctx_new();
	assert_non_null(f->ctx);
	zc_ctx_set_log_fn(f->ctx, log_sink, NULL);
	zc_ctx_set_log_level(f->ctx, ZC_LOG_DEBUG);
	assert_int_equal(zc_engine_new(f->ctx, f->base, o, &f->eng), 0);
	assert_int_equal(zc_engine_set_transport(f->eng, &fake_ops, f), 0);
	f->now = T0;
	f->wake_at = NEVER;
	f->delay_ms = 10;
	f->server = server;
	return f;
}

static void fake_free(struct fake *f)
{
	zc_engine_free(f->eng);
	assert_int_equal(f->nopen, 0); /* every socket closed */
	while (f->socks) {
		struct fsock *s = f->socks;

		f->socks = s->next;
		free(s);
	}
	while (f->events) {
		struct fev *e = f->events;

		f->events = e->next;
		free(e->m);
		free(e);
	}
	zc_ctx_free(f->ctx);
	event_base_free(f->base);
	free(f);
}

static void opts(struct zc_engine_opts *o)
{
	zc_engine_opts_default(o);
	o->timeout_ms = 100;
	o->max_timeout_ms = 400;
	o->retries = 2;
	o->tcp_idle_ms = 1000;
}

static struct sockaddr_storage addr(const char *text, socklen_t *len)
{
	struct sockaddr_storage ss;

	assert_int_equal(zc_addr_parse(text, 53, &ss, len), 0);
	return ss;
}

static int query_flags(struct fake *f, const char *server, const char *name, ldns_rr_type type,
		       unsigned flags, struct result *r)
{
	socklen_t len;
	struct sockaddr_storage ss = addr(server, &len);
	ldns_rdf *qname = ldns_dname_new_frm_str(name);
	int ret;

	assert_non_null(qname);
	r->f = f;
	f->in_query = true;
	ret = zc_engine_query(f->eng, (struct sockaddr *)&ss, len, qname, type, flags, on_done, r);
	f->in_query = false;
	ldns_rdf_deep_free(qname);
	return ret;
}

static void query(struct fake *f, const char *server, unsigned flags, struct result *r)
{
	assert_int_equal(query_flags(f, server, "example.com.", LDNS_RR_TYPE_A, flags, r), 0);
}

/* The common case: test options, one query, run until everything is quiet. */
static struct fake *run_one(fake_server_fn server, const char *addr, unsigned flags,
			    struct result *r)
{
	struct zc_engine_opts o;
	struct fake *f;

	opts(&o);
	f = fake_new(&o, server);
	query(f, addr, flags, r);
	run(f);
	return f;
}

static void on_done(const struct zc_answer *a, void *ud)
{
	struct result *r = ud;

	/* never from inside zc_engine_query() */
	assert_false(r->f->in_query);
	r->calls++;
	r->status = a->status;
	r->tcp = a->tcp;
	r->tc_fallback = a->tc_fallback;
	r->attempts = a->attempts;
	r->at = r->f->now;
	r->server = sa_key((const struct sockaddr_storage *)a->server);
	assert_non_null(a->server);
	if (a->status == 0 && !a->pkt) {
		/* ZC_Q_WIRE_ONLY: the header read from the wire */
		assert_non_null(a->wire);
		assert_true(a->wire_len >= 12);
		assert_true(a->wire[2] & 0x80);
		r->wire_only = true;
		r->ancount = (size_t)(a->wire[6] << 8 | a->wire[7]);
		r->wire_len = a->wire_len;
	} else if (a->status == 0) {
		assert_non_null(a->pkt);
		assert_non_null(a->wire);
		assert_true(ldns_pkt_qr(a->pkt));
		r->ancount = ldns_pkt_ancount(a->pkt);
		r->wire_len = a->wire_len;
	} else {
		assert_null(a->pkt);
	}
	r->f->ncb++;
	if (r->requery && r->next_res) {
		r->requery = 0;
		r->requery_ret = query_flags(r->f, "192.0.2.1", "example.com.", LDNS_RR_TYPE_A, 0,
					     r->next_res);
	}
}

static void check_stats_settled(struct fake *f)
{
	struct zc_engine_stats st;

	zc_engine_get_stats(f->eng, &st);
	assert_int_equal(st.inflight, 0);
	assert_int_equal(st.queued, 0);
	assert_int_equal(st.queries, st.answered + st.failed);
}

/* --- tests ----------------------------------------------------------------- */

static void test_engine_opts_default(void **state)
{
	struct zc_engine_opts o;

	(void)state;
	zc_engine_opts_default(&o);
	assert_int_equal(o.max_inflight, 1000);
	assert_int_equal(o.max_inflight_per_server, 10);
	assert_int_equal(o.qps_per_server, 0);
	assert_int_equal(o.timeout_ms, 1500);
	assert_int_equal(o.retries, 2);
	assert_int_equal(o.max_timeout_ms, 8000);
	assert_int_equal(o.edns_bufsize, 1232);
	assert_int_equal(o.tcp_idle_ms, 5000);
	assert_int_equal(o.max_queue, 1000000);
	assert_int_equal(o.tcp_pipeline, 64);
}

static void test_engine_new_rejects_bad_opts(void **state)
{
	struct event_base *base = event_base_new();
	struct zc_engine *eng = NULL;
	struct zc_engine_opts o;

	(void)state;
	zc_engine_opts_default(&o);
	o.max_timeout_ms = 100;
	o.timeout_ms = 200;
	assert_int_equal(zc_engine_new(NULL, base, &o, &eng), -EINVAL);
	zc_engine_opts_default(&o);
	o.edns_bufsize = 511;
	assert_int_equal(zc_engine_new(NULL, base, &o, &eng), -EINVAL);
	assert_int_equal(zc_engine_new(NULL, NULL, NULL, &eng), -EINVAL);
	assert_null(eng);
	assert_int_equal(zc_engine_new(NULL, base, NULL, &eng), 0);
	zc_engine_free(eng);
	zc_engine_free(NULL);
	event_base_free(base);
}

static void test_engine_udp_answer(void **state)
{
	struct zc_engine_opts o;
	struct fake *f;
	struct result r = { 0 };
	struct zc_engine_stats st;

	(void)state;
	opts(&o);
	f = fake_new(&o, srv_answer);
	query(f, "192.0.2.1", ZC_Q_DNSSEC, &r);
	assert_int_equal(r.calls, 0);
	assert_int_equal(f->udp_queries, 0); /* nothing happens before the loop runs */
	run(f);
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.status, 0);
	assert_int_equal(r.ancount, 1);
	assert_false(r.tcp);
	assert_false(r.tc_fallback);
	assert_int_equal(r.attempts, 1);
	assert_int_equal(r.at, T0 + 10);
	assert_int_equal(r.server, 1);
	/* RFC 6891 + RFC 3225: EDNS0, 1232 bytes, DO */
	assert_true(f->last_edns);
	assert_true(f->last_do);
	assert_int_equal(f->last_udpsize, 1232);
	assert_false(f->last_rd);
	assert_false(f->last_cd);
	zc_engine_get_stats(f->eng, &st);
	assert_int_equal(st.queries, 1);
	assert_int_equal(st.answered, 1);
	assert_int_equal(st.udp_sent, 1);
	assert_int_equal(st.tcp_sent, 0);
	assert_int_equal(st.ignored, 0);
	assert_int_equal(f->nopen, 0); /* the UDP socket is closed at once */
	check_stats_settled(f);
	fake_free(f);
}

static void test_engine_query_flags(void **state)
{
	static const struct {
		unsigned flags;
		bool edns, dobit, rd, cd;
	} cases[] = {
		{ 0, true, false, false, false },
		{ ZC_Q_DNSSEC, true, true, false, false },
		{ ZC_Q_RD, true, false, true, false },
		{ ZC_Q_CD | ZC_Q_DNSSEC, true, true, false, true },
		{ ZC_Q_NOEDNS | ZC_Q_RD, false, false, true, false },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct zc_engine_opts o;
		struct result r = { 0 };
		struct fake *f;

		opts(&o);
		f = fake_new(&o, srv_answer);
		query(f, "192.0.2.1", cases[i].flags, &r);
		run(f);
		assert_int_equal(r.status, 0);
		assert_int_equal(f->last_edns, cases[i].edns);
		assert_int_equal(f->last_do, cases[i].dobit);
		assert_int_equal(f->last_rd, cases[i].rd);
		assert_int_equal(f->last_cd, cases[i].cd);
		if (cases[i].edns) {
			assert_int_equal(f->last_udpsize, 1232);
		}
		fake_free(f);
	}
}

static void test_engine_query_einval(void **state)
{
	struct zc_engine_opts o;
	struct fake *f;
	struct result r = { 0 };
	socklen_t len;
	struct sockaddr_storage ss = addr("192.0.2.1", &len);
	struct sockaddr_in port0;
	struct sockaddr unix_sa = { .sa_family = AF_UNIX };
	ldns_rdf *name = ldns_dname_new_frm_str("example.com.");
	ldns_rdf *notname = ldns_rdf_new_frm_str(LDNS_RDF_TYPE_A, "192.0.2.1");

	(void)state;
	opts(&o);
	f = fake_new(&o, srv_answer);
	r.f = f;
	memcpy(&port0, &ss, sizeof(port0));
	port0.sin_port = 0;
	assert_int_equal(zc_engine_query(NULL, (struct sockaddr *)&ss, len, name, LDNS_RR_TYPE_A,
					 0, on_done, &r),
			 -EINVAL);
	assert_int_equal(zc_engine_query(f->eng, NULL, len, name, LDNS_RR_TYPE_A, 0, on_done, &r),
			 -EINVAL);
	assert_int_equal(zc_engine_query(f->eng, (struct sockaddr *)&ss, len, NULL,
					 LDNS_RR_TYPE_A, 0, on_done, &r),
			 -EINVAL);
	assert_int_equal(zc_engine_query(f->eng, (struct sockaddr *)&ss, len, name,
					 LDNS_RR_TYPE_A, 0, NULL, &r),
			 -EINVAL);
	assert_int_equal(zc_engine_query(f->eng, (struct sockaddr *)&ss, len, notname,
					 LDNS_RR_TYPE_A, 0, on_done, &r),
			 -EINVAL);
	assert_int_equal(zc_engine_query(f->eng, (struct sockaddr *)&ss, len, name,
					 LDNS_RR_TYPE_A, 1u << 10, on_done, &r),
			 -EINVAL);
	assert_int_equal(zc_engine_query(f->eng, (struct sockaddr *)&ss, len, name,
					 LDNS_RR_TYPE_A, ZC_Q_DNSSEC | ZC_Q_NOEDNS, on_done, &r),
			 -EINVAL);
	assert_int_equal(zc_engine_query(f->eng, (struct sockaddr *)&port0, sizeof(port0), name,
					 LDNS_RR_TYPE_A, 0, on_done, &r),
			 -EINVAL);
	assert_int_equal(zc_engine_query(f->eng, &unix_sa, sizeof(unix_sa), name, LDNS_RR_TYPE_A,
					 0, on_done, &r),
			 -EINVAL);
	assert_int_equal(zc_engine_query(f->eng, (struct sockaddr *)&ss, 4, name, LDNS_RR_TYPE_A,
					 0, on_done, &r),
			 -EINVAL);
	run(f);
	assert_int_equal(r.calls, 0);
	ldns_rdf_deep_free(name);
	ldns_rdf_deep_free(notname);
	fake_free(f);
}

static void test_engine_tc_fallback(void **state)
{
	struct fake *f;
	struct result r = { 0 };
	struct zc_engine_stats st;

	(void)state;
	f = run_one(srv_tc, "192.0.2.1", ZC_Q_DNSSEC, &r);
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.status, 0);
	assert_true(r.tcp);
	assert_true(r.tc_fallback);
	assert_int_equal(r.attempts, 2);
	assert_int_equal(r.ancount, 1);
	assert_int_equal(f->udp_queries, 1);
	assert_int_equal(f->tcp_queries, 1);
	zc_engine_get_stats(f->eng, &st);
	assert_int_equal(st.tc_fallbacks, 1);
	assert_int_equal(st.tcp_connects, 1);
	assert_int_equal(st.tcp_sent, 1);
	/* the connection stays for reuse, then idles out */
	assert_int_equal(f->nopen, 0);
	assert_true(f->now >= r.at + 1000); /* tcp_idle_ms of opts() */
	check_stats_settled(f);
	fake_free(f);
}

static void test_engine_tcp_only(void **state)
{
	struct zc_engine_opts o;
	struct fake *f;
	struct result r = { 0 };

	(void)state;
	opts(&o);
	f = fake_new(&o, srv_tc); /* would truncate UDP */
	query(f, "192.0.2.1", ZC_Q_TCP | ZC_Q_DNSSEC, &r);
	run(f);
	assert_int_equal(r.status, 0);
	assert_true(r.tcp);
	assert_false(r.tc_fallback);
	assert_int_equal(r.attempts, 1);
	assert_int_equal(f->udp_queries, 0);
	assert_int_equal(f->tcp_opens, 1);
	assert_true(f->last_do);
	fake_free(f);
}

static void test_engine_timeout_backoff(void **state)
{
	struct zc_engine_opts o;
	struct fake *f;
	struct result r = { 0 };
	struct zc_engine_stats st;

	(void)state;
	zc_engine_opts_default(&o);
	o.timeout_ms = 100;
	o.retries = 3;
	o.max_timeout_ms = 300;
	f = fake_new(&o, srv_silent);
	query(f, "192.0.2.1", 0, &r);
	run(f);
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.status, ZC_ETIMEOUT);
	assert_int_equal(r.attempts, 4);
	/* 100, 200, 300 (capped), 300 */
	assert_int_equal(f->nsent, 4);
	assert_int_equal(f->sent[0].at, T0);
	assert_int_equal(f->sent[1].at, T0 + 100);
	assert_int_equal(f->sent[2].at, T0 + 300);
	assert_int_equal(f->sent[3].at, T0 + 600);
	assert_int_equal(r.at, T0 + 900);
	/* a new socket (source port) per attempt, and IDs that are not all the same */
	for (size_t i = 1; i < 4; i++) {
		assert_int_not_equal(f->sent[i].sock, f->sent[i - 1].sock);
	}
	assert_false(f->sent[0].id == f->sent[1].id && f->sent[1].id == f->sent[2].id &&
		     f->sent[2].id == f->sent[3].id);
	zc_engine_get_stats(f->eng, &st);
	assert_int_equal(st.timeouts, 4);
	assert_int_equal(st.failed, 1);
	assert_int_equal(f->nopen, 0);
	fake_free(f);
}

static void test_engine_timeout_then_answer(void **state)
{
	struct zc_engine_opts o;
	struct fake *f;
	struct result r = { 0 };

	(void)state;
	opts(&o);
	f = fake_new(&o, srv_answer);
	f->delay_ms = 150; /* slower than the first timeout, faster than the second */
	query(f, "192.0.2.1", 0, &r);
	run(f);
	assert_int_equal(r.status, 0);
	assert_int_equal(r.attempts, 2);
	assert_int_equal(r.at, T0 + 100 + 150);
	fake_free(f);
}

/* Every kind of packet that is not the answer, then the answer. */
static void srv_spoof(struct fake *f, struct fsock *s, const uint8_t *q, size_t len)
{
	static const uint8_t garbage[3] = { 1, 2, 3 };
	struct sockaddr_storage other_host, other_port;
	socklen_t l;
	unsigned t = 1;
	size_t alen;
	uint8_t *a, bad[12];

	other_host = addr("192.0.2.99", &l);
	other_port = addr("192.0.2.1@5353", &l);
	answer(f, s, q, len, &(struct mod){ .id_xor = 0x0101 }, t++);
	answer(f, s, q, len, &(struct mod){ .qname = "example.net." }, t++);
	answer(f, s, q, len, &(struct mod){ .qname = "www.example.com." }, t++);
	answer(f, s, q, len, &(struct mod){ .qtype = LDNS_RR_TYPE_AAAA }, t++);
	answer(f, s, q, len, &(struct mod){ .qclass = LDNS_RR_CLASS_CH }, t++);
	answer(f, s, q, len, &(struct mod){ .not_response = true }, t++);
	answer(f, s, q, len, &(struct mod){ .no_question = true }, t++);
	a = make_answer(q, len, NULL, &alen);
	reply_from(f, s, a, alen, t++, &other_host, false);
	reply_from(f, s, a, alen, t++, &other_port, false);
	free(a);
	reply_from(f, s, garbage, sizeof(garbage), t++, NULL, false);
	/* our ID, QR set, but it claims an answer record that is not there */
	memcpy(bad, q, 12);
	bad[2] |= 0x80;
	bad[7] = 1;
	reply_from(f, s, bad, sizeof(bad), t++, NULL, false);
	/* and at last the real one */
	answer(f, s, q, len, NULL, 50);
}

static void test_engine_spoofed_ignored(void **state)
{
	struct fake *f;
	struct result r = { 0 };
	struct zc_engine_stats st;

	(void)state;
	f = run_one(srv_spoof, "192.0.2.1", 0, &r);
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.status, 0);
	assert_int_equal(r.attempts, 1);
	assert_int_equal(r.at, T0 + 50);
	zc_engine_get_stats(f->eng, &st);
	assert_int_equal(st.ignored, 11);
	assert_int_equal(st.udp_sent, 1);
	fake_free(f);
}

static void srv_upper(struct fake *f, struct fsock *s, const uint8_t *q, size_t len)
{
	answer(f, s, q, len, &(struct mod){ .upper = true }, f->delay_ms);
}

static void test_engine_question_case_insensitive(void **state)
{
	struct zc_engine_opts o;
	struct fake *f;
	struct result r = { 0 };
	struct zc_engine_stats st;

	(void)state;
	opts(&o);
	f = fake_new(&o, srv_upper);
	assert_int_equal(query_flags(f, "192.0.2.1", "ExAmple.COM.", LDNS_RR_TYPE_A, 0, &r), 0);
	run(f);
	assert_int_equal(r.status, 0);
	zc_engine_get_stats(f->eng, &st);
	assert_int_equal(st.ignored, 0);
	fake_free(f);
}

/* Only a packet with our ID that does not parse: ZC_EMALF after the timeouts. */
static void srv_malformed(struct fake *f, struct fsock *s, const uint8_t *q, size_t len)
{
	uint8_t bad[14];

	(void)len;
	memcpy(bad, q, 12);
	bad[2] |= 0x80;
	bad[7] = 3;
	bad[12] = 0xc0; /* a pointer to nowhere */
	bad[13] = 0xff;
	reply_from(f, s, bad, sizeof(bad), 1, NULL, false);
}

static void test_engine_malformed_answer(void **state)
{
	struct zc_engine_opts o;
	struct fake *f;
	struct result r = { 0 };

	(void)state;
	opts(&o);
	o.retries = 1;
	f = fake_new(&o, srv_malformed);
	query(f, "192.0.2.1", 0, &r);
	run(f);
	assert_int_equal(r.status, ZC_EMALF);
	assert_int_equal(r.attempts, 2);
	fake_free(f);
}

/* ZC_Q_WIRE_ONLY: the same checks, without an ldns_pkt. */
static void test_engine_wire_only(void **state)
{
	struct fake *f;
	struct result r = { 0 };
	struct zc_engine_stats st;

	(void)state;
	f = run_one(srv_answer, "192.0.2.1", ZC_Q_DNSSEC | ZC_Q_WIRE_ONLY, &r);
	assert_int_equal(r.status, 0);
	assert_true(r.wire_only);
	assert_int_equal(r.ancount, 1);
	fake_free(f);

	/* every spoofing attempt of test_engine_spoofed_ignored is ignored too */
	memset(&r, 0, sizeof(r));
	f = run_one(srv_spoof, "192.0.2.1", ZC_Q_WIRE_ONLY, &r);
	assert_int_equal(r.status, 0);
	assert_true(r.wire_only);
	assert_int_equal(r.at, T0 + 50);
	zc_engine_get_stats(f->eng, &st);
	assert_int_equal(st.ignored, 11);
	fake_free(f);

	/* a truncated answer still comes again over TCP */
	memset(&r, 0, sizeof(r));
	f = run_one(srv_tc, "192.0.2.1", ZC_Q_WIRE_ONLY, &r);
	assert_int_equal(r.status, 0);
	assert_true(r.tcp);
	assert_true(r.tc_fallback);
	fake_free(f);
}

/* Our ID and question, broken structure after it: never accepted. */
static void srv_bad_structure(struct fake *f, struct fsock *s, const uint8_t *q, size_t len)
{
	size_t alen;
	uint8_t *a = make_answer(q, len, NULL, &alen);
	size_t owner = len; /* the answer record follows the question (ZC_Q_NOEDNS: no OPT) */

	/* one octet short: the rdata runs past the end */
	reply_from(f, s, a, alen - 1, 1, NULL, false);
	/* the owner a compression pointer to itself (a loop) */
	assert_int_equal(a[owner], 0xc0);
	a[owner + 1] = (uint8_t)owner;
	reply_from(f, s, a, alen, 2, NULL, false);
	/* a record count with nothing behind it */
	a[owner + 1] = 12;
	a[11] = 1;
	reply_from(f, s, a, alen, 3, NULL, false);
	free(a);
}

static void test_engine_wire_only_structure(void **state)
{
	struct zc_engine_opts o;
	struct fake *f;
	struct result r = { 0 };
	struct zc_engine_stats st;

	(void)state;
	opts(&o);
	o.retries = 0;
	f = fake_new(&o, srv_bad_structure);
	query(f, "192.0.2.1", ZC_Q_NOEDNS | ZC_Q_WIRE_ONLY, &r);
	run(f);
	assert_int_equal(r.status, ZC_EMALF);
	zc_engine_get_stats(f->eng, &st);
	assert_int_equal(st.ignored, 3);
	fake_free(f);
}

static void test_engine_ipv6(void **state)
{
	struct zc_engine_opts o;
	struct fake *f;
	struct result r = { 0 };

	(void)state;
	opts(&o);
	f = fake_new(&o, srv_spoof); /* spoofs come from IPv4 addresses and fail */
	query(f, "[2001:db8::1]:53", 0, &r);
	run(f);
	assert_int_equal(r.status, 0);
	assert_int_equal(r.server, 1);
	fake_free(f);
}

static void test_engine_udp_refused(void **state)
{
	struct fake *f;
	struct result r = { 0 };

	(void)state;
	f = run_one(srv_refuse, "192.0.2.1", 0, &r);
	assert_int_equal(r.status, ZC_ECONN);
	assert_int_equal(r.attempts, 3);
	assert_int_equal(r.at, T0 + 3); /* each refusal after 1 ms, no waiting for timeouts */
	assert_int_equal(f->nopen, 0);
	fake_free(f);
}

static void test_engine_open_fails(void **state)
{
	struct zc_engine_opts o;
	struct fake *f;
	struct result r = { 0 };

	(void)state;
	opts(&o);
	f = fake_new(&o, srv_answer);
	f->open_err = -EMFILE;
	query(f, "192.0.2.1", 0, &r);
	assert_int_equal(r.calls, 0);
	run(f);
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.status, -EMFILE);
	fake_free(f);
}

static void test_engine_tcp_connect_refused(void **state)
{
	struct zc_engine_opts o;
	struct fake *f;
	struct result r = { 0 };

	(void)state;
	opts(&o);
	f = fake_new(&o, srv_answer);
	f->connect_err = -ECONNREFUSED;
	query(f, "192.0.2.1", ZC_Q_TCP, &r);
	run(f);
	assert_int_equal(r.status, ZC_ECONN);
	assert_int_equal(r.attempts, 3);
	assert_int_equal(f->tcp_opens, 3);
	assert_int_equal(f->nopen, 0);
	fake_free(f);
}

static void test_engine_tcp_timeout_new_connection(void **state)
{
	struct fake *f;
	struct result r = { 0 };

	(void)state;
	f = run_one(srv_silent, "192.0.2.1", ZC_Q_TCP, &r);
	assert_int_equal(r.status, ZC_ETIMEOUT);
	assert_int_equal(r.attempts, 3);
	/* a connection that let a query time out takes no more: each retry reconnects */
	assert_int_equal(f->tcp_opens, 3);
	assert_int_equal(r.at, T0 + 100 + 200 + 400);
	assert_int_equal(f->nopen, 0);
	fake_free(f);
}

static void test_engine_tcp_pipelining(void **state)
{
	struct zc_engine_opts o;
	struct fake *f;
	struct result r[50];
	struct zc_engine_stats st;

	(void)state;
	opts(&o);
	o.max_inflight_per_server = 50;
	o.timeout_ms = 1000;
	o.max_timeout_ms = 1000;
	f = fake_new(&o, srv_reverse);
	memset(r, 0, sizeof(r));
	for (size_t i = 0; i < 50; i++) {
		query(f, "192.0.2.1", ZC_Q_TCP, &r[i]);
	}
	run(f);
	for (size_t i = 0; i < 50; i++) {
		assert_int_equal(r[i].calls, 1);
		assert_int_equal(r[i].status, 0);
		assert_true(r[i].tcp);
		assert_int_equal(r[i].attempts, 1);
	}
	assert_int_equal(f->tcp_opens, 1);
	assert_int_equal(f->socks->max_outstanding, 50);
	assert_true(f->out_of_order > 0); /* answers came back in another order */
	zc_engine_get_stats(f->eng, &st);
	assert_int_equal(st.tcp_connects, 1);
	assert_int_equal(st.tcp_sent, 50);
	assert_int_equal(st.ignored, 0);
	check_stats_settled(f);
	fake_free(f);
}

static void test_engine_tcp_pipeline_cap(void **state)
{
	struct zc_engine_opts o;
	struct fake *f;
	struct result r[20];

	(void)state;
	opts(&o);
	o.max_inflight_per_server = 20;
	o.tcp_pipeline = 8;
	f = fake_new(&o, srv_answer);
	memset(r, 0, sizeof(r));
	for (size_t i = 0; i < 20; i++) {
		query(f, "192.0.2.1", ZC_Q_TCP, &r[i]);
	}
	run(f);
	for (size_t i = 0; i < 20; i++) {
		assert_int_equal(r[i].status, 0);
	}
	assert_int_equal(f->tcp_opens, 3);
	for (struct fsock *s = f->socks; s; s = s->next) {
		assert_true(s->max_outstanding <= 8);
	}
	fake_free(f);
}

static void test_engine_tcp_reuse_and_idle_close(void **state)
{
	struct zc_engine_opts o;
	struct fake *f;
	struct result r[21];

	(void)state;
	opts(&o);
	f = fake_new(&o, srv_answer);
	memset(r, 0, sizeof(r));
	for (size_t i = 0; i < 10; i++) {
		query(f, "192.0.2.1", ZC_Q_TCP, &r[i]);
	}
	run_until(f, T0 + 100);
	assert_int_equal(f->ncb, 10);
	assert_int_equal(f->nopen, 1);
	/* the open connection is reused */
	for (size_t i = 10; i < 20; i++) {
		query(f, "192.0.2.1", ZC_Q_TCP, &r[i]);
	}
	run_until(f, T0 + 200);
	assert_int_equal(f->ncb, 20);
	assert_int_equal(f->tcp_opens, 1);
	/* idle for tcp_idle_ms: closed by us */
	run_until(f, T0 + 200 + o.tcp_idle_ms + 100);
	assert_int_equal(f->nopen, 0);
	query(f, "192.0.2.1", ZC_Q_TCP, &r[20]);
	run(f);
	assert_int_equal(r[20].status, 0);
	assert_int_equal(f->tcp_opens, 2);
	fake_free(f);
}

static void test_engine_tcp_reconnect_after_close(void **state)
{
	struct zc_engine_opts o;
	struct fake *f;
	struct result r[20];
	struct zc_engine_stats st;

	(void)state;
	opts(&o);
	f = fake_new(&o, srv_close_after);
	f->close_after = 3;
	memset(r, 0, sizeof(r));
	for (size_t i = 0; i < 10; i++) {
		query(f, "192.0.2.1", ZC_Q_TCP, &r[i]);
	}
	run_until(f, T0 + 100 + o.tcp_idle_ms);
	/* 3 answered, then the server closed: the 7 others went out again, spread over
	 * new connections of at most 3 queries each (the limit it showed) */
	for (size_t i = 0; i < 10; i++) {
		assert_int_equal(r[i].calls, 1);
		assert_int_equal(r[i].status, 0);
		assert_true(r[i].attempts <= 2);
	}
	zc_engine_get_stats(f->eng, &st);
	assert_int_equal(st.tcp_resends, 7);
	assert_int_equal(st.tcp_connects, 1 + 3);
	assert_int_equal(st.timeouts, 0);
	assert_int_equal(f->nopen, 0);
	/* the limit stays learned (the server struct lingers): no more losses */
	for (size_t i = 10; i < 20; i++) {
		query(f, "192.0.2.1", ZC_Q_TCP, &r[i]);
	}
	run_until(f, f->now + 100);
	for (size_t i = 10; i < 20; i++) {
		assert_int_equal(r[i].status, 0);
		assert_int_equal(r[i].attempts, 1);
	}
	zc_engine_get_stats(f->eng, &st);
	assert_int_equal(st.tcp_resends, 7);
	assert_int_equal(st.tcp_connects, 4 + 4);
	assert_int_equal(f->eng->nservers, 1);
	for (struct fsock *s = f->socks; s; s = s->next) {
		assert_true(s->nqueries <= 10);
		assert_true(s->id == 1 || s->nqueries <= 3);
	}
	fake_free(f);
}

static void test_engine_tcp_partial_io_large_answer(void **state)
{
	struct zc_engine_opts o;
	struct fake *f;
	struct result r[5];

	(void)state;
	opts(&o);
	f = fake_new(&o, srv_answer);
	f->tcp_send_max = 3;
	f->tcp_recv_max = 5;
	f->txt = 300; /* about 20 kB: more than the first read buffer */
	memset(r, 0, sizeof(r));
	for (size_t i = 0; i < 5; i++) {
		query(f, "192.0.2.1", ZC_Q_TCP, &r[i]);
	}
	run(f);
	for (size_t i = 0; i < 5; i++) {
		assert_int_equal(r[i].status, 0);
		assert_int_equal(r[i].ancount, 301);
		assert_true(r[i].wire_len > 16000);
	}
	assert_int_equal(f->tcp_opens, 1);
	fake_free(f);
}

/* A short read took all the stream had: no recv() after it only to find EAGAIN. */
static void test_engine_tcp_no_read_after_short_read(void **state)
{
	struct zc_engine_opts o;
	struct fake *f;
	struct result r[8];

	(void)state;
	opts(&o);
	f = fake_new(&o, srv_answer);
	memset(r, 0, sizeof(r));
	for (size_t i = 0; i < 8; i++) {
		query(f, "192.0.2.1", ZC_Q_TCP, &r[i]);
	}
	run(f);
	for (size_t i = 0; i < 8; i++) {
		assert_int_equal(r[i].status, 0);
	}
	assert_int_equal(f->tcp_opens, 1);
	assert_true(f->tcp_recvs >= 8);
	assert_int_equal(f->tcp_eagain, 0);
	fake_free(f);
}

static void test_engine_udp_large_answer(void **state)
{
	struct zc_engine_opts o;
	struct fake *f;
	struct result r = { 0 };

	(void)state;
	opts(&o);
	f = fake_new(&o, srv_answer);
	f->txt = 60;
	query(f, "192.0.2.1", 0, &r);
	run(f);
	assert_int_equal(r.status, 0);
	assert_false(r.tcp);
	assert_int_equal(r.ancount, 61);
	assert_true(r.wire_len > 3000);
	fake_free(f);
}

static void test_engine_per_server_cap_1000(void **state)
{
	static struct result r[1000];
	struct zc_engine_opts o;
	struct fake *f;
	struct zc_engine_stats st;

	(void)state;
	opts(&o);
	o.max_inflight_per_server = 10;
	f = fake_new(&o, srv_answer);
	memset(r, 0, sizeof(r));
	for (size_t i = 0; i < 1000; i++) {
		query(f, "192.0.2.1", 0, &r[i]);
	}
	zc_engine_get_stats(f->eng, &st);
	assert_int_equal(st.queued, 1000);
	run(f);
	for (size_t i = 0; i < 1000; i++) {
		assert_int_equal(r[i].calls, 1);
		assert_int_equal(r[i].status, 0);
	}
	assert_int_equal(f->max_outstanding[1], 10);
	assert_true(f->max_open <= 10);
	zc_engine_get_stats(f->eng, &st);
	assert_int_equal(st.max_inflight_per_server_seen, 10);
	assert_int_equal(st.max_inflight_seen, 10);
	assert_int_equal(st.answered, 1000);
	/* 100 rounds of 10 ms */
	assert_int_equal(r[999].at, T0 + 1000);
	/* FIFO per server */
	for (size_t i = 1; i < 1000; i++) {
		assert_true(r[i].at >= r[i - 1].at);
	}
	check_stats_settled(f);
	fake_free(f);
}

static void test_engine_global_cap_fair(void **state)
{
	static struct result r[1000];
	struct zc_engine_opts o;
	struct fake *f;
	struct zc_engine_stats st;
	bool seen[256] = { false };

	(void)state;
	opts(&o);
	o.max_inflight = 20;
	o.max_inflight_per_server = 10;
	f = fake_new(&o, srv_answer);
	memset(r, 0, sizeof(r));
	/* server-major order: 20 queries to .1, then 20 to .2, ... */
	for (size_t i = 0; i < 1000; i++) {
		char a[32];

		(void)snprintf(a, sizeof(a), "192.0.2.%zu", 1 + i / 20);
		query(f, a, 0, &r[i]);
	}
	run(f);
	for (size_t i = 0; i < 1000; i++) {
		assert_int_equal(r[i].status, 0);
	}
	assert_int_equal(f->max_total_out, 20);
	for (size_t k = 1; k <= 50; k++) {
		assert_true(f->max_outstanding[k] <= 10);
	}
	/* round robin: the first 20 sends go to 20 different servers */
	for (size_t i = 0; i < 20; i++) {
		assert_false(seen[f->sent[i].server]);
		seen[f->sent[i].server] = true;
	}
	zc_engine_get_stats(f->eng, &st);
	assert_int_equal(st.max_inflight_seen, 20);
	check_stats_settled(f);
	fake_free(f);
}

/*
 * The turn starts its queries round robin over the servers, but their datagrams go
 * out each server's together at the end of the turn (a server woken by the first
 * finds the others queued).
 */
static void test_engine_udp_grouped_per_server(void **state)
{
	static struct result r[8];
	struct zc_engine_opts o;
	struct fake *f;

	(void)state;
	opts(&o);
	f = fake_new(&o, srv_answer);
	memset(r, 0, sizeof(r));
	for (size_t i = 0; i < 8; i++) {
		query(f, i % 2 ? "192.0.2.2" : "192.0.2.1", 0, &r[i]);
	}
	run(f);
	for (size_t i = 0; i < 8; i++) {
		assert_int_equal(r[i].status, 0);
	}
	assert_int_equal(f->nsent, 8);
	for (size_t i = 1; i < 8; i++) {
		assert_int_equal(f->sent[i].server == f->sent[0].server, i < 4);
	}
	check_stats_settled(f);
	fake_free(f);
}

static void test_engine_qps_limit(void **state)
{
	static struct result r[200];
	struct zc_engine_opts o;
	struct fake *f;
	unsigned wakeups_before;

	(void)state;
	opts(&o);
	o.qps_per_server = 20;
	o.max_inflight_per_server = 100;
	f = fake_new(&o, srv_answer);
	f->delay_ms = 5;
	memset(r, 0, sizeof(r));
	/* 100 queries each to two servers: the limit is per server */
	for (size_t i = 0; i < 200; i++) {
		query(f, i % 2 ? "192.0.2.2" : "192.0.2.1", 0, &r[i]);
	}
	wakeups_before = f->wakeups;
	run(f);
	for (size_t i = 0; i < 200; i++) {
		assert_int_equal(r[i].status, 0);
	}
	assert_int_equal(f->nsent, 200);
	/* no more than 20 sends in any one-second window, per server */
	for (size_t i = 0; i < f->nsent; i++) {
		unsigned in_window = 0;

		for (size_t j = i; j < f->nsent && f->sent[j].at < f->sent[i].at + 1000; j++) {
			in_window += f->sent[j].server == f->sent[i].server;
		}
		assert_true(in_window <= 20);
	}
	/* and not much slower either: 100 queries at 20/s take 5 s */
	assert_true(f->sent[f->nsent - 1].at <= T0 + 5000);
	assert_true(f->sent[f->nsent - 1].at >= T0 + 4900);
	/* timer-driven release, no busy loop: a few wakeups per query at most */
	assert_true(f->wakeups - wakeups_before < 3 * 200);
	check_stats_settled(f);
	fake_free(f);
}

/*
 * Engines on several threads share their buckets through a zc_rate_limit: what one
 * takes, the others cannot; a full bucket is the same as none and is dropped.
 */
static void test_rate_limit_shared(void **state)
{
	struct zc_rate_limit *rl;
	socklen_t len;
	struct sockaddr_storage a = addr("192.0.2.1", &len), b = addr("192.0.2.2", &len);
	struct sockaddr_storage a2 = a;
	uint64_t next = 0;

	(void)state;
	assert_int_equal(zc_rate_limit_new(0, &rl), -EINVAL);
	assert_int_equal(zc_rate_limit_new(10000001, &rl), -EINVAL);
	assert_int_equal(zc_rate_limit_new(20, &rl), 0); /* bursts of one: one per 50 ms */
	assert_true(zc_rate_limit_take(rl, &a, T0, &next));
	assert_false(zc_rate_limit_take(rl, &a, T0, &next)); /* "the other engine" */
	assert_int_equal(next, T0 + 50);
	assert_false(zc_rate_limit_take(rl, &a, T0 + 49, &next));
	assert_int_equal(next, T0 + 50);
	assert_true(zc_rate_limit_take(rl, &a, T0 + 50, &next));
	/* another address, or the same one at another port, has a bucket of its own */
	assert_true(zc_rate_limit_take(rl, &b, T0 + 50, &next));
	((struct sockaddr_in *)&a2)->sin_port = htons(5353);
	assert_true(zc_rate_limit_take(rl, &a2, T0 + 50, &next));
	assert_int_equal(zc_rate_limit_count(rl), 3);
	zc_rate_limit_free(rl);

	/* 40,000 servers, half of them asked again a second later: the table holds the
	 * busy ones, not every server ever asked */
	assert_int_equal(zc_rate_limit_new(20, &rl), 0);
	for (uint32_t i = 0; i < 40000; i++) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&a;

		s4->sin_addr.s_addr = htonl(0x0a000000u + i);
		assert_true(zc_rate_limit_take(rl, &a, i < 20000 ? T0 : T0 + 1000, &next));
	}
	assert_true(zc_rate_limit_count(rl) < 30000);
	assert_true(zc_rate_limit_count(rl) >= 20000);
	zc_rate_limit_free(rl);
	zc_rate_limit_free(NULL);
}

/* An engine with a shared rate limit keeps to it and sees what others took. */
static void test_engine_qps_shared(void **state)
{
	static struct result r[100];
	struct zc_engine_opts o;
	struct zc_rate_limit *rl;
	socklen_t len;
	struct sockaddr_storage a = addr("192.0.2.1", &len);
	uint64_t next;
	struct fake *f;

	(void)state;
	assert_int_equal(zc_rate_limit_new(20, &rl), 0);
	opts(&o);
	o.qps_per_server = 0; /* replaced by the shared limit's */
	o.rate_limit = rl;
	o.max_inflight_per_server = 100;
	f = fake_new(&o, srv_answer);
	f->delay_ms = 5;
	/* another engine took this moment's token */
	assert_true(zc_rate_limit_take(rl, &a, T0, &next));
	memset(r, 0, sizeof(r));
	for (size_t i = 0; i < 100; i++) {
		query(f, "192.0.2.1", 0, &r[i]);
	}
	run(f);
	for (size_t i = 0; i < 100; i++) {
		assert_int_equal(r[i].status, 0);
	}
	assert_int_equal(f->nsent, 100);
	assert_true(f->sent[0].at >= T0 + 50);
	for (size_t i = 1; i < f->nsent; i++) {
		assert_true(f->sent[i].at - f->sent[i - 1].at >= 50);
	}
	assert_true(f->sent[f->nsent - 1].at <= T0 + 5100);
	check_stats_settled(f);
	fake_free(f);
	zc_rate_limit_free(rl);
}

static void test_engine_qps_counts_retries(void **state)
{
	struct zc_engine_opts o;
	struct fake *f;
	struct result r[4];

	(void)state;
	opts(&o);
	o.qps_per_server = 10; /* one query per 100 ms */
	o.timeout_ms = 20;
	o.max_timeout_ms = 20;
	o.retries = 2;
	f = fake_new(&o, srv_silent);
	memset(r, 0, sizeof(r));
	for (size_t i = 0; i < 4; i++) {
		query(f, "192.0.2.1", 0, &r[i]);
	}
	run(f);
	assert_int_equal(f->nsent, 12);
	for (size_t i = 1; i < f->nsent; i++) {
		assert_true(f->sent[i].at - f->sent[i - 1].at >= 100);
	}
	for (size_t i = 0; i < 4; i++) {
		assert_int_equal(r[i].status, ZC_ETIMEOUT);
	}
	fake_free(f);
}

static void test_engine_queue_limit(void **state)
{
	struct zc_engine_opts o;
	struct fake *f;
	struct result r[7];
	struct zc_engine_stats st;

	(void)state;
	opts(&o);
	o.max_queue = 5;
	f = fake_new(&o, srv_answer);
	memset(r, 0, sizeof(r));
	for (size_t i = 0; i < 5; i++) {
		query(f, "192.0.2.1", 0, &r[i]);
	}
	assert_int_equal(query_flags(f, "192.0.2.1", "example.com.", LDNS_RR_TYPE_A, 0, &r[5]),
			 ZC_ELIMIT);
	zc_engine_get_stats(f->eng, &st);
	assert_int_equal(st.queries, 5);
	run(f);
	assert_int_equal(f->ncb, 5);
	assert_int_equal(r[5].calls, 0);
	/* room again */
	query(f, "192.0.2.1", 0, &r[6]);
	run(f);
	assert_int_equal(r[6].status, 0);
	fake_free(f);
}

static void test_engine_cancel_on_free(void **state)
{
	struct zc_engine_opts o;
	struct fake *f;
	struct result r[33];

	(void)state;
	opts(&o);
	o.max_inflight = 10;
	o.timeout_ms = 1000;
	o.max_timeout_ms = 1000;
	f = fake_new(&o, srv_silent);
	memset(r, 0, sizeof(r));
	/* in flight: TCP to .2, UDP to .3 and 8 to .1; queued: 22 to .1 */
	query(f, "192.0.2.2", ZC_Q_TCP, &r[0]);
	query(f, "192.0.2.3", 0, &r[1]);
	for (size_t i = 2; i < 32; i++) {
		query(f, "192.0.2.1", 0, &r[i]);
	}
	r[0].requery = 1;
	r[0].next_res = &r[32];
	run_until(f, T0 + 10);
	assert_int_equal(f->ncb, 0);
	assert_int_equal(f->tcp_queries, 1);
	assert_int_equal(zc_engine_set_transport(f->eng, &fake_ops, f), -EBUSY);
	zc_engine_free(f->eng);
	f->eng = NULL;
	for (size_t i = 0; i < 32; i++) {
		assert_int_equal(r[i].calls, 1);
		assert_int_equal(r[i].status, ZC_ECANCELED);
	}
	/* a query from a callback while the engine shuts down is refused */
	assert_int_equal(r[0].requery_ret, ZC_ECANCELED);
	assert_int_equal(r[32].calls, 0);
	assert_int_equal(f->nopen, 0);
	fake_free(f);
}

static void test_engine_cancel_waiting_for_token(void **state)
{
	struct zc_engine_opts o;
	struct fake *f;
	struct result r[3];

	(void)state;
	opts(&o);
	o.qps_per_server = 1;
	o.timeout_ms = 10;
	o.max_timeout_ms = 10;
	f = fake_new(&o, srv_silent);
	memset(r, 0, sizeof(r));
	for (size_t i = 0; i < 3; i++) {
		query(f, "192.0.2.1", 0, &r[i]);
	}
	/* the first timed out and waits for a token to retry; the others wait in the queue */
	run_until(f, T0 + 500);
	assert_int_equal(f->nsent, 1);
	zc_engine_free(f->eng);
	f->eng = NULL;
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(r[i].status, ZC_ECANCELED);
		assert_int_equal(r[i].attempts, i == 0 ? 1 : 0);
	}
	fake_free(f);
}

static void test_engine_query_from_callback(void **state)
{
	struct zc_engine_opts o;
	struct fake *f;
	struct result r[2];

	(void)state;
	opts(&o);
	f = fake_new(&o, srv_answer);
	memset(r, 0, sizeof(r));
	r[0].requery = 1;
	r[0].next_res = &r[1];
	query(f, "192.0.2.1", 0, &r[0]);
	run(f);
	assert_int_equal(r[0].status, 0);
	assert_int_equal(r[0].requery_ret, 0);
	assert_int_equal(r[1].calls, 1);
	assert_int_equal(r[1].status, 0);
	assert_int_equal(r[1].at, T0 + 20);
	fake_free(f);
}

static void test_engine_udp_send_eagain(void **state)
{
	struct zc_engine_opts o;
	struct fake *f;
	struct result r = { 0 };
	struct zc_engine_stats st;

	(void)state;
	opts(&o);
	f = fake_new(&o, srv_answer);
	f->udp_send_err = -EAGAIN;
	f->udp_send_errs = 2;
	query(f, "192.0.2.1", 0, &r);
	run(f);
	assert_int_equal(r.status, 0);
	assert_int_equal(r.attempts, 1);
	zc_engine_get_stats(f->eng, &st);
	assert_int_equal(st.udp_sent, 1);
	fake_free(f);
}

static void test_engine_udp_send_error_retries(void **state)
{
	struct zc_engine_opts o;
	struct fake *f;
	struct result r = { 0 };

	(void)state;
	opts(&o);
	f = fake_new(&o, srv_answer);
	f->udp_send_err = -ECONNREFUSED;
	f->udp_send_errs = 1;
	query(f, "192.0.2.1", 0, &r);
	run(f);
	assert_int_equal(r.status, 0);
	assert_int_equal(r.attempts, 2);
	f->udp_send_err = -EHOSTUNREACH;
	f->udp_send_errs = 3;
	memset(&r, 0, sizeof(r));
	query(f, "192.0.2.1", 0, &r);
	run(f);
	assert_int_equal(r.status, -EHOSTUNREACH);
	assert_int_equal(r.attempts, 3);
	fake_free(f);
}

static void test_engine_tcp_send_eagain(void **state)
{
	struct zc_engine_opts o;
	struct fake *f;
	struct result r[3];

	(void)state;
	opts(&o);
	f = fake_new(&o, srv_answer);
	f->tcp_send_err = -EAGAIN;
	f->tcp_send_errs = 3;
	memset(r, 0, sizeof(r));
	for (size_t i = 0; i < 3; i++) {
		query(f, "192.0.2.1", ZC_Q_TCP, &r[i]);
	}
	run(f);
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(r[i].status, 0);
		assert_int_equal(r[i].attempts, 1);
	}
	assert_int_equal(f->tcp_opens, 1);
	fake_free(f);
}

/* TCP: the first connection is reset after the query, later ones answer. */
static void srv_reset_first(struct fake *f, struct fsock *s, const uint8_t *q, size_t len)
{
	if (s->id == 1) {
		schedule_kind(f, s, 1, FEV_ERR, -ECONNRESET);
		return;
	}
	answer(f, s, q, len, NULL, 1);
}

static void test_engine_tcp_reset_resend(void **state)
{
	struct fake *f;
	struct result r = { 0 };
	struct zc_engine_stats st;

	(void)state;
	f = run_one(srv_reset_first, "192.0.2.1", ZC_Q_TCP, &r);
	assert_int_equal(r.status, 0);
	assert_int_equal(r.attempts, 2);
	zc_engine_get_stats(f->eng, &st);
	assert_int_equal(st.tcp_resends, 1);
	assert_int_equal(st.tcp_connects, 2);
	fake_free(f);
}

/* TCP: frames that are not the answer, then the answer. */
static void srv_tcp_spoof(struct fake *f, struct fsock *s, const uint8_t *q, size_t len)
{
	static const uint8_t shortframe[5] = { 0 };
	uint8_t bad[12];

	reply_from(f, s, shortframe, sizeof(shortframe), 1, NULL, false);
	answer(f, s, q, len, &(struct mod){ .id_xor = 0x8000 }, 2);
	answer(f, s, q, len, &(struct mod){ .qname = "example.org." }, 3);
	answer(f, s, q, len, &(struct mod){ .no_question = true }, 4);
	memcpy(bad, q, 12);
	bad[2] |= 0x80;
	reply_from(f, s, bad, sizeof(bad), 5, NULL, false); /* QDCOUNT 1, no question */
	answer(f, s, q, len, NULL, 6);
}

static void test_engine_tcp_spoofed_frames(void **state)
{
	struct fake *f;
	struct result r = { 0 };
	struct zc_engine_stats st;

	(void)state;
	f = run_one(srv_tcp_spoof, "192.0.2.1", ZC_Q_TCP, &r);
	assert_int_equal(r.status, 0);
	assert_int_equal(r.at, T0 + 6);
	zc_engine_get_stats(f->eng, &st);
	assert_int_equal(st.ignored, 5);
	fake_free(f);
}

static void test_engine_many_servers(void **state)
{
	static struct result r[600];
	struct zc_engine_opts o;
	struct fake *f;
	struct zc_engine_stats st;

	(void)state;
	opts(&o);
	f = fake_new(&o, srv_answer);
	memset(r, 0, sizeof(r));
	/* 300 addresses: the server table grows several times */
	for (size_t i = 0; i < 600; i++) {
		char a[48];

		(void)snprintf(a, sizeof(a), "%s%zu@%zu", i % 2 ? "2001:db8::" : "10.0.0.",
			       1 + (i / 2) % 200, 53 + i / 400);
		query(f, a, 0, &r[i]);
	}
	run(f);
	for (size_t i = 0; i < 600; i++) {
		assert_int_equal(r[i].status, 0);
	}
	zc_engine_get_stats(f->eng, &st);
	assert_int_equal(st.answered, 600);
	check_stats_settled(f);
	/* idle server structs are released after lingering */
	assert_int_equal(f->eng->nservers, 0);
	assert_true(f->now >= T0 + ZC_SERVER_LINGER_MS);
	fake_free(f);
}

static void test_engine_bad_qname(void **state)
{
	static const struct {
		uint8_t data[8];
		size_t len;
	} cases[] = {
		{ { 3, 'c', 'o', 'm' }, 4 },         /* no root label */
		{ { 3, 'c', 'o', 'm', 0, 0 }, 6 },   /* bytes after the root */
		{ { 0xc0, 0x0c }, 2 },               /* compression pointer */
		{ { 0x40, 'a', 0 }, 3 },             /* label type 01 */
		{ { 5, 'a', 0 }, 3 },                /* label past the end */
	};
	struct zc_engine_opts o;
	struct fake *f;
	struct result r = { 0 };
	socklen_t len;
	struct sockaddr_storage ss = addr("192.0.2.1", &len);

	(void)state;
	opts(&o);
	f = fake_new(&o, srv_answer);
	r.f = f;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ldns_rdf *n =
			ldns_rdf_new_frm_data(LDNS_RDF_TYPE_DNAME, cases[i].len, cases[i].data);

		assert_non_null(n);
		assert_int_equal(zc_engine_query(f->eng, (struct sockaddr *)&ss, len, n,
						 LDNS_RR_TYPE_A, 0, on_done, &r),
				 -EINVAL);
		ldns_rdf_deep_free(n);
	}
	/* the root name is fine */
	{
		ldns_rdf *root = ldns_dname_new_frm_str(".");

		r.f = f;
		f->in_query = true;
		assert_int_equal(zc_engine_query(f->eng, (struct sockaddr *)&ss, len, root,
						 LDNS_RR_TYPE_NS, 0, on_done, &r),
				 0);
		f->in_query = false;
		ldns_rdf_deep_free(root);
	}
	run(f);
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.status, 0);
	fake_free(f);
}

static void test_engine_addr_parse(void **state)
{
	static const struct {
		const char *in;
		int ret;
		const char *out;
	} cases[] = {
		{ "192.0.2.1", 0, "192.0.2.1@53" },
		{ "192.0.2.1@5353", 0, "192.0.2.1@5353" },
		{ "2001:db8::1", 0, "2001:db8::1@53" },
		{ "2001:db8::1@54", 0, "2001:db8::1@54" },
		{ "[2001:db8::1]:55", 0, "2001:db8::1@55" },
		{ "[2001:db8::1]@56", 0, "2001:db8::1@56" },
		{ "[2001:db8::1]", 0, "2001:db8::1@53" },
		{ "::ffff:192.0.2.1", 0, "::ffff:192.0.2.1@53" },
		{ "", -EINVAL, NULL },
		{ "192.0.2", -EINVAL, NULL },
		{ "127.1", -EINVAL, NULL },
		{ "192.0.2.1@", -EINVAL, NULL },
		{ "192.0.2.1@0", -EINVAL, NULL },
		{ "192.0.2.1@65536", -EINVAL, NULL },
		{ "192.0.2.1@53x", -EINVAL, NULL },
		{ "192.0.2.1:53", -EINVAL, NULL },
		{ "[192.0.2.1]:53", -EINVAL, NULL },
		{ "[2001:db8::1", -EINVAL, NULL },
		{ "[2001:db8::1]x", -EINVAL, NULL },
		{ "ns1.example.com", -EINVAL, NULL },
		{ "2001:db8::1%nosuchif0", -EINVAL, NULL },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sockaddr_storage ss;
		socklen_t len = 0;
		char buf[80];

		assert_int_equal(zc_addr_parse(cases[i].in, 53, &ss, &len), cases[i].ret);
		if (cases[i].ret == 0) {
			size_t want = ss.ss_family == AF_INET ? sizeof(struct sockaddr_in)
							      : sizeof(struct sockaddr_in6);

			assert_int_equal(zc_addr_to_str((struct sockaddr *)&ss, buf, sizeof(buf)),
					 0);
			assert_string_equal(buf, cases[i].out);
			assert_int_equal(len, want);
		}
	}
	{
		struct sockaddr_storage ss;
		socklen_t len;
		char small[8], buf[80];
		struct sockaddr unix_sa = { .sa_family = AF_UNIX };

		assert_int_equal(zc_addr_parse("192.0.2.1", 53, &ss, &len), 0);
		assert_int_equal(zc_addr_to_str((struct sockaddr *)&ss, small, sizeof(small)),
				 ZC_ELIMIT);
		assert_int_equal(zc_addr_to_str(&unix_sa, small, sizeof(small)), -EINVAL);
		/* IPv4 at the edges, and a buffer that fits exactly or is one short */
		assert_int_equal(zc_addr_parse("255.255.255.255@65535", 53, &ss, &len), 0);
		assert_int_equal(zc_addr_to_str((struct sockaddr *)&ss, buf, 22), 0);
		assert_string_equal(buf, "255.255.255.255@65535");
		assert_int_equal(zc_addr_to_str((struct sockaddr *)&ss, buf, 21), ZC_ELIMIT);
		assert_int_equal(zc_addr_parse("0.0.0.0@1", 53, &ss, &len), 0);
		assert_int_equal(zc_addr_to_str((struct sockaddr *)&ss, buf, sizeof(buf)), 0);
		assert_string_equal(buf, "0.0.0.0@1");
		assert_int_equal(zc_addr_parse("10.200.3.99", 53, &ss, &len), 0);
		assert_int_equal(zc_addr_to_str((struct sockaddr *)&ss, small, sizeof(small)),
				 ZC_ELIMIT);
		assert_int_equal(zc_addr_to_str((struct sockaddr *)&ss, buf, sizeof(buf)), 0);
		assert_string_equal(buf, "10.200.3.99@53");
		assert_int_equal(zc_addr_parse(NULL, 53, &ss, &len), -EINVAL);
		assert_int_equal(zc_addr_parse("fe80::1%1", 53, &ss, &len), 0);
		assert_int_equal(((struct sockaddr_in6 *)&ss)->sin6_scope_id, 1);
		assert_int_equal(zc_addr_parse("fe80::1%lo@54", 53, &ss, &len), 0);
		assert_int_equal(((struct sockaddr_in6 *)&ss)->sin6_scope_id, if_nametoindex("lo"));
		assert_int_equal(zc_addr_to_str((struct sockaddr *)&ss, buf, sizeof(buf)), 0);
		assert_string_equal(buf, "fe80::1%lo@54");
		((struct sockaddr_in6 *)&ss)->sin6_scope_id = 999999;
		assert_int_equal(zc_addr_to_str((struct sockaddr *)&ss, buf, sizeof(buf)), 0);
		assert_string_equal(buf, "fe80::1%999999@54");
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_engine_opts_default),
		cmocka_unit_test(test_engine_new_rejects_bad_opts),
		cmocka_unit_test(test_engine_udp_answer),
		cmocka_unit_test(test_engine_query_flags),
		cmocka_unit_test(test_engine_query_einval),
		cmocka_unit_test(test_engine_tc_fallback),
		cmocka_unit_test(test_engine_tcp_only),
		cmocka_unit_test(test_engine_timeout_backoff),
		cmocka_unit_test(test_engine_timeout_then_answer),
		cmocka_unit_test(test_engine_spoofed_ignored),
		cmocka_unit_test(test_engine_question_case_insensitive),
		cmocka_unit_test(test_engine_malformed_answer),
		cmocka_unit_test(test_engine_wire_only),
		cmocka_unit_test(test_engine_wire_only_structure),
		cmocka_unit_test(test_engine_ipv6),
		cmocka_unit_test(test_engine_udp_refused),
		cmocka_unit_test(test_engine_open_fails),
		cmocka_unit_test(test_engine_tcp_connect_refused),
		cmocka_unit_test(test_engine_tcp_timeout_new_connection),
		cmocka_unit_test(test_engine_tcp_pipelining),
		cmocka_unit_test(test_engine_tcp_pipeline_cap),
		cmocka_unit_test(test_engine_tcp_reuse_and_idle_close),
		cmocka_unit_test(test_engine_tcp_reconnect_after_close),
		cmocka_unit_test(test_engine_tcp_partial_io_large_answer),
		cmocka_unit_test(test_engine_tcp_no_read_after_short_read),
		cmocka_unit_test(test_engine_udp_large_answer),
		cmocka_unit_test(test_engine_per_server_cap_1000),
		cmocka_unit_test(test_engine_global_cap_fair),
		cmocka_unit_test(test_engine_udp_grouped_per_server),
		cmocka_unit_test(test_engine_qps_limit),
		cmocka_unit_test(test_engine_qps_counts_retries),
		cmocka_unit_test(test_rate_limit_shared),
		cmocka_unit_test(test_engine_qps_shared),
		cmocka_unit_test(test_engine_queue_limit),
		cmocka_unit_test(test_engine_cancel_on_free),
		cmocka_unit_test(test_engine_cancel_waiting_for_token),
		cmocka_unit_test(test_engine_query_from_callback),
		cmocka_unit_test(test_engine_udp_send_eagain),
		cmocka_unit_test(test_engine_udp_send_error_retries),
		cmocka_unit_test(test_engine_tcp_send_eagain),
		cmocka_unit_test(test_engine_tcp_reset_resend),
		cmocka_unit_test(test_engine_tcp_spoofed_frames),
		cmocka_unit_test(test_engine_many_servers),
		cmocka_unit_test(test_engine_bad_qname),
		cmocka_unit_test(test_engine_addr_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
