/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for dns/: names, zone-text records (delete forms, DSYNC, RFC 3597),
 * RRset comparison, key identity, DS digests against the RFC 4034 §5.4, RFC 4509
 * §2.3 and RFC 6605 §6 vectors, RRSIG checks on signed fixtures and RFC 6605
 * signatures, and packet parsing. No network, fixed clocks.
 */
#include <ctype.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <zonecut/dns.h>

#include "dns/internal.h"

#ifndef ZC_TEST_DATA
#define ZC_TEST_DATA "tests/data"
#endif

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Fixed clocks (UTC). The fixtures are valid 2026-01-01 .. 2036-01-01. */
#define T_FIX_INCEPTION 1767225600  /* 2026-01-01 00:00:00 */
#define T_FIX_EXPIRATION 2082758400 /* 2036-01-01 00:00:00 */
#define T_INSIDE 1893456000	    /* 2030-01-01 */
#define T_BEFORE 1748736000	    /* 2025-06-01 */
#define T_AFTER 2114380800	    /* 2037-01-01 */
#define T_RFC6605 1282262400	    /* 2010-08-20, inside the RFC 6605 §6 windows */

/* --- helpers ------------------------------------------------------------ */

static ldns_rr *rr_new(const char *text)
{
	ldns_rr *rr = NULL;
	int r = zc_rr_from_str(text, 3600, NULL, &rr);

	if (r != 0) {
		fail_msg("zc_rr_from_str(\"%s\") = %d (%s)", text, r, zc_strerror(r));
	}
	return rr;
}

/* A list of records from zone text lines; NULL entries end the array. */
static ldns_rr_list *list_new(const char *const *texts)
{
	ldns_rr_list *l = ldns_rr_list_new();

	assert_non_null(l);
	for (size_t i = 0; texts[i]; i++) {
		assert_true(ldns_rr_list_push_rr(l, rr_new(texts[i])));
	}
	return l;
}

static ldns_rdf *name_new(const char *text)
{
	ldns_rdf *n = NULL;

	assert_int_equal(zc_name_from_str(text, &n), 0);
	return n;
}

/* Loads a fixture under tests/data/dns/: one record a line, ';' comments. */
static ldns_rr_list *zone_load(const char *file)
{
	char path[1024];
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	FILE *f;
	ldns_rr_list *l = ldns_rr_list_new();

	assert_non_null(l);
	snprintf(path, sizeof(path), "%s/dns/%s", ZC_TEST_DATA, file);
	f = fopen(path, "re");
	if (!f) {
		fail_msg("cannot open %s", path);
	}
	while ((n = getline(&line, &cap, f)) > 0) {
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r')) {
			line[--n] = '\0';
		}
		if (n == 0 || line[0] == ';') {
			continue;
		}
		assert_true(ldns_rr_list_push_rr(l, rr_new(line)));
	}
	free(line);
	fclose(f);
	return l;
}

static ldns_rr_list *extract(const ldns_rr_list *zone, const char *owner, ldns_rr_type type)
{
	ldns_rdf *o = name_new(owner);
	ldns_rr_list *l = zc_rrset_extract(zone, o, type);

	assert_non_null(l);
	ldns_rdf_deep_free(o);
	return l;
}

static ldns_rr_list *extract_sigs(const ldns_rr_list *zone, const char *owner, ldns_rr_type type)
{
	ldns_rdf *o = name_new(owner);
	ldns_rr_list *l = zc_rrsig_extract(zone, o, type);

	assert_non_null(l);
	ldns_rdf_deep_free(o);
	return l;
}

/* --- names -------------------------------------------------------------- */

static void test_name_from_str_table(void **state)
{
	static const struct {
		const char *in;
		int r;
		const char *out;
	} t[] = {
		{ "Example.COM", 0, "example.com." },
		{ "example.com.", 0, "example.com." },
		{ ".", 0, "." },
		{ "\\065Bc.example.", 0, "abc.example." },
		{ "a\\.b.example.", 0, "a\\.b.example." },
		{ "_dsboot.Child.example._signal.NS1.example.net", 0,
		  "_dsboot.child.example._signal.ns1.example.net." },
		{ "", ZC_EMALF, NULL },
		{ "a..b.", ZC_EMALF, NULL },
		{ "..", ZC_EMALF, NULL },
		/* 63 octets is the longest label (RFC 1035 §2.3.4), 64 is too long. */
		{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.x", 0,
		  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.x." },
		{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.x", ZC_EMALF,
		  NULL },
	};
	(void)state;

	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		ldns_rdf *n = NULL;
		char buf[ZC_DNS_MAX_NAME_TEXT];
		int r = zc_name_from_str(t[i].in, &n);

		if (r != t[i].r) {
			fail_msg("'%s': got %d, want %d", t[i].in, r, t[i].r);
		}
		if (r == 0) {
			assert_int_equal(zc_name_to_str(n, buf, sizeof(buf)), 0);
			assert_string_equal(buf, t[i].out);
			ldns_rdf_deep_free(n);
		} else {
			assert_null(n);
		}
	}
}

static void test_name_length_limit(void **state)
{
	/* 4 x 63-octet labels = 256 octets with the root: one too many. A
	 * relative name that fits ldns but not after the root label is added. */
	char text[300], buf[ZC_DNS_MAX_NAME_TEXT];
	ldns_rdf *n = NULL;
	size_t pos = 0;
	(void)state;

	for (int l = 0; l < 4; l++) {
		memset(text + pos, 'a', 63);
		pos += 63;
		text[pos++] = '.';
	}
	text[pos - 1] = '\0'; /* relative: 4*64 = 256 octets once absolute */
	assert_int_equal(zc_name_from_str(text, &n), ZC_EMALF);
	/* 3 labels of 63 + one of 61 = 253 + root: the longest absolute name. */
	text[63 * 3 + 3 + 61] = '\0';
	assert_int_equal(zc_name_from_str(text, &n), 0);
	assert_int_equal(ldns_rdf_size(n), 255);
	assert_int_equal(zc_name_to_str(n, buf, sizeof(buf)), 0);
	assert_int_equal(strlen(buf), 253 + 1);
	ldns_rdf_deep_free(n);
}

static void test_name_errors(void **state)
{
	ldns_rdf *n = name_new("example.com");
	ldns_rdf *notname = ldns_native2rdf_int16(LDNS_RDF_TYPE_INT16, 7);
	/* ldns makes every name it parses absolute; build a relative one. */
	ldns_rdf *relative = ldns_dname_new_frm_data(12, "\003rel\007example");
	char small[8], buf[64];
	(void)state;

	assert_int_equal(zc_name_from_str(NULL, &n), -EINVAL);
	assert_int_equal(zc_name_from_str("x.", NULL), -EINVAL);
	assert_int_equal(zc_name_to_str(n, NULL, 10), -EINVAL);
	assert_int_equal(zc_name_to_str(NULL, buf, sizeof(buf)), -EINVAL);
	assert_int_equal(zc_name_to_str(notname, buf, sizeof(buf)), -EINVAL);
	assert_int_equal(zc_name_to_str(n, small, sizeof(small)), ZC_ELIMIT);
	assert_int_equal(zc_name_to_str(n, buf, 12), ZC_ELIMIT); /* needs 13 with NUL */
	assert_int_equal(zc_name_to_str(n, buf, 13), 0);
	/* A relative ldns name prints absolute. */
	assert_non_null(relative);
	assert_int_equal(zc_name_to_str(relative, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "rel.example.");
	/* ... but never counts as an ancestor or sorts as a name. */
	assert_false(zc_name_is_at_or_below(n, relative));
	assert_false(zc_name_is_at_or_below(NULL, n));
	assert_false(zc_name_is_at_or_below(notname, n));
	assert_true(zc_name_cmp(NULL, n) < 0);
	assert_true(zc_name_cmp(n, notname) > 0);
	assert_int_equal(zc_name_cmp(NULL, relative), 0);
	ldns_rdf_deep_free(relative);
	ldns_rdf_deep_free(notname);
	ldns_rdf_deep_free(n);
}

static void test_name_to_str_escapes(void **state)
{
	/* Raw names whose octets need escaping; each text parses back to them. */
	static const struct {
		const char *wire;
		size_t len;
		const char *text;
	} t[] = {
		{ "\003a\"b\000", 5, "a\\\"b." },
		{ "\003a.b\000", 5, "a\\.b." },
		{ "\004(;)\\\000", 6, "\\(\\;\\)\\\\." },
		{ "\003A B\007EXAMPLE\000", 13, "a\\032b.example." },
		{ "\002\000\377\000", 4, "\\000\\255." },
		{ "\001@\001$\000", 5, "@.$." },
		{ "\000", 1, "." },
	};
	(void)state;

	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		ldns_rdf *raw = ldns_dname_new_frm_data((uint16_t)t[i].len, t[i].wire), *back;
		char buf[ZC_DNS_MAX_NAME_TEXT];

		assert_non_null(raw);
		assert_int_equal(zc_name_to_str(raw, buf, sizeof(buf)), 0);
		if (strcmp(buf, t[i].text) != 0) {
			fail_msg("case %zu: got '%s', want '%s'", i, buf, t[i].text);
		}
		back = name_new(buf);
		assert_int_equal(zc_name_cmp(raw, back), 0);
		ldns_rdf_deep_free(back);
		ldns_rdf_deep_free(raw);
	}
}

static void test_name_at_or_below_table(void **state)
{
	static const struct {
		const char *name, *parent;
		bool below;
	} t[] = {
		{ "example.com.", "example.com.", true },
		{ "EXAMPLE.com.", "example.COM.", true },
		{ "www.example.com.", "example.com.", true },
		{ "a.b.c.example.com.", "Example.Com.", true },
		{ "example.com.", ".", true },
		{ ".", ".", true },
		{ "example.com.", "www.example.com.", false },
		{ "badexample.com.", "example.com.", false },
		{ "example.net.", "example.com.", false },
		{ ".", "com.", false },
		/* a label of the name that looks like the parent's wire form */
		{ "a\\007example.com.", "example.com.", false },
		{ "x.a\\007example.com.", "a\\007example.com.", true },
		/* case folds letters only: '@' (0x40) is not '`' (0x60) */
		{ "a@.com.", "a`.com.", false },
		{ "example.com.", "example.co.", false },
	};
	(void)state;

	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		ldns_rdf *n = name_new(t[i].name), *p = name_new(t[i].parent);

		if (zc_name_is_at_or_below(n, p) != t[i].below) {
			fail_msg("%s below %s: want %d", t[i].name, t[i].parent, t[i].below);
		}
		/* equal: both ways below, and zc_name_equal agrees with zc_name_cmp */
		assert_int_equal(zc_name_equal(n, p), zc_name_cmp(n, p) == 0);
		assert_int_equal(zc_name_equal(n, p),
				 zc_name_is_at_or_below(n, p) && zc_name_is_at_or_below(p, n));
		ldns_rdf_deep_free(n);
		ldns_rdf_deep_free(p);
	}
}

static void test_name_cmp_rfc4034_order(void **state)
{
	/* RFC 4034 §6.1: these names are in canonical order. */
	static const char *const order[] = {
		"example.",	    "a.example.",      "yljkjljk.a.example.",
		"Z.a.example.",	    "zABC.a.EXAMPLE.", "z.example.",
		"\\001.z.example.", "*.z.example.",    "\\200.z.example.",
	};
	ldns_rdf *n[ARRAY_SIZE(order)];
	(void)state;

	for (size_t i = 0; i < ARRAY_SIZE(order); i++) {
		ldns_rdf *raw = NULL;

		/* Keep the case: zc_name_cmp() must fold it itself. */
		assert_int_equal(ldns_str2rdf_dname(&raw, order[i]), LDNS_STATUS_OK);
		n[i] = raw;
	}
	for (size_t i = 0; i < ARRAY_SIZE(order); i++) {
		for (size_t j = 0; j < ARRAY_SIZE(order); j++) {
			int c = zc_name_cmp(n[i], n[j]);

			if ((i < j && c >= 0) || (i == j && c != 0) || (i > j && c <= 0)) {
				fail_msg("cmp(%s, %s) = %d", order[i], order[j], c);
			}
		}
	}
	for (size_t i = 0; i < ARRAY_SIZE(order); i++) {
		ldns_rdf_deep_free(n[i]);
	}
}

/* --- zone text ---------------------------------------------------------- */

static void test_rr_from_str_accepts(void **state)
{
	static const struct {
		const char *text;
		ldns_rr_type type;
		uint32_t ttl;
		const char *owner;
	} t[] = {
		/* RFC 8078 §4 delete forms: algorithm 0, digest type 0. */
		{ "example.com. CDS 0 0 0 00", LDNS_RR_TYPE_CDS, 3600, "example.com." },
		{ "example.com. CDNSKEY 0 3 0 AA==", LDNS_RR_TYPE_CDNSKEY, 3600, "example.com." },
		{ "example.com. 300 IN CDS 0 0 0 00", LDNS_RR_TYPE_CDS, 300, "example.com." },
		{ "Example.COM. 86400 IN DS 60485 5 1 ( 2BB183AF5F22588179A53B0A\n"
		  "\t98631FAD1A292118 ) ; RFC 4034 5.4",
		  LDNS_RR_TYPE_DS, 86400, "example.com." },
		{ "_dsync.example. IN DSYNC CDS NOTIFY 5359 scanner.example.", ZC_RR_TYPE_DSYNC,
		  3600, "_dsync.example." },
		{ "*._dsync.example. 60 dsync csync 1 53 Scanner.Example.", ZC_RR_TYPE_DSYNC, 60,
		  "*._dsync.example." },
		{ "x.example. DSYNC ( CDS NOTIFY\n 5359 scanner.example. )", ZC_RR_TYPE_DSYNC, 3600,
		  "x.example." },
		{ "x.example. TYPE66 \\# 22 003b0114ef 07 7363616e6e6572 076578616d706c6500",
		  ZC_RR_TYPE_DSYNC, 3600, "x.example." },
		{ "x.example. DSYNC \\# 22 003b0114ef077363616e6e6572076578616d706c6500",
		  ZC_RR_TYPE_DSYNC, 3600, "x.example." },
		{ "x.example. TYPE65280 \\# 0", (ldns_rr_type)65280, 3600, "x.example." },
		{ "x.example. TYPE53 \\# 4 03010100", (ldns_rr_type)53, 3600, "x.example." },
		{ "x.example. SMIMEA 3 1 1 ABCDEF", (ldns_rr_type)53, 3600, "x.example." },
		{ "x.example. CDS \\# 5 0000000000", LDNS_RR_TYPE_CDS, 3600, "x.example." },
		{ "\tCDS 0 0 0 00", LDNS_RR_TYPE_CDS, 3600, "." },
		{ "rel CDS 0 0 0 00", LDNS_RR_TYPE_CDS, 3600, "rel." },
	};
	(void)state;

	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		ldns_rr *rr = rr_new(t[i].text);
		char buf[ZC_DNS_MAX_NAME_TEXT];

		assert_int_equal(ldns_rr_get_type(rr), t[i].type);
		assert_int_equal(ldns_rr_ttl(rr), t[i].ttl);
		assert_int_equal(zc_name_to_str(ldns_rr_owner(rr), buf, sizeof(buf)), 0);
		assert_string_equal(buf, t[i].owner);
		ldns_rr_free(rr);
	}
}

static void test_rr_from_str_rejects(void **state)
{
	static const char *const bad[] = {
		"garbage",
		"",
		"example. FOO 1 2 3",
		"example. FOO \\# 0",
		"example. CDS 0 0 0 0", /* odd hex: ldns would pad it to 00 */
		"example. CDS 0 0 0 000",
		"example. CDS 0 0 0",
		"example. CDS 0 0 0 0G",
		"example. DS 1 2 3 ( AB CD E )",
		"example. DNSKEY 257 3 13",
		"example. TYPE66 \\# 2 zzzz", /* ldns would take it */
		"example. TYPE66 \\# 3 0102",
		"example. TYPE66 \\# 1 0102",
		"example. TYPE66 \\# 70000 00",
		"example. TYPE66 \\# x",
		"example. TYPE66 \\#",
		"example. TYPE70000 \\# 1 00",
		"example. TYPE0 \\# 0",
		"example. TYPE \\# 0",
		"example. TYPE6x \\# 0",
		"example. OPT \\# 0",
		"example. ANY \\# 0",
		"example. TYPE251 \\# 0",
		"example. DS \\# 2 0000",      /* generic form with fields missing */
		"example. A \\# 5 c000020100", /* ... with an octet ldns would drop */
		"example. CDS \\# 4 00000000", /* ... and with an empty digest */
		"example. TYPE66 \\# 0",
		"example. TYPE66 \\# 5 003b0114e9", /* DSYNC without a target */
		"example. DSYNC CDS NOTIFY 99999 x.example.",
		"example. DSYNC CDS FOO 5359 x.example.",
		"example. DSYNC CDS 256 5359 x.example.",
		"example. DSYNC NOPE NOTIFY 5359 x.example.",
		"example. DSYNC CDS NOTIFY 5359",
		"example. DSYNC CDS NOTIFY 5359 x.example. extra",
		"example. DSYNC CDS NOTIFY -1 x.example.",
		"example. DSYNC CDS NOTIFY 5359 a..b.",
		"example. NS \"unterminated",
		"example. NS a\\",
		"example. A 192.0.2.1 extra",
	};
	(void)state;

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		ldns_rr *rr = NULL;
		int r = zc_rr_from_str(bad[i], 3600, NULL, &rr);

		if (r != ZC_EMALF) {
			fail_msg("\"%s\": got %d, want ZC_EMALF", bad[i], r);
		}
		assert_null(rr);
	}
}

static void test_rr_from_str_origin_ttl_limits(void **state)
{
	ldns_rdf *origin = name_new("Zone.Example.");
	ldns_rdf *relative = ldns_dname_new_frm_data(4, "\003rel");
	ldns_rr *rr = NULL;
	struct zc_dsync d;
	char buf[ZC_DNS_MAX_NAME_TEXT], *big;
	(void)state;

	assert_int_equal(zc_rr_from_str(NULL, 0, NULL, &rr), -EINVAL);
	assert_int_equal(zc_rr_from_str("x. CDS 0 0 0 00", 0, NULL, NULL), -EINVAL);
	assert_int_equal(zc_rr_from_str("x. CDS 0 0 0 00", 0, relative, &rr), -EINVAL);

	/* A missing TTL becomes the default, 0 included (ldns would say 3600). */
	assert_int_equal(zc_rr_from_str("x. CDS 0 0 0 00", 0, NULL, &rr), 0);
	assert_int_equal(ldns_rr_ttl(rr), 0);
	ldns_rr_free(rr);
	assert_int_equal(zc_rr_from_str("x. 0 CDS 0 0 0 00", 77, NULL, &rr), 0);
	assert_int_equal(ldns_rr_ttl(rr), 0);
	ldns_rr_free(rr);

	/* Relative owner and target names are completed with the origin. */
	assert_int_equal(zc_rr_from_str("_dsync DSYNC CDS NOTIFY 5359 scanner", 300, origin, &rr),
			 0);
	assert_int_equal(zc_name_to_str(ldns_rr_owner(rr), buf, sizeof(buf)), 0);
	assert_string_equal(buf, "_dsync.zone.example.");
	assert_int_equal(zc_dsync_parse(rr, &d), 0);
	assert_string_equal(d.target, "scanner.zone.example.");
	ldns_rr_free(rr);
	assert_int_equal(zc_rr_from_str("@ DSYNC CDS NOTIFY 5359 @", 300, origin, &rr), 0);
	assert_int_equal(zc_dsync_parse(rr, &d), 0);
	assert_string_equal(d.target, "zone.example.");
	ldns_rr_free(rr);

	/* Over-long text. */
	big = malloc(ZC_DNS_MAX_RR_TEXT + 2);
	assert_non_null(big);
	memset(big, 'a', ZC_DNS_MAX_RR_TEXT + 1);
	big[ZC_DNS_MAX_RR_TEXT + 1] = '\0';
	assert_int_equal(zc_rr_from_str(big, 0, NULL, &rr), ZC_EMALF);
	free(big);
	ldns_rdf_deep_free(relative);
	ldns_rdf_deep_free(origin);
}

/* --- DSYNC -------------------------------------------------------------- */

static void test_dsync_round_trip(void **state)
{
	static const struct {
		const char *text;
		uint16_t rrtype;
		uint8_t scheme;
		uint16_t port;
		const char *target, *str;
	} t[] = {
		{ "_dsync.example. DSYNC CDS NOTIFY 5359 scanner.example.", LDNS_RR_TYPE_CDS, 1,
		  5359, "scanner.example.", "CDS NOTIFY 5359 scanner.example." },
		{ "_dsync.example. DSYNC CSYNC NOTIFY 53 NS.Example.", LDNS_RR_TYPE_CSYNC, 1, 53,
		  "ns.example.", "CSYNC NOTIFY 53 ns.example." },
		{ "_dsync.example. DSYNC TYPE59 1 0 .", LDNS_RR_TYPE_CDS, 1, 0, ".",
		  "CDS NOTIFY 0 ." },
		{ "_dsync.example. DSYNC TYPE65000 200 65535 t.example.", 65000, 200, 65535,
		  "t.example.", "TYPE65000 200 65535 t.example." },
	};
	(void)state;

	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		ldns_rr *rr = rr_new(t[i].text), *back = NULL;
		struct zc_dsync d;
		char buf[2 * ZC_DNS_MAX_NAME_TEXT];

		assert_int_equal(zc_dsync_parse(rr, &d), 0);
		assert_int_equal(d.rrtype, t[i].rrtype);
		assert_int_equal(d.scheme, t[i].scheme);
		assert_int_equal(d.port, t[i].port);
		assert_string_equal(d.target, t[i].target);
		assert_int_equal(zc_dsync_to_str(&d, buf, sizeof(buf)), 0);
		assert_string_equal(buf, t[i].str);
		/* Back to a record: same rdata (the target was lower-cased). */
		assert_int_equal(zc_dsync_to_rr(ldns_rr_owner(rr), 300, &d, &back), 0);
		assert_int_equal(ldns_rr_get_type(back), ZC_RR_TYPE_DSYNC);
		{
			char line[4 * ZC_DNS_MAX_NAME_TEXT];
			ldns_rr *again;

			snprintf(line, sizeof(line), "_dsync.example. DSYNC %s", buf);
			again = rr_new(line);
			assert_true(zc_rdata_equal(back, again));
			ldns_rr_free(again);
		}
		ldns_rr_free(back);
		ldns_rr_free(rr);
	}
}

static void test_dsync_generic_form(void **state)
{
	ldns_rr *mn = rr_new("x.example. DSYNC CDS NOTIFY 5359 scanner.example.");
	ldns_rr *gen =
		rr_new("x.example. TYPE66 \\# 22 003B0114EF077363616E6E6572076578616D706C6500");
	char *text;
	(void)state;

	assert_true(zc_rdata_equal(mn, gen));
	/* ldns prints type 66 in the RFC 3597 form. */
	text = ldns_rr2str(mn);
	assert_non_null(text);
	assert_non_null(
		strstr(text, "TYPE66\t\\# 22 003b0114ef077363616e6e6572076578616d706c6500"));
	free(text);
	ldns_rr_free(gen);
	ldns_rr_free(mn);
}

/* A type-66 record with the given raw rdata, built without our parser. */
static ldns_rr *dsync_raw(const uint8_t *rdata, size_t len)
{
	ldns_rr *rr = ldns_rr_new();

	assert_non_null(rr);
	ldns_rr_set_owner(rr, ldns_dname_new_frm_str("x.example."));
	ldns_rr_set_type(rr, ZC_RR_TYPE_DSYNC);
	ldns_rr_set_class(rr, LDNS_RR_CLASS_IN);
	if (len > 0) {
		assert_true(ldns_rr_push_rdf(
			rr, ldns_rdf_new_frm_data(LDNS_RDF_TYPE_UNKNOWN, len, rdata)));
	}
	return rr;
}

static void test_dsync_malformed(void **state)
{
	static const uint8_t good[] = { 0, 59, 1, 0x14, 0xef, 1, 'x', 0 };
	static const uint8_t nameless[] = { 0, 59, 1, 0x14, 0xef };
	static const uint8_t pointer[] = { 0, 59, 1, 0x14, 0xef, 0xc0, 0x0c };
	static const uint8_t trailing[] = { 0, 59, 1, 0x14, 0xef, 1, 'x', 0, 0 };
	static const uint8_t relative[] = { 0, 59, 1, 0x14, 0xef, 1, 'x' };
	static const uint8_t cut_label[] = { 0, 59, 1, 0x14, 0xef, 5, 'x', 0 };
	static const struct {
		const uint8_t *data;
		size_t len;
		int r;
	} t[] = {
		{ good, sizeof(good), 0 },
		{ good, 0, ZC_EMALF },
		{ good, 1, ZC_EMALF },
		{ good, 4, ZC_EMALF },
		{ nameless, sizeof(nameless), ZC_EMALF },
		{ pointer, sizeof(pointer), ZC_EMALF },
		{ trailing, sizeof(trailing), ZC_EMALF },
		{ relative, sizeof(relative), ZC_EMALF },
		{ cut_label, sizeof(cut_label), ZC_EMALF },
	};
	struct zc_dsync d;
	ldns_rr *a = rr_new("x.example. A 192.0.2.1");
	char buf[64];
	(void)state;

	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		ldns_rr *rr = dsync_raw(t[i].data, t[i].len);

		if (zc_dsync_parse(rr, &d) != t[i].r) {
			fail_msg("case %zu: want %d", i, t[i].r);
		}
		ldns_rr_free(rr);
	}
	assert_int_equal(zc_dsync_parse(a, &d), ZC_EMALF);
	assert_int_equal(zc_dsync_parse(NULL, &d), -EINVAL);
	assert_int_equal(zc_dsync_parse(a, NULL), -EINVAL);

	memset(&d, 0, sizeof(d));
	d.rrtype = LDNS_RR_TYPE_CDS;
	d.scheme = 1;
	d.port = 5359;
	assert_int_equal(zc_dsync_to_str(&d, buf, sizeof(buf)), -EINVAL); /* empty target */
	snprintf(d.target, sizeof(d.target), "no-final-dot");
	assert_int_equal(zc_dsync_to_str(&d, buf, sizeof(buf)), -EINVAL);
	snprintf(d.target, sizeof(d.target), "scanner.example.");
	assert_int_equal(zc_dsync_to_str(&d, buf, 10), ZC_ELIMIT);
	assert_int_equal(zc_dsync_to_str(NULL, buf, sizeof(buf)), -EINVAL);
	assert_int_equal(zc_dsync_to_str(&d, NULL, 0), -EINVAL);
	memset(d.target, 'a', sizeof(d.target)); /* unterminated */
	assert_int_equal(zc_dsync_to_str(&d, buf, sizeof(buf)), -EINVAL);
	ldns_rr_free(a);
}

/* --- DS and keys --------------------------------------------------------- */

/* RFC 4034 §5.4 (its key, key tag 60485) with RFC 4509 §2.3, and RFC 6605 §6. */
#define RFC4034_KEY                                                                                \
	"dskey.example.com. 86400 IN DNSKEY 256 3 5 ( AQOeiiR0GOMYkDshWoSKz9Xz\n"                  \
	"    fwJr1AYtsmx3TGkJaNXVbfi/ 2pHm822aJ5iI9BMzNXxeYCmZ DRD99WYwYqUSdjMmmAphXdvx\n"         \
	"    egXd/M5+X7OrzKBaMbCVdFLU Uh6DhweJBjEVv5f2wwjM9Xzc nOf+EPbtG9DMBmADjFDc2w/r\n"         \
	"    ljwvFw== ) ;  key id = 60485"
#define RFC6605_P256_KEY                                                                           \
	"example.net. 3600 IN DNSKEY 257 3 13 ( GojIhhXUN/u4v54ZQqGSnyhWJwaubCvTmeexv7bR6edb\n"    \
	"    krSqQpF64cYbcB7wNcP+e+MAnLr+Wi9xMWyQLc8NAA== )"
#define RFC6605_P384_KEY                                                                           \
	"example.net. 3600 IN DNSKEY 257 3 14 (\n"                                                 \
	"    xKYaNhWdGOfJ+nPrL8/arkwf2EY3MDJ+SErKivBVSum1w/eg\n"                                   \
	"    sXvSADtNJhyem5RCOpgQ6K8X1DRSEkrbYQ+OB+v8/uX45NBw\n"                                   \
	"    Y8rp65F6Glur8I/mlVNgF6W/qTI37m40 )"

static const struct {
	const char *name, *key;
	enum zc_digest digest;
	uint16_t tag;
	const char *ds;
} ds_vectors[] = {
	{ "RFC 4034 5.4", RFC4034_KEY, ZC_DIGEST_SHA1, 60485,
	  "60485 5 1 2BB183AF5F22588179A53B0A98631FAD1A292118" },
	{ "RFC 4509 2.3", RFC4034_KEY, ZC_DIGEST_SHA256, 60485,
	  "60485 5 2 D4B7D520E7BB5F0F67674A0CCEB1E3E0614B93C4F9E99B8383F6A1E4469DA50A" },
	{ "RFC 6605 6.1", RFC6605_P256_KEY, ZC_DIGEST_SHA256, 55648,
	  "55648 13 2 B4C8C1FE2E7477127B27115656AD6256F424625BF5C1E2770CE6D6E37DF61D17" },
	{ "RFC 6605 6.2", RFC6605_P384_KEY, ZC_DIGEST_SHA384, 10771,
	  "10771 14 4 72D7B62976CE06438E9C0BF319013CF801F09ECC84B8D7E9495F27E305C6A9B0"
	  "563A9B5F4D288405C3008A946DF983D6" },
};

static void test_ds_rfc_vectors(void **state)
{
	(void)state;

	for (size_t i = 0; i < ARRAY_SIZE(ds_vectors); i++) {
		ldns_rr *key = rr_new(ds_vectors[i].key), *ds = NULL, *published;
		char buf[256], line[512];

		assert_int_equal(zc_key_tag(key), ds_vectors[i].tag);
		assert_int_equal(zc_ds_from_key(key, ds_vectors[i].digest, &ds), 0);
		assert_int_equal(ldns_rr_get_type(ds), LDNS_RR_TYPE_DS);
		assert_int_equal(ldns_rr_ttl(ds), ldns_rr_ttl(key));
		assert_int_equal(zc_ds_to_str(ds, buf, sizeof(buf)), 0);
		if (strcmp(buf, ds_vectors[i].ds) != 0) {
			fail_msg("%s: got %s", ds_vectors[i].name, buf);
		}
		assert_true(zc_ds_matches_key(ds, key));
		assert_int_equal(zc_ds_key_tag(ds), ds_vectors[i].tag);
		assert_int_equal(zc_ds_digest_type(ds), ds_vectors[i].digest);
		assert_int_equal(zc_rr_algorithm(ds), zc_rr_algorithm(key));
		{
			/* The same DS with its rdata as one field (not the four that
			 * ldns parses): read from the rdata as a whole. */
			ldns_rr *one = ldns_rr_new();
			uint8_t wire[128];
			size_t n = 0;
			char buf2[256];

			for (size_t f = 0; f < ldns_rr_rd_count(ds); f++) {
				const ldns_rdf *rdf = ldns_rr_rdf(ds, f);

				assert_true(n + ldns_rdf_size(rdf) <= sizeof(wire));
				memcpy(wire + n, ldns_rdf_data(rdf), ldns_rdf_size(rdf));
				n += ldns_rdf_size(rdf);
			}
			ldns_rr_set_owner(one, ldns_rdf_clone(ldns_rr_owner(ds)));
			ldns_rr_set_type(one, LDNS_RR_TYPE_DS);
			ldns_rr_push_rdf(one, ldns_rdf_new_frm_data(LDNS_RDF_TYPE_UNKNOWN, n, wire));
			assert_int_equal(zc_ds_to_str(one, buf2, sizeof(buf2)), 0);
			assert_string_equal(buf2, buf);
			assert_true(zc_ds_matches_key(one, key));
			assert_int_equal(zc_ds_key_tag(one), ds_vectors[i].tag);
			ldns_rr_free(one);
		}

		/* The published record, as CDS with the RFC's lower-case digest. */
		snprintf(line, sizeof(line), "%s 3600 IN CDS %s", "Example.", ds_vectors[i].ds);
		for (char *p = line; *p; p++) {
			*p = (char)tolower((unsigned char)*p);
		}
		published = rr_new(line);
		assert_true(zc_rdata_equal(published, ds));
		assert_true(zc_ds_matches_key(published, key));
		ldns_rr_free(published);
		ldns_rr_free(ds);
		ldns_rr_free(key);
	}
}

static void test_ds_owner_case_and_cdnskey(void **state)
{
	ldns_rr *key = rr_new(RFC4034_KEY);
	ldns_rr *upper =
		rr_new("DSKEY.Example.COM. 86400 IN CDNSKEY 257 3 5 AQOeiiR0GOMYkDshWoSKz9Xz"
		       "fwJr1AYtsmx3TGkJaNXVbfi/2pHm822aJ5iI9BMzNXxeYCmZDRD99WYwYqUSdjMmmAphX"
		       "dvxegXd/M5+X7OrzKBaMbCVdFLUUh6DhweJBjEVv5f2wwjM9XzcnOf+EPbtG9DMBmADjF"
		       "Dc2w/rljwvFw==");
	ldns_rr *ds = rr_new("dskey.example.com. DS 60485 5 2 D4B7D520E7BB5F0F67674A0CCEB1E3E0614B9"
			     "3C4F9E99B8383F6A1E4469DA50A");
	ldns_rr *other_owner =
		rr_new("other.example.com. DNSKEY 256 3 5 AQOeiiR0GOMYkDshWoSKz9Xz"
		       "fwJr1AYtsmx3TGkJaNXVbfi/2pHm822aJ5iI9BMzNXxeYCmZDRD99WYwYqUSdjMm"
		       "mAphXdvxegXd/M5+X7OrzKBaMbCVdFLUUh6DhweJBjEVv5f2wwjM9XzcnOf+EPbtG"
		       "9DMBmADjFDc2w/rljwvFw==");
	ldns_rr *wrong =
		rr_new("dskey.example.com. DS 60485 5 2 D4B7D520E7BB5F0F67674A0CCEB1E3E0614B"
		       "93C4F9E99B8383F6A1E4469DA50B");
	ldns_rr *alg =
		rr_new("dskey.example.com. DS 60485 8 2 D4B7D520E7BB5F0F67674A0CCEB1E3E0614B9"
		       "3C4F9E99B8383F6A1E4469DA50A");
	ldns_rr *tag =
		rr_new("dskey.example.com. DS 60486 5 2 D4B7D520E7BB5F0F67674A0CCEB1E3E0614B9"
		       "3C4F9E99B8383F6A1E4469DA50A");
	ldns_rr *gost =
		rr_new("dskey.example.com. DS 60485 5 3 D4B7D520E7BB5F0F67674A0CCEB1E3E0614B"
		       "93C4F9E99B8383F6A1E4469DA50A");
	ldns_rr *from_upper = NULL;
	(void)state;

	/* The digest covers the lower-cased owner (RFC 4034 §5.1.4, §6.2), and
	 * flags count for the tag and digest: the KSK-flagged CDNSKEY differs. */
	assert_true(zc_ds_matches_key(ds, key));
	assert_false(zc_ds_matches_key(ds, upper));
	assert_true(zc_key_equal(key, upper));
	assert_int_equal(zc_ds_from_key(upper, ZC_DIGEST_SHA256, &from_upper), 0);
	assert_true(zc_ds_matches_key(from_upper, upper));
	assert_int_equal(zc_key_tag(upper), zc_ds_key_tag(from_upper));
	assert_int_equal(zc_key_tag(upper), 60485 + 1); /* one more flag bit, one more */
	/* Another owner, a wrong digest, algorithm, tag; GOST unsupported. */
	assert_false(zc_ds_matches_key(ds, other_owner));
	assert_false(zc_ds_matches_key(wrong, key));
	assert_false(zc_ds_matches_key(alg, key));
	assert_false(zc_ds_matches_key(tag, key));
	assert_false(zc_ds_matches_key(gost, key));
	assert_false(zc_ds_matches_key(key, ds));
	assert_false(zc_ds_matches_key(NULL, key));
	ldns_rr_free(from_upper);
	ldns_rr_free(gost);
	ldns_rr_free(tag);
	ldns_rr_free(alg);
	ldns_rr_free(wrong);
	ldns_rr_free(other_owner);
	ldns_rr_free(ds);
	ldns_rr_free(upper);
	ldns_rr_free(key);
}

static void test_ds_errors(void **state)
{
	ldns_rr *key = rr_new(RFC4034_KEY);
	ldns_rr *a = rr_new("x.example. A 192.0.2.1");
	ldns_rr *del = rr_new("x.example. CDNSKEY 0 3 0 AA==");
	ldns_rr *cds_del = rr_new("x.example. CDS 0 0 0 00");
	ldns_rr *ds = NULL;
	char buf[128], small[20];
	(void)state;

	assert_int_equal(zc_ds_from_key(key, ZC_DIGEST_GOST, &ds), ZC_ENOTSUP);
	assert_int_equal(zc_ds_from_key(key, (enum zc_digest)99, &ds), ZC_ENOTSUP);
	assert_int_equal(zc_ds_from_key(a, ZC_DIGEST_SHA256, &ds), ZC_EMALF);
	assert_int_equal(zc_ds_from_key(del, ZC_DIGEST_SHA256, &ds), ZC_EMALF);
	assert_int_equal(zc_ds_from_key(NULL, ZC_DIGEST_SHA256, &ds), -EINVAL);
	assert_int_equal(zc_ds_from_key(key, ZC_DIGEST_SHA256, NULL), -EINVAL);
	assert_null(ds);
	assert_int_equal(zc_ds_from_key(key, ZC_DIGEST_SHA1, &ds), 0);
	assert_int_equal(zc_ds_to_str(ds, small, sizeof(small)), ZC_ELIMIT);
	assert_int_equal(zc_ds_to_str(ds, buf, strlen(ds_vectors[0].ds)), ZC_ELIMIT);
	assert_int_equal(zc_ds_to_str(ds, buf, strlen(ds_vectors[0].ds) + 1), 0);
	assert_int_equal(zc_ds_to_str(ds, NULL, 10), -EINVAL);
	assert_int_equal(zc_ds_to_str(a, buf, sizeof(buf)), -EINVAL);
	assert_int_equal(zc_ds_to_str(key, buf, sizeof(buf)), -EINVAL);
	assert_int_equal(zc_ds_to_str(cds_del, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "0 0 0 00");
	/* Delete forms never match a key. */
	assert_false(zc_ds_matches_key(cds_del, del));
	assert_false(zc_ds_matches_key(cds_del, key));
	/* Accessors on the wrong types. */
	assert_int_equal(zc_key_tag(a), 0);
	assert_int_equal(zc_key_tag(ds), 0);
	assert_int_equal(zc_key_tag(NULL), 0);
	assert_int_equal(zc_rr_algorithm(a), 0);
	assert_int_equal(zc_rr_algorithm(NULL), 0);
	assert_int_equal(zc_ds_digest_type(key), 0);
	assert_int_equal(zc_ds_key_tag(a), 0);
	ldns_rr_free(ds);
	ldns_rr_free(cds_del);
	ldns_rr_free(del);
	ldns_rr_free(a);
	ldns_rr_free(key);
}

static void test_key_identity(void **state)
{
	ldns_rr *zsk = rr_new(RFC6605_P256_KEY);
	ldns_rr *ksk = rr_new(RFC6605_P256_KEY);
	ldns_rr *cdnskey =
		rr_new("other.example. CDNSKEY 385 3 13 GojIhhXUN/u4v54ZQqGSnyhWJwaubCvTme"
		       "exv7bR6edbkrSqQpF64cYbcB7wNcP+e+MAnLr+Wi9xMWyQLc8NAA==");
	ldns_rr *other_alg = rr_new("example.net. DNSKEY 257 3 8 GojIhhXUN/u4v54ZQqGSnyhWJwaubCvTme"
				    "exv7bR6edbkrSqQpF64cYbcB7wNcP+e+MAnLr+Wi9xMWyQLc8NAA==");
	ldns_rr *p384 = rr_new(RFC6605_P384_KEY);
	ldns_rr *twin,
		*ds = rr_new("example.net. DS 55648 13 2 B4C8C1FE2E7477127B27115656AD6256F424625"
			     "BF5C1E2770CE6D6E37DF61D17");
	ldns_rdf *pk;
	uint8_t *b, tmp;
	size_t j;
	(void)state;

	/* Same key, flags 256 vs 257 vs 385 (REVOKE), DNSKEY vs CDNSKEY: equal. */
	ldns_rdf_data(ldns_rr_rdf(zsk, 0))[1] = 0; /* flags 257 -> 256 */
	assert_true(zc_key_equal(zsk, ksk));
	assert_true(zc_key_equal(ksk, cdnskey));
	assert_int_not_equal(zc_key_tag(zsk), zc_key_tag(ksk));
	assert_false(zc_key_equal(ksk, other_alg));
	assert_false(zc_key_equal(ksk, p384));
	assert_false(zc_key_equal(ksk, ds));
	assert_false(zc_key_equal(NULL, ksk));

	/* A different key with the same tag: swap two octets at even offsets of
	 * the rdata (the high octets of two 16-bit words) and the RFC 4034
	 * Appendix B sum stays the same. */
	twin = ldns_rr_clone(ksk);
	assert_non_null(twin);
	pk = ldns_rr_rdf(twin, 3);
	b = ldns_rdf_data(pk);
	for (j = 2; j < ldns_rdf_size(pk) && b[j] == b[0]; j += 2) {
	}
	assert_true(j < ldns_rdf_size(pk));
	tmp = b[0];
	b[0] = b[j];
	b[j] = tmp;
	assert_int_equal(zc_key_tag(twin), zc_key_tag(ksk));
	assert_int_equal(zc_key_tag(twin), 55648);
	assert_false(zc_key_equal(twin, ksk));
	/* The DS tells them apart where the tag cannot. */
	assert_true(zc_ds_matches_key(ds, ksk));
	assert_false(zc_ds_matches_key(ds, twin));
	ldns_rr_free(twin);
	ldns_rr_free(ds);
	ldns_rr_free(p384);
	ldns_rr_free(other_alg);
	ldns_rr_free(cdnskey);
	ldns_rr_free(ksk);
	ldns_rr_free(zsk);
}

/* --- delete forms -------------------------------------------------------- */

static void test_delete_records(void **state)
{
	static const struct {
		const char *text;
		bool cds, cdnskey;
	} t[] = {
		{ "x. CDS 0 0 0 00", true, false },
		{ "x. CDS 0 0 0 0000", false, false },
		{ "x. CDS 0 0 1 00", false, false },
		{ "x. CDS 1 0 0 00", false, false },
		{ "x. CDS 0 13 0 00", false, false },
		{ "x. CDS 0 0 0 01", false, false },
		{ "x. DS 0 0 0 00", false, false },
		{ "x. CDS \\# 5 0000000000", true, false },
		{ "x. CDNSKEY 0 3 0 AA==", false, true },
		{ "x. CDNSKEY 0 3 0 AAA=", false, false },
		{ "x. CDNSKEY 0 3 0 AAAA", false, false },
		{ "x. CDNSKEY 257 3 0 AA==", false, false },
		{ "x. CDNSKEY 0 2 0 AA==", false, false },
		{ "x. CDNSKEY 0 3 13 AA==", false, false },
		{ "x. CDNSKEY 0 3 0 AQ==", false, false },
		{ "x. DNSKEY 0 3 0 AA==", false, false },
		{ "x. CDNSKEY \\# 5 0000030000", false, true },
	};
	(void)state;

	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		ldns_rr *rr = rr_new(t[i].text);

		if (zc_cds_is_delete(rr) != t[i].cds || zc_cdnskey_is_delete(rr) != t[i].cdnskey) {
			fail_msg("'%s': want cds %d cdnskey %d", t[i].text, t[i].cds, t[i].cdnskey);
		}
		ldns_rr_free(rr);
	}
	assert_false(zc_cds_is_delete(NULL));
	assert_false(zc_cdnskey_is_delete(NULL));
}

static void test_delete_form_sets(void **state)
{
	static const char *const v_cds[] = { "x. CDS 0 0 0 00", NULL };
	static const char *const v_cdnskey[] = { "x. CDNSKEY 0 3 0 AA==", NULL };
	static const char *const v_dup[] = { "x. CDS 0 0 0 00", "x. 60 CDS 0 0 0 00", NULL };
	static const char *const m_cds[] = {
		"x. CDS 0 0 0 00",
		"x. CDS 55648 13 2 B4C8C1FE2E7477127B27115656AD6256F424625B"
		"F5C1E2770CE6D6E37DF61D17",
		NULL
	};
	static const char *const m_cdnskey[] = {
		"x. CDNSKEY 257 3 13 GojIhhXUN/u4v54ZQqGSnyhWJwaubCvTmeexv7bR6edbkrSqQpF64cYbcB7w"
		"NcP+e+MAnLr+Wi9xMWyQLc8NAA==",
		"x. CDNSKEY 0 3 0 AA==", NULL
	};
	static const char *const m_two[] = { "x. CDS 0 0 0 00", "x. CDNSKEY 0 3 0 AA==", NULL };
	static const char *const n_real[] = {
		"x. CDS 55648 13 2 "
		"B4C8C1FE2E7477127B27115656AD6256F424625BF5C1E2770CE6D6E37DF61D17",
		NULL
	};
	static const char *const n_bad[] = { "x. CDS 0 0 0 0000", "x. CDNSKEY 0 3 0 AAA=", NULL };
	static const char *const n_empty[] = { NULL };
	static const struct {
		const char *const *set;
		enum zc_delete_form form;
	} t[] = {
		{ v_cds, ZC_DELETE_VALID },	{ v_cdnskey, ZC_DELETE_VALID },
		{ v_dup, ZC_DELETE_VALID },	{ m_cds, ZC_DELETE_MIXED },
		{ m_cdnskey, ZC_DELETE_MIXED }, { m_two, ZC_DELETE_MIXED },
		{ n_real, ZC_DELETE_NONE },	{ n_bad, ZC_DELETE_NONE },
		{ n_empty, ZC_DELETE_NONE },
	};
	(void)state;

	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		ldns_rr_list *l = list_new(t[i].set);

		if (zc_rrset_delete_form(l) != t[i].form) {
			fail_msg("set %zu: got %d want %d", i, zc_rrset_delete_form(l), t[i].form);
		}
		ldns_rr_list_deep_free(l);
	}
	assert_int_equal(zc_rrset_delete_form(NULL), ZC_DELETE_NONE);
}

/* --- RRsets -------------------------------------------------------------- */

static void test_rrset_equal_table(void **state)
{
	static const char *const a[] = {
		"x.example. 300 CDS 55648 13 2 "
		"B4C8C1FE2E7477127B27115656AD6256F424625BF5C1E2770CE6D6E37DF61D17",
		"x.example. 300 CDS 10771 14 4 "
		"72D7B62976CE06438E9C0BF319013CF801F09ECC84B8D7E9495F27E305C6A9B0563A9B5F4D288405C3"
		"008A946DF983D6",
		NULL
	};
	/* Other order, TTL, owner case and digest case; a duplicate. */
	static const char *const a_same[] = {
		"X.EXAMPLE. 60 CDS 10771 14 4 "
		"72d7b62976ce06438e9c0bf319013cf801f09ecc84b8d7e9495f27e305c6a9b0563a9b5f4d288405c3"
		"008a946df983d6",
		"x.example. 3600 CDS 55648 13 2 "
		"b4c8c1fe2e7477127b27115656ad6256f424625bf5c1e2770ce6d6e37df61d17",
		"x.example. 3600 CDS 55648 13 2 "
		"B4C8C1FE2E7477127B27115656AD6256F424625BF5C1E2770CE6D6E37DF61D17",
		NULL
	};
	/* The same rdata as DS: CDS == DS. */
	static const char *const a_ds[] = {
		"x.example. DS 55648 13 2 "
		"B4C8C1FE2E7477127B27115656AD6256F424625BF5C1E2770CE6D6E37DF61D17",
		"x.example. DS 10771 14 4 "
		"72D7B62976CE06438E9C0BF319013CF801F09ECC84B8D7E9495F27E305C6A9B0563A9B5F4D288405C3"
		"008A946DF983D6",
		NULL
	};
	/* The signal name of RFC 9615 holds the same set. */
	static const char *const a_signal[] = {
		"_dsboot.x.example._signal.ns1.example.net. CDS 55648 13 2 "
		"B4C8C1FE2E7477127B27115656AD6256F424625BF5C1E2770CE6D6E37DF61D17",
		"_dsboot.x.example._signal.ns1.example.net. CDS 10771 14 4 "
		"72D7B62976CE06438E9C0BF319013CF801F09ECC84B8D7E9495F27E305C6A9B0563A9B5F4D288405C3"
		"008A946DF983D6",
		NULL
	};
	static const char *const a_less[] = {
		"x.example. CDS 55648 13 2 "
		"B4C8C1FE2E7477127B27115656AD6256F424625BF5C1E2770CE6D6E37DF61D17",
		NULL
	};
	static const char *const a_other[] = {
		"x.example. CDS 55648 13 2 "
		"B4C8C1FE2E7477127B27115656AD6256F424625BF5C1E2770CE6D6E37DF61D17",
		"x.example. CDS 10771 14 2 "
		"72D7B62976CE06438E9C0BF319013CF801F09ECC84B8D7E9495F27E305C6A9B0",
		NULL
	};
	static const char *const ns1[] = { "x. NS NS1.Example.", "x. NS ns2.example.", NULL };
	static const char *const ns2[] = { "x. NS ns2.EXAMPLE.", "x. NS ns1.example.", NULL };
	static const char *const txt1[] = { "x. TXT \"Hello\"", NULL };
	static const char *const txt2[] = { "x. TXT \"hello\"", NULL };
	static const char *const key1[] = {
		"x. DNSKEY 257 3 13 "
		"GojIhhXUN/"
		"u4v54ZQqGSnyhWJwaubCvTmeexv7bR6edbkrSqQpF64cYbcB7wNcP+e+MAnLr+Wi9xMWyQLc8NAA==",
		NULL
	};
	static const char *const key2[] = {
		"x. CDNSKEY 257 3 13 "
		"GojIhhXUN/"
		"u4v54ZQqGSnyhWJwaubCvTmeexv7bR6edbkrSqQpF64cYbcB7wNcP+e+MAnLr+Wi9xMWyQLc8NAA==",
		NULL
	};
	static const char *const none[] = { NULL };
	static const struct {
		const char *const *a, *const *b;
		bool eq;
	} t[] = {
		{ a, a, true },	       { a, a_same, true },  { a, a_ds, true },
		{ a, a_signal, true }, { a, a_less, false }, { a, a_other, false },
		{ a, key1, false },    { ns1, ns2, true },   { txt1, txt2, false },
		{ key1, key2, true },  { none, none, true }, { a, none, false },
	};
	(void)state;

	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		ldns_rr_list *la = list_new(t[i].a), *lb = list_new(t[i].b);

		if (zc_rrset_equal(la, lb) != t[i].eq || zc_rrset_equal(lb, la) != t[i].eq) {
			fail_msg("case %zu: want %d", i, t[i].eq);
		}
		if (ldns_rr_list_rr_count(la) == 0) {
			assert_true(zc_rrset_equal(NULL, lb) == (ldns_rr_list_rr_count(lb) == 0));
		}
		ldns_rr_list_deep_free(la);
		ldns_rr_list_deep_free(lb);
	}
	assert_true(zc_rrset_equal(NULL, NULL));
}

static void test_rdata_equal(void **state)
{
	ldns_rr *cds = rr_new("a. CDS 1 13 2 ABCD");
	ldns_rr *ds = rr_new("b. 5 DS 1 13 2 abcd");
	ldns_rr *ds2 = rr_new("a. DS 1 13 2 ABCE");
	ldns_rr *mx1 = rr_new("a. MX 10 Mail.Example.");
	ldns_rr *mx2 = rr_new("a. MX 10 mail.example.");
	ldns_rr *a = rr_new("a. A 192.0.2.1");
	(void)state;

	assert_true(zc_rdata_equal(cds, ds));
	assert_false(zc_rdata_equal(cds, ds2));
	assert_true(zc_rdata_equal(mx1, mx2)); /* RFC 4034 §6.2: MX is lower-cased */
	assert_false(zc_rdata_equal(a, cds));
	assert_false(zc_rdata_equal(NULL, cds));
	ldns_rr_free(a);
	ldns_rr_free(mx2);
	ldns_rr_free(mx1);
	ldns_rr_free(ds2);
	ldns_rr_free(ds);
	ldns_rr_free(cds);
}

static void test_rrset_canonicalize(void **state)
{
	static const char *const in[] = { "b.example. 300 A 192.0.2.2",
					  "a.example. 300 A 192.0.2.3",
					  "A.example. 60 A 192.0.2.1",
					  "a.example. 300 A 192.0.2.3",
					  "a.example. 30 A 192.0.2.1",
					  "a.example. 300 A 192.0.2.10",
					  NULL };
	static const char *const want[] = {
		"a.example.\t60\tIN\tA\t192.0.2.1",
		"a.example.\t300\tIN\tA\t192.0.2.3",
		"a.example.\t300\tIN\tA\t192.0.2.10",
		"b.example.\t300\tIN\tA\t192.0.2.2",
	};
	ldns_rr_list *l = list_new(in);
	(void)state;

	zc_rrset_canonicalize(l);
	assert_int_equal(ldns_rr_list_rr_count(l), ARRAY_SIZE(want));
	for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
		ldns_rr *rr = ldns_rr_list_rr(l, i);
		char *s;

		ldns_dname2canonical(ldns_rr_owner(rr));
		s = ldns_rr2str(rr);
		assert_non_null(s);
		s[strcspn(s, "\n")] = '\0';
		assert_string_equal(s, want[i]);
		free(s);
	}
	ldns_rr_list_deep_free(l);
	zc_rrset_canonicalize(NULL);
}

static void test_rrset_extract(void **state)
{
	ldns_rr_list *zone = zone_load("example.test.signed");
	ldns_rr_list *cds = extract(zone, "Example.Test.", LDNS_RR_TYPE_CDS);
	ldns_rr_list *ns = extract(zone, "example.test.", LDNS_RR_TYPE_NS);
	ldns_rr_list *none = extract(zone, "nothere.example.test.", LDNS_RR_TYPE_NS);
	ldns_rr_list *sigs = extract_sigs(zone, "example.test.", LDNS_RR_TYPE_CDS);
	ldns_rr_list *all_a = zc_rrset_extract(zone, NULL, LDNS_RR_TYPE_A);
	ldns_rr_list *all_a_sigs = zc_rrsig_extract(zone, NULL, LDNS_RR_TYPE_A);
	ldns_rr_list *empty = zc_rrset_extract(NULL, NULL, LDNS_RR_TYPE_A);
	(void)state;

	assert_int_equal(ldns_rr_list_rr_count(cds), 1);
	assert_int_equal(ldns_rr_list_rr_count(ns), 2);
	assert_int_equal(ldns_rr_list_rr_count(none), 0);
	assert_int_equal(ldns_rr_list_rr_count(sigs), 1);
	assert_int_equal(zc_rr_algorithm(ldns_rr_list_rr(sigs, 0)), 13);
	assert_int_equal(ldns_rr_list_rr_count(all_a), 2);
	assert_int_equal(ldns_rr_list_rr_count(all_a_sigs), 2);
	assert_non_null(empty);
	assert_int_equal(ldns_rr_list_rr_count(empty), 0);
	/* Copies: the zone is untouched by freeing them. */
	ldns_rr_list_deep_free(empty);
	ldns_rr_list_deep_free(all_a_sigs);
	ldns_rr_list_deep_free(all_a);
	ldns_rr_list_deep_free(sigs);
	ldns_rr_list_deep_free(none);
	ldns_rr_list_deep_free(ns);
	ldns_rr_list_deep_free(cds);
	ldns_rr_list_deep_free(zone);
}

/* zc_rrset_take() moves exactly what the two extract functions copy. */
static void test_rrset_take_moves_what_extract_copies(void **state)
{
	static const struct {
		const char *owner;
		ldns_rr_type type;
	} t[] = {
		{ "example.test.", LDNS_RR_TYPE_CDS },
		{ "EXAMPLE.test.", LDNS_RR_TYPE_DNSKEY },
		{ "www.example.test.", LDNS_RR_TYPE_AAAA },
		{ "example.test.", LDNS_RR_TYPE_TXT }, /* nothing there */
	};
	(void)state;

	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		ldns_rr_list *zone = zone_load("example.test.signed");
		ldns_rdf *owner = name_new(t[i].owner);
		ldns_rr_list *set_c = zc_rrset_extract(zone, owner, t[i].type);
		ldns_rr_list *sigs_c = zc_rrsig_extract(zone, owner, t[i].type);
		size_t before = ldns_rr_list_rr_count(zone);
		ldns_rr_list *set = NULL, *sigs = NULL;

		assert_int_equal(zc_rrset_take(zone, owner, t[i].type, &set, &sigs), 0);
		assert_int_equal(ldns_rr_list_rr_count(set), ldns_rr_list_rr_count(set_c));
		assert_int_equal(ldns_rr_list_rr_count(sigs), ldns_rr_list_rr_count(sigs_c));
		assert_true(zc_rrset_equal(set, set_c));
		for (size_t k = 0; k < ldns_rr_list_rr_count(sigs); k++) {
			assert_int_equal(ldns_rr_compare(ldns_rr_list_rr(sigs, k),
							 ldns_rr_list_rr(sigs_c, k)),
					 0);
		}
		/* what stays is the rest, and none of it matches any more */
		assert_int_equal(ldns_rr_list_rr_count(zone), before -
								      ldns_rr_list_rr_count(set) -
								      ldns_rr_list_rr_count(sigs));
		{
			ldns_rr_list *again = zc_rrset_extract(zone, owner, t[i].type);

			assert_int_equal(ldns_rr_list_rr_count(again), 0);
			ldns_rr_list_deep_free(again);
		}
		assert_int_equal(zc_rrset_take(zone, owner, t[i].type, NULL, &sigs), -EINVAL);
		ldns_rr_list_deep_free(set);
		ldns_rr_list_deep_free(sigs);
		ldns_rr_list_deep_free(set_c);
		ldns_rr_list_deep_free(sigs_c);
		ldns_rdf_deep_free(owner);
		ldns_rr_list_deep_free(zone);
	}
}

/* --- signatures ---------------------------------------------------------- */

static void test_rrsig_fixtures(void **state)
{
	static const struct {
		const char *file, *owner;
		ldns_rr_type type;
		time_t now;
		int want;
	} t[] = {
		{ "example.test.signed", "example.test.", LDNS_RR_TYPE_CDS, T_INSIDE, 0 },
		{ "example.test.signed", "example.test.", LDNS_RR_TYPE_CDNSKEY, T_INSIDE, 0 },
		{ "example.test.signed", "example.test.", LDNS_RR_TYPE_DNSKEY, T_INSIDE, 0 },
		{ "example.test.signed", "example.test.", LDNS_RR_TYPE_SOA, T_INSIDE, 0 },
		{ "example.test.signed", "example.test.", LDNS_RR_TYPE_NS, T_INSIDE, 0 },
		{ "example.test.signed", "www.example.test.", LDNS_RR_TYPE_AAAA, T_INSIDE, 0 },
		{ "example.test.signed", "*.wild.example.test.", LDNS_RR_TYPE_TXT, T_INSIDE, 0 },
		{ "example.test.signed", "example.test.", LDNS_RR_TYPE_CDS, T_AFTER, ZC_EEXPIRED },
		{ "example.test.signed", "example.test.", LDNS_RR_TYPE_CDS, T_BEFORE, ZC_ENOTYET },
		{ "example.test.signed", "example.test.", LDNS_RR_TYPE_CDS, T_FIX_INCEPTION, 0 },
		{ "example.test.signed", "example.test.", LDNS_RR_TYPE_CDS, T_FIX_EXPIRATION, 0 },
		{ "example.test.signed", "example.test.", LDNS_RR_TYPE_CDS, T_FIX_INCEPTION - 1,
		  ZC_ENOTYET },
		{ "example.test.signed", "example.test.", LDNS_RR_TYPE_CDS, T_FIX_EXPIRATION + 1,
		  ZC_EEXPIRED },
		/* RFC 4034 §3.1.5: the window is read mod 2^32, one wrap later. */
		{ "example.test.signed", "example.test.", LDNS_RR_TYPE_CDS,
		  (time_t)T_INSIDE + 4294967296LL, 0 },
		{ "ed25519.test.signed", "ed25519.test.", LDNS_RR_TYPE_CDS, T_INSIDE, 0 },
		{ "ed25519.test.signed", "ed25519.test.", LDNS_RR_TYPE_DNSKEY, T_INSIDE, 0 },
		{ "ed25519.test.signed", "ed25519.test.", LDNS_RR_TYPE_CDS, T_AFTER, ZC_EEXPIRED },
		{ "rsa.test.signed", "rsa.test.", LDNS_RR_TYPE_CDS, T_INSIDE, 0 },
		{ "rsa.test.signed", "ns1.rsa.test.", LDNS_RR_TYPE_A, T_INSIDE, 0 },
		{ "rsa.test.signed", "rsa.test.", LDNS_RR_TYPE_SOA, T_BEFORE, ZC_ENOTYET },
	};
	struct zc_sig_cache *cache = zc_sig_cache_new(0);
	struct zc_sig_cache_stats st;
	(void)state;

	assert_non_null(cache);

	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		ldns_rr_list *zone = zone_load(t[i].file);
		ldns_rr_list *rrset = extract(zone, t[i].owner, t[i].type);
		ldns_rr_list *sigs = extract_sigs(zone, t[i].owner, t[i].type);
		ldns_rr_list *keys = zc_rrset_extract(zone, NULL, LDNS_RR_TYPE_DNSKEY);
		struct zc_sig_result res[4];
		size_t n = 99;
		int r;

		r = zc_rrsig_check(rrset, sigs, keys, t[i].now, res, ARRAY_SIZE(res), &n);
		if (r != t[i].want) {
			fail_msg("%s %s type %d at %lld: got %d (%s), want %d", t[i].file,
				 t[i].owner, t[i].type, (long long)t[i].now, r, zc_strerror(r),
				 t[i].want);
		}
		/* Through a cache, a first and a second time: the same answer. */
		for (int pass = 0; pass < 2; pass++) {
			struct zc_sig_result cres[4];
			size_t cn = 0;

			assert_int_equal(zc_rrsig_check_cached(cache, rrset, sigs, keys, t[i].now,
							       cres, ARRAY_SIZE(cres), &cn),
					 t[i].want);
			assert_int_equal(cn, 1);
			assert_int_equal(cres[0].status, t[i].want);
		}
		assert_int_equal(n, 1);
		assert_int_equal(res[0].status, t[i].want);
		assert_ptr_equal(res[0].rrsig, ldns_rr_list_rr(sigs, 0));
		assert_non_null(res[0].key);
		assert_int_equal(zc_key_tag(res[0].key), res[0].key_tag);
		assert_int_equal(res[0].algorithm, zc_rr_algorithm(res[0].key));
		assert_int_equal(res[0].inception, T_FIX_INCEPTION);
		assert_int_equal(res[0].expiration, T_FIX_EXPIRATION);
		ldns_rr_list_deep_free(keys);
		ldns_rr_list_deep_free(sigs);
		ldns_rr_list_deep_free(rrset);
		ldns_rr_list_deep_free(zone);
	}
	/* Every second pass was answered from the cache, and the key of
	 * example.test was built once although it signed many entries. */
	zc_sig_cache_get_stats(cache, &st);
	assert_true(st.hits >= ARRAY_SIZE(t));
	assert_true(st.key_builds < st.misses);
	assert_true(st.key_hits > 0);
	zc_sig_cache_free(cache);
}

/* The records of the example.test fixture a test needs. */
struct fix {
	ldns_rr_list *zone, *cds, *sigs, *keys;
};

static void fix_load(struct fix *f)
{
	f->zone = zone_load("example.test.signed");
	f->cds = extract(f->zone, "example.test.", LDNS_RR_TYPE_CDS);
	f->sigs = extract_sigs(f->zone, "example.test.", LDNS_RR_TYPE_CDS);
	f->keys = extract(f->zone, "example.test.", LDNS_RR_TYPE_DNSKEY);
}

static void fix_free(struct fix *f)
{
	ldns_rr_list_deep_free(f->keys);
	ldns_rr_list_deep_free(f->sigs);
	ldns_rr_list_deep_free(f->cds);
	ldns_rr_list_deep_free(f->zone);
}

static void test_rrsig_tampered_and_wrong_key(void **state)
{
	struct fix f;
	ldns_rr_list *other = zone_load("other-ksk.key");
	ldns_rr_list *zsk_only = ldns_rr_list_new();
	ldns_rr_list *tampered;
	struct zc_sig_result res[2];
	size_t n = 0;
	(void)state;

	fix_load(&f);
	assert_int_equal(zc_rrsig_check(f.cds, f.sigs, f.keys, T_INSIDE, res, 2, &n), 0);

	/* Tampered rdata: one bit of the digest. */
	tampered = ldns_rr_list_clone(f.cds);
	ldns_rdf_data(ldns_rr_rdf(ldns_rr_list_rr(tampered, 0), 3))[0] ^= 1;
	assert_int_equal(zc_rrsig_check(tampered, f.sigs, f.keys, T_INSIDE, res, 2, &n), ZC_EBOGUS);
	assert_int_equal(n, 1);
	assert_int_equal(res[0].status, ZC_EBOGUS);
	assert_non_null(res[0].key); /* the key that was tried */
	/* Bogus beats the clock: expired and tampered is bogus. */
	assert_int_equal(zc_rrsig_check(tampered, f.sigs, f.keys, T_AFTER, res, 2, &n), ZC_EBOGUS);
	{
		/* A cache that holds the good outcome does not answer for other bytes. */
		struct zc_sig_cache *cache = zc_sig_cache_new(1);

		assert_non_null(cache);
		assert_int_equal(
			zc_rrsig_check_cached(cache, f.cds, f.sigs, f.keys, T_INSIDE, res, 2, &n), 0);
		assert_int_equal(zc_rrsig_check_cached(cache, tampered, f.sigs, f.keys, T_INSIDE,
						       res, 2, &n),
				 ZC_EBOGUS);
		assert_int_equal(
			zc_rrsig_check_cached(cache, f.cds, f.sigs, f.keys, T_INSIDE, res, 2, &n), 0);
		zc_sig_cache_free(cache);
	}
	ldns_rr_list_deep_free(tampered);

	/* A repeated record (as an answer may carry) does not break the RRset. */
	tampered = ldns_rr_list_clone(f.cds);
	assert_true(ldns_rr_list_push_rr(tampered, ldns_rr_clone(ldns_rr_list_rr(f.cds, 0))));
	ldns_rr_set_ttl(ldns_rr_list_rr(tampered, 1), 5);
	assert_int_equal(zc_rrsig_check(tampered, f.sigs, f.keys, T_INSIDE, res, 2, &n), 0);
	ldns_rr_list_deep_free(tampered);

	/* An unrelated key of the same algorithm: no key matches. */
	assert_int_equal(ldns_rr_list_rr_count(other), 1);
	assert_int_equal(zc_rrsig_check(f.cds, f.sigs, other, T_INSIDE, res, 2, &n), ZC_ENOKEY);
	assert_int_equal(n, 1);
	assert_null(res[0].key);
	assert_int_equal(res[0].status, ZC_ENOKEY);

	/* CDS signed by the KSK; the ZSK alone does not do (SPECS S5). */
	for (size_t i = 0; i < ldns_rr_list_rr_count(f.keys); i++) {
		ldns_rr *k = ldns_rr_list_rr(f.keys, i);

		if (zc_key_tag(k) != res[0].key_tag) {
			assert_true(ldns_rr_list_push_rr(zsk_only, ldns_rr_clone(k)));
		}
	}
	assert_int_equal(ldns_rr_list_rr_count(zsk_only), 1);
	assert_int_equal(zc_rrsig_check(f.cds, f.sigs, zsk_only, T_INSIDE, res, 2, &n), ZC_ENOKEY);
	assert_int_equal(zc_rrsig_check(f.cds, f.sigs, NULL, T_INSIDE, res, 2, &n), ZC_ENOKEY);

	ldns_rr_list_deep_free(zsk_only);
	ldns_rr_list_deep_free(other);
	fix_free(&f);
}

static void test_rrsig_key_conditions(void **state)
{
	struct fix f;
	ldns_rr_list *keys;
	struct zc_sig_result res[2];
	size_t n = 0;
	(void)state;

	fix_load(&f);
	/* RFC 4035 §5.3.1: without the Zone Key flag the key does not count. */
	keys = ldns_rr_list_clone(f.keys);
	for (size_t i = 0; i < ldns_rr_list_rr_count(keys); i++) {
		ldns_rdf_data(ldns_rr_rdf(ldns_rr_list_rr(keys, i), 0))[0] &= (uint8_t)~1u;
	}
	assert_int_equal(zc_rrsig_check(f.cds, f.sigs, keys, T_INSIDE, res, 2, &n), ZC_ENOKEY);
	ldns_rr_list_deep_free(keys);
	/* Protocol other than 3. */
	keys = ldns_rr_list_clone(f.keys);
	for (size_t i = 0; i < ldns_rr_list_rr_count(keys); i++) {
		ldns_rdf_data(ldns_rr_rdf(ldns_rr_list_rr(keys, i), 1))[0] = 2;
	}
	assert_int_equal(zc_rrsig_check(f.cds, f.sigs, keys, T_INSIDE, res, 2, &n), ZC_ENOKEY);
	ldns_rr_list_deep_free(keys);
	/* Owned by another name than the signer. */
	keys = ldns_rr_list_clone(f.keys);
	for (size_t i = 0; i < ldns_rr_list_rr_count(keys); i++) {
		ldns_rr *k = ldns_rr_list_rr(keys, i);

		ldns_rdf_deep_free(ldns_rr_owner(k));
		ldns_rr_set_owner(k, ldns_dname_new_frm_str("other.test."));
	}
	assert_int_equal(zc_rrsig_check(f.cds, f.sigs, keys, T_INSIDE, res, 2, &n), ZC_ENOKEY);
	ldns_rr_list_deep_free(keys);
	/* The same key as CDNSKEY is not a DNSKEY. */
	keys = zc_rrset_extract(f.zone, NULL, LDNS_RR_TYPE_CDNSKEY);
	assert_int_equal(zc_rrsig_check(f.cds, f.sigs, keys, T_INSIDE, res, 2, &n), ZC_ENOKEY);
	ldns_rr_list_deep_free(keys);
	fix_free(&f);
}

static void test_rrsig_shapes(void **state)
{
	struct fix f;
	ldns_rr_list *mixed, *empty = ldns_rr_list_new(), *ns, *ns_sigs, *both;
	struct zc_sig_result res[4];
	size_t n = 77;
	(void)state;

	fix_load(&f);
	/* Empty or mixed RRsets, NULL results with room. */
	assert_int_equal(zc_rrsig_check(empty, f.sigs, f.keys, T_INSIDE, res, 4, &n), -EINVAL);
	assert_int_equal(zc_rrsig_check(NULL, f.sigs, f.keys, T_INSIDE, res, 4, &n), -EINVAL);
	assert_int_equal(zc_rrsig_check(f.cds, f.sigs, f.keys, T_INSIDE, NULL, 4, &n), -EINVAL);
	mixed = ldns_rr_list_clone(f.cds);
	assert_true(ldns_rr_list_push_rr(mixed, ldns_rr_clone(ldns_rr_list_rr(f.keys, 0))));
	assert_int_equal(zc_rrsig_check(mixed, f.sigs, f.keys, T_INSIDE, res, 4, &n), -EINVAL);
	ldns_rr_list_deep_free(mixed);
	assert_int_equal(n, 77); /* untouched on -EINVAL */

	/* No RRSIG at all, and max 0 with NULL results. */
	assert_int_equal(zc_rrsig_check(f.cds, NULL, f.keys, T_INSIDE, res, 4, &n), ZC_ENOKEY);
	assert_int_equal(n, 0);
	assert_int_equal(zc_rrsig_check(f.cds, f.sigs, f.keys, T_INSIDE, NULL, 0, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(zc_rrsig_check(f.cds, f.sigs, f.keys, T_INSIDE, NULL, 0, NULL), 0);

	/* RRSIGs over other types are skipped; the good one still counts. */
	ns = extract(f.zone, "example.test.", LDNS_RR_TYPE_NS);
	ns_sigs = extract_sigs(f.zone, "example.test.", LDNS_RR_TYPE_NS);
	both = ldns_rr_list_clone(ns_sigs);
	assert_true(ldns_rr_list_cat(both, f.sigs));
	ldns_rr_list_free(f.sigs); /* now owned by both */
	f.sigs = NULL;
	assert_int_equal(zc_rrsig_check(f.cds, both, f.keys, T_INSIDE, res, 4, &n), 0);
	assert_int_equal(n, 1);
	/* The same mixed list over the NS RRset: only the NS RRSIG counts. */
	assert_int_equal(zc_rrsig_check(ns, both, f.keys, T_INSIDE, res, 4, &n), 0);
	assert_int_equal(n, 1);
	ldns_rr_list_deep_free(both);
	ldns_rr_list_deep_free(ns_sigs);
	ldns_rr_list_deep_free(ns);
	ldns_rr_list_free(empty);
	fix_free(&f);
}

static void test_rrsig_malformed_and_ranking(void **state)
{
	struct fix f;
	ldns_rr_list *sigs;
	ldns_rr *bad, *good;
	struct zc_sig_result res[4];
	size_t n = 0;
	(void)state;

	fix_load(&f);
	good = ldns_rr_list_rr(f.sigs, 0);
	sigs = ldns_rr_list_new();

	/* Signer name not an ancestor of the owner: bogus before any crypto. */
	bad = ldns_rr_clone(good);
	ldns_rdf_deep_free(ldns_rr_set_rdf(bad, ldns_dname_new_frm_str("other.test."), 7));
	assert_true(ldns_rr_list_push_rr(sigs, bad));
	/* Labels field above the owner's label count. */
	bad = ldns_rr_clone(good);
	ldns_rdf_data(ldns_rr_rdf(bad, 2))[0] = 3;
	assert_true(ldns_rr_list_push_rr(sigs, bad));
	/* Expiration before inception. */
	bad = ldns_rr_clone(good);
	{
		ldns_rdf *exp = ldns_rr_rdf(bad, 4), *inc = ldns_rr_rdf(bad, 5);
		uint8_t tmp[4];

		memcpy(tmp, ldns_rdf_data(exp), 4);
		memcpy(ldns_rdf_data(exp), ldns_rdf_data(inc), 4);
		memcpy(ldns_rdf_data(inc), tmp, 4);
	}
	assert_true(ldns_rr_list_push_rr(sigs, bad));
	assert_int_equal(zc_rrsig_check(f.cds, sigs, f.keys, T_INSIDE, res, 4, &n), ZC_EBOGUS);
	assert_int_equal(n, 3);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(res[i].status, ZC_EBOGUS);
		assert_null(res[i].key);
	}
	/* Add the good one: the set validates, and results keep their order. */
	assert_true(ldns_rr_list_push_rr(sigs, ldns_rr_clone(good)));
	assert_int_equal(zc_rrsig_check(f.cds, sigs, f.keys, T_INSIDE, res, 4, &n), 0);
	assert_int_equal(n, 4);
	assert_int_equal(res[3].status, 0);
	/* Only room for two results: the return value still sees all four. */
	assert_int_equal(zc_rrsig_check(f.cds, sigs, f.keys, T_INSIDE, res, 2, &n), 0);
	assert_int_equal(n, 2);
	ldns_rr_list_deep_free(sigs);
	fix_free(&f);
}

static void test_rrsig_wildcard_expansion(void **state)
{
	struct fix f;
	ldns_rr_list *txt, *sigs;
	ldns_rdf *expanded = name_new("Foo.Bar.wild.example.test.");
	struct zc_sig_result res[1];
	size_t n = 0;
	(void)state;

	fix_load(&f);
	/* RFC 4035 §5.3.2: an answer synthesised from *.wild.example.test. carries
	 * the wildcard's RRSIG with the expanded owner; Labels (3) tells. */
	txt = extract(f.zone, "*.wild.example.test.", LDNS_RR_TYPE_TXT);
	sigs = extract_sigs(f.zone, "*.wild.example.test.", LDNS_RR_TYPE_TXT);
	ldns_rdf_deep_free(ldns_rr_owner(ldns_rr_list_rr(txt, 0)));
	ldns_rr_set_owner(ldns_rr_list_rr(txt, 0), ldns_rdf_clone(expanded));
	ldns_rdf_deep_free(ldns_rr_owner(ldns_rr_list_rr(sigs, 0)));
	ldns_rr_set_owner(ldns_rr_list_rr(sigs, 0), ldns_rdf_clone(expanded));
	assert_int_equal(zc_rrsig_check(txt, sigs, f.keys, T_INSIDE, res, 1, &n), 0);
	ldns_rdf_deep_free(expanded);
	ldns_rr_list_deep_free(sigs);
	ldns_rr_list_deep_free(txt);
	fix_free(&f);
}

static void test_rrsig_rfc6605(void **state)
{
	static const struct {
		const char *key, *sig;
	} t[] = {
		{ RFC6605_P256_KEY,
		  "www.example.net. 3600 IN RRSIG A 13 3 3600 ( 20100909100439 20100812100439 "
		  "55648\n"
		  "    example.net. qx6wLYqmh+l9oCKTN6qIc+bw6ya+KJ8oMz0YP107epXA\n"
		  "    yGmt+3SNruPFKG7tZoLBLlUzGGus7ZwmwWep666VCw== )" },
		{ RFC6605_P384_KEY,
		  "www.example.net. 3600 IN RRSIG A 14 3 3600 ( 20100909102025 20100812102025 "
		  "10771\n"
		  "    example.net. /L5hDKIvGDyI1fcARX3z65qrmPsVz73QD1Mr5CEqOiLP95hxQouuroGCeZOv\n"
		  "    zFaxsT8Glr74hbavRKayJNuydCuzWTSSPdz7wnqXL5bdcJzusdnI0RSMROxx\n"
		  "    wGipWcJm )" },
	};
	(void)state;

	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		const char *rrset_text[] = { "www.example.net. 3600 IN A 192.0.2.1", NULL };
		const char *other_text[] = { "www.example.net. 3600 IN A 192.0.2.2", NULL };
		const char *key_text[] = { t[i].key, NULL };
		const char *sig_text[] = { t[i].sig, NULL };
		ldns_rr_list *rrset = list_new(rrset_text), *other = list_new(other_text);
		ldns_rr_list *keys = list_new(key_text), *sigs = list_new(sig_text);
		struct zc_sig_result res[1];
		size_t n = 0;

		assert_int_equal(zc_rrsig_check(rrset, sigs, keys, T_RFC6605, res, 1, &n), 0);
		assert_int_equal(n, 1);
		assert_ptr_equal(res[0].key, ldns_rr_list_rr(keys, 0));
		/* Today the RFC's signatures have long expired. */
		assert_int_equal(zc_rrsig_check(rrset, sigs, keys, T_INSIDE, res, 1, &n),
				 ZC_EEXPIRED);
		assert_int_equal(zc_rrsig_check(other, sigs, keys, T_RFC6605, res, 1, &n),
				 ZC_EBOGUS);
		ldns_rr_list_deep_free(sigs);
		ldns_rr_list_deep_free(keys);
		ldns_rr_list_deep_free(other);
		ldns_rr_list_deep_free(rrset);
	}
}

static void test_rrsig_unsupported_algorithm(void **state)
{
	/* Algorithm 253 (PRIVATEDNS): no verifier, whatever the bytes. */
	const char *rrset_text[] = { "x.example. A 192.0.2.1", NULL };
	const char *key_text[] = { "x.example. DNSKEY 257 3 253 AAECAwQ=", NULL };
	ldns_rr_list *rrset = list_new(rrset_text), *keys = list_new(key_text), *sigs;
	char sig[256];
	struct zc_sig_result res[1];
	size_t n = 0;
	(void)state;

	snprintf(sig, sizeof(sig),
		 "x.example. RRSIG A 253 2 3600 20360101000000 20260101000000 %u x.example. "
		 "AAECAwQ=",
		 zc_key_tag(ldns_rr_list_rr(keys, 0)));
	{
		const char *sig_text[] = { sig, NULL };

		sigs = list_new(sig_text);
	}
	assert_int_equal(zc_rrsig_check(rrset, sigs, keys, T_INSIDE, res, 1, &n), ZC_ENOTSUP);
	assert_int_equal(res[0].status, ZC_ENOTSUP);
	ldns_rr_list_deep_free(sigs);
	ldns_rr_list_deep_free(keys);
	ldns_rr_list_deep_free(rrset);
}

static void test_rrsig_keytrap_limit(void **state)
{
	/* Many keys with the RRSIG's tag (CVE-2023-50387): at most
	 * ZC_DNS_MAX_KEY_TRIES are tried for one RRSIG, and at most
	 * ZC_DNS_MAX_VERIFY verifications happen in one call. */
	struct fix f;
	ldns_rr_list *keys = ldns_rr_list_new(), *sigs;
	ldns_rr *ksk = NULL;
	struct zc_sig_result res[ZC_DNS_MAX_VERIFY + 2];
	size_t n = 0, fakes = 0;
	(void)state;

	fix_load(&f);
	for (size_t i = 0; i < ldns_rr_list_rr_count(f.keys); i++) {
		if (zc_key_tag(ldns_rr_list_rr(f.keys, i)) ==
		    ldns_rdf2native_int16(ldns_rr_rdf(ldns_rr_list_rr(f.sigs, 0), 6))) {
			ksk = ldns_rr_list_rr(f.keys, i);
		}
	}
	assert_non_null(ksk);
	for (size_t i = 2; i < 64 && fakes < ZC_DNS_MAX_KEY_TRIES + 2; i += 2) {
		/* Same tag, different key: swap octet 0 of the key with another
		 * octet at an even offset (both high octets of 16-bit words). */
		ldns_rr *k = ldns_rr_clone(ksk);
		uint8_t *b = ldns_rdf_data(ldns_rr_rdf(k, 3));
		uint8_t tmp = b[i];

		b[i] = b[0];
		b[0] = tmp;
		if (zc_key_equal(k, ksk)) {
			ldns_rr_free(k);
			continue;
		}
		assert_int_equal(zc_key_tag(k), zc_key_tag(ksk));
		assert_true(ldns_rr_list_push_rr(keys, k));
		fakes++;
	}
	assert_int_equal(fakes, ZC_DNS_MAX_KEY_TRIES + 2);
	/* The genuine key comes last: beyond the limit, never tried. */
	assert_true(ldns_rr_list_push_rr(keys, ldns_rr_clone(ksk)));
	assert_int_equal(zc_rrsig_check(f.cds, f.sigs, keys, T_INSIDE, res, 1, &n), ZC_EBOGUS);
	assert_int_equal(res[0].status, ZC_EBOGUS);
	ldns_rr_list_deep_free(keys);

	/* More copies of a good RRSIG than the budget: the rest are not tried. */
	sigs = ldns_rr_list_new();
	for (size_t i = 0; i < ZC_DNS_MAX_VERIFY + 2; i++) {
		assert_true(ldns_rr_list_push_rr(sigs, ldns_rr_clone(ldns_rr_list_rr(f.sigs, 0))));
	}
	assert_int_equal(zc_rrsig_check(f.cds, sigs, f.keys, T_INSIDE, res, ARRAY_SIZE(res), &n),
			 0);
	assert_int_equal(n, ZC_DNS_MAX_VERIFY + 2);
	assert_int_equal(res[ZC_DNS_MAX_VERIFY - 1].status, 0);
	assert_int_equal(res[ZC_DNS_MAX_VERIFY].status, ZC_ELIMIT);
	assert_int_equal(res[ZC_DNS_MAX_VERIFY + 1].status, ZC_ELIMIT);
	ldns_rr_list_deep_free(sigs);
	fix_free(&f);
}

/* --- packets -------------------------------------------------------------- */

static void test_pkt_from_wire(void **state)
{
	ldns_pkt *q = NULL, *p = NULL;
	ldns_rr *ds = rr_new("example.com. 3600 IN CDS 0 0 0 00");
	ldns_rr *dsync = rr_new("_dsync.example. DSYNC CDS NOTIFY 5359 scanner.example.");
	uint8_t *wire = NULL;
	size_t len = 0;
	uint8_t big[70000];
	(void)state;

	assert_int_equal(ldns_pkt_query_new_frm_str(&q, "example.com.", LDNS_RR_TYPE_CDS,
						    LDNS_RR_CLASS_IN, LDNS_RD),
			 LDNS_STATUS_OK);
	assert_true(ldns_pkt_push_rr(q, LDNS_SECTION_ANSWER, ds));
	assert_true(ldns_pkt_push_rr(q, LDNS_SECTION_ANSWER, dsync));
	assert_int_equal(ldns_pkt2wire(&wire, q, &len), LDNS_STATUS_OK);

	assert_int_equal(zc_pkt_from_wire(wire, len, &p), 0);
	assert_int_equal(ldns_rr_list_rr_count(ldns_pkt_answer(p)), 2);
	assert_true(zc_cds_is_delete(ldns_rr_list_rr(ldns_pkt_answer(p), 0)));
	{
		struct zc_dsync d;

		assert_int_equal(zc_dsync_parse(ldns_rr_list_rr(ldns_pkt_answer(p), 1), &d), 0);
		assert_string_equal(d.target, "scanner.example.");
	}
	ldns_pkt_free(p);

	/* Every truncation is malformed. */
	for (size_t cut = 0; cut < len; cut++) {
		p = NULL;
		if (zc_pkt_from_wire(wire, cut, &p) != ZC_EMALF) {
			fail_msg("truncated to %zu octets: accepted", cut);
		}
		assert_null(p);
	}
	memset(big, 0, sizeof(big));
	assert_int_equal(zc_pkt_from_wire(big, 65536, &p), ZC_EMALF);
	assert_int_equal(zc_pkt_from_wire(big, 65535, &p), 0); /* a header and zero padding */
	ldns_pkt_free(p);
	assert_int_equal(zc_pkt_from_wire(NULL, 12, &p), -EINVAL);
	assert_int_equal(zc_pkt_from_wire(wire, len, NULL), -EINVAL);
	free(wire);
	ldns_pkt_free(q);
}

static void test_pkt_opt_tsig_rules(void **state)
{
	/* Header with ARCOUNT n, then root-owned records of the given types. */
	static const uint8_t opt[] = { 0, 0, 41, 0x10, 0, 0, 0, 0, 0, 0, 0 };
	static const uint8_t tsig[] = { 0, 0, 250, 0, 255, 0, 0, 0, 0, 0, 0 };
	static const uint8_t a[] = { 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 4, 192, 0, 2, 1 };
	static const uint8_t a_long[] = { 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 5, 192, 0, 2, 1, 0 };
	static const uint8_t a_short[] = { 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 3, 192, 0, 2 };
	static const struct {
		const uint8_t *rr[3];
		size_t len[3];
		size_t n;
		int r;
	} t[] = {
		{ { opt }, { sizeof(opt) }, 1, 0 },
		{ { tsig }, { sizeof(tsig) }, 1, 0 },
		{ { a, tsig }, { sizeof(a), sizeof(tsig) }, 2, 0 },
		{ { opt, opt }, { sizeof(opt), sizeof(opt) }, 2, ZC_EMALF },
		{ { tsig, tsig }, { sizeof(tsig), sizeof(tsig) }, 2, ZC_EMALF },
		{ { tsig, tsig, a }, { sizeof(tsig), sizeof(tsig), sizeof(a) }, 3, ZC_EMALF },
		{ { tsig, a }, { sizeof(tsig), sizeof(a) }, 2, ZC_EMALF },
		/* RDLENGTH 5 for an A record: ldns would read 4 and lose step. */
		{ { a_long }, { sizeof(a_long) }, 1, ZC_EMALF },
		/* RDLENGTH 3: too short for the address. */
		{ { a_short }, { sizeof(a_short) }, 1, ZC_EMALF },
	};
	(void)state;

	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		uint8_t msg[128] = { 0x12, 0x34, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, (uint8_t)t[i].n };
		size_t len = 12;
		ldns_pkt *p = NULL;
		int r;

		for (size_t j = 0; j < t[i].n; j++) {
			memcpy(msg + len, t[i].rr[j], t[i].len[j]);
			len += t[i].len[j];
		}
		r = zc_pkt_from_wire(msg, len, &p);
		if (r != t[i].r) {
			fail_msg("case %zu: got %d want %d", i, r, t[i].r);
		}
		ldns_pkt_free(p);
	}
}

/* The answer section alone: other sections never parsed, each record checked. */
static void test_pkt_answer_records(void **state)
{
	static const uint8_t a[] = { 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 4, 192, 0, 2, 1 };
	static const uint8_t a_long[] = { 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 5, 192, 0, 2, 1, 0 };
	static const uint8_t a_short[] = { 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 3, 192, 0, 2 };
	static const struct {
		const uint8_t *rr;
		size_t len;
		int r;
	} t[] = {
		{ a, sizeof(a), 0 },
		{ a_long, sizeof(a_long), ZC_EMALF },
		{ a_short, sizeof(a_short), ZC_EMALF },
	};
	ldns_pkt *q = NULL;
	ldns_rr_list *an = NULL;
	uint8_t *wire = NULL;
	size_t len = 0, ans_end;
	(void)state;

	assert_int_equal(ldns_pkt_query_new_frm_str(&q, "example.com.", LDNS_RR_TYPE_CDS,
						    LDNS_RR_CLASS_IN, 0),
			 LDNS_STATUS_OK);
	assert_true(ldns_pkt_push_rr(q, LDNS_SECTION_ANSWER,
				     rr_new("example.com. 3600 IN CDS 0 0 0 00")));
	assert_true(ldns_pkt_push_rr(q, LDNS_SECTION_ANSWER,
				     rr_new("example.com. 3600 IN CDS 1 13 2 "
					    "0102030405060708090A0B0C0D0E0F10"
					    "1112131415161718191A1B1C1D1E1F20")));
	/* where the answer section ends: the same message without the other two */
	assert_int_equal(ldns_pkt2wire(&wire, q, &ans_end), LDNS_STATUS_OK);
	free(wire);
	assert_true(ldns_pkt_push_rr(q, LDNS_SECTION_AUTHORITY,
				     rr_new("example.com. 3600 IN NS ns1.example.com.")));
	assert_true(ldns_pkt_push_rr(q, LDNS_SECTION_ADDITIONAL,
				     rr_new("ns1.example.com. 3600 IN A 192.0.2.1")));
	assert_int_equal(ldns_pkt2wire(&wire, q, &len), LDNS_STATUS_OK);

	assert_int_equal(zc_pkt_answer_records(wire, len, &an), 0);
	assert_int_equal(ldns_rr_list_rr_count(an), 2);
	for (size_t i = 0; i < 2; i++) {
		assert_int_equal(ldns_rr_compare(ldns_rr_list_rr(an, i),
						 ldns_rr_list_rr(ldns_pkt_answer(q), i)),
				 0);
	}
	ldns_rr_list_deep_free(an);

	/* Cut inside the header, question or answer: malformed; after it: the same. */
	for (size_t cut = 0; cut < len; cut++) {
		int r;

		an = NULL;
		r = zc_pkt_answer_records(wire, cut, &an);
		if (cut < ans_end && r != ZC_EMALF) {
			fail_msg("cut to %zu octets (answer ends at %zu): %d", cut, ans_end, r);
		}
		if (cut >= ans_end && (r != 0 || ldns_rr_list_rr_count(an) != 2)) {
			fail_msg("cut to %zu octets after the answer (%zu): %d", cut, ans_end, r);
		}
		ldns_rr_list_deep_free(an);
	}
	/* RDATA that ldns would read short or long of RDLENGTH */
	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		uint8_t msg[64] = { 0x12, 0x34, 0x80, 0, 0, 0, 0, 1, 0, 0, 0, 0 };

		memcpy(msg + 12, t[i].rr, t[i].len);
		an = NULL;
		assert_int_equal(zc_pkt_answer_records(msg, 12 + t[i].len, &an), t[i].r);
		assert_true(t[i].r < 0 ? an == NULL : ldns_rr_list_rr_count(an) == 1);
		ldns_rr_list_deep_free(an);
	}
	assert_int_equal(zc_pkt_answer_records(NULL, 12, &an), -EINVAL);
	assert_int_equal(zc_pkt_answer_records(wire, len, NULL), -EINVAL);
	free(wire);
	ldns_pkt_free(q);
}

/* dns_ecdsa_der() writes what i2d_ECDSA_SIG() writes, for every shape of r and s. */
static void test_ecdsa_der_like_openssl(void **state)
{
	uint8_t sig[96], der[DNS_ECDSA_DER_MAX];
	unsigned seed = 12345;

	(void)state;
	for (int round = 0; round < 4000; round++) {
		size_t len = round % 2 ? 96 : 64, half = len / 2, n;
		ECDSA_SIG *es = ECDSA_SIG_new();
		unsigned char *ref = NULL;
		int rn;

		for (size_t i = 0; i < len; i++) {
			seed = seed * 1103515245u + 12345u;
			sig[i] = (uint8_t)(seed >> 16);
		}
		/* leading zero octets, a high bit right after them, all zero */
		switch (round % 8) {
		case 2:
			memset(sig, 0, 3);
			sig[3] |= 0x80;
			break;
		case 4:
			memset(sig + half, 0, half - 1);
			break;
		case 6:
			memset(sig, 0, len);
			break;
		default:
			break;
		}
		assert_non_null(es);
		assert_int_equal(ECDSA_SIG_set0(es, BN_bin2bn(sig, (int)half, NULL),
						BN_bin2bn(sig + half, (int)half, NULL)),
				 1);
		rn = i2d_ECDSA_SIG(es, &ref);
		assert_true(rn > 0);
		n = dns_ecdsa_der(sig, len, der);
		assert_int_equal(n, (size_t)rn);
		assert_memory_equal(der, ref, n);
		OPENSSL_free(ref);
		ECDSA_SIG_free(es);
	}
	assert_int_equal(dns_ecdsa_der(sig, 0, der), 0);
	assert_int_equal(dns_ecdsa_der(sig, 63, der), 0);
	assert_int_equal(dns_ecdsa_der(sig, 98, der), 0);
}

/* --- NSEC denials (zc_nsec_denial) ------------------------------------------- */

#define DEN_SIG " 300 20261227224955 20261127214955 12345 z.test. " \
		"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+Pw=="
#define DEN_C1 "_dsboot.c1.example._signal.ns1.z.test."
#define DEN_C3 "_dsboot.c3.example._signal.ns1.z.test."

/* The authority section of @n texts: NSEC records and RRSIGs. */
static ldns_rr_list *auth_new(const char *const *texts, size_t n)
{
	ldns_rr_list *l = ldns_rr_list_new();

	for (size_t i = 0; i < n; i++) {
		assert_true(ldns_rr_list_push_rr(l, rr_new(texts[i])));
	}
	return l;
}

static int denial_of(const char *const *texts, size_t n, const char *qname, ldns_rr_type t,
		     bool nxdomain, struct zc_denial *d)
{
	ldns_rr_list *auth = auth_new(texts, n);
	ldns_rdf *q = name_new(qname);
	int r = zc_nsec_denial(auth, q, t, nxdomain, d);

	ldns_rdf_deep_free(q);
	ldns_rr_list_deep_free(auth);
	return r;
}

#define DEN(texts, q, t, nx, d) denial_of(texts, ZC_ARRAY_SIZE(texts), q, t, nx, d)

static bool signer_is(const struct zc_denial *d, const char *text)
{
	ldns_rdf *n = name_new(text);
	bool eq = zc_name_equal(d->signer, n);

	ldns_rdf_deep_free(n);
	return eq;
}

static void test_nsec_denial_nxdomain(void **state)
{
	/* c2 lies between c1 and c3; *.example._signal.ns1.z.test between ns1 and c1 */
	static const char *const both[] = {
		DEN_C1 " 300 IN NSEC " DEN_C3 " CDS CDNSKEY RRSIG NSEC",
		DEN_C1 " 300 IN RRSIG NSEC 13 7" DEN_SIG,
		"ns1.z.test. 300 IN NSEC " DEN_C1 " A RRSIG NSEC",
		"ns1.z.test. 300 IN RRSIG NSEC 13 3" DEN_SIG,
	};
	static const char *const no_wildcard[] = {
		DEN_C1 " 300 IN NSEC " DEN_C3 " CDS CDNSKEY RRSIG NSEC",
		DEN_C1 " 300 IN RRSIG NSEC 13 7" DEN_SIG,
	};
	/* the last NSEC of the zone names the apex as next */
	static const char *const last[] = {
		DEN_C3 " 300 IN NSEC z.test. CDS CDNSKEY RRSIG NSEC",
		DEN_C3 " 300 IN RRSIG NSEC 13 7" DEN_SIG,
		"ns1.z.test. 300 IN NSEC " DEN_C1 " A RRSIG NSEC",
		"ns1.z.test. 300 IN RRSIG NSEC 13 3" DEN_SIG,
	};
	/* the NSEC RRSIG of a wildcard expansion (labels 6 of 7) proves nothing */
	static const char *const expanded[] = {
		DEN_C1 " 300 IN NSEC " DEN_C3 " CDS CDNSKEY RRSIG NSEC",
		DEN_C1 " 300 IN RRSIG NSEC 13 6" DEN_SIG,
		"ns1.z.test. 300 IN NSEC " DEN_C1 " A RRSIG NSEC",
		"ns1.z.test. 300 IN RRSIG NSEC 13 3" DEN_SIG,
	};
	static const char *const unsigned_nsec[] = {
		DEN_C1 " 300 IN NSEC " DEN_C3 " CDS CDNSKEY RRSIG NSEC",
		"ns1.z.test. 300 IN NSEC " DEN_C1 " A RRSIG NSEC",
	};
	/* two records in one NSEC RRset: not a chain a signer writes */
	static const char *const twice[] = {
		DEN_C1 " 300 IN NSEC " DEN_C3 " CDS CDNSKEY RRSIG NSEC",
		DEN_C1 " 300 IN NSEC zz.z.test. CDS CDNSKEY RRSIG NSEC",
		DEN_C1 " 300 IN RRSIG NSEC 13 7" DEN_SIG,
		"ns1.z.test. 300 IN NSEC " DEN_C1 " A RRSIG NSEC",
		"ns1.z.test. 300 IN RRSIG NSEC 13 3" DEN_SIG,
	};
	static const char *const nsec3[] = {
		"0p9mhaveqvm6t7vbl5lop2u3t2rp3tom.z.test. 300 IN NSEC3 1 0 0 - "
		"2VPTU5TIMAMQTTGL4LUU9KG21E0AOR3S A RRSIG",
		"0p9mhaveqvm6t7vbl5lop2u3t2rp3tom.z.test. 300 IN RRSIG NSEC3 13 3" DEN_SIG,
	};
	struct zc_denial d;
	(void)state;

	assert_int_equal(DEN(both, "_dsboot.c2.example._signal.ns1.z.test.", LDNS_RR_TYPE_CDS,
			     true, &d),
			 0);
	assert_int_equal(d.n, 2);
	assert_true(signer_is(&d, "z.test."));
	for (size_t i = 0; i < d.n; i++) {
		assert_int_equal(ldns_rr_list_rr_count(d.rrset[i]), 1);
		assert_int_equal(ldns_rr_list_rr_count(d.sigs[i]), 1);
	}
	zc_denial_release(&d);
	zc_denial_release(NULL);
	/* the same records say nothing of a NODATA, nor of a name that exists */
	assert_int_equal(DEN(both, "_dsboot.c2.example._signal.ns1.z.test.", LDNS_RR_TYPE_CDS,
			     false, &d),
			 ZC_EBOGUS);
	assert_int_equal(DEN(both, DEN_C1, LDNS_RR_TYPE_CDS, true, &d), ZC_EBOGUS);
	/* outside the zone the signer signs for */
	assert_int_equal(DEN(both, "c2.example.", LDNS_RR_TYPE_CDS, true, &d), ZC_EBOGUS);
	assert_int_equal(DEN(no_wildcard, "_dsboot.c2.example._signal.ns1.z.test.",
			     LDNS_RR_TYPE_CDS, true, &d),
			 ZC_EBOGUS);
	assert_int_equal(DEN(last, "_dsboot.c4.example._signal.ns1.z.test.", LDNS_RR_TYPE_CDNSKEY,
			     true, &d),
			 0);
	assert_int_equal(d.n, 2);
	zc_denial_release(&d);
	assert_int_equal(DEN(expanded, "_dsboot.c2.example._signal.ns1.z.test.",
			     LDNS_RR_TYPE_CDS, true, &d),
			 ZC_EBOGUS);
	assert_int_equal(DEN(unsigned_nsec, "_dsboot.c2.example._signal.ns1.z.test.",
			     LDNS_RR_TYPE_CDS, true, &d),
			 ZC_EBOGUS);
	assert_int_equal(DEN(twice, "_dsboot.c2.example._signal.ns1.z.test.", LDNS_RR_TYPE_CDS,
			     true, &d),
			 ZC_EBOGUS);
	assert_int_equal(DEN(nsec3, "_dsboot.c2.example._signal.ns1.z.test.", LDNS_RR_TYPE_CDS,
			     true, &d),
			 ZC_EBOGUS);
	{
		ldns_rdf *z = name_new("z.test.");

		assert_int_equal(zc_nsec_denial(NULL, z, LDNS_RR_TYPE_CDS, true, &d), ZC_EBOGUS);
		ldns_rdf_deep_free(z);
	}
	assert_int_equal(zc_nsec_denial(NULL, NULL, LDNS_RR_TYPE_CDS, true, &d), -EINVAL);
	assert_int_equal(d.n, 0);
}

/* A whole message under tests/data/dns/ (a real server's answer). */
static uint8_t *wire_load(const char *file, size_t *ret_len)
{
	char path[1024];
	uint8_t *buf = malloc(65536);
	FILE *f;

	assert_non_null(buf);
	snprintf(path, sizeof(path), "%s/dns/%s", ZC_TEST_DATA, file);
	f = fopen(path, "rb");
	if (!f) {
		fail_msg("cannot open %s", path);
	}
	*ret_len = fread(buf, 1, 65536, f);
	fclose(f);
	return buf;
}

/*
 * NSD's answers for a signal zone signed by ldns-signzone (the bench's W1):
 * NXDOMAIN for a child without a signal (the covering NSEC, and the one covering
 * the wildcard at the closest encloser), NODATA for a type a signal name lacks.
 */
static void test_nsec_denial_real_answers(void **state)
{
	static const struct {
		const char *file;
		bool nxdomain;
		size_t n;
	} t[] = {
		{ "nsec-nxdomain-signal.bin", true, 2 },
		{ "nsec-nodata-signal.bin", false, 1 },
	};
	(void)state;

	for (size_t i = 0; i < ZC_ARRAY_SIZE(t); i++) {
		size_t len;
		uint8_t *wire = wire_load(t[i].file, &len);
		ldns_pkt *pkt = NULL;
		ldns_rr_list *ns = NULL;
		const ldns_rr *q;
		struct zc_denial d;

		assert_int_equal(zc_pkt_from_wire(wire, len, &pkt), 0);
		assert_int_equal(zc_pkt_authority_records(wire, len, &ns), 0);
		assert_int_equal(ldns_rr_list_compare(ns, ldns_pkt_authority(pkt)), 0);
		q = ldns_rr_list_rr(ldns_pkt_question(pkt), 0);
		assert_int_equal(zc_nsec_denial(ns, ldns_rr_owner(q), ldns_rr_get_type(q),
						t[i].nxdomain, &d),
				 0);
		assert_int_equal(d.n, t[i].n);
		assert_true(signer_is(&d, "p1.test."));
		zc_denial_release(&d);
		/* the other rcode's proof is not in it */
		assert_int_equal(zc_nsec_denial(ns, ldns_rr_owner(q), ldns_rr_get_type(q),
						!t[i].nxdomain, &d),
				 ZC_EBOGUS);
		ldns_rr_list_deep_free(ns);
		ldns_pkt_free(pkt);
		free(wire);
	}
}

static void test_nsec_denial_nodata_and_cuts(void **state)
{
	static const char *const at_name[] = {
		DEN_C1 " 300 IN NSEC " DEN_C3 " TXT RRSIG NSEC",
		DEN_C1 " 300 IN RRSIG NSEC 13 7" DEN_SIG,
	};
	static const char *const alias[] = {
		DEN_C1 " 300 IN NSEC " DEN_C3 " CNAME RRSIG NSEC",
		DEN_C1 " 300 IN RRSIG NSEC 13 7" DEN_SIG,
	};
	/* example._signal.ns1.z.test has descendants and no records: empty non-terminal */
	static const char *const ent[] = {
		"ns1.z.test. 300 IN NSEC " DEN_C1 " A RRSIG NSEC",
		"ns1.z.test. 300 IN RRSIG NSEC 13 3" DEN_SIG,
	};
	/* _signal.ns1.z.test is delegated: the parent's NSEC there (NS, no SOA) proves
	 * nothing below it, nor of CDS at it; at a DNAME, nothing below it */
	static const char *const cut[] = {
		"_signal.ns1.z.test. 300 IN NSEC zz.z.test. NS RRSIG NSEC",
		"_signal.ns1.z.test. 300 IN RRSIG NSEC 13 4" DEN_SIG,
		"ns1.z.test. 300 IN NSEC _signal.ns1.z.test. A RRSIG NSEC",
		"ns1.z.test. 300 IN RRSIG NSEC 13 3" DEN_SIG,
	};
	static const char *const dname[] = {
		"_signal.ns1.z.test. 300 IN NSEC zz.z.test. DNAME RRSIG NSEC",
		"_signal.ns1.z.test. 300 IN RRSIG NSEC 13 4" DEN_SIG,
		"ns1.z.test. 300 IN NSEC _signal.ns1.z.test. A RRSIG NSEC",
		"ns1.z.test. 300 IN RRSIG NSEC 13 3" DEN_SIG,
	};
	/* the child's apex NSEC (SOA) may speak for its own name */
	static const char *const apex[] = {
		"_signal.ns1.z.test. 300 IN NSEC " DEN_C1 " NS SOA RRSIG NSEC DNSKEY",
		"_signal.ns1.z.test. 300 IN RRSIG NSEC 13 4 300 20261227224955 20261127214955 "
		"12345 _signal.ns1.z.test. "
		"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+Pw==",
	};
	/* signed by a zone that is not an ancestor of the name */
	static const char *const stranger[] = {
		DEN_C1 " 300 IN NSEC " DEN_C3 " TXT RRSIG NSEC",
		DEN_C1 " 300 IN RRSIG NSEC 13 7 300 20261227224955 20261127214955 12345 "
		"other.test. "
		"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+Pw==",
	};
	struct zc_denial d;
	(void)state;

	assert_int_equal(DEN(at_name, DEN_C1, LDNS_RR_TYPE_CDS, false, &d), 0);
	assert_int_equal(d.n, 1);
	zc_denial_release(&d);
	assert_int_equal(DEN(at_name, DEN_C1, LDNS_RR_TYPE_TXT, false, &d), ZC_EBOGUS);
	assert_int_equal(DEN(at_name, DEN_C1, LDNS_RR_TYPE_CDS, true, &d), ZC_EBOGUS);
	assert_int_equal(DEN(alias, DEN_C1, LDNS_RR_TYPE_CDS, false, &d), ZC_EBOGUS);
	assert_int_equal(DEN(ent, "example._signal.ns1.z.test.", LDNS_RR_TYPE_CDS, false, &d), 0);
	assert_int_equal(d.n, 1);
	zc_denial_release(&d);
	assert_int_equal(DEN(ent, "example._signal.ns1.z.test.", LDNS_RR_TYPE_CDS, true, &d),
			 ZC_EBOGUS);
	assert_int_equal(DEN(cut, "_dsboot.c2.example._signal.ns1.z.test.", LDNS_RR_TYPE_CDS, true,
			     &d),
			 ZC_EBOGUS);
	assert_int_equal(DEN(cut, "_signal.ns1.z.test.", LDNS_RR_TYPE_CDS, false, &d), ZC_EBOGUS);
	assert_int_equal(DEN(dname, "_dsboot.c2.example._signal.ns1.z.test.", LDNS_RR_TYPE_CDS,
			     true, &d),
			 ZC_EBOGUS);
	assert_int_equal(DEN(apex, "_signal.ns1.z.test.", LDNS_RR_TYPE_CDS, false, &d), 0);
	assert_true(signer_is(&d, "_signal.ns1.z.test."));
	zc_denial_release(&d);
	assert_int_equal(DEN(stranger, DEN_C1, LDNS_RR_TYPE_CDS, false, &d), ZC_EBOGUS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_name_from_str_table),
		cmocka_unit_test(test_name_length_limit),
		cmocka_unit_test(test_name_errors),
		cmocka_unit_test(test_name_to_str_escapes),
		cmocka_unit_test(test_name_at_or_below_table),
		cmocka_unit_test(test_name_cmp_rfc4034_order),
		cmocka_unit_test(test_rr_from_str_accepts),
		cmocka_unit_test(test_rr_from_str_rejects),
		cmocka_unit_test(test_rr_from_str_origin_ttl_limits),
		cmocka_unit_test(test_dsync_round_trip),
		cmocka_unit_test(test_dsync_generic_form),
		cmocka_unit_test(test_dsync_malformed),
		cmocka_unit_test(test_ds_rfc_vectors),
		cmocka_unit_test(test_ecdsa_der_like_openssl),
		cmocka_unit_test(test_ds_owner_case_and_cdnskey),
		cmocka_unit_test(test_ds_errors),
		cmocka_unit_test(test_key_identity),
		cmocka_unit_test(test_delete_records),
		cmocka_unit_test(test_delete_form_sets),
		cmocka_unit_test(test_rrset_equal_table),
		cmocka_unit_test(test_rdata_equal),
		cmocka_unit_test(test_rrset_canonicalize),
		cmocka_unit_test(test_rrset_extract),
		cmocka_unit_test(test_rrset_take_moves_what_extract_copies),
		cmocka_unit_test(test_rrsig_fixtures),
		cmocka_unit_test(test_rrsig_tampered_and_wrong_key),
		cmocka_unit_test(test_rrsig_key_conditions),
		cmocka_unit_test(test_rrsig_shapes),
		cmocka_unit_test(test_rrsig_malformed_and_ranking),
		cmocka_unit_test(test_rrsig_wildcard_expansion),
		cmocka_unit_test(test_rrsig_rfc6605),
		cmocka_unit_test(test_rrsig_unsupported_algorithm),
		cmocka_unit_test(test_rrsig_keytrap_limit),
		cmocka_unit_test(test_pkt_from_wire),
		cmocka_unit_test(test_pkt_opt_tsig_rules),
		cmocka_unit_test(test_pkt_answer_records),
		cmocka_unit_test(test_nsec_denial_nxdomain),
		cmocka_unit_test(test_nsec_denial_nodata_and_cuts),
		cmocka_unit_test(test_nsec_denial_real_answers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
