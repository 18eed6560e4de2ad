/* SPDX-License-Identifier: MIT */
/*
 * net/engine-wire.c: the query engine's packet work: building a query into a
 * bounded buffer, random query IDs, and deciding whether a packet really answers
 * a query (ID, source, question) before anything else looks at it.
 */
#include "net/internal.h"
#include "util/internal.h"

#include <errno.h>
#include <netinet/in.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

/* A wire-format name: labels of 1..63, ending with the root label exactly at @len. */
static bool dname_wire_valid(const uint8_t *n, size_t len)
{
	size_t i = 0;

	if (len == 0 || len > 255) {
		return false;
	}
	while (i < len) {
		uint8_t l = n[i];

		if (l == 0) {
			return i + 1 == len;
		}
		if (l > 63) {
			return false; /* no compression pointers, no extended labels */
		}
		i += 1 + (size_t)l;
	}
	return false;
}

int zc_query_build(uint8_t *buf, size_t cap, const ldns_rdf *qname, uint16_t qtype,
		   unsigned flags, uint16_t edns_bufsize, size_t *ret_len,
		   uint16_t *ret_qname_off)
{
	const uint8_t *name;
	size_t nlen, len;
	bool edns = !(flags & ZC_Q_NOEDNS);

	if (!qname || ldns_rdf_get_type(qname) != LDNS_RDF_TYPE_DNAME) {
		return -EINVAL;
	}
	name = ldns_rdf_data(qname);
	nlen = ldns_rdf_size(qname);
	if (!name || !dname_wire_valid(name, nlen)) {
		return -EINVAL;
	}
	/* RFC 6891 §6.1.3: DO lives in the OPT record. */
	if ((flags & ZC_Q_DNSSEC) && !edns) {
		return -EINVAL;
	}
	len = 12 + nlen + 4 + (edns ? 11 : 0);
	if (len > cap) {
		return ZC_ELIMIT;
	}
	memset(buf, 0, 12);
	/* ID stays 0 here: every attempt gets a fresh random one. Opcode QUERY. */
	buf[2] = (flags & ZC_Q_RD) ? 0x01 : 0x00;
	buf[3] = (flags & ZC_Q_CD) ? 0x10 : 0x00;
	put16(buf + 4, 1);             /* QDCOUNT */
	put16(buf + 10, edns ? 1 : 0); /* ARCOUNT */
	memcpy(buf + 12, name, nlen);
	put16(buf + 12 + nlen, qtype);
	put16(buf + 12 + nlen + 2, LDNS_RR_CLASS_IN);
	if (edns) {
		uint8_t *o = buf + 12 + nlen + 4;

		o[0] = 0;                           /* root owner */
		put16(o + 1, LDNS_RR_TYPE_OPT);
		put16(o + 3, edns_bufsize);         /* RFC 6891 §6.1.2: CLASS = UDP payload size */
		o[5] = 0;                           /* extended RCODE */
		o[6] = 0;                           /* version 0 */
		o[7] = (flags & ZC_Q_DNSSEC) ? 0x80 : 0x00; /* RFC 3225: DO */
		o[8] = 0;
		put16(o + 9, 0);                    /* RDLEN */
	}
	*ret_len = len;
	*ret_qname_off = 12;
	return 0;
}

/*
 * Query IDs come from the kernel CSPRNG (getrandom), drawn in blocks so that a
 * thousand queries do not cost a thousand system calls. RFC 5452 §9.2. Where
 * getrandom() is unavailable (old kernel, seccomp), OpenSSL's DRBG takes over;
 * without either we stop rather than send guessable IDs.
 */
static void rnd_refill(uint8_t *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t r = getrandom(buf + got, len - got, 0);

		if (r >= 0) {
			got += (size_t)r;
		} else if (errno != EINTR) {
			if (RAND_bytes(buf + got, (int)(len - got)) != 1) {
				abort();
			}
			got = len;
		}
	}
}

void zc_random_bytes(struct zc_engine *eng, void *buf, size_t len)
{
	uint8_t *out = buf;

	while (len > 0) {
		size_t n;

		if (eng->rnd_left == 0) {
			rnd_refill(eng->rnd, sizeof(eng->rnd));
			eng->rnd_left = sizeof(eng->rnd);
		}
		n = len < eng->rnd_left ? len : eng->rnd_left;
		memcpy(out, eng->rnd + sizeof(eng->rnd) - eng->rnd_left, n);
		/* Used bytes are wiped so that they cannot leak through a later dump. */
		memset(eng->rnd + sizeof(eng->rnd) - eng->rnd_left, 0, n);
		eng->rnd_left -= n;
		out += n;
		len -= n;
	}
}

uint16_t zc_random_id(struct zc_engine *eng)
{
	uint8_t b[2];

	zc_random_bytes(eng, b, sizeof(b));
	return get16(b);
}

static uint8_t ascii_lower(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c;
}

/* Names in uncompressed wire form, compared ASCII case-insensitively (RFC 4343). */
static bool dname_wire_equal(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	if (alen != blen) {
		return false;
	}
	/* Length octets are <= 63 and so unchanged by ascii_lower(). */
	for (size_t i = 0; i < alen; i++) {
		if (ascii_lower(a[i]) != ascii_lower(b[i])) {
			return false;
		}
	}
	return true;
}

/*
 * The structure of a whole message: the question, then every record of the three
 * sections within the packet (name, ten octets, rdata of RDLENGTH). What the rdata
 * holds is for whoever parses it.
 */
static bool wire_structure_ok(const uint8_t *w, size_t len)
{
	size_t off = 12;
	unsigned rrs = (unsigned)get16(w + 6) + get16(w + 8) + get16(w + 10);

	for (unsigned i = 0; i < get16(w + 4); i++) {
		if (!zc_wire_skip_name(w, len, &off) || off + 4 > len) {
			return false;
		}
		off += 4;
	}
	for (unsigned i = 0; i < rrs; i++) {
		if (!zc_wire_skip_name(w, len, &off) || off + 10 > len) {
			return false;
		}
		off += 10 + (size_t)get16(w + off + 8);
		if (off > len) {
			return false;
		}
	}
	return true;
}

/* The question of a ZC_Q_WIRE_ONLY answer, read from the wire: ours, exactly. */
static int wire_question_match(const struct zc_query *q, const uint8_t *wire, size_t len)
{
	size_t off = 12, nlen = q->qname_len;

	if (!wire_structure_ok(wire, len)) {
		return ZC_EMALF;
	}
	/* RFC 5452 §9.1: one question, ours; the name uncompressed (nothing precedes it). */
	if (get16(wire + 4) != 1 || off + nlen + 4 > len ||
	    !dname_wire_equal(wire + off, nlen, q->wire + q->qname_off, nlen) ||
	    get16(wire + off + nlen) != q->qtype || get16(wire + off + nlen + 2) != LDNS_RR_CLASS_IN) {
		return ZC_EMISMATCH;
	}
	return 0;
}

int zc_answer_match(const struct zc_query *q, const uint8_t *wire, size_t len, ldns_pkt **ret_pkt)
{
	ldns_pkt *pkt = NULL;
	const ldns_rr *qrr;
	const ldns_rdf *owner;

	/* Cheap checks first: most spoofing attempts stop at the ID. */
	if (len < 12 || get16(wire) != q->id) {
		return ZC_EMISMATCH;
	}
	if (!(wire[2] & 0x80) || ((wire[2] >> 3) & 0x0f) != LDNS_PACKET_QUERY) {
		return ZC_EMISMATCH; /* not a response, or not to a QUERY */
	}
	if (q->flags & ZC_Q_WIRE_ONLY) {
		int r = wire_question_match(q, wire, len);

		if (r == 0) {
			*ret_pkt = NULL;
		}
		return r;
	}
	if (ldns_wire2pkt(&pkt, wire, len) != LDNS_STATUS_OK) {
		return ZC_EMALF;
	}
	/* RFC 5452 §9.1: the question must be ours, name compared case-insensitively. */
	if (ldns_pkt_qdcount(pkt) != 1 || ldns_rr_list_rr_count(ldns_pkt_question(pkt)) != 1) {
		goto mismatch;
	}
	qrr = ldns_rr_list_rr(ldns_pkt_question(pkt), 0);
	owner = ldns_rr_owner(qrr);
	if (ldns_rr_get_type(qrr) != q->qtype || ldns_rr_get_class(qrr) != LDNS_RR_CLASS_IN ||
	    !owner || ldns_rdf_get_type(owner) != LDNS_RDF_TYPE_DNAME ||
	    !dname_wire_equal(ldns_rdf_data(owner), ldns_rdf_size(owner), q->wire + q->qname_off,
			      q->qname_len)) {
		goto mismatch;
	}
	*ret_pkt = pkt;
	return 0;
mismatch:
	ldns_pkt_free(pkt);
	return ZC_EMISMATCH;
}

bool zc_sockaddr_equal(const struct sockaddr *a, const struct sockaddr *b)
{
	if (a->sa_family != b->sa_family) {
		return false;
	}
	if (a->sa_family == AF_INET) {
		const struct sockaddr_in *x = (const struct sockaddr_in *)a;
		const struct sockaddr_in *y = (const struct sockaddr_in *)b;

		return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	if (a->sa_family == AF_INET6) {
		const struct sockaddr_in6 *x = (const struct sockaddr_in6 *)a;
		const struct sockaddr_in6 *y = (const struct sockaddr_in6 *)b;

		return x->sin6_port == y->sin6_port &&
		       memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr)) == 0 &&
		       (x->sin6_scope_id == y->sin6_scope_id || x->sin6_scope_id == 0 ||
			y->sin6_scope_id == 0);
	}
	return false;
}
