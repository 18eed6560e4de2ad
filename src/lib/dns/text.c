/* SPDX-License-Identifier: MIT */
/*
 * dns/text.c: one record in presentation form (RFC 1035 §5.1) into an ldns_rr.
 * ldns parses; we look at the tokens first to add what ldns 1.8.3 lacks or lets
 * through: the DSYNC type (RFC 9859), the checks of the RFC 3597 generic form
 * (ldns trusts the length and does not check the hex digits), odd-length DS
 * digests (ldns pads "0" to "00", which would turn `CDS 0 0 0 0` into a delete
 * form), unknown mnemonics and TYPEnnn beyond 65535, and default TTL 0.
 */
#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "dns/internal.h"

/* A token of the text: not NUL-terminated. */
struct tok {
	const char *s;
	size_t len;
};

struct scan {
	const char *p;
	const char *end;
};

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/*
 * Next token, RFC 1035 §5.1 style: blanks and ( ) separate (outside quotes), ';'
 * starts a comment up to the end of the line, "..." is one token and a backslash
 * escapes the next character. Returns 1 (token), 0 (end) or ZC_EMALF.
 */
static int scan_next(struct scan *sc, struct tok *t)
{
	const char *p = sc->p;

	for (;;) {
		while (p < sc->end && (is_blank(*p) || *p == '(' || *p == ')')) {
			p++;
		}
		if (p < sc->end && *p == ';') {
			while (p < sc->end && *p != '\n') {
				p++;
			}
			continue;
		}
		break;
	}
	if (p == sc->end) {
		sc->p = p;
		return 0;
	}
	t->s = p;
	if (*p == '"') {
		for (p++; p < sc->end && *p != '"'; p++) {
			if (*p == '\\' && ++p == sc->end) {
				return ZC_EMALF;
			}
		}
		if (p == sc->end) {
			return ZC_EMALF;
		}
		p++;
	} else {
		for (; p < sc->end && !is_blank(*p) && *p != '(' && *p != ')' && *p != ';'; p++) {
			if (*p == '\\' && ++p == sc->end) {
				return ZC_EMALF;
			}
		}
	}
	t->len = (size_t)(p - t->s);
	sc->p = p;
	return 1;
}

/* Copies a short token into @buf as a C string; false when it does not fit. */
static bool tok_str(const struct tok *t, char *buf, size_t len)
{
	if (t->len + 1 > len) {
		return false;
	}
	memcpy(buf, t->s, t->len);
	buf[t->len] = '\0';
	return true;
}

static bool tok_is(const struct tok *t, const char *word)
{
	size_t n = strlen(word);

	return t->len == n && strncasecmp(t->s, word, n) == 0;
}

/* Unsigned decimal of 1-10 digits in [0, max]. */
static int tok_u32(const struct tok *t, uint32_t max, uint32_t *ret)
{
	char buf[16];

	if (t->len == 0 || t->len > 10 || !tok_str(t, buf, sizeof(buf))) {
		return ZC_EMALF;
	}
	return zc_parse_u32(buf, 0, max, ret) < 0 ? ZC_EMALF : 0;
}

/*
 * A type token: a mnemonic ldns knows, DSYNC, or TYPEnnn with nnn in 0..65535
 * (RFC 3597 §5; 0 only makes sense inside DSYNC rdata). ldns maps unknown
 * mnemonics to 0 and reads TYPEnnn with atoi().
 */
static int tok_type(const struct tok *t, uint16_t *ret)
{
	char buf[32];
	uint32_t v;
	ldns_rr_type type;

	if (!tok_str(t, buf, sizeof(buf))) {
		return ZC_EMALF;
	}
	if (strcasecmp(buf, "DSYNC") == 0) {
		*ret = ZC_RR_TYPE_DSYNC;
		return 0;
	}
	if (t->len > 4 && strncasecmp(buf, "TYPE", 4) == 0) {
		struct tok num = { t->s + 4, t->len - 4 };

		if (num.len > 5 || tok_u32(&num, UINT16_MAX, &v) < 0) {
			return ZC_EMALF;
		}
		*ret = (uint16_t)v;
		return 0;
	}
	type = ldns_get_rr_type_by_name(buf);
	if (type == 0 || (unsigned)type > UINT16_MAX) {
		return ZC_EMALF;
	}
	*ret = (uint16_t)type;
	return 0;
}

static bool tok_is_class(const struct tok *t)
{
	char buf[32];

	return tok_str(t, buf, sizeof(buf)) && ldns_get_rr_class_by_name(buf) != 0;
}

static bool tok_is_hex(const struct tok *t)
{
	for (size_t i = 0; i < t->len; i++) {
		if (!isxdigit((unsigned char)t->s[i])) {
			return false;
		}
	}
	return true;
}

/* What the token scan learned about the record. */
struct rr_text {
	struct tok type_tok;
	uint16_t type;
	bool ttl_explicit;
	bool generic;	      /* rdata in the RFC 3597 \# form */
	uint32_t generic_len; /* ... and its declared length */
	struct scan rdata;    /* positioned at the first rdata token */
};

/*
 * RFC 3597 §5: `\# length hex...`: a decimal length, then exactly that many
 * octets as hex digits in any number of tokens.
 */
static int check_generic(struct scan sc, uint32_t *ret_len)
{
	struct tok t;
	uint32_t want, digits = 0;
	int r;

	if (scan_next(&sc, &t) != 1 || !tok_is(&t, "\\#")) {
		return ZC_EMALF;
	}
	if (scan_next(&sc, &t) != 1 || t.len > 5 || tok_u32(&t, DNS_MAX_RDATA, &want) < 0) {
		return ZC_EMALF;
	}
	while ((r = scan_next(&sc, &t)) == 1) {
		if (!tok_is_hex(&t) || t.len > 2 * (size_t)DNS_MAX_RDATA) {
			return ZC_EMALF;
		}
		digits += (uint32_t)t.len;
		if (digits > 2 * want) {
			return ZC_EMALF;
		}
	}
	if (r < 0 || digits != 2 * want) {
		return ZC_EMALF;
	}
	*ret_len = want;
	return 0;
}

/*
 * RFC 4034 §5.3: the DS digest is hex, possibly split by blanks; ldns pads an
 * odd digit count with a zero, which we refuse.
 */
static int check_ds_digest(struct scan sc)
{
	struct tok t;
	size_t digits = 0;
	int r;

	for (int i = 0; i < 3; i++) {
		if (scan_next(&sc, &t) != 1) {
			return ZC_EMALF;
		}
	}
	while ((r = scan_next(&sc, &t)) == 1) {
		if (!tok_is_hex(&t)) {
			return ZC_EMALF;
		}
		digits += t.len;
	}
	if (r < 0 || digits == 0 || digits % 2 != 0) {
		return ZC_EMALF;
	}
	return 0;
}

/*
 * Finds the type token the way ldns_rr_new_frm_str() does: owner (absent when
 * the text starts with a blank), then a TTL if the token starts with a digit,
 * then a class if ldns knows it, then the type.
 */
static int scan_rr(const char *text, size_t len, struct rr_text *rt)
{
	struct scan sc = { text, text + len };
	struct tok t;
	struct scan at_rdata;
	int r;

	memset(rt, 0, sizeof(*rt));
	if (len > 0 && !is_blank(text[0])) {
		if (scan_next(&sc, &t) != 1) {
			return ZC_EMALF;
		}
	}
	r = scan_next(&sc, &t);
	if (r != 1) {
		return ZC_EMALF;
	}
	if (isdigit((unsigned char)t.s[0])) {
		rt->ttl_explicit = true;
		if (scan_next(&sc, &t) != 1) {
			return ZC_EMALF;
		}
	}
	if (tok_is_class(&t)) {
		if (scan_next(&sc, &t) != 1) {
			return ZC_EMALF;
		}
	}
	rt->type_tok = t;
	r = tok_type(&t, &rt->type);
	if (r < 0) {
		return r;
	}
	if (rt->type == 0) {
		return ZC_EMALF;
	}
	rt->rdata = sc;
	/* Unbalanced quotes and a final lone backslash are errors for us even
	 * where ldns would take them into a field. */
	at_rdata = sc;
	while ((r = scan_next(&at_rdata, &t)) == 1) {
	}
	if (r < 0) {
		return r;
	}
	at_rdata = sc;
	if (scan_next(&at_rdata, &t) == 1 && tok_is(&t, "\\#")) {
		rt->generic = true;
		return check_generic(sc, &rt->generic_len);
	}
	if (rt->type == LDNS_RR_TYPE_DS || rt->type == LDNS_RR_TYPE_CDS) {
		return check_ds_digest(sc);
	}
	return 0;
}

/* A name token of rdata: `@` is the origin, relative names are completed. */
static int rdata_name(const struct tok *t, const ldns_rdf *origin, ldns_rdf **ret)
{
	char buf[ZC_DNS_MAX_NAME_TEXT];
	ldns_rdf *name = NULL;
	ldns_status st;
	bool abs = false;

	if (!tok_str(t, buf, sizeof(buf))) {
		return ZC_EMALF;
	}
	if (strcmp(buf, "@") == 0) {
		name = ldns_rdf_clone(origin);
		if (!name) {
			return -ENOMEM;
		}
		*ret = name;
		return 0;
	}
	st = ldns_str2rdf_dname(&name, buf);
	if (st != LDNS_STATUS_OK) {
		return dns_err_from_ldns(st);
	}
	if (!dns_name_ok(name, &abs) || !abs) {
		ldns_rdf_deep_free(name);
		return ZC_EMALF;
	}
	/* ldns always ends the name with the root label; whether the text was
	 * relative is told by the final unescaped dot, as ldns itself does. */
	if (!ldns_dname_str_absolute(buf)) {
		/* Drop the root label, then add the origin (which has one). */
		if (ldns_rdf_size(name) - 1 + ldns_rdf_size(origin) > DNS_MAX_NAME_WIRE) {
			ldns_rdf_deep_free(name);
			return ZC_EMALF;
		}
		st = ldns_dname_cat(name, origin);
		if (st != LDNS_STATUS_OK) {
			ldns_rdf_deep_free(name);
			return dns_err_from_ldns(st);
		}
	}
	*ret = name;
	return 0;
}

/*
 * RFC 9859 §2.2 presentation form: RRtype mnemonic, scheme (mnemonic NOTIFY or a
 * number), port, target. Builds the one unknown-type rdata field.
 */
static int dsync_rdata(struct scan sc, const ldns_rdf *origin, ldns_rdf **ret_rdf)
{
	struct tok t[4], extra;
	uint16_t rrtype;
	uint32_t scheme, port;
	ldns_rdf *target = NULL;
	int r;

	for (size_t i = 0; i < ZC_ARRAY_SIZE(t); i++) {
		if (scan_next(&sc, &t[i]) != 1) {
			return ZC_EMALF;
		}
	}
	if (scan_next(&sc, &extra) != 0) {
		return ZC_EMALF;
	}
	if (tok_type(&t[0], &rrtype) < 0) {
		return ZC_EMALF;
	}
	if (tok_is(&t[1], "NOTIFY")) {
		scheme = 1;
	} else if (tok_u32(&t[1], UINT8_MAX, &scheme) < 0) {
		return ZC_EMALF;
	}
	if (tok_u32(&t[2], UINT16_MAX, &port) < 0) {
		return ZC_EMALF;
	}
	r = rdata_name(&t[3], origin, &target);
	if (r < 0) {
		return r;
	}
	r = dns_dsync_rdf(rrtype, (uint8_t)scheme, (uint16_t)port, target, ret_rdf);
	ldns_rdf_deep_free(target);
	return r;
}

/* The text with the type token replaced by @type and the rdata by @rdata. */
static char *splice(const char *text, size_t len, const struct tok *type_tok, const char *type,
		    const char *rdata_from)
{
	size_t head = (size_t)(type_tok->s - text);
	size_t tail = rdata_from ? (size_t)(text + len - rdata_from) : 0;
	size_t tlen = strlen(type);
	char *s = malloc(head + tlen + 1 + tail + 1);

	if (!s) {
		return NULL;
	}
	memcpy(s, text, head);
	memcpy(s + head, type, tlen);
	if (tail) {
		s[head + tlen] = ' ';
		memcpy(s + head + tlen + 1, rdata_from, tail);
		s[head + tlen + 1 + tail] = '\0';
	} else {
		s[head + tlen] = '\0';
	}
	return s;
}

/* Checks ldns's result against the limits it does not enforce itself. */
static int check_parsed(const ldns_rr *rr, const struct rr_text *rt)
{
	unsigned type = (unsigned)ldns_rr_get_type(rr);
	const ldns_rr_descriptor *desc = ldns_rr_descript((uint16_t)type);
	uint8_t *buf = NULL;
	int r = 0;

	/* RFC 6895 §3.1: 0 is reserved, OPT (41) and 128-255 are meta/query types. */
	if (type == 0 || type > UINT16_MAX || type == LDNS_RR_TYPE_OPT ||
	    (type >= 128 && type <= 255)) {
		return ZC_EMALF;
	}
	if (!dns_name_abs_ok(ldns_rr_owner(rr))) {
		return ZC_EMALF;
	}
	for (size_t i = 0; i < ldns_rr_rd_count(rr); i++) {
		const ldns_rdf *rdf = ldns_rr_rdf(rr, i);

		/* ldns_dname_cat() does not check the 255-octet limit. */
		if (ldns_rdf_get_type(rdf) == LDNS_RDF_TYPE_DNAME && !dns_name_ok(rdf, NULL)) {
			return ZC_EMALF;
		}
	}
	/* The \# form skips ldns's check of the number of fields (unknown types
	 * get a descriptor with minimum 0), and ldns drops octets beyond the fields
	 * it knows: the rdata must come out as long as declared. */
	if (desc && ldns_rr_rd_count(rr) < ldns_rr_descriptor_minimum(desc)) {
		return ZC_EMALF;
	}
	if (rt->generic) {
		size_t len = 0;

		r = dns_rdata_wire(rr, false, &buf, &len);
		free(buf);
		buf = NULL;
		if (r < 0) {
			return r;
		}
		if (len != rt->generic_len) {
			return ZC_EMALF;
		}
	}
	if (dns_type_family((ldns_rr_type)type) == LDNS_RR_TYPE_DS) {
		struct dns_ds d;

		r = dns_ds_read(rr, &d, &buf);
		if (r == 0 && d.digest_len == 0) {
			r = ZC_EMALF;
		}
	} else if (dns_type_family((ldns_rr_type)type) == LDNS_RR_TYPE_DNSKEY) {
		struct dns_key k;

		r = dns_key_read(rr, &k, &buf);
		if (r == 0 && k.key_len == 0) {
			r = ZC_EMALF;
		}
	} else if (type == ZC_RR_TYPE_DSYNC) {
		struct zc_dsync d;

		r = zc_dsync_parse(rr, &d);
	}
	free(buf);
	return r;
}

int zc_rr_from_str(const char *text, uint32_t default_ttl, const ldns_rdf *origin, ldns_rr **ret_rr)
{
	struct rr_text rt;
	ldns_rdf *root = NULL, *dsync = NULL;
	ldns_rr *rr = NULL;
	char *spliced = NULL;
	const char *parse = text;
	size_t len;
	ldns_status st;
	int r;

	if (!text || !ret_rr) {
		return -EINVAL;
	}
	if (origin && !dns_name_abs_ok(origin)) {
		return -EINVAL;
	}
	len = strnlen(text, ZC_DNS_MAX_RR_TEXT + 1);
	if (len > ZC_DNS_MAX_RR_TEXT) {
		return ZC_EMALF;
	}
	r = scan_rr(text, len, &rt);
	if (r < 0) {
		return r;
	}
	if (!origin) {
		root = ldns_dname_new_frm_str(".");
		if (!root) {
			return -ENOMEM;
		}
		origin = root;
	}
	if (rt.type == ZC_RR_TYPE_DSYNC && !tok_is(&rt.type_tok, "TYPE66")) {
		/*
		 * ldns 1.8.3 does not know the mnemonic: let it parse owner, TTL
		 * and class of `... TYPE66 \# 0` and add the rdata ourselves, or
		 * hand it the generic form under the TYPE66 name.
		 */
		if (!rt.generic) {
			r = dsync_rdata(rt.rdata, origin, &dsync);
			if (r < 0) {
				goto out;
			}
		}
		spliced = splice(text, len, &rt.type_tok, rt.generic ? "TYPE66" : "TYPE66 \\# 0",
				 rt.generic ? rt.rdata.p : NULL);
		if (!spliced) {
			r = -ENOMEM;
			goto out;
		}
		parse = spliced;
	}
	st = ldns_rr_new_frm_str(&rr, parse, default_ttl, origin, NULL);
	if (st != LDNS_STATUS_OK) {
		r = dns_err_from_ldns(st);
		rr = NULL;
		goto out;
	}
	if (dsync) {
		if (!ldns_rr_push_rdf(rr, dsync)) {
			r = -ENOMEM;
			goto out;
		}
		dsync = NULL;
	}
	/* ldns turns a missing TTL into 3600 when the default is 0. */
	if (!rt.ttl_explicit) {
		ldns_rr_set_ttl(rr, default_ttl);
	}
	r = check_parsed(rr, &rt);
	if (r < 0) {
		goto out;
	}
	*ret_rr = rr;
	rr = NULL;
out:
	ldns_rr_free(rr);
	ldns_rdf_deep_free(dsync);
	ldns_rdf_deep_free(root);
	free(spliced);
	return r;
}
