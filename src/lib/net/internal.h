/* SPDX-License-Identifier: MIT */
/*
 * net/internal.h: the query engine's private structures (queries, servers, TCP
 * connections, timers) and the transport ops table through which every socket
 * and the clock are reached, so that unit tests can script both.
 */
#ifndef ZONECUT_NET_INTERNAL_H
#define ZONECUT_NET_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <zonecut/net.h>

#include "util/banned.h"

/* --- intrusive lists --------------------------------------------------- */

struct zc_list {
	struct zc_list *prev, *next;
};

#define zc_container_of(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))

static inline void zc_list_init(struct zc_list *l)
{
	l->prev = l;
	l->next = l;
}

static inline bool zc_list_empty(const struct zc_list *l)
{
	return l->next == l;
}

/* An unlinked node points to itself, so removing twice is harmless. */
static inline void zc_list_del(struct zc_list *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
	zc_list_init(n);
}

static inline void zc_list_add_tail(struct zc_list *head, struct zc_list *n)
{
	n->prev = head->prev;
	n->next = head;
	head->prev->next = n;
	head->prev = n;
}

/* Removes and returns the first node, or NULL when the list is empty. */
static inline struct zc_list *zc_list_pop(struct zc_list *head)
{
	struct zc_list *n = head->next;

	if (n == head) {
		return NULL;
	}
	zc_list_del(n);
	return n;
}

/* --- limits ------------------------------------------------------------ */

#define ZC_TIME_NEVER UINT64_MAX
/* header + name + type/class + OPT */
#define ZC_QUERY_MAX_WIRE (12 + 255 + 4 + 11)
/* RFC 1035 §4.2.1 bounds UDP by the IP datagram; we accept whatever fits 16 bits. */
#define ZC_UDP_MAX 65535
/* RFC 7766 §8: two-byte length prefix, so a frame carries at most 65535 bytes. */
#define ZC_TCP_FRAME_MAX 65535
#define ZC_TCP_RBUF_START 4096
/* Queries are copied here before send(); a query frame is at most 2 + ZC_QUERY_MAX_WIRE. */
#define ZC_TCP_WBUF 4096
/* Datagrams / frames handled per readiness event before the loop gets a turn. */
#define ZC_IO_BATCH 32
/* A query re-sent because its connection died does not use a retry, at most this often. */
#define ZC_TCP_MAX_RESEND 2
#define ZC_TCP_PIPELINE_DEFAULT 64
/* An unused server struct (rate state, learned TCP limit) is kept this long. */
#define ZC_SERVER_LINGER_MS 60000
/* A UDP socket handed from an answered query to the next one of its server (same
 * engine turn) carries at most this many attempts before it is closed. */
#define ZC_UDP_MAX_USES 64

/* --- transport ops ----------------------------------------------------- */

enum zc_io_events {
	ZC_IO_READ = 1 << 0,
	ZC_IO_WRITE = 1 << 1,
};

/*
 * One socket as the engine sees it. The transport allocates it (embedding it in
 * its own structure) in open() and frees it in close(); the engine only ever calls
 * close() from its reaper, never while handling an event of that socket.
 */
struct zc_sock {
	void *owner;    /* engine: the query (UDP) or the connection (TCP) */
	int type;       /* SOCK_DGRAM or SOCK_STREAM */
	bool closing;   /* engine: closed, events ignored, freed at the next reap */
	unsigned uses;  /* engine: UDP attempts sent on it (zero when opened) */
	struct zc_sock *next_dead; /* the reaper's list, or a server's spare list */
};

/*
 * struct zc_transport_ops - every socket operation and the clock, so that tests can
 * script servers and time [Unbound fake_event]. All functions are non-blocking.
 *
 * The transport tells the engine about readiness with zc_engine_io_ready() and about
 * the wakeup time with zc_engine_on_wakeup(). Readiness is level-triggered: as long
 * as a watched condition holds, the transport keeps reporting it.
 */
struct zc_transport_ops {
	/* Monotonic milliseconds. */
	uint64_t (*now_ms)(void *impl);
	/*
	 * Arms the engine's single wakeup at @at_ms (absolute, now_ms() scale), replacing
	 * the previous one; ZC_TIME_NEVER disarms. At or after that time the transport
	 * calls zc_engine_on_wakeup() once from its loop, never from inside wakeup().
	 */
	void (*wakeup)(void *impl, uint64_t at_ms);
	/*
	 * Opens a non-blocking socket of @type (SOCK_DGRAM/SOCK_STREAM) connected to @sa
	 * (for TCP the connection may still be in progress: the socket becomes writable
	 * when it is done, see finish_connect). UDP sockets get a fresh kernel-chosen
	 * source port. Returns 0 and *ret_sock, or -errno.
	 */
	int (*open)(void *impl, int type, const struct sockaddr *sa, socklen_t salen,
		    struct zc_sock **ret_sock);
	/* TCP: result of the connection attempt once writable: 0 or -errno. */
	int (*finish_connect)(void *impl, struct zc_sock *s);
	/* Bytes written (TCP may be partial), -EAGAIN, or -errno (-ECONNREFUSED...). */
	ssize_t (*send)(void *impl, struct zc_sock *s, const uint8_t *buf, size_t len);
	/*
	 * Bytes read, 0 at TCP end of stream, -EAGAIN, or -errno. For UDP @from gets the
	 * datagram's source (may be NULL for TCP).
	 */
	ssize_t (*recv)(void *impl, struct zc_sock *s, uint8_t *buf, size_t len,
			struct sockaddr_storage *from, socklen_t *fromlen);
	/* Sets the readiness the engine wants (ZC_IO_*, 0 = none). Idempotent. */
	void (*watch)(void *impl, struct zc_sock *s, unsigned events);
	/* Closes and frees @s. */
	void (*close)(void *impl, struct zc_sock *s);
};

/*
 * zc_engine_set_transport() - replaces the libevent socket transport (tests).
 * Only before the first zc_engine_query(). Returns 0, -EINVAL or -EBUSY.
 */
ZC_MUSTCHECK int zc_engine_set_transport(struct zc_engine *eng, const struct zc_transport_ops *ops,
					 void *impl);
/* Transport → engine: @s is ready for @events (ZC_IO_*). */
void zc_engine_io_ready(struct zc_engine *eng, struct zc_sock *s, unsigned events);
/* Transport → engine: the wakeup time armed with ops->wakeup() has come. */
void zc_engine_on_wakeup(struct zc_engine *eng);

/* The libevent transport (engine-sys.c); @impl is the engine. */
extern const struct zc_transport_ops zc_sys_transport;
/* Creates/frees the libevent wakeup timer of the sys transport. */
ZC_MUSTCHECK int zc_sys_transport_init(struct zc_engine *eng);
void zc_sys_transport_release(struct zc_engine *eng);

/* --- timers ------------------------------------------------------------ */

struct zc_timer;
typedef void (*zc_timer_fn)(struct zc_engine *eng, struct zc_timer *t);

/* A deadline in the engine's min-heap. Arm and disarm are idempotent. */
struct zc_timer {
	uint64_t at;
	size_t idx; /* position in the heap; ZC_TIMER_IDLE when not armed */
	zc_timer_fn fn;
};
#define ZC_TIMER_IDLE SIZE_MAX

/* --- engine objects ---------------------------------------------------- */

/*
 * Query states (one step() function, engine.c):
 *
 *   QUEUED ──slot+token──► UDP ──answer──────────────────────► DONE ──callback──► freed
 *     │                     │ timeout/refused (tries left)      ▲
 *     │                     ├──► WAIT_TOKEN ──token──► UDP/TCP  │
 *     │                     │ TC                                │
 *     └──(ZC_Q_TCP)────────►TCP ──answer────────────────────────┘
 *                           │ timeout, connection lost ──► WAIT_TOKEN ─► ...
 * Any state but DONE ──cancel/give up──► DONE.
 */
enum zc_q_state {
	ZC_QS_QUEUED,     /* in srv->waitq: no slot yet */
	ZC_QS_WAIT_TOKEN, /* holds a slot; in srv->sendq waiting for the rate limiter */
	ZC_QS_UDP,        /* datagram out on q->sock; timer armed */
	ZC_QS_TCP,        /* on q->conn (pending or sent); timer armed */
	ZC_QS_DONE,       /* result set; in eng->done until the callback has run */
};

enum zc_q_event {
	ZC_QE_START,     /* got a slot and a token: transmit */
	ZC_QE_ANSWER,    /* a matching answer (q->ans_pkt set) */
	ZC_QE_TIMEOUT,   /* the attempt's timer fired */
	ZC_QE_IOERR,     /* the socket failed (refused, unreachable): err */
	ZC_QE_CONN_LOST, /* TCP: the connection closed under a sent query */
	ZC_QE_CANCEL,    /* engine shut down */
};

struct zc_server;
struct zc_conn;

struct zc_query {
	struct zc_list link;    /* waitq / sendq / conn pending / conn sent / eng->done */
	struct zc_list all;     /* eng->queries */
	struct zc_list txlink;  /* srv->txq: a UDP attempt whose datagram is still to go */
	struct zc_engine *eng;
	struct zc_server *srv;
	enum zc_q_state state;
	unsigned flags;         /* enum zc_query_flags */
	uint16_t qtype;
	uint16_t id;            /* of the current attempt */
	bool tcp;               /* the current attempt is over TCP */
	bool tc_fallback;
	bool saw_malformed;     /* an answer with our ID did not parse */
	bool holds_slot;
	unsigned attempts;
	unsigned tries_left;
	unsigned resends;       /* TCP re-sends after a lost connection */
	unsigned timeout_cur;   /* ms, this attempt */
	uint64_t sent_at;
	struct zc_timer timer;
	struct zc_sock *sock;   /* UDP attempt */
	struct zc_conn *conn;   /* TCP attempt */
	/* result */
	int status;
	ldns_pkt *ans_pkt;
	uint8_t *ans_wire;
	size_t ans_len;
	unsigned rtt_ms;
	zc_query_cb cb;
	void *userdata;
	uint16_t qname_off, qname_len; /* the question name inside wire[] */
	size_t wire_len;
	uint8_t wire[]; /* the query; ID patched per attempt */
};

struct zc_server {
	struct zc_server *hnext;    /* hash chain */
	struct zc_list ring;        /* eng->ring while it has queries that could start */
	struct zc_list waitq;       /* ZC_QS_QUEUED, FIFO */
	struct zc_list sendq;       /* ZC_QS_WAIT_TOKEN, FIFO */
	struct zc_list conns;       /* TCP connections accepting queries */
	unsigned nconns;            /* all of them, draining ones included */
	unsigned tcp_conn_limit;    /* learned: the server closes a connection after this
				     * many queries (RFC 7766 §6.2.1); 0 = none seen */
	unsigned inflight;
	unsigned nqueries;          /* queries (any state) that point here */
	bool in_ring;
	bool dead;
	/* token bucket, in milli-tokens: one query costs 1000, refill qps per ms */
	uint64_t tokens;
	uint64_t tokens_at;
	struct zc_timer timer;      /* token release, or release of this struct */
	uint64_t idle_until;        /* idle: freed at this time; 0 = in use */
	struct zc_list dead_link;
	/* connected UDP sockets of queries answered in this engine turn, for the next
	 * queries to this server; closed at the end of the turn (engine.c) */
	struct zc_sock *spare;
	struct zc_list spare_link;  /* eng->spare_servers while it has some */
	struct zc_list txq;         /* UDP attempts to send at the end of the turn */
	struct zc_list tx_link;     /* eng->tx_servers while txq is not empty */
	uint32_t hash;
	socklen_t salen;
	struct sockaddr_storage sa;
};

enum zc_conn_state {
	ZC_CS_CONNECTING,
	ZC_CS_OPEN,
	ZC_CS_CLOSED,
};

struct zc_conn {
	struct zc_list link;     /* srv->conns while accepting queries, then eng->dead_conns */
	struct zc_list flush;    /* eng->flushq when it has frames to write */
	struct zc_server *srv;
	struct zc_sock *sock;
	enum zc_conn_state state;
	bool draining;           /* no new queries; closed once empty */
	struct zc_list pending;  /* assigned, not yet copied to wbuf */
	struct zc_list sent;     /* copied to wbuf or written, awaiting the answer */
	unsigned nq;             /* pending + sent */
	unsigned assigned;       /* queries ever put on it */
	unsigned answered;       /* answers received on it */
	bool idled;              /* had no queries at some point after opening */
	struct zc_timer timer;   /* connect deadline or idle close */
	size_t woff, wlen;
	uint8_t wbuf[ZC_TCP_WBUF];
	uint8_t *rbuf;           /* bounded: at most 2 + ZC_TCP_FRAME_MAX */
	size_t rlen, rcap;
};

struct zc_engine {
	struct zc_ctx *ctx;
	struct event_base *base;
	struct zc_engine_opts opts;
	const struct zc_transport_ops *ops;
	void *impl;
	struct event *wake_ev;   /* sys transport */
	uint64_t wake_at;        /* what is armed with ops->wakeup() */

	struct zc_timer **heap;
	size_t nheap, heap_cap, heap_reserved;

	struct zc_server **htab;
	size_t hsize, nservers;
	uint32_t hseed;

	struct zc_list ring;       /* servers with queries that could start: round robin */
	struct zc_list done;       /* completed, callback pending */
	struct zc_list queries;    /* every query not yet freed */
	struct zc_list flushq;     /* TCP connections with frames to write */
	struct zc_list dead_conns;
	struct zc_list dead_servers;
	struct zc_list spare_servers; /* servers holding spare UDP sockets */
	struct zc_list tx_servers;    /* servers with datagrams to send this turn */
	struct zc_sock *dead_socks;

	unsigned inflight, queued;
	bool processing;
	bool closing;
	bool used;               /* a query was made: transport fixed */
	struct zc_engine_stats stats;

	uint8_t rnd[256];
	size_t rnd_left;
	uint8_t rxbuf[ZC_UDP_MAX];
};

/* engine.c, used by engine-tcp.c */
uint64_t zc_eng_now(struct zc_engine *eng);
/* Room in the heap for one more timer-owning object; arming then never allocates. */
ZC_MUSTCHECK int zc_timer_reserve(struct zc_engine *eng);
void zc_timer_unreserve(struct zc_engine *eng);
void zc_timer_arm(struct zc_engine *eng, struct zc_timer *t, uint64_t at);
void zc_timer_disarm(struct zc_engine *eng, struct zc_timer *t);
void zc_query_step(struct zc_query *q, enum zc_q_event ev, int err);
void zc_sock_close(struct zc_engine *eng, struct zc_sock *s);
void zc_server_check_idle(struct zc_engine *eng, struct zc_server *s);
int zc_io_status(int err);

/* engine-tcp.c */
ZC_MUSTCHECK int zc_tcp_assign(struct zc_engine *eng, struct zc_query *q);
void zc_tcp_detach(struct zc_query *q, bool stuck);
void zc_tcp_io(struct zc_engine *eng, struct zc_conn *c, unsigned events);
void zc_tcp_flush_all(struct zc_engine *eng);
void zc_tcp_close_all(struct zc_engine *eng, struct zc_server *s);
void zc_conn_free(struct zc_engine *eng, struct zc_conn *c);

/* engine-wire.c */
ZC_MUSTCHECK int zc_query_build(uint8_t *buf, size_t cap, const ldns_rdf *qname, uint16_t qtype,
				unsigned flags, uint16_t edns_bufsize, size_t *ret_len,
				uint16_t *ret_qname_off);
uint16_t zc_random_id(struct zc_engine *eng);
void zc_random_bytes(struct zc_engine *eng, void *buf, size_t len);

#define ZC_MAX_QPS 10000000u

/*
 * A token bucket in milli-tokens (a query costs 1000) filled by @qps per
 * millisecond up to @cap: the engine's own per server, and the shared ones.
 * The cap is max(1, qps/100) queries, 10 ms worth of burst: enough that a coarse
 * timer does not lose tokens, small enough that any one-second window sees at most
 * qps + qps/100 queries.
 */
static inline uint64_t zc_bucket_cap(unsigned qps)
{
	return (uint64_t)(qps / 100 > 1 ? qps / 100 : 1) * 1000;
}

/* Milliseconds until @missing milli-tokens have come in (rounded up). */
static inline uint64_t zc_bucket_ms(uint64_t missing, unsigned qps)
{
	return (missing + qps - 1) / qps;
}

static inline void zc_bucket_refill(uint64_t *tokens, uint64_t *tokens_at, uint64_t cap,
				    unsigned qps, uint64_t now)
{
	if (now > *tokens_at) {
		uint64_t add = (now - *tokens_at) * qps;

		*tokens = (cap - *tokens < add) ? cap : *tokens + add;
		*tokens_at = now;
	}
}
/*
 * zc_rate_limit_take() - takes a token from @sa's shared bucket at @now (ms, the
 * engines' clock); false: none, and *@ret_next is when the next one exists (another
 * thread may take it first). Thread-safe.
 */
bool zc_rate_limit_take(struct zc_rate_limit *rl, const struct sockaddr_storage *sa, uint64_t now,
			uint64_t *ret_next);
unsigned zc_rate_limit_qps(const struct zc_rate_limit *rl);
/* zc_rate_limit_count() - buckets held (those not full again since last pruned). */
size_t zc_rate_limit_count(struct zc_rate_limit *rl);
/*
 * zc_answer_match() - does @wire answer @q (ID, QR, opcode, question)? Returns 0 and
 * *ret_pkt (caller frees; NULL for a ZC_Q_WIRE_ONLY query, whose packet is only
 * checked for structure), ZC_EMISMATCH (someone else's packet) or ZC_EMALF (our ID
 * but unparseable).
 */
ZC_MUSTCHECK int zc_answer_match(const struct zc_query *q, const uint8_t *wire, size_t len,
				 ldns_pkt **ret_pkt);
bool zc_sockaddr_equal(const struct sockaddr *a, const struct sockaddr *b);

#endif
