/* SPDX-License-Identifier: MIT */
/*
 * DS sets as text: the canonical form kept in the journal (one sorted line per
 * distinct record, "KEYTAG ALG DIGESTTYPE HEX"), its parser, and the journal form
 * of a struct zc_change. Comparing two DS sets is comparing two such texts.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "apply/internal.h"

int zc_apply_name(const char *text, ldns_rdf **ret_rdf, char **ret_text)
{
	ldns_rdf *rdf = NULL;
	char *s = NULL;
	size_t n;

	if (!text || !*text || strnlen(text, 1025) > 1024) {
		return ZC_EMALF;
	}
	if (ldns_str2rdf_dname(&rdf, text) != LDNS_STATUS_OK || !rdf) {
		return ZC_EMALF;
	}
	if (ldns_rdf_size(rdf) > LDNS_MAX_DOMAINLEN) {
		ldns_rdf_deep_free(rdf);
		return ZC_EMALF;
	}
	/* ldns makes a relative name absolute already; lower-case it (RFC 4034 §6.2). */
	ldns_dname2canonical(rdf);
	if (ret_text) {
		s = ldns_rdf2str(rdf);
		if (!s) {
			ldns_rdf_deep_free(rdf);
			return -ENOMEM;
		}
		n = strlen(s);
		if (n == 0 || s[n - 1] != '.') {
			free(s);
			ldns_rdf_deep_free(rdf);
			return ZC_EMALF;
		}
		*ret_text = s;
	}
	if (ret_rdf) {
		*ret_rdf = rdf;
	} else {
		ldns_rdf_deep_free(rdf);
	}
	return 0;
}

/* One DS/CDS record as "KEYTAG ALG DIGESTTYPE HEX" into @buf. */
static int ds_line(const ldns_rr *rr, char *buf, size_t len)
{
	const ldns_rdf *f[4];
	const uint8_t *d;
	size_t dlen, pos;
	int n;

	if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_DS && ldns_rr_get_type(rr) != LDNS_RR_TYPE_CDS) {
		return ZC_EMALF;
	}
	if (ldns_rr_rd_count(rr) != 4) {
		return ZC_EMALF;
	}
	for (size_t i = 0; i < 4; i++) {
		f[i] = ldns_rr_rdf(rr, i);
		if (!f[i]) {
			return ZC_EMALF;
		}
	}
	if (ldns_rdf_size(f[0]) != 2 || ldns_rdf_size(f[1]) != 1 || ldns_rdf_size(f[2]) != 1) {
		return ZC_EMALF;
	}
	d = ldns_rdf_data(f[3]);
	dlen = ldns_rdf_size(f[3]);
	if (dlen == 0 || dlen > ZC_APPLY_MAX_DIGEST) {
		return ZC_EMALF;
	}
	/* RFC 8078 §4: the delete form is a signal, never a DS to publish. */
	if (ldns_rdf_data(f[1])[0] == 0 && ldns_rdf_data(f[2])[0] == 0) {
		return ZC_EMALF;
	}
	n = snprintf(buf, len, "%u %u %u ", ldns_read_uint16(ldns_rdf_data(f[0])),
		     ldns_rdf_data(f[1])[0], ldns_rdf_data(f[2])[0]);
	if (n < 0 || (size_t)n + 2 * dlen + 1 > len) {
		return ZC_ELIMIT;
	}
	pos = (size_t)n;
	for (size_t i = 0; i < dlen; i++) {
		static const char hex[] = "0123456789ABCDEF";

		buf[pos++] = hex[d[i] >> 4];
		buf[pos++] = hex[d[i] & 0xf];
	}
	buf[pos] = '\0';
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int zc_apply_ds_text(const ldns_rr_list *ds, char **ret_text)
{
	size_t n = ds ? ldns_rr_list_rr_count(ds) : 0;
	char **lines = NULL;
	char *text = NULL, line[ZC_APPLY_MAX_DS_LINE];
	size_t total = 1, pos = 0, i;
	int r = 0;

	if (!ret_text) {
		return -EINVAL;
	}
	if (n > ZC_APPLY_MAX_DS) {
		return ZC_ELIMIT;
	}
	if (n > 0) {
		lines = calloc(n, sizeof(*lines));
		if (!lines) {
			return -ENOMEM;
		}
	}
	for (i = 0; i < n; i++) {
		r = ds_line(ldns_rr_list_rr(ds, i), line, sizeof(line));
		if (r < 0) {
			goto out;
		}
		lines[i] = strdup(line);
		if (!lines[i]) {
			r = -ENOMEM;
			goto out;
		}
		total += strlen(line) + 1;
	}
	if (n > 1) {
		qsort(lines, n, sizeof(*lines), cmp_str);
	}
	text = malloc(total);
	if (!text) {
		r = -ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		size_t l = strlen(lines[i]);

		if (i > 0 && strcmp(lines[i], lines[i - 1]) == 0) {
			continue; /* an RRset is a set: repeats count once */
		}
		memcpy(text + pos, lines[i], l);
		pos += l;
		text[pos++] = '\n';
	}
	text[pos] = '\0';
	*ret_text = text;
	text = NULL;
out:
	for (i = 0; lines && i < n; i++) {
		free(lines[i]);
	}
	free(lines);
	free(text);
	return r;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9') {
		return c - '0';
	}
	c = tolower(c);
	if (c >= 'a' && c <= 'f') {
		return c - 'a' + 10;
	}
	return -1;
}

/* Next blank-separated token of *s into @tok; false when none. */
static bool next_token(const char **s, char *tok, size_t len)
{
	const char *p = *s;
	size_t n = 0;

	while (*p == ' ' || *p == '\t' || *p == '\r') {
		p++;
	}
	if (!*p) {
		return false;
	}
	while (*p && *p != ' ' && *p != '\t' && *p != '\r') {
		if (n + 1 >= len) {
			return false;
		}
		tok[n++] = *p++;
	}
	tok[n] = '\0';
	*s = p;
	return true;
}

/* One "KEYTAG ALG DIGESTTYPE HEX..." entry into a DS record. */
static int parse_entry(const char *s, const ldns_rdf *owner, uint32_t ttl, ldns_rr **ret_rr)
{
	uint8_t digest[ZC_APPLY_MAX_DIGEST];
	uint32_t kt, alg, dt;
	size_t dlen = 0;
	int hi = -1;
	char tok[16];
	ldns_rr *rr;
	ldns_rdf *f[4];

	if (!next_token(&s, tok, sizeof(tok)) || zc_parse_u32(tok, 0, 65535, &kt) < 0 ||
	    !next_token(&s, tok, sizeof(tok)) || zc_parse_u32(tok, 0, 255, &alg) < 0 ||
	    !next_token(&s, tok, sizeof(tok)) || zc_parse_u32(tok, 0, 255, &dt) < 0) {
		return ZC_EMALF;
	}
	/* The digest: hex digits, blanks allowed between them (as in zone files). */
	for (; *s; s++) {
		int v;

		if (*s == ' ' || *s == '\t' || *s == '\r') {
			continue;
		}
		v = hexval((unsigned char)*s);
		if (v < 0) {
			return ZC_EMALF;
		}
		if (hi < 0) {
			hi = v;
			continue;
		}
		if (dlen == sizeof(digest)) {
			return ZC_ELIMIT;
		}
		digest[dlen++] = (uint8_t)(hi << 4 | v);
		hi = -1;
	}
	if (hi >= 0 || dlen == 0) {
		return ZC_EMALF;
	}
	if (alg == 0 && dt == 0) {
		return ZC_EMALF; /* RFC 8078 §4 delete form: not a DS */
	}
	rr = ldns_rr_new();
	if (!rr) {
		return -ENOMEM;
	}
	ldns_rr_set_type(rr, LDNS_RR_TYPE_DS);
	ldns_rr_set_class(rr, LDNS_RR_CLASS_IN);
	ldns_rr_set_ttl(rr, ttl);
	ldns_rr_set_owner(rr, ldns_rdf_clone(owner));
	f[0] = ldns_native2rdf_int16(LDNS_RDF_TYPE_INT16, (uint16_t)kt);
	f[1] = ldns_native2rdf_int8(LDNS_RDF_TYPE_ALG, (uint8_t)alg);
	f[2] = ldns_native2rdf_int8(LDNS_RDF_TYPE_INT8, (uint8_t)dt);
	f[3] = ldns_rdf_new_frm_data(LDNS_RDF_TYPE_HEX, dlen, digest);
	for (int i = 0; i < 4; i++) {
		if (!f[i] || !ldns_rr_push_rdf(rr, f[i])) {
			for (int j = i; j < 4; j++) {
				ldns_rdf_deep_free(f[j]);
			}
			ldns_rr_free(rr);
			return -ENOMEM;
		}
	}
	if (!ldns_rr_owner(rr)) {
		ldns_rr_free(rr);
		return -ENOMEM;
	}
	*ret_rr = rr;
	return 0;
}

int zc_apply_ds_parse(const char *owner, uint32_t ttl, const char *text, ldns_rr_list **ret_list)
{
	ldns_rdf *own = NULL;
	ldns_rr_list *list = NULL;
	char entry[ZC_APPLY_MAX_DS_LINE + 64];
	const char *p, *end;
	int r;

	if (!owner || !text || !ret_list) {
		return -EINVAL;
	}
	r = zc_apply_name(owner, &own, NULL);
	if (r < 0) {
		return r;
	}
	list = ldns_rr_list_new();
	if (!list) {
		r = -ENOMEM;
		goto out;
	}
	for (p = text; *p; p = *end ? end + 1 : end) {
		size_t n;
		ldns_rr *rr = NULL;
		const char *q;

		end = p + strcspn(p, "\n;");
		n = (size_t)(end - p);
		for (q = p; q < end && isspace((unsigned char)*q); q++) {
		}
		if (q == end) {
			continue; /* blank entry */
		}
		if (n >= sizeof(entry)) {
			r = ZC_ELIMIT;
			goto out;
		}
		memcpy(entry, p, n);
		entry[n] = '\0';
		if (ldns_rr_list_rr_count(list) >= ZC_APPLY_MAX_DS) {
			r = ZC_ELIMIT;
			goto out;
		}
		r = parse_entry(entry, own, ttl, &rr);
		if (r < 0) {
			goto out;
		}
		if (!ldns_rr_list_push_rr(list, rr)) {
			ldns_rr_free(rr);
			r = -ENOMEM;
			goto out;
		}
	}
	*ret_list = list;
	list = NULL;
	r = 0;
out:
	ldns_rr_list_deep_free(list);
	ldns_rdf_deep_free(own);
	return r;
}

int zc_apply_ds_lines(const char *text, char **ret_buf, char ***ret_lines, size_t *ret_n)
{
	char *buf = strdup(text);
	char **lines;
	size_t n = 0, cap = 1;

	if (!buf) {
		return -ENOMEM;
	}
	for (const char *p = buf; *p; p++) {
		cap += *p == '\n';
	}
	lines = calloc(cap, sizeof(*lines));
	if (!lines) {
		free(buf);
		return -ENOMEM;
	}
	for (char *p = buf; *p;) {
		char *nl = strchr(p, '\n');

		if (nl) {
			*nl = '\0';
		}
		if (*p) {
			lines[n++] = p;
		}
		if (!nl) {
			break;
		}
		p = nl + 1;
	}
	*ret_buf = buf;
	*ret_lines = lines;
	*ret_n = n;
	return 0;
}

uint32_t zc_change_ttl(const struct zc_change *c)
{
	if (!c) {
		return ZC_APPLY_DEFAULT_TTL;
	}
	if (c->ttl) {
		return c->ttl;
	}
	/* A zero TTL on the old records means "not known" (e.g. parsed from text). */
	if (c->ds_old && ldns_rr_list_rr_count(c->ds_old) > 0 &&
	    ldns_rr_ttl(ldns_rr_list_rr(c->ds_old, 0)) > 0) {
		return ldns_rr_ttl(ldns_rr_list_rr(c->ds_old, 0));
	}
	return ZC_APPLY_DEFAULT_TTL;
}

int zc_change_to_journal(const struct zc_change *c, struct zc_journal_entry *ret)
{
	struct zc_journal_entry e = { 0 };
	ldns_rdf *child = NULL, *parent = NULL;
	int r;

	if (!c || !ret || (unsigned)c->mode > ZC_CHANGE_ROLLOVER) {
		return -EINVAL;
	}
	r = zc_apply_name(c->child, &child, &e.child);
	if (r == 0) {
		r = zc_apply_name(c->parent, &parent, &e.parent);
	}
	/* The DS RRset sits at the delegation point: strictly below the parent zone. */
	if (r == 0 && !ldns_dname_is_subdomain(child, parent)) {
		r = ZC_EMALF;
	}
	if (r == 0) {
		r = zc_apply_ds_text(c->ds_old, &e.ds_old);
	}
	if (r == 0) {
		r = zc_apply_ds_text(c->ds_new, &e.ds_new);
	}
	ldns_rdf_deep_free(child);
	ldns_rdf_deep_free(parent);
	if (r < 0) {
		zc_journal_entry_release(&e);
		return r;
	}
	e.ttl = zc_change_ttl(c);
	e.mode = c->mode;
	e.inception = c->inception;
	e.state = ZC_JOURNAL_PENDING;
	e.last_rcode = -1;
	*ret = e;
	return 0;
}
