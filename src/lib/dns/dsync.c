/* SPDX-License-Identifier: MIT */
/*
 * dns/dsync.c: the DSYNC record (RFC 9859 §2, type 66). ldns 1.8.3 does not know
 * it, so its rdata lives in one RFC 3597 unknown-type field: RRtype (16), scheme
 * (8), port (16), target (uncompressed name). This file reads and writes that
 * field; dns/text.c parses the presentation form.
 */
#include <errno.h>
#include <string.h>

#include "dns/internal.h"

int dns_dsync_rdf(uint16_t rrtype, uint8_t scheme, uint16_t port, const ldns_rdf *target,
		  ldns_rdf **ret_rdf)
{
	uint8_t wire[5 + DNS_MAX_NAME_WIRE];
	size_t tlen;
	ldns_rdf *rdf;

	/* RFC 9859 §2.1: the target is a full, uncompressed domain name. */
	if (!dns_name_abs_ok(target)) {
		return ZC_EMALF;
	}
	tlen = ldns_rdf_size(target);
	wire[0] = (uint8_t)(rrtype >> 8);
	wire[1] = (uint8_t)rrtype;
	wire[2] = scheme;
	wire[3] = (uint8_t)(port >> 8);
	wire[4] = (uint8_t)port;
	memcpy(wire + 5, ldns_rdf_data(target), tlen);
	rdf = ldns_rdf_new_frm_data(LDNS_RDF_TYPE_UNKNOWN, 5 + tlen, wire);
	if (!rdf) {
		return -ENOMEM;
	}
	*ret_rdf = rdf;
	return 0;
}

int zc_dsync_parse(const ldns_rr *rr, struct zc_dsync *ret)
{
	struct zc_dsync d = { 0 };
	struct zc_wire w;
	uint8_t *data = NULL;
	size_t len = 0;
	ldns_rdf *target = NULL;
	bool abs = false;
	int r;

	if (!rr || !ret) {
		return -EINVAL;
	}
	if (ldns_rr_get_type(rr) != ZC_RR_TYPE_DSYNC) {
		return ZC_EMALF;
	}
	r = dns_rdata_wire(rr, false, &data, &len);
	if (r < 0) {
		return r;
	}
	zc_wire_init(&w, data, len);
	d.rrtype = zc_wire_u16(&w);
	d.scheme = zc_wire_u8(&w);
	d.port = zc_wire_u16(&w);
	/* The name must fill the rest exactly: no compression, nothing after it. */
	if (!zc_wire_ok(&w) || !dns_name_wire_ok(data + w.pos, zc_wire_left(&w), &abs) || !abs) {
		r = ZC_EMALF;
		goto out;
	}
	target = ldns_dname_new_frm_data((uint16_t)zc_wire_left(&w), data + w.pos);
	if (!target) {
		r = -ENOMEM;
		goto out;
	}
	r = zc_name_to_str(target, d.target, sizeof(d.target));
	if (r < 0) {
		r = r == -ENOMEM ? r : ZC_EMALF;
		goto out;
	}
	*ret = d;
	r = 0;
out:
	ldns_rdf_deep_free(target);
	free(data);
	return r;
}

static int rrtype_name(uint16_t type, char *buf, size_t len)
{
	char *name;
	int n;

	if (type == ZC_RR_TYPE_DSYNC) {
		n = snprintf(buf, len, "DSYNC");
		return n < 0 || (size_t)n >= len ? ZC_ELIMIT : 0;
	}
	/* Mnemonic when ldns knows the type, else the RFC 3597 TYPEnnn form. */
	name = ldns_rr_type2str((ldns_rr_type)type);
	if (!name) {
		return -ENOMEM;
	}
	n = snprintf(buf, len, "%s", name);
	free(name);
	return n < 0 || (size_t)n >= len ? ZC_ELIMIT : 0;
}

int zc_dsync_to_str(const struct zc_dsync *d, char *buf, size_t len)
{
	char type[32], scheme[8];
	size_t tlen;
	int n, r;

	if (!d || !buf) {
		return -EINVAL;
	}
	tlen = strnlen(d->target, sizeof(d->target));
	if (tlen == 0 || tlen == sizeof(d->target) || d->target[tlen - 1] != '.') {
		return -EINVAL;
	}
	r = rrtype_name(d->rrtype, type, sizeof(type));
	if (r < 0) {
		return r;
	}
	/* RFC 9859 §2.1: scheme 1 is NOTIFY; others print as numbers. */
	if (d->scheme == 1) {
		n = snprintf(scheme, sizeof(scheme), "NOTIFY");
	} else {
		n = snprintf(scheme, sizeof(scheme), "%u", d->scheme);
	}
	if (n < 0 || (size_t)n >= sizeof(scheme)) {
		return ZC_ELIMIT;
	}
	n = snprintf(buf, len, "%s %s %u %s", type, scheme, d->port, d->target);
	if (n < 0 || (size_t)n >= len) {
		return ZC_ELIMIT;
	}
	return 0;
}

int zc_dsync_to_rr(const ldns_rdf *owner, uint32_t ttl, const struct zc_dsync *d, ldns_rr **ret_rr)
{
	ldns_rdf *target = NULL, *rdata = NULL, *own = NULL;
	ldns_rr *rr = NULL;
	size_t tlen;
	int r;

	if (!d || !ret_rr || !dns_name_abs_ok(owner)) {
		return -EINVAL;
	}
	tlen = strnlen(d->target, sizeof(d->target));
	if (tlen == sizeof(d->target)) {
		return -EINVAL;
	}
	r = zc_name_from_str(d->target, &target);
	if (r < 0) {
		return r;
	}
	r = dns_dsync_rdf(d->rrtype, d->scheme, d->port, target, &rdata);
	if (r < 0) {
		goto out;
	}
	r = -ENOMEM;
	rr = ldns_rr_new();
	own = ldns_rdf_clone(owner);
	if (!rr || !own) {
		goto out;
	}
	ldns_rr_set_owner(rr, own);
	own = NULL;
	ldns_rr_set_type(rr, ZC_RR_TYPE_DSYNC);
	ldns_rr_set_class(rr, LDNS_RR_CLASS_IN);
	ldns_rr_set_ttl(rr, ttl);
	if (!ldns_rr_push_rdf(rr, rdata)) {
		goto out;
	}
	rdata = NULL;
	*ret_rr = rr;
	rr = NULL;
	r = 0;
out:
	ldns_rr_free(rr);
	ldns_rdf_deep_free(own);
	ldns_rdf_deep_free(rdata);
	ldns_rdf_deep_free(target);
	return r;
}
