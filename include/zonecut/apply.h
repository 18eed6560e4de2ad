/* SPDX-License-Identifier: MIT */
/*
 * zonecut/apply.h: where DS decisions go. A struct zc_change (the scanner's
 * decision for one child) becomes an nsupdate script, or an RFC 2136 DNS UPDATE
 * signed with TSIG (RFC 8945) sent to the parent's primary: journaled in the store
 * before it is sent, guarded by RFC 2136 §2.4 prerequisites on the old DS set so
 * that it applies at most once and never over someone else's change, and read
 * back from the primary afterwards.
 *
 * Ownership: arguments are borrowed. Objects returned through ret_* are freed by
 * the caller with the function named there.
 * Threading: an updater, like a store, is used by one thread at a time. The
 * updater does blocking I/O (TCP to the primary, bounded by its timeout): call it
 * from a worker, not from an event-loop callback.
 */
#ifndef ZONECUT_APPLY_H
#define ZONECUT_APPLY_H

#include <ldns/ldns.h>
#include <stdio.h>
#include <sys/socket.h>
#include <zonecut/common.h>
#include <zonecut/store.h>
#include <zonecut/util.h>

/* TTL of new DS records when neither the change nor the old DS set gives one. */
#define ZC_APPLY_DEFAULT_TTL 3600
/* At most this many DS records on either side of a change. */
#define ZC_APPLY_MAX_DS 64

/* --- a change ------------------------------------------------------------ */

/*
 * One DS change for one delegation: the parent holds @ds_old and must hold
 * @ds_new. Records of both lists are DS (or CDS, taken as DS); owner, class and
 * TTL of the records are ignored (@child is the owner). An empty or NULL @ds_new
 * removes every DS (RFC 8078 §4 delete); an empty or NULL @ds_old means the
 * delegation is unsigned now (bootstrap).
 */
struct zc_change {
	const char *child;          /* absolute name of the delegation, e.g. "example.com." */
	const char *parent;         /* parent zone, e.g. "com." */
	const ldns_rr_list *ds_old; /* borrowed; NULL = none */
	const ldns_rr_list *ds_new; /* borrowed; NULL = none (delete all) */
	uint32_t ttl;               /* TTL of added DS; 0: TTL of the first ds_old record when
				       not 0, else ZC_APPLY_DEFAULT_TTL */
	enum zc_change_mode mode;
	uint32_t inception;         /* RRSIG inception of the CDS/CDNSKEY (S10); 0: none */
};

/*
 * zc_apply_ds_text() - the canonical text form of a DS set, as kept in the
 * journal and compared there: one "KEYTAG ALGORITHM DIGESTTYPE HEXDIGEST" line
 * per distinct record (upper-case hex), sorted, each ending in '\n'; "" for an
 * empty or NULL set. Two sets are equal exactly when their texts are.
 * Returns 0 with *ret_text (free()), ZC_EMALF (a record that is not DS/CDS, a
 * truncated one, or the CDS delete form), ZC_ELIMIT (over ZC_APPLY_MAX_DS
 * records), -EINVAL or -ENOMEM.
 */
ZC_PUBLIC ZC_MUSTCHECK int zc_apply_ds_text(const ldns_rr_list *ds, char **ret_text);
/*
 * zc_apply_ds_parse() - the reverse: DS records owned by @owner with @ttl from
 * @text, whose records are "KEYTAG ALGORITHM DIGESTTYPE HEXDIGEST" separated by
 * newlines or ';' (blank entries ignored; the digest may contain blanks). An
 * empty text gives an empty list. Returns 0 with *ret_list (free with
 * ldns_rr_list_deep_free()), ZC_EMALF, ZC_ELIMIT, -EINVAL or -ENOMEM.
 */
ZC_PUBLIC ZC_MUSTCHECK int zc_apply_ds_parse(const char *owner, uint32_t ttl, const char *text,
					     ldns_rr_list **ret_list);
/* zc_change_ttl() - the TTL that added DS records get (see struct zc_change). */
ZC_PUBLIC uint32_t zc_change_ttl(const struct zc_change *c);
/*
 * zc_change_to_journal() - the journal form of @c (names lower-cased and made
 * absolute, DS sets as zc_apply_ds_text()) into @ret, for zc_store_journal_add().
 * Returns 0 (release @ret with zc_journal_entry_release()), ZC_EMALF (bad name or
 * record; also a child not below its parent), -EINVAL or -ENOMEM.
 */
ZC_PUBLIC ZC_MUSTCHECK int zc_change_to_journal(const struct zc_change *c,
						struct zc_journal_entry *ret);

/* --- nsupdate scripts ---------------------------------------------------- */

enum zc_nsupdate_flags {
	/*
	 * Also write RFC 2136 prerequisites on the old DS set (`prereq yxrrset` with
	 * each old record, or `prereq nxrrset` when there is none), so that the
	 * script fails instead of applying over a DS set that changed meanwhile.
	 */
	ZC_NSUPDATE_PREREQ = 1 << 0,
};

/*
 * zc_apply_nsupdate() - writes the nsupdate(1) commands for @c to @out:
 *     server ADDR [PORT]                       (when @server, "ADDR[@PORT]", is given)
 *     zone PARENT.
 *     [prereq ... (ZC_NSUPDATE_PREREQ)]
 *     update add CHILD. TTL IN DS ...          (each record of ds_new not in ds_old)
 *     update delete CHILD. IN DS ...           (each record of ds_old not in ds_new)
 *     send
 * Adds come before deletes; one UPDATE message is atomic anyway. When ds_new is
 * empty the whole DS RRset is deleted (`update delete CHILD. IN DS`). @zone
 * overrides c->parent when not NULL. Nothing is written when the sets are equal.
 * Returns 0, -EINVAL (bad @server or arguments), ZC_EMALF (bad names or
 * records), -ENOMEM, or -EIO when writing to @out failed.
 */
ZC_PUBLIC ZC_MUSTCHECK int zc_apply_nsupdate(FILE *out, const struct zc_change *c,
					     const char *server, const char *zone,
					     unsigned flags);

/* --- TSIG keys (RFC 8945) ------------------------------------------------ */

enum zc_tsig_alg {
	ZC_TSIG_HMAC_SHA1 = 1,   /* allowed for old primaries; zc_tsig_is_weak() */
	ZC_TSIG_HMAC_SHA224 = 2,
	ZC_TSIG_HMAC_SHA256 = 3, /* the default */
	ZC_TSIG_HMAC_SHA384 = 4,
	ZC_TSIG_HMAC_SHA512 = 5,
};

struct zc_tsig;

/* Longest secret accepted, in octets (decoded). */
#define ZC_TSIG_MAX_SECRET 512

/*
 * zc_tsig_parse() - a key from "[ALG:]NAME:BASE64SECRET" (the form of dig -y;
 * ALG is hmac-sha1, hmac-sha224, hmac-sha256 (default), hmac-sha384 or
 * hmac-sha512, case-insensitive, with or without a final dot). NAME is made
 * absolute and lower-case. Returns 0 with *ret_key (free with zc_tsig_free()),
 * ZC_ENOTSUP (unknown or unsupported algorithm, e.g. hmac-md5), ZC_EMALF (empty
 * or bad name, bad or empty base64, wrong number of fields), -EINVAL or -ENOMEM.
 * When @err is not NULL a reason is written there (@errlen bytes) on failure.
 */
ZC_PUBLIC ZC_MUSTCHECK int zc_tsig_parse(const char *text, struct zc_tsig **ret_key, char *err,
					 size_t errlen);
/*
 * zc_tsig_load_file() - a key from a file: either the BIND form written by
 * tsig-keygen / ddns-confgen
 *     key "NAME" { algorithm hmac-sha256; secret "BASE64"; };
 * (comments # // and C-style allowed; exactly one key) or one line in the
 * zc_tsig_parse() form. Files over 64 KiB are refused. Returns as
 * zc_tsig_parse(), plus -errno when the file cannot be read; @err then reads
 * "PATH:LINE: reason".
 */
ZC_PUBLIC ZC_MUSTCHECK int zc_tsig_load_file(const char *path, struct zc_tsig **ret_key,
					     char *err, size_t errlen);
/* zc_tsig_free() - wipes the secret and frees; NULL is a no-op. */
ZC_PUBLIC void zc_tsig_free(struct zc_tsig *key);
/* zc_tsig_name() - the key name, absolute and lower-case (valid while @key lives). */
ZC_PUBLIC const char *zc_tsig_name(const struct zc_tsig *key);
ZC_PUBLIC enum zc_tsig_alg zc_tsig_algorithm(const struct zc_tsig *key);
/* zc_tsig_algorithm_str() - "hmac-sha256" etc.; "?" for other values. */
ZC_PUBLIC const char *zc_tsig_algorithm_str(enum zc_tsig_alg alg);
/* zc_tsig_is_weak() - hmac-sha1, or a secret shorter than 16 octets: warn the user. */
ZC_PUBLIC bool zc_tsig_is_weak(const struct zc_tsig *key);
/* zc_tsig_error_str() - "BADSIG", "BADKEY", "BADTIME", "BADTRUNC" or "TSIG error N". */
ZC_PUBLIC const char *zc_tsig_error_str(int tsig_error);

/* --- one DNS message exchange ----------------------------------------------- */

/* The outcome of zc_apply_exchange(). */
struct zc_exchange {
	ldns_pkt *answer; /* the answer; caller frees with ldns_pkt_free(); NULL on failure */
	int rcode;        /* rcode of the answer (also when it failed TSIG); -1: none came */
	int tsig_error;   /* TSIG error field of the answer (16 BADSIG...); 0: none */
	char why[256];    /* what went wrong when answer is NULL, naming @what and the server */
};

/*
 * zc_apply_exchange() - one DNS message (a query or an RFC 2136 UPDATE) to @server
 * over TCP (RFC 7766), signed with @tsig when not NULL (RFC 8945; @fudge seconds,
 * 0: 300), bounded by @timeout_ms in all. The ID of @msg is replaced by a random
 * one. The answer counts only when its ID, QR bit, opcode and question match and,
 * with @tsig, it carries a valid TSIG of the same key (§5.3); its size is at most
 * 65535 octets. @what names the message in x->why ("UPDATE", "DNSKEY query").
 * Blocking: call it from a worker, not from an event-loop callback.
 * Returns 0 with x->answer (the rcode may be any); otherwise x->answer is NULL,
 * x->why says why and the result is ZC_ETIMEOUT, ZC_ECONN, ZC_EMALF (malformed or
 * mismatched answer), ZC_ENOKEY (TSIG missing, of another key, or a BADKEY/BADSIG
 * error), ZC_EBOGUS (TSIG MAC wrong), ZC_EEXPIRED (BADTIME or clock skew),
 * -EINVAL, -ENOMEM or -errno.
 */
ZC_PUBLIC ZC_MUSTCHECK int zc_apply_exchange(const struct sockaddr *server, socklen_t server_len,
					     const struct zc_tsig *tsig, ldns_pkt *msg,
					     const char *what, unsigned timeout_ms, uint16_t fudge,
					     struct zc_exchange *x);
/* zc_rcode_str() - "NOERROR", "REFUSED", "NOTAUTH"...; "rcode?" for others. */
ZC_PUBLIC const char *zc_rcode_str(int rcode);

/* Longest HTTP answer body zc_apply_http() takes. */
#define ZC_HTTP_MAX_BODY (4 * 1024 * 1024)

/*
 * zc_apply_http() - one HTTP/1.1 request (@method, @path starting with '/',
 * extra @headers: NULL-terminated "Name: value" strings, may be NULL; @body may
 * be NULL) to @server over plain TCP with "Connection: close", for the REST API
 * of a DNS server on a trusted network (PowerDNS). Bounded by @timeout_ms in
 * all; Content-Length, chunked and close-delimited answers are read.
 * Blocking: call it from a worker. Returns 0 with *ret_status (the HTTP status)
 * and *ret_body (NUL-terminated, free()) of *ret_len octets; otherwise @why says
 * why: ZC_ETIMEOUT, ZC_ECONN, ZC_EMALF (not HTTP), ZC_ELIMIT (over
 * ZC_HTTP_MAX_BODY), -EINVAL, -ENOMEM or -errno.
 */
ZC_PUBLIC ZC_MUSTCHECK int zc_apply_http(const struct sockaddr *server, socklen_t server_len,
					 const char *method, const char *path,
					 const char *const *headers, const char *body,
					 unsigned timeout_ms, int *ret_status, char **ret_body,
					 size_t *ret_len, char *why, size_t whylen);

/* --- DNS UPDATE to the parent's primary ---------------------------------- */

struct zc_updater;

struct zc_updater_opts {
	unsigned timeout_ms; /* each exchange (connect, send, answer); 0: 5000 */
	uint16_t fudge;      /* TSIG fudge in seconds; 0: 300 (RFC 8945 §10) */
};

/*
 * zc_updater_new() - an updater for the primary at @primary (e.g. from
 * zc_addr_parse()), signing every message with @tsig (borrowed; must outlive the
 * updater; NULL: unsigned, for primaries that allow updates by address). @opts
 * may be NULL. @ctx (borrowed, may be NULL) gets log messages. Returns 0 with
 * *ret_up (free with zc_updater_free()), -EINVAL or -ENOMEM.
 */
ZC_PUBLIC ZC_MUSTCHECK int zc_updater_new(struct zc_ctx *ctx, const struct sockaddr *primary,
					  socklen_t primary_len, const struct zc_tsig *tsig,
					  const struct zc_updater_opts *opts,
					  struct zc_updater **ret_up);
/* zc_updater_free() - NULL is a no-op. */
ZC_PUBLIC void zc_updater_free(struct zc_updater *up);

/* What became of one change. */
struct zc_apply_result {
	int64_t id;                  /* journal entry; 0 when nothing was journaled */
	enum zc_journal_state state; /* DONE, FAILED or CONFLICT (never PENDING/SENT) */
	bool existing;               /* an unfinished journal entry was resumed */
	bool sent;                   /* an UPDATE went out during this call */
	int rcode;                   /* rcode of the UPDATE answer (LDNS_RCODE_*); -1: none */
	int tsig_error;              /* TSIG error of the last answer (16 BADSIG...); 0: none */
	char message[512];           /* what happened, for people and JSON */
};

/*
 * zc_updater_apply() - applies @c at the primary exactly once:
 *  1. journals it (durably) as PENDING, or resumes the identical unfinished
 *     entry of the child (a newer different change supersedes an older one);
 *  2. reads the child's DS RRset at the primary (TCP, TSIG, no RD): equal to
 *     ds_new -> DONE (applied before, e.g. by a run that crashed); equal to ds_old
 *     -> go on; anything else -> CONFLICT (changed behind our back: untouched);
 *  3. marks the entry SENT (durably), sends the UPDATE with prerequisites on
 *     ds_old (RFC 2136 §2.4.2 value-dependent "RRset exists", or §2.4.3 "RRset
 *     does not exist" when there is no DS) so that a replay can never apply twice;
 *  4. NOERROR: reads back; ds_new there -> DONE, else FAILED ("NOERROR but
 *     nothing changed"). NXRRSET/YXRRSET (prerequisite failed): read back; ds_new
 *     there -> DONE, else CONFLICT. REFUSED, NOTAUTH, SERVFAIL, TSIG errors,
 *     timeouts -> FAILED, kept for the next run.
 * Replay protection (S10): a new change whose @inception is not newer than the
 * child's last applied one is refused before anything is journaled or sent.
 * Returns 0 when a result was reached and recorded (look at ret->state: FAILED
 * and CONFLICT are results, not errors); -ESTALE for a replayed inception
 * (nothing done); -EALREADY when ds_old equals ds_new (nothing to do); ZC_EMALF
 * for bad names or records; -EINVAL; -ENOMEM; a store error (the change is then
 * not sent). @ret is written on 0 only.
 */
ZC_PUBLIC ZC_MUSTCHECK int zc_updater_apply(struct zc_updater *up, struct zc_store *st,
					    const struct zc_change *c,
					    struct zc_apply_result *ret);
/*
 * zc_updater_resume() - runs steps 2-4 for the unfinished journal entry @id.
 * Returns as zc_updater_apply(); -ESTALE when the entry is finished or another
 * run moved it meanwhile (nothing sent); ZC_ENOTFOUND for no such entry.
 */
ZC_PUBLIC ZC_MUSTCHECK int zc_updater_resume(struct zc_updater *up, struct zc_store *st,
					     int64_t id, struct zc_apply_result *ret);

/* Called once per entry by zc_updater_retry_pending(); both pointers valid during the call. */
typedef void (*zc_apply_cb)(const struct zc_journal_entry *entry,
			    const struct zc_apply_result *res, void *userdata);

/*
 * zc_updater_retry_pending() - resumes every unfinished journal entry (PENDING,
 * SENT, FAILED), of parent zone @parent only when not NULL, oldest first, and
 * reports each to @cb (may be NULL). Entries another run finished meanwhile are
 * skipped. *ret_count (may be NULL) gets the number of entries reported.
 * Returns 0 when every entry was processed (whatever their results), else the
 * first error (a store failure stops the run).
 */
ZC_PUBLIC ZC_MUSTCHECK int zc_updater_retry_pending(struct zc_updater *up, struct zc_store *st,
						    const char *parent, zc_apply_cb cb,
						    void *userdata, size_t *ret_count);

#endif
