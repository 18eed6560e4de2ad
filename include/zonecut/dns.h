/* SPDX-License-Identifier: MIT */
/*
 * zonecut/dns.h: DNS data over ldns. Names, RRsets and their canonical comparison,
 * key identity (algorithm + public key), DS from DNSKEY/CDNSKEY, CDS/DS comparison,
 * RRSIG verification at a given time, RFC 8078 delete forms and the DSYNC record
 * (type 66, handled as an RFC 3597 unknown type because ldns 1.8.3 lacks it).
 *
 * Ownership: every `const` pointer argument is borrowed. Functions that return a
 * new ldns object through ret_* hand ownership to the caller (ldns_*_free()).
 */
#ifndef ZONECUT_DNS_H
#define ZONECUT_DNS_H

#include <ldns/ldns.h>
#include <time.h>
#include <zonecut/common.h>

/* Limits applied to untrusted data. */
#define ZC_DNS_MAX_RRSET 512        /* records in one RRset we accept */
#define ZC_DNS_MAX_NAME_TEXT 1025   /* presentation form of a name, with NUL */
#define ZC_DNS_MAX_RR_TEXT 262144   /* one record in presentation form (zc_rr_from_str) */
/*
 * Signature work per zc_rrsig_check() call (KeyTrap, CVE-2023-50387): candidate
 * keys tried for one RRSIG, and cryptographic verifications in all.
 */
#define ZC_DNS_MAX_KEY_TRIES 4
#define ZC_DNS_MAX_VERIFY 32

/* DS digest types (IANA registry) */
enum zc_digest {
	ZC_DIGEST_SHA1 = 1,
	ZC_DIGEST_SHA256 = 2,
	ZC_DIGEST_GOST = 3,
	ZC_DIGEST_SHA384 = 4,
};

#define ZC_RR_TYPE_DSYNC 66

/* --- names ------------------------------------------------------------- */

/*
 * zc_name_from_str() - parses a domain name; a relative name is made absolute
 * (root-relative). The result is lower-cased. Returns 0, ZC_EMALF (also for ""
 * and names over 255 octets), -EINVAL (NULL argument) or -ENOMEM. Caller frees
 * *ret_name with ldns_rdf_deep_free().
 */
ZC_PUBLIC ZC_MUSTCHECK int zc_name_from_str(const char *text, ldns_rdf **ret_name);
/*
 * zc_name_to_str() - presentation form, lower-case, absolute, with the final dot,
 * into @buf of @len bytes (ZC_DNS_MAX_NAME_TEXT always suffices). Returns 0,
 * -EINVAL (not a name) or ZC_ELIMIT (buffer too small).
 */
ZC_PUBLIC int zc_name_to_str(const ldns_rdf *name, char *buf, size_t len);
/*
 * true when @name equals @parent or lies below it (case-insensitive). False when
 * either is NULL or not a well-formed absolute name.
 */
ZC_PUBLIC bool zc_name_is_at_or_below(const ldns_rdf *name, const ldns_rdf *parent);
/*
 * Canonical order (RFC 4034 §6.1); <0, 0, >0. NULL and malformed names sort
 * before every well-formed name and equal each other.
 */
ZC_PUBLIC int zc_name_cmp(const ldns_rdf *a, const ldns_rdf *b);
/*
 * true when @a and @b are the same well-formed absolute name (case-insensitive,
 * RFC 4343); quicker than zc_name_cmp() when only equality matters.
 */
ZC_PUBLIC bool zc_name_equal(const ldns_rdf *a, const ldns_rdf *b);

/* --- records and RRsets ------------------------------------------------ */

/*
 * zc_rr_from_str() - parses one record in presentation form:
 * `owner [ttl] [class] type rdata`, with ( ) continuation and ; comments. An
 * owner left out (text starts with a blank) or written `@` is @origin. Relative
 * owners and rdata names are completed with @origin (may be NULL: root; else it
 * must be an absolute name, or -EINVAL); a missing TTL becomes @default_ttl
 * (0 included). Accepts algorithm 0 / digest type 0 (RFC 8078 delete forms),
 * the RFC 3597 generic form `TYPEnnn \# len hex` (checked: length and hex
 * digits must agree) and DSYNC (`DSYNC CDS NOTIFY 5359 target.`, also
 * `DSYNC \# ...`), which is stored as type 66 with one unknown-type rdata
 * field; type-66 rdata must be a well-formed DSYNC. Rejected as ZC_EMALF beyond
 * what ldns rejects: types 0, OPT (41) and the meta/query range 128-255, an odd
 * number of digest hex digits in DS/CDS, DS/CDS/DNSKEY/CDNSKEY without digest or
 * key, fewer rdata fields than the type has, names over 255 octets, text longer
 * than ZC_DNS_MAX_RR_TEXT. Returns 0, ZC_EMALF, -EINVAL (NULL text or ret_rr)
 * or -ENOMEM. Caller frees *ret_rr with ldns_rr_free().
 */
ZC_PUBLIC ZC_MUSTCHECK int zc_rr_from_str(const char *text, uint32_t default_ttl,
					  const ldns_rdf *origin, ldns_rr **ret_rr);
/*
 * zc_rrset_extract() - a new list with copies of the records of @rrs whose owner
 * equals @owner (NULL: any owner) and whose type is @type (class IN). Returns
 * NULL only on ENOMEM; an empty list when nothing matches.
 */
ZC_PUBLIC ldns_rr_list *zc_rrset_extract(const ldns_rr_list *rrs, const ldns_rdf *owner,
					 ldns_rr_type type);
/*
 * zc_rrsig_extract() - copies of the RRSIGs (class IN) in @rrs whose owner is
 * @owner (NULL: any owner) and whose type covered is @covered. NULL only on ENOMEM.
 */
ZC_PUBLIC ldns_rr_list *zc_rrsig_extract(const ldns_rr_list *rrs, const ldns_rdf *owner,
					 ldns_rr_type covered);
/*
 * zc_rrset_take() - what zc_rrset_extract() and zc_rrsig_extract() would copy,
 * moved out of @rrs instead (the rest stays, in order): the RRset of @type at
 * @owner into *ret_set and the RRSIGs covering it into *ret_sigs (both new
 * lists, caller frees with ldns_rr_list_deep_free()). For a parsed answer that is
 * freed afterwards. Returns 0, -EINVAL (a NULL out-parameter) or -ENOMEM (then
 * @rrs is unchanged).
 */
ZC_PUBLIC ZC_MUSTCHECK int zc_rrset_take(ldns_rr_list *rrs, const ldns_rdf *owner,
					 ldns_rr_type type, ldns_rr_list **ret_set,
					 ldns_rr_list **ret_sigs);
/*
 * zc_rrset_equal() - two RRsets hold the same set of rdata (canonical wire form
 * of the rdata, RFC 4034 §6.2), ignoring order, TTL, owner and duplicates: the
 * owner is not compared, so the RFC 9615 `_dsboot.<child>._signal.<ns>` RRset can
 * be compared with the apex one; callers compare owners themselves when it
 * matters. Type is compared too, except that CDS==DS and CDNSKEY==DNSKEY count as
 * equal types. NULL equals an empty list. False when out of memory.
 */
ZC_PUBLIC bool zc_rrset_equal(const ldns_rr_list *a, const ldns_rr_list *b);
/* zc_rdata_equal() - same type family (as above) and same canonical rdata. */
ZC_PUBLIC bool zc_rdata_equal(const ldns_rr *a, const ldns_rr *b);
/*
 * Sorts @rrs in canonical order (owner, class, type, then rdata as in RFC 4034
 * §6.3) and drops records whose owner, class, type and canonical rdata repeat an
 * earlier one (the first TTL stays). Dropped records are freed with
 * ldns_rr_free(): @rrs must own its records. Left unchanged when out of memory.
 */
ZC_PUBLIC void zc_rrset_canonicalize(ldns_rr_list *rrs);

/*
 * zc_rr_rdata_to_str() - the rdata of @rr in presentation form, fields separated
 * by one space, without owner, TTL, class and type. Returns a string the caller
 * frees with free(), or NULL (NULL @rr, out of memory).
 */
ZC_PUBLIC char *zc_rr_rdata_to_str(const ldns_rr *rr);

/* --- keys and DS ------------------------------------------------------- */

/*
 * zc_key_equal() - key identity: same algorithm and same public key, for DNSKEY
 * and CDNSKEY records alike. Flags, protocol, TTL and owner do not count. Never
 * compare keys by key tag alone.
 */
ZC_PUBLIC bool zc_key_equal(const ldns_rr *a, const ldns_rr *b);
/* zc_key_tag() - RFC 4034 Appendix B key tag of a DNSKEY/CDNSKEY; 0 if not a key. */
ZC_PUBLIC uint16_t zc_key_tag(const ldns_rr *key);
/* zc_rr_algorithm() - algorithm number of a DNSKEY/CDNSKEY/DS/CDS/RRSIG; 0 if none. */
ZC_PUBLIC uint8_t zc_rr_algorithm(const ldns_rr *rr);
/* zc_ds_digest_type() - digest type of a DS/CDS; 0 if not a DS/CDS. */
ZC_PUBLIC uint8_t zc_ds_digest_type(const ldns_rr *ds);
/* zc_ds_key_tag() - key tag field of a DS/CDS; 0 if not a DS/CDS. */
ZC_PUBLIC uint16_t zc_ds_key_tag(const ldns_rr *ds);

/*
 * zc_ds_from_key() - computes the DS record (type DS, owner, class and TTL of
 * @key) of a DNSKEY or CDNSKEY with @digest (SHA-1, SHA-256, SHA-384), RFC 4034
 * §5.1.4: digest over the lower-cased owner name and the key rdata. Returns 0,
 * ZC_ENOTSUP (digest type), ZC_EMALF (not a key: wrong type, truncated rdata,
 * empty key, algorithm 0 as in the delete form), -EINVAL (NULL) or -ENOMEM.
 * Caller frees *ret_ds with ldns_rr_free().
 */
ZC_PUBLIC ZC_MUSTCHECK int zc_ds_from_key(const ldns_rr *key, enum zc_digest digest,
					  ldns_rr **ret_ds);
/*
 * zc_ds_matches_key() - the DS/CDS @ds names @key (DNSKEY/CDNSKEY): same key tag and
 * algorithm, and the digest recomputed with the DS's digest type (over the key's
 * owner name) equals. False for unsupported digest types and delete forms.
 */
ZC_PUBLIC bool zc_ds_matches_key(const ldns_rr *ds, const ldns_rr *key);
/*
 * zc_ds_to_str() - "KEYTAG ALGORITHM DIGESTTYPE HEXDIGEST" (upper-case hex, no
 * spaces in the digest) into @buf. Returns 0, -EINVAL or ZC_ELIMIT.
 */
ZC_PUBLIC int zc_ds_to_str(const ldns_rr *ds, char *buf, size_t len);

/* --- RFC 8078 delete forms --------------------------------------------- */

/*
 * CDS 0 0 0 00 (digest: exactly one zero octet; RFC 8078 §4, errata 5049). The
 * rdata must be exactly 00 00 00 00 00; a DS record never is a delete form.
 */
ZC_PUBLIC bool zc_cds_is_delete(const ldns_rr *rr);
/* CDNSKEY 0 3 0 AA== (public key: exactly one zero octet; rdata 00 00 03 00 00). */
ZC_PUBLIC bool zc_cdnskey_is_delete(const ldns_rr *rr);

enum zc_delete_form {
	ZC_DELETE_NONE = 0,  /* no delete record in the set */
	ZC_DELETE_VALID = 1, /* exactly one record, the delete form */
	ZC_DELETE_MIXED = 2, /* a delete record together with others: invalid */
};
/*
 * zc_rrset_delete_form() - classifies a CDS or CDNSKEY RRset. Repeats of the same
 * delete record count once; a CDS delete next to a CDNSKEY delete is MIXED.
 */
ZC_PUBLIC enum zc_delete_form zc_rrset_delete_form(const ldns_rr_list *rrset);

/* --- signatures -------------------------------------------------------- */

/* One RRSIG tried against one key. */
struct zc_sig_result {
	const ldns_rr *rrsig; /* borrowed from the rrsigs argument */
	const ldns_rr *key;   /* borrowed from the keys argument; NULL if none matched */
	/* 0 valid; ZC_ENOKEY, ZC_EBOGUS, ZC_EEXPIRED, ZC_ENOTYET, ZC_ENOTSUP, ZC_ELIMIT */
	int status;
	uint8_t algorithm;
	uint16_t key_tag;
	uint32_t inception;   /* from the RRSIG */
	uint32_t expiration;
};

/*
 * zc_rrsig_check() - verifies each RRSIG of @rrsigs over @rrset (one owner, one
 * class, one type) with each key of @keys whose tag and algorithm match, at time
 * @now (validity window with serial-number arithmetic, RFC 4034 §3.1.5).
 * Candidate keys are DNSKEY records (RFC 4035 §5.3.1) owned by the signer name,
 * with protocol 3 and the Zone Key flag; the RRSIG's signer must be the owner or
 * an ancestor of it, and its Labels field at most the owner's label count.
 * Records of @rrsigs that are not RRSIGs covering the type of @rrset are skipped.
 * Work is bounded (ZC_DNS_MAX_KEY_TRIES, ZC_DNS_MAX_VERIFY): an RRSIG left untried
 * gets ZC_ELIMIT.
 * Writes up to @max results into @res (one per RRSIG, in order: the valid key
 * when one validates, else the most telling failure) and their count into
 * *ret_n (may be NULL; @res may be NULL when @max is 0). The window is checked
 * only after the signature verified, so ZC_EEXPIRED / ZC_ENOTYET mean "right key,
 * right data, wrong time".
 * Returns 0 when at least one RRSIG validates, else the best failure in the order
 * ZC_EEXPIRED, ZC_ENOTYET, ZC_EBOGUS, ZC_ELIMIT, ZC_ENOTSUP (algorithm),
 * ZC_ENOKEY (no RRSIG matches any key, no RRSIG at all included); -EINVAL for an
 * empty or mixed @rrset, or @res NULL with @max > 0; ZC_ELIMIT when @rrset holds
 * more than ZC_DNS_MAX_RRSET records; -ENOMEM.
 */
ZC_PUBLIC int zc_rrsig_check(const ldns_rr_list *rrset, const ldns_rr_list *rrsigs,
			     const ldns_rr_list *keys, time_t now, struct zc_sig_result *res,
			     size_t max, size_t *ret_n);

/*
 * A verification cache: public keys built once (by algorithm and key octets)
 * and outcomes remembered by SHA-256 over key, signed data and signature, so
 * the same RRset seen at every nameserver address costs one verification. One
 * owner at a time (no locking); results never depend on it (the work limits
 * count cached verifications too).
 */
struct zc_sig_cache;
#define ZC_SIG_CACHE_DEFAULT 4096 /* outcomes remembered */

struct zc_sig_cache_stats {
	uint64_t hits, misses;          /* outcomes */
	uint64_t key_hits, key_builds;  /* public keys */
};

/* zc_sig_cache_new() - a cache of @entries outcomes (0: the default); NULL on ENOMEM. */
ZC_PUBLIC struct zc_sig_cache *zc_sig_cache_new(size_t entries);
ZC_PUBLIC void zc_sig_cache_free(struct zc_sig_cache *cache); /* NULL is a no-op */
ZC_PUBLIC void zc_sig_cache_get_stats(const struct zc_sig_cache *cache,
				      struct zc_sig_cache_stats *ret);
/* zc_rrsig_check_cached() - zc_rrsig_check() through @cache (NULL: none). */
ZC_PUBLIC int zc_rrsig_check_cached(struct zc_sig_cache *cache, const ldns_rr_list *rrset,
				    const ldns_rr_list *rrsigs, const ldns_rr_list *keys,
				    time_t now, struct zc_sig_result *res, size_t max,
				    size_t *ret_n);

/* --- DSYNC (RFC 9859, type 66) ----------------------------------------- */

struct zc_dsync {
	uint16_t rrtype;  /* CDS (59) or CSYNC (62) */
	uint8_t scheme;   /* 1 = NOTIFY */
	uint16_t port;
	char target[ZC_DNS_MAX_NAME_TEXT]; /* absolute, lower-case, final dot */
};

/*
 * zc_dsync_parse() - reads the rdata of a type-66 record: RRtype (16), scheme (8),
 * port (16), then an uncompressed absolute target name filling the rest (RFC 9859
 * §2.1). Returns 0, ZC_EMALF (other type, truncated, trailing data, compression)
 * or -EINVAL (NULL argument).
 */
ZC_PUBLIC ZC_MUSTCHECK int zc_dsync_parse(const ldns_rr *rr, struct zc_dsync *ret);
/*
 * zc_dsync_to_str() - "CDS NOTIFY 5359 target." into @buf: RRtype mnemonic (or
 * TYPEnnn), scheme mnemonic NOTIFY for 1 (else the number), port, target.
 * Returns 0, -EINVAL (NULL, empty or unterminated target) or ZC_ELIMIT.
 */
ZC_PUBLIC ZC_MUSTCHECK int zc_dsync_to_str(const struct zc_dsync *d, char *buf, size_t len);
/*
 * zc_dsync_to_rr() - builds the type-66 record (class IN) at @owner with @ttl from
 * @d (target parsed with zc_name_from_str(), so it is stored lower-cased).
 * Returns 0, ZC_EMALF (bad target), -EINVAL or -ENOMEM; caller frees *ret_rr
 * with ldns_rr_free().
 */
ZC_PUBLIC ZC_MUSTCHECK int zc_dsync_to_rr(const ldns_rdf *owner, uint32_t ttl,
					  const struct zc_dsync *d, ldns_rr **ret_rr);

/* --- packets ----------------------------------------------------------- */

/*
 * zc_pkt_from_wire() - parses an untrusted DNS message of @len bytes (at most
 * 65535; longer, empty or shorter than a header is ZC_EMALF). Returns 0,
 * ZC_EMALF, -EINVAL (NULL argument) or -ENOMEM; caller frees *ret_pkt with
 * ldns_pkt_free(). Rdata accessors of this module stay safe on every record of
 * the result, whatever the bytes were.
 */
ZC_PUBLIC ZC_MUSTCHECK int zc_pkt_from_wire(const uint8_t *wire, size_t len, ldns_pkt **ret_pkt);

/*
 * zc_pkt_answer_records() - the records of the answer section of an untrusted DNS
 * message, without parsing the other sections (their structure is the caller's to
 * check, as the query engine does for every answer). Returns 0, ZC_EMALF, -EINVAL or
 * -ENOMEM; caller frees *ret_rrs with ldns_rr_list_deep_free().
 */
ZC_PUBLIC ZC_MUSTCHECK int zc_pkt_answer_records(const uint8_t *wire, size_t len,
						 ldns_rr_list **ret_rrs);
/*
 * An NSEC denial of existence read from an untrusted authority section: the NSEC
 * RRsets the proof rests on (one or two), each with its RRSIGs by @signer. Nothing in
 * it is to be believed before each RRset verifies with the signer's keys.
 */
#define ZC_DENIAL_MAX 2
struct zc_denial {
	ldns_rdf *signer; /* owned */
	size_t n;
	ldns_rr_list *rrset[ZC_DENIAL_MAX];
	ldns_rr_list *sigs[ZC_DENIAL_MAX];
};

/*
 * zc_nsec_denial() - whether the NSEC records of @auth (an authority section) prove,
 * once their signatures verify, that @qname has no @qtype RRset: with @nxdomain, that
 * the name does not exist and no wildcard could have answered for it (RFC 4035
 * §3.1.3.2, §5.4); without, NODATA (an NSEC at the name without @qtype and CNAME, or
 * the name an empty non-terminal). An NSEC from the parent side of a zone cut (NS
 * without SOA) or at a DNAME proves nothing below it (RFC 6840 §4.1), nor does a
 * wildcard-expanded one (RRSIG labels below the owner's). NSEC3 and wildcard
 * answers are not read here: no proof, ask a validating resolver. Returns 0 and
 * fills @ret (release with zc_denial_release()), ZC_EBOGUS (no proof here), -EINVAL
 * or -ENOMEM.
 */
ZC_PUBLIC ZC_MUSTCHECK int zc_nsec_denial(const ldns_rr_list *auth, const ldns_rdf *qname,
					  ldns_rr_type qtype, bool nxdomain,
					  struct zc_denial *ret);
/* zc_denial_release() - frees what @d holds; NULL is a no-op. */
ZC_PUBLIC void zc_denial_release(struct zc_denial *d);

/* zc_pkt_authority_records() - the same for the authority section. */
ZC_PUBLIC ZC_MUSTCHECK int zc_pkt_authority_records(const uint8_t *wire, size_t len,
						    ldns_rr_list **ret_rrs);

#endif
