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
/* zc_addr_to_str() - "192.0.2.1@53" / "2001:db8::1@53" into @buf. 0 or ZC_ELIMIT. */
ZC_PUBLIC int zc_addr_to_str(const struct sockaddr *sa, char *buf, size_t len);

/* --- query engine ------------------------------------------------------ */

struct zc_engine;

struct zc_engine_opts {
	unsigned max_inflight;            /* all servers together; default 1000 */
	unsigned max_inflight_per_server; /* per server address; default 10 */
	unsigned qps_per_server;          /* queries/second per server address; 0 = no limit; default 0 */
	unsigned timeout_ms;              /* first attempt; default 1500 */
	unsigned retries;                 /* further attempts, timeout doubling each time; default 2 */
	unsigned max_timeout_ms;          /* cap of the back-off; default 8000 */
	uint16_t edns_bufsize;            /* default 1232 */
	unsigned tcp_idle_ms;             /* keep an idle TCP connection this long; default 5000 */
	unsigned max_queue;               /* queries waiting for a slot; default 1000000 */
};

/* zc_engine_opts_default() - fills @o with the defaults above. */
ZC_PUBLIC void zc_engine_opts_default(struct zc_engine_opts *o);

enum zc_query_flags {
	ZC_Q_DNSSEC = 1 << 0, /* DO bit (implies EDNS0) */
	ZC_Q_TCP = 1 << 1,    /* TCP only */
	ZC_Q_RD = 1 << 2,     /* recursion desired */
	ZC_Q_CD = 1 << 3,     /* checking disabled */
	ZC_Q_NOEDNS = 1 << 4, /* no OPT record */
};

struct zc_answer {
	int status;                   /* 0; ZC_ETIMEOUT, ZC_ECONN, ZC_EMALF, ZC_ECANCELED, -errno */
	const ldns_pkt *pkt;          /* the answer when status is 0; valid during the callback */
	const uint8_t *wire;          /* its wire form */
	size_t wire_len;
	const struct sockaddr *server; /* the address asked */
	bool tcp;                     /* the answer came over TCP */
	bool tc_fallback;             /* a UDP answer had TC and the query was repeated over TCP */
	unsigned attempts;            /* datagrams/connections tried */
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
 * Queues the query when caps are reached. @cb is called exactly once, later,
 * from the loop. Returns 0, -EINVAL, -ENOMEM or ZC_ELIMIT (queue full; @cb not called).
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
	uint64_t ignored;        /* datagrams dropped (wrong source, id, question, malformed) */
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
