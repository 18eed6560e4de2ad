/* SPDX-License-Identifier: MIT */
/*
 * dns/key.c: DNSKEY/CDNSKEY and DS/CDS rdata: key identity (algorithm + public
 * key), key tags (RFC 4034 Appendix B), DS digests (RFC 4034 §5.1.4, RFC 4509,
 * RFC 6605) computed with OpenSSL EVP, and the RFC 8078 §4 delete forms.
 * Rdata is read from its wire form through struct zc_wire, so records of any
 * shape (truncated, from the fuzzer, generic RFC 3597 text) are safe here.
 */
#include <errno.h>
#include <openssl/evp.h>
#include <string.h>

#include "dns/internal.h"

static bool is_ds_type(const ldns_rr *rr)
{
	return rr && dns_type_family(ldns_rr_get_type(rr)) == LDNS_RR_TYPE_DS;
}

static bool is_key_type(const ldns_rr *rr)
{
	return rr && dns_type_family(ldns_rr_get_type(rr)) == LDNS_RR_TYPE_DNSKEY;
}

int dns_ds_read(const ldns_rr *rr, struct dns_ds *ds, uint8_t **ret_buf)
{
	struct zc_wire w;
	uint8_t *data = NULL;
	size_t len = 0;
	int r;

	if (!is_ds_type(rr)) {
		return ZC_EMALF;
	}
	if (ldns_rr_rd_count(rr) == 4 && ldns_rdf_size(ldns_rr_rdf(rr, 0)) == 2 &&
	    ldns_rdf_size(ldns_rr_rdf(rr, 1)) == 1 && ldns_rdf_size(ldns_rr_rdf(rr, 2)) == 1) {
		/* the usual shape (RFC 4034 §5.1), read in place: no copy of the rdata */
		const ldns_rdf *dig = ldns_rr_rdf(rr, 3);

		ds->key_tag = ldns_read_uint16(ldns_rdf_data(ldns_rr_rdf(rr, 0)));
		ds->algorithm = *ldns_rdf_data(ldns_rr_rdf(rr, 1));
		ds->digest_type = *ldns_rdf_data(ldns_rr_rdf(rr, 2));
		ds->digest = ldns_rdf_data(dig);
		ds->digest_len = ldns_rdf_size(dig);
		*ret_buf = NULL;
		return 0;
	}
	r = dns_rdata_wire(rr, false, &data, &len);
	if (r < 0) {
		return r;
	}
	/* RFC 4034 §5.1: key tag (16), algorithm (8), digest type (8), digest. */
	zc_wire_init(&w, data, len);
	ds->key_tag = zc_wire_u16(&w);
	ds->algorithm = zc_wire_u8(&w);
	ds->digest_type = zc_wire_u8(&w);
	if (!zc_wire_ok(&w)) {
		free(data);
		return ZC_EMALF;
	}
	ds->digest = data + w.pos;
	ds->digest_len = zc_wire_left(&w);
	*ret_buf = data;
	return 0;
}

int dns_key_read(const ldns_rr *rr, struct dns_key *key, uint8_t **ret_buf)
{
	struct zc_wire w;
	uint8_t *data = NULL;
	size_t len = 0;
	int r;

	if (!is_key_type(rr)) {
		return ZC_EMALF;
	}
	r = dns_rdata_wire(rr, false, &data, &len);
	if (r < 0) {
		return r;
	}
	/* RFC 4034 §2.1: flags (16), protocol (8), algorithm (8), public key. */
	zc_wire_init(&w, data, len);
	key->flags = zc_wire_u16(&w);
	key->protocol = zc_wire_u8(&w);
	key->algorithm = zc_wire_u8(&w);
	if (!zc_wire_ok(&w)) {
		free(data);
		return ZC_EMALF;
	}
	key->key = data + w.pos;
	key->key_len = zc_wire_left(&w);
	key->rdata = data;
	key->rdata_len = len;
	*ret_buf = data;
	return 0;
}

bool zc_key_equal(const ldns_rr *a, const ldns_rr *b)
{
	struct dns_key ka, kb;
	uint8_t *ba = NULL, *bb = NULL;
	bool eq = false;

	if (dns_key_read(a, &ka, &ba) < 0) {
		return false;
	}
	if (dns_key_read(b, &kb, &bb) == 0) {
		/* Identity is algorithm + public key: a KSK that gains the REVOKE
		 * bit (RFC 5011 §3) or moves between DNSKEY and CDNSKEY is the same
		 * key, and its key tag changes on the way. */
		eq = ka.algorithm == kb.algorithm && ka.key_len == kb.key_len &&
		     (ka.key_len == 0 || memcmp(ka.key, kb.key, ka.key_len) == 0);
		free(bb);
	}
	free(ba);
	return eq;
}

uint16_t zc_key_tag(const ldns_rr *key)
{
	struct dns_key k;
	uint8_t *buf = NULL;
	uint16_t tag;

	if (dns_key_read(key, &k, &buf) < 0) {
		return 0;
	}
	/* RFC 4034 Appendix B over the whole rdata (Appendix B.1 for RSA/MD5). */
	tag = ldns_calc_keytag_raw(k.rdata, k.rdata_len);
	free(buf);
	return tag;
}

uint8_t zc_rr_algorithm(const ldns_rr *rr)
{
	uint8_t *buf = NULL;
	uint8_t alg = 0;

	if (is_key_type(rr)) {
		struct dns_key k;

		if (dns_key_read(rr, &k, &buf) == 0) {
			alg = k.algorithm;
		}
	} else if (is_ds_type(rr)) {
		struct dns_ds d;

		if (dns_ds_read(rr, &d, &buf) == 0) {
			alg = d.algorithm;
		}
	} else if (rr && ldns_rr_get_type(rr) == LDNS_RR_TYPE_RRSIG) {
		size_t len = 0;

		/* RFC 4034 §3.1: type covered (16), then the algorithm (8). */
		if (dns_rdata_wire(rr, false, &buf, &len) == 0 && len >= 3) {
			alg = buf[2];
		}
	}
	free(buf);
	return alg;
}

uint8_t zc_ds_digest_type(const ldns_rr *ds)
{
	struct dns_ds d;
	uint8_t *buf = NULL;
	uint8_t t;

	if (dns_ds_read(ds, &d, &buf) < 0) {
		return 0;
	}
	t = d.digest_type;
	free(buf);
	return t;
}

uint16_t zc_ds_key_tag(const ldns_rr *ds)
{
	struct dns_ds d;
	uint8_t *buf = NULL;
	uint16_t t;

	if (dns_ds_read(ds, &d, &buf) < 0) {
		return 0;
	}
	t = d.key_tag;
	free(buf);
	return t;
}

/* The digest of a DS digest type, fetched once (dns_md()), or NULL. */
static const EVP_MD *digest_md(uint8_t type)
{
	/* IANA "Delegation Signer (DS) Resource Record Digest Algorithms";
	 * GOST R 34.11-94 (3, RFC 5933) is not offered by OpenSSL 3. */
	switch (type) {
	case ZC_DIGEST_SHA1:
		return dns_md(DNS_MD_SHA1);
	case ZC_DIGEST_SHA256:
		return dns_md(DNS_MD_SHA256);
	case ZC_DIGEST_SHA384:
		return dns_md(DNS_MD_SHA384);
	default:
		return NULL;
	}
}

/*
 * RFC 4034 §5.1.4: digest = digest_algorithm(DNSKEY owner name | DNSKEY RDATA),
 * the owner in canonical (lower-case, uncompressed) form, RFC 4034 §6.2.
 */
static int key_digest(const ldns_rr *rr, const struct dns_key *key, const EVP_MD *md,
		      uint8_t out[EVP_MAX_MD_SIZE], unsigned *ret_len)
{
	const ldns_rdf *owner = ldns_rr_owner(rr);
	uint8_t name[LDNS_MAX_DOMAINLEN + 1];
	size_t nlen;
	EVP_MD_CTX *ctx;
	unsigned len = 0;
	int r = -ENOMEM;

	if (!dns_name_abs_ok(owner) || ldns_rdf_size(owner) > sizeof(name)) {
		return ZC_EMALF;
	}
	/* Lower case in place of ldns_dname2canonical() on a copy: label lengths are
	 * at most 63, below 'A', so only letters change. */
	nlen = ldns_rdf_size(owner);
	memcpy(name, ldns_rdf_data(owner), nlen);
	for (size_t i = 0; i < nlen; i++) {
		if (name[i] >= 'A' && name[i] <= 'Z') {
			name[i] = (uint8_t)(name[i] + ('a' - 'A'));
		}
	}
	ctx = EVP_MD_CTX_new();
	if (!ctx) {
		return r;
	}
	if (EVP_DigestInit_ex(ctx, md, NULL) != 1 || EVP_DigestUpdate(ctx, name, nlen) != 1 ||
	    EVP_DigestUpdate(ctx, key->rdata, key->rdata_len) != 1 ||
	    EVP_DigestFinal_ex(ctx, out, &len) != 1) {
		r = ZC_ENOTSUP;
	} else {
		*ret_len = len;
		r = 0;
	}
	EVP_MD_CTX_free(ctx);
	return r;
}

/* A key a DS can be made for: some key material and an algorithm other than 0. */
static bool key_usable(const struct dns_key *k)
{
	/* Algorithm 0 is reserved (RFC 4034 Appendix A.1); RFC 8078 §4 uses it
	 * to mark the delete form. */
	return k->algorithm != 0 && k->key_len > 0;
}

static ldns_rdf *rdf_u8(ldns_rdf_type type, uint8_t v)
{
	return ldns_rdf_new_frm_data(type, 1, &v);
}

static ldns_rdf *rdf_u16(uint16_t v)
{
	uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };

	return ldns_rdf_new_frm_data(LDNS_RDF_TYPE_INT16, sizeof(b), b);
}

static int ds_build(const ldns_rr *key, uint16_t tag, uint8_t alg, uint8_t type, const uint8_t *dig,
		    size_t dig_len, ldns_rr **ret_ds)
{
	ldns_rr *ds = ldns_rr_new();
	ldns_rdf *owner = ldns_rdf_clone(ldns_rr_owner(key));
	ldns_rdf *f[4] = {
		rdf_u16(tag),
		rdf_u8(LDNS_RDF_TYPE_ALG, alg),
		rdf_u8(LDNS_RDF_TYPE_INT8, type),
		ldns_rdf_new_frm_data(LDNS_RDF_TYPE_HEX, dig_len, dig),
	};
	size_t pushed = 0;
	int r = -ENOMEM;

	if (!ds || !owner) {
		goto out;
	}
	ldns_rr_set_owner(ds, owner);
	owner = NULL;
	ldns_rr_set_type(ds, LDNS_RR_TYPE_DS);
	ldns_rr_set_class(ds, ldns_rr_get_class(key));
	ldns_rr_set_ttl(ds, ldns_rr_ttl(key));
	for (; pushed < ZC_ARRAY_SIZE(f); pushed++) {
		if (!f[pushed] || !ldns_rr_push_rdf(ds, f[pushed])) {
			goto out;
		}
	}
	*ret_ds = ds;
	ds = NULL;
	r = 0;
out:
	for (size_t i = pushed; i < ZC_ARRAY_SIZE(f); i++) {
		ldns_rdf_deep_free(f[i]);
	}
	ldns_rdf_deep_free(owner);
	ldns_rr_free(ds);
	return r;
}

int zc_ds_from_key(const ldns_rr *key, enum zc_digest digest, ldns_rr **ret_ds)
{
	struct dns_key k;
	uint8_t *buf = NULL;
	uint8_t dig[EVP_MAX_MD_SIZE];
	unsigned dig_len = 0;
	const EVP_MD *md;
	int r;

	if (!key || !ret_ds) {
		return -EINVAL;
	}
	md = (unsigned)digest <= UINT8_MAX ? digest_md((uint8_t)digest) : NULL;
	if (!md) {
		return ZC_ENOTSUP;
	}
	r = dns_key_read(key, &k, &buf);
	if (r < 0) {
		return r;
	}
	if (!key_usable(&k)) {
		r = ZC_EMALF;
		goto out;
	}
	r = key_digest(key, &k, md, dig, &dig_len);
	if (r < 0) {
		goto out;
	}
	r = ds_build(key, ldns_calc_keytag_raw(k.rdata, k.rdata_len), k.algorithm, (uint8_t)digest,
		     dig, dig_len, ret_ds);
out:
	free(buf);
	return r;
}

bool zc_ds_matches_key(const ldns_rr *ds, const ldns_rr *key)
{
	struct dns_ds d;
	struct dns_key k;
	uint8_t *dbuf = NULL, *kbuf = NULL;
	uint8_t dig[EVP_MAX_MD_SIZE];
	unsigned dig_len = 0;
	const EVP_MD *md;
	bool match = false;

	if (dns_ds_read(ds, &d, &dbuf) < 0) {
		return false;
	}
	if (dns_key_read(key, &k, &kbuf) < 0) {
		goto out;
	}
	md = digest_md(d.digest_type);
	if (!md || !key_usable(&k) || d.algorithm != k.algorithm ||
	    d.key_tag != ldns_calc_keytag_raw(k.rdata, k.rdata_len)) {
		goto out;
	}
	if (key_digest(key, &k, md, dig, &dig_len) < 0) {
		goto out;
	}
	match = d.digest_len == dig_len && memcmp(d.digest, dig, dig_len) == 0;
out:
	free(kbuf);
	free(dbuf);
	return match;
}

int zc_ds_to_str(const ldns_rr *ds, char *buf, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	struct dns_ds d;
	uint8_t *data = NULL;
	size_t pos;
	int n, r;

	if (!buf || !ds) {
		return -EINVAL;
	}
	r = dns_ds_read(ds, &d, &data);
	if (r == -ENOMEM) {
		return r;
	}
	if (r < 0 || d.digest_len == 0) {
		free(data);
		return -EINVAL;
	}
	n = snprintf(buf, len, "%u %u %u ", d.key_tag, d.algorithm, d.digest_type);
	if (n < 0 || (size_t)n + 2 * d.digest_len + 1 > len) {
		free(data);
		return ZC_ELIMIT;
	}
	pos = (size_t)n;
	for (size_t i = 0; i < d.digest_len; i++) {
		buf[pos++] = hex[d.digest[i] >> 4];
		buf[pos++] = hex[d.digest[i] & 0x0f];
	}
	buf[pos] = '\0';
	free(data);
	return 0;
}

/* The exact rdata of an RFC 8078 §4 delete record. */
static bool rdata_is(const ldns_rr *rr, ldns_rr_type type, const uint8_t *want, size_t want_len)
{
	uint8_t *data = NULL;
	size_t len = 0;
	bool eq;

	if (!rr || ldns_rr_get_type(rr) != type || dns_rdata_wire(rr, false, &data, &len) < 0) {
		return false;
	}
	eq = len == want_len && memcmp(data, want, len) == 0;
	free(data);
	return eq;
}

bool zc_cds_is_delete(const ldns_rr *rr)
{
	/* RFC 8078 §4 as corrected by errata 5049: CDS 0 0 0 00, i.e. key tag 0,
	 * algorithm 0, digest type 0 and a digest of one zero octet. */
	static const uint8_t del[] = { 0, 0, 0, 0, 0 };

	return rdata_is(rr, LDNS_RR_TYPE_CDS, del, sizeof(del));
}

bool zc_cdnskey_is_delete(const ldns_rr *rr)
{
	/* RFC 8078 §4: CDNSKEY 0 3 0 AA==, i.e. flags 0, protocol 3, algorithm 0
	 * and a public key of one zero octet. */
	static const uint8_t del[] = { 0, 0, 3, 0, 0 };

	return rdata_is(rr, LDNS_RR_TYPE_CDNSKEY, del, sizeof(del));
}

enum zc_delete_form zc_rrset_delete_form(const ldns_rr_list *rrset)
{
	size_t n = rrset ? ldns_rr_list_rr_count(rrset) : 0;
	size_t deletes = 0, others = 0;
	ldns_rr_type del_type = 0;
	bool two_types = false;

	for (size_t i = 0; i < n; i++) {
		const ldns_rr *rr = ldns_rr_list_rr(rrset, i);

		if (zc_cds_is_delete(rr) || zc_cdnskey_is_delete(rr)) {
			if (deletes > 0 && ldns_rr_get_type(rr) != del_type) {
				two_types = true;
			}
			del_type = ldns_rr_get_type(rr);
			deletes++;
		} else {
			others++;
		}
	}
	if (deletes == 0) {
		return ZC_DELETE_NONE;
	}
	/* RFC 8078 §4: the delete record must be the only record of its RRset. */
	if (others > 0 || two_types) {
		return ZC_DELETE_MIXED;
	}
	return ZC_DELETE_VALID;
}
