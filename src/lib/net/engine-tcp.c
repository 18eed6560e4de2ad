/* SPDX-License-Identifier: MIT */
/*
 * net/engine-tcp.c: DNS over TCP for the query engine (RFC 7766): connections kept
 * per server address and reused, several queries pipelined on each (bounded),
 * answers matched by ID and question in any order, length-prefixed frames read and
 * written through bounded buffers with partial I/O, reconnection when the server
 * closes, and idle close.
 *
 * Connection states: CONNECTING ─writable─► OPEN ─EOF/error/idle/drained─► CLOSED
 * (freed by the reaper). A connection that let a query time out is "draining": it
 * takes no new queries and closes when its last one leaves.
 */
#include "net/internal.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static void conn_log(struct zc_engine *eng, const struct zc_conn *c, const char *what, int err)
{
	char addr[INET6_ADDRSTRLEN + 24];

	if (!eng->ctx || zc_ctx_get_log_level(eng->ctx) < ZC_LOG_DEBUG) {
		return;
	}
	if (zc_addr_to_str((const struct sockaddr *)&c->srv->sa, addr, sizeof(addr)) < 0) {
		addr[0] = '\0';
	}
	if (err) {
		zc_log(eng->ctx, ZC_LOG_DEBUG, "tcp connection to %s %s (%s)", addr, what,
		       zc_strerror(err));
	} else {
		zc_log(eng->ctx, ZC_LOG_DEBUG, "tcp connection to %s %s", addr, what);
	}
}

/* Takes the connection out of service; the reaper frees it. Queries must be gone. */
static void conn_close(struct zc_engine *eng, struct zc_conn *c)
{
	if (c->state == ZC_CS_CLOSED) {
		return;
	}
	c->state = ZC_CS_CLOSED;
	zc_timer_disarm(eng, &c->timer);
	zc_list_del(&c->flush);
	zc_sock_close(eng, c->sock);
	zc_list_del(&c->link);
	zc_list_add_tail(&eng->dead_conns, &c->link);
}

/*
 * The connection failed or the server closed it. Queries on a connection that
 * never opened had a failed attempt; on an open one they are sent again.
 */
static void conn_lost(struct zc_engine *eng, struct zc_conn *c, int err)
{
	bool was_open = c->state == ZC_CS_OPEN;
	int status = zc_io_status(err);
	struct zc_list *n;

	conn_log(eng, c, was_open ? "lost" : "failed", status);
	/*
	 * A server that closes a connection busy since it opened, after some answers and
	 * with queries outstanding, limits queries per connection (NSD tcp-query-count,
	 * for instance). Learn the limit, so that the re-sent queries and the following
	 * ones are spread over connections it will serve to the end.
	 */
	if (was_open && !c->idled && c->answered > 0 && c->nq > 0 &&
	    (c->srv->tcp_conn_limit == 0 || c->answered < c->srv->tcp_conn_limit)) {
		c->srv->tcp_conn_limit = c->answered;
		conn_log(eng, c, "closed by the server: limiting queries per connection", 0);
	}
	conn_close(eng, c);
	while ((n = zc_list_pop(&c->sent)) || (n = zc_list_pop(&c->pending))) {
		struct zc_query *q = zc_container_of(n, struct zc_query, link);

		q->conn = NULL;
		c->nq--;
		zc_query_step(q, was_open ? ZC_QE_CONN_LOST : ZC_QE_IOERR, status);
	}
}

/* With no queries left: close a draining or still connecting one, idle out the rest. */
static void conn_maybe_idle(struct zc_engine *eng, struct zc_conn *c)
{
	if (c->nq > 0 || c->state == ZC_CS_CLOSED) {
		return;
	}
	if (c->draining || c->state == ZC_CS_CONNECTING) {
		conn_close(eng, c);
		return;
	}
	/* RFC 7766 §6.2.3: keep it a while for the next queries, then close it ourselves. */
	c->idled = true;
	zc_timer_arm(eng, &c->timer, zc_eng_now(eng) + eng->opts.tcp_idle_ms);
}

static void conn_on_timer(struct zc_engine *eng, struct zc_timer *t)
{
	struct zc_conn *c = zc_container_of(t, struct zc_conn, timer);

	if (c->state == ZC_CS_CONNECTING) {
		conn_lost(eng, c, ZC_ETIMEOUT);
	} else if (c->nq == 0) {
		conn_log(eng, c, "idle, closed", 0);
		conn_close(eng, c);
	}
}

static int conn_open(struct zc_engine *eng, struct zc_server *s, struct zc_conn **ret)
{
	struct zc_conn *c = calloc(1, sizeof(*c));
	int r;

	if (!c) {
		return -ENOMEM;
	}
	r = eng->ops->open(eng->impl, SOCK_STREAM, (const struct sockaddr *)&s->sa, s->salen,
			   &c->sock);
	if (r < 0) {
		free(c);
		return r;
	}
	/* the heap room was reserved by the caller */
	c->sock->owner = c;
	c->srv = s;
	c->state = ZC_CS_CONNECTING;
	zc_list_init(&c->flush);
	zc_list_init(&c->pending);
	zc_list_init(&c->sent);
	c->timer.idx = ZC_TIMER_IDLE;
	c->timer.fn = conn_on_timer;
	/* a bound on the handshake even if every query on it is retried elsewhere */
	zc_timer_arm(eng, &c->timer, zc_eng_now(eng) + eng->opts.max_timeout_ms);
	eng->ops->watch(eng->impl, c->sock, ZC_IO_WRITE);
	zc_list_add_tail(&s->conns, &c->link);
	s->nconns++;
	eng->stats.tcp_connects++;
	*ret = c;
	return 0;
}

void zc_conn_free(struct zc_engine *eng, struct zc_conn *c)
{
	struct zc_server *s = c->srv;

	zc_timer_disarm(eng, &c->timer);
	zc_timer_unreserve(eng);
	free(c->rbuf);
	free(c);
	s->nconns--;
	zc_server_check_idle(eng, s);
}

static bool conn_id_used(const struct zc_conn *c, uint16_t id)
{
	const struct zc_list *lists[2] = { &c->pending, &c->sent };

	for (size_t i = 0; i < 2; i++) {
		for (const struct zc_list *n = lists[i]->next; n != lists[i]; n = n->next) {
			if (zc_container_of(n, const struct zc_query, link)->id == id) {
				return true;
			}
		}
	}
	return false;
}

/*
 * zc_tcp_assign() - puts @q on a connection to its server: an existing one with
 * room in its pipeline, else a new one. IDs are unique per connection (RFC 7766
 * §7), random otherwise.
 */
int zc_tcp_assign(struct zc_engine *eng, struct zc_query *q)
{
	struct zc_server *s = q->srv;
	struct zc_conn *c = NULL;
	unsigned tries = 0;
	uint16_t id;

	for (struct zc_list *n = s->conns.next; n != &s->conns; n = n->next) {
		struct zc_conn *x = zc_container_of(n, struct zc_conn, link);

		if (!x->draining && x->nq < eng->opts.tcp_pipeline &&
		    (s->tcp_conn_limit == 0 || x->assigned < s->tcp_conn_limit)) {
			c = x;
			break;
		}
	}
	if (!c) {
		int r;

		/* every connection has a timer: reserve its heap room first */
		r = zc_timer_reserve(eng);
		if (r < 0) {
			return r;
		}
		r = conn_open(eng, s, &c);
		if (r < 0) {
			zc_timer_unreserve(eng);
			return r;
		}
		conn_log(eng, c, "opening", 0);
	}
	do {
		id = zc_random_id(eng);
	} while (conn_id_used(c, id) && ++tries < 16);
	while (conn_id_used(c, id)) {
		id++; /* nq <= 1024 of 65536: terminates */
	}
	q->id = id;
	q->wire[0] = (uint8_t)(id >> 8);
	q->wire[1] = (uint8_t)id;
	q->conn = c;
	zc_list_add_tail(&c->pending, &q->link);
	c->nq++;
	c->assigned++;
	if (s->tcp_conn_limit && c->assigned >= s->tcp_conn_limit) {
		c->draining = true; /* the server would close it: we do, once answered */
	}
	if (c->state == ZC_CS_OPEN) {
		zc_timer_disarm(eng, &c->timer);
		/* written in one batch at the end of the engine's turn */
		if (c->flush.next == &c->flush) {
			zc_list_add_tail(&eng->flushq, &c->flush);
		}
	}
	return 0;
}

/* @q leaves its connection (answered, timed out, canceled). */
void zc_tcp_detach(struct zc_query *q, bool stuck)
{
	struct zc_conn *c = q->conn;

	if (!c) {
		return;
	}
	zc_list_del(&q->link);
	q->conn = NULL;
	c->nq--;
	if (stuck && !c->draining) {
		c->draining = true;
		conn_log(q->eng, c, "stalled, draining", 0);
	}
	conn_maybe_idle(q->eng, c);
}

/*
 * Copies pending queries into the write buffer as frames and writes what the
 * socket takes. Partial writes keep the rest for the next writable event.
 */
static void conn_flush(struct zc_engine *eng, struct zc_conn *c)
{
	zc_list_del(&c->flush);
	if (c->state != ZC_CS_OPEN) {
		return;
	}
	for (;;) {
		ssize_t n;

		if (c->woff > 0) {
			memmove(c->wbuf, c->wbuf + c->woff, c->wlen - c->woff);
			c->wlen -= c->woff;
			c->woff = 0;
		}
		while (!zc_list_empty(&c->pending)) {
			struct zc_query *q =
				zc_container_of(c->pending.next, struct zc_query, link);

			if (c->wlen + 2 + q->wire_len > sizeof(c->wbuf)) {
				break;
			}
			c->wbuf[c->wlen] = (uint8_t)(q->wire_len >> 8);
			c->wbuf[c->wlen + 1] = (uint8_t)q->wire_len;
			memcpy(c->wbuf + c->wlen + 2, q->wire, q->wire_len);
			c->wlen += 2 + q->wire_len;
			zc_list_del(&q->link);
			zc_list_add_tail(&c->sent, &q->link);
			q->sent_at = zc_eng_now(eng);
			eng->stats.tcp_sent++;
		}
		if (c->wlen == 0) {
			eng->ops->watch(eng->impl, c->sock, ZC_IO_READ);
			return;
		}
		n = eng->ops->send(eng->impl, c->sock, c->wbuf, c->wlen);
		if (n == -EAGAIN || n == 0) {
			eng->ops->watch(eng->impl, c->sock, ZC_IO_READ | ZC_IO_WRITE);
			return;
		}
		if (n < 0) {
			conn_lost(eng, c, (int)n);
			return;
		}
		c->woff = (size_t)n;
	}
}

void zc_tcp_flush_all(struct zc_engine *eng)
{
	struct zc_list *n;

	while ((n = zc_list_pop(&eng->flushq))) {
		conn_flush(eng, zc_container_of(n, struct zc_conn, flush));
	}
}

static void handle_frame(struct zc_engine *eng, struct zc_conn *c, const uint8_t *wire, size_t len)
{
	struct zc_query *q = NULL;
	ldns_pkt *pkt = NULL;
	uint16_t id;
	int r;

	if (len < 12) {
		eng->stats.ignored++;
		return;
	}
	/* RFC 7766 §7: answers may come in any order; the ID finds the query. */
	id = get16(wire);
	for (struct zc_list *n = c->sent.next; n != &c->sent; n = n->next) {
		struct zc_query *x = zc_container_of(n, struct zc_query, link);

		if (x->id == id) {
			q = x;
			break;
		}
	}
	if (!q) {
		eng->stats.ignored++;
		return;
	}
	r = zc_answer_match(q, wire, len, &pkt);
	if (r < 0) {
		if (r == ZC_EMALF) {
			q->saw_malformed = true;
		}
		eng->stats.ignored++;
		return;
	}
	c->answered++;
	q->ans_pkt = pkt;
	q->ans_wire = (uint8_t *)wire;
	q->ans_len = len;
	zc_query_step(q, ZC_QE_ANSWER, 0);
}

/* Handles every complete frame in rbuf; keeps a partial one, growing rbuf to fit. */
static int conn_parse(struct zc_engine *eng, struct zc_conn *c)
{
	size_t off = 0;

	while (c->rlen - off >= 2 && c->state != ZC_CS_CLOSED) {
		size_t flen = get16(c->rbuf + off);

		if (c->rlen - off < 2 + flen) {
			if (2 + flen > c->rcap) {
				uint8_t *nb = realloc(c->rbuf, 2 + flen);

				if (!nb) {
					return -ENOMEM;
				}
				c->rbuf = nb;
				c->rcap = 2 + flen;
			}
			break;
		}
		handle_frame(eng, c, c->rbuf + off + 2, flen);
		off += 2 + flen;
	}
	if (off > 0) {
		memmove(c->rbuf, c->rbuf + off, c->rlen - off);
		c->rlen -= off;
	}
	return 0;
}

static void conn_read(struct zc_engine *eng, struct zc_conn *c)
{
	if (!c->rbuf) {
		c->rbuf = malloc(ZC_TCP_RBUF_START);
		if (!c->rbuf) {
			conn_lost(eng, c, -ENOMEM);
			return;
		}
		c->rcap = ZC_TCP_RBUF_START;
	}
	for (unsigned i = 0; i < ZC_IO_BATCH && c->state != ZC_CS_CLOSED; i++) {
		size_t room = c->rcap - c->rlen;
		ssize_t n = eng->ops->recv(eng->impl, c->sock, c->rbuf + c->rlen, room, NULL, NULL);
		int r;

		if (n == -EAGAIN) {
			return;
		}
		if (n == 0) {
			conn_lost(eng, c, ZC_ECONN); /* end of stream */
			return;
		}
		if (n < 0) {
			conn_lost(eng, c, (int)n);
			return;
		}
		c->rlen += (size_t)n;
		r = conn_parse(eng, c);
		if (r < 0) {
			conn_lost(eng, c, r);
			return;
		}
		if ((size_t)n < room) {
			/* a short read took all the stream had: asking again would only
			 * find EAGAIN (what arrives later, the event loop reports again) */
			return;
		}
	}
}

void zc_tcp_io(struct zc_engine *eng, struct zc_conn *c, unsigned events)
{
	if (c->state == ZC_CS_CONNECTING) {
		int r = eng->ops->finish_connect(eng->impl, c->sock);

		if (r == -EAGAIN) {
			return;
		}
		if (r < 0) {
			conn_lost(eng, c, r);
			return;
		}
		c->state = ZC_CS_OPEN;
		zc_timer_disarm(eng, &c->timer);
		conn_log(eng, c, "open", 0);
		conn_maybe_idle(eng, c);
		conn_flush(eng, c);
	} else if (events & ZC_IO_WRITE) {
		conn_flush(eng, c);
	}
	if ((events & ZC_IO_READ) && c->state == ZC_CS_OPEN) {
		conn_read(eng, c);
	}
}

void zc_tcp_close_all(struct zc_engine *eng, struct zc_server *s)
{
	struct zc_list *n;

	while ((n = zc_list_pop(&s->conns))) {
		conn_close(eng, zc_container_of(n, struct zc_conn, link));
	}
}
