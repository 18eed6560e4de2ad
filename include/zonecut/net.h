/* SPDX-License-Identifier: MIT */
/*
 * zonecut/net.h: the query engine (queries straight to chosen server addresses on
 * one libevent loop: UDP with EDNS0, TCP fallback on TC, TCP-only mode, TCP reuse
 * with pipelining, timeouts, retries with back-off, in-flight caps and a per-server
 * query rate) and the validating resolver (libunbound on the same loop).
 *
 * Threading: an engine or resolver and its event_base belong to one thread.
 * Callbacks run from the event loop, never from inside the call that started the
 * query.
 */
#ifndef ZONECUT_NET_H
#define ZONECUT_NET_H

#include <ldns/ldns.h>
#include <sys/socket.h>
#include <zonecut/common.h>
#include <zonecut/util.h>

struct event_base;

/* --- addresses --------------------------------------------------------- */

/*
 * zc_addr_parse() - "192.0.2.1", "192.0.2.1@5353", "2001:db8::1", "2001:db8::1@53",
 * "[2001:db8::1]:53" into @ret (port @default_port when none given). Numeric
 * addresses only. Returns 0 or -EINVAL.
 */
ZC_PUBLIC ZC_MUSTCHECK int zc_addr_parse(const char *text, uint16_t default_port,
					 struct sockaddr_storage *ret, socklen_t *ret_len);
/*
 * zc_addr_to_str() - "192.0.2.1@53" / "2001:db8::1@53" ("fe80::1%eth0@53" with a
 * scope) into @buf. Returns 0, ZC_ELIMIT (@buf too small) or -EINVAL (not IPv4/IPv6).
 */
ZC_PUBLIC int zc_addr_to_str(const struct sockaddr *sa, char *buf, size_t len);

/* --- query engine ------------------------------------------------------ */

struct zc_engine;
struct zc_rate_limit;

/*
 * Engine options. A field left 0 takes its default, except qps_per_server and
 * retries, where 0 means "no limit" and "no retries". zc_engine_new() returns
 * -EINVAL for max_timeout_ms < timeout_ms, edns_bufsize < 512, timeouts above one
 * hour, qps_per_server above 10^7, tcp_pipeline above 1024 or retries above 100.
 */
struct zc_engine_opts {
	unsigned max_inflight;            /* all servers together; default 1000 */
	unsigned max_inflight_per_server; /* per server address; default 10 */
	unsigned qps_per_server;          /* queries/second per server address; 0 = no limit;
					   * default 0. Every datagram and TCP query counts (retries
					   * too); bursts are at most max(1, qps/100) queries. */
	unsigned timeout_ms;              /* first attempt; default 1500 */
	unsigned retries;                 /* further attempts, timeout doubling each time; default 2 */
	unsigned max_timeout_ms;          /* cap of the back-off; default 8000 */
	uint16_t edns_bufsize;            /* default 1232 */
	unsigned tcp_idle_ms;             /* keep an idle TCP connection this long; default 5000 */
	unsigned max_queue;               /* queries waiting for a slot; default 1000000. Queries
					   * made since the loop last ran count as waiting. */
	unsigned tcp_pipeline;            /* queries in flight on one TCP connection; more open
					   * another connection to the same server; default 64 */
	struct zc_rate_limit *rate_limit; /* borrowed: token buckets shared with other engines
					   * (threads), so that qps_per_server holds for all of
					   * them together; its rate replaces qps_per_server */
};

/* zc_engine_opts_default() - fills @o with the defaults above. */
ZC_PUBLIC void zc_engine_opts_default(struct zc_engine_opts *o);

/*
 * zc_rate_limit_new() - per-server-address token buckets of @qps queries a second
 * (bursts of at most max(1, qps/100)) for engines on several threads to share
 * through zc_engine_opts.rate_limit: any one server sees at most that rate from
 * all of them together. Returns 0, -EINVAL (@qps 0 or above 10^7) or -ENOMEM.
 * zc_rate_limit_free() after every engine using it is freed; NULL is a no-op.
 */
ZC_PUBLIC ZC_MUSTCHECK int zc_rate_limit_new(unsigned qps, struct zc_rate_limit **ret);
ZC_PUBLIC void zc_rate_limit_free(struct zc_rate_limit *rl);

enum zc_query_flags {
	ZC_Q_DNSSEC = 1 << 0, /* DO bit (implies EDNS0) */
	ZC_Q_TCP = 1 << 1,    /* TCP only */
	ZC_Q_RD = 1 << 2,     /* recursion desired */
	ZC_Q_CD = 1 << 3,     /* checking disabled */
	ZC_Q_NOEDNS = 1 << 4, /* no OPT record */
	/*
	 * The callback gets the answer's wire form only (pkt NULL): the engine checks
	 * ID, question and the structure of every section (names, record lengths)
	 * without building an ldns_pkt, for callers that look at most answers'
	 * header only (a scan's "nothing published").
	 */
	ZC_Q_WIRE_ONLY = 1 << 5,
};

struct zc_answer {
	int status;                   /* 0; ZC_ETIMEOUT, ZC_ECONN, ZC_EMALF, ZC_ECANCELED, -errno */
	const ldns_pkt *pkt;          /* the answer when status is 0 (NULL with ZC_Q_WIRE_ONLY);
				       * valid during the callback */
	const uint8_t *wire;          /* its wire form */
	size_t wire_len;
	const struct sockaddr *server; /* the address asked; valid during the callback */
	socklen_t server_len;
	bool tcp;                     /* the answer came over TCP */
	bool tc_fallback;             /* a UDP answer had TC and the query was repeated over TCP */
	unsigned attempts;            /* attempts started (datagrams, TCP queries), all tries */
	unsigned rtt_ms;              /* of the attempt that answered */
};

/* Called exactly once per query, from the event loop. @ans is valid during the call. */
typedef void (*zc_query_cb)(const struct zc_answer *ans, void *userdata);

/*
 * zc_engine_new() - an engine on @base (borrowed; must outlive the engine).
 * @opts may be NULL (defaults). Returns 0, -EINVAL or -ENOMEM.
 */
ZC_PUBLIC ZC_MUSTCHECK int zc_engine_new(struct zc_ctx *ctx, struct event_base *base,
					 const struct zc_engine_opts *opts,
					 struct zc_engine **ret_engine);
/*
 * zc_engine_free() - cancels pending queries (their callbacks run with
 * ZC_ECANCELED before this returns), closes sockets, frees. NULL is a no-op.
 * Must not be called from inside a query callback.
 */
ZC_PUBLIC void zc_engine_free(struct zc_engine *eng);
/*
 * zc_engine_query() - asks @server (port included) for @qname/@qtype/class IN.
 * @qname is borrowed (copied into the query). Queues the query when caps are
 * reached. @cb is called exactly once, later, from the loop. May be called from a
 * query callback. Returns 0, -EINVAL (bad address, name, flags, or ZC_Q_DNSSEC
 * with ZC_Q_NOEDNS), -ENOMEM, ZC_ELIMIT (queue full) or ZC_ECANCELED (the engine
 * is being freed); @cb is not called when the result is not 0.
 *
 * Every attempt uses a new random ID, every UDP attempt a new connected socket and
 * so a new random source port. An answer counts only when its source address and
 * port, ID and question (name case-insensitively, type, class) match; anything else
 * is counted in stats.ignored and the query keeps waiting. A TC answer is repeated
 * over TCP. A query that only saw malformed answers with its ID ends in ZC_EMALF,
 * one refused (ICMP port unreachable, TCP RST) in ZC_ECONN, a silent one in
 * ZC_ETIMEOUT; local failures (no socket, no route) end it at once with -errno.
 *
 * Over TCP (RFC 7766) connections to a server are kept tcp_idle_ms and reused, with
 * up to tcp_pipeline queries on each; answers may come in any order. Queries on a
 * connection the server closes are sent again on a new one (twice at most, without
 * using a retry). A server that closed a busy connection after N answers gets at
 * most N queries per connection from then on. What the engine learned about a
 * server is kept for a minute after its last query.
 */
ZC_PUBLIC ZC_MUSTCHECK int zc_engine_query(struct zc_engine *eng, const struct sockaddr *server,
					   socklen_t server_len, const ldns_rdf *qname,
					   ldns_rr_type qtype, unsigned flags, zc_query_cb cb,
					   void *userdata);

struct zc_engine_stats {
	uint64_t queries;        /* zc_engine_query() calls accepted */
	uint64_t answered;       /* callbacks with status 0 */
	uint64_t failed;         /* callbacks with an error */
	uint64_t udp_sent;       /* datagrams sent */
	uint64_t tcp_sent;       /* queries written on TCP */
	uint64_t tcp_connects;   /* TCP connections opened */
	uint64_t tc_fallbacks;   /* TC answers repeated over TCP */
	uint64_t timeouts;       /* attempts that timed out */
	uint64_t ignored;        /* datagrams/frames dropped (wrong source, ID, question;
				  * malformed) */
	uint64_t tcp_resends;    /* TCP queries sent again after the server closed */
	unsigned inflight;       /* now */
	unsigned queued;         /* now */
	unsigned max_inflight_seen;            /* high-water mark, all servers */
	unsigned max_inflight_per_server_seen; /* high-water mark, any one server */
};
ZC_PUBLIC void zc_engine_get_stats(const struct zc_engine *eng, struct zc_engine_stats *ret);

/* --- validating resolver ----------------------------------------------- */

enum zc_security {
	ZC_SEC_INDETERMINATE = 0, /* no answer to judge */
	ZC_SEC_INSECURE = 1,
	ZC_SEC_SECURE = 2,
	ZC_SEC_BOGUS = 3,
};
/* "secure", "insecure", "bogus", "indeterminate" */
ZC_PUBLIC const char *zc_security_str(enum zc_security sec);

struct zc_resolver;

struct zc_resolver_opts {
	const char *trust_anchor_file; /* DS or DNSKEY lines; NULL: none (everything insecure) */
	const char *root_hints;        /* root hints file; NULL: libunbound's built-in */
	const char *const *forward;    /* NULL-terminated list of addresses ("a@port"); NULL: recurse */
	bool tcp_only;
	unsigned timeout_ms;           /* overall bound per lookup; 0: default 15000 */
	const char *const *options;    /* extra "name: value" unbound options, NULL-terminated */
};

struct zc_resolved {
	int status;               /* 0 when an answer (any rcode) came back; ZC_ERESOLV, ZC_ETIMEOUT */
	int rcode;                /* LDNS_RCODE_* of the answer */
	enum zc_security security;
	const char *why_bogus;    /* reason when bogus, else NULL; valid during the callback */
	const ldns_pkt *pkt;      /* the answer packet; valid during the callback; may be NULL */
	bool havedata;            /* the answer section has data of the asked type */
};

typedef void (*zc_resolve_cb)(const struct zc_resolved *res, void *userdata);

/*
 * zc_resolver_new() - a validating resolver on @base (libunbound with
 * ub_ctx_create_event()). Returns 0, ZC_ECONFIG (bad file/option; details logged to
 * @ctx), -ENOMEM.
 */
ZC_PUBLIC ZC_MUSTCHECK int zc_resolver_new(struct zc_ctx *ctx, struct event_base *base,
					   const struct zc_resolver_opts *opts,
					   struct zc_resolver **ret_res);
/* zc_resolver_free() - cancels lookups (callbacks are not called), frees. NULL is a no-op. */
ZC_PUBLIC void zc_resolver_free(struct zc_resolver *res);
/*
 * zc_resolver_resolve() - looks @name/@type (class IN) up with validation. @cb runs
 * once from the loop. Returns 0, -EINVAL, -ENOMEM or ZC_ERESOLV.
 */
ZC_PUBLIC ZC_MUSTCHECK int zc_resolver_resolve(struct zc_resolver *res, const ldns_rdf *name,
					       ldns_rr_type type, zc_resolve_cb cb,
					       void *userdata);

#endif
