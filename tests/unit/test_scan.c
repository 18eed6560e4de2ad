/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of scan/: the first half of the decision (usable answers, agreement
 * between servers, delete forms, policy, CDS/CDNSKEY agreement, unchanged) with
 * fixed records, and the streaming delegation sources (zone file and list) with
 * their error paths. Signature paths are covered by the system tests, which
 * run real signers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "scan/internal.h"

/* RFC 4034 §5.4 example key and its SHA-1 DS; SHA-256 from RFC 4509 §2.3. */
#define KEY1 "dskey.example.com. 86400 IN DNSKEY 256 3 5 ( AQOeiiR0GOMYkDshWoSKz9Xz" \
	     "fwJr1AYtsmx3TGkJaNXVbfi/2pHm822aJ5iI9BMzNXxeYCmZDRD99WYwYqUSdjMmmAphXdvx" \
	     "egXd/M5+X7OrzKBaMbCVdFLUUh6DhweJBjEVv5f2wwjM9XzcnOf+EPbtG9DMBmADjFDc2w/r" \
	     "ljwvFw== )"
#define KEY2 "dskey.example.com. 86400 IN DNSKEY 257 3 13 ( mdsswUyr3DPW132mOi8V9xE" \
	     "Sbwq/x9jPNfzH6TZmOyM/ofG3S4FThjxKNqJRl+k08nvhGZHOnuo3H/w0FY1/Zg== )"

static ldns_rr *rr(const char *text)
{
	ldns_rr *r = NULL;

	assert_int_equal(zc_rr_from_str(text, 3600, NULL, &r), 0);
	return r;
}

static ldns_rr *cds_of(const char *key, enum zc_digest dt)
{
	ldns_rr *k = rr(key), *ds = NULL;

	assert_int_equal(zc_ds_from_key(k, dt, &ds), 0);
	ldns_rr_set_type(ds, LDNS_RR_TYPE_CDS);
	ldns_rr_free(k);
	return ds;
}

static ldns_rr *cdnskey_of(const char *key)
{
	ldns_rr *k = rr(key);

	ldns_rr_set_type(k, LDNS_RR_TYPE_CDNSKEY);
	return k;
}

struct fx {
	struct zc_delegation d;
	struct zc_scan_policy policy;
	struct scan_answer ans[3];
	struct scan_input in;
	struct scan_outcome out;
};

static void fx_init(struct fx *f, unsigned n_answers)
{
	memset(f, 0, sizeof(*f));
	assert_int_equal(zc_name_from_str("dskey.example.com.", &f->d.child), 0);
	f->d.ds = ldns_rr_list_new();
	zc_scan_policy_default(&f->policy);
	for (unsigned i = 0; i < n_answers; i++) {
		for (int t = 0; t < SQ_COUNT; t++) {
			f->ans[i].asked[t] = true;
			f->ans[i].aa[t] = true;
			f->ans[i].rrset[t] = ldns_rr_list_new();
			f->ans[i].rrsig[t] = ldns_rr_list_new();
		}
	}
	f->in = (struct scan_input){ .d = &f->d, .policy = &f->policy, .answers = f->ans,
				     .n_answers = n_answers };
}

static void fx_release(struct fx *f)
{
	for (unsigned i = 0; i < 3; i++) {
		scan_answer_release(&f->ans[i]);
	}
	ldns_rr_list_deep_free(f->out.ds_new);
	ldns_rdf_deep_free(f->d.child);
	ldns_rr_list_deep_free(f->d.ds);
}

static void put(struct fx *f, unsigned i, int t, ldns_rr *r)
{
	ldns_rr_list_push_rr(f->ans[i].rrset[t], r);
}

static void test_prepare_nothing_published_is_no_cds(void **state)
{
	struct fx f;

	(void)state;
	fx_init(&f, 2);
	assert_true(scan_prepare(&f.in, &f.out));
	assert_int_equal(f.out.result, ZC_SCAN_NO_CDS);
	assert_int_equal(f.out.reasons, 0);
	fx_release(&f);
}

static void test_prepare_all_servers_failing_is_error(void **state)
{
	struct fx f;

	(void)state;
	fx_init(&f, 2);
	f.ans[0].status[SQ_CDS] = ZC_ETIMEOUT;
	f.ans[1].rcode[SQ_DNSKEY] = LDNS_RCODE_REFUSED;
	assert_true(scan_prepare(&f.in, &f.out));
	assert_int_equal(f.out.result, ZC_SCAN_ERROR);
	assert_int_equal(f.out.reasons, (1u << ZC_R_TIMEOUT) | (1u << ZC_R_LAME));
	fx_release(&f);
}

static void test_prepare_not_authoritative_is_lame(void **state)
{
	struct fx f;
	uint32_t reasons = 0;

	(void)state;
	fx_init(&f, 1);
	f.ans[0].aa[SQ_CDNSKEY] = false;
	assert_false(scan_answer_usable(&f.ans[0], &reasons));
	assert_int_equal(reasons, 1u << ZC_R_LAME);
	fx_release(&f);
}

static void test_prepare_servers_disagree(void **state)
{
	struct fx f;

	(void)state;
	fx_init(&f, 2);
	put(&f, 0, SQ_CDS, cds_of(KEY2, ZC_DIGEST_SHA256));
	assert_true(scan_prepare(&f.in, &f.out));
	assert_int_equal(f.out.result, ZC_SCAN_REJECTED);
	assert_true(f.out.reasons & (1u << ZC_R_NS_INCONSISTENT));
	fx_release(&f);
}

static void test_prepare_disagreement_in_unused_digest_is_none(void **state)
{
	struct fx f;

	(void)state;
	fx_init(&f, 2);
	put(&f, 0, SQ_CDS, cds_of(KEY2, ZC_DIGEST_SHA256));
	put(&f, 0, SQ_CDS, cds_of(KEY2, ZC_DIGEST_SHA1)); /* SHA-1 is not used by the parent */
	put(&f, 1, SQ_CDS, cds_of(KEY2, ZC_DIGEST_SHA256));
	assert_false(scan_prepare(&f.in, &f.out));
	assert_int_equal(f.out.mode, ZC_SCAN_MODE_BOOTSTRAP);
	assert_int_equal(ldns_rr_list_rr_count(f.out.ds_new), 1);
	assert_int_equal(zc_ds_digest_type(ldns_rr_list_rr(f.out.ds_new, 0)), ZC_DIGEST_SHA256);
	assert_int_equal(ldns_rr_get_type(ldns_rr_list_rr(f.out.ds_new, 0)), LDNS_RR_TYPE_DS);
	fx_release(&f);
}

static void test_prepare_one_server_silent_while_cds_published(void **state)
{
	struct fx f;

	(void)state;
	fx_init(&f, 2);
	put(&f, 0, SQ_CDS, cds_of(KEY2, ZC_DIGEST_SHA256));
	f.ans[1].status[SQ_CDS] = ZC_ETIMEOUT;
	assert_true(scan_prepare(&f.in, &f.out));
	assert_int_equal(f.out.result, ZC_SCAN_ERROR);
	assert_int_equal(f.out.reasons, 1u << ZC_R_TIMEOUT);
	fx_release(&f);
}

static void test_prepare_sha1_only_is_digest_not_allowed(void **state)
{
	struct fx f;

	(void)state;
	fx_init(&f, 1);
	put(&f, 0, SQ_CDS, cds_of(KEY2, ZC_DIGEST_SHA1));
	assert_true(scan_prepare(&f.in, &f.out));
	assert_int_equal(f.out.result, ZC_SCAN_REJECTED);
	assert_int_equal(f.out.reasons, 1u << ZC_R_DIGEST_NOT_ALLOWED);
	fx_release(&f);
}

static void test_prepare_algorithm_not_allowed(void **state)
{
	struct fx f;

	(void)state;
	fx_init(&f, 1);
	put(&f, 0, SQ_CDNSKEY, cdnskey_of(KEY1)); /* algorithm 5, RSASHA1 */
	assert_true(scan_prepare(&f.in, &f.out));
	assert_int_equal(f.out.result, ZC_SCAN_REJECTED);
	assert_int_equal(f.out.reasons, 1u << ZC_R_ALGORITHM_NOT_ALLOWED);
	fx_release(&f);
}

static void test_prepare_cds_and_cdnskey_name_different_keys(void **state)
{
	struct fx f;

	(void)state;
	fx_init(&f, 1);
	f.policy.algorithms[f.policy.n_algorithms++] = 5;
	put(&f, 0, SQ_CDS, cds_of(KEY2, ZC_DIGEST_SHA256));
	put(&f, 0, SQ_CDNSKEY, cdnskey_of(KEY1));
	assert_true(scan_prepare(&f.in, &f.out));
	assert_int_equal(f.out.result, ZC_SCAN_REJECTED);
	assert_int_equal(f.out.reasons, 1u << ZC_R_CDS_CDNSKEY_MISMATCH);
	fx_release(&f);
}

static void test_prepare_cdnskey_only_makes_sha256_ds(void **state)
{
	struct fx f;
	ldns_rr *expect = cds_of(KEY2, ZC_DIGEST_SHA256);

	(void)state;
	fx_init(&f, 1);
	put(&f, 0, SQ_CDNSKEY, cdnskey_of(KEY2));
	assert_false(scan_prepare(&f.in, &f.out));
	assert_int_equal(ldns_rr_list_rr_count(f.out.ds_new), 1);
	assert_true(zc_rdata_equal(ldns_rr_list_rr(f.out.ds_new, 0), expect));
	ldns_rr_free(expect);
	fx_release(&f);
}

static void test_prepare_equal_to_ds_is_unchanged(void **state)
{
	struct fx f;
	ldns_rr *ds = cds_of(KEY2, ZC_DIGEST_SHA256);

	(void)state;
	fx_init(&f, 2);
	ldns_rr_set_type(ds, LDNS_RR_TYPE_DS);
	ldns_rr_list_push_rr(f.d.ds, ds);
	for (unsigned i = 0; i < 2; i++) {
		put(&f, i, SQ_CDS, cds_of(KEY2, ZC_DIGEST_SHA256));
		put(&f, i, SQ_CDNSKEY, cdnskey_of(KEY2));
	}
	assert_true(scan_prepare(&f.in, &f.out));
	assert_int_equal(f.out.result, ZC_SCAN_UNCHANGED);
	assert_int_equal(f.out.mode, ZC_SCAN_MODE_ROLLOVER);
	assert_int_equal(ldns_rr_list_rr_count(f.out.ds_new), 1);
	fx_release(&f);
}

static void test_prepare_delete_forms(void **state)
{
	struct fx f;

	(void)state;
	/* a valid delete of an unsecured delegation: nothing to do */
	fx_init(&f, 1);
	put(&f, 0, SQ_CDS, rr("dskey.example.com. 0 IN CDS 0 0 0 00"));
	assert_true(scan_prepare(&f.in, &f.out));
	assert_int_equal(f.out.result, ZC_SCAN_UNCHANGED);
	assert_int_equal(f.out.mode, ZC_SCAN_MODE_DELETE);
	assert_int_equal(ldns_rr_list_rr_count(f.out.ds_new), 0);
	fx_release(&f);

	/* a delete mixed with a key: malformed */
	fx_init(&f, 1);
	put(&f, 0, SQ_CDS, rr("dskey.example.com. 0 IN CDS 0 0 0 00"));
	put(&f, 0, SQ_CDS, cds_of(KEY2, ZC_DIGEST_SHA256));
	assert_true(scan_prepare(&f.in, &f.out));
	assert_int_equal(f.out.result, ZC_SCAN_REJECTED);
	assert_int_equal(f.out.reasons, 1u << ZC_R_DELETE_MALFORMED);
	fx_release(&f);

	/* CDS delete but CDNSKEY names a key: they disagree */
	fx_init(&f, 1);
	put(&f, 0, SQ_CDS, rr("dskey.example.com. 0 IN CDS 0 0 0 00"));
	put(&f, 0, SQ_CDNSKEY, cdnskey_of(KEY2));
	assert_true(scan_prepare(&f.in, &f.out));
	assert_int_equal(f.out.result, ZC_SCAN_REJECTED);
	assert_int_equal(f.out.reasons, 1u << ZC_R_CDS_CDNSKEY_MISMATCH);
	fx_release(&f);

	/* a secured delegation asking for delete: authentication follows */
	fx_init(&f, 1);
	ldns_rr_list_push_rr(f.d.ds, rr("dskey.example.com. 3600 IN DS 60485 5 1 "
					"2BB183AF5F22588179A53B0A98631FAD1A292118"));
	put(&f, 0, SQ_CDNSKEY, rr("dskey.example.com. 0 IN CDNSKEY 0 3 0 AA=="));
	assert_false(scan_prepare(&f.in, &f.out));
	assert_int_equal(f.out.mode, ZC_SCAN_MODE_DELETE);
	fx_release(&f);
}

static void test_prepare_too_many_records(void **state)
{
	struct fx f;

	(void)state;
	fx_init(&f, 1);
	f.policy.max_records = 1;
	put(&f, 0, SQ_CDS, cds_of(KEY2, ZC_DIGEST_SHA256));
	put(&f, 0, SQ_CDS, cds_of(KEY2, ZC_DIGEST_SHA384));
	assert_true(scan_prepare(&f.in, &f.out));
	assert_int_equal(f.out.reasons, 1u << ZC_R_TOO_MANY_RECORDS);
	fx_release(&f);
}

/* --- sources ----------------------------------------------------------- */

static char *tmpfile_with(const char *text)
{
	char *path = strdup("/tmp/zc-test-scan-XXXXXX");
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

static const char ZONE[] =
	"$ORIGIN example.\n"
	"$TTL 3600\n"
	"@ IN SOA ns.example. host.example. 1 3600 600 86400 300\n"
	"@ IN NS ns.example.\n"
	"ns IN A 192.0.2.53\n"
	"a IN NS ns1.a\n"
	"a IN NS ns.provider.net.\n"
	"a IN DS 60485 5 1 2BB183AF5F22588179A53B0A98631FAD1A292118\n"
	"ns1.a IN A 192.0.2.1\n"
	"ns1.a IN AAAA 2001:db8::1\n"
	"sub.a IN NS ns.elsewhere.net.\n" /* occluded below a. */
	"b IN DS 60485 5 1 2BB183AF5F22588179A53B0A98631FAD1A292118\n"
	"b IN NS NS.PROVIDER.NET.\n"
	"c IN TXT \"not a delegation\"\n"
	"d IN NS ns1.a.example.\n";

static void test_zone_source_streams_delegations(void **state)
{
	char *path = tmpfile_with(ZONE);
	struct zc_scan_source *src = NULL;
	struct zc_delegation *d = NULL;
	char err[256] = "", name[ZC_DNS_MAX_NAME_TEXT];

	(void)state;
	assert_int_equal(zc_zone_source_new(path, NULL, &src, err, sizeof(err)), 0);
	assert_int_equal(zc_name_to_str(zc_zone_source_origin(src), name, sizeof(name)), 0);
	assert_string_equal(name, "example.");

	assert_int_equal(src->next(src, &d), 0);
	assert_int_equal(zc_name_to_str(d->child, name, sizeof(name)), 0);
	assert_string_equal(name, "a.example.");
	assert_int_equal(d->n_ns, 2);
	assert_int_equal(d->ns[0].n_glue, 2); /* A and AAAA glue, found after the NS */
	assert_int_equal(d->ns[1].n_glue, 0);
	assert_int_equal(ldns_rr_list_rr_count(d->ds), 1);
	assert_int_equal(d->seq, 0);
	zc_delegation_free(d);

	assert_int_equal(src->next(src, &d), 0);
	assert_int_equal(zc_name_to_str(d->child, name, sizeof(name)), 0);
	assert_string_equal(name, "b.example."); /* DS before NS is fine */
	assert_int_equal(zc_name_to_str(d->ns[0].name, name, sizeof(name)), 0);
	assert_string_equal(name, "ns.provider.net.");
	assert_int_equal(ldns_rr_list_rr_count(d->ds), 1);
	zc_delegation_free(d);

	assert_int_equal(src->next(src, &d), 0);
	assert_int_equal(zc_name_to_str(d->child, name, sizeof(name)), 0);
	assert_string_equal(name, "d.example.");
	assert_int_equal(d->ns[0].n_glue, 2); /* glue shared with a. */
	assert_int_equal(ldns_rr_list_rr_count(d->ds), 0);
	zc_delegation_free(d);

	assert_int_equal(src->next(src, &d), 1);
	src->free(src);
	unlink(path);
	free(path);
}

static void test_zone_source_only_child(void **state)
{
	char *path = tmpfile_with(ZONE);
	struct zc_scan_source *src = NULL;
	struct zc_delegation *d = NULL;
	char err[256] = "", name[ZC_DNS_MAX_NAME_TEXT];

	(void)state;
	assert_int_equal(zc_zone_source_new(path, "B.Example", &src, err, sizeof(err)), 0);
	assert_int_equal(src->next(src, &d), 0);
	assert_int_equal(zc_name_to_str(d->child, name, sizeof(name)), 0);
	assert_string_equal(name, "b.example.");
	zc_delegation_free(d);
	assert_int_equal(src->next(src, &d), 1);
	src->free(src);
	unlink(path);
	free(path);
}

static void test_zone_source_errors(void **state)
{
	static const struct {
		const char *text;
		const char *msg;
	} cases[] = {
		{ "a.example. 3600 IN NS ns.example.\n", "first record must be the SOA" },
		{ "example. 3600 IN SOA ns. h. 1 2 3 4 5\n"
		  "a.example. 3600 IN NS ns.x.\n"
		  "b.example. 3600 IN NS ns.x.\n"
		  "a.example. 3600 IN DS 1 13 2 AABB\n",
		  "not together" },
		{ "example. 3600 IN SOA ns. h. 1 2 3 4 5\n"
		  "a.example. 3600 IN NS\n",
		  ":2:" },
		{ "example. 3600 IN SOA ns. h. 1 2 3 4 5\n"
		  "a.other. 3600 IN NS ns.x.\n",
		  "outside the zone" },
		{ "", "no records" },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *path = tmpfile_with(cases[i].text);
		struct zc_scan_source *src = NULL;
		char err[512] = "";

		assert_int_equal(zc_zone_source_new(path, NULL, &src, err, sizeof(err)), ZC_EMALF);
		assert_null(src);
		if (!strstr(err, cases[i].msg)) {
			fail_msg("case %zu: '%s' lacks '%s'", i, err, cases[i].msg);
		}
		unlink(path);
		free(path);
	}
	{
		struct zc_scan_source *src = NULL;
		char err[512] = "";

		assert_int_equal(zc_zone_source_new("/nonexistent/zone", NULL, &src, err, sizeof(err)),
				 -ENOENT);
		/* a read error is one (it used to be taken for the end, over and over) */
		assert_int_equal(zc_zone_source_new("/", NULL, &src, err, sizeof(err)), -EISDIR);
		assert_null(src);
		assert_non_null(strstr(err, "Is a directory"));
	}
}

static void test_list_source(void **state)
{
	char *path = tmpfile_with("# registrar list\n"
				  "a.example ns1.provider.net ns2.provider.net=192.0.2.7,2001:db8::7\n"
				  "\n"
				  "b.example. ns1.provider.net.   # comment\n");
	struct zc_scan_source *src = NULL;
	struct zc_delegation *d = NULL;
	char err[256] = "";

	(void)state;
	assert_int_equal(zc_list_source_new(path, NULL, &src, err, sizeof(err)), 0);
	assert_int_equal(src->next(src, &d), 0);
	assert_true(d->ds_from_dns);
	assert_int_equal(d->n_ns, 2);
	assert_int_equal(d->ns[1].n_glue, 2);
	zc_delegation_free(d);
	assert_int_equal(src->next(src, &d), 0);
	assert_int_equal(d->n_ns, 1);
	assert_int_equal(d->seq, 1);
	zc_delegation_free(d);
	assert_int_equal(src->next(src, &d), 1);
	src->free(src);
	unlink(path);
	free(path);

	/* bad lines are found before anything is scanned, wherever they are */
	path = tmpfile_with("ok.example ns1.provider.net\na.example ns1.provider.net=not-an-ip\n");
	src = NULL;
	assert_int_equal(zc_list_source_new(path, NULL, &src, err, sizeof(err)), ZC_EMALF);
	assert_null(src);
	assert_non_null(strstr(err, ":2: 'not-an-ip'"));
	unlink(path);
	free(path);

	path = tmpfile_with("lonely.example\n");
	assert_int_equal(zc_list_source_new(path, NULL, &src, err, sizeof(err)), ZC_EMALF);
	assert_non_null(strstr(err, ":1: no nameserver"));
	unlink(path);
	free(path);
}

static void test_names_of_results_and_reasons(void **state)
{
	(void)state;
	assert_string_equal(zc_scan_result_str(ZC_SCAN_NO_CDS), "no-cds");
	assert_string_equal(zc_scan_result_str(ZC_SCAN_ERROR), "error");
	assert_string_equal(zc_scan_mode_str(ZC_SCAN_MODE_BOOTSTRAP), "bootstrap");
	assert_null(zc_scan_mode_str(ZC_SCAN_MODE_NONE));
	for (int r = 0; r < ZC_R_COUNT; r++) {
		assert_non_null(zc_scan_reason_str(r));
		assert_string_not_equal(zc_scan_reason_str(r), "unknown");
	}
	assert_string_equal(zc_scan_reason_str(ZC_R_BOOTSTRAP_NO_OUT_OF_CHILD_NS),
			    "bootstrap-no-out-of-child-ns");
}

/*
 * Zone files with the corners of the format (parentheses, comments, quotes,
 * escapes, '\f', '\v', NUL, CR, $ORIGIN, $TTL, omitted owners, glue, occlusion,
 * limits) and errors, and what zonecut 0.1 made of them with ldns reading every
 * line: the delegations, or the error with its line number. The reader must give
 * the same, with the spool and without.
 */
#define ZC(s) s, sizeof(s) - 1
static const struct {
	const char *text;
	size_t len;
	const char *only;
} ZCASES[] = {
	/* relative names, omitted owners, comments, parentheses, escapes, glue */
	{ ZC("$ORIGIN Example.\n"
	     "$TTL 1h\n"
	     "@ IN SOA ns.example. host.example. ( 1 ; serial\n"
	     " 3600 600\n"
	     " 86400 300 )\n"
	     "@ NS ns\n"
	     "ns A 192.0.2.53\n"
	     "a 3600 IN NS ns1.a\n"
	     "  IN NS NS.Provider.NET. ; omitted owner\n"
	     "\tIN DS 60485 5 1 ( 2BB183AF5F22588179A53B0A98631FAD1A292118 ) ; paren\n"
	     "ns1.a IN A 192.0.2.1\n"
	     "ns1.a IN AAAA 2001:db8::1\n"
	     "ns1.a IN AAAA ::ffff:192.0.2.9\n"
	     "sub.a IN NS ns.elsewhere.net.\n"
	     "b.example. 300 IN DS 1 ECDSAP256SHA256 2 (\n"
	     "  AABBCCDDEEFF00112233445566778899\n"
	     "  AABBCCDDEEFF00112233445566778899 )\n"
	     "b.example. 300 IN NS ns1.a.example.\n"
	     "B.EXAMPLE. 300 IN NS ns1.A.example.\n"
	     "c IN TXT \"not ; a ( delegation\"\n"
	     "d IN NS \\# 0\n"
	     "e IN NS e\\.x.example.\n"
	     "f IN NS ns.f\r\n"
	     "h 60 NS ns.h.example.\n"
	     "i.example. 3600 IN NS ns1.i.example.\n"
	     "i.example. 3600 in ns ns2.i.example.\n"
	     "ns1.i.example. 3600 IN A 192.0.2.10\n"
	     "ns1.i.example. 3600 IN A 192.0.2.11\n"
	     "ns2.i.example. 3600 IN A \\# 4 C0000214\n"
	     "\n\n   \n"
	     "\\106 IN NS ns.j.example.\n"
	     "k.example. 3600 IN DS 12345 13 2 0b01d44b11db22866ecec "
	     "ee535a2636fab90af926a69f8a3f333d25fa51d7a87\n"
	     "k IN NS ns.k.example.\n"
	     "m IN NS ( ns.m.example.\n"
	     " ) \n"
	     "n IN NS ns.n.example. ; comment with \"quote\n"
	     "o\tIN\tNS\tns.o.example.\t\n"
	     "p.example. 3600 IN NS ns.p.example.   \n"
	     "q.example. 3600 IN NS ns1.x.\n"
	     "\tIN DS 1 13 2 AABB\n"
	     "r.example. 3600 IN NS @\n"
	     "s.example. 3600 IN DS 1 13 2 AABB\n"
	     "t.example. 3600 IN NS ns.t.example.\n"
	     "z IN NS ns.z.example."),
	  NULL },
	{ ZC("$ORIGIN Example.\n"
	     "@ 3600 IN SOA ns.example. host.example. 1 2 3 4 5\n"
	     "g IN 7200 NS ns.g.example.\n"),
	  NULL },
	/* more than 16 nameservers, duplicates in other case, glue limits */
	{ ZC("example. 3600 IN SOA ns.example. host.example. 1 2 3 4 5\n"
	     "a.example. 3600 IN NS ns01.a.example.\n"
	     "a.example. 3600 IN NS NS01.A.EXAMPLE.\n"
	     "a.example. 3600 IN NS ns02.a.example.\n"
	     "a.example. 3600 IN NS ns03.a.example.\n"
	     "a.example. 3600 IN NS ns04.a.example.\n"
	     "a.example. 3600 IN NS ns05.a.example.\n"
	     "a.example. 3600 IN NS ns06.a.example.\n"
	     "a.example. 3600 IN NS ns07.a.example.\n"
	     "a.example. 3600 IN NS ns08.a.example.\n"
	     "a.example. 3600 IN NS ns09.a.example.\n"
	     "a.example. 3600 IN NS ns10.a.example.\n"
	     "a.example. 3600 IN NS ns11.a.example.\n"
	     "a.example. 3600 IN NS ns12.a.example.\n"
	     "a.example. 3600 IN NS ns13.a.example.\n"
	     "a.example. 3600 IN NS ns14.a.example.\n"
	     "a.example. 3600 IN NS ns15.a.example.\n"
	     "a.example. 3600 IN NS ns16.a.example.\n"
	     "a.example. 3600 IN NS ns17.a.example.\n"
	     "a.example. 3600 IN NS ns18.a.example.\n"
	     "a.example. 3600 IN NS ns01.a.example.\n"
	     "a.example. 3600 IN DS 1 13 2 AABB\n"
	     "a.example. 3600 IN DS 1 13 2 aabb\n"
	     "a.example. 3600 IN DS 2 13 2 0011\n"
	     "ns01.a.example. 3600 IN A 192.0.2.1\n"
	     "ns01.a.example. 3600 IN A 192.0.2.2\n"
	     "ns01.a.example. 3600 IN A 192.0.2.3\n"
	     "ns01.a.example. 3600 IN A 192.0.2.4\n"
	     "ns01.a.example. 3600 IN A 192.0.2.5\n"
	     "NS01.a.example. 3600 IN AAAA 2001:db8::1\n"
	     "ns01.a.example. 3600 IN AAAA 2001:db8::2\n"
	     "ns01.a.example. 3600 IN AAAA 2001:db8::3\n"
	     "ns01.a.example. 3600 IN AAAA 2001:db8::4\n"
	     "ns02.a.example. 3600 IN A 192.0.2.20\n"
	     "example. 3600 IN A 192.0.2.99\n"
	     "example. 3600 IN DS 1 13 2 AABB\n"
	     "b.example. 3600 IN DS 1 13 2 AABB\n"
	     "c.example. 3600 IN NS ns01.a.example.\n"
	     "c.example. 3600 IN NS ns.example.\n"
	     "ns.example. 3600 IN A 192.0.2.53\n"),
	  NULL },
	/* form feed, vertical tab, NUL, CRLF, a backslash before the newline */
	{ ZC("example. 3600 IN SOA ns.example. host.example. 1 2 3 4 5\r\n"
	     "a.example. 3600 IN NS ns.a.example.\fb.example. 3600 IN NS ns.b.example.\r\n"
	     "c.example. 3600 IN NS ns.c.example.\vd.example. 3600 IN NS ns.d.example.\n"
	     "e.example. 3600 IN NS ns.e.ex\0ample.\n"
	     "f.example. 3600 IN NS ns.f.example.\n\r\n\f\n"
	     "i.example. 3600 IN NS ( ns.i.example.\f )\n"
	     "k\\(x.example. 3600 IN NS ns.k.example.\n"
	     "l.example. 3600 IN NS ns.l.example. ) \n"
	     "m.example. 3600 IN NS ns.m.example.\n"
	     "n.example. 3600 IN TXT \"a;b(c\" \"d\\\"e\"\n"
	     "n.example. 3600 IN NS ns.n.example.\n"),
	  NULL },
	{ ZC("example. 3600 IN SOA ns.example. host.example. 1 2 3 4 5\r\n"
	     "g.example. 3600 IN NS ns.g.example.\\\n"
	     "h.example. 3600 IN NS ns.h.example.\n"),
	  NULL },
	{ ZC("example. 3600 IN SOA ns.example. host.example. 1 2 3 4 5\r\n"
	     "j.example. 3600 IN NS ns.j.\vexample.\n"),
	  NULL },
	{ ZC("example. 3600 IN SOA ns.example. host.example. 1 2 3 4 5\r\n"
	     "a.example. 3600 IN NS ns.a.example.\n"
	     "\n"
	     "\n"),
	  NULL },
	{ ZC("example. 3600 IN SOA ns.example. host.example. 1 2 3 4 5\r\n"
	     "a.example. 3600 IN NS ns.a.example.\n"
	     "   \n"
	     "\r\n"),
	  NULL },
	{ ZC("example. 3600 IN SOA ns.example. host.example. 1 2 3 4 5\r\n"
	     "a.example. 3600 IN NS ns.a.example.\n"
	     "b.example. 3600 IN NS ns.b.example.\\"),
	  NULL },
	/* an unclosed parenthesis at the end */
	{ ZC("example. 3600 IN SOA ns.example. host.example. 1 2 3 4 5\n"
	     "a.example. 3600 IN NS ns.a.example.\n"
	     "b.example. 3600 IN NS ( ns.b.example.\n"
	     "c.example. 3600 IN NS ns.c.example.\n"),
	  NULL },
	/* $ORIGIN and $TTL on the way, relative names, @ */
	{ ZC("$TTL 300\n"
	     "$ORIGIN example.\n"
	     "@ SOA ns host 1 2 3 4 5\n"
	     "$ORIGIN sub.example.\n"
	     "a NS ns.a\n"
	     "ns.a A 192.0.2.1\n"
	     "$ORIGIN example.\n"
	     "$TTL\t60\n"
	     "b NS @\n"
	     "b DS 1 13 2 AABB\n"
	     "; just a comment\n"
	     "   ; indented comment\n"
	     "c.example. 3600 IN NS ns.c.example.\n"
	     "c.example. 3600 IN DS 7 8 1 ( 00 11\n"
	     "  22 33 ) ; trailing\n"
	     "D.Example. 3600 IN NS ns.d.example.\n"
	     "  3600 IN NS ns2.d.example.\n"),
	  NULL },
	/* --only */
	{ ZC("example. 3600 IN SOA ns.example. host.example. 1 2 3 4 5\n"
	     "a.example. 3600 IN NS ns.a.example.\n"
	     "b.example. 3600 IN NS ns.b.example.\n"
	     "b.example. 3600 IN DS 1 13 2 AABB\n"
	     "c.example. 3600 IN NS ns.c.example.\n"),
	  "B.Example" },
	{ ZC("example. 3600 IN SOA ns.example. host.example. 1 2 3 4 5\n"
	     "a.example. 3600 IN NS ns.a.example.\n"),
	  "nothere.example" },
	/* long lines, long digests, many tokens */
	{ ZC("example. 3600 IN SOA ns.example. host.example. 1 2 3 4 5\n"
	     "a.example. 3600 IN DS 1 13 2 00 11 22 33 44 55 66 77 88 99 AA BB CC DD EE FF 00 11\n"
	     "a.example. 3600 IN DS 1 13 4 "
	     "00112233445566778899AABBCCDDEEFF00112233445566778899AABBCCDDEEFF"
	     "00112233445566778899AABBCCDDEEFF00112233445566778899AABBCCDDEEFF"
	     "00112233445566778899AABBCCDDEEFF00112233445566778899AABBCCDDEEFF"
	     "00112233445566778899AABBCCDDEEFF00112233445566778899AABBCCDDEEFF"
	     "00112233445566778899AABBCCDDEEFF00112233445566778899AABBCCDDEEFF\n"
	     "a.example. 3600 IN NS "
	     "ns.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.example.\n"
	     "a.example.                                                                         "
	     "                                                                                   "
	     "                                                                                   "
	     "                                                                                   "
	     "                                                                                   "
	     "                                                                                   "
	     "                                                                                   "
	     "                                                                                   "
	     "                                                                                   "
	     "                                                                                   "
	     "                                                                                   "
	     "                                                                                   "
	     "                                                                                   "
	     " 3600 IN NS ns2.a.example.\n"
	     "b.example. 2147483647 IN NS ns.b.example.\n"
	     "c.example. 2147483648 IN NS ns.c.example.\n"
	     "d.example. 0 IN NS ns.d.example.\n"
	     "e.example. 3600 IN DS 65535 255 255 ff\n"
	     "e.example. 3600 IN NS ns.e.example.\n"),
	  NULL },
	/* errors */
	{ ZC("a.example. 3600 IN NS ns.example.\n"), NULL },
	{ ZC("example. 3600 IN SOA ns.example. h. 1 2 3 4 5\n"
	     "a.example. 3600 IN NS ns.x.\n"
	     "b.example. 3600 IN NS ns.x.\n"
	     "a.example. 3600 IN DS 1 13 2 AABB\n"),
	  NULL },
	{ ZC("example. 3600 IN SOA ns.example. h. 1 2 3 4 5\n"
	     "a.example. 3600 IN NS\n"
	     "b.example. 3600 IN NS ns.x.\n"),
	  NULL },
	{ ZC("example. 3600 IN SOA ns.example. h. 1 2 3 4 5\n"
	     "a.example. 3600 IN NS ns.x.\n"
	     "a.example. 3600 IN NS ns..x.\n"
	     "\n"
	     "\n"
	     "; comment\n"
	     "b.example. 3600 IN NS ns.x.\n"),
	  NULL },
	{ ZC("example. 3600 IN SOA ns.example. h. 1 2 3 4 5\n"
	     "a.example. 3600 IN DS 1 13 2 (\n"
	     "  AABB\n"
	     "  ZZ )\n"
	     "b.example. 3600 IN NS ns.x.\n"),
	  NULL },
	{ ZC("example. 3600 IN SOA ns.example. h. 1 2 3 4 5\n"
	     "$INCLUDE other.zone\n"),
	  NULL },
	{ ZC("example. 3600 IN SOA ns.example. h. 1 2 3 4 5\n"
	     "a.example. 3600 CH NS ns.x.\n"),
	  NULL },
	{ ZC("example. 3600 IN SOA ns.example. h. 1 2 3 4 5\n"
	     "a.example. 3600 IN NS ns.x.\n"
	     "a.other. 3600 IN NS ns.x.\n"),
	  NULL },
	{ ZC("example. 3600 IN SOA ns.example. h. 1 2 3 4 5\n"
	     "a.example. 3600 IN NS ns.x.\n"
	     "b.example. 3600 IN NS"),
	  NULL },
	{ ZC("example. 3600 IN SOA ns.example. h. 1 2 3 4 5\n"
	     "a.example. 3600 IN NS ns.x.\n"
	     "b.example. 3600 IN FOO ns.x.\n"),
	  NULL },
	{ ZC("example. 3600 IN SOA ns.example. h. 1 2 3 4 5\n"
	     "a.example. 3600 IN TXT \"abc\n"
	     "def\"\n"
	     "b.example. 3600 IN NS ns.x.\n"),
	  NULL },
	{ ZC("example. 3600 IN SOA ns.example. h. 1 2 3 4 5\n"
	     "a.example. 3600 IN A 192.0.2.300\n"),
	  NULL },
	{ ZC("example. 3600 IN SOA ns.example. h. 1 2 3 4 5\n"
	     "$ORIGIN bad..name.\n"),
	  NULL },
	{ ZC("; nothing\n\n   \n"), NULL },
	{ ZC(""), NULL },
	{ ZC("example. 3600 IN SOA ns.example. h. 1 2 3 4 5\n"
	     "a.example. 3600 IN NS ns.x.\n"
	     "$ORIGINx\n"),
	  NULL },
	{ ZC("example. 3600 IN SOA ns.example. h. 1 2 3 4 5\n"
	     ")\n"
	     "a.example. 3600 IN NS ns.x.\n"),
	  NULL },
};

static const char *const ZEXPECT[] = {
	/* 0 */ "a.example. 0 0\n"
		" ns ns1.a.example. 192.0.2.1 2001:db8::1 ::ffff:192.0.2.9\n"
		" ns ns.provider.net.\n"
		" ds a.Example.\t3600\tIN\tDS\t60485 5 1 2bb183af5f22588179a53b0a98631fad1a292118\n"
		"b.example. 1 0\n"
		" ns ns1.a.example. 192.0.2.1 2001:db8::1 ::ffff:192.0.2.9\n"
		" ds b.example.\t300\tIN\tDS\t1 13 2 "
		"aabbccddeeff00112233445566778899aabbccddeeff00112233445566778899\n"
		"e.example. 2 0\n"
		" ns e\\.x.example.\n"
		"f.example. 3 0\n"
		" ns ns.f.example.\n"
		"h.example. 4 0\n"
		" ns ns.h.example.\n"
		"i.example. 5 0\n"
		" ns ns1.i.example. 192.0.2.10 192.0.2.11\n"
		" ns ns2.i.example. 192.0.2.20\n"
		"j.example. 6 0\n"
		" ns ns.j.example.\n"
		"k.example. 7 0\n"
		" ns ns.k.example.\n"
		" ds k.example.\t3600\tIN\tDS\t12345 13 2 "
		"0b01d44b11db22866ececee535a2636fab90af926a69f8a3f333d25fa51d7a87\n"
		"m.example. 8 0\n"
		" ns ns.m.example.\n"
		"n.example. 9 0\n"
		" ns ns.n.example.\n"
		"o.example. 10 0\n"
		" ns ns.o.example.\n"
		"p.example. 11 0\n"
		" ns ns.p.example.\n"
		"q.example. 12 0\n"
		" ns ns1.x.\n"
		" ds q.example.\t3600\tIN\tDS\t1 13 2 aabb\n"
		"r.example. 13 0\n"
		" ns example.\n"
		"t.example. 14 0\n"
		" ns ns.t.example.\n"
		"z.example. 15 0\n"
		" ns ns.z.example.\n"
		"",
	/* 1 */
	"error -1000 :3: Syntax error, could not parse the RR's rdata\n"
	"",
	/* 2 */
	"a.example. 0 2\n"
	" ns ns01.a.example. 192.0.2.1 192.0.2.2 192.0.2.3 192.0.2.4 192.0.2.5 2001:db8::1 "
	"2001:db8::2 2001:db8::3\n"
	" ns ns02.a.example. 192.0.2.20\n"
	" ns ns03.a.example.\n"
	" ns ns04.a.example.\n"
	" ns ns05.a.example.\n"
	" ns ns06.a.example.\n"
	" ns ns07.a.example.\n"
	" ns ns08.a.example.\n"
	" ns ns09.a.example.\n"
	" ns ns10.a.example.\n"
	" ns ns11.a.example.\n"
	" ns ns12.a.example.\n"
	" ns ns13.a.example.\n"
	" ns ns14.a.example.\n"
	" ns ns15.a.example.\n"
	" ns ns16.a.example.\n"
	" ds a.example.\t3600\tIN\tDS\t1 13 2 aabb\n"
	" ds a.example.\t3600\tIN\tDS\t2 13 2 0011\n"
	"c.example. 1 0\n"
	" ns ns01.a.example. 192.0.2.1 192.0.2.2 192.0.2.3 192.0.2.4 192.0.2.5 2001:db8::1 "
	"2001:db8::2 2001:db8::3\n"
	" ns ns.example. 192.0.2.53\n"
	"",
	/* 3 */
	"a.example. 0 0\n"
	" ns ns.a.example.\n"
	"b.example. 1 0\n"
	" ns ns.b.example.\n"
	"c.example. 2 0\n"
	" ns ns.c.example.\n"
	"d.example. 3 0\n"
	" ns ns.d.example.\n"
	"e.example. 4 0\n"
	" ns ns.e.example.\n"
	"f.example. 5 0\n"
	" ns ns.f.example.\n"
	"i.example. 6 0\n"
	" ns ns.i.example.\n"
	"k\\(x.example. 7 0\n"
	" ns ns.k.example.\n"
	"l.example. 8 0\n"
	" ns ns.l.example.\n"
	"m.example. 9 0\n"
	" ns ns.m.example.\n"
	"n.example. 10 0\n"
	" ns ns.n.example.\n"
	"",
	/* 4 */
	"error -1000 :3: Syntax error, superfluous text present\n"
	"",
	/* 5 */
	"error -1000 :2: Syntax error, could not parse the RR's TTL\n"
	"",
	/* 6 */
	"a.example. 0 0\n"
	" ns ns.a.example.\n"
	"",
	/* 7 */
	"a.example. 0 0\n"
	" ns ns.a.example.\n"
	"",
	/* 8 */
	"error -1000 :2: Syntax error, could not parse the RR's rdata\n"
	"",
	/* 9 */
	"error -1000 :4: Syntax error, superfluous text present\n"
	"",
	/* 10 */
	"a.sub.example. 0 0\n"
	" ns ns.a.sub.example. 192.0.2.1\n"
	"b.example. 1 0\n"
	" ns example.\n"
	" ds b.example.\t60\tIN\tDS\t1 13 2 aabb\n"
	"c.example. 2 0\n"
	" ns ns.c.example.\n"
	" ds c.example.\t3600\tIN\tDS\t7 8 1 00112233\n"
	"d.example. 3 0\n"
	" ns ns.d.example.\n"
	" ns ns2.d.example.\n"
	"",
	/* 11 */
	"b.example. 0 0\n"
	" ns ns.b.example.\n"
	" ds b.example.\t3600\tIN\tDS\t1 13 2 aabb\n"
	"",
	/* 12 */ "",
	/* 13 */
	"a.example. 0 0\n"
	" ns ns.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.example.\n"
	" ns ns2.a.example.\n"
	" ds a.example.\t3600\tIN\tDS\t1 13 2 00112233445566778899aabbccddeeff0011\n"
	" ds a.example.\t3600\tIN\tDS\t1 13 4 "
	"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff00112233445566778899aabbcc"
	"ddeeff00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff00112233445566778899"
	"aabbccddeeff00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff00112233445566"
	"778899aabbccddeeff00112233445566778899aabbccddeeff\n"
	"b.example. 1 0\n"
	" ns ns.b.example.\n"
	"c.example. 2 0\n"
	" ns ns.c.example.\n"
	"d.example. 3 0\n"
	" ns ns.d.example.\n"
	"e.example. 4 0\n"
	" ns ns.e.example.\n"
	" ds e.example.\t3600\tIN\tDS\t65535 255 255 ff\n"
	"",
	/* 14 */
	"error -1000 :1: the first record must be the SOA of the parent zone\n"
	"",
	/* 15 */
	"error -1000 :4: the records of 'a.example.' are not together (sort the zone by owner, "
	"e.g. with ldns-read-zone or named-compilezone)\n"
	"",
	/* 16 */
	"error -1000 :2: Syntax error, value expected\n"
	"",
	/* 17 */
	"error -1000 :5: Syntax error, could not parse the RR's rdata\n"
	"",
	/* 18 */
	"error -1000 :4: Syntax error, could not parse the RR's rdata\n"
	"",
	/* 19 */
	"error -1000 :2: $INCLUDE is not supported\n"
	"",
	/* 20 */
	"error -1000 :2: only class IN is supported\n"
	"",
	/* 21 */
	"error -1000 :3: record outside the zone\n"
	"",
	/* 22 */
	"error -1000 :2: Syntax error, value expected\n"
	"",
	/* 23 */
	"error -1000 :3: Syntax error, could not parse the RR's rdata\n"
	"",
	/* 24 */
	"error -1000 :3: Syntax error, could not parse the RR's TTL\n"
	"",
	/* 25 */
	"error -1000 :2: Syntax error, could not parse the RR's rdata\n"
	"",
	/* 26 */
	"error -1000 :2: Syntax error, could not parse the RR's dname(s)\n"
	"",
	/* 27 */
	"error -1000 : no records\n"
	"",
	/* 28 */
	"error -1000 : no records\n"
	"",
	/* 29 */
	"error -1000 :3: Syntax error, could not parse the RR's TTL\n"
	"",
	/* 30 */
	"a.example. 0 0\n"
	" ns ns.x.\n"
	"",
};

/* What a zone source gives: the delegations (child, NS with glue, DS) or the error. */
static void zdump(const char *path, const char *only, char *out, size_t cap)
{
	struct zc_scan_source *src = NULL;
	char err[1024] = "";
	size_t plen = strlen(path), pos = 0;
	int r = zc_zone_source_new(path, only, &src, err, sizeof(err));

#define ZPUT(...) pos += (size_t)snprintf(out + pos, pos < cap ? cap - pos : 0, __VA_ARGS__)
	out[0] = '\0';
	if (r != 0) {
		ZPUT("error %d %s\n", r, strncmp(err, path, plen) == 0 ? err + plen : err);
		return;
	}
	for (;;) {
		struct zc_delegation *d = NULL;
		char *s;

		r = src->next(src, &d);
		if (r != 0) {
			if (r < 0) {
				ZPUT("next %d\n", r);
			}
			break;
		}
		s = ldns_rdf2str(d->child);
		ZPUT("%s %u %u\n", s, (unsigned)d->seq, d->n_ns_dropped);
		free(s);
		for (unsigned i = 0; i < d->n_ns; i++) {
			s = ldns_rdf2str(d->ns[i].name);
			ZPUT(" ns %s", s);
			free(s);
			for (unsigned g = 0; g < d->ns[i].n_glue; g++) {
				char a[64] = "?";
				const struct sockaddr_storage *ss = &d->ns[i].glue[g];

				if (ss->ss_family == AF_INET) {
					inet_ntop(AF_INET,
						  &((const struct sockaddr_in *)ss)->sin_addr, a,
						  sizeof(a));
				} else {
					inet_ntop(AF_INET6,
						  &((const struct sockaddr_in6 *)ss)->sin6_addr, a,
						  sizeof(a));
				}
				ZPUT(" %s", a);
			}
			ZPUT("\n");
		}
		for (size_t i = 0; i < ldns_rr_list_rr_count(d->ds); i++) {
			s = ldns_rr2str(ldns_rr_list_rr(d->ds, i));
			ZPUT(" ds %s", s);
			free(s);
		}
		zc_delegation_free(d);
	}
	src->free(src);
#undef ZPUT
}

static void zone_cases(void)
{
	static char out[65536];

	assert_int_equal(sizeof(ZCASES) / sizeof(ZCASES[0]), sizeof(ZEXPECT) / sizeof(ZEXPECT[0]));
	for (size_t i = 0; i < sizeof(ZCASES) / sizeof(ZCASES[0]); i++) {
		char path[] = "/tmp/zc-test-scan-XXXXXX";
		int fd = mkstemp(path);

		assert_true(fd >= 0);
		assert_int_equal(write(fd, ZCASES[i].text, ZCASES[i].len), (ssize_t)ZCASES[i].len);
		close(fd);
		zdump(path, ZCASES[i].only, out, sizeof(out));
		unlink(path);
		if (strcmp(out, ZEXPECT[i]) != 0) {
			fail_msg("case %zu: got\n%s\nexpected\n%s", i, out, ZEXPECT[i]);
		}
	}
}

static void test_zone_source_reads_as_ldns(void **state)
{
	const char *tmpdir = getenv("TMPDIR");
	char *saved = tmpdir ? strdup(tmpdir) : NULL;

	(void)state;
	zone_cases();
	/* no spool: the second pass reads the zone file again */
	assert_int_equal(setenv("TMPDIR", "/nonexistent", 1), 0);
	zone_cases();
	if (saved) {
		assert_int_equal(setenv("TMPDIR", saved, 1), 0);
	} else {
		assert_int_equal(unsetenv("TMPDIR"), 0);
	}
	free(saved);
}

/* The zone reader's fast path reads every line exactly as ldns does, or leaves it. */
static void test_zone_line_fast_equals_ldns(void **state)
{
	static const struct {
		const char *line;
		bool fast;
	} t[] = {
		{ "c1.example. 3600 IN NS ns1.p1.test.", true },
		{ "C1.Example. 86400 in ns NS1.P1.Test.", true },
		{ "c1.example. 3600 IN DS 12345 13 2 "
		  "0B01D44B11DB22866ECECEE535A2636FAB90AF926A69F8A3F333D25FA51D7A87",
		  true },
		{ "c1.example. 3600 IN DS 1 8 2 0b01d44b 11DB2286", true },
		{ "c1.example.\t60\tIN\tDS\t65535 255 255 ff", true },
		{ "ns1.c1.example. 3600 IN A 192.0.2.1", true },
		{ "ns1.c1.example. 0 IN A 10.0.0.1", true },
		{ "ns1.c1.example. 3600 IN AAAA 2001:db8::1", true },
		{ ". 518400 IN NS a.root-servers.net.", true },
		{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.example. 1 IN NS x.",
		  true },
		/* left to ldns */
		{ "ns1.c1.example. 3600 IN AAAA ::ffff:192.0.2.1", false },
		{ "c1 3600 IN NS ns1", false },
		{ "c1.example. IN NS ns1.", false },
		{ "c1.example. 1h IN NS ns1.", false },
		{ "c1.example. 3600 NS ns1.", false },
		{ "c1.example. 3600 IN DS 1 ECDSAP256SHA256 2 00", false },
		{ "c1.example. 3600 IN TXT \"x y\"", false },
		{ "a\\.b.example. 3600 IN NS x.", false },
		{ "@ 3600 IN NS x.", false },
		{ "c1.example. 3600 IN SOA a. b. 1 2 3 4 5", false },
		{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.example. 1 IN NS x.",
		  false },
		{ "c1..example. 3600 IN NS x.", false },
		{ "c1.example. 3600 IN A 300.1.1.1", false },
		{ "c1.example. 3600 IN DS 1 13 2 abc", false },
		{ "c1.example. 3600 IN NS ns1.example. extra", false },
		/* names at the limits, blanks, control characters, case */
		{ "c1.example. 3600 IN NS "
		  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		  "aaa.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		  "aaaaaaa.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		  "aaaaaaaaaaa.bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
		  "bbbbbbbbbbbbb.",
		  true },
		{ "c1.example. 3600 IN NS "
		  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		  "aaa.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		  "aaaaaaa.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		  "aaaaaaaaaaa.bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
		  "bbbbbbbbbbbbbb.",
		  false },
		{ "c1.example.  \t 3600\t\tIN NS  ns.\001x.  ", true },
		{ "c1.example. 3600 IN NS .", true },
		{ ".example. 3600 IN NS x.", false },
		{ "c1.example. 2147483647 IN NS x.", true },
		{ "c1.example. 4294967295 IN NS x.", false },
		{ "c1.example. 3600 iN Aaaa 2001:DB8::A", true },
		{ "c1.example. 3600 IN A 192.0.2.01", false },
		/* digests: split anywhere, 128 octets at most, 16 tokens at most */
		{ "c1.example. 3600 IN DS 1 8 2 0b01d 44b", true },
		{ "c1.example. 3600 IN DS 1 8 2 a b c d", true },
		{ "c1.example. 3600 IN DS 1 8 2 ab g1", false },
		{ "c1.example. 3600 IN DS 1 8 2 00 11 22 33 44 55 66 77 88", true },
		{ "c1.example. 3600 IN DS 1 8 2 00 11 22 33 44 55 66 77 88 99", false },
		{ "c1.example. 3600 IN DS 1 8 2 "
		  "00112233445566778899aabbccddeeff00112233445566778899aabbccdd"
		  "eeff00112233445566778899aabbccddeeff00112233445566778899aabb"
		  "ccddeeff00112233445566778899aabbccddeeff00112233445566778899"
		  "aabbccddeeff00112233445566778899aabbccddeeff0011223344556677"
		  "8899aabbccddeeff",
		  true },
		{ "c1.example. 3600 IN DS 1 8 2 "
		  "00112233445566778899aabbccddeeff00112233445566778899aabbccdd"
		  "eeff00112233445566778899aabbccddeeff00112233445566778899aabb"
		  "ccddeeff00112233445566778899aabbccddeeff00112233445566778899"
		  "aabbccddeeff00112233445566778899aabbccddeeff0011223344556677"
		  "8899aabbccddeeff00",
		  false },
		{ "c1.example. 3600 IN DS 65536 8 2 00", false },
	};
	(void)state;

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		ldns_rdf *prev_fast = NULL, *prev_ref = NULL;
		ldns_rr *fast = NULL, *ref = NULL;
		int r = scan_zone_line_fast(t[i].line, &prev_fast, &fast);
		ldns_status st;

		if (r != (t[i].fast ? 1 : 0)) {
			fail_msg("'%s': fast path gave %d", t[i].line, r);
		}
		if (r != 1) {
			assert_null(prev_fast);
			continue;
		}
		st = ldns_rr_new_frm_str(&ref, t[i].line, 3600, NULL, &prev_ref);
		assert_int_equal(st, LDNS_STATUS_OK);
		assert_int_equal(ldns_rr_get_type(fast), ldns_rr_get_type(ref));
		assert_int_equal(ldns_rr_get_class(fast), ldns_rr_get_class(ref));
		assert_int_equal(ldns_rr_ttl(fast), ldns_rr_ttl(ref));
		/* the owner octet for octet (case kept), and prev as ldns leaves it */
		assert_int_equal(ldns_rdf_compare(ldns_rr_owner(fast), ldns_rr_owner(ref)), 0);
		assert_memory_equal(ldns_rdf_data(ldns_rr_owner(fast)),
				    ldns_rdf_data(ldns_rr_owner(ref)),
				    ldns_rdf_size(ldns_rr_owner(ref)));
		assert_int_equal(ldns_rdf_compare(prev_fast, prev_ref), 0);
		assert_int_equal(ldns_rr_rd_count(fast), ldns_rr_rd_count(ref));
		for (size_t f = 0; f < ldns_rr_rd_count(ref); f++) {
			const ldns_rdf *a = ldns_rr_rdf(fast, f), *b = ldns_rr_rdf(ref, f);

			assert_int_equal(ldns_rdf_get_type(a), ldns_rdf_get_type(b));
			assert_int_equal(ldns_rdf_size(a), ldns_rdf_size(b));
			assert_memory_equal(ldns_rdf_data(a), ldns_rdf_data(b), ldns_rdf_size(b));
		}
		ldns_rr_free(fast);
		ldns_rr_free(ref);
		ldns_rdf_deep_free(prev_fast);
		ldns_rdf_deep_free(prev_ref);
	}
}

/* --- a source shared by several scans: ZC_SCAN_SOURCE_LATER --------------- */

struct later_src {
	struct zc_scan_source pub;
	struct zc_scan *scan;
	unsigned left, max_in_progress, seen_max, laters;
	struct sockaddr_storage server; /* answers nothing: every query times out */
	bool always_later;
};

static int later_next(struct zc_scan_source *src, struct zc_delegation **ret)
{
	struct later_src *ls = (struct later_src *)src;
	unsigned now = zc_scan_in_progress(ls->scan);
	struct zc_delegation *d;
	char name[64];

	if (now > ls->seen_max) {
		ls->seen_max = now;
	}
	if (ls->always_later || now >= ls->max_in_progress) {
		ls->laters++;
		return ZC_SCAN_SOURCE_LATER;
	}
	if (ls->left == 0) {
		return 1;
	}
	d = calloc(1, sizeof(*d));
	assert_non_null(d);
	snprintf(name, sizeof(name), "c%u.example.", ls->left--);
	d->child = ldns_dname_new_frm_str(name);
	d->ds = ldns_rr_list_new();
	d->ns[0].name = ldns_dname_new_frm_str("ns.example.");
	d->ns[0].glue[0] = ls->server;
	d->ns[0].n_glue = 1;
	d->n_ns = 1;
	*ret = d;
	return 0;
}

static const char *later_err(const struct zc_scan_source *src)
{
	(void)src;
	return "";
}

static void later_free(struct zc_scan_source *src)
{
	(void)src;
}

static void count_decision(const struct zc_scan_decision *d, void *ud)
{
	(void)d;
	(*(unsigned *)ud)++;
}

static void test_scan_source_later(void **state)
{
	struct event_base *base = event_base_new();
	struct zc_ctx *ctx = zc_ctx_new();
	struct zc_engine_opts eo;
	struct zc_scan_opts so;
	struct zc_engine *eng = NULL;
	struct zc_scan *scan = NULL;
	struct later_src ls = { .pub = { later_next, later_err, later_free } };
	struct sockaddr_in *sin = (struct sockaddr_in *)&ls.server;
	socklen_t sl = sizeof(*sin);
	unsigned decided = 0;
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	(void)state;
	assert_non_null(base);
	assert_non_null(ctx);
	/* a server that takes every query and answers none */
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)sin, sizeof(*sin)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)sin, &sl), 0);
	zc_engine_opts_default(&eo);
	eo.timeout_ms = 20;
	eo.retries = 0;
	assert_int_equal(zc_engine_new(ctx, base, &eo, &eng), 0);
	zc_scan_opts_default(&so);
	so.concurrency = 10;
	assert_int_equal(zc_scan_new(ctx, base, eng, NULL, &so, count_decision, &decided, &scan), 0);
	ls.scan = scan;

	/* "later" while delegations are in progress: asked again as they are decided */
	ls.left = 7;
	ls.max_in_progress = 3;
	assert_int_equal(zc_scan_run(scan, &ls.pub), 0);
	assert_int_equal(decided, 7);
	assert_int_equal(ls.seen_max, 3);
	assert_true(ls.laters > 0);
	assert_int_equal(zc_scan_in_progress(scan), 0);

	/* "later" with nothing in progress would wait forever: an error instead */
	decided = 0;
	ls.always_later = true;
	assert_int_equal(zc_scan_run(scan, &ls.pub), -EIO);
	assert_int_equal(decided, 0);

	zc_scan_free(scan);
	zc_engine_free(eng);
	zc_ctx_free(ctx);
	event_base_free(base);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prepare_nothing_published_is_no_cds),
		cmocka_unit_test(test_prepare_all_servers_failing_is_error),
		cmocka_unit_test(test_prepare_not_authoritative_is_lame),
		cmocka_unit_test(test_prepare_servers_disagree),
		cmocka_unit_test(test_prepare_disagreement_in_unused_digest_is_none),
		cmocka_unit_test(test_prepare_one_server_silent_while_cds_published),
		cmocka_unit_test(test_prepare_sha1_only_is_digest_not_allowed),
		cmocka_unit_test(test_prepare_algorithm_not_allowed),
		cmocka_unit_test(test_prepare_cds_and_cdnskey_name_different_keys),
		cmocka_unit_test(test_prepare_cdnskey_only_makes_sha256_ds),
		cmocka_unit_test(test_prepare_equal_to_ds_is_unchanged),
		cmocka_unit_test(test_prepare_delete_forms),
		cmocka_unit_test(test_prepare_too_many_records),
		cmocka_unit_test(test_zone_source_streams_delegations),
		cmocka_unit_test(test_zone_source_only_child),
		cmocka_unit_test(test_zone_source_errors),
		cmocka_unit_test(test_zone_source_reads_as_ldns),
		cmocka_unit_test(test_zone_line_fast_equals_ldns),
		cmocka_unit_test(test_list_source),
		cmocka_unit_test(test_names_of_results_and_reasons),
		cmocka_unit_test(test_scan_source_later),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
