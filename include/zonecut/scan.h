/* SPDX-License-Identifier: MIT */
/*
 * zonecut/scan.h: the parental agent. Reads delegations (a parent zone file or a
 * "child ns..." list), asks every nameserver of each child for CDS, CDNSKEY and
 * DNSKEY (RFC 7344, 8078, 9975), authenticates them (through the current DS set,
 * or RFC 9615 bootstrapping signals), applies policy and decides exactly one result
 * per delegation. The funnel is the one in DESIGN.md: one address first, the rest
 * only for children that publish something.
 *
 * Threading: a scan runs on one event_base in one thread; callbacks come from it.
 */
#ifndef ZONECUT_SCAN_H
#define ZONECUT_SCAN_H

#include <jansson.h>
#include <ldns/ldns.h>
#include <sys/socket.h>
#include <zonecut/common.h>
#include <zonecut/net.h>
#include <zonecut/util.h>

#define ZC_SCAN_MAX_NS 16         /* nameservers per delegation we consider */
#define ZC_SCAN_MAX_ADDRS 8       /* addresses per nameserver host we ask */
#define ZC_SCAN_MAX_ALGORITHMS 32
#define ZC_SCAN_MAX_DIGESTS 8

/* --- delegations ------------------------------------------------------- */

struct zc_scan_ns {
	ldns_rdf *name;                                 /* owned */
	struct sockaddr_storage glue[ZC_SCAN_MAX_ADDRS]; /* from the parent, if any */
	unsigned n_glue;
};

struct zc_delegation {
	ldns_rdf *child;       /* owned; absolute, lower-case */
	ldns_rr_list *ds;      /* owned; current DS set (empty: unsecured) */
	bool ds_from_dns;      /* --list: the DS set is to be read from DNS */
	struct zc_scan_ns ns[ZC_SCAN_MAX_NS];
	unsigned n_ns;
	unsigned n_ns_dropped; /* NS beyond ZC_SCAN_MAX_NS */
	uint64_t seq;          /* input order, from 0 */
};

/* Frees a delegation and everything it owns; NULL is a no-op. */
ZC_PUBLIC void zc_delegation_free(struct zc_delegation *d);

/*
 * A stream of delegations. next() returns 0 and a delegation (caller owns it),
 * 1 at the end, or a negative error (then err() describes it, e.g. "FILE:LINE: ...").
 * A source shared by several scans may also return ZC_SCAN_SOURCE_LATER: none for
 * this scan now, ask again when one of its delegations in progress is decided. It
 * may do so only while the scan has one in progress (zc_scan_in_progress() > 0);
 * otherwise nothing would ask again, and zc_scan_run() fails with -EIO instead of
 * waiting forever.
 */
#define ZC_SCAN_SOURCE_LATER 2

struct zc_scan_source {
	int (*next)(struct zc_scan_source *src, struct zc_delegation **ret);
	const char *(*err)(const struct zc_scan_source *src);
	void (*free)(struct zc_scan_source *src);
};

/*
 * zc_zone_source_new() - delegations of a parent zone file (NS, DS and glue of each
 * child), read in two streaming passes (glue first). Records of one owner must be
 * contiguous, as every zone writer produces them; a child found in two places is an
 * error. @only_child (may be NULL) keeps that delegation only. Returns 0, -errno,
 * ZC_EMALF (message in @err) or -ENOMEM.
 */
ZC_PUBLIC ZC_MUSTCHECK int zc_zone_source_new(const char *path, const char *only_child,
					      struct zc_scan_source **ret_src, char *err,
					      size_t errlen);
/* zc_zone_source_origin() - the parent zone's apex once the source is open. */
ZC_PUBLIC const ldns_rdf *zc_zone_source_origin(const struct zc_scan_source *src);
/*
 * zc_list_source_new() - "child ns1 ns2 ..." lines ('#' comments); the current DS
 * set is read from DNS through the validating resolver. A nameserver may carry
 * addresses: "ns1.example.net=192.0.2.1,2001:db8::1".
 */
ZC_PUBLIC ZC_MUSTCHECK int zc_list_source_new(const char *path, const char *only_child,
					      struct zc_scan_source **ret_src, char *err,
					      size_t errlen);

/* --- policy ------------------------------------------------------------ */

struct zc_scan_policy {
	uint8_t algorithms[ZC_SCAN_MAX_ALGORITHMS]; /* allowed; default 8 10 13 14 15 16 */
	unsigned n_algorithms;
	uint8_t digests[ZC_SCAN_MAX_DIGESTS];       /* allowed in DS; default 2 4 */
	unsigned n_digests;
	uint8_t cdnskey_digests[ZC_SCAN_MAX_DIGESTS]; /* used to compute DS from CDNSKEY; default 2 */
	unsigned n_cdnskey_digests;
	unsigned max_records;      /* CDS or CDNSKEY records per RRset; default 8 */
	uint64_t accept_after_delay_ms; /* RFC 8078 §3.3; 0 = off (default) */
	bool strict_continuity;    /* S9 strict (default true) */
	bool bootstrap;            /* accept RFC 9615 bootstraps (default true) */
	unsigned leave_out_after;  /* S3: a server failing this many runs in a row is left
				      out of the decision (needs the store); 0 = never; default 7 */
};

ZC_PUBLIC void zc_scan_policy_default(struct zc_scan_policy *p);

/* --- results ----------------------------------------------------------- */

enum zc_scan_result {
	ZC_SCAN_NO_CDS = 0,
	ZC_SCAN_UNCHANGED,
	ZC_SCAN_UPDATE,
	ZC_SCAN_DELETE,
	ZC_SCAN_REJECTED,
	ZC_SCAN_ERROR,
};
#define ZC_SCAN_RESULT_COUNT 6

enum zc_scan_mode {
	ZC_SCAN_MODE_NONE = 0,
	ZC_SCAN_MODE_BOOTSTRAP,
	ZC_SCAN_MODE_ROLLOVER,
	ZC_SCAN_MODE_DELETE,
};

/* "no-cds", "unchanged", "update", "delete", "rejected", "error" */
ZC_PUBLIC const char *zc_scan_result_str(enum zc_scan_result r);
/* "bootstrap", "rollover", "delete"; NULL for NONE */
ZC_PUBLIC const char *zc_scan_mode_str(enum zc_scan_mode m);

/* Reason codes (machine-readable, stable). */
enum zc_scan_reason {
	ZC_R_NS_INCONSISTENT = 0,
	ZC_R_CDS_CDNSKEY_MISMATCH,
	ZC_R_NOT_SIGNED_BY_DS_KEY,
	ZC_R_DNSKEY_NOT_VALIDATED,
	ZC_R_BOOTSTRAP_SIGNAL_MISSING,
	ZC_R_BOOTSTRAP_SIGNAL_MISMATCH,
	ZC_R_BOOTSTRAP_SIGNAL_INSECURE,
	ZC_R_BOOTSTRAP_NO_OUT_OF_CHILD_NS,
	ZC_R_BREAKS_CHAIN,
	ZC_R_ALGORITHM_NOT_ALLOWED,
	ZC_R_DIGEST_NOT_ALLOWED,
	ZC_R_DELETE_MALFORMED,
	ZC_R_REPLAY,
	ZC_R_TOO_MANY_RECORDS,
	ZC_R_TIMEOUT,
	ZC_R_UNREACHABLE,
	ZC_R_LAME,               /* REFUSED, SERVFAIL, or not authoritative */
	ZC_R_MALFORMED,          /* answers that do not parse or make no sense */
	ZC_R_SIGNATURE_INVALID,  /* CDS/CDNSKEY/DNSKEY RRSIG bogus or expired */
	ZC_R_DELAY_PENDING,      /* accept-after-delay: seen, waiting */
	ZC_R_BOOTSTRAP_DISABLED,
	ZC_R_DS_LOOKUP_FAILED,   /* --list: the current DS set could not be read securely */
	ZC_R_NO_ADDRESS,         /* a nameserver host has no address */
	ZC_R_STORE_FAILED,       /* the state store could not be read: replay unknown */
	ZC_R_COUNT
};
ZC_PUBLIC const char *zc_scan_reason_str(enum zc_scan_reason r);

struct zc_scan_decision {
	const char *child;             /* absolute, lower-case, final dot */
	uint64_t seq;                  /* input order */
	enum zc_scan_result result;
	enum zc_scan_mode mode;
	uint32_t reasons;              /* bit set of (1u << enum zc_scan_reason) */
	const ldns_rr_list *ds_old;    /* current DS set */
	const ldns_rr_list *ds_new;    /* NULL unless update, delete (empty) or unchanged */
	uint32_t inception;            /* newest inception of the RRSIGs that authenticated it */
	/*
	 * Per nameserver and address, what came back: one JSON object, compact text
	 * (evidence_len octets, NUL-terminated); NULL when it could not be made (memory).
	 */
	const char *evidence_json;
	size_t evidence_len;
	unsigned queries;              /* sent for this delegation */
};

/* Called once per delegation, from the loop; @d is valid during the call. */
typedef void (*zc_scan_decision_fn)(const struct zc_scan_decision *d, void *userdata);

/* --- the scan ---------------------------------------------------------- */

struct zc_scan;
struct zc_store;

struct zc_scan_opts {
	struct zc_scan_policy policy;
	unsigned concurrency;   /* delegations in progress at once; default 1000 */
	unsigned flags;         /* ZC_Q_TCP for TCP-only */
	time_t now;             /* validation time; 0 = the clock */
	struct zc_store *store; /* replay protection and delay observations; may be NULL */
	bool record;            /* record accepted changes as applied (S10 state), for
				   --apply json/nsupdate; the journal does it for update */
	bool probe_all;         /* ask CDS/CDNSKEY at every address even when the first
				   has none (full S4 check for every delegation; more queries) */
	/*
	 * An unvalidating resolver (no trust anchor) on the same base, or NULL. With
	 * it, an RFC 9615 signal is first resolved without validation and accepted
	 * when one of its RRSIGs (no wildcard) verifies with a key of the signer's
	 * DNSKEY set, which the validating resolver found secure; any other answer
	 * (denial, alias, failed check) is asked of the validating resolver, whose
	 * verdict stands. Borrowed.
	 */
	struct zc_resolver *signal_resolver;
};

ZC_PUBLIC void zc_scan_opts_default(struct zc_scan_opts *o);

/*
 * zc_scan_new() - a scan using @eng for authoritative queries and @res (validating)
 * for addresses, RFC 9615 signals and --list DS sets; both borrowed. @cb receives
 * each decision. Returns 0, -EINVAL or -ENOMEM.
 */
ZC_PUBLIC ZC_MUSTCHECK int zc_scan_new(struct zc_ctx *ctx, struct event_base *base,
				       struct zc_engine *eng, struct zc_resolver *res,
				       const struct zc_scan_opts *opts, zc_scan_decision_fn cb,
				       void *userdata, struct zc_scan **ret_scan);
ZC_PUBLIC void zc_scan_free(struct zc_scan *scan);

/*
 * zc_scan_run() - pulls delegations from @src, keeping at most `concurrency` in
 * progress (memory does not grow with the input), runs the loop until every one
 * is decided. Returns 0, or the source's error (decisions already made stand).
 */
ZC_PUBLIC ZC_MUSTCHECK int zc_scan_run(struct zc_scan *scan, struct zc_scan_source *src);

struct zc_scan_stats {
	uint64_t delegations;
	uint64_t results[ZC_SCAN_RESULT_COUNT];
	uint64_t queries;
	uint64_t addr_cache_hits;
	uint64_t addr_cache_misses;
	uint64_t signals_checked;  /* accepted by our check of the signer's keys */
	uint64_t signals_resolved; /* validated by the validating resolver */
	uint64_t signals_direct;   /* asked at the nameserver they are named after first */
	uint64_t signals_direct_taken; /* ... and checked from its answer */
	uint64_t answers_shared;   /* answers with records that were the same as another
				      address's (but the ID): parsed once */
};
ZC_PUBLIC void zc_scan_get_stats(const struct zc_scan *scan, struct zc_scan_stats *ret);
/* zc_scan_in_progress() - delegations taken from the source and not yet decided. */
ZC_PUBLIC unsigned zc_scan_in_progress(const struct zc_scan *scan);

#endif
