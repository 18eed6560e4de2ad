/* SPDX-License-Identifier: MIT */
/*
 * net/engine.c: the query engine's core: the public API, the per-query state
 * machine (zc_query_step), the timer heap behind the single transport wakeup, the
 * per-server table with its FIFO, in-flight caps, token bucket and the round-robin
 * ring that shares the global cap fairly between servers. UDP attempts live here;
 * TCP connections are in engine-tcp.c, real sockets in engine-sys.c.
 */
#include "net/internal.h"

#include <assert.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#define ALL_QUERY_FLAGS \
	(ZC_Q_DNSSEC | ZC_Q_TCP | ZC_Q_RD | ZC_Q_CD | ZC_Q_NOEDNS | ZC_Q_WIRE_ONLY)
/* Sanity bounds of the options; beyond them arithmetic and memory stop making sense. */
#define MAX_TIMEOUT_MS (3600u * 1000u)
#define MAX_PIPELINE 1024u

void zc_engine_opts_default(struct zc_engine_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->max_inflight = 1000;
	o->max_inflight_per_server = 10;
	o->qps_per_server = 0;
	o->timeout_ms = 1500;
	o->retries = 2;
	o->max_timeout_ms = 8000;
	o->edns_bufsize = 1232;
	o->tcp_idle_ms = 5000;
	o->max_queue = 1000000;
	o->tcp_pipeline = ZC_TCP_PIPELINE_DEFAULT;
}

/* 0 selects the default, except qps_per_server and retries where 0 is meaningful. */
static int opts_normalize(const struct zc_engine_opts *in, struct zc_engine_opts *o)
{
	zc_engine_opts_default(o);
	if (!in) {
		return 0;
	}
#define TAKE(f)                \
	do {                   \
		if (in->f) {   \
			o->f = in->f; \
		}              \
	} while (0)
	TAKE(max_inflight);
	TAKE(max_inflight_per_server);
	TAKE(timeout_ms);
	TAKE(max_timeout_ms);
	TAKE(edns_bufsize);
	TAKE(tcp_idle_ms);
	TAKE(max_queue);
	TAKE(tcp_pipeline);
#undef TAKE
	o->qps_per_server = in->qps_per_server;
	o->retries = in->retries;
	o->rate_limit = in->rate_limit;
	if (o->rate_limit) {
		o->qps_per_server = zc_rate_limit_qps(o->rate_limit);
	}
	if (o->timeout_ms > MAX_TIMEOUT_MS || o->max_timeout_ms > MAX_TIMEOUT_MS ||
	    o->tcp_idle_ms > MAX_TIMEOUT_MS || o->max_timeout_ms < o->timeout_ms ||
	    o->edns_bufsize < 512 || o->qps_per_server > ZC_MAX_QPS ||
	    o->tcp_pipeline > MAX_PIPELINE || o->retries > 100) {
		return -EINVAL;
	}
	return 0;
}

uint64_t zc_eng_now(struct zc_engine *eng)
{
	return eng->ops->now_ms(eng->impl);
}

static bool eng_debug(const struct zc_engine *eng)
{
	return eng->ctx && zc_ctx_get_log_level(eng->ctx) >= ZC_LOG_DEBUG;
}

/* "example.com/DNSKEY to 192.0.2.1@53" for debug messages. */
static void query_describe(const struct zc_query *q, char *buf, size_t len)
{
	const ldns_rr_descriptor *d = ldns_rr_descript(q->qtype);
	char addr[INET6_ADDRSTRLEN + 24];
	ldns_rdf name;
	char *n;

	/* a view of the name inside the query, never freed through ldns */
	memset(&name, 0, sizeof(name));
	ldns_rdf_set_type(&name, LDNS_RDF_TYPE_DNAME);
	ldns_rdf_set_size(&name, q->qname_len);
	ldns_rdf_set_data(&name, (void *)(q->wire + q->qname_off));
	n = ldns_rdf2str(&name);

	if (zc_addr_to_str((const struct sockaddr *)&q->srv->sa, addr, sizeof(addr)) < 0) {
		addr[0] = '\0';
	}
	if (d && d->_name) {
		(void)snprintf(buf, len, "%s/%s to %s", n ? n : "?", d->_name, addr);
	} else {
		(void)snprintf(buf, len, "%s/TYPE%u to %s", n ? n : "?", q->qtype, addr);
	}
	free(n);
}

#define QLOG(q, fmt, ...)                                                                   \
	do {                                                                                \
		if (eng_debug((q)->eng)) {                                                  \
			char desc_[400];                                                    \
			query_describe((q), desc_, sizeof(desc_));                          \
			zc_log((q)->eng->ctx, ZC_LOG_DEBUG, "query %s" fmt, desc_, __VA_ARGS__); \
		}                                                                           \
	} while (0)

/* --- timer heap ----------------------------------------------------------
 * One binary min-heap for every deadline (query attempts, connections, token
 * release); the transport only ever holds one wakeup: the heap's minimum. Room is
 * reserved when an object with a timer is created, so arming never allocates.
 */

static void heap_set(struct zc_engine *eng, size_t i, struct zc_timer *t)
{
	eng->heap[i] = t;
	t->idx = i;
}

static void heap_up(struct zc_engine *eng, size_t i)
{
	struct zc_timer *t = eng->heap[i];

	while (i > 0) {
		size_t p = (i - 1) / 2;

		if (eng->heap[p]->at <= t->at) {
			break;
		}
		heap_set(eng, i, eng->heap[p]);
		i = p;
	}
	heap_set(eng, i, t);
}

static void heap_down(struct zc_engine *eng, size_t i)
{
	struct zc_timer *t = eng->heap[i];

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= eng->nheap) {
			break;
		}
		if (c + 1 < eng->nheap && eng->heap[c + 1]->at < eng->heap[c]->at) {
			c++;
		}
		if (eng->heap[c]->at >= t->at) {
			break;
		}
		heap_set(eng, i, eng->heap[c]);
		i = c;
	}
	heap_set(eng, i, t);
}

int zc_timer_reserve(struct zc_engine *eng)
{
	if (eng->heap_reserved == eng->heap_cap) {
		size_t ncap = eng->heap_cap ? eng->heap_cap * 2 : 64;
		struct zc_timer **nh = reallocarray(eng->heap, ncap, sizeof(*nh));

		if (!nh) {
			return -ENOMEM;
		}
		eng->heap = nh;
		eng->heap_cap = ncap;
	}
	eng->heap_reserved++;
	return 0;
}

void zc_timer_unreserve(struct zc_engine *eng)
{
	assert(eng->heap_reserved > eng->nheap);
	eng->heap_reserved--;
}

void zc_timer_arm(struct zc_engine *eng, struct zc_timer *t, uint64_t at)
{
	if (t->idx != ZC_TIMER_IDLE) {
		uint64_t old = t->at;

		t->at = at;
		if (at < old) {
			heap_up(eng, t->idx);
		} else {
			heap_down(eng, t->idx);
		}
		return;
	}
	assert(eng->nheap < eng->heap_reserved);
	t->at = at;
	heap_set(eng, eng->nheap, t);
	eng->nheap++;
	heap_up(eng, eng->nheap - 1);
}

void zc_timer_disarm(struct zc_engine *eng, struct zc_timer *t)
{
	size_t i = t->idx;
	struct zc_timer *last;

	if (i == ZC_TIMER_IDLE) {
		return;
	}
	t->idx = ZC_TIMER_IDLE;
	last = eng->heap[--eng->nheap];
	if (last != t) {
		heap_set(eng, i, last);
		heap_up(eng, i);
		heap_down(eng, last->idx);
	}
}

static void timer_init(struct zc_timer *t, zc_timer_fn fn)
{
	t->at = 0;
	t->idx = ZC_TIMER_IDLE;
	t->fn = fn;
}

/* Fires every timer due at @now; a timer function never arms anything at <= now. */
static void run_timers(struct zc_engine *eng)
{
	uint64_t now = zc_eng_now(eng);

	while (eng->nheap > 0 && eng->heap[0]->at <= now) {
		struct zc_timer *t = eng->heap[0];

		zc_timer_disarm(eng, t);
		t->fn(eng, t);
	}
}

/* Hands the heap minimum (or "now" when work is waiting) to the transport, once. */
static void rearm(struct zc_engine *eng, bool work)
{
	uint64_t at = eng->nheap > 0 ? eng->heap[0]->at : ZC_TIME_NEVER;

	if (work) {
		uint64_t now = zc_eng_now(eng);

		if (now < at) {
			at = now;
		}
	}
	if (at != eng->wake_at) {
		eng->wake_at = at;
		eng->ops->wakeup(eng->impl, at);
	}
}

/* --- sockets --------------------------------------------------------------- */

/* Closing is deferred to the reaper: we may be inside this socket's own event. */
void zc_sock_close(struct zc_engine *eng, struct zc_sock *s)
{
	if (!s || s->closing) {
		return;
	}
	s->closing = true;
	eng->ops->watch(eng->impl, s, 0);
	s->next_dead = eng->dead_socks;
	eng->dead_socks = s;
}

/*
 * UDP socket hand-off. A query attempt normally gets a fresh connected socket, so a
 * fresh random source port (RFC 5452 §9.2). When a query is answered and another
 * query to the same server starts in the same engine turn (a scan keeps each server's
 * queue full), the answered query's socket is handed to it instead of closing one
 * socket and opening the next: it saves socket(), connect(), two epoll_ctl() and
 * close() per query. The port of a socket connected to one server is seen only by
 * that server and the path to it, which could answer anything anyway: an off-path
 * attacker still has to guess port and ID, and every attempt gets a fresh random ID.
 * A timed-out or failed attempt never hands its socket on (a late answer could
 * follow), a socket carries at most ZC_UDP_MAX_USES attempts, and spare sockets
 * are closed at the end of the turn: between turns no socket is idle.
 */
static void server_drop_spares(struct zc_engine *eng, struct zc_server *s)
{
	while (s->spare) {
		struct zc_sock *sk = s->spare;

		s->spare = sk->next_dead;
		sk->next_dead = NULL;
		zc_sock_close(eng, sk);
	}
	zc_list_del(&s->spare_link);
}

static void drop_spares(struct zc_engine *eng)
{
	struct zc_list *n;

	while ((n = zc_list_pop(&eng->spare_servers))) {
		server_drop_spares(eng, zc_container_of(n, struct zc_server, spare_link));
	}
}

/* The answered query @q leaves its UDP socket to the next query of its server. */
static void udp_spare(struct zc_query *q)
{
	struct zc_engine *eng = q->eng;
	struct zc_server *s = q->srv;
	struct zc_sock *sk = q->sock;

	if (!sk || eng->closing || sk->uses >= ZC_UDP_MAX_USES) {
		return; /* attempt_end() closes it */
	}
	q->sock = NULL;
	sk->owner = NULL;
	sk->next_dead = s->spare;
	s->spare = sk;
	if (zc_list_empty(&s->spare_link)) {
		zc_list_add_tail(&eng->spare_servers, &s->spare_link);
	}
}

static struct zc_sock *udp_take_spare(struct zc_server *s)
{
	struct zc_sock *sk = s->spare;

	if (sk) {
		s->spare = sk->next_dead;
		sk->next_dead = NULL;
		if (!s->spare) {
			zc_list_del(&s->spare_link);
		}
	}
	return sk;
}

/* --- servers ----------------------------------------------------------------- */

static uint32_t sa_hash(const struct zc_engine *eng, const struct sockaddr_storage *sa)
{
	/* FNV-1a over family, port and address, seeded per engine against collisions
	 * chosen by whoever writes the glue we are asked to query. */
	const uint8_t *p;
	size_t n;
	uint32_t h = 2166136261u ^ eng->hseed;

	if (sa->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;

		h = (h ^ (uint32_t)s4->sin_port) * 16777619u;
		p = (const uint8_t *)&s4->sin_addr;
		n = sizeof(s4->sin_addr);
	} else {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;

		h = (h ^ (uint32_t)s6->sin6_port) * 16777619u;
		h = (h ^ s6->sin6_scope_id) * 16777619u;
		p = (const uint8_t *)&s6->sin6_addr;
		n = sizeof(s6->sin6_addr);
	}
	for (size_t i = 0; i < n; i++) {
		h = (h ^ p[i]) * 16777619u;
	}
	return h ^ (h >> 15);
}

/* Copies only what identifies the server, so that equal addresses compare equal. */
static int sa_normalize(const struct sockaddr *in, socklen_t inlen, struct sockaddr_storage *out,
			socklen_t *outlen)
{
	memset(out, 0, sizeof(*out));
	if (in->sa_family == AF_INET && inlen >= (socklen_t)sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)in;
		struct sockaddr_in *b = (struct sockaddr_in *)out;

		if (a->sin_port == 0) {
			return -EINVAL;
		}
		b->sin_family = AF_INET;
		b->sin_port = a->sin_port;
		b->sin_addr = a->sin_addr;
		*outlen = sizeof(*b);
		return 0;
	}
	if (in->sa_family == AF_INET6 && inlen >= (socklen_t)sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)in;
		struct sockaddr_in6 *b = (struct sockaddr_in6 *)out;

		if (a->sin6_port == 0) {
			return -EINVAL;
		}
		b->sin6_family = AF_INET6;
		b->sin6_port = a->sin6_port;
		b->sin6_addr = a->sin6_addr;
		b->sin6_scope_id = a->sin6_scope_id;
		*outlen = sizeof(*b);
		return 0;
	}
	return -EINVAL;
}

static int htab_grow(struct zc_engine *eng)
{
	size_t nsize = eng->hsize ? eng->hsize * 2 : 64;
	struct zc_server **nt = calloc(nsize, sizeof(*nt));

	if (!nt) {
		return -ENOMEM;
	}
	for (size_t i = 0; i < eng->hsize; i++) {
		struct zc_server *s = eng->htab[i];

		while (s) {
			struct zc_server *next = s->hnext;
			size_t b = s->hash & (nsize - 1);

			s->hnext = nt[b];
			nt[b] = s;
			s = next;
		}
	}
	free(eng->htab);
	eng->htab = nt;
	eng->hsize = nsize;
	return 0;
}

/* Token bucket per server (zc_bucket_cap() and the rest in internal.h). */
static uint64_t bucket_cap(const struct zc_engine *eng)
{
	return zc_bucket_cap(eng->opts.qps_per_server);
}

static void server_on_timer(struct zc_engine *eng, struct zc_timer *t);

static int server_get(struct zc_engine *eng, const struct sockaddr_storage *sa, socklen_t salen,
		      struct zc_server **ret)
{
	uint32_t h = sa_hash(eng, sa);
	struct zc_server *s;
	int r;

	if (eng->hsize > 0) {
		for (s = eng->htab[h & (eng->hsize - 1)]; s; s = s->hnext) {
			if (s->hash == h &&
			    zc_sockaddr_equal((const struct sockaddr *)&s->sa,
					      (const struct sockaddr *)sa)) {
				*ret = s;
				return 0;
			}
		}
	}
	if (eng->nservers >= eng->hsize) {
		r = htab_grow(eng);
		if (r < 0) {
			return r;
		}
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		return -ENOMEM;
	}
	r = zc_timer_reserve(eng);
	if (r < 0) {
		free(s);
		return r;
	}
	zc_list_init(&s->ring);
	zc_list_init(&s->waitq);
	zc_list_init(&s->sendq);
	zc_list_init(&s->conns);
	zc_list_init(&s->dead_link);
	zc_list_init(&s->spare_link);
	zc_list_init(&s->txq);
	zc_list_init(&s->tx_link);
	timer_init(&s->timer, server_on_timer);
	s->sa = *sa;
	s->salen = salen;
	s->hash = h;
	/* A new bucket starts full: the first queries go out at once. */
	s->tokens = bucket_cap(eng);
	s->tokens_at = zc_eng_now(eng);
	s->hnext = eng->htab[h & (eng->hsize - 1)];
	eng->htab[h & (eng->hsize - 1)] = s;
	eng->nservers++;
	*ret = s;
	return 0;
}

static void server_unhash(struct zc_engine *eng, struct zc_server *s)
{
	struct zc_server **pp = &eng->htab[s->hash & (eng->hsize - 1)];

	while (*pp && *pp != s) {
		pp = &(*pp)->hnext;
	}
	if (*pp) {
		*pp = s->hnext;
		eng->nservers--;
	}
}

static void bucket_refill(struct zc_engine *eng, struct zc_server *s, uint64_t now)
{
	zc_bucket_refill(&s->tokens, &s->tokens_at, bucket_cap(eng), eng->opts.qps_per_server, now);
}

/* Takes a token, or arms the server timer for the moment the next one exists. */
static bool take_token(struct zc_engine *eng, struct zc_server *s)
{
	unsigned qps = eng->opts.qps_per_server;
	uint64_t now;

	if (qps == 0) {
		return true;
	}
	now = zc_eng_now(eng);
	if (eng->opts.rate_limit) {
		uint64_t next;

		if (zc_rate_limit_take(eng->opts.rate_limit, &s->sa, now, &next)) {
			return true;
		}
		zc_timer_arm(eng, &s->timer, next);
		return false;
	}
	bucket_refill(eng, s, now);
	if (s->tokens >= 1000) {
		s->tokens -= 1000;
		return true;
	}
	zc_timer_arm(eng, &s->timer, now + zc_bucket_ms(1000 - s->tokens, qps));
	return false;
}

static bool server_can_start(const struct zc_engine *eng, const struct zc_server *s)
{
	return !zc_list_empty(&s->waitq) && s->inflight < eng->opts.max_inflight_per_server;
}

static void ring_add(struct zc_engine *eng, struct zc_server *s)
{
	if (!s->in_ring && server_can_start(eng, s)) {
		s->in_ring = true;
		zc_list_add_tail(&eng->ring, &s->ring);
	}
}

/*
 * A server struct lives while queries or connections use it, then lingers
 * ZC_SERVER_LINGER_MS (and at least until its bucket is full again, so that
 * dropping and re-creating it cannot grant an extra burst): what it learned (the
 * TCP limit) and its rate state survive between bursts of queries.
 */
void zc_server_check_idle(struct zc_engine *eng, struct zc_server *s)
{
	uint64_t now;

	if (s->dead || s->nqueries > 0 || s->nconns > 0 || s->in_ring) {
		return;
	}
	if (!eng->closing) {
		now = zc_eng_now(eng);
		if (s->idle_until == 0) {
			s->idle_until = now + ZC_SERVER_LINGER_MS;
		}
		/* (a shared bucket outlives this struct in the rate limit) */
		if (eng->opts.qps_per_server && !eng->opts.rate_limit) {
			uint64_t full_at;

			bucket_refill(eng, s, now);
			full_at = now + zc_bucket_ms(bucket_cap(eng) - s->tokens, eng->opts.qps_per_server);
			if (full_at > s->idle_until) {
				s->idle_until = full_at;
			}
		}
		if (now < s->idle_until) {
			zc_timer_arm(eng, &s->timer, s->idle_until);
			return;
		}
	}
	zc_timer_disarm(eng, &s->timer);
	server_drop_spares(eng, s);
	server_unhash(eng, s);
	s->dead = true;
	zc_list_add_tail(&eng->dead_servers, &s->dead_link);
}

/* Slot holders waiting for a token go first; then the server may rejoin the ring. */
static void server_kick(struct zc_engine *eng, struct zc_server *s)
{
	while (!zc_list_empty(&s->sendq)) {
		struct zc_query *q;

		if (!take_token(eng, s)) {
			return;
		}
		q = zc_container_of(zc_list_pop(&s->sendq), struct zc_query, link);
		zc_query_step(q, ZC_QE_START, 0);
	}
	ring_add(eng, s);
}

static void server_on_timer(struct zc_engine *eng, struct zc_timer *t)
{
	struct zc_server *s = zc_container_of(t, struct zc_server, timer);

	server_kick(eng, s);
	zc_server_check_idle(eng, s);
}

/*
 * Starts queued queries while the global cap allows, taking servers round robin
 * from the ring so that one server with a long queue cannot starve the others.
 */
static void pump(struct zc_engine *eng)
{
	while (eng->inflight < eng->opts.max_inflight) {
		struct zc_list *n = zc_list_pop(&eng->ring);
		struct zc_server *s;
		struct zc_query *q;

		if (!n) {
			break;
		}
		s = zc_container_of(n, struct zc_server, ring);
		s->in_ring = false;
		if (!server_can_start(eng, s)) {
			zc_server_check_idle(eng, s);
			continue;
		}
		if (!zc_list_empty(&s->sendq)) {
			continue; /* the server timer brings it back */
		}
		if (!take_token(eng, s)) {
			continue;
		}
		q = zc_container_of(zc_list_pop(&s->waitq), struct zc_query, link);
		eng->queued--;
		q->holds_slot = true;
		s->inflight++;
		eng->inflight++;
		if (eng->inflight > eng->stats.max_inflight_seen) {
			eng->stats.max_inflight_seen = eng->inflight;
		}
		if (s->inflight > eng->stats.max_inflight_per_server_seen) {
			eng->stats.max_inflight_per_server_seen = s->inflight;
		}
		zc_query_step(q, ZC_QE_START, 0);
		ring_add(eng, s);
	}
}

/* --- query state machine --------------------------------------------------- */

static void udp_send(struct zc_engine *eng, struct zc_query *q);

static void patch_id(struct zc_query *q)
{
	q->wire[0] = (uint8_t)(q->id >> 8);
	q->wire[1] = (uint8_t)q->id;
}

/* Ends the current attempt: timer off, UDP socket closed, TCP connection left. */
static void attempt_end(struct zc_query *q, bool stuck)
{
	zc_timer_disarm(q->eng, &q->timer);
	zc_list_del(&q->txlink);
	if (q->sock) {
		zc_sock_close(q->eng, q->sock);
		q->sock = NULL;
	}
	if (q->conn) {
		zc_tcp_detach(q, stuck);
	}
}

static void finish(struct zc_query *q, int status)
{
	struct zc_engine *eng = q->eng;

	switch (q->state) {
	case ZC_QS_QUEUED:
		zc_list_del(&q->link);
		eng->queued--;
		break;
	case ZC_QS_WAIT_TOKEN:
		zc_list_del(&q->link);
		break;
	case ZC_QS_UDP:
	case ZC_QS_TCP:
		if (status == 0 && q->state == ZC_QS_UDP) {
			udp_spare(q);
		}
		attempt_end(q, false);
		break;
	case ZC_QS_DONE:
		return;
	}
	if (q->holds_slot) {
		q->holds_slot = false;
		q->srv->inflight--;
		eng->inflight--;
		ring_add(eng, q->srv);
	}
	if (status != 0 && q->ans_pkt) {
		ldns_pkt_free(q->ans_pkt);
		q->ans_pkt = NULL;
	}
	q->status = status;
	if (status == 0) {
		eng->stats.answered++;
	} else {
		eng->stats.failed++;
		QLOG(q, " failed after %u attempts (%s)", q->attempts, zc_strerror(status));
	}
	q->state = ZC_QS_DONE;
	zc_list_add_tail(&eng->done, &q->link);
}

/*
 * UDP datagrams go out at the end of the turn, each server's one after the other:
 * a server that is woken by the first finds the next ones already queued, instead
 * of being woken once per query while the turn goes through its callbacks.
 */
static void udp_queue(struct zc_engine *eng, struct zc_query *q)
{
	struct zc_server *s = q->srv;

	zc_list_add_tail(&s->txq, &q->txlink);
	if (zc_list_empty(&s->tx_link)) {
		zc_list_add_tail(&eng->tx_servers, &s->tx_link);
	}
}

static void udp_flush(struct zc_engine *eng)
{
	struct zc_list *n;

	while ((n = zc_list_pop(&eng->tx_servers))) {
		struct zc_server *s = zc_container_of(n, struct zc_server, tx_link);
		struct zc_list *m;

		while ((m = zc_list_pop(&s->txq))) {
			udp_send(eng, zc_container_of(m, struct zc_query, txlink));
		}
	}
}

/* Starts one attempt: a fresh ID, a fresh timer, UDP or TCP. */
static void transmit(struct zc_query *q)
{
	struct zc_engine *eng = q->eng;
	uint64_t now = zc_eng_now(eng);
	int r;

	q->attempts++;
	q->sent_at = now;
	zc_timer_arm(eng, &q->timer, now + q->timeout_cur);
	if (q->tcp) {
		q->state = ZC_QS_TCP;
		r = zc_tcp_assign(eng, q);
	} else {
		q->state = ZC_QS_UDP;
		q->id = zc_random_id(eng);
		patch_id(q);
		/* RFC 5452 §9.2: a connected socket per attempt, with a fresh random port
		 * unless handed on by an answered query to this server (see udp_spare) */
		q->sock = udp_take_spare(q->srv);
		r = 0;
		if (!q->sock) {
			r = eng->ops->open(eng->impl, SOCK_DGRAM,
					   (const struct sockaddr *)&q->srv->sa, q->srv->salen,
					   &q->sock);
		}
		if (r == 0) {
			q->sock->owner = q;
			q->sock->uses++;
			udp_queue(eng, q);
			return;
		}
	}
	if (r < 0) {
		/* local failure (no fd, no route): retrying at once would fail the same way */
		finish(q, r);
	}
}

/* Each send (first, retry, TC fallback, re-send) costs a token, in FIFO order. */
static void request_send(struct zc_query *q)
{
	struct zc_engine *eng = q->eng;
	struct zc_server *s = q->srv;

	if (zc_list_empty(&s->sendq) && take_token(eng, s)) {
		transmit(q);
		return;
	}
	q->state = ZC_QS_WAIT_TOKEN;
	zc_list_add_tail(&s->sendq, &q->link);
}

static void retry_or_fail(struct zc_query *q, int status)
{
	const struct zc_engine_opts *o = &q->eng->opts;

	if (q->tries_left == 0) {
		finish(q, status);
		return;
	}
	q->tries_left--;
	/* exponential back-off, capped */
	q->timeout_cur = q->timeout_cur > o->max_timeout_ms / 2 ? o->max_timeout_ms
								: q->timeout_cur * 2;
	request_send(q);
}

static void on_answer(struct zc_query *q)
{
	struct zc_engine *eng = q->eng;

	q->rtt_ms = (unsigned)(zc_eng_now(eng) - q->sent_at);
	if (!q->tcp && (q->ans_wire[2] & 0x02)) { /* TC (RFC 1035 §4.1.1) */
		/* RFC 7766 §5: a truncated UDP answer is repeated over TCP. */
		ldns_pkt_free(q->ans_pkt);
		q->ans_pkt = NULL;
		q->ans_wire = NULL;
		attempt_end(q, false);
		eng->stats.tc_fallbacks++;
		QLOG(q, " truncated after %u ms, retrying over TCP", q->rtt_ms);
		q->tc_fallback = true;
		q->tcp = true;
		q->tries_left = eng->opts.retries;
		q->timeout_cur = eng->opts.timeout_ms;
		q->resends = 0;
		request_send(q);
		return;
	}
	/* The wire was borrowed from a receive buffer; the callback gets its own copy. */
	{
		uint8_t *w = malloc(q->ans_len);

		if (!w) {
			q->ans_wire = NULL;
			finish(q, -ENOMEM);
			return;
		}
		memcpy(w, q->ans_wire, q->ans_len);
		q->ans_wire = w;
	}
	finish(q, 0);
}

/*
 * zc_query_step() - the one place where a query changes state (see internal.h for
 * the diagram). Events that do not apply to the current state are ignored, which
 * makes late timers and late packets harmless.
 */
void zc_query_step(struct zc_query *q, enum zc_q_event ev, int err)
{
	if (ev == ZC_QE_ANSWER && q->state != ZC_QS_UDP && q->state != ZC_QS_TCP) {
		ldns_pkt_free(q->ans_pkt); /* not ours to keep */
		q->ans_pkt = NULL;
		q->ans_wire = NULL;
		return;
	}
	switch (q->state) {
	case ZC_QS_QUEUED:
	case ZC_QS_WAIT_TOKEN:
		if (ev == ZC_QE_START) {
			transmit(q);
		} else if (ev == ZC_QE_CANCEL) {
			finish(q, ZC_ECANCELED);
		}
		break;
	case ZC_QS_UDP:
	case ZC_QS_TCP:
		switch (ev) {
		case ZC_QE_ANSWER:
			on_answer(q);
			break;
		case ZC_QE_TIMEOUT:
			q->eng->stats.timeouts++;
			QLOG(q, " attempt %u timed out after %u ms", q->attempts, q->timeout_cur);
			/* the connection did not answer in time: no new queries go to it */
			attempt_end(q, true);
			retry_or_fail(q, q->saw_malformed ? ZC_EMALF : ZC_ETIMEOUT);
			break;
		case ZC_QE_IOERR:
			QLOG(q, " attempt %u failed (%s)", q->attempts, zc_strerror(err));
			attempt_end(q, false);
			retry_or_fail(q, err);
			break;
		case ZC_QE_CONN_LOST:
			/* RFC 7766 §6.2.1: the server may close at any time; send again on a
			 * new connection, a bounded number of times without using a retry. */
			attempt_end(q, false);
			if (q->resends < ZC_TCP_MAX_RESEND) {
				q->resends++;
				q->eng->stats.tcp_resends++;
				request_send(q);
			} else {
				retry_or_fail(q, err);
			}
			break;
		case ZC_QE_CANCEL:
			finish(q, ZC_ECANCELED);
			break;
		case ZC_QE_START:
			break;
		}
		break;
	case ZC_QS_DONE:
		break;
	}
}

static void query_on_timer(struct zc_engine *eng, struct zc_timer *t)
{
	(void)eng;
	zc_query_step(zc_container_of(t, struct zc_query, timer), ZC_QE_TIMEOUT, 0);
}

/* --- UDP attempts ------------------------------------------------------------ */

/* A refused or reset socket is ZC_ECONN; other errors stay -errno. */
int zc_io_status(int err)
{
	switch (err) {
	case -ECONNREFUSED:
	case -ECONNRESET:
	case -ECONNABORTED:
	case -EPIPE:
		return ZC_ECONN;
	default:
		return err;
	}
}

static void udp_send(struct zc_engine *eng, struct zc_query *q)
{
	ssize_t n = eng->ops->send(eng->impl, q->sock, q->wire, q->wire_len);

	if (n == -EAGAIN) {
		eng->ops->watch(eng->impl, q->sock, ZC_IO_READ | ZC_IO_WRITE);
		return;
	}
	if (n < 0) {
		zc_query_step(q, ZC_QE_IOERR, zc_io_status((int)n));
		return;
	}
	eng->stats.udp_sent++;
	eng->ops->watch(eng->impl, q->sock, ZC_IO_READ);
}

static void udp_read(struct zc_engine *eng, struct zc_query *q)
{
	for (unsigned i = 0; i < ZC_IO_BATCH && q->state == ZC_QS_UDP; i++) {
		struct sockaddr_storage from;
		socklen_t fromlen = sizeof(from);
		ldns_pkt *pkt = NULL;
		ssize_t n;
		int r;

		memset(&from, 0, sizeof(from));
		n = eng->ops->recv(eng->impl, q->sock, eng->rxbuf, sizeof(eng->rxbuf), &from,
				   &fromlen);
		if (n == -EAGAIN) {
			return;
		}
		if (n < 0) {
			/* ICMP port unreachable shows up here on a connected socket. */
			zc_query_step(q, ZC_QE_IOERR, zc_io_status((int)n));
			return;
		}
		/* RFC 5452 §9.1: source address and port, then ID and question. */
		if (!zc_sockaddr_equal((const struct sockaddr *)&from,
				       (const struct sockaddr *)&q->srv->sa)) {
			eng->stats.ignored++;
			continue;
		}
		r = zc_answer_match(q, eng->rxbuf, (size_t)n, &pkt);
		if (r < 0) {
			if (r == ZC_EMALF) {
				q->saw_malformed = true;
			}
			eng->stats.ignored++;
			continue;
		}
		q->ans_pkt = pkt;
		q->ans_wire = eng->rxbuf;
		q->ans_len = (size_t)n;
		zc_query_step(q, ZC_QE_ANSWER, 0);
	}
}

/* --- the loop ---------------------------------------------------------------- */

static void query_free(struct zc_engine *eng, struct zc_query *q)
{
	zc_list_del(&q->all);
	zc_timer_unreserve(eng);
	ldns_pkt_free(q->ans_pkt);
	free(q->ans_wire);
	q->srv->nqueries--;
	zc_server_check_idle(eng, q->srv);
	free(q);
}

/* Callbacks run here, after the query left every structure; it is freed after. */
static void deliver_done(struct zc_engine *eng)
{
	struct zc_list *n;

	while ((n = zc_list_pop(&eng->done))) {
		struct zc_query *q = zc_container_of(n, struct zc_query, link);
		struct zc_answer a = {
			.status = q->status,
			.pkt = q->status == 0 ? q->ans_pkt : NULL,
			.wire = q->status == 0 ? q->ans_wire : NULL,
			.wire_len = q->status == 0 ? q->ans_len : 0,
			.server = (const struct sockaddr *)&q->srv->sa,
			.server_len = q->srv->salen,
			.tcp = q->tcp,
			.tc_fallback = q->tc_fallback,
			.attempts = q->attempts,
			.rtt_ms = q->status == 0 ? q->rtt_ms : 0,
		};

		q->cb(&a, q->userdata);
		query_free(eng, q);
	}
}

static void server_free(struct zc_engine *eng, struct zc_server *s)
{
	zc_timer_disarm(eng, &s->timer);
	zc_timer_unreserve(eng);
	free(s);
}

static void reap(struct zc_engine *eng)
{
	struct zc_list *n;

	while (eng->dead_socks) {
		struct zc_sock *s = eng->dead_socks;

		eng->dead_socks = s->next_dead;
		eng->ops->close(eng->impl, s);
	}
	while ((n = zc_list_pop(&eng->dead_conns))) {
		zc_conn_free(eng, zc_container_of(n, struct zc_conn, link));
	}
	while ((n = zc_list_pop(&eng->dead_servers))) {
		server_free(eng, zc_container_of(n, struct zc_server, dead_link));
	}
}

/*
 * The engine's turn, at the wakeup: due timers, then the reaper (sockets closed so
 * far really close before new ones open, so descriptors stay within the caps),
 * then starts, the UDP datagrams of the turn (each server's together), batched TCP
 * writes and callbacks, again until nothing is left; then the next wakeup is armed.
 * A readiness event only reads (or writes) its socket and asks for the wakeup at
 * once, so that one turn serves every socket the event loop found ready in one
 * pass. The reaper runs only here, outside every socket's event handler.
 */
static void engine_process(struct zc_engine *eng)
{
	assert(!eng->processing);
	eng->processing = true;
	for (;;) {
		run_timers(eng);
		reap(eng);
		pump(eng);
		udp_flush(eng);
		zc_tcp_flush_all(eng);
		if (zc_list_empty(&eng->done)) {
			break;
		}
		deliver_done(eng);
	}
	drop_spares(eng);
	reap(eng);
	eng->processing = false;
	rearm(eng, false);
}

void zc_engine_on_wakeup(struct zc_engine *eng)
{
	eng->wake_at = ZC_TIME_NEVER; /* consumed */
	engine_process(eng);
}

void zc_engine_io_ready(struct zc_engine *eng, struct zc_sock *s, unsigned events)
{
	assert(!eng->processing);
	if (s->closing) {
		return;
	}
	if (s->type == SOCK_DGRAM) {
		struct zc_query *q = s->owner;

		if (q && q->sock == s && q->state == ZC_QS_UDP) {
			if (events & ZC_IO_WRITE) {
				udp_send(eng, q);
			}
			if ((events & ZC_IO_READ) && q->sock == s) {
				udp_read(eng, q);
			}
		}
	} else {
		zc_tcp_io(eng, s->owner, events);
	}
	/* The turn runs once after every socket the loop found ready (see rearm). */
	rearm(eng, true);
}

/* --- public API ------------------------------------------------------------- */

int zc_engine_new(struct zc_ctx *ctx, struct event_base *base, const struct zc_engine_opts *opts,
		  struct zc_engine **ret_engine)
{
	struct zc_engine *eng;
	int r;

	if (!base || !ret_engine) {
		return -EINVAL;
	}
	eng = calloc(1, sizeof(*eng));
	if (!eng) {
		return -ENOMEM;
	}
	r = opts_normalize(opts, &eng->opts);
	if (r < 0) {
		free(eng);
		return r;
	}
	eng->ctx = ctx;
	eng->base = base;
	eng->wake_at = ZC_TIME_NEVER;
	zc_list_init(&eng->ring);
	zc_list_init(&eng->done);
	zc_list_init(&eng->queries);
	zc_list_init(&eng->flushq);
	zc_list_init(&eng->dead_conns);
	zc_list_init(&eng->dead_servers);
	zc_list_init(&eng->spare_servers);
	zc_list_init(&eng->tx_servers);
	zc_random_bytes(eng, &eng->hseed, sizeof(eng->hseed));
	r = zc_sys_transport_init(eng);
	if (r < 0) {
		free(eng);
		return r;
	}
	eng->ops = &zc_sys_transport;
	eng->impl = eng;
	*ret_engine = eng;
	return 0;
}

int zc_engine_set_transport(struct zc_engine *eng, const struct zc_transport_ops *ops, void *impl)
{
	if (!eng || !ops) {
		return -EINVAL;
	}
	if (eng->used) {
		return -EBUSY;
	}
	eng->ops = ops;
	eng->impl = impl;
	return 0;
}

int zc_engine_query(struct zc_engine *eng, const struct sockaddr *server, socklen_t server_len,
		    const ldns_rdf *qname, ldns_rr_type qtype, unsigned flags, zc_query_cb cb,
		    void *userdata)
{
	uint8_t wire[ZC_QUERY_MAX_WIRE];
	struct sockaddr_storage sa;
	socklen_t salen;
	struct zc_server *s;
	struct zc_query *q;
	size_t len;
	uint16_t qoff;
	int r;

	if (!eng || !server || !qname || !cb || (flags & ~(unsigned)ALL_QUERY_FLAGS)) {
		return -EINVAL;
	}
	if (eng->closing) {
		return ZC_ECANCELED;
	}
	r = sa_normalize(server, server_len, &sa, &salen);
	if (r < 0) {
		return r;
	}
	r = zc_query_build(wire, sizeof(wire), qname, (uint16_t)qtype, flags,
			   eng->opts.edns_bufsize, &len, &qoff);
	if (r < 0) {
		return r == ZC_ELIMIT ? -EINVAL : r;
	}
	if (eng->queued >= eng->opts.max_queue) {
		return ZC_ELIMIT;
	}
	q = calloc(1, sizeof(*q) + len);
	if (!q) {
		return -ENOMEM;
	}
	r = zc_timer_reserve(eng);
	if (r < 0) {
		free(q);
		return r;
	}
	r = server_get(eng, &sa, salen, &s);
	if (r < 0) {
		zc_timer_unreserve(eng);
		free(q);
		return r;
	}
	memcpy(q->wire, wire, len);
	q->wire_len = len;
	q->qname_off = qoff;
	q->qname_len = (uint16_t)ldns_rdf_size(qname);
	q->eng = eng;
	q->srv = s;
	s->nqueries++;
	s->idle_until = 0; /* in use again */
	q->state = ZC_QS_QUEUED;
	q->flags = flags;
	q->qtype = (uint16_t)qtype;
	q->tcp = (flags & ZC_Q_TCP) != 0;
	q->tries_left = eng->opts.retries;
	q->timeout_cur = eng->opts.timeout_ms;
	q->cb = cb;
	q->userdata = userdata;
	timer_init(&q->timer, query_on_timer);
	zc_list_init(&q->txlink);
	zc_list_add_tail(&eng->queries, &q->all);
	zc_list_add_tail(&s->waitq, &q->link);
	eng->queued++;
	eng->stats.queries++;
	eng->used = true;
	ring_add(eng, s);
	/* Never synchronous: the work starts from the loop. */
	if (!eng->processing) {
		rearm(eng, true);
	}
	return 0;
}

void zc_engine_get_stats(const struct zc_engine *eng, struct zc_engine_stats *ret)
{
	*ret = eng->stats;
	ret->inflight = eng->inflight;
	ret->queued = eng->queued;
}

void zc_engine_free(struct zc_engine *eng)
{
	struct zc_list *n;

	if (!eng) {
		return;
	}
	assert(!eng->processing); /* not from a callback */
	eng->closing = true;
	eng->processing = true;
	for (n = eng->queries.next; n != &eng->queries; n = n->next) {
		zc_query_step(zc_container_of(n, struct zc_query, all), ZC_QE_CANCEL, 0);
	}
	deliver_done(eng);
	drop_spares(eng);
	for (size_t i = 0; i < eng->hsize; i++) {
		for (struct zc_server *s = eng->htab[i]; s; s = s->hnext) {
			zc_tcp_close_all(eng, s);
		}
	}
	reap(eng);
	for (size_t i = 0; i < eng->hsize; i++) {
		struct zc_server *s = eng->htab[i];

		while (s) {
			struct zc_server *next = s->hnext;

			server_free(eng, s);
			s = next;
		}
	}
	reap(eng);
	assert(eng->nheap == 0);
	if (eng->wake_at != ZC_TIME_NEVER) {
		eng->ops->wakeup(eng->impl, ZC_TIME_NEVER);
	}
	zc_sys_transport_release(eng);
	free(eng->heap);
	free(eng->htab);
	free(eng);
}
