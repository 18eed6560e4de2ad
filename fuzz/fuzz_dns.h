/* SPDX-License-Identifier: MIT */
/*
 * fuzz_dns.h: what the dns fuzz targets (pkt, rdata, zoneline) do with every
 * record they get: run each accessor and formatter of zonecut/dns.h, and check
 * the round trips that must hold (formatted text parses back to the same data).
 * A broken round trip calls abort(), so the fuzzer reports it as a crash.
 */
#ifndef ZC_FUZZ_DNS_H
#define ZC_FUZZ_DNS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zonecut/dns.h>

/* At most this many keys are tried against one DS (keeps runs short). */
#define FUZZ_MAX_KEYS 8
/* The fixed clock of zc_rrsig_check() in the targets: 2030-01-01. */
#define FUZZ_NOW ((time_t)1893456000)

static void fuzz_check(bool ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz invariant broken: %s\n", what);
		abort();
	}
}

/* Owner names print and parse back to the same name. */
static void fuzz_name(const ldns_rdf *name)
{
	char buf[ZC_DNS_MAX_NAME_TEXT];
	ldns_rdf *back = NULL;

	if (zc_name_to_str(name, buf, sizeof(buf)) != 0) {
		return;
	}
	fuzz_check(zc_name_from_str(buf, &back) == 0, "name text parses");
	fuzz_check(zc_name_cmp(name, back) == 0, "name round trip");
	fuzz_check(zc_name_is_at_or_below(name, back), "name at or below itself");
	ldns_rdf_deep_free(back);
}

/*
 * DS/CDS: "KEYTAG ALG TYPE HEX" parses back to the same rdata. Only for digests
 * of real-world size: ldns reads one token of at most LDNS_MAX_RDFLEN characters.
 */
static void fuzz_ds(const ldns_rr *rr)
{
	static char buf[4096], line[4096 + 64];
	ldns_rr *back = NULL;
	bool cds = ldns_rr_get_type(rr) == LDNS_RR_TYPE_CDS;

	(void)zc_ds_digest_type(rr);
	(void)zc_ds_key_tag(rr);
	(void)zc_cds_is_delete(rr);
	if (zc_ds_to_str(rr, buf, sizeof(buf)) != 0) {
		return;
	}
	snprintf(line, sizeof(line), "x.example. %s %s", cds ? "CDS" : "DS", buf);
	fuzz_check(zc_rr_from_str(line, 0, NULL, &back) == 0, "DS text parses");
	fuzz_check(zc_rdata_equal(rr, back), "DS round trip");
	ldns_rr_free(back);
}

/* DNSKEY/CDNSKEY: a computed DS matches its key. */
static void fuzz_key(const ldns_rr *rr)
{
	ldns_rr *ds = NULL;

	(void)zc_key_tag(rr);
	(void)zc_cdnskey_is_delete(rr);
	/* Truncated rdata is no key: not even equal to itself. */
	(void)zc_key_equal(rr, rr);
	if (zc_ds_from_key(rr, ZC_DIGEST_SHA256, &ds) != 0) {
		return;
	}
	fuzz_check(zc_key_equal(rr, rr), "a key equals itself");
	fuzz_check(zc_ds_matches_key(ds, rr), "DS from key matches the key");
	fuzz_check(zc_ds_key_tag(ds) == zc_key_tag(rr), "DS key tag");
	ldns_rr_free(ds);
}

/* DSYNC: parse, print, parse the print, same fields. */
static void fuzz_dsync(const ldns_rr *rr)
{
	struct zc_dsync d, d2;
	char buf[2 * ZC_DNS_MAX_NAME_TEXT + 64], line[sizeof(buf) + 32];
	ldns_rr *back = NULL;

	if (zc_dsync_parse(rr, &d) != 0) {
		return;
	}
	fuzz_check(zc_dsync_to_str(&d, buf, sizeof(buf)) == 0, "DSYNC prints");
	snprintf(line, sizeof(line), "x.example. DSYNC %s", buf);
	fuzz_check(zc_rr_from_str(line, 0, NULL, &back) == 0, "DSYNC text parses");
	fuzz_check(zc_dsync_parse(back, &d2) == 0, "DSYNC reparses");
	fuzz_check(d.rrtype == d2.rrtype && d.scheme == d2.scheme && d.port == d2.port &&
			   strcmp(d.target, d2.target) == 0,
		   "DSYNC round trip");
	ldns_rr_free(back);
}

/* Everything dns.h offers for one record; @keys (may be NULL) are DS targets. */
static void fuzz_exercise_rr(const ldns_rr *rr, const ldns_rr_list *keys)
{
	ldns_rr_type type = ldns_rr_get_type(rr);
	size_t nkeys = keys ? ldns_rr_list_rr_count(keys) : 0;

	fuzz_name(ldns_rr_owner(rr));
	(void)zc_rr_algorithm(rr);
	(void)zc_rdata_equal(rr, rr);
	switch (type) {
	case LDNS_RR_TYPE_DS:
	case LDNS_RR_TYPE_CDS:
		fuzz_ds(rr);
		for (size_t i = 0; i < nkeys && i < FUZZ_MAX_KEYS; i++) {
			(void)zc_ds_matches_key(rr, ldns_rr_list_rr(keys, i));
		}
		break;
	case LDNS_RR_TYPE_DNSKEY:
	case LDNS_RR_TYPE_CDNSKEY:
		fuzz_key(rr);
		break;
	default:
		if (type == ZC_RR_TYPE_DSYNC) {
			fuzz_dsync(rr);
		}
		break;
	}
}

/* RRset-level functions over a list: extraction, comparison, signatures. */
static void fuzz_exercise_list(const ldns_rr_list *rrs)
{
	size_t n = ldns_rr_list_rr_count(rrs);
	ldns_rr_list *keys, *copy;
	struct zc_sig_result res[4];
	size_t nres = 0;

	keys = zc_rrset_extract(rrs, NULL, LDNS_RR_TYPE_DNSKEY);
	for (size_t i = 0; i < n; i++) {
		fuzz_exercise_rr(ldns_rr_list_rr(rrs, i), keys);
	}
	(void)zc_rrset_delete_form(rrs);
	/* Not invariants: both say false when a canonical rdata cannot be made
	 * (over 65535 octets once ldns expanded compressed names). */
	(void)zc_rrset_equal(rrs, rrs);
	copy = ldns_rr_list_clone(rrs);
	if (copy) {
		zc_rrset_canonicalize(copy);
		(void)zc_rrset_equal(rrs, copy);
		ldns_rr_list_deep_free(copy);
	}
	/* The RRset of the first record that is not an RRSIG, with its RRSIGs. */
	for (size_t i = 0; i < n && keys; i++) {
		const ldns_rr *rr = ldns_rr_list_rr(rrs, i);
		ldns_rr_list *set, *sigs;

		if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_RRSIG) {
			continue;
		}
		set = zc_rrset_extract(rrs, ldns_rr_owner(rr), ldns_rr_get_type(rr));
		sigs = zc_rrsig_extract(rrs, ldns_rr_owner(rr), ldns_rr_get_type(rr));
		if (set && sigs && ldns_rr_list_rr_count(set) > 0) {
			(void)zc_rrsig_check(set, sigs, keys, FUZZ_NOW, res, 4, &nres);
		}
		ldns_rr_list_deep_free(sigs);
		ldns_rr_list_deep_free(set);
		break;
	}
	ldns_rr_list_deep_free(keys);
}

#endif
