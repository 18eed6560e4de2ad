/* SPDX-License-Identifier: MIT */
/*
 * dns/internal.h: helpers shared by the files of the dns module: rdata in wire
 * form, field views of DS/DNSKEY rdata read through struct zc_wire, name checks
 * and the DSYNC rdata builder. Not exported.
 */
#ifndef ZC_DNS_INTERNAL_H
#define ZC_DNS_INTERNAL_H

#include <ldns/ldns.h>
#include <openssl/evp.h>
#include <zonecut/dns.h>

#include "util/internal.h"

/* RFC 1035 §3.1 / §2.3.4 limits (ldns has them too, but under other names). */
#define DNS_MAX_NAME_WIRE 255
#define DNS_MAX_LABEL 63
#define DNS_MAX_RDATA 65535

/* DNSKEY flags (RFC 4034 §2.1.1) and the protocol value (§2.1.2). */
#define DNS_KEY_FLAG_ZONE 0x0100
#define DNS_KEY_PROTOCOL 3

/*
 * dns_name_wire_ok() - @wire of @len octets is one uncompressed name: labels of
 * at most 63 octets, at most 255 octets in all, nothing after the root label.
 * *ret_absolute tells whether it ends with the root label (a relative name ends
 * with the data instead). May be NULL.
 */
bool dns_name_wire_ok(const uint8_t *wire, size_t len, bool *ret_absolute);
/* dns_name_ok() - @name is a DNAME rdf that passes dns_name_wire_ok(). */
bool dns_name_ok(const ldns_rdf *name, bool *ret_absolute);
/* dns_name_abs_ok() - @name is a well-formed absolute name. */
bool dns_name_abs_ok(const ldns_rdf *name);

/* CDS -> DS, CDNSKEY -> DNSKEY, everything else unchanged. */
ldns_rr_type dns_type_family(ldns_rr_type type);

/*
 * dns_rdata_wire() - a malloc'd copy of the rdata of @rr in wire form; with
 * @canonical, names are lower-cased for the types RFC 4034 §6.2 lists (as amended
 * by RFC 6840 §5.1: not NSEC). Returns 0, ZC_EMALF (over 65535 octets) or -ENOMEM.
 * An empty rdata gives *ret_data == NULL and *ret_len == 0.
 */
int dns_rdata_wire(const ldns_rr *rr, bool canonical, uint8_t **ret_data, size_t *ret_len);

/* A view of DS/CDS rdata (RFC 4034 §5.1); digest points into the rdata copy. */
struct dns_ds {
	uint16_t key_tag;
	uint8_t algorithm;
	uint8_t digest_type;
	const uint8_t *digest;
	size_t digest_len;
};

/* A view of DNSKEY/CDNSKEY rdata (RFC 4034 §2.1). */
struct dns_key {
	uint16_t flags;
	uint8_t protocol;
	uint8_t algorithm;
	const uint8_t *key;
	size_t key_len;
	const uint8_t *rdata; /* the whole rdata: key tag and DS digests use it */
	size_t rdata_len;
};

/*
 * dns_ds_read() - fills @ds from a DS or CDS record; *ret_buf receives the rdata
 * copy @ds points into (caller frees), or NULL when @ds points into @rr itself
 * (its fields as ldns parsed them). The digest may be empty. Returns 0,
 * ZC_EMALF (other type, under 4 octets) or -ENOMEM.
 */
int dns_ds_read(const ldns_rr *rr, struct dns_ds *ds, uint8_t **ret_buf);
/* dns_key_read() - the same for DNSKEY/CDNSKEY (RFC 4034 §2.1); key may be empty. */
int dns_key_read(const ldns_rr *rr, struct dns_key *key, uint8_t **ret_buf);

/*
 * dns_dsync_rdf() - the type-66 rdata (one LDNS_RDF_TYPE_UNKNOWN field) for the
 * given values; @target is copied as is (case kept). Returns 0, ZC_EMALF or -ENOMEM.
 */
int dns_dsync_rdf(uint16_t rrtype, uint8_t scheme, uint16_t port, const ldns_rdf *target,
		  ldns_rdf **ret_rdf);

/* dns_md() - the digests RRSIGs and DS records use, fetched once for the process
 * (NULL when OpenSSL does not offer it). */
enum dns_md_index { DNS_MD_SHA1, DNS_MD_SHA256, DNS_MD_SHA384, DNS_MD_SHA512, DNS_MD_COUNT };
const EVP_MD *dns_md(enum dns_md_index i);

/*
 * dns_ecdsa_der() - an RFC 6605 signature (r | s) in DER (SEQUENCE of two INTEGERs),
 * as OpenSSL verifies it; returns its length, 0 when @len is odd, 0 or above 96.
 */
#define DNS_ECDSA_DER_MAX (2 + 2 * (3 + 48))
size_t dns_ecdsa_der(const uint8_t *sig, size_t len, uint8_t out[DNS_ECDSA_DER_MAX]);

/*
 * dns_verify() - does @sig (wire form, RFC 3110/5702/6605/8080) over @data verify
 * with the DNSKEY public key octets @key of @algorithm? Remembered in @cache
 * (may be NULL). Returns 0, ZC_EBOGUS (also: @key is not a key of @algorithm),
 * ZC_ENOTSUP (an algorithm RFC 8624 does not let us validate) or -ENOMEM.
 */
int dns_verify(struct zc_sig_cache *cache, uint8_t algorithm, const uint8_t *key, size_t key_len,
	       const uint8_t *data, size_t data_len, const uint8_t *sig, size_t sig_len);

/* ldns status -> our error code: memory errors become -ENOMEM, the rest ZC_EMALF. */
int dns_err_from_ldns(ldns_status st);

#endif
