/* SPDX-License-Identifier: MIT */
/*
 * Delegation sources for the scan, both streaming.
 *
 * Zone source: a parent zone file in two passes. The first checks the syntax of
 * the whole file (so bad input stops everything before any scan starts), finds
 * the apex (SOA), collects glue addresses and checks that the records of each
 * child are contiguous. The second yields one delegation at a time: memory grows
 * with the glue, not with the number of delegations. The first pass also writes
 * each delegation's NS names and DS records, in wire form, to an unlinked
 * temporary file (the spool), which the second pass reads instead of parsing the
 * zone file again (text parsing is most of the cost of reading a parent zone);
 * without a usable temporary file the second pass parses the zone file again.
 *
 * List source: "child ns1[=addr,addr] ns2 ..." lines; DS read from DNS later.
 */
#include <errno.h>
#include <arpa/inet.h>
#include <ctype.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <string.h>
#include <strings.h>
#include <stdlib.h>
#include <unistd.h>

#include "scan/internal.h"

#define GLUE_BUCKETS 65536
#define INPUT_MAX_LINE 65536

struct glue {
	ldns_rdf *name;
	uint32_t hash;
	uint8_t n;
	struct {
		uint8_t family;
		uint8_t addr[16];
	} a[ZC_SCAN_MAX_ADDRS];
	struct glue *next;
};

/* Open-addressing set of 64-bit name hashes (seen delegations). */
struct hashset {
	uint64_t *v;
	size_t cap, n;
};

struct zone_source {
	struct zc_scan_source pub;
	char *path;
	FILE *f;
	ldns_rdf *apex;
	ldns_rdf *only;
	struct glue **glue;
	/* pass 2 state */
	ldns_rdf *origin;       /* $ORIGIN tracking for ldns */
	ldns_rdf *prev;
	uint32_t default_ttl;
	int line;
	char *lbuf;             /* the logical line being read (ldns grows it) */
	size_t lcap;
	struct zc_delegation *cur; /* the group being read */
	bool eof;
	uint64_t seq;
	FILE *spool;            /* the delegations of pass 1, or NULL: parse again */
	char err[512];
};

struct list_source {
	struct zc_scan_source pub;
	char *path;
	FILE *f;
	ldns_rdf *only;
	unsigned line;
	uint64_t seq;
	char err[512];
};

/* --- helpers ----------------------------------------------------------- */

static uint64_t hash64(const ldns_rdf *name)
{
	const uint8_t *p = ldns_rdf_data(name);
	uint64_t h = 1469598103934665603ull;

	for (size_t i = 0; i < ldns_rdf_size(name); i++) {
		uint8_t c = p[i];

		if (c >= 'A' && c <= 'Z') {
			c += 32;
		}
		h = (h ^ c) * 1099511628211ull;
	}
	return h ? h : 1;
}

/* Inserts @h; returns 1 if it was new, 0 if present, -ENOMEM. */
static int hashset_add(struct hashset *s, uint64_t h)
{
	if ((s->n + 1) * 2 > s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 1024;
		uint64_t *v = calloc(cap, sizeof(*v));

		if (!v) {
			return -ENOMEM;
		}
		for (size_t i = 0; i < s->cap; i++) {
			if (s->v[i]) {
				size_t j = s->v[i] & (cap - 1);

				while (v[j]) {
					j = (j + 1) & (cap - 1);
				}
				v[j] = s->v[i];
			}
		}
		free(s->v);
		s->v = v;
		s->cap = cap;
	}
	for (size_t j = h & (s->cap - 1);; j = (j + 1) & (s->cap - 1)) {
		if (s->v[j] == h) {
			return 0;
		}
		if (!s->v[j]) {
			s->v[j] = h;
			s->n++;
			return 1;
		}
	}
}

static void lower_rdf(ldns_rdf *name)
{
	uint8_t *p = ldns_rdf_data(name);

	for (size_t i = 0; i < ldns_rdf_size(name); i++) {
		if (p[i] >= 'A' && p[i] <= 'Z') {
			p[i] += 32;
		}
	}
}

static struct glue *glue_find(struct glue **tab, const ldns_rdf *name, uint32_t h)
{
	for (struct glue *g = tab[h % GLUE_BUCKETS]; g; g = g->next) {
		if (g->hash == h && zc_name_equal(g->name, name)) {
			return g;
		}
	}
	return NULL;
}

static int glue_add(struct glue **tab, const ldns_rr *rr)
{
	const ldns_rdf *rd = ldns_rr_rdf(rr, 0);
	const ldns_rdf *owner = ldns_rr_owner(rr);
	uint32_t h = (uint32_t)hash64(owner);
	struct glue *g = glue_find(tab, owner, h);
	size_t len = rd ? ldns_rdf_size(rd) : 0;

	if (!rd || (len != 4 && len != 16)) {
		return 0;
	}
	if (!g) {
		g = calloc(1, sizeof(*g));
		if (!g || !(g->name = ldns_rdf_clone(owner))) {
			free(g);
			return -ENOMEM;
		}
		lower_rdf(g->name);
		g->hash = h;
		g->next = tab[h % GLUE_BUCKETS];
		tab[h % GLUE_BUCKETS] = g;
	}
	if (g->n < ZC_SCAN_MAX_ADDRS) {
		g->a[g->n].family = len == 4 ? AF_INET : AF_INET6;
		memcpy(g->a[g->n].addr, ldns_rdf_data(rd), len);
		g->n++;
	}
	return 0;
}

static void glue_free(struct glue **tab)
{
	if (!tab) {
		return;
	}
	for (size_t b = 0; b < GLUE_BUCKETS; b++) {
		struct glue *g = tab[b];

		while (g) {
			struct glue *next = g->next;

			ldns_rdf_deep_free(g->name);
			free(g);
			g = next;
		}
	}
	free(tab);
}

static void glue_fill(struct glue **tab, struct zc_scan_ns *ns)
{
	uint32_t h = (uint32_t)hash64(ns->name);
	struct glue *g = glue_find(tab, ns->name, h);

	for (unsigned i = 0; g && i < g->n; i++) {
		struct sockaddr_storage *ss = &ns->glue[ns->n_glue++];

		memset(ss, 0, sizeof(*ss));
		if (g->a[i].family == AF_INET) {
			struct sockaddr_in *sin = (struct sockaddr_in *)ss;

			sin->sin_family = AF_INET;
			sin->sin_port = htons(53);
			memcpy(&sin->sin_addr, g->a[i].addr, 4);
		} else {
			struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

			sin6->sin6_family = AF_INET6;
			sin6->sin6_port = htons(53);
			memcpy(&sin6->sin6_addr, g->a[i].addr, 16);
		}
	}
}

/* Adds an NS target to @d unless already there. */
static int deleg_add_ns(struct zc_delegation *d, const ldns_rdf *name)
{
	ldns_rdf *copy;

	for (unsigned i = 0; i < d->n_ns; i++) {
		if (zc_name_equal(d->ns[i].name, name)) {
			return 0;
		}
	}
	if (d->n_ns >= ZC_SCAN_MAX_NS) {
		d->n_ns_dropped++;
		return 0;
	}
	copy = ldns_rdf_clone(name);
	if (!copy) {
		return -ENOMEM;
	}
	lower_rdf(copy);
	d->ns[d->n_ns].name = copy;
	d->ns[d->n_ns].n_glue = 0;
	d->n_ns++;
	return 0;
}

static struct zc_delegation *deleg_new(const ldns_rdf *child)
{
	/* not calloc: ns[] (16 kB of glue room) is set up entry by entry, up to n_ns */
	struct zc_delegation *d = malloc(sizeof(*d));

	if (!d) {
		return NULL;
	}
	memset(d, 0, offsetof(struct zc_delegation, ns));
	d->n_ns = 0;
	d->n_ns_dropped = 0;
	d->seq = 0;
	d->child = ldns_rdf_clone(child);
	d->ds = ldns_rr_list_new();
	if (!d->child || !d->ds) {
		zc_delegation_free(d);
		return NULL;
	}
	lower_rdf(d->child);
	return d;
}

/* --- zone source ------------------------------------------------------- */

/* --- reading records ---------------------------------------------------- */

#define FAST_MAX_TOKENS 16

/* @len octets of presentation-form name without escapes -> uncompressed wire form. */
static bool fast_name(const char *s, size_t len, uint8_t *wire, size_t *ret_len)
{
	size_t out = 0, label = 0;

	if (len == 1 && s[0] == '.') {
		wire[0] = 0;
		*ret_len = 1;
		return true;
	}
	if (len < 2 || s[len - 1] != '.') {
		return false; /* relative, or empty: ldns decides */
	}
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '.') {
			if (label == 0 || label > 63) {
				return false;
			}
			wire[out - label - 1] = (uint8_t)label;
			label = 0;
			continue;
		}
		if (label == 0) {
			if (out + 1 > 254) {
				return false;
			}
			out++; /* room for the length octet */
		}
		if (out + 1 > 254) {
			return false;
		}
		wire[out++] = (uint8_t)s[i];
		label++;
	}
	wire[out++] = 0;
	*ret_len = out;
	return true;
}

static bool fast_u32(const char *s, uint32_t max, uint32_t *ret)
{
	uint64_t v = 0;

	if (!*s || strlen(s) > 10) {
		return false;
	}
	for (; *s; s++) {
		if (*s < '0' || *s > '9') {
			return false;
		}
		v = v * 10 + (uint64_t)(*s - '0');
	}
	if (v > max) {
		return false;
	}
	*ret = (uint32_t)v;
	return true;
}

static int fast_hexval(char c)
{
	if (c >= '0' && c <= '9') {
		return c - '0';
	}
	c = (char)(c | 0x20);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static bool fast_push(ldns_rr *rr, ldns_rdf_type type, size_t len, const void *data)
{
	ldns_rdf *rdf = ldns_rdf_new_frm_data(type, len, data);

	if (!rdf) {
		return false;
	}
	if (!ldns_rr_push_rdf(rr, rdf)) {
		ldns_rdf_deep_free(rdf);
		return false;
	}
	return true;
}

/*
 * The rdata of the types a parent zone is made of, read as ldns reads them (the
 * same rdf types and octets; the unit tests compare the two). Returns false for
 * anything else, which ldns then reads.
 */
static bool fast_rdata(ldns_rr *rr, ldns_rr_type type, char **tok, size_t n, bool *ret_nomem)
{
	uint8_t buf[255];
	size_t len;

	*ret_nomem = false;
	switch (type) {
	case LDNS_RR_TYPE_A:
		if (n != 1 || inet_pton(AF_INET, tok[0], buf) != 1) {
			return false;
		}
		*ret_nomem = !fast_push(rr, LDNS_RDF_TYPE_A, 4, buf);
		return !*ret_nomem;
	case LDNS_RR_TYPE_AAAA:
		if (n != 1 || strchr(tok[0], '.') || inet_pton(AF_INET6, tok[0], buf) != 1) {
			return false; /* (an IPv4 tail: rare, ldns reads it) */
		}
		*ret_nomem = !fast_push(rr, LDNS_RDF_TYPE_AAAA, 16, buf);
		return !*ret_nomem;
	case LDNS_RR_TYPE_NS:
		if (n != 1 || !fast_name(tok[0], strlen(tok[0]), buf, &len)) {
			return false;
		}
		*ret_nomem = !fast_push(rr, LDNS_RDF_TYPE_DNAME, len, buf);
		return !*ret_nomem;
	case LDNS_RR_TYPE_DS: {
		uint32_t tag, alg, dt;
		uint8_t tag16[2], a8, d8;
		uint8_t digest[128];
		size_t dlen = 0;
		int hi = -1;

		if (n < 4 || !fast_u32(tok[0], 65535, &tag) || !fast_u32(tok[1], 255, &alg) ||
		    !fast_u32(tok[2], 255, &dt)) {
			return false;
		}
		for (size_t t = 3; t < n; t++) {
			for (const char *c = tok[t]; *c; c++) {
				int v = fast_hexval(*c);

				if (v < 0 || (hi < 0 && dlen == sizeof(digest))) {
					return false;
				}
				if (hi < 0) {
					hi = v;
				} else {
					digest[dlen++] = (uint8_t)(hi << 4 | v);
					hi = -1;
				}
			}
		}
		if (hi >= 0 || dlen == 0) {
			return false;
		}
		tag16[0] = (uint8_t)(tag >> 8);
		tag16[1] = (uint8_t)tag;
		a8 = (uint8_t)alg;
		d8 = (uint8_t)dt;
		*ret_nomem = !fast_push(rr, LDNS_RDF_TYPE_INT16, 2, tag16) ||
			     !fast_push(rr, LDNS_RDF_TYPE_ALG, 1, &a8) ||
			     !fast_push(rr, LDNS_RDF_TYPE_INT8, 1, &d8) ||
			     !fast_push(rr, LDNS_RDF_TYPE_HEX, dlen, digest);
		return !*ret_nomem;
	}
	default:
		return false;
	}
}

int scan_zone_line_fast(const char *line, ldns_rdf **prev, ldns_rr **ret_rr)
{
	char copy[1024];
	char *tok[FAST_MAX_TOKENS];
	size_t n = 0, len = strlen(line);
	uint8_t owner[255];
	size_t owner_len;
	uint32_t ttl;
	ldns_rr_type type;
	ldns_rr *rr;
	ldns_rdf *name;
	bool nomem;

	/* escapes and quotes are ldns's; so is an omitted owner (leading blank) */
	if (len == 0 || len >= sizeof(copy) || line[0] == ' ' || line[0] == '\t' ||
	    strpbrk(line, "\\\"();")) {
		return 0;
	}
	memcpy(copy, line, len + 1);
	for (char *save = NULL, *t = strtok_r(copy, " \t", &save); t;
	     t = strtok_r(NULL, " \t", &save)) {
		if (n == FAST_MAX_TOKENS) {
			return 0;
		}
		tok[n++] = t;
	}
	if (n < 5 || !fast_name(tok[0], strlen(tok[0]), owner, &owner_len) ||
	    !fast_u32(tok[1], 0x7fffffff, &ttl) || strcasecmp(tok[2], "IN") != 0) {
		return 0;
	}
	if (strcasecmp(tok[3], "NS") == 0) {
		type = LDNS_RR_TYPE_NS;
	} else if (strcasecmp(tok[3], "DS") == 0) {
		type = LDNS_RR_TYPE_DS;
	} else if (strcasecmp(tok[3], "A") == 0) {
		type = LDNS_RR_TYPE_A;
	} else if (strcasecmp(tok[3], "AAAA") == 0) {
		type = LDNS_RR_TYPE_AAAA;
	} else {
		return 0;
	}
	rr = ldns_rr_new();
	name = ldns_dname_new_frm_data(owner_len, owner);
	if (!rr || !name) {
		ldns_rr_free(rr);
		ldns_rdf_deep_free(name);
		return -ENOMEM;
	}
	ldns_rr_set_owner(rr, name);
	ldns_rr_set_ttl(rr, ttl);
	ldns_rr_set_class(rr, LDNS_RR_CLASS_IN);
	ldns_rr_set_type(rr, type);
	if (!fast_rdata(rr, type, tok + 4, n - 4, &nomem)) {
		ldns_rr_free(rr);
		return nomem ? -ENOMEM : 0;
	}
	if (prev) {
		ldns_rdf *p = ldns_rdf_clone(name);

		if (!p) {
			ldns_rr_free(rr);
			return -ENOMEM;
		}
		ldns_rdf_deep_free(*prev);
		*prev = p;
	}
	*ret_rr = rr;
	return 1;
}

/*
 * Leading and trailing white space off, in place, as ldns does before it reads a
 * line: an escaped blank ("\\ ") stays, and so do the first two characters.
 */
static char *strip_ws(char *s)
{
	char *e;

	while (*s && isspace((unsigned char)*s)) {
		s++;
	}
	e = s + strlen(s);
	while (e > s + 2 && isspace((unsigned char)e[-1]) && e[-2] != '\\') {
		e--;
	}
	*e = '\0';
	return s;
}

/*
 * One logical line (parentheses joined, comments dropped: ldns's own reader), then
 * the directives as ldns_rr_new_frm_fp_l() treats them, then the record: the
 * common shapes here, the rest by ldns.
 */
static ldns_status zone_read_one(struct zone_source *zs, ldns_rr **ret_rr)
{
	const char *endptr;
	ldns_status st;
	int r;

	st = ldns_fget_token_l_st(zs->f, &zs->lbuf, &zs->lcap, false, LDNS_PARSE_SKIP_SPACE,
				  &zs->line);
	if (st != LDNS_STATUS_OK) {
		return st;
	}
	if (strncmp(zs->lbuf, "$ORIGIN", 7) == 0 && isspace((unsigned char)zs->lbuf[7])) {
		ldns_rdf *o = ldns_rdf_new_frm_str(LDNS_RDF_TYPE_DNAME, strip_ws(zs->lbuf + 8));

		if (!o) {
			return LDNS_STATUS_SYNTAX_DNAME_ERR;
		}
		ldns_rdf_deep_free(zs->origin);
		zs->origin = o;
		return LDNS_STATUS_SYNTAX_ORIGIN;
	}
	if (strncmp(zs->lbuf, "$TTL", 4) == 0 && isspace((unsigned char)zs->lbuf[4])) {
		zs->default_ttl = ldns_str2period(strip_ws(zs->lbuf + 5), &endptr);
		return LDNS_STATUS_SYNTAX_TTL;
	}
	if (strncmp(zs->lbuf, "$INCLUDE", 8) == 0) {
		return LDNS_STATUS_SYNTAX_INCLUDE;
	}
	if (!*strip_ws(zs->lbuf)) {
		return LDNS_STATUS_SYNTAX_EMPTY;
	}
	r = scan_zone_line_fast(zs->lbuf, &zs->prev, ret_rr);
	if (r != 0) {
		return r > 0 ? LDNS_STATUS_OK : LDNS_STATUS_MEM_ERR;
	}
	return ldns_rr_new_frm_str(ret_rr, zs->lbuf, zs->default_ttl, zs->origin, &zs->prev);
}

/*
 * Reads the next record. Returns 1 with *ret_rr, 0 at the end, ZC_EMALF on a
 * syntax error (message in zs->err), -ENOMEM.
 */
static int zone_read(struct zone_source *zs, ldns_rr **ret_rr)
{
	for (;;) {
		ldns_rr *rr = NULL;
		ldns_status st;

		if (feof(zs->f)) {
			return 0;
		}
		st = zone_read_one(zs, &rr);
		switch (st) {
		case LDNS_STATUS_OK:
			*ret_rr = rr;
			return 1;
		case LDNS_STATUS_SYNTAX_EMPTY:
		case LDNS_STATUS_SYNTAX_TTL:
		case LDNS_STATUS_SYNTAX_ORIGIN:
			continue;
		case LDNS_STATUS_MEM_ERR:
			return -ENOMEM;
		default:
			if (feof(zs->f) && st == LDNS_STATUS_SYNTAX_ERR) {
				return 0;
			}
			snprintf(zs->err, sizeof(zs->err), "%s:%d: %s", zs->path, zs->line,
				 st == LDNS_STATUS_SYNTAX_INCLUDE ? "$INCLUDE is not supported" :
								    ldns_get_errorstr_by_id(st));
			return ZC_EMALF;
		}
	}
}

static void zone_rewind(struct zone_source *zs)
{
	rewind(zs->f);
	ldns_rdf_deep_free(zs->origin);
	ldns_rdf_deep_free(zs->prev);
	zs->origin = NULL;
	zs->prev = NULL;
	zs->default_ttl = 3600;
	zs->line = 0;
}

static struct zc_delegation *group_take(struct zone_source *zs);
static int group_add(struct zone_source *zs, ldns_rr *rr, struct zc_delegation **ret_done);
static void spool_write(struct zone_source *zs, struct zc_delegation *d);
static void spool_abandon(struct zone_source *zs);

/*
 * Pass 1: syntax, apex, glue, contiguity of each child's records; with a spool,
 * the delegations themselves, for pass 2.
 */
static int zone_pass1(struct zone_source *zs)
{
	struct hashset seen = { 0 };
	ldns_rdf *group = NULL; /* owner of the current NS/DS group */
	ldns_rr *rr = NULL;
	int r;

	while ((r = zone_read(zs, &rr)) == 1) {
		const ldns_rdf *owner = ldns_rr_owner(rr);
		ldns_rr_type t = ldns_rr_get_type(rr);

		if (!zs->apex) {
			if (t != LDNS_RR_TYPE_SOA) {
				snprintf(zs->err, sizeof(zs->err),
					 "%s:%d: the first record must be the SOA of the parent zone",
					 zs->path, zs->line);
				r = ZC_EMALF;
				goto out;
			}
			zs->apex = ldns_rdf_clone(owner);
			if (!zs->apex) {
				r = -ENOMEM;
				goto out;
			}
			lower_rdf(zs->apex);
		}
		if (ldns_rr_get_class(rr) != LDNS_RR_CLASS_IN) {
			snprintf(zs->err, sizeof(zs->err), "%s:%d: only class IN is supported",
				 zs->path, zs->line);
			r = ZC_EMALF;
			goto out;
		}
		if (!zc_name_is_at_or_below(owner, zs->apex)) {
			snprintf(zs->err, sizeof(zs->err), "%s:%d: record outside the zone", zs->path,
				 zs->line);
			r = ZC_EMALF;
			goto out;
		}
		if ((t == LDNS_RR_TYPE_A || t == LDNS_RR_TYPE_AAAA) &&
		    !zc_name_equal(owner, zs->apex)) {
			r = glue_add(zs->glue, rr);
			if (r < 0) {
				goto out;
			}
		}
		if ((t == LDNS_RR_TYPE_NS || t == LDNS_RR_TYPE_DS) &&
		    !zc_name_equal(owner, zs->apex) &&
		    (!group || !zc_name_equal(owner, group))) {
			r = hashset_add(&seen, hash64(owner));
			if (r < 0) {
				goto out;
			}
			if (r == 0) {
				char name[ZC_DNS_MAX_NAME_TEXT] = "?";

				(void)zc_name_to_str(owner, name, sizeof(name));
				snprintf(zs->err, sizeof(zs->err),
					 "%s:%d: the records of '%.300s' are not together (sort the zone "
					 "by owner, e.g. with ldns-read-zone or named-compilezone)",
					 zs->path, zs->line, name);
				r = ZC_EMALF;
				goto out;
			}
			ldns_rdf_deep_free(group);
			group = ldns_rdf_clone(owner);
		}
		if (zs->spool) {
			struct zc_delegation *done = NULL;

			r = group_add(zs, rr, &done);
			rr = NULL;
			if (r < 0) {
				goto out;
			}
			if (done) {
				spool_write(zs, done);
			}
			continue;
		}
		ldns_rr_free(rr);
		rr = NULL;
	}
	if (r == 0 && !zs->apex) {
		snprintf(zs->err, sizeof(zs->err), "%s: no records", zs->path);
		r = ZC_EMALF;
	}
	if (r == 0 && zs->spool) {
		struct zc_delegation *done = group_take(zs);

		if (done) {
			spool_write(zs, done);
		}
		if (zs->spool && (fflush(zs->spool) != 0 || fseek(zs->spool, 0, SEEK_SET) != 0)) {
			spool_abandon(zs);
		}
	}
	/* a spool abandoned half-way leaves a group behind: pass 2 starts afresh */
	zc_delegation_free(zs->cur);
	zs->cur = NULL;
out:
	ldns_rr_free(rr);
	ldns_rdf_deep_free(group);
	free(seen.v);
	return r;
}

static const char *zone_err(const struct zc_scan_source *src)
{
	return ((const struct zone_source *)src)->err;
}

/* Ends the current group: returns it if it is a delegation we want (else NULL). */
static struct zc_delegation *group_take(struct zone_source *zs)
{
	struct zc_delegation *d = zs->cur;

	zs->cur = NULL;
	if (d && (d->n_ns == 0 || (zs->only && !zc_name_equal(d->child, zs->only)))) {
		zc_delegation_free(d);
		d = NULL;
	}
	return d;
}

/*
 * Adds @rr (consumed) to the delegation being collected. A record of another owner
 * ends the current group first: *ret_done then gets it when it is a delegation we
 * want. Records below a delegation (occluded) and other types are skipped.
 */
static int group_add(struct zone_source *zs, ldns_rr *rr, struct zc_delegation **ret_done)
{
	const ldns_rdf *owner = ldns_rr_owner(rr);
	ldns_rr_type t = ldns_rr_get_type(rr);
	int r = 0;

	*ret_done = NULL;
	if (zc_name_equal(owner, zs->apex) ||
	    (t != LDNS_RR_TYPE_NS && t != LDNS_RR_TYPE_DS)) {
		ldns_rr_free(rr);
		return 0;
	}
	if (zs->cur && !zc_name_equal(owner, zs->cur->child)) {
		if (zs->cur->n_ns && zc_name_is_at_or_below(owner, zs->cur->child)) {
			ldns_rr_free(rr); /* occluded by the current delegation */
			return 0;
		}
		*ret_done = group_take(zs); /* a new owner: the current group is complete */
	}
	if (!zs->cur) {
		zs->cur = deleg_new(owner);
		if (!zs->cur) {
			ldns_rr_free(rr);
			return -ENOMEM;
		}
	}
	if (t == LDNS_RR_TYPE_NS) {
		r = ldns_rr_rdf(rr, 0) ? deleg_add_ns(zs->cur, ldns_rr_rdf(rr, 0)) : 0;
		ldns_rr_free(rr);
	} else if (!ldns_rr_list_push_rr(zs->cur->ds, rr)) {
		ldns_rr_free(rr);
		r = -ENOMEM;
	}
	return r;
}

/* Glue (known once pass 1 is over), canonical DS order, input order. */
static struct zc_delegation *deleg_finish(struct zone_source *zs, struct zc_delegation *d)
{
	for (unsigned i = 0; i < d->n_ns; i++) {
		glue_fill(zs->glue, &d->ns[i]);
	}
	zc_rrset_canonicalize(d->ds);
	d->seq = zs->seq++;
	return d;
}

/* --- the spool: pass 1's delegations in wire form ------------------------ */

/*
 * One delegation: u8 child length, child; u8 NS count, u32 NS dropped, each NS
 * as u8 length and name; u16 DS count, each DS as u16 length and the record in
 * wire form (owner, type, class, TTL, rdata).
 */
static void spool_abandon(struct zone_source *zs)
{
	if (zs->spool) {
		fclose(zs->spool);
		zs->spool = NULL;
	}
}

static FILE *spool_open(void)
{
	const char *dir = getenv("TMPDIR");
	int fd;
	FILE *f;

	if (!dir || dir[0] != '/') {
		dir = "/tmp";
	}
	fd = open(dir, O_TMPFILE | O_RDWR | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		return NULL;
	}
	f = fdopen(fd, "w+");
	if (!f) {
		close(fd);
	}
	return f;
}

static bool put(FILE *f, const void *p, size_t n)
{
	return fwrite(p, 1, n, f) == n;
}

/* Writes @d (freed) to the spool; a write failure abandons the spool. */
static void spool_write(struct zone_source *zs, struct zc_delegation *d)
{
	FILE *f = zs->spool;
	size_t nds = ldns_rr_list_rr_count(d->ds);
	uint8_t len = (uint8_t)ldns_rdf_size(d->child), n_ns = (uint8_t)d->n_ns;
	uint16_t n16 = (uint16_t)nds;
	bool ok = f && nds <= UINT16_MAX && put(f, &len, 1) &&
		  put(f, ldns_rdf_data(d->child), len) && put(f, &n_ns, 1) &&
		  put(f, &d->n_ns_dropped, sizeof(d->n_ns_dropped));

	for (unsigned i = 0; ok && i < d->n_ns; i++) {
		len = (uint8_t)ldns_rdf_size(d->ns[i].name);
		ok = put(f, &len, 1) && put(f, ldns_rdf_data(d->ns[i].name), len);
	}
	ok = ok && put(f, &n16, sizeof(n16));
	for (size_t i = 0; ok && i < nds; i++) {
		uint8_t *wire = NULL;
		size_t size = 0;

		ok = ldns_rr2wire(&wire, ldns_rr_list_rr(d->ds, i), LDNS_SECTION_ANSWER, &size) ==
			     LDNS_STATUS_OK &&
		     size <= UINT16_MAX;
		n16 = (uint16_t)size;
		ok = ok && put(f, &n16, sizeof(n16)) && put(f, wire, size);
		free(wire);
	}
	if (f && !ok) {
		spool_abandon(zs);
	}
	zc_delegation_free(d);
}

static bool get(FILE *f, void *p, size_t n)
{
	return fread(p, 1, n, f) == n;
}

static ldns_rdf *get_name(FILE *f)
{
	uint8_t len, buf[256];

	if (!get(f, &len, 1) || len == 0 || !get(f, buf, len)) {
		return NULL;
	}
	return ldns_rdf_new_frm_data(LDNS_RDF_TYPE_DNAME, len, buf);
}

/* The next delegation of the spool: 0 and *ret, 1 at the end, or an error. */
static int spool_read(struct zone_source *zs, struct zc_delegation **ret)
{
	FILE *f = zs->spool;
	struct zc_delegation *d;
	ldns_rdf *child;
	uint8_t n_ns;
	uint16_t nds;
	int c = getc(f);

	if (c == EOF) {
		return ferror(f) ? -EIO : 1;
	}
	ungetc(c, f);
	child = get_name(f);
	if (!child) {
		return -EIO;
	}
	d = deleg_new(child);
	ldns_rdf_deep_free(child);
	if (!d) {
		return -ENOMEM;
	}
	if (!get(f, &n_ns, 1) || n_ns > ZC_SCAN_MAX_NS ||
	    !get(f, &d->n_ns_dropped, sizeof(d->n_ns_dropped))) {
		goto eio;
	}
	for (unsigned i = 0; i < n_ns; i++) {
		d->ns[i].name = get_name(f);
		d->ns[i].n_glue = 0;
		if (!d->ns[i].name) {
			goto eio;
		}
		d->n_ns++;
	}
	if (!get(f, &nds, sizeof(nds))) {
		goto eio;
	}
	for (unsigned i = 0; i < nds; i++) {
		uint8_t buf[UINT16_MAX];
		uint16_t len;
		size_t pos = 0;
		ldns_rr *rr = NULL;

		if (!get(f, &len, sizeof(len)) || !get(f, buf, len) ||
		    ldns_wire2rr(&rr, buf, len, &pos, LDNS_SECTION_ANSWER) != LDNS_STATUS_OK) {
			goto eio;
		}
		if (!ldns_rr_list_push_rr(d->ds, rr)) {
			ldns_rr_free(rr);
			zc_delegation_free(d);
			return -ENOMEM;
		}
	}
	*ret = d;
	return 0;
eio:
	zc_delegation_free(d);
	snprintf(zs->err, sizeof(zs->err), "%s: temporary file unreadable", zs->path);
	return -EIO;
}

static int zone_next(struct zc_scan_source *src, struct zc_delegation **ret)
{
	struct zone_source *zs = (struct zone_source *)src;

	if (zs->spool) {
		struct zc_delegation *d = NULL;
		int r = spool_read(zs, &d);

		if (r == 0) {
			*ret = deleg_finish(zs, d);
		}
		return r;
	}
	for (;;) {
		struct zc_delegation *d = NULL;
		ldns_rr *rr = NULL;
		int r;

		if (zs->eof) {
			d = group_take(zs);
			if (d) {
				*ret = deleg_finish(zs, d);
				return 0;
			}
			return 1;
		}
		r = zone_read(zs, &rr);
		if (r < 0) {
			return r;
		}
		if (r == 0) {
			zs->eof = true;
			continue;
		}
		r = group_add(zs, rr, &d);
		if (r < 0) {
			return r;
		}
		if (d) {
			*ret = deleg_finish(zs, d);
			return 0;
		}
	}
}

static void zone_free(struct zc_scan_source *src)
{
	struct zone_source *zs = (struct zone_source *)src;

	if (!zs) {
		return;
	}
	if (zs->f) {
		fclose(zs->f);
	}
	glue_free(zs->glue);
	ldns_rdf_deep_free(zs->apex);
	ldns_rdf_deep_free(zs->only);
	ldns_rdf_deep_free(zs->origin);
	ldns_rdf_deep_free(zs->prev);
	spool_abandon(zs);
	zc_delegation_free(zs->cur);
	free(zs->lbuf);
	free(zs->path);
	free(zs);
}

static int open_input(const char *path, FILE **ret, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	FILE *f;

	if (fd < 0) {
		int e = errno;

		snprintf(err, errlen, "%s: %s", path, strerror(e));
		return -e;
	}
	f = fdopen(fd, "r");
	if (!f) {
		int e = errno;

		close(fd);
		snprintf(err, errlen, "%s: %s", path, strerror(e));
		return -e;
	}
	*ret = f;
	return 0;
}

static int parse_only(const char *only_child, ldns_rdf **ret, char *err, size_t errlen)
{
	if (!only_child) {
		return 0;
	}
	if (zc_name_from_str(only_child, ret) < 0) {
		snprintf(err, errlen, "'%s' is not a domain name", only_child);
		return ZC_EMALF;
	}
	return 0;
}

int zc_zone_source_new(const char *path, const char *only_child, struct zc_scan_source **ret_src,
		       char *err, size_t errlen)
{
	struct zone_source *zs;
	int r;

	if (!path || !ret_src) {
		return -EINVAL;
	}
	zs = calloc(1, sizeof(*zs));
	if (!zs) {
		return -ENOMEM;
	}
	zs->pub.next = zone_next;
	zs->pub.err = zone_err;
	zs->pub.free = zone_free;
	zs->path = strdup(path);
	zs->glue = calloc(GLUE_BUCKETS, sizeof(*zs->glue));
	if (!zs->path || !zs->glue) {
		r = -ENOMEM;
		goto fail;
	}
	r = parse_only(only_child, &zs->only, err, errlen);
	if (r < 0) {
		goto fail;
	}
	r = open_input(path, &zs->f, err, errlen);
	if (r < 0) {
		goto fail;
	}
	/* one reader: no stdio locking per character (ldns reads with getc) */
	(void)__fsetlocking(zs->f, FSETLOCKING_BYCALLER);
	zone_rewind(zs);
	zs->spool = spool_open();
	r = zone_pass1(zs);
	if (r < 0) {
		snprintf(err, errlen, "%s", zs->err[0] ? zs->err : zc_strerror(r));
		goto fail;
	}
	zone_rewind(zs);
	*ret_src = &zs->pub;
	return 0;
fail:
	zone_free(&zs->pub);
	return r;
}

const ldns_rdf *zc_zone_source_origin(const struct zc_scan_source *src)
{
	return src && src->next == zone_next ? ((const struct zone_source *)src)->apex : NULL;
}

/* --- list source ------------------------------------------------------- */

static const char *list_err(const struct zc_scan_source *src)
{
	return ((const struct list_source *)src)->err;
}

static void list_free(struct zc_scan_source *src)
{
	struct list_source *ls = (struct list_source *)src;

	if (!ls) {
		return;
	}
	if (ls->f) {
		fclose(ls->f);
	}
	ldns_rdf_deep_free(ls->only);
	free(ls->path);
	free(ls);
}

/* "ns1.example.net=192.0.2.1,2001:db8::1" */
static int list_ns(struct list_source *ls, struct zc_delegation *d, char *tok)
{
	char *eq = strchr(tok, '=');
	ldns_rdf *name = NULL;
	struct zc_scan_ns *ns;
	int r;

	if (eq) {
		*eq = '\0';
	}
	if (zc_name_from_str(tok, &name) < 0) {
		snprintf(ls->err, sizeof(ls->err), "%s:%u: '%s' is not a nameserver name", ls->path,
			 ls->line, tok);
		return ZC_EMALF;
	}
	r = deleg_add_ns(d, name);
	ldns_rdf_deep_free(name);
	if (r < 0 || !eq || d->n_ns == 0) {
		return r;
	}
	ns = &d->ns[d->n_ns - 1];
	for (char *save = NULL, *a = strtok_r(eq + 1, ",", &save); a; a = strtok_r(NULL, ",", &save)) {
		socklen_t len;

		if (ns->n_glue >= ZC_SCAN_MAX_ADDRS) {
			break;
		}
		if (zc_addr_parse(a, 53, &ns->glue[ns->n_glue], &len) < 0) {
			snprintf(ls->err, sizeof(ls->err), "%s:%u: '%s' is not an IP address",
				 ls->path, ls->line, a);
			return ZC_EMALF;
		}
		ns->n_glue++;
	}
	return 0;
}

static int list_next(struct zc_scan_source *src, struct zc_delegation **ret)
{
	struct list_source *ls = (struct list_source *)src;
	char line[INPUT_MAX_LINE];

	while (fgets(line, sizeof(line), ls->f)) {
		struct zc_delegation *d = NULL;
		ldns_rdf *child = NULL;
		char *save = NULL, *tok, *hash;
		size_t n = strlen(line);
		int r;

		ls->line++;
		if (n == sizeof(line) - 1 && line[n - 1] != '\n') {
			snprintf(ls->err, sizeof(ls->err), "%s:%u: line too long", ls->path, ls->line);
			return ZC_EMALF;
		}
		hash = strchr(line, '#');
		if (hash) {
			*hash = '\0';
		}
		tok = strtok_r(line, " \t\r\n", &save);
		if (!tok) {
			continue;
		}
		if (zc_name_from_str(tok, &child) < 0) {
			snprintf(ls->err, sizeof(ls->err), "%s:%u: '%s' is not a domain name",
				 ls->path, ls->line, tok);
			return ZC_EMALF;
		}
		if (ls->only && !zc_name_equal(child, ls->only)) {
			ldns_rdf_deep_free(child);
			continue;
		}
		d = deleg_new(child);
		ldns_rdf_deep_free(child);
		if (!d) {
			return -ENOMEM;
		}
		d->ds_from_dns = true;
		while ((tok = strtok_r(NULL, " \t\r\n", &save))) {
			r = list_ns(ls, d, tok);
			if (r < 0) {
				zc_delegation_free(d);
				return r;
			}
		}
		if (d->n_ns == 0) {
			snprintf(ls->err, sizeof(ls->err), "%s:%u: no nameserver for the child",
				 ls->path, ls->line);
			zc_delegation_free(d);
			return ZC_EMALF;
		}
		d->seq = ls->seq++;
		*ret = d;
		return 0;
	}
	if (ferror(ls->f)) {
		snprintf(ls->err, sizeof(ls->err), "%s: read error", ls->path);
		return -EIO;
	}
	return 1;
}

int zc_list_source_new(const char *path, const char *only_child, struct zc_scan_source **ret_src,
		       char *err, size_t errlen)
{
	struct list_source *ls;
	int r;

	if (!path || !ret_src) {
		return -EINVAL;
	}
	ls = calloc(1, sizeof(*ls));
	if (!ls) {
		return -ENOMEM;
	}
	ls->pub.next = list_next;
	ls->pub.err = list_err;
	ls->pub.free = list_free;
	ls->path = strdup(path);
	if (!ls->path) {
		r = -ENOMEM;
		goto fail;
	}
	r = parse_only(only_child, &ls->only, err, errlen);
	if (r == 0) {
		r = open_input(path, &ls->f, err, errlen);
	}
	if (r < 0) {
		goto fail;
	}
	/* A first pass over the whole list: bad input stops everything before a scan. */
	for (;;) {
		struct zc_delegation *d = NULL;

		r = list_next(&ls->pub, &d);
		zc_delegation_free(d);
		if (r == 1) {
			break;
		}
		if (r < 0) {
			snprintf(err, errlen, "%s", ls->err[0] ? ls->err : zc_strerror(r));
			goto fail;
		}
	}
	rewind(ls->f);
	ls->line = 0;
	ls->seq = 0;
	*ret_src = &ls->pub;
	return 0;
fail:
	list_free(&ls->pub);
	return r;
}
