/* SPDX-License-Identifier: MIT */
/*
 * signers/internal.h: what the files of the multi-signer controller share: the
 * transport-and-clock ops table (the network by default, a script in the unit
 * tests), the signer group kept in the store, what one signer serves (a view),
 * the key model of RFC 8901 model 2, and the drivers.
 */
#ifndef ZC_SIGNERS_INTERNAL_H
#define ZC_SIGNERS_INTERNAL_H

#include <ldns/ldns.h>
#include <zonecut/dns.h>
#include <zonecut/net.h>
#include <zonecut/signers.h>

#include "util/internal.h"

#define SGN_ERR_LEN 512
#define SGN_ADDR_LEN 64 /* "ADDR@PORT" text, IPv6 with a scope included */
#define SGN_MAX_SERVERS (ZC_SIGNERS_MAX_NS * ZC_SIGNERS_MAX_ADDRS)
#define SGN_MAX_ZSIG 16
#define SGN_DEFAULT_TTL 3600
#define SGN_DEFAULT_TIMEOUT_MS 5000
#define SGN_DEFAULT_READBACK_MS 30000
#define SGN_DEFAULT_RETRY_S 10
/* keys-command=manual: no program; the operator acts and the controller waits */
#define SGN_KEYS_MANUAL "manual"

/*
 * Transport and clock. The default (io.c) talks to real servers; unit tests
 * script them. Every function is blocking and bounded.
 *  query: one question (DO set, no RD, class IN) to @server ("ADDR@PORT"); 0 with
 *         *ret_answer (ldns_pkt_free()) whatever its rcode, or an error with @why.
 *  apply: one atomic change of the zone at signer @s through its driver: @add
 *         records (with their TTL) and @del records (exact rdata). 0 when the
 *         signer answered, with *ret_rcode (LDNS_RCODE_*; the PowerDNS driver maps
 *         HTTP statuses onto REFUSED/SERVFAIL), or an error with @why (timeouts,
 *         connection failures, TSIG errors: nothing known about the outcome).
 *  now:   Unix time in seconds (deadlines).
 *  mono_ms: a monotonic clock in milliseconds (read-back time).
 *  sleep_ms: waits (read-back polling).
 *  run:   runs a program (a signer's keys-command): @argv[0] is its path, no shell;
 *         0 with *ret_status (as waitpid() gives it) and what it wrote to stdout
 *         and stderr in @out (the last @outlen - 1 bytes, one line), or an error
 *         with @why (cannot start it; ZC_ETIMEOUT: killed after @timeout_ms).
 *  resolve: the addresses of nameserver @name (absolute), A and AAAA, through the
 *         validating resolver: 0 with up to @max "ADDR@53" strings in @out (*ret_n,
 *         0 when the name has no address) and the security of the answers
 *         (*ret_sec: secure when every answer was, else insecure), or an error with
 *         @why: ZC_ERESOLV (SERVFAIL, NXDOMAIN, another rcode), ZC_EBOGUS
 *         (validation failed), ZC_ETIMEOUT, ZC_ECONFIG (resolver options). NULL
 *         in a table: names without addresses cannot be resolved (ZC_ENOTSUP).
 * The real table's @ud is the controller (zc_signers_new()).
 */
struct sgn_io {
	int (*query)(void *ud, const char *server, const ldns_rdf *qname, ldns_rr_type type,
		     unsigned timeout_ms, ldns_pkt **ret_answer, char *why, size_t whylen);
	int (*apply)(void *ud, const struct zc_signer *s, const char *zone,
		     const ldns_rr_list *add, const ldns_rr_list *del, unsigned timeout_ms,
		     int *ret_rcode, char *why, size_t whylen);
	int64_t (*now)(void *ud);
	uint64_t (*mono_ms)(void *ud);
	void (*sleep_ms)(void *ud, unsigned ms);
	int (*run)(void *ud, char *const argv[], unsigned timeout_ms, int *ret_status, char *out,
		   size_t outlen, char *why, size_t whylen);
	int (*resolve)(void *ud, const char *name, char (*out)[SGN_ADDR_LEN], unsigned max,
		       unsigned *ret_n, enum zc_security *ret_sec, char *why, size_t whylen);
};

/* The real keys-command runner (keyscmd.c). */
int sgn_run_command(void *ud, char *const argv[], unsigned timeout_ms, int *ret_status, char *out,
		    size_t outlen, char *why, size_t whylen);

/* The network and the system clock (io.c). */
extern const struct sgn_io sgn_io_real;

/*
 * A nameserver name given without addresses, as the resolver answered for it
 * during one pass (resolve.c): every pass asks once per name, and every read in
 * that pass uses the same answer.
 */
struct sgn_ns_entry {
	struct sgn_ns_entry *next;
	char name[ZC_DNS_MAX_NAME_TEXT];
	int status;            /* 0, or why the name gave no address (the resolve op's error) */
	char why[SGN_ERR_LEN]; /* when status is not 0 */
	enum zc_security sec;
	char addrs[ZC_SIGNERS_MAX_ADDRS][SGN_ADDR_LEN];
	unsigned n_addrs;
};

/* The real resolver (resolve.c): a libevent loop of its own, made on first use. */
struct sgn_dns;

struct zc_signers {
	struct zc_ctx *ctx;   /* borrowed */
	struct zc_store *st;  /* borrowed */
	struct zc_signers_opts o;
	const struct sgn_io *io;
	void *io_ud;
	char err[SGN_ERR_LEN]; /* zc_signers_last_error() */
	struct sgn_ns_entry *ns_cache; /* this pass's answers */
	struct sgn_dns *dns;
};

/* The real resolve op (resolve.c); @ud is the controller. */
int sgn_resolve_real(void *ud, const char *name, char (*out)[SGN_ADDR_LEN], unsigned max,
		     unsigned *ret_n, enum zc_security *ret_sec, char *why, size_t whylen);
/* Frees the real resolver of @c (zc_signers_free()). */
void sgn_dns_free(struct zc_signers *c);
/* Forgets the answers of the last pass: the next reads resolve again. */
void sgn_ns_cache_clear(struct zc_signers *c);
/*
 * The answer for nameserver @name (absolute, lower-case) in this pass: looked up
 * in the cache, else resolved once and kept. NULL only on ENOMEM.
 */
const struct sgn_ns_entry *sgn_ns_resolve(struct zc_signers *c, const char *name);

/* For the unit tests: replaces the transport and clock of @c. */
void zc_signers_set_io(struct zc_signers *c, const struct sgn_io *io, void *ud);

void sgn_seterr(struct zc_signers *c, const char *fmt, ...) ZC_PRINTF(2, 3);

/* --- the group (members JSON in the store) -------------------------------- */

enum sgn_state {
	SGN_ACTIVE = 0,  /* in the group */
	SGN_JOINING = 1, /* being added (join) */
	SGN_LEAVING = 2, /* being removed (leave) */
};
const char *sgn_state_str(enum sgn_state s);

struct sgn_member {
	char name[ZC_SIGNER_MAX_NAME + 1];
	enum sgn_state state;
	/*
	 * The DNSKEY records the controller put at this signer (other signers' keys).
	 * Whatever else the signer publishes is its own. Written before an UPDATE
	 * adds a key, pruned after a removal is read back: a crash never makes a
	 * foreign key look like the signer's own.
	 */
	ldns_rr_list *pushed;
};

struct sgn_group {
	struct sgn_member m[ZC_SIGNERS_MAX_GROUP];
	unsigned n;
};

/* Parses the members JSON ("" is an empty group) for @zone. 0, ZC_ESTORE or -ENOMEM. */
int sgn_group_parse(const char *json, const char *zone, struct sgn_group *ret);
/* The JSON text of @g into *ret (free()). 0 or -ENOMEM. */
int sgn_group_format(const struct sgn_group *g, char **ret);
void sgn_group_release(struct sgn_group *g);
struct sgn_member *sgn_group_find(struct sgn_group *g, const char *name);
/* Adds @name (state @state, nothing pushed). 0, -EEXIST, ZC_ELIMIT or -ENOMEM. */
int sgn_group_add(struct sgn_group *g, const char *name, enum sgn_state state);
void sgn_group_remove(struct sgn_group *g, const char *name);

/* --- what one signer serves ------------------------------------------------ */

/* A key that signs data: the SOA's RRSIG names it (tag and algorithm). */
struct sgn_keyref {
	uint16_t tag;
	uint8_t alg;
	uint16_t servers; /* how many of the signer's servers serve such an RRSIG */
};

struct sgn_view {
	const struct zc_signer *s; /* borrowed */
	int status;                /* 0: every server answered, and alike */
	char err[SGN_ERR_LEN];
	ldns_rr_list *dnskey, *cds, *cdnskey, *ns, *csync; /* owned, canonical order */
	uint32_t ttl_dnskey, ttl_cds, ttl_ns, ttl_soa;   /* 0 when the RRset is empty */
	uint32_t serial;
	uint32_t soa_minimum; /* RFC 2308: how long negative answers are cached */
	struct sgn_keyref zsig[SGN_MAX_ZSIG]; /* keys that sign the SOA (on any server) */
	unsigned n_zsig;
	struct sgn_keyref ksig[SGN_MAX_ZSIG]; /* keys that sign the DNSKEY set */
	unsigned n_ksig;
	struct sgn_keyref nsig[SGN_MAX_ZSIG]; /* keys that sign the apex NS set */
	unsigned n_nsig;
	unsigned n_servers;
};

/*
 * How many servers of @v serve an RRSIG by @key over the apex RRset @covered
 * (SOA, DNSKEY or NS): 0 none, v->n_servers every one.
 */
unsigned sgn_signed_by(const struct sgn_view *v, const ldns_rr *key, ldns_rr_type covered);

/* Where the address of an authoritative server of a signer came from. */
enum sgn_source {
	SGN_SRC_CONFIG = 0, /* ns=NAME=ADDR */
	SGN_SRC_DNS = 1,    /* ns=NAME, resolved in this pass */
	SGN_SRC_SERVER = 2, /* the signer's server (rfc2136, no ns name at all to ask) */
};
const char *sgn_source_str(enum sgn_source s);

struct sgn_server {
	const char *addr; /* "ADDR@PORT"; into the signer or the pass's cache */
	const char *ns;   /* the nameserver name; NULL for the signer's server */
	enum sgn_source source;
};

/*
 * The authoritative servers of @s, each address once: the addresses given with
 * its ns names, and those of the names given without addresses, resolved (A and
 * AAAA, port 53) once per pass. A name that gives no address (SERVFAIL,
 * NXDOMAIN, no A/AAAA, bogus, timeout) is never skipped: the result is then its
 * error, with @why naming the signer and the name, and the servers found so far
 * in @out (*ret_n). Returns 0, that error, or -ENOMEM.
 */
int sgn_servers(struct zc_signers *c, const struct zc_signer *s, struct sgn_server *out,
		unsigned max, unsigned *ret_n, char *why, size_t whylen);

/*
 * Reads the apex of @zone at every server of @s: SOA (with RRSIGs), DNSKEY, CDS,
 * CDNSKEY, NS and CSYNC. Every server must answer authoritatively and alike.
 * Returns 0 with @v filled (release it); on failure v->status and v->err say why
 * (and the same code is returned): ZC_ETIMEOUT/ZC_ECONN (unreachable),
 * ZC_EMISMATCH (servers disagree), ZC_ENOTFOUND (not authoritative, not signed).
 */
int sgn_view_read(struct zc_signers *c, const struct zc_signer *s, const char *zone,
		  struct sgn_view *v);
void sgn_view_release(struct sgn_view *v);

/* The parent's side: the DS and NS sets of the zone at the parent's servers. */
struct sgn_parent {
	int status;
	char err[SGN_ERR_LEN];
	ldns_rr_list *ds, *ns; /* owned */
	uint32_t ttl_ds, ttl_ns;
};
int sgn_parent_read(struct zc_signers *c, const struct zc_signer_zone *z, struct sgn_parent *p);
void sgn_parent_release(struct sgn_parent *p);

/* --- the key model (RFC 8901 §2.1.2, §8) ------------------------------------ */

/* Copies of the records of @list for which @keep returns true; NULL on ENOMEM. */
ldns_rr_list *sgn_filter(const ldns_rr_list *list, bool (*keep)(const ldns_rr *rr, const void *arg),
			 const void *arg);
/* @rr's rdata is in @list (zc_rdata_equal()). */
bool sgn_has_rdata(const ldns_rr_list *list, const ldns_rr *rr);
/* A key of @list is @key (zc_key_equal(): algorithm and public key). */
bool sgn_has_key(const ldns_rr_list *list, const ldns_rr *key);

/* The signer's own keys: what it publishes that the controller did not put there. */
ldns_rr_list *sgn_own_keys(const struct sgn_view *v, const ldns_rr_list *pushed);
/*
 * The keys others must publish: own keys without the SEP flag (ZSKs), own SEP
 * keys that sign the SOA (CSKs), and own keys in @extra (may be NULL: a CSK
 * rollover's new CSK before it signs and old one after it stopped).
 */
ldns_rr_list *sgn_zone_keys(const struct sgn_view *v, const ldns_rr_list *own,
			    const ldns_rr_list *extra);
/* The keys the parent's DS set must name: own keys with the SEP flag (KSKs, CSKs). */
ldns_rr_list *sgn_sep_keys(const ldns_rr_list *own);

/*
 * CDS records (every digest of @digests, in order) and CDNSKEY records of @keys,
 * owned by @zone with @ttl. 0, ZC_ENOTSUP, ZC_EMALF or -ENOMEM.
 */
int sgn_cds_of(const ldns_rr_list *keys, const ldns_rdf *zone, uint32_t ttl,
	       const uint8_t *digests, unsigned n_digests, ldns_rr_list **ret_cds,
	       ldns_rr_list **ret_cdnskey);
/*
 * @ds (the parent's DS set) names exactly @keys: every DS matches a key and every
 * key has a DS (whatever digest types the parent chose).
 */
bool sgn_ds_names_exactly(const ldns_rr_list *ds, const ldns_rr_list *keys);

/*
 * Differences between what a signer has and what it should have: *ret_add =
 * @want minus @have; *ret_del = @removable minus @want (records of @have that may
 * go; NULL: all of @have). Copies; 0 or -ENOMEM.
 */
int sgn_diff(const ldns_rr_list *have, const ldns_rr_list *want, const ldns_rr_list *removable,
	     ldns_rr_list **ret_add, ldns_rr_list **ret_del);

/* "13/28071" style short text of a key or DS into @buf. */
void sgn_key_str(const ldns_rr *rr, char *buf, size_t len);
/* The rdata of @rr in presentation form, without owner, TTL, class and type; free(). */
char *sgn_rdata_str(const ldns_rr *rr);
/* "+DNSKEY 256 3 13 ...; -CDS ..." for events and messages; free(). */
char *sgn_change_str(const ldns_rr_list *add, const ldns_rr_list *del);

/* --- what a group should publish -------------------------------------------------- */

/* A zone's group as the controller sees it in one pass. */
struct sgn_set {
	const struct zc_signer_zone *zone;
	const ldns_rdf *apex;
	const struct sgn_group *group;
	struct zc_signer *const *cfg;    /* [group->n] */
	const struct sgn_view *view;     /* [group->n]; read for every participant */
	const ldns_rr_list *parent_ds;   /* NULL when not read */
	const ldns_rr_list *parent_ns;   /* NULL when not read */
	const ldns_rr_list *zone_extra;  /* keys that count as zone keys (CSK rollover) */
};

/* A leaving signer no longer counts for what the group publishes. */
static inline bool sgn_participates(const struct sgn_group *g, unsigned i)
{
	return g->m[i].state != SGN_LEAVING;
}

/* What the participants of a group should publish (RFC 8901 §2.1.2, §8). */
struct sgn_targets {
	ldns_rr_list *own[ZC_SIGNERS_MAX_GROUP];
	ldns_rr_list *zone_keys[ZC_SIGNERS_MAX_GROUP];
	ldns_rr_list *sep;     /* every participant's KSKs and CSKs */
	ldns_rr_list *cds, *cdnskey; /* for them, TTL 0 (rdata is what counts) */
	ldns_rr_list *ns;      /* the NS union, TTL 0 */
	uint8_t digests[ZC_SIGNERS_MAX_DIGESTS];
	unsigned n_digests;
};

void sgn_targets_release(struct sgn_targets *t);
/*
 * Computes @t from the views of the participants: own keys, zone keys, every
 * KSK/CSK, their CDS (digest types in use: the zone's, the signers' CDS, the
 * parent's DS; SHA-256 always) and CDNSKEY, the NS union. 0, ZC_ENOTSUP,
 * ZC_EMALF or -ENOMEM.
 */
int sgn_targets_compute(const struct sgn_set *r, struct sgn_targets *t);

enum { SGN_W_DNSKEY, SGN_W_CDS, SGN_W_NS };
/*
 * What participant @i lacks (*ret_add) and has too much of (*ret_del) for one
 * kind of set: DNSKEY (only keys the controller pushed may go), CDS+CDNSKEY, or
 * NS+CSYNC (with @csync, the CSYNC record for the parent). 0 or an error.
 */
int sgn_diff_for(const struct sgn_set *r, const struct sgn_targets *t, unsigned i, int what,
		 bool csync, ldns_rr_list **ret_add, ldns_rr_list **ret_del);
/*
 * The prerequisites of RFC 8901 §4 and §8.1 over the participants: each has keys
 * of its own; one algorithm for all; no key owned by two signers; no two keys
 * with the same tag and algorithm; every NS name served declared by a member.
 * Returns 0 when they hold, 1 with the reason in @why and the signer concerned in
 * *ret_signer when not.
 */
int sgn_check_group(const struct sgn_set *r, const struct sgn_targets *t, const char **ret_signer,
		    char *why, size_t len);
/* The parent's NS set names exactly the NS union. */
bool sgn_parent_ns_done(const struct sgn_set *r, const struct sgn_targets *t);
int sgn_append_copies(ldns_rr_list *to, const ldns_rr_list *from);
void sgn_set_ttl(ldns_rr_list *l, uint32_t ttl);

/* --- a write, read back ------------------------------------------------------------ */

enum sgn_write_outcome {
	SGN_WRITE_OK = 0,        /* applied, and every server of the signer serves it */
	SGN_WRITE_REFUSED = 1,   /* an error rcode (REFUSED, NOTAUTH...), a TSIG or config error */
	SGN_WRITE_TRANSIENT = 2, /* no answer (timeout, connection): outcome unknown */
	SGN_WRITE_IGNORED = 3,   /* NOERROR, but no server shows any part of the change */
	SGN_WRITE_PARTIAL = 4,   /* some servers show it, others not within the read-back time */
};
const char *sgn_write_outcome_str(enum sgn_write_outcome o);

struct sgn_write_result {
	enum sgn_write_outcome outcome;
	int rcode;          /* of the answer; -1: none */
	unsigned servers;   /* servers read back */
	char why[SGN_ERR_LEN]; /* what happened, for people (also for OK) */
};

/*
 * sgn_write() - one change at signer @s through its driver, then read back from
 * every authoritative server of @s (sgn_servers()) until each serves every
 * record of @add and none of @del, or readback_timeout_ms is over. @sent (may be
 * NULL) is called once the change has left. Returns 0 with @res filled (the
 * outcome says what happened), or -ENOMEM.
 */
int sgn_write(struct zc_signers *c, const struct zc_signer *s, const char *zone,
	      const ldns_rr_list *add, const ldns_rr_list *del, struct sgn_write_result *res,
	      void (*sent)(void *ud, const struct zc_signer *s), void *ud);

/* --- drivers ------------------------------------------------------------------ */

/* RFC 2136 UPDATE of @zone: @add (class IN) and @del (class NONE, RFC 2136 §2.5.4). */
int sgn_rfc2136_build(const char *zone, const ldns_rr_list *add, const ldns_rr_list *del,
		      ldns_pkt **ret_pkt);
/*
 * The PowerDNS API body for the same change: one rrset per owner and type, its
 * whole new content (REPLACE), computed from @have (what the server holds) plus
 * @add minus @del; or DELETE for a set that ends empty. 0 with *ret (json_decref()).
 */
int sgn_pdns_body(const char *zone, const ldns_rr_list *have, const ldns_rr_list *add,
		  const ldns_rr_list *del, json_t **ret);
/* The PowerDNS API driver (pdns.c): reads the rrsets it changes, then PATCHes. */
int sgn_pdns_apply(const struct zc_signer *s, const char *zone, const ldns_rr_list *add,
		   const ldns_rr_list *del, unsigned timeout_ms, int *ret_rcode, char *why,
		   size_t whylen);

#endif
