/* SPDX-License-Identifier: MIT */
/*
 * TSIG (RFC 8945): keys from "[ALG:]NAME:SECRET" text and BIND key files, and
 * signing and verifying wire messages. We compute the HMAC ourselves (OpenSSL
 * EVP_MAC) instead of using ldns_pkt_tsig_sign()/_verify(): ldns 1.8.3 does not
 * know hmac-sha384 (a typo in its algorithm table) nor hmac-sha224, never checks
 * the time signed, and cannot report the TSIG error of an unsigned answer
 * (BADKEY, BADSIG), which is exactly what a user with a wrong key must be told.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "apply/internal.h"

#define TSIG_MAX_FILE 65536
#define TSIG_CLASS_ANY 255
#define TSIG_TYPE 250

struct zc_tsig {
	enum zc_tsig_alg alg;
	char name[LDNS_MAX_DOMAINLEN + 2];     /* text, absolute, lower-case */
	uint8_t name_wire[LDNS_MAX_DOMAINLEN]; /* canonical wire form */
	size_t name_wire_len;
	uint8_t alg_wire[32];
	size_t alg_wire_len;
	uint8_t secret[ZC_TSIG_MAX_SECRET];
	size_t secret_len;
};

static const struct {
	enum zc_tsig_alg alg;
	const char *name;   /* RFC 8945 §6 algorithm name, without the final dot */
	const char *digest; /* OpenSSL digest */
	size_t mac_len;
} algs[] = {
	{ ZC_TSIG_HMAC_SHA1, "hmac-sha1", "SHA1", 20 },
	{ ZC_TSIG_HMAC_SHA224, "hmac-sha224", "SHA224", 28 },
	{ ZC_TSIG_HMAC_SHA256, "hmac-sha256", "SHA256", 32 },
	{ ZC_TSIG_HMAC_SHA384, "hmac-sha384", "SHA384", 48 },
	{ ZC_TSIG_HMAC_SHA512, "hmac-sha512", "SHA512", 64 },
};

static int alg_index(enum zc_tsig_alg alg)
{
	for (size_t i = 0; i < ZC_ARRAY_SIZE(algs); i++) {
		if (algs[i].alg == alg) {
			return (int)i;
		}
	}
	return -1;
}

const char *zc_tsig_algorithm_str(enum zc_tsig_alg alg)
{
	int i = alg_index(alg);

	return i < 0 ? "?" : algs[i].name;
}

const char *zc_tsig_error_str(int tsig_error)
{
	static const char *const names[] = { [16] = "BADSIG",  [17] = "BADKEY",
					     [18] = "BADTIME", [19] = "BADMODE",
					     [20] = "BADNAME", [21] = "BADALG",
					     [22] = "BADTRUNC", [23] = "BADCOOKIE" };

	if (tsig_error >= 16 && tsig_error < (int)ZC_ARRAY_SIZE(names)) {
		return names[tsig_error];
	}
	return "TSIG error";
}

static void seterr(char *err, size_t errlen, const char *fmt, ...) ZC_PRINTF(3, 4);
static void seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || errlen == 0) {
		return;
	}
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

void zc_tsig_free(struct zc_tsig *key)
{
	if (key) {
		OPENSSL_cleanse(key, sizeof(*key));
		free(key);
	}
}

const char *zc_tsig_name(const struct zc_tsig *key)
{
	return key ? key->name : NULL;
}

enum zc_tsig_alg zc_tsig_algorithm(const struct zc_tsig *key)
{
	return key ? key->alg : 0;
}

bool zc_tsig_is_weak(const struct zc_tsig *key)
{
	/* RFC 8945 §6: hmac-sha1 is legacy; a key shorter than 128 bits is guessable. */
	return key && (key->alg == ZC_TSIG_HMAC_SHA1 || key->secret_len < 16);
}

/* Algorithm by name: "hmac-sha256", "HMAC-SHA256.", ... */
static int parse_alg(const char *s, size_t n, enum zc_tsig_alg *ret, char *err, size_t errlen)
{
	if (n > 0 && s[n - 1] == '.') {
		n--;
	}
	for (size_t i = 0; i < ZC_ARRAY_SIZE(algs); i++) {
		if (strlen(algs[i].name) == n && strncasecmp(s, algs[i].name, n) == 0) {
			*ret = algs[i].alg;
			return 0;
		}
	}
	seterr(err, errlen, "TSIG algorithm '%.*s' is not supported (use hmac-sha256, "
		       "hmac-sha384, hmac-sha512, hmac-sha224 or hmac-sha1)",
	       (int)ZC_MIN(n, 64), s);
	return ZC_ENOTSUP;
}

/* Builds a key from its three parts (not NUL-terminated). */
static int key_new(enum zc_tsig_alg alg, const char *name, size_t name_len, const char *secret,
		   size_t secret_len, struct zc_tsig **ret_key, char *err, size_t errlen)
{
	struct zc_tsig *k;
	ldns_rdf *rdf = NULL;
	char nbuf[1100], *b64 = NULL, *text;
	size_t j = 0;
	int r;

	if (name_len == 0) {
		seterr(err, errlen, "TSIG key name is empty");
		return ZC_EMALF;
	}
	if (name_len >= sizeof(nbuf)) {
		seterr(err, errlen, "TSIG key name is too long");
		return ZC_EMALF;
	}
	memcpy(nbuf, name, name_len);
	nbuf[name_len] = '\0';
	k = calloc(1, sizeof(*k));
	b64 = malloc(secret_len + 1);
	if (!k || !b64) {
		free(k);
		free(b64);
		return -ENOMEM;
	}
	k->alg = alg;
	r = zc_apply_name(nbuf, &rdf, &text);
	if (r < 0 || strcmp(text, ".") == 0) {
		if (r == 0) {
			free(text);
			ldns_rdf_deep_free(rdf);
			r = ZC_EMALF;
		}
		if (r == ZC_EMALF) {
			seterr(err, errlen, "TSIG key name '%s' is not a domain name", nbuf);
		}
		goto fail;
	}
	snprintf(k->name, sizeof(k->name), "%s", text);
	free(text);
	k->name_wire_len = ldns_rdf_size(rdf);
	memcpy(k->name_wire, ldns_rdf_data(rdf), k->name_wire_len);
	ldns_rdf_deep_free(rdf);
	rdf = NULL;
	/* The algorithm name in wire form (RFC 8945 §4.3.3: canonical, lower-case). */
	{
		char an[32];

		snprintf(an, sizeof(an), "%s.", zc_tsig_algorithm_str(alg));
		if (ldns_str2rdf_dname(&rdf, an) != LDNS_STATUS_OK ||
		    ldns_rdf_size(rdf) > sizeof(k->alg_wire)) {
			ldns_rdf_deep_free(rdf);
			r = -ENOMEM;
			goto fail;
		}
		k->alg_wire_len = ldns_rdf_size(rdf);
		memcpy(k->alg_wire, ldns_rdf_data(rdf), k->alg_wire_len);
		ldns_rdf_deep_free(rdf);
		rdf = NULL;
	}
	/* The secret: base64 (RFC 4648 §4), blanks ignored. */
	for (size_t i = 0; i < secret_len; i++) {
		if (!isspace((unsigned char)secret[i])) {
			b64[j++] = secret[i];
		}
	}
	b64[j] = '\0';
	for (size_t i = 0; i < j; i++) {
		if (!isalnum((unsigned char)b64[i]) && b64[i] != '+' && b64[i] != '/' &&
		    b64[i] != '=') {
			j = 0;
			break;
		}
	}
	if (j == 0 || j % 4 != 0 || ldns_str2rdf_b64(&rdf, b64) != LDNS_STATUS_OK || !rdf ||
	    ldns_rdf_size(rdf) == 0) {
		ldns_rdf_deep_free(rdf);
		seterr(err, errlen, "TSIG secret of key '%s' is not valid base64", k->name);
		r = ZC_EMALF;
		goto fail;
	}
	if (ldns_rdf_size(rdf) > sizeof(k->secret)) {
		ldns_rdf_deep_free(rdf);
		seterr(err, errlen, "TSIG secret of key '%s' is too long", k->name);
		r = ZC_EMALF;
		goto fail;
	}
	k->secret_len = ldns_rdf_size(rdf);
	memcpy(k->secret, ldns_rdf_data(rdf), k->secret_len);
	OPENSSL_cleanse(ldns_rdf_data(rdf), ldns_rdf_size(rdf));
	ldns_rdf_deep_free(rdf);
	OPENSSL_cleanse(b64, secret_len + 1);
	free(b64);
	*ret_key = k;
	return 0;
fail:
	OPENSSL_cleanse(b64, secret_len + 1);
	free(b64);
	zc_tsig_free(k);
	return r;
}

int zc_tsig_parse(const char *text, struct zc_tsig **ret_key, char *err, size_t errlen)
{
	enum zc_tsig_alg alg = ZC_TSIG_HMAC_SHA256;
	const char *c1, *c2, *name;
	size_t len;
	int r;

	if (!text || !ret_key) {
		return -EINVAL;
	}
	len = strnlen(text, 4096);
	if (len >= 4096) {
		seterr(err, errlen, "TSIG key text is too long");
		return ZC_EMALF;
	}
	while (len > 0 && isspace((unsigned char)text[len - 1])) {
		len--;
	}
	while (len > 0 && isspace((unsigned char)*text)) {
		text++;
		len--;
	}
	c1 = memchr(text, ':', len);
	if (!c1) {
		seterr(err, errlen, "TSIG key must read [ALGORITHM:]NAME:SECRET");
		return ZC_EMALF;
	}
	c2 = memchr(c1 + 1, ':', len - (size_t)(c1 + 1 - text));
	if (c2 && memchr(c2 + 1, ':', len - (size_t)(c2 + 1 - text))) {
		seterr(err, errlen, "TSIG key must read [ALGORITHM:]NAME:SECRET");
		return ZC_EMALF;
	}
	if (c2) {
		r = parse_alg(text, (size_t)(c1 - text), &alg, err, errlen);
		if (r < 0) {
			return r;
		}
		name = c1 + 1;
	} else {
		c2 = c1;
		name = text;
	}
	return key_new(alg, name, (size_t)(c2 - name), c2 + 1, len - (size_t)(c2 + 1 - text),
		       ret_key, err, errlen);
}

/* --- BIND key files ------------------------------------------------------ */

struct lexer {
	const char *p, *end;
	unsigned line;
	char tok[1024];
	bool quoted;
};

/* Next token: word, "string", { } ;. Returns 1, 0 at the end, -1 on a lexical error. */
static int lex(struct lexer *lx)
{
	size_t n = 0;

	for (;;) {
		while (lx->p < lx->end && isspace((unsigned char)*lx->p)) {
			lx->line += *lx->p == '\n';
			lx->p++;
		}
		if (lx->p >= lx->end) {
			return 0;
		}
		if (*lx->p == '#' || (*lx->p == '/' && lx->p + 1 < lx->end && lx->p[1] == '/')) {
			while (lx->p < lx->end && *lx->p != '\n') {
				lx->p++;
			}
			continue;
		}
		if (*lx->p == '/' && lx->p + 1 < lx->end && lx->p[1] == '*') {
			lx->p += 2;
			while (lx->p + 1 < lx->end && !(lx->p[0] == '*' && lx->p[1] == '/')) {
				lx->line += *lx->p == '\n';
				lx->p++;
			}
			if (lx->p + 1 >= lx->end) {
				return -1;
			}
			lx->p += 2;
			continue;
		}
		break;
	}
	lx->quoted = false;
	if (*lx->p == '{' || *lx->p == '}' || *lx->p == ';') {
		lx->tok[0] = *lx->p++;
		lx->tok[1] = '\0';
		return 1;
	}
	if (*lx->p == '"') {
		lx->quoted = true;
		lx->p++;
		while (lx->p < lx->end && *lx->p != '"') {
			if (*lx->p == '\n' || n + 1 >= sizeof(lx->tok)) {
				return -1;
			}
			lx->tok[n++] = *lx->p++;
		}
		if (lx->p >= lx->end) {
			return -1;
		}
		lx->p++;
		lx->tok[n] = '\0';
		return 1;
	}
	while (lx->p < lx->end && !isspace((unsigned char)*lx->p) && !strchr("{};\"", *lx->p)) {
		if (n + 1 >= sizeof(lx->tok)) {
			return -1;
		}
		lx->tok[n++] = *lx->p++;
	}
	lx->tok[n] = '\0';
	return 1;
}

static bool tok_is(const struct lexer *lx, const char *s)
{
	return !lx->quoted && strcmp(lx->tok, s) == 0;
}

/* key "NAME" { algorithm ALG; secret "B64"; }; -- exactly one key statement. */
static int parse_bind(const char *path, const char *buf, size_t len, struct zc_tsig **ret_key,
		      char *err, size_t errlen)
{
	struct lexer lx = { .p = buf, .end = buf + len, .line = 1 };
	char name[1024] = "", secret[1024] = "";
	enum zc_tsig_alg alg = ZC_TSIG_HMAC_SHA256;
	bool have_alg = false;
	unsigned nkeys = 0;
	int r, t;

#define EXPECT(cond, what)                                                                 \
	do {                                                                               \
		if (!(cond)) {                                                             \
			seterr(err, errlen, "%s:%u: %s", path, lx.line, what);             \
			r = ZC_EMALF;                                                      \
			goto out;                                                          \
		}                                                                          \
	} while (0)

	while ((t = lex(&lx)) > 0) {
		EXPECT(tok_is(&lx, "key"), "expected 'key'");
		EXPECT(++nkeys == 1, "the file holds more than one key");
		EXPECT(lex(&lx) > 0 && !strchr("{};", lx.tok[0]) && lx.tok[0], "expected a key name");
		snprintf(name, sizeof(name), "%s", lx.tok);
		EXPECT(lex(&lx) > 0 && tok_is(&lx, "{"), "expected '{'");
		for (;;) {
			EXPECT(lex(&lx) > 0, "unexpected end of file");
			if (tok_is(&lx, "}")) {
				break;
			}
			if (tok_is(&lx, "algorithm")) {
				EXPECT(lex(&lx) > 0 && lx.tok[0] && !strchr("{};", lx.tok[0]),
				       "expected an algorithm");
				r = parse_alg(lx.tok, strlen(lx.tok), &alg, NULL, 0);
				if (r < 0) {
					seterr(err, errlen, "%s:%u: TSIG algorithm '%s' is not supported",
					       path, lx.line, lx.tok);
					goto out;
				}
				have_alg = true;
			} else if (tok_is(&lx, "secret")) {
				EXPECT(lex(&lx) > 0 && lx.quoted, "expected a quoted secret");
				snprintf(secret, sizeof(secret), "%s", lx.tok);
			} else {
				EXPECT(false, "unknown key option");
			}
			EXPECT(lex(&lx) > 0 && tok_is(&lx, ";"), "expected ';'");
		}
		EXPECT(lex(&lx) > 0 && tok_is(&lx, ";"), "expected ';' after '}'");
	}
	EXPECT(t == 0, "unterminated string or comment");
	EXPECT(nkeys == 1, "no key statement");
	EXPECT(have_alg, "the key has no algorithm");
	EXPECT(secret[0], "the key has no secret");
	r = key_new(alg, name, strlen(name), secret, strlen(secret), ret_key, err, errlen);
	if (r < 0 && err && errlen > 0) {
		char inner[256];

		snprintf(inner, sizeof(inner), "%s", err);
		seterr(err, errlen, "%s: %s", path, inner);
	}
out:
	OPENSSL_cleanse(secret, sizeof(secret));
	return r;
#undef EXPECT
}

int zc_tsig_load_file(const char *path, struct zc_tsig **ret_key, char *err, size_t errlen)
{
	struct stat sb;
	char *buf = NULL;
	size_t len = 0;
	int fd, r;

	if (!path || !ret_key) {
		return -EINVAL;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		r = -errno;
		seterr(err, errlen, "%s: %s", path, strerror(-r));
		return r;
	}
	if (fstat(fd, &sb) < 0) {
		r = -errno;
		seterr(err, errlen, "%s: %s", path, strerror(-r));
		close(fd);
		return r;
	}
	if (!S_ISREG(sb.st_mode) || sb.st_size > TSIG_MAX_FILE) {
		r = S_ISREG(sb.st_mode) ? ZC_ELIMIT : -EINVAL;
		seterr(err, errlen, "%s: %s", path,
		       r == ZC_ELIMIT ? "key file too large" : "not a regular file");
		close(fd);
		return r;
	}
	buf = malloc((size_t)sb.st_size + 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	while (len < (size_t)sb.st_size) {
		ssize_t n = read(fd, buf + len, (size_t)sb.st_size - len);

		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n <= 0) {
			break;
		}
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	r = zc_tsig_parse_buffer(path, buf, len, ret_key, err, errlen);
	OPENSSL_cleanse(buf, len);
	free(buf);
	return r;
}

int zc_tsig_parse_buffer(const char *origin, const char *buf, size_t len,
			 struct zc_tsig **ret_key, char *err, size_t errlen)
{
	const char *p, *end = buf + len;
	char *line = NULL;
	int r;

	if (!origin || !buf || !ret_key) {
		return -EINVAL;
	}
	if (len > TSIG_MAX_FILE) {
		seterr(err, errlen, "%s: key file too large", origin);
		return ZC_ELIMIT;
	}
	if (memchr(buf, '\0', len)) {
		seterr(err, errlen, "%s: binary data in a key file", origin);
		return ZC_EMALF;
	}
	/* The BIND form starts with "key" (after comments); anything else is one line. */
	for (p = buf; p < end && isspace((unsigned char)*p); p++) {
	}
	if ((end - p > 3 && strncmp(p, "key", 3) == 0 &&
	     (isspace((unsigned char)p[3]) || p[3] == '"')) ||
	    (p < end && (*p == '#' || *p == '/'))) {
		return parse_bind(origin, buf, len, ret_key, err, errlen);
	}
	{
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *stop = nl ? nl : end;

		for (const char *q = stop; q < end; q++) {
			if (!isspace((unsigned char)*q)) {
				seterr(err, errlen, "%s: expected one line "
					       "[ALGORITHM:]NAME:SECRET or a BIND key statement",
				       origin);
				return ZC_EMALF;
			}
		}
		line = strndup(p, (size_t)(stop - p));
		if (!line) {
			return -ENOMEM;
		}
	}
	r = zc_tsig_parse(line, ret_key, err, errlen);
	if (r < 0 && err && errlen > 0) {
		char inner[256];

		snprintf(inner, sizeof(inner), "%s", err);
		seterr(err, errlen, "%s:1: %s", origin, inner);
	}
	OPENSSL_cleanse(line, strlen(line));
	free(line);
	return r;
}

/* --- MAC computation ------------------------------------------------------ */

struct mac {
	EVP_MAC *mac;
	EVP_MAC_CTX *ctx;
};

static int mac_init(struct mac *m, const struct zc_tsig *key)
{
	int i = alg_index(key->alg);
	OSSL_PARAM params[2];

	m->mac = NULL;
	m->ctx = NULL;
	if (i < 0) {
		return ZC_ENOTSUP;
	}
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
						     (char *)algs[i].digest, 0);
	params[1] = OSSL_PARAM_construct_end();
	m->mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	if (m->mac) {
		m->ctx = EVP_MAC_CTX_new(m->mac);
	}
	if (!m->ctx || !EVP_MAC_init(m->ctx, key->secret, key->secret_len, params)) {
		EVP_MAC_CTX_free(m->ctx);
		EVP_MAC_free(m->mac);
		m->ctx = NULL;
		m->mac = NULL;
		return -ENOMEM;
	}
	return 0;
}

static void mac_free(struct mac *m)
{
	EVP_MAC_CTX_free(m->ctx);
	EVP_MAC_free(m->mac);
}

static bool mac_update(struct mac *m, const void *p, size_t n)
{
	return n == 0 || EVP_MAC_update(m->ctx, p, n) == 1;
}

/*
 * RFC 8945 §4.3.3 "TSIG variables": key name, class ANY, TTL 0, algorithm name,
 * time signed, fudge, error, other length and other data.
 */
static bool mac_variables(struct mac *m, const struct zc_tsig *key, uint64_t time_signed,
			  uint16_t fudge, uint16_t error, const uint8_t *other, uint16_t other_len)
{
	uint8_t b[16];

	b[0] = 0;
	b[1] = TSIG_CLASS_ANY;
	memset(b + 2, 0, 4);
	if (!mac_update(m, key->name_wire, key->name_wire_len) || !mac_update(m, b, 6) ||
	    !mac_update(m, key->alg_wire, key->alg_wire_len)) {
		return false;
	}
	b[0] = (uint8_t)(time_signed >> 40);
	b[1] = (uint8_t)(time_signed >> 32);
	b[2] = (uint8_t)(time_signed >> 24);
	b[3] = (uint8_t)(time_signed >> 16);
	b[4] = (uint8_t)(time_signed >> 8);
	b[5] = (uint8_t)time_signed;
	b[6] = (uint8_t)(fudge >> 8);
	b[7] = (uint8_t)fudge;
	b[8] = (uint8_t)(error >> 8);
	b[9] = (uint8_t)error;
	b[10] = (uint8_t)(other_len >> 8);
	b[11] = (uint8_t)other_len;
	return mac_update(m, b, 12) && mac_update(m, other, other_len);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

int zc_tsig_sign_wire(const struct zc_tsig *key, uint8_t *wire, size_t len, size_t cap,
		      uint64_t now, uint16_t fudge, size_t *ret_len, uint8_t *ret_mac,
		      size_t *ret_mac_len)
{
	struct mac m;
	size_t mac_len = ZC_TSIG_MAX_MAC, rdlen, need;
	uint8_t mac[EVP_MAX_MD_SIZE];
	uint8_t *p;
	int r;

	if (!key || !wire || len < LDNS_HEADER_SIZE || !ret_len || !ret_mac || !ret_mac_len) {
		return -EINVAL;
	}
	r = mac_init(&m, key);
	if (r < 0) {
		return r;
	}
	/* RFC 8945 §4.3.1: the request digest is the message, then the variables. */
	if (!mac_update(&m, wire, len) || !mac_variables(&m, key, now, fudge, 0, NULL, 0) ||
	    !EVP_MAC_final(m.ctx, mac, &mac_len, sizeof(mac)) || mac_len > ZC_TSIG_MAX_MAC) {
		mac_free(&m);
		return -ENOMEM;
	}
	mac_free(&m);
	rdlen = key->alg_wire_len + 6 + 2 + 2 + mac_len + 2 + 2 + 2;
	need = len + key->name_wire_len + 10 + rdlen;
	if (need > cap || need > 65535) {
		return ZC_ELIMIT;
	}
	p = wire + len;
	memcpy(p, key->name_wire, key->name_wire_len);
	p += key->name_wire_len;
	put16(p, TSIG_TYPE);
	put16(p + 2, TSIG_CLASS_ANY);
	memset(p + 4, 0, 4);
	put16(p + 8, (uint16_t)rdlen);
	p += 10;
	memcpy(p, key->alg_wire, key->alg_wire_len);
	p += key->alg_wire_len;
	put16(p, (uint16_t)(now >> 32));
	put16(p + 2, (uint16_t)(now >> 16));
	put16(p + 4, (uint16_t)now);
	put16(p + 6, fudge);
	put16(p + 8, (uint16_t)mac_len);
	p += 10;
	memcpy(p, mac, mac_len);
	p += mac_len;
	memcpy(p, wire, 2); /* original ID */
	put16(p + 2, 0);    /* error */
	put16(p + 4, 0);    /* other length */
	put16(wire + 10, (uint16_t)(ldns_read_uint16(wire + 10) + 1)); /* ARCOUNT */
	memcpy(ret_mac, mac, mac_len);
	*ret_mac_len = mac_len;
	*ret_len = need;
	return 0;
}

int zc_tsig_verify_wire(const struct zc_tsig *key, const uint8_t *wire, size_t len,
			const uint8_t *req_mac, size_t req_mac_len, uint64_t now, int *ret_error)
{
	uint16_t counts[4], type, klass, rdlen, fudge, mac_size, orig_id, error, other_len;
	uint8_t hdr[LDNS_HEADER_SIZE], mac[ZC_TSIG_MAX_MAC], calc[EVP_MAX_MD_SIZE], b[2];
	const uint8_t *other;
	size_t pos = LDNS_HEADER_SIZE, tsig_start, rd_start, calc_len = sizeof(calc);
	ldns_rdf *owner = NULL, *alg = NULL;
	struct zc_wire w;
	uint64_t time_signed;
	struct mac m;
	int r, ai;

	*ret_error = 0;
	if (len < LDNS_HEADER_SIZE) {
		return ZC_EMALF;
	}
	for (int i = 0; i < 4; i++) {
		counts[i] = ldns_read_uint16(wire + 4 + 2 * i);
	}
	if (counts[3] == 0) {
		return ZC_ENOKEY;
	}
	/* Walk to the last additional record: the TSIG must be there (RFC 8945 §5.1). */
	for (int s = 0; s < 4; s++) {
		unsigned n = counts[s] - (s == 3 ? 1 : 0);

		for (unsigned i = 0; i < n; i++) {
			ldns_rr *rr = NULL;

			if (ldns_wire2rr(&rr, wire, len, &pos,
					 s == 0 ? LDNS_SECTION_QUESTION : LDNS_SECTION_ANSWER) !=
			    LDNS_STATUS_OK) {
				return ZC_EMALF;
			}
			ldns_rr_free(rr);
		}
	}
	tsig_start = pos;
	if (ldns_wire2dname(&owner, wire, len, &pos) != LDNS_STATUS_OK) {
		return ZC_EMALF;
	}
	zc_wire_init(&w, wire + pos, len - pos);
	type = zc_wire_u16(&w);
	klass = zc_wire_u16(&w);
	(void)zc_wire_u32(&w);
	rdlen = zc_wire_u16(&w);
	if (!zc_wire_ok(&w) || zc_wire_left(&w) != rdlen) {
		r = type == TSIG_TYPE ? ZC_EMALF : ZC_ENOKEY;
		goto out;
	}
	if (type != TSIG_TYPE || klass != TSIG_CLASS_ANY) {
		r = ZC_ENOKEY;
		goto out;
	}
	rd_start = pos + w.pos;
	pos = rd_start;
	if (ldns_wire2dname(&alg, wire, len, &pos) != LDNS_STATUS_OK) {
		r = ZC_EMALF;
		goto out;
	}
	zc_wire_init(&w, wire + pos, len - pos);
	time_signed = (uint64_t)zc_wire_u16(&w) << 32;
	time_signed |= zc_wire_u32(&w);
	fudge = zc_wire_u16(&w);
	mac_size = zc_wire_u16(&w);
	if (mac_size > sizeof(mac)) {
		r = ZC_EMALF;
		goto out;
	}
	zc_wire_bytes(&w, mac, mac_size);
	orig_id = zc_wire_u16(&w);
	error = zc_wire_u16(&w);
	other_len = zc_wire_u16(&w);
	other = wire + pos + w.pos;
	zc_wire_bytes(&w, NULL, other_len);
	if (!zc_wire_ok(&w) || zc_wire_left(&w) != 0) {
		r = ZC_EMALF;
		goto out;
	}
	*ret_error = error;
	/* Our key and algorithm only (names compare case-insensitively). */
	if (ldns_rdf_size(owner) != key->name_wire_len ||
	    ldns_rdf_size(alg) != key->alg_wire_len) {
		r = ZC_ENOKEY;
		goto out;
	}
	ldns_dname2canonical(owner);
	ldns_dname2canonical(alg);
	if (memcmp(ldns_rdf_data(owner), key->name_wire, key->name_wire_len) != 0 ||
	    memcmp(ldns_rdf_data(alg), key->alg_wire, key->alg_wire_len) != 0) {
		r = ZC_ENOKEY;
		goto out;
	}
	/* RFC 8945 §5.3.2: BADSIG and BADKEY answers are not signed. */
	if (mac_size == 0) {
		r = ZC_ENOKEY;
		goto out;
	}
	ai = alg_index(key->alg);
	if (ai < 0 || mac_size != algs[ai].mac_len) {
		r = ZC_EBOGUS; /* we never ask for truncation (RFC 8945 §5.2.2.1) */
		goto out;
	}
	/* RFC 8945 §4.3.2: request MAC, answer with its original ID and ARCOUNT - 1. */
	memcpy(hdr, wire, sizeof(hdr));
	put16(hdr, orig_id);
	put16(hdr + 10, (uint16_t)(counts[3] - 1));
	put16(b, (uint16_t)req_mac_len);
	r = mac_init(&m, key);
	if (r < 0) {
		goto out;
	}
	if (!mac_update(&m, b, 2) || !mac_update(&m, req_mac, req_mac_len) ||
	    !mac_update(&m, hdr, sizeof(hdr)) ||
	    !mac_update(&m, wire + LDNS_HEADER_SIZE, tsig_start - LDNS_HEADER_SIZE) ||
	    !mac_variables(&m, key, time_signed, fudge, error, other, other_len) ||
	    !EVP_MAC_final(m.ctx, calc, &calc_len, sizeof(calc))) {
		mac_free(&m);
		r = -ENOMEM;
		goto out;
	}
	mac_free(&m);
	if (calc_len != mac_size || CRYPTO_memcmp(calc, mac, mac_size) != 0) {
		r = ZC_EBOGUS;
		goto out;
	}
	/* RFC 8945 §5.4.3: the answer's time must be within its fudge of ours. */
	if ((now > time_signed ? now - time_signed : time_signed - now) > fudge) {
		r = ZC_EEXPIRED;
		goto out;
	}
	r = error == 0 ? 0 : error == 18 ? ZC_EEXPIRED : ZC_ENOKEY;
out:
	ldns_rdf_deep_free(owner);
	ldns_rdf_deep_free(alg);
	return r;
}
