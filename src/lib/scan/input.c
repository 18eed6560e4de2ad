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
 * Both passes cut the file into lines as ldns's reader does, through a buffer of
 * our own, and read the records of the usual shapes without ldns.
 *
 * List source: "child ns1[=addr,addr] ns2 ..." lines; DS read from DNS later.
 */
#include <errno.h>
#include <arpa/inet.h>
#include <assert.h>
#include <ctype.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <stdlib.h>
#include <unistd.h>

#include "scan/internal.h"

#define GLUE_BUCKETS 65536
#define INPUT_MAX_LINE 65536
#define ZONE_READ_SIZE (1024 * 1024) /* the zone file is read this much at a time */
#define FAST_MAX_TOKENS 16
#define FAST_MAX_LINE 1024

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

/* A record of the shapes parent zones are made of, read without ldns. */
struct fast_rr {
	ldns_rr_type type;
	uint32_t ttl;
	size_t owner_len, rdata_len;
	uint8_t owner[255]; /* wire form, case kept */
	uint8_t rdata[255]; /* NS: the name; DS: tag, algorithm, type, digest; A, AAAA */
};

/*
 * A name in wire form, and whether it is well-formed and absolute: without that,
 * zc_name_equal() and zc_name_is_at_or_below() are false. Pass 1 compares the
 * names of every record; it checks each name once, not at every comparison.
 */
struct wname {
	const uint8_t *p;
	size_t len;
	bool ok;
};

/* A record as the passes look at it: read by ldns (rr) or by the fast path (zs->frr). */
struct zrec {
	ldns_rr *rr; /* owned, or NULL: the fast path's record */
	ldns_rdf owner_fast, rd0_fast;
	const ldns_rdf *owner; /* borrowed from rr or zs->frr */
	const ldns_rdf *rd0;   /* the first rdata field, or NULL */
	struct wname own;      /* the owner */
	ldns_rr_type type;
	ldns_rr_class class;
};

/*
 * The delegation pass 1 collects for the spool: what group_add() collects into a
 * struct zc_delegation, kept in one reused buffer and in the spool's form.
 */
struct spool_group {
	bool open;
	bool unwritable; /* something the spool cannot hold: abandon it */
	struct wname child;
	uint8_t child_data[255]; /* lower-cased */
	unsigned n_ns, n_ns_dropped;
	struct {
		bool ok;
		uint8_t len;
		uint8_t name[255]; /* lower-cased */
	} ns[ZC_SCAN_MAX_NS];
	size_t n_ds;
	struct zc_buf ds; /* each DS as u16 length and the record in wire form */
};

struct zone_source {
	struct zc_scan_source pub;
	char *path;
	int fd;
	ldns_rdf *apex;
	ldns_rdf *only;
	struct glue **glue;
	/* the reader: the file through one buffer, logical lines in lbuf */
	char *rbuf;
	size_t rpos, rend;
	off_t rbase;  /* the file offset of rbuf[0] */
	FILE *slow;   /* the same file for ldns's reader (unusual lines), or NULL */
	bool drained; /* read() found the end (or failed: rerr) */
	bool eof;     /* a read went past the end (what feof() said to ldns) */
	int rerr;
	int line;
	char *lbuf; /* the logical line being read */
	size_t lcap;
	/* what the lines set: $ORIGIN, $TTL, the previous owner */
	ldns_rdf *origin;
	ldns_rdf *prev; /* for ldns; prev_wire is newer when prev_fast */
	bool prev_fast;
	size_t prev_len;
	uint8_t prev_wire[255];
	uint32_t default_ttl;
	struct fast_rr frr;     /* the record the fast path read last */
	/* pass 1 */
	struct wname apex_w, only_w;
	struct spool_group grp; /* with a spool */
	/* pass 2 state */
	struct zc_delegation *cur; /* the group being read */
	bool done;
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
	size_t len = ldns_rdf_size(name);
	uint64_t h = 1469598103934665603ull;

	for (size_t i = 0; i < len; i++) {
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

static void lower_rdf_data(uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		p[i] += (uint8_t)(((unsigned)(p[i] - 'A') < 26) << 5); /* 'A'..'Z' only */
	}
}

static void lower_rdf(ldns_rdf *name)
{
	lower_rdf_data(ldns_rdf_data(name), ldns_rdf_size(name));
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

/* The address @rd (the first rdata field of an A or AAAA record, or NULL) of @owner. */
static int glue_add(struct glue **tab, const ldns_rdf *owner, const ldns_rdf *rd)
{
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

/* --- the line reader ---------------------------------------------------- */

/*
 * Logical lines as ldns_fget_token_l_st(f, ..., LDNS_PARSE_SKIP_SPACE, &line) cuts
 * them, so that records, errors and their line numbers stay what they were when
 * ldns read the whole file: the file is read through one large buffer of ours,
 * and a physical line without any octet ldns's rules are about (parentheses,
 * comments, quotes, escapes, '\r', '\f', '\v', NUL) is taken whole, as ldns would
 * take it; any other line is read by ldns itself, from the same offset of the file,
 * through a stdio stream of its own (zr_line_ldns()).
 */

/* More octets after rend; false at the end of the file or when the buffer is full. */
static bool zr_fill(struct zone_source *zs)
{
	ssize_t n;

	if (zs->drained) {
		return false;
	}
	if (zs->rpos > 0) {
		memmove(zs->rbuf, zs->rbuf + zs->rpos, zs->rend - zs->rpos);
		zs->rend -= zs->rpos;
		zs->rbase += (off_t)zs->rpos;
		zs->rpos = 0;
	}
	if (zs->rend == ZONE_READ_SIZE) {
		return false;
	}
	do {
		n = read(zs->fd, zs->rbuf + zs->rend, ZONE_READ_SIZE - zs->rend);
	} while (n < 0 && errno == EINTR);
	if (n <= 0) {
		zs->rerr = n < 0 ? errno : 0;
		zs->drained = true;
		return false;
	}
	zs->rend += (size_t)n;
	return true;
}

/* getc() */
static inline int zr_getc(struct zone_source *zs)
{
	if (zs->rpos == zs->rend && !zr_fill(zs)) {
		zs->eof = true;
		return EOF;
	}
	return (unsigned char)zs->rbuf[zs->rpos++];
}

/* After a line: the line ends and blanks that follow, counted (as ldns does). */
static void zr_skip(struct zone_source *zs)
{
	int c;

	while ((c = zr_getc(zs)) != EOF) {
		if (c == '\n') {
			zs->line++;
		}
		if (c != '\f' && c != '\n' && c != '\r' && c != '\v') {
			zs->rpos--; /* ungetc() */
			return;
		}
	}
}

/* Room in lbuf for an octet at @t and the NUL after it. */
static bool zr_room(struct zone_source *zs, size_t t)
{
	size_t cap = zs->lcap ? zs->lcap : 1024;
	char *p;

	if (t + 2 <= zs->lcap) {
		return true;
	}
	while (t + 2 > cap) {
		cap *= 2;
	}
	p = realloc(zs->lbuf, cap + 1); /* ldns's convention: lcap + 1 octets */
	if (!p) {
		return false;
	}
	zs->lbuf = p;
	zs->lcap = cap;
	return true;
}

/*
 * The next logical line read by ldns from the file offset the buffer is at; the
 * buffer starts again after it. ldns grows lbuf itself (lcap + 1 octets).
 */
static ldns_status zr_line_ldns(struct zone_source *zs)
{
	off_t at = zs->rbase + (off_t)zs->rpos, after;
	ldns_status st;

	if (!zs->slow) {
		int fd = dup(zs->fd);

		zs->slow = fd < 0 ? NULL : fdopen(fd, "r");
		if (!zs->slow) {
			if (fd >= 0) {
				close(fd);
			}
			zs->rerr = errno ? errno : ENOMEM;
			return LDNS_STATUS_MEM_ERR;
		}
	}
	if (fseeko(zs->slow, at, SEEK_SET) != 0) {
		zs->rerr = errno;
		return LDNS_STATUS_FILE_ERR;
	}
	st = ldns_fget_token_l_st(zs->slow, &zs->lbuf, &zs->lcap, false, LDNS_PARSE_SKIP_SPACE,
				  &zs->line);
	if (ferror(zs->slow)) {
		zs->rerr = errno ? errno : EIO;
	}
	zs->eof = feof(zs->slow) != 0;
	after = ftello(zs->slow);
	if (after < 0 || lseek(zs->fd, after, SEEK_SET) < 0) {
		zs->rerr = errno;
		return LDNS_STATUS_FILE_ERR;
	}
	zs->rbase = after;
	zs->rpos = zs->rend = 0;
	zs->drained = false;
	return st;
}

/*
 * The next logical line into lbuf. A non-empty physical line without '\0' and
 * without these octets is what ldns would make of it, octet for octet: itself.
 */
#define ZR_SPECIAL "\r\f\v();\"\\"

static ldns_status zr_line(struct zone_source *zs)
{
	size_t scanned = 0;

	for (;;) {
		const char *s = zs->rbuf + zs->rpos;
		const char *q = memchr(s + scanned, '\n', zs->rend - zs->rpos - scanned);
		size_t len;

		if (!q) {
			scanned = zs->rend - zs->rpos;
			if (zr_fill(zs)) {
				continue;
			}
			break;
		}
		len = (size_t)(q - s);
		if (len == 0 || !zr_room(zs, len)) {
			break;
		}
		memcpy(zs->lbuf, s, len);
		zs->lbuf[len] = '\0';
		/* (a '\0' in the line stops strcspn() short too) */
		if (strcspn(zs->lbuf, ZR_SPECIAL) != len) {
			break;
		}
		zs->rpos += len + 1;
		zs->line++;
		zr_skip(zs);
		return LDNS_STATUS_OK;
	}
	return zr_line_ldns(zs);
}

/* --- reading records ---------------------------------------------------- */

/*
 * @len octets of presentation-form name without escapes -> uncompressed wire form
 * (@wire has room for 255): absolute, labels of 1 to 63 octets, 255 octets in all.
 */
static bool fast_name(const char *s, size_t len, uint8_t *wire, size_t *ret_len)
{
	size_t head = 0; /* where the length of the current label goes */

	if (len == 1 && s[0] == '.') {
		wire[0] = 0;
		*ret_len = 1;
		return true;
	}
	if (len < 2 || len > 254 || s[len - 1] != '.') {
		return false; /* relative, empty or too long: ldns decides */
	}
	/* each label's dot becomes the length octet of the next; the last one the root */
	memcpy(wire + 1, s, len);
	while (head < len) {
		const uint8_t *dot = memchr(wire + head + 1, '.', len - head);
		size_t label = (size_t)(dot - (wire + head + 1));

		if (label == 0 || label > 63) {
			return false;
		}
		wire[head] = (uint8_t)label;
		head += label + 1;
	}
	wire[len] = 0;
	*ret_len = len + 1;
	return true;
}

static bool fast_u32(const char *s, size_t len, uint32_t max, uint32_t *ret)
{
	uint64_t v = 0;

	if (len == 0 || len > 10) {
		return false;
	}
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9') {
			return false;
		}
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v > max) {
		return false;
	}
	*ret = (uint32_t)v;
	return true;
}

/* The value of a hex digit, plus one (0: not a hex digit). */
static const uint8_t fast_hex[256] = {
	['0'] = 1,  ['1'] = 2,  ['2'] = 3,  ['3'] = 4,  ['4'] = 5,  ['5'] = 6,
	['6'] = 7,  ['7'] = 8,  ['8'] = 9,  ['9'] = 10, ['a'] = 11, ['b'] = 12,
	['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16, ['A'] = 11, ['B'] = 12,
	['C'] = 13, ['D'] = 14, ['E'] = 15, ['F'] = 16,
};

/*
 * The hex digits of @n tokens, run together as ldns reads them (an octet may
 * straddle two), into @out: 1 to 128 octets.
 */
static bool fast_digest(const char **tok, const size_t *tlen, size_t n, uint8_t *out,
			size_t *ret_len)
{
	size_t len = 0;
	int hi = -1; /* the first digit of an octet, when the token ended after it */

	for (size_t t = 0; t < n; t++) {
		const unsigned char *s = (const unsigned char *)tok[t];
		size_t c = 0;

		if (hi >= 0) {
			int lo = fast_hex[s[0]] - 1;

			if (lo < 0) {
				return false;
			}
			out[len++] = (uint8_t)(hi << 4 | lo);
			hi = -1;
			c = 1;
		}
		for (; c + 1 < tlen[t]; c += 2) {
			int h = fast_hex[s[c]] - 1, l = fast_hex[s[c + 1]] - 1;

			if (h < 0 || l < 0 || len == 128) {
				return false;
			}
			out[len++] = (uint8_t)(h << 4 | l);
		}
		if (c < tlen[t]) {
			hi = fast_hex[s[c]] - 1;
			if (hi < 0 || len == 128) {
				return false;
			}
		}
	}
	if (hi >= 0 || len == 0) {
		return false;
	}
	*ret_len = len;
	return true;
}

/* strcasecmp(token, @upper) == 0, @upper in capitals */
static bool fast_is(const char *s, size_t len, const char *upper)
{
	size_t i;

	for (i = 0; i < len && upper[i]; i++) {
		if ((s[i] & ~0x20) != upper[i]) {
			return false;
		}
	}
	return i == len && !upper[i];
}

/* inet_pton() of a token */
static bool fast_addr(int af, const char *s, size_t len, uint8_t *out)
{
	char buf[64];

	if (len >= sizeof(buf)) {
		return false;
	}
	memcpy(buf, s, len);
	buf[len] = '\0';
	return inet_pton(af, buf, out) == 1;
}

/*
 * The rdata of the types a parent zone is made of, read as ldns reads them (the
 * same octets; the unit tests compare the two). False for anything else, which
 * ldns then reads.
 */
static bool fast_rdata(struct fast_rr *fr, const char **tok, const size_t *tlen, size_t n)
{
	switch (fr->type) {
	case LDNS_RR_TYPE_A:
		fr->rdata_len = 4;
		return n == 1 && fast_addr(AF_INET, tok[0], tlen[0], fr->rdata);
	case LDNS_RR_TYPE_AAAA:
		fr->rdata_len = 16;
		/* (an IPv4 tail: rare, ldns reads it) */
		return n == 1 && !memchr(tok[0], '.', tlen[0]) &&
		       fast_addr(AF_INET6, tok[0], tlen[0], fr->rdata);
	case LDNS_RR_TYPE_NS:
		return n == 1 && fast_name(tok[0], tlen[0], fr->rdata, &fr->rdata_len);
	case LDNS_RR_TYPE_DS: {
		uint32_t tag, alg, dt;
		size_t dlen;

		if (n < 4 || !fast_u32(tok[0], tlen[0], 65535, &tag) ||
		    !fast_u32(tok[1], tlen[1], 255, &alg) || !fast_u32(tok[2], tlen[2], 255, &dt) ||
		    !fast_digest(tok + 3, tlen + 3, n - 3, fr->rdata + 4, &dlen)) {
			return false;
		}
		fr->rdata[0] = (uint8_t)(tag >> 8);
		fr->rdata[1] = (uint8_t)tag;
		fr->rdata[2] = (uint8_t)alg;
		fr->rdata[3] = (uint8_t)dt;
		fr->rdata_len = 4 + dlen;
		return true;
	}
	default:
		return false;
	}
}

/*
 * A line (@len octets and a NUL) of the shape "OWNER. TTL IN NS|DS|A|AAAA RDATA"
 * (see scan_zone_line_fast()) into *fr; false for anything else. @fr is clobbered
 * either way.
 */
static bool fast_parse(const char *line, size_t len, struct fast_rr *fr)
{
	const char *tok[FAST_MAX_TOKENS];
	size_t tlen[FAST_MAX_TOKENS], n = 0;

	/* escapes and quotes are ldns's; so is an omitted owner (leading blank) */
	if (len == 0 || len >= FAST_MAX_LINE || line[0] == ' ' || line[0] == '\t' ||
	    strcspn(line, "\\\"();") != len) {
		return false;
	}
	for (const char *p = line; *p;) {
		const char *end = p;

		if (n == FAST_MAX_TOKENS) {
			return false;
		}
		for (;;) {
			while ((unsigned char)*end > ' ') {
				end++;
			}
			if (*end == ' ' || *end == '\t' || *end == '\0') {
				break;
			}
			end++; /* another control character: part of the token */
		}
		tok[n] = p;
		tlen[n] = (size_t)(end - p);
		n++;
		for (p = end; *p == ' ' || *p == '\t'; p++) {
		}
	}
	if (n < 5 || !fast_name(tok[0], tlen[0], fr->owner, &fr->owner_len) ||
	    !fast_u32(tok[1], tlen[1], 0x7fffffff, &fr->ttl) || !fast_is(tok[2], tlen[2], "IN")) {
		return false;
	}
	if (fast_is(tok[3], tlen[3], "NS")) {
		fr->type = LDNS_RR_TYPE_NS;
	} else if (fast_is(tok[3], tlen[3], "DS")) {
		fr->type = LDNS_RR_TYPE_DS;
	} else if (fast_is(tok[3], tlen[3], "A")) {
		fr->type = LDNS_RR_TYPE_A;
	} else if (fast_is(tok[3], tlen[3], "AAAA")) {
		fr->type = LDNS_RR_TYPE_AAAA;
	} else {
		return false;
	}
	return fast_rdata(fr, tok + 4, tlen + 4, n - 4);
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

/* The ldns record of @fr, with the rdata fields ldns_rr_new_frm_str() makes; NULL: ENOMEM. */
static ldns_rr *fast_rr_new(const struct fast_rr *fr)
{
	ldns_rr *rr = ldns_rr_new();
	ldns_rdf *name = ldns_dname_new_frm_data(fr->owner_len, fr->owner);
	const uint8_t *d = fr->rdata;
	bool ok;

	if (!rr || !name) {
		ldns_rr_free(rr);
		ldns_rdf_deep_free(name);
		return NULL;
	}
	ldns_rr_set_owner(rr, name);
	ldns_rr_set_ttl(rr, fr->ttl);
	ldns_rr_set_class(rr, LDNS_RR_CLASS_IN);
	ldns_rr_set_type(rr, fr->type);
	switch (fr->type) {
	case LDNS_RR_TYPE_A:
		ok = fast_push(rr, LDNS_RDF_TYPE_A, 4, d);
		break;
	case LDNS_RR_TYPE_AAAA:
		ok = fast_push(rr, LDNS_RDF_TYPE_AAAA, 16, d);
		break;
	case LDNS_RR_TYPE_NS:
		ok = fast_push(rr, LDNS_RDF_TYPE_DNAME, fr->rdata_len, d);
		break;
	default: /* DS */
		ok = fast_push(rr, LDNS_RDF_TYPE_INT16, 2, d) &&
		     fast_push(rr, LDNS_RDF_TYPE_ALG, 1, d + 2) &&
		     fast_push(rr, LDNS_RDF_TYPE_INT8, 1, d + 3) &&
		     fast_push(rr, LDNS_RDF_TYPE_HEX, fr->rdata_len - 4, d + 4);
		break;
	}
	if (!ok) {
		ldns_rr_free(rr);
		return NULL;
	}
	return rr;
}

int scan_zone_line_fast(const char *line, ldns_rdf **prev, ldns_rr **ret_rr)
{
	struct fast_rr fr;
	ldns_rr *rr;

	if (!fast_parse(line, strlen(line), &fr)) {
		return 0;
	}
	rr = fast_rr_new(&fr);
	if (!rr) {
		return -ENOMEM;
	}
	if (prev) {
		ldns_rdf *p = ldns_rdf_clone(ldns_rr_owner(rr));

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

static void rdf_wrap(ldns_rdf *rdf, ldns_rdf_type type, const uint8_t *data, size_t len)
{
	ldns_rdf_set_type(rdf, type);
	ldns_rdf_set_size(rdf, len);
	ldns_rdf_set_data(rdf, (void *)data);
}

static struct wname wname_of(const ldns_rdf *name)
{
	/* a name equals itself when it is well-formed and absolute */
	return (struct wname){ ldns_rdf_data(name), ldns_rdf_size(name),
			       zc_name_equal(name, name) };
}

/* Octets of two names in wire form, ASCII case folded (as dns/name.c compares them). */
static bool wname_octets_equal(const uint8_t *a, const uint8_t *b, size_t len)
{
	if (memcmp(a, b, len) == 0) {
		return true;
	}
	for (size_t i = 0; i < len; i++) {
		uint8_t x = a[i], y = b[i];

		if (x != y && ((x | 0x20) != (y | 0x20) || (x | 0x20) < 'a' || (x | 0x20) > 'z')) {
			return false;
		}
	}
	return true;
}

/* zc_name_equal() */
static bool wname_equal(const struct wname *a, const struct wname *b)
{
	return a->ok && b->ok && a->len == b->len && wname_octets_equal(a->p, b->p, a->len);
}

/* zc_name_is_at_or_below() */
static bool wname_at_or_below(const struct wname *name, const struct wname *parent)
{
	size_t off = 0;

	if (!name->ok || !parent->ok) {
		return false;
	}
	while (name->len - off > parent->len) {
		off += 1u + name->p[off];
	}
	return name->len - off == parent->len &&
	       wname_octets_equal(name->p + off, parent->p, parent->len);
}

static void zrec_from_fast(struct zone_source *zs, struct zrec *rec)
{
	static const ldns_rdf_type rd0_type[] = {
		[LDNS_RR_TYPE_A] = LDNS_RDF_TYPE_A,
		[LDNS_RR_TYPE_NS] = LDNS_RDF_TYPE_DNAME,
		[LDNS_RR_TYPE_AAAA] = LDNS_RDF_TYPE_AAAA,
		[LDNS_RR_TYPE_DS] = LDNS_RDF_TYPE_INT16,
	};
	const struct fast_rr *fr = &zs->frr;

	rec->rr = NULL;
	rdf_wrap(&rec->owner_fast, LDNS_RDF_TYPE_DNAME, fr->owner, fr->owner_len);
	rdf_wrap(&rec->rd0_fast, rd0_type[fr->type], fr->rdata,
		 fr->type == LDNS_RR_TYPE_DS ? 2 : fr->rdata_len);
	rec->owner = &rec->owner_fast;
	rec->rd0 = &rec->rd0_fast;
	rec->own = (struct wname){ fr->owner, fr->owner_len, true }; /* from fast_name() */
	rec->type = fr->type;
	rec->class = LDNS_RR_CLASS_IN;
}

static void zrec_from_ldns(struct zrec *rec, ldns_rr *rr)
{
	rec->rr = rr;
	rec->owner = ldns_rr_owner(rr);
	rec->rd0 = ldns_rr_rdf(rr, 0);
	rec->own = wname_of(rec->owner);
	rec->type = ldns_rr_get_type(rr);
	rec->class = ldns_rr_get_class(rr);
}

/*
 * The directives as ldns_rr_new_frm_fp_l() treats them: LDNS_STATUS_SYNTAX_ORIGIN
 * or _TTL when one was read, LDNS_STATUS_OK when the line is not one.
 */
static ldns_status zone_directive(struct zone_source *zs)
{
	const char *endptr;

	if (strncmp(zs->lbuf, "$ORIGIN", 7) == 0 && isspace((unsigned char)zs->lbuf[7])) {
		ldns_rdf *o = ldns_rdf_new_frm_str(LDNS_RDF_TYPE_DNAME, strip_ws(zs->lbuf + 8));

		if (!o) {
			return LDNS_STATUS_SYNTAX_DNAME_ERR;
		}
		ldns_rdf_deep_free(zs->origin);
		zs->origin = o;
		return LDNS_STATUS_SYNTAX_ORIGIN;
	} else if (strncmp(zs->lbuf, "$TTL", 4) == 0 && isspace((unsigned char)zs->lbuf[4])) {
		zs->default_ttl = ldns_str2period(strip_ws(zs->lbuf + 5), &endptr);
		return LDNS_STATUS_SYNTAX_TTL;
	} else if (strncmp(zs->lbuf, "$INCLUDE", 8) == 0) {
		return LDNS_STATUS_SYNTAX_INCLUDE;
	}
	return LDNS_STATUS_OK;
}

/*
 * One logical line, then the directives, then the record: the common shapes
 * here, the rest by ldns.
 */
static ldns_status zone_read_one(struct zone_source *zs, struct zrec *rec)
{
	ldns_rr *rr = NULL;
	ldns_status st;

	st = zr_line(zs);
	if (st == LDNS_STATUS_OK && zs->lbuf[0] == '$') {
		st = zone_directive(zs);
	}
	if (st != LDNS_STATUS_OK) {
		return st;
	}
	if (!*strip_ws(zs->lbuf)) {
		return LDNS_STATUS_SYNTAX_EMPTY;
	}
	if (fast_parse(zs->lbuf, strlen(zs->lbuf), &zs->frr)) {
		/* the owner is the previous owner of the next line, as ldns keeps it */
		memcpy(zs->prev_wire, zs->frr.owner, zs->frr.owner_len);
		zs->prev_len = zs->frr.owner_len;
		zs->prev_fast = true;
		zrec_from_fast(zs, rec);
		return LDNS_STATUS_OK;
	}
	if (zs->prev_fast) {
		ldns_rdf *p = ldns_dname_new_frm_data(zs->prev_len, zs->prev_wire);

		if (!p) {
			return LDNS_STATUS_MEM_ERR;
		}
		ldns_rdf_deep_free(zs->prev);
		zs->prev = p;
		zs->prev_fast = false;
	}
	st = ldns_rr_new_frm_str(&rr, zs->lbuf, zs->default_ttl, zs->origin, &zs->prev);
	if (st == LDNS_STATUS_OK) {
		zrec_from_ldns(rec, rr);
	}
	return st;
}

/*
 * Reads the next record. Returns 1 with *rec (release with ldns_rr_free(rec->rr)),
 * 0 at the end, ZC_EMALF on a syntax error (message in zs->err), -errno.
 */
static int zone_read(struct zone_source *zs, struct zrec *rec)
{
	for (;;) {
		ldns_status st;

		if (zs->eof) {
			return 0;
		}
		rec->rr = NULL;
		st = zone_read_one(zs, rec);
		if (zs->rerr) {
			/* (ldns through stdio took a read error for the end and went on reading) */
			ldns_rr_free(rec->rr);
			rec->rr = NULL;
			snprintf(zs->err, sizeof(zs->err), "%s: %s", zs->path, strerror(zs->rerr));
			return -zs->rerr;
		}
		switch (st) {
		case LDNS_STATUS_OK:
			return 1;
		case LDNS_STATUS_SYNTAX_EMPTY:
		case LDNS_STATUS_SYNTAX_TTL:
		case LDNS_STATUS_SYNTAX_ORIGIN:
			continue;
		case LDNS_STATUS_MEM_ERR:
			return -ENOMEM;
		default:
			if (zs->eof && st == LDNS_STATUS_SYNTAX_ERR) {
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
	(void)lseek(zs->fd, 0, SEEK_SET);
	zs->rpos = zs->rend = 0;
	zs->rbase = 0;
	zs->drained = zs->eof = false;
	zs->rerr = 0;
	ldns_rdf_deep_free(zs->origin);
	ldns_rdf_deep_free(zs->prev);
	zs->origin = NULL;
	zs->prev = NULL;
	zs->prev_fast = false;
	zs->default_ttl = 3600;
	zs->line = 0;
}

static struct zc_delegation *group_take(struct zone_source *zs);
static int group_add(struct zone_source *zs, ldns_rr *rr, struct zc_delegation **ret_done);
static void spool_abandon(struct zone_source *zs);
static bool put(FILE *f, const void *p, size_t n);

/* --- pass 1: the spool's delegations, as group_add() would collect them ------ */

/*
 * Writes the group (it ends) to the spool if it is a delegation we want, as
 * spool_write() lays a struct zc_delegation out; a write failure or something
 * the layout cannot hold abandons the spool.
 */
static void spool_group_end(struct zone_source *zs)
{
	struct spool_group *g = &zs->grp;
	FILE *f = zs->spool;
	/* all but the DS, in one write */
	uint8_t head[1 + 255 + 1 + sizeof(unsigned) + ZC_SCAN_MAX_NS * (1 + 255) + 2];
	uint16_t n16 = (uint16_t)g->n_ds;
	size_t n = 0;
	bool ok;

	g->open = false;
	if (g->n_ns == 0 || (zs->only && !wname_equal(&g->child, &zs->only_w)) || !f) {
		return;
	}
	head[n++] = (uint8_t)g->child.len;
	memcpy(head + n, g->child_data, g->child.len);
	n += g->child.len;
	head[n++] = (uint8_t)g->n_ns;
	memcpy(head + n, &g->n_ns_dropped, sizeof(g->n_ns_dropped));
	n += sizeof(g->n_ns_dropped);
	for (unsigned i = 0; i < g->n_ns; i++) {
		head[n++] = g->ns[i].len;
		memcpy(head + n, g->ns[i].name, g->ns[i].len);
		n += g->ns[i].len;
	}
	memcpy(head + n, &n16, sizeof(n16));
	n += sizeof(n16);
	ok = !g->unwritable && g->n_ds <= UINT16_MAX && put(f, head, n) &&
	     (g->ds.len == 0 || put(f, g->ds.p, g->ds.len));
	if (!ok) {
		spool_abandon(zs);
	}
}

/* deleg_add_ns(), for an NS target from fast_name() (@fast) or from ldns */
static void spool_group_ns(struct spool_group *g, const ldns_rdf *name, bool fast)
{
	struct wname w = fast ? (struct wname){ ldns_rdf_data(name), ldns_rdf_size(name), true }
			      : wname_of(name);
	uint8_t *p;

	for (unsigned i = 0; i < g->n_ns; i++) {
		struct wname known = { g->ns[i].name, g->ns[i].len, g->ns[i].ok };

		if (wname_equal(&known, &w)) {
			return;
		}
	}
	if (g->n_ns >= ZC_SCAN_MAX_NS) {
		g->n_ns_dropped++;
		return;
	}
	if (w.len > sizeof(g->ns[0].name)) {
		g->unwritable = true; /* (not from ldns's parser) */
		w.len = 0;
	}
	p = g->ns[g->n_ns].name;
	memcpy(p, w.p, w.len);
	lower_rdf_data(p, w.len);
	g->ns[g->n_ns].len = (uint8_t)w.len;
	g->ns[g->n_ns].ok = w.ok;
	g->n_ns++;
}

/* The DS in wire form, as ldns_rr2wire() writes it, after its u16 length. */
static void spool_group_ds(struct zone_source *zs, const struct zrec *rec)
{
	struct spool_group *g = &zs->grp;
	uint16_t n16;

	g->n_ds++;
	if (rec->rr) {
		uint8_t *wire = NULL;
		size_t size = 0;

		if (ldns_rr2wire(&wire, rec->rr, LDNS_SECTION_ANSWER, &size) != LDNS_STATUS_OK ||
		    size > UINT16_MAX) {
			g->unwritable = true;
		} else {
			n16 = (uint16_t)size;
			zc_buf_put(&g->ds, &n16, sizeof(n16));
			zc_buf_put(&g->ds, wire, size);
		}
		free(wire);
	} else {
		const struct fast_rr *fr = &zs->frr;
		uint8_t hdr[10]; /* type, class, TTL, rdata length */

		ldns_write_uint16(hdr, (uint16_t)fr->type);
		ldns_write_uint16(hdr + 2, LDNS_RR_CLASS_IN);
		ldns_write_uint32(hdr + 4, fr->ttl);
		ldns_write_uint16(hdr + 8, (uint16_t)fr->rdata_len);
		n16 = (uint16_t)(fr->owner_len + sizeof(hdr) + fr->rdata_len);
		zc_buf_put(&g->ds, &n16, sizeof(n16));
		zc_buf_put(&g->ds, fr->owner, fr->owner_len);
		zc_buf_put(&g->ds, hdr, sizeof(hdr));
		zc_buf_put(&g->ds, fr->rdata, fr->rdata_len);
	}
}

/* group_add() for pass 1, for a record not at the apex: the same groups, into the spool. */
static int spool_group_add(struct zone_source *zs, const struct zrec *rec)
{
	struct spool_group *g = &zs->grp;

	if (rec->type != LDNS_RR_TYPE_NS && rec->type != LDNS_RR_TYPE_DS) {
		return 0;
	}
	if (g->open && !wname_equal(&rec->own, &g->child)) {
		if (g->n_ns && wname_at_or_below(&rec->own, &g->child)) {
			return 0; /* occluded by the current delegation */
		}
		spool_group_end(zs); /* a new owner: the current group is complete */
	}
	if (!g->open) {
		g->open = true;
		g->unwritable = false;
		assert(rec->own.len <= sizeof(g->child_data)); /* a name from ldns or fast_name() */
		memcpy(g->child_data, rec->own.p, rec->own.len);
		lower_rdf_data(g->child_data, rec->own.len);
		g->child = (struct wname){ g->child_data, rec->own.len, rec->own.ok };
		g->n_ns = 0;
		g->n_ns_dropped = 0;
		g->n_ds = 0;
		g->ds.len = 0;
	}
	if (rec->type == LDNS_RR_TYPE_NS) {
		if (rec->rd0) {
			spool_group_ns(g, rec->rd0, !rec->rr);
		}
	} else {
		spool_group_ds(zs, rec);
	}
	return g->ds.oom ? -ENOMEM : 0;
}

/*
 * Pass 1: syntax, apex, glue, contiguity of each child's records; with a spool,
 * the delegations themselves, for pass 2.
 */
static int zone_pass1(struct zone_source *zs)
{
	struct hashset seen = { 0 };
	uint8_t group_data[255];
	struct wname group = { 0 }; /* owner of the current NS/DS group */
	bool have_group = false;
	struct zrec rec = { 0 };
	int r;

	if (zs->only) {
		zs->only_w = wname_of(zs->only);
	}
	while ((r = zone_read(zs, &rec)) == 1) {
		const ldns_rdf *owner = rec.owner;
		ldns_rr_type t = rec.type;
		bool at_apex;

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
			zs->apex_w = wname_of(zs->apex);
		}
		if (rec.class != LDNS_RR_CLASS_IN) {
			snprintf(zs->err, sizeof(zs->err), "%s:%d: only class IN is supported",
				 zs->path, zs->line);
			r = ZC_EMALF;
			goto out;
		}
		if (!wname_at_or_below(&rec.own, &zs->apex_w)) {
			snprintf(zs->err, sizeof(zs->err), "%s:%d: record outside the zone", zs->path,
				 zs->line);
			r = ZC_EMALF;
			goto out;
		}
		at_apex = wname_equal(&rec.own, &zs->apex_w);
		if ((t == LDNS_RR_TYPE_A || t == LDNS_RR_TYPE_AAAA) && !at_apex) {
			r = glue_add(zs->glue, owner, rec.rd0);
			if (r < 0) {
				goto out;
			}
		}
		if ((t == LDNS_RR_TYPE_NS || t == LDNS_RR_TYPE_DS) && !at_apex &&
		    (!have_group || !wname_equal(&rec.own, &group))) {
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
			assert(rec.own.len <= sizeof(group_data));
			memcpy(group_data, rec.own.p, rec.own.len);
			group = (struct wname){ group_data, rec.own.len, rec.own.ok };
			have_group = true;
		}
		if (zs->spool && !at_apex) {
			r = spool_group_add(zs, &rec);
			if (r < 0) {
				goto out;
			}
		}
		ldns_rr_free(rec.rr);
		rec.rr = NULL;
	}
	if (r == 0 && !zs->apex) {
		snprintf(zs->err, sizeof(zs->err), "%s: no records", zs->path);
		r = ZC_EMALF;
	}
	if (r == 0 && zs->spool) {
		if (zs->grp.open) {
			spool_group_end(zs);
		}
		if (zs->spool && (fflush(zs->spool) != 0 || fseek(zs->spool, 0, SEEK_SET) != 0)) {
			spool_abandon(zs);
		}
	}
	/* a spool abandoned half-way leaves a group behind: pass 2 starts afresh */
	zs->grp.open = false;
	zc_buf_release(&zs->grp.ds);
out:
	ldns_rr_free(rec.rr);
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
		return NULL;
	}
	/* fewer, larger writes and reads: the spool is a tenth of the zone file */
	(void)setvbuf(f, NULL, _IOFBF, 256 * 1024);
	return f;
}

static bool put(FILE *f, const void *p, size_t n)
{
	return fwrite(p, 1, n, f) == n;
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
		struct zrec rec;
		ldns_rr *rr;
		int r;

		if (zs->done) {
			d = group_take(zs);
			if (d) {
				*ret = deleg_finish(zs, d);
				return 0;
			}
			return 1;
		}
		r = zone_read(zs, &rec);
		if (r < 0) {
			return r;
		}
		if (r == 0) {
			zs->done = true;
			continue;
		}
		rr = rec.rr ? rec.rr : fast_rr_new(&zs->frr);
		if (!rr) {
			return -ENOMEM;
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
	if (zs->fd >= 0) {
		close(zs->fd);
	}
	if (zs->slow) {
		fclose(zs->slow);
	}
	glue_free(zs->glue);
	ldns_rdf_deep_free(zs->apex);
	ldns_rdf_deep_free(zs->only);
	ldns_rdf_deep_free(zs->origin);
	ldns_rdf_deep_free(zs->prev);
	spool_abandon(zs);
	zc_delegation_free(zs->cur);
	zc_buf_release(&zs->grp.ds);
	free(zs->rbuf);
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
	zs->fd = -1;
	zs->path = strdup(path);
	zs->glue = calloc(GLUE_BUCKETS, sizeof(*zs->glue));
	zs->rbuf = malloc(ZONE_READ_SIZE);
	if (!zs->path || !zs->glue || !zs->rbuf) {
		r = -ENOMEM;
		goto fail;
	}
	r = parse_only(only_child, &zs->only, err, errlen);
	if (r < 0) {
		goto fail;
	}
	zs->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (zs->fd < 0) {
		r = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(-r));
		goto fail;
	}
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
