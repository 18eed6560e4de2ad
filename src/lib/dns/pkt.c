/* SPDX-License-Identifier: MIT */
/*
 * dns/pkt.c: untrusted DNS messages into ldns packets, with the size bound of
 * RFC 1035 §4.2.2 (a message is at most 65535 octets, even over TCP) and the
 * FORMERR rules on OPT and TSIG placement checked before ldns builds the packet.
 */
#include <errno.h>

#include "dns/internal.h"

/* RFC 1035 §4.1.1: the fixed header is 12 octets. */
#define DNS_HEADER_LEN 12
#define DNS_MAX_MESSAGE 65535

/*
 * Where the RDATA of the record at @pos must end: after the owner (as encoded,
 * a compression pointer included), type, class, TTL and RDLENGTH (RFC 1035
 * §4.1.3). Returns 0 or ZC_EMALF.
 */
static int rr_rdata_end(const uint8_t *wire, size_t len, size_t pos, size_t *ret_end)
{
	ldns_rdf *owner = NULL;
	struct zc_wire w;
	ldns_status st = ldns_wire2dname(&owner, wire, len, &pos);
	uint16_t rdlength;

	ldns_rdf_deep_free(owner);
	if (st != LDNS_STATUS_OK) {
		return dns_err_from_ldns(st);
	}
	zc_wire_init(&w, wire, len);
	zc_wire_bytes(&w, NULL, pos + 8); /* to the RDLENGTH field */
	rdlength = zc_wire_u16(&w);
	if (!zc_wire_ok(&w)) {
		return ZC_EMALF;
	}
	*ret_end = w.pos + rdlength;
	return 0;
}

/*
 * Walks every record once with ldns_wire2rr() and refuses a message
 * - whose RDATA ldns reads short or long of RDLENGTH: ldns_wire2rdf() 1.8.3
 *   stops after the fields it knows and leaves *pos inside the RDATA, so the
 *   next record would be read from the leftover octets;
 * - with more than one OPT (RFC 6891 §6.1.1) or a TSIG that is not the last
 *   additional record (RFC 8945 §5.1). Both are FORMERR for a server; for us the
 *   second also matters because ldns_wire2pkt() 1.8.3 keeps only the last TSIG
 *   it meets and leaks the earlier ones.
 */
static int pkt_precheck(const uint8_t *wire, size_t len)
{
	static const ldns_pkt_section sections[] = {
		LDNS_SECTION_QUESTION,
		LDNS_SECTION_ANSWER,
		LDNS_SECTION_AUTHORITY,
		LDNS_SECTION_ADDITIONAL,
	};
	uint16_t count[ZC_ARRAY_SIZE(sections)];
	struct zc_wire w;
	size_t pos = DNS_HEADER_LEN;
	unsigned opt = 0;

	zc_wire_init(&w, wire, len);
	zc_wire_bytes(&w, NULL, 4); /* ID, flags */
	for (size_t s = 0; s < ZC_ARRAY_SIZE(sections); s++) {
		count[s] = zc_wire_u16(&w);
	}
	if (!zc_wire_ok(&w)) {
		return ZC_EMALF;
	}
	for (size_t s = 0; s < ZC_ARRAY_SIZE(sections); s++) {
		for (uint32_t i = 0; i < count[s]; i++) {
			ldns_rr *rr = NULL;
			size_t end = 0;
			ldns_status st;
			ldns_rr_type type;
			int r;

			if (sections[s] != LDNS_SECTION_QUESTION) {
				r = rr_rdata_end(wire, len, pos, &end);
				if (r < 0) {
					return r;
				}
			}
			st = ldns_wire2rr(&rr, wire, len, &pos, sections[s]);
			if (st != LDNS_STATUS_OK) {
				ldns_rr_free(rr);
				return dns_err_from_ldns(st);
			}
			type = ldns_rr_get_type(rr);
			ldns_rr_free(rr);
			if (sections[s] != LDNS_SECTION_QUESTION && pos != end) {
				return ZC_EMALF;
			}
			if (sections[s] != LDNS_SECTION_ADDITIONAL) {
				continue;
			}
			if (type == LDNS_RR_TYPE_OPT && ++opt > 1) {
				return ZC_EMALF;
			}
			if (type == LDNS_RR_TYPE_TSIG && i + 1 != count[s]) {
				return ZC_EMALF;
			}
		}
	}
	return 0;
}

int zc_pkt_from_wire(const uint8_t *wire, size_t len, ldns_pkt **ret_pkt)
{
	ldns_pkt *pkt = NULL;
	ldns_status st;
	int r;

	if (!wire || !ret_pkt) {
		return -EINVAL;
	}
	if (len < DNS_HEADER_LEN || len > DNS_MAX_MESSAGE) {
		return ZC_EMALF;
	}
	r = pkt_precheck(wire, len);
	if (r < 0) {
		return r;
	}
	st = ldns_wire2pkt(&pkt, wire, len);
	if (st != LDNS_STATUS_OK) {
		/* ldns frees its partial packet itself and leaves pkt alone. */
		return dns_err_from_ldns(st);
	}
	*ret_pkt = pkt;
	return 0;
}

/*
 * The records of one section, answer or authority: the question skipped, the records
 * before the section stepped over by their RDLENGTH, the later sections never parsed
 * (a positive answer from an authoritative server carries its NS RRset and their
 * RRSIGs in the authority section, as many records as the answer itself). Each record
 * must end where its RDLENGTH says (see pkt_precheck).
 */
static int section_records(const uint8_t *wire, size_t len, ldns_pkt_section sec,
			   ldns_rr_list **ret_rrs)
{
	struct zc_wire w;
	uint16_t qdcount, ancount, nscount, skip, take;
	size_t pos = DNS_HEADER_LEN;
	ldns_rr_list *rrs;
	int r = 0;

	if (!wire || !ret_rrs || (sec != LDNS_SECTION_ANSWER && sec != LDNS_SECTION_AUTHORITY)) {
		return -EINVAL;
	}
	if (len < DNS_HEADER_LEN || len > DNS_MAX_MESSAGE) {
		return ZC_EMALF;
	}
	zc_wire_init(&w, wire, len);
	zc_wire_bytes(&w, NULL, 4); /* ID, flags */
	qdcount = zc_wire_u16(&w);
	ancount = zc_wire_u16(&w);
	nscount = zc_wire_u16(&w);
	skip = sec == LDNS_SECTION_ANSWER ? 0 : ancount;
	take = sec == LDNS_SECTION_ANSWER ? ancount : nscount;
	for (unsigned i = 0; i < qdcount; i++) {
		if (!zc_wire_skip_name(wire, len, &pos) || pos + 4 > len) {
			return ZC_EMALF;
		}
		pos += 4;
	}
	for (unsigned i = 0; i < skip; i++) {
		size_t end = 0;

		r = rr_rdata_end(wire, len, pos, &end);
		if (r < 0) {
			return r;
		}
		if (end > len) {
			return ZC_EMALF;
		}
		pos = end;
	}
	rrs = ldns_rr_list_new();
	if (!rrs) {
		return -ENOMEM;
	}
	for (unsigned i = 0; i < take && r == 0; i++) {
		ldns_rr *rr = NULL;
		size_t end = 0;
		ldns_status st;

		r = rr_rdata_end(wire, len, pos, &end);
		if (r < 0) {
			break;
		}
		st = ldns_wire2rr(&rr, wire, len, &pos, sec);
		if (st != LDNS_STATUS_OK) {
			ldns_rr_free(rr);
			r = dns_err_from_ldns(st);
		} else if (pos != end) {
			ldns_rr_free(rr);
			r = ZC_EMALF;
		} else if (!ldns_rr_list_push_rr(rrs, rr)) {
			ldns_rr_free(rr);
			r = -ENOMEM;
		}
	}
	if (r < 0) {
		ldns_rr_list_deep_free(rrs);
		return r;
	}
	*ret_rrs = rrs;
	return 0;
}

int zc_pkt_answer_records(const uint8_t *wire, size_t len, ldns_rr_list **ret_rrs)
{
	return section_records(wire, len, LDNS_SECTION_ANSWER, ret_rrs);
}

int zc_pkt_authority_records(const uint8_t *wire, size_t len, ldns_rr_list **ret_rrs)
{
	return section_records(wire, len, LDNS_SECTION_AUTHORITY, ret_rrs);
}
