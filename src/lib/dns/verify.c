/* SPDX-License-Identifier: MIT */
/*
 * dns/verify.c: the cryptography of RRSIG verification (RFC 4034 §3.1.8.1 data,
 * algorithms of RFC 3110, 5702, 6605, 8080) straight on OpenSSL 3's EVP layer,
 * and the verification cache a scan keeps.
 *
 * Why not ldns_verify_rrsig_*(): it rebuilds the public key (an EC group, an
 * RSA structure) for every signature, which was a third of a registry scan's
 * CPU. A scan verifies the same RRset, signature and key again and again (the
 * same CDS at every address of every nameserver, the DNSKEY set once for the
 * chain and once for continuity), so the cache remembers public keys (by
 * algorithm and key bytes) and outcomes (by SHA-256 over key, signed data and
 * signature: an entry can only answer for exactly the bytes that were
 * verified).
 */
#include <errno.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "dns/internal.h"

#define KEY_SLOTS 256 /* two-way: a key may sit in either slot of its pair */
#define HASH_LEN 32

/* RFC 3110 §2: RSA moduli we accept, in bits; longer ones are work we refuse. */
#define RSA_MIN_BITS 512
#define RSA_MAX_BITS 4096

static const char *const md_names[DNS_MD_COUNT] = { "SHA1", "SHA2-256", "SHA2-384", "SHA2-512" };

/*
 * The digests, fetched once for the process: EVP_sha256() and the like are looked
 * up again by every EVP_DigestInit_ex() (OpenSSL 3's implicit fetch), which costs
 * more than hashing a key or an RRset. Never freed: OpenSSL's own exit handler
 * cleans up after them.
 */
static EVP_MD *fetched_md[DNS_MD_COUNT];
static pthread_once_t fetched_once = PTHREAD_ONCE_INIT;

static void fetch_digests(void)
{
	for (int i = 0; i < DNS_MD_COUNT; i++) {
		fetched_md[i] = EVP_MD_fetch(NULL, md_names[i], NULL);
	}
}

const EVP_MD *dns_md(enum dns_md_index i)
{
	if ((int)i < 0 || i >= DNS_MD_COUNT) {
		return NULL;
	}
	(void)pthread_once(&fetched_once, fetch_digests);
	return fetched_md[i];
}

/*
 * A public key ready to verify: the key and, for RSA and ECDSA, a context already
 * initialised for verification with its digest (set up once, used for every
 * signature the key made).
 */
struct vkey {
	EVP_PKEY *pkey;
	EVP_PKEY_CTX *vctx; /* NULL for EdDSA */
};

struct key_slot {
	uint8_t algorithm;
	uint8_t *key; /* a copy of the public key octets */
	size_t key_len;
	struct vkey vk;
	uint64_t used; /* when last used: the older of a pair makes room */
};

struct result_slot {
	uint8_t hash[HASH_LEN];
	bool used;
	bool valid;
};

struct zc_sig_cache {
	struct key_slot keys[KEY_SLOTS];
	uint64_t clock;
	struct result_slot *results;
	size_t n_results;
	struct zc_sig_cache_stats stats;
};

static void vkey_release(struct vkey *vk)
{
	EVP_PKEY_CTX_free(vk->vctx);
	EVP_PKEY_free(vk->pkey);
	vk->vctx = NULL;
	vk->pkey = NULL;
}

struct zc_sig_cache *zc_sig_cache_new(size_t entries)
{
	struct zc_sig_cache *c = calloc(1, sizeof(*c));

	if (!c) {
		return NULL;
	}
	if (entries == 0) {
		entries = ZC_SIG_CACHE_DEFAULT;
	}
	c->results = calloc(entries, sizeof(*c->results));
	if (!c->results) {
		zc_sig_cache_free(c);
		return NULL;
	}
	for (int i = 0; i < DNS_MD_COUNT; i++) {
		if (!dns_md(i)) {
			zc_sig_cache_free(c);
			return NULL;
		}
	}
	c->n_results = entries;
	return c;
}

void zc_sig_cache_free(struct zc_sig_cache *c)
{
	if (!c) {
		return;
	}
	for (size_t i = 0; i < KEY_SLOTS; i++) {
		vkey_release(&c->keys[i].vk);
		free(c->keys[i].key);
	}
	free(c->results);
	free(c);
}

void zc_sig_cache_get_stats(const struct zc_sig_cache *c, struct zc_sig_cache_stats *ret)
{
	if (c && ret) {
		*ret = c->stats;
	}
}

/* FNV-1a: picks a slot; the slot then compares the octets themselves. */
static size_t fnv1a(uint8_t algorithm, const uint8_t *p, size_t len)
{
	uint64_t h = 1469598103934665603ull ^ algorithm;

	for (size_t i = 0; i < len; i++) {
		h = (h ^ p[i]) * 1099511628211ull;
	}
	return (size_t)h;
}

/* --- public keys from DNSKEY octets --------------------------------------------- */

static EVP_PKEY *pkey_from_params(const char *type, OSSL_PARAM_BLD *bld)
{
	OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
	EVP_PKEY *pkey = NULL;

	if (!params || !ctx || EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1) {
		EVP_PKEY_free(pkey);
		pkey = NULL;
	}
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	return pkey;
}

/* RFC 3110 §2: exponent length (1 octet, or 0 and 2 octets), exponent, modulus. */
static EVP_PKEY *pkey_rsa(const uint8_t *k, size_t len)
{
	OSSL_PARAM_BLD *bld = NULL;
	BIGNUM *n = NULL, *e = NULL;
	EVP_PKEY *pkey = NULL;
	size_t elen, off;

	if (len < 1) {
		return NULL;
	}
	if (k[0] != 0) {
		elen = k[0];
		off = 1;
	} else {
		if (len < 3) {
			return NULL;
		}
		elen = (size_t)k[1] << 8 | k[2];
		off = 3;
	}
	if (elen == 0 || elen > len - off || len - off - elen == 0) {
		return NULL;
	}
	e = BN_bin2bn(k + off, (int)elen, NULL);
	n = BN_bin2bn(k + off + elen, (int)(len - off - elen), NULL);
	if (!e || !n || BN_num_bits(n) < RSA_MIN_BITS || BN_num_bits(n) > RSA_MAX_BITS) {
		goto out;
	}
	bld = OSSL_PARAM_BLD_new();
	if (!bld || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e)) {
		goto out;
	}
	pkey = pkey_from_params("RSA", bld);
out:
	OSSL_PARAM_BLD_free(bld);
	BN_free(n);
	BN_free(e);
	return pkey;
}

/* RFC 6605 §4: the point's X and Y, each as long as the curve's field. */
static EVP_PKEY *pkey_ec(const char *group, const uint8_t *k, size_t len, size_t want)
{
	uint8_t point[1 + 96];
	OSSL_PARAM_BLD *bld;
	EVP_PKEY *pkey = NULL;

	if (len != want || len + 1 > sizeof(point)) {
		return NULL;
	}
	point[0] = 0x04; /* uncompressed (SEC 1 §2.3.3) */
	memcpy(point + 1, k, len);
	bld = OSSL_PARAM_BLD_new();
	if (bld && OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, group, 0) &&
	    OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point, len + 1)) {
		pkey = pkey_from_params("EC", bld);
	}
	OSSL_PARAM_BLD_free(bld);
	return pkey;
}

/* The algorithm's digest (NULL for EdDSA, which hashes itself) and expected
 * sizes. */
struct alg_info {
	int md;         /* enum dns_md_index; -1: EdDSA */
	size_t key_len; /* 0: variable (RSA) */
	size_t sig_len; /* 0: variable (RSA) */
	bool ecdsa;
};

/* RFC 8624 §3.1 algorithms that may be validated; the rest are not supported.
 */
static bool alg_lookup(uint8_t algorithm, struct alg_info *ret)
{
	static const struct {
		uint8_t alg;
		struct alg_info info;
	} table[] = {
		{ 5, { DNS_MD_SHA1, 0, 0, false } },     /* RSASHA1 */
		{ 7, { DNS_MD_SHA1, 0, 0, false } },     /* RSASHA1-NSEC3-SHA1 */
		{ 8, { DNS_MD_SHA256, 0, 0, false } },   /* RSASHA256 */
		{ 10, { DNS_MD_SHA512, 0, 0, false } },  /* RSASHA512 */
		{ 13, { DNS_MD_SHA256, 64, 64, true } }, /* ECDSAP256SHA256 */
		{ 14, { DNS_MD_SHA384, 96, 96, true } }, /* ECDSAP384SHA384 */
		{ 15, { -1, 32, 64, false } },           /* ED25519 */
		{ 16, { -1, 57, 114, false } },          /* ED448 */
	};

	for (size_t i = 0; i < ZC_ARRAY_SIZE(table); i++) {
		if (table[i].alg == algorithm) {
			*ret = table[i].info;
			return true;
		}
	}
	return false;
}

static EVP_PKEY *pkey_build(uint8_t algorithm, const uint8_t *k, size_t len)
{
	switch (algorithm) {
	case 5:
	case 7:
	case 8:
	case 10:
		return pkey_rsa(k, len);
	case 13:
		return pkey_ec("P-256", k, len, 64);
	case 14:
		return pkey_ec("P-384", k, len, 96);
	case 15:
		return len == 32 ? EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, k, len)
				 : NULL;
	case 16:
		return len == 57 ? EVP_PKEY_new_raw_public_key(EVP_PKEY_ED448, NULL, k, len) : NULL;
	default:
		return NULL;
	}
}

/* The key as OpenSSL objects: the key, and a verification context for it. */
static int vkey_build(uint8_t algorithm, const struct alg_info *ai, const EVP_MD *md,
		      const uint8_t *k, size_t len, struct vkey *ret)
{
	struct vkey vk = { pkey_build(algorithm, k, len), NULL };

	if (!vk.pkey) {
		ERR_clear_error();
		return ZC_EBOGUS; /* not a usable key: nothing it signed verifies */
	}
	if (ai->md >= 0) {
		vk.vctx = EVP_PKEY_CTX_new_from_pkey(NULL, vk.pkey, NULL);
		if (!vk.vctx || EVP_PKEY_verify_init(vk.vctx) != 1 ||
		    (!ai->ecdsa && EVP_PKEY_CTX_set_rsa_padding(vk.vctx, RSA_PKCS1_PADDING) != 1) ||
		    EVP_PKEY_CTX_set_signature_md(vk.vctx, md) != 1) {
			vkey_release(&vk);
			ERR_clear_error();
			return -ENOMEM;
		}
	}
	*ret = vk;
	return 0;
}

/*
 * The key for @k, from the cache or built (and then kept there, making room in its
 * pair of slots). *ret_owned: the caller releases it (no cache, or no memory to
 * keep it). Returns 0, ZC_EBOGUS (not a key of @algorithm) or -ENOMEM.
 */
static int vkey_get(struct zc_sig_cache *c, uint8_t algorithm, const struct alg_info *ai,
		    const EVP_MD *md, const uint8_t *k, size_t len, struct vkey *ret,
		    bool *ret_owned)
{
	struct key_slot *pair = NULL, *s;
	uint8_t *copy;
	int r;

	*ret_owned = true;
	if (c) {
		pair = &c->keys[(fnv1a(algorithm, k, len) % KEY_SLOTS) & ~(size_t)1];
		for (int i = 0; i < 2; i++) {
			s = &pair[i];
			if (s->vk.pkey && s->algorithm == algorithm && s->key_len == len &&
			    memcmp(s->key, k, len) == 0) {
				c->stats.key_hits++;
				s->used = ++c->clock;
				*ret = s->vk;
				*ret_owned = false;
				return 0;
			}
		}
	}
	r = vkey_build(algorithm, ai, md, k, len, ret);
	if (r < 0 || !c) {
		return r;
	}
	c->stats.key_builds++;
	copy = malloc(len);
	if (!copy) {
		return 0; /* works, just not remembered */
	}
	memcpy(copy, k, len);
	s = pair[0].used <= pair[1].used ? &pair[0] : &pair[1];
	vkey_release(&s->vk);
	free(s->key);
	s->algorithm = algorithm;
	s->key = copy;
	s->key_len = len;
	s->vk = *ret;
	s->used = ++c->clock;
	*ret_owned = false;
	return 0;
}

/* One DER INTEGER (X.690 §8.3) of the unsigned big-endian @v: no leading zero
 * octets but one before a set high bit. Returns the octets written at @out. */
static size_t der_uint(uint8_t *out, const uint8_t *v, size_t n)
{
	size_t pad, pos = 0;

	while (n > 1 && v[0] == 0) {
		v++;
		n--;
	}
	pad = (v[0] & 0x80) ? 1 : 0;
	out[pos++] = 0x02;
	out[pos++] = (uint8_t)(n + pad);
	if (pad) {
		out[pos++] = 0;
	}
	memcpy(out + pos, v, n);
	return pos + n;
}

/*
 * RFC 6605 §4: r | s, each as long as the field -> the DER form OpenSSL verifies
 * (SEQUENCE { INTEGER r, INTEGER s }, RFC 3279 §2.2.3), written here: through
 * ECDSA_SIG and i2d it took two BIGNUMs and three allocations per verification.
 * @len is even and at most 2 * 48 (P-384), so every length fits in one octet.
 * Returns the DER length, or 0 when @len is not such a length.
 */
size_t dns_ecdsa_der(const uint8_t *sig, size_t len, uint8_t out[DNS_ECDSA_DER_MAX])
{
	size_t half = len / 2, n;

	if (len == 0 || len % 2 || half > 48) {
		return 0;
	}
	n = der_uint(out + 2, sig, half);
	n += der_uint(out + 2 + n, sig + half, half);
	out[0] = 0x30;
	out[1] = (uint8_t)n;
	return n + 2;
}

static int crypto_verify(struct zc_sig_cache *c, uint8_t algorithm, const struct alg_info *ai,
			 const uint8_t *key, size_t key_len, const uint8_t *data, size_t data_len,
			 const uint8_t *sig, size_t sig_len)
{
	struct vkey vk = { NULL, NULL };
	bool owned = false;
	const EVP_MD *md = NULL;
	EVP_MD_CTX *mctx = NULL;
	uint8_t digest[EVP_MAX_MD_SIZE];
	unsigned dlen = 0;
	uint8_t der[DNS_ECDSA_DER_MAX];
	size_t der_len = 0;
	int r = -ENOMEM;

	if (ai->md >= 0) {
		md = dns_md(ai->md);
		if (!md) {
			goto out;
		}
	}
	r = vkey_get(c, algorithm, ai, md, key, key_len, &vk, &owned);
	if (r < 0) {
		owned = false;
		goto out;
	}
	if (ai->md < 0) {
		/* EdDSA hashes the message itself (RFC 8080 §4) */
		mctx = EVP_MD_CTX_new();
		r = -ENOMEM;
		if (mctx) {
			r = EVP_DigestVerifyInit(mctx, NULL, NULL, NULL, vk.pkey) == 1 &&
				    EVP_DigestVerify(mctx, sig, sig_len, data, data_len) == 1
				? 0
				: ZC_EBOGUS;
		}
		goto out;
	}
	if (ai->ecdsa) {
		der_len = dns_ecdsa_der(sig, sig_len, der);
		if (der_len == 0) {
			r = ZC_EBOGUS;
			goto out;
		}
		sig = der;
		sig_len = der_len;
	}
	r = -ENOMEM;
	if (EVP_Digest(data, data_len, digest, &dlen, md, NULL) == 1) {
		r = EVP_PKEY_verify(vk.vctx, sig, sig_len, digest, dlen) == 1 ? 0 : ZC_EBOGUS;
	}
out:
	ERR_clear_error();
	EVP_MD_CTX_free(mctx);
	if (owned) {
		vkey_release(&vk);
	}
	return r;
}

int dns_verify(struct zc_sig_cache *c, uint8_t algorithm, const uint8_t *key, size_t key_len,
	       const uint8_t *data, size_t data_len, const uint8_t *sig, size_t sig_len)
{
	struct alg_info ai;
	struct result_slot *slot = NULL;
	uint8_t hash[HASH_LEN];
	int r;

	if (!alg_lookup(algorithm, &ai)) {
		return ZC_ENOTSUP;
	}
	if ((ai.key_len && key_len != ai.key_len) || (ai.sig_len && sig_len != ai.sig_len) ||
	    sig_len == 0 || key_len == 0) {
		return ZC_EBOGUS;
	}
	if (c) {
		EVP_MD_CTX *h = EVP_MD_CTX_new();
		uint8_t lens[9];
		unsigned hl = 0;
		bool ok;

		lens[0] = algorithm;
		for (int i = 0; i < 4; i++) {
			lens[1 + i] = (uint8_t)(key_len >> (24 - 8 * i));
			lens[5 + i] = (uint8_t)(data_len >> (24 - 8 * i));
		}
		/* The lengths make the concatenation unambiguous. */
		ok = h && EVP_DigestInit_ex(h, dns_md(DNS_MD_SHA256), NULL) == 1 &&
		     EVP_DigestUpdate(h, lens, sizeof(lens)) == 1 &&
		     EVP_DigestUpdate(h, key, key_len) == 1 &&
		     EVP_DigestUpdate(h, data, data_len) == 1 &&
		     EVP_DigestUpdate(h, sig, sig_len) == 1 &&
		     EVP_DigestFinal_ex(h, hash, &hl) == 1 && hl == HASH_LEN;
		EVP_MD_CTX_free(h);
		if (ok) {
			size_t idx;

			memcpy(&idx, hash, sizeof(idx));
			slot = &c->results[idx % c->n_results];
			if (slot->used && memcmp(slot->hash, hash, HASH_LEN) == 0) {
				c->stats.hits++;
				return slot->valid ? 0 : ZC_EBOGUS;
			}
		}
		c->stats.misses++;
	}
	r = crypto_verify(c, algorithm, &ai, key, key_len, data, data_len, sig, sig_len);
	if (slot && (r == 0 || r == ZC_EBOGUS)) {
		memcpy(slot->hash, hash, HASH_LEN);
		slot->used = true;
		slot->valid = r == 0;
	}
	return r;
}
