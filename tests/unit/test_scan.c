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
		cmocka_unit_test(test_zone_line_fast_equals_ldns),
		cmocka_unit_test(test_list_source),
		cmocka_unit_test(test_names_of_results_and_reasons),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
