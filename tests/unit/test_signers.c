/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of signers/ (no network, no sleeps): signer and zone configuration
 * text, the group kept in the store, the store's signer tables (compare-and-set,
 * events), the key model (own keys, zone keys, CDS, DS coverage, differences),
 * the up-front refusals (algorithm mismatch, key tag collision, shared keys,
 * undeclared NS), the UPDATE message, and the join and leave state machines run
 * against a scripted world: simulated signers and parent behind the controller's
 * transport-and-clock ops table, with a clock that only moves when told.
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

#include <zonecut/apply.h>
#include <zonecut/signers.h>

#include "signers/internal.h"

#define ZONE "multi.example."
#define TSIG "hmac-sha256:zc:c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTEyMzQ="

/* --- helpers ----------------------------------------------------------------- */

static ldns_rr *rr(const char *text)
{
	ldns_rr *r = NULL;

	assert_int_equal(zc_rr_from_str(text, 300, NULL, &r), 0);
	return r;
}

static ldns_rr_list *rrs(const char *first, ...)
{
	ldns_rr_list *l = ldns_rr_list_new();
	va_list ap;

	va_start(ap, first);
	for (const char *t = first; t; t = va_arg(ap, const char *)) {
		assert_true(ldns_rr_list_push_rr(l, rr(t)));
	}
	va_end(ap);
	return l;
}

/*
 * A DNSKEY with a 64-octet public key made from @seed. With @swap, key octets 0
 * and 2 are exchanged: a different key with the same RFC 4034 key tag (both are
 * high octets of 16-bit words of the rdata, whose sum the tag is).
 */
static char *key_text(uint16_t flags, uint8_t alg, unsigned seed, bool swap)
{
	uint8_t k[64];
	char b64[128], *out;
	ldns_rdf *rdf;
	char *s;

	for (size_t i = 0; i < sizeof(k); i++) {
		k[i] = (uint8_t)(seed * 31 + i * 7 + (i == 0 ? 1 : 0));
	}
	if (swap) {
		uint8_t t = k[0];

		k[0] = k[2];
		k[2] = t;
	}
	rdf = ldns_rdf_new_frm_data(LDNS_RDF_TYPE_B64, sizeof(k), k);
	s = ldns_rdf2str(rdf);
	snprintf(b64, sizeof(b64), "%s", s);
	free(s);
	ldns_rdf_deep_free(rdf);
	assert_true(asprintf(&out, ZONE " 300 IN DNSKEY %u 3 %u %s", flags, alg, b64) > 0);
	return out;
}

static ldns_rr *key_rr(uint16_t flags, uint8_t alg, unsigned seed, bool swap)
{
	char *t = key_text(flags, alg, seed, swap);
	ldns_rr *r = rr(t);

	free(t);
	return r;
}

struct logbuf {
	char last[2048];
};

static void capture_log(void *ud, int level, const char *msg)
{
	struct logbuf *b = ud;

	(void)level;
	snprintf(b->last, sizeof(b->last), "%s", msg);
}

/* --- configuration ---------------------------------------------------------------- */

static void test_signer_parse_canonical_roundtrip(void **state)
{
	struct zc_signer *s = NULL, *s2 = NULL;
	char err[256] = "", *t1 = NULL, *t2 = NULL, *red = NULL;

	(void)state;
	assert_int_equal(zc_signer_parse("knot  server=192.0.2.1 tsig=" TSIG
					 " ns=NS1.Knot.Example=192.0.2.1,2001:db8::1@5353 "
					 "ns=ns2.knot.example. keys-command=/usr/local/bin/knot-keys",
					 &s, err, sizeof(err)),
			 0);
	assert_string_equal(s->keys_command, "/usr/local/bin/knot-keys");
	{
		struct zc_signer *m = NULL;

		assert_int_equal(zc_signer_parse("m server=192.0.2.1 ns=a.example "
						 "keys-command=manual",
						 &m, err, sizeof(err)),
				 0);
		assert_string_equal(m->keys_command, "manual");
		zc_signer_free(m);
	}
	assert_string_equal(s->name, "knot");
	assert_int_equal(s->driver, ZC_SIGNER_RFC2136);
	assert_string_equal(s->server, "192.0.2.1@53");
	assert_int_equal(s->n_ns, 2);
	assert_string_equal(s->ns[0].name, "ns1.knot.example.");
	assert_int_equal(s->ns[0].n_addrs, 2);
	assert_string_equal(s->ns[0].addrs[1], "2001:db8::1@5353");
	assert_int_equal(s->ns[1].n_addrs, 0);
	assert_int_equal(zc_signer_format(s, false, &t1), 0);
	assert_string_equal(t1, "knot driver=rfc2136 server=192.0.2.1@53 tsig=" TSIG
				" keys-command=/usr/local/bin/knot-keys"
				" ns=ns1.knot.example.=192.0.2.1@53,2001:db8::1@5353"
				" ns=ns2.knot.example.");
	assert_int_equal(zc_signer_parse(t1, &s2, err, sizeof(err)), 0);
	assert_int_equal(zc_signer_format(s2, false, &t2), 0);
	assert_string_equal(t1, t2);
	/* listings never show secrets */
	assert_int_equal(zc_signer_format(s, true, &red), 0);
	assert_null(strstr(red, "c2VjcmV0"));
	assert_non_null(strstr(red, "tsig=hmac-sha256:zc:***"));
	free(t1);
	free(t2);
	free(red);
	zc_signer_free(s);
	zc_signer_free(s2);
	/* the pdns-api driver: API port by default; ns names may go without addresses */
	assert_int_equal(zc_signer_parse("pdns driver=pdns-api server=127.0.0.1 api-key=k "
					 "ns=ns1.p.example",
					 &s, err, sizeof(err)),
			 0);
	assert_int_equal(s->ns[0].n_addrs, 0);
	zc_signer_free(s);
	assert_int_equal(zc_signer_parse("pdns driver=pdns-api server=127.0.0.1 api-key=k "
					 "ns=ns1.p.example=127.0.0.1",
					 &s, err, sizeof(err)),
			 0);
	assert_string_equal(s->server, "127.0.0.1@8081");
	assert_int_equal(zc_signer_format(s, true, &red), 0);
	assert_non_null(strstr(red, "api-key=***"));
	free(red);
	zc_signer_free(s);
}

static void test_signer_parse_errors(void **state)
{
	static const struct {
		const char *text, *why;
	} bad[] = {
		{ "", "empty" },
		{ "Knot server=192.0.2.1 ns=a.example", "signer name" },
		{ "k server=192.0.2.1", "at least one ns" },
		{ "k ns=a.example", "server=ADDR" },
		{ "k server=ns.example ns=a.example", "is not ADDR" },
		{ "k server=192.0.2.1 ns=a.example ns=A.example.", "given twice" },
		{ "k server=192.0.2.1 ns=a.example=nohost", "numeric addresses" },
		{ "k server=192.0.2.1 ns=a.example colour=red", "unknown key 'colour'" },
		{ "k server=192.0.2.1 ns=a.example tsig=hmac-md5:k:c2VjcmV0", "not supported" },
		{ "k server=192.0.2.1 ns=a.example tsig=" TSIG " tsig-file=/x", "not both" },
		{ "k driver=bind server=192.0.2.1 ns=a.example", "rfc2136 or pdns-api" },
		{ "k driver=pdns-api server=192.0.2.1 ns=a.example=192.0.2.1", "needs api-key" },
		{ "k server=192.0.2.1 api-key=x ns=a.example", "for driver pdns-api" },
		{ "k server=192.0.2.1 server=192.0.2.2 ns=a.example", "given twice" },
		{ "k server=192.0.2.1 junk ns=a.example", "key=value" },
		{ "k server=192.0.2.1 ns=a.example keys-command=bin/roll", "absolute path" },
		{ "k server=192.0.2.1 ns=a.example keys-command=/a keys-command=/b", "given twice" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct zc_signer *s = NULL;
		char err[512] = "";

		assert_int_equal(zc_signer_parse(bad[i].text, &s, err, sizeof(err)), ZC_ECONFIG);
		assert_null(s);
		if (!strstr(err, bad[i].why)) {
			fail_msg("'%s': got '%s', want '%s'", bad[i].text, err, bad[i].why);
		}
	}
}

static void test_zone_parse_digests_and_lists(void **state)
{
	struct zc_signer_zone *z = NULL;
	char err[256] = "", *t = NULL;

	(void)state;
	assert_int_equal(zc_signer_zone_parse("Multi.Example signers=knot,bind parent=192.0.2.9,"
					      "192.0.2.10@5300 cds-digests=4,2 "
					      "propagation-delay=90s max-zone-ttl=1h",
					      &z, err, sizeof(err)),
			 0);
	assert_string_equal(z->zone, ZONE);
	assert_int_equal(z->n_signers, 2);
	assert_int_equal(z->n_parent, 2);
	assert_string_equal(z->parent[1], "192.0.2.10@5300");
	/* SHA-256 always, first */
	assert_int_equal(z->n_digests, 2);
	assert_int_equal(z->digests[0], 2);
	assert_int_equal(z->digests[1], 4);
	assert_int_equal(z->propagation_delay_s, 90);
	assert_int_equal(z->max_zone_ttl_s, 3600);
	assert_int_equal(zc_signer_zone_format(z, false, &t), 0);
	assert_string_equal(t, ZONE " parent=192.0.2.9@53,192.0.2.10@5300 cds-digests=2,4 "
			       "propagation-delay=90s max-zone-ttl=3600s");
	free(t);
	assert_int_equal(zc_signer_zone_format(z, true, &t), 0);
	assert_non_null(strstr(t, "signers=knot,bind"));
	free(t);
	zc_signer_zone_free(z);
	z = NULL;
	/* SHA-1 is never published (RFC 9558); the root has no parent */
	assert_int_equal(zc_signer_zone_parse("x.example cds-digests=1", &z, err, sizeof(err)),
			 ZC_ECONFIG);
	assert_non_null(strstr(err, "cds-digests"));
	assert_int_equal(zc_signer_zone_parse(".", &z, err, sizeof(err)), ZC_ECONFIG);
	assert_int_equal(zc_signer_zone_parse("x.example signers=a,a", &z, err, sizeof(err)),
			 ZC_ECONFIG);
	assert_int_equal(zc_signer_zone_parse("x.example parent=here", &z, err, sizeof(err)),
			 ZC_ECONFIG);
	assert_int_equal(zc_signer_zone_parse("x.example wait=3", &z, err, sizeof(err)),
			 ZC_ECONFIG);
	assert_null(z);
}

static void test_group_json_roundtrip(void **state)
{
	struct sgn_group g = { .n = 0 }, g2;
	char *json = NULL, *json2 = NULL;

	(void)state;
	assert_int_equal(sgn_group_add(&g, "knot", SGN_ACTIVE), 0);
	assert_int_equal(sgn_group_add(&g, "bind", SGN_JOINING), 0);
	assert_int_equal(sgn_group_add(&g, "knot", SGN_ACTIVE), -EEXIST);
	assert_int_equal(sgn_group_add(&g, "Bad Name", SGN_ACTIVE), -EINVAL);
	assert_true(ldns_rr_list_push_rr(g.m[0].pushed, key_rr(256, 13, 7, false)));
	assert_int_equal(sgn_group_format(&g, &json), 0);
	assert_int_equal(sgn_group_parse(json, ZONE, &g2), 0);
	assert_int_equal(g2.n, 2);
	assert_string_equal(g2.m[1].name, "bind");
	assert_int_equal(g2.m[1].state, SGN_JOINING);
	assert_int_equal(ldns_rr_list_rr_count(g2.m[0].pushed), 1);
	assert_true(zc_key_equal(ldns_rr_list_rr(g2.m[0].pushed, 0),
				 ldns_rr_list_rr(g.m[0].pushed, 0)));
	assert_int_equal(sgn_group_format(&g2, &json2), 0);
	assert_string_equal(json, json2);
	sgn_group_remove(&g2, "knot");
	assert_int_equal(g2.n, 1);
	assert_string_equal(g2.m[0].name, "bind");
	/* what the store holds must be ours: anything else is a store error */
	sgn_group_release(&g2);
	assert_int_equal(sgn_group_parse("{\"members\":3}", ZONE, &g2), ZC_ESTORE);
	assert_int_equal(sgn_group_parse("{\"members\":[{\"name\":\"a\",\"state\":\"x\","
					 "\"pushed\":[]}]}",
					 ZONE, &g2),
			 ZC_ESTORE);
	assert_int_equal(sgn_group_parse("", ZONE, &g2), 0);
	assert_int_equal(g2.n, 0);
	free(json);
	free(json2);
	sgn_group_release(&g);
}

/* --- the store ------------------------------------------------------------------------ */

struct sfix {
	char dir[64];
	char path[128];
	struct zc_ctx *ctx;
	struct zc_store *st;
	struct logbuf log;
};

static void store_init(struct sfix *f)
{
	snprintf(f->dir, sizeof(f->dir), "/tmp/zc-test-signers-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/zc.db", f->dir);
	f->ctx = zc_ctx_new();
	zc_ctx_set_log_fn(f->ctx, capture_log, &f->log);
	assert_int_equal(zc_store_open(f->ctx, f->path, &f->st), 0);
}

static void store_fini(struct sfix *f)
{
	char cmd[256];

	zc_store_free(f->st);
	zc_ctx_free(f->ctx);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
}

static int store_setup(void **state)
{
	struct sfix *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	store_init(f);
	*state = f;
	return 0;
}

static int store_teardown(void **state)
{
	store_fini(*state);
	free(*state);
	return 0;
}

static void test_store_signer_rows(void **state)
{
	struct sfix *f = *state;
	struct zc_signer_row *v = NULL;
	size_t n = 0;
	char *spec = NULL;

	assert_int_equal(zc_store_schema_version(f->st), ZC_STORE_SCHEMA_VERSION);
	assert_int_equal(zc_store_signer_put(f->st, "knot", "knot server=1"), 0);
	assert_int_equal(zc_store_signer_put(f->st, "bind", "bind server=2"), 0);
	assert_int_equal(zc_store_signer_put(f->st, "knot", "knot server=3"), 0);
	assert_int_equal(zc_store_signer_get(f->st, "knot", &spec), 0);
	assert_string_equal(spec, "knot server=3");
	free(spec);
	assert_int_equal(zc_store_signer_get(f->st, "nope", &spec), ZC_ENOTFOUND);
	assert_int_equal(zc_store_signer_list(f->st, &v, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(v[0].name, "bind"); /* name order */
	zc_signer_rows_free(v, n);
	assert_int_equal(zc_store_signer_delete(f->st, "bind"), 0);
	assert_int_equal(zc_store_signer_delete(f->st, "bind"), ZC_ENOTFOUND);
	assert_int_equal(zc_store_signer_put(f->st, "", "x"), -EINVAL);
}

static void test_store_group_compare_and_set(void **state)
{
	struct sfix *f = *state;
	struct zc_group_row a = { .zone = (char *)ZONE, .spec = (char *)ZONE }, r1, r2;
	struct zc_group_event *ev = NULL;
	size_t n = 0;

	assert_int_equal(zc_store_group_add(f->st, &a), 0);
	assert_int_equal(zc_store_group_add(f->st, &a), -EEXIST);
	assert_int_equal(zc_store_group_get(f->st, ZONE, &r1), 0);
	assert_int_equal(zc_store_group_get(f->st, ZONE, &r2), 0);
	assert_int_equal(r1.version, 1);
	assert_string_equal(r1.proc_status, "");
	/* the first writer wins; the second learns that the row moved */
	free(r1.proc_step);
	r1.proc_step = strdup("dnskey");
	r1.proc_deadline = 1234;
	assert_int_equal(zc_store_group_update(f->st, &r1), 0);
	assert_int_equal(r1.version, 2);
	assert_int_equal(zc_store_group_update(f->st, &r2), -ESTALE);
	zc_group_row_release(&r2);
	assert_int_equal(zc_store_group_get(f->st, ZONE, &r2), 0);
	assert_string_equal(r2.proc_step, "dnskey");
	assert_int_equal(r2.proc_deadline, 1234);
	zc_group_row_release(&r2);
	/* events: appended, listed in order, the last N of them, per process */
	for (int i = 0; i < 5; i++) {
		char detail[16];
		struct zc_group_event e = { .zone = (char *)ZONE, .proc_id = i < 3 ? 1 : 2,
					    .at = 100 + i, .step = (char *)"s",
					    .action = (char *)"update", .detail = detail };

		snprintf(detail, sizeof(detail), "d%d", i);
		assert_int_equal(zc_store_group_event_add(f->st, &e, NULL), 0);
	}
	assert_int_equal(zc_store_group_event_list(f->st, ZONE, 0, 2, &ev, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(ev[0].detail, "d3");
	assert_string_equal(ev[1].detail, "d4");
	assert_string_equal(ev[0].signer, "");
	zc_group_events_free(ev, n);
	assert_int_equal(zc_store_group_event_list(f->st, ZONE, 1, 0, &ev, &n), 0);
	assert_int_equal(n, 3);
	zc_group_events_free(ev, n);
	/* deleting the zone deletes its events */
	assert_int_equal(zc_store_group_delete(f->st, ZONE), 0);
	assert_int_equal(zc_store_group_update(f->st, &r1), ZC_ENOTFOUND);
	assert_int_equal(zc_store_group_event_list(f->st, ZONE, 0, 0, &ev, &n), 0);
	assert_int_equal(n, 0);
	zc_group_row_release(&r1);
}

/* --- the key model ------------------------------------------------------------------- */

static void test_model_own_zone_and_sep_keys(void **state)
{
	struct sgn_view v = { 0 };
	ldns_rr *ksk = key_rr(257, 13, 1, false), *zsk = key_rr(256, 13, 2, false);
	ldns_rr *csk = key_rr(257, 13, 3, false), *foreign = key_rr(256, 13, 4, false);
	ldns_rr_list *pushed = ldns_rr_list_new(), *own, *zk, *sep;

	(void)state;
	v.dnskey = ldns_rr_list_new();
	ldns_rr_list_push_rr(v.dnskey, ksk);
	ldns_rr_list_push_rr(v.dnskey, zsk);
	ldns_rr_list_push_rr(v.dnskey, csk);
	ldns_rr_list_push_rr(v.dnskey, foreign);
	/* identity is algorithm + public key: flags in the record pushed do not matter */
	ldns_rr_list_push_rr(pushed, key_rr(257, 13, 4, false));
	v.zsig[0].tag = zc_key_tag(zsk);
	v.zsig[0].alg = 13;
	v.zsig[1].tag = zc_key_tag(csk);
	v.zsig[1].alg = 13;
	v.n_zsig = 2;
	own = sgn_own_keys(&v, pushed);
	assert_int_equal(ldns_rr_list_rr_count(own), 3);
	assert_false(sgn_has_key(own, foreign));
	zk = sgn_zone_keys(&v, own, NULL); /* the ZSK and the CSK (it signs the SOA) */
	assert_int_equal(ldns_rr_list_rr_count(zk), 2);
	assert_true(sgn_has_key(zk, zsk) && sgn_has_key(zk, csk) && !sgn_has_key(zk, ksk));
	sep = sgn_sep_keys(own); /* the KSK and the CSK */
	assert_int_equal(ldns_rr_list_rr_count(sep), 2);
	assert_true(sgn_has_key(sep, ksk) && sgn_has_key(sep, csk));
	ldns_rr_list_deep_free(own);
	ldns_rr_list_deep_free(zk);
	ldns_rr_list_deep_free(sep);
	ldns_rr_list_deep_free(pushed);
	sgn_view_release(&v);
}

static void test_model_cds_and_ds_coverage(void **state)
{
	ldns_rr_list *keys = ldns_rr_list_new(), *cds = NULL, *cdnskey = NULL, *ds;
	ldns_rdf *apex = NULL;
	const uint8_t digests[] = { 2, 4 };

	(void)state;
	assert_int_equal(zc_name_from_str(ZONE, &apex), 0);
	ldns_rr_list_push_rr(keys, key_rr(257, 13, 1, false));
	ldns_rr_list_push_rr(keys, key_rr(257, 13, 2, false));
	assert_int_equal(sgn_cds_of(keys, apex, 60, digests, 2, &cds, &cdnskey), 0);
	assert_int_equal(ldns_rr_list_rr_count(cds), 4); /* every key, every digest */
	assert_int_equal(ldns_rr_list_rr_count(cdnskey), 2);
	assert_int_equal(ldns_rr_get_type(ldns_rr_list_rr(cds, 0)), LDNS_RR_TYPE_CDS);
	assert_int_equal(ldns_rr_ttl(ldns_rr_list_rr(cds, 0)), 60);
	for (size_t i = 0; i < 4; i++) {
		const ldns_rr *c = ldns_rr_list_rr(cds, i);

		assert_true(zc_ds_matches_key(c, ldns_rr_list_rr(keys, 0)) ||
			    zc_ds_matches_key(c, ldns_rr_list_rr(keys, 1)));
	}
	/* the parent may keep only SHA-256: the DS set still names exactly the keys */
	ds = ldns_rr_list_new();
	for (size_t i = 0; i < 4; i++) {
		if (zc_ds_digest_type(ldns_rr_list_rr(cds, i)) == 2) {
			ldns_rr_list_push_rr(ds, ldns_rr_clone(ldns_rr_list_rr(cds, i)));
		}
	}
	assert_true(sgn_ds_names_exactly(ds, keys));
	ldns_rr_free(ldns_rr_list_pop_rr(ds)); /* one key without DS */
	assert_false(sgn_ds_names_exactly(ds, keys));
	ldns_rr_list_push_rr(ds, ldns_rr_clone(ldns_rr_list_rr(cds, 0)));
	ldns_rr_list_push_rr(ds, rr(ZONE " 60 IN DS 1 13 2 "
				    "0000000000000000000000000000000000000000000000000000000000000000"));
	assert_false(sgn_ds_names_exactly(ds, keys)); /* a DS of no key of ours */
	assert_true(sgn_ds_names_exactly(NULL, NULL));
	ldns_rr_list_deep_free(ds);
	ldns_rr_list_deep_free(cds);
	ldns_rr_list_deep_free(cdnskey);
	ldns_rr_list_deep_free(keys);
	ldns_rdf_deep_free(apex);
}

static void test_model_diff_only_removable_goes(void **state)
{
	ldns_rr_list *have = ldns_rr_list_new(), *want = ldns_rr_list_new(), *pushed;
	ldns_rr_list *add = NULL, *del = NULL;

	(void)state;
	ldns_rr_list_push_rr(have, key_rr(257, 13, 1, false)); /* own */
	ldns_rr_list_push_rr(have, key_rr(256, 13, 2, false)); /* pushed, still wanted */
	ldns_rr_list_push_rr(have, key_rr(256, 13, 3, false)); /* pushed, no longer wanted */
	ldns_rr_list_push_rr(have, key_rr(256, 13, 5, false)); /* own, not wanted: stays */
	ldns_rr_list_push_rr(want, key_rr(257, 13, 1, false));
	ldns_rr_list_push_rr(want, key_rr(256, 13, 2, false));
	ldns_rr_list_push_rr(want, key_rr(256, 13, 4, false)); /* new */
	pushed = rrs(NULL);
	ldns_rr_list_push_rr(pushed, key_rr(256, 13, 2, false));
	ldns_rr_list_push_rr(pushed, key_rr(256, 13, 3, false));
	assert_int_equal(sgn_diff(have, want, pushed, &add, &del), 0);
	assert_int_equal(ldns_rr_list_rr_count(add), 1);
	assert_true(zc_key_equal(ldns_rr_list_rr(add, 0), ldns_rr_list_rr(want, 2)));
	assert_int_equal(ldns_rr_list_rr_count(del), 1);
	assert_true(zc_key_equal(ldns_rr_list_rr(del, 0), ldns_rr_list_rr(have, 2)));
	ldns_rr_list_deep_free(add);
	ldns_rr_list_deep_free(del);
	/* without a removable list everything not wanted goes (CDS, NS) */
	assert_int_equal(sgn_diff(have, want, NULL, &add, &del), 0);
	assert_int_equal(ldns_rr_list_rr_count(del), 2);
	ldns_rr_list_deep_free(add);
	ldns_rr_list_deep_free(del);
	ldns_rr_list_deep_free(have);
	ldns_rr_list_deep_free(want);
	ldns_rr_list_deep_free(pushed);
}

static void test_rfc2136_update_message(void **state)
{
	ldns_rr_list *add = rrs(ZONE " 60 IN NS ns1.b.example.", ZONE " 60 IN CSYNC 0 1 NS", NULL);
	ldns_rr_list *del = rrs(ZONE " 60 IN NS ns1.a.example.", ZONE " 60 IN CSYNC 0 1 NS", NULL);
	ldns_pkt *p = NULL;
	const ldns_rr_list *up;

	(void)state;
	assert_int_equal(sgn_rfc2136_build(ZONE, add, del, &p), 0);
	assert_int_equal(ldns_pkt_get_opcode(p), LDNS_PACKET_UPDATE);
	assert_false(ldns_pkt_rd(p));
	/* zone section: the zone, class IN, type SOA (RFC 2136 §2.3) */
	assert_int_equal(ldns_rr_get_type(ldns_rr_list_rr(ldns_pkt_question(p), 0)),
			 LDNS_RR_TYPE_SOA);
	assert_int_equal(ldns_pkt_ancount(p), 0); /* no prerequisites */
	up = ldns_pkt_authority(p);
	assert_int_equal(ldns_rr_list_rr_count(up), 4);
	assert_int_equal(ldns_rr_get_class(ldns_rr_list_rr(up, 0)), LDNS_RR_CLASS_IN);
	assert_int_equal(ldns_rr_ttl(ldns_rr_list_rr(up, 0)), 60);
	/* RFC 2136 §2.5.4: delete an RR: class NONE, TTL 0 */
	assert_int_equal(ldns_rr_get_class(ldns_rr_list_rr(up, 2)), LDNS_RR_CLASS_NONE);
	assert_int_equal(ldns_rr_ttl(ldns_rr_list_rr(up, 2)), 0);
	/* CSYNC goes as a whole RRset (§2.5.2: class ANY, no rdata) */
	assert_int_equal(ldns_rr_get_type(ldns_rr_list_rr(up, 3)), LDNS_RR_TYPE_CSYNC);
	assert_int_equal(ldns_rr_get_class(ldns_rr_list_rr(up, 3)), LDNS_RR_CLASS_ANY);
	assert_int_equal(ldns_rr_rd_count(ldns_rr_list_rr(up, 3)), 0);
	ldns_pkt_free(p);
	ldns_rr_list_deep_free(add);
	ldns_rr_list_deep_free(del);
}

static void test_pdns_api_body(void **state)
{
	ldns_rr_list *have = rrs(ZONE " 60 IN DNSKEY 256 3 13 AQID", ZONE " 60 IN NS ns1.a.example.",
				 ZONE " 60 IN CSYNC 0 1 NS", NULL);
	ldns_rr_list *add = rrs(ZONE " 30 IN DNSKEY 256 3 13 BAUG", ZONE " 60 IN NS ns1.b.example.",
				NULL);
	ldns_rr_list *del = rrs(ZONE " 60 IN DNSKEY 256 3 13 AQID", ZONE " 60 IN CSYNC 0 1 NS",
				NULL);
	json_t *body = NULL, *rrsets, *o;
	char *text;

	(void)state;
	assert_int_equal(sgn_pdns_body(ZONE, have, add, del, &body), 0);
	rrsets = json_object_get(body, "rrsets");
	assert_int_equal(json_array_size(rrsets), 3);
	/* DNSKEY: the whole new content of the rrset, the TTL of what is added */
	o = json_array_get(rrsets, 0);
	text = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	assert_string_equal(text, "{\"changetype\":\"REPLACE\",\"name\":\"" ZONE "\",\"records\":"
				  "[{\"content\":\"256 3 13 BAUG\",\"disabled\":false}],"
				  "\"ttl\":30,\"type\":\"DNSKEY\"}");
	free(text);
	/* NS: kept and added */
	o = json_array_get(rrsets, 1);
	assert_string_equal(json_string_value(json_object_get(o, "type")), "NS");
	assert_int_equal(json_array_size(json_object_get(o, "records")), 2);
	/* CSYNC: ends empty, the rrset goes; the content never has a trailing blank */
	o = json_array_get(rrsets, 2);
	assert_string_equal(json_string_value(json_object_get(o, "changetype")), "DELETE");
	assert_null(json_object_get(o, "records"));
	json_decref(body);
	ldns_rr_list_deep_free(have);
	ldns_rr_list_deep_free(add);
	ldns_rr_list_deep_free(del);
}

/* --- a scripted world ----------------------------------------------------------------- */

#define MAX_FAKE 3
#define PARENT_ADDR "192.0.2.100@53"

struct fake_signer {
	const char *name;
	const char *addr;
	ldns_rr_list *zone; /* the apex: SOA, DNSKEY, CDS, CDNSKEY, NS, CSYNC */
	uint16_t zsig_tag;  /* the key that signs the SOA */
	uint8_t alg;
	bool ignore_dnskey; /* Knot with dnskey-management: full */
	int lose_answers;   /* apply the change, then report a timeout */
	unsigned applies;   /* UPDATE messages received */
	unsigned applied;   /* records added or removed by them */
};

struct world {
	struct fake_signer s[MAX_FAKE];
	unsigned n;
	ldns_rr_list *parent_ds, *parent_ns;
	uint32_t ttl_ds, ttl_ns;
	int64_t now;
	uint64_t mono;
	unsigned queries;
	char runs[16][64]; /* the keys-command runs: "ACTION ROLE TAGS" */
	unsigned n_runs;
	bool ignore_cmd; /* the keys-command exits 0 and does nothing */
	unsigned resolves;    /* nameserver names looked up */
	int resolve_err;      /* 0: ns1.NAME.example. is signer NAME's address; else this error */
	unsigned resolve_n;   /* with resolve_err 0: this many addresses (NODATA when 0) */
};

static struct fake_signer *fs_by_addr(struct world *w, const char *addr)
{
	for (unsigned i = 0; i < w->n; i++) {
		if (strcmp(w->s[i].addr, addr) == 0) {
			return &w->s[i];
		}
	}
	return NULL;
}

static void push_copies(ldns_rr_list *to, const ldns_rr_list *from, ldns_rr_type type)
{
	for (size_t i = 0; from && i < ldns_rr_list_rr_count(from); i++) {
		const ldns_rr *r = ldns_rr_list_rr(from, i);

		if (type == 0 || ldns_rr_get_type(r) == type) {
			assert_true(ldns_rr_list_push_rr(to, ldns_rr_clone(r)));
		}
	}
}

static int fake_query(void *ud, const char *server, const ldns_rdf *qname, ldns_rr_type type,
		      unsigned timeout_ms, ldns_pkt **ret, char *why, size_t whylen)
{
	struct world *w = ud;
	struct fake_signer *s = fs_by_addr(w, server);
	ldns_pkt *p = ldns_pkt_new();

	(void)timeout_ms;
	w->queries++;
	ldns_pkt_set_qr(p, true);
	ldns_pkt_set_rcode(p, LDNS_RCODE_NOERROR);
	if (strcmp(server, PARENT_ADDR) == 0) {
		(void)qname;
		ldns_pkt_set_aa(p, type == LDNS_RR_TYPE_DS);
		if (type == LDNS_RR_TYPE_DS) {
			push_copies(ldns_pkt_answer(p), w->parent_ds, 0);
		} else {
			push_copies(ldns_pkt_authority(p), w->parent_ns, 0);
		}
		*ret = p;
		return 0;
	}
	if (!s) {
		ldns_pkt_free(p);
		snprintf(why, whylen, "no server at %s", server);
		return ZC_ETIMEOUT;
	}
	ldns_pkt_set_aa(p, true);
	push_copies(ldns_pkt_answer(p), s->zone, type);
	if (type == LDNS_RR_TYPE_SOA || type == LDNS_RR_TYPE_NS) {
		char sig[256];

		snprintf(sig, sizeof(sig),
			 ZONE " 300 IN RRSIG %s %u 2 300 20300101000000 20200101000000 %u " ZONE
			      " AAAA",
			 type == LDNS_RR_TYPE_SOA ? "SOA" : "NS", s->alg, s->zsig_tag);
		assert_true(ldns_rr_list_push_rr(ldns_pkt_answer(p), rr(sig)));
	}
	ldns_pkt_set_ancount(p, (uint16_t)ldns_rr_list_rr_count(ldns_pkt_answer(p)));
	*ret = p;
	return 0;
}

/* @l holds a record of the type and rdata of @r (CDNSKEY is not DNSKEY here). */
static bool has_exact(const ldns_rr_list *l, const ldns_rr *r)
{
	for (size_t i = 0; i < ldns_rr_list_rr_count(l); i++) {
		const ldns_rr *h = ldns_rr_list_rr(l, i);

		if (ldns_rr_get_type(h) == ldns_rr_get_type(r) && zc_rdata_equal(h, r)) {
			return true;
		}
	}
	return false;
}

static int fake_apply(void *ud, const struct zc_signer *sc, const char *zone,
		      const ldns_rr_list *add, const ldns_rr_list *del, unsigned timeout_ms,
		      int *ret_rcode, char *why, size_t whylen)
{
	struct world *w = ud;
	struct fake_signer *s = NULL;

	(void)zone;
	(void)timeout_ms;
	for (unsigned i = 0; i < w->n; i++) {
		if (strcmp(w->s[i].name, sc->name) == 0) {
			s = &w->s[i];
		}
	}
	assert_non_null(s);
	s->applies++;
	for (size_t i = 0; del && i < ldns_rr_list_rr_count(del); i++) {
		const ldns_rr *d = ldns_rr_list_rr(del, i);

		if (s->ignore_dnskey && ldns_rr_get_type(d) == LDNS_RR_TYPE_DNSKEY) {
			continue;
		}
		for (size_t k = 0; k < ldns_rr_list_rr_count(s->zone); k++) {
			ldns_rr *h = ldns_rr_list_rr(s->zone, k);

			if (ldns_rr_get_type(h) == ldns_rr_get_type(d) && zc_rdata_equal(h, d)) {
				ldns_rr_list_set_rr(s->zone,
						    ldns_rr_list_rr(s->zone,
								    ldns_rr_list_rr_count(s->zone) - 1),
						    k);
				(void)ldns_rr_list_pop_rr(s->zone);
				ldns_rr_free(h);
				s->applied++;
				break;
			}
		}
	}
	for (size_t i = 0; add && i < ldns_rr_list_rr_count(add); i++) {
		const ldns_rr *a = ldns_rr_list_rr(add, i);

		if (s->ignore_dnskey && ldns_rr_get_type(a) == LDNS_RR_TYPE_DNSKEY) {
			continue;
		}
		if (!has_exact(s->zone, a)) {
			assert_true(ldns_rr_list_push_rr(s->zone, ldns_rr_clone(a)));
			s->applied++;
		}
	}
	if (s->lose_answers > 0) {
		s->lose_answers--;
		snprintf(why, whylen, "UPDATE to %s failed (timeout)", s->addr);
		return ZC_ETIMEOUT;
	}
	*ret_rcode = LDNS_RCODE_NOERROR;
	return 0;
}

static int64_t fake_now(void *ud)
{
	return ((struct world *)ud)->now;
}

static uint64_t fake_mono(void *ud)
{
	return ((struct world *)ud)->mono;
}

static void fake_sleep(void *ud, unsigned ms)
{
	struct world *w = ud;

	w->mono += ms;
	w->now = 1700000000 + (int64_t)(w->mono / 1000);
}

static struct fake_signer *fs_by_name(struct world *w, const char *name)
{
	for (unsigned i = 0; i < w->n; i++) {
		if (strcmp(w->s[i].name, name) == 0) {
			return &w->s[i];
		}
	}
	return NULL;
}

/*
 * The keys-command of signer "knot" (argv: PATH ZONE ACTION ROLE TAGS...), ZSKs
 * only: publish adds a new ZSK, activate moves the SOA's signature to the new
 * tag, remove takes the old ZSK out.
 */
static int fake_run(void *ud, char *const argv[], unsigned timeout_ms, int *ret_status, char *out,
		    size_t outlen, char *why, size_t whylen)
{
	struct world *w = ud;
	struct fake_signer *s = fs_by_name(w, "knot");
	const char *action = argv[2];
	size_t used = 0;

	(void)timeout_ms;
	(void)why;
	(void)whylen;
	assert_non_null(s);
	assert_string_equal(argv[1], ZONE);
	assert_string_equal(argv[3], "zsk");
	assert_true(w->n_runs < 16);
	for (int i = 2; argv[i]; i++) {
		used += (size_t)snprintf(w->runs[w->n_runs] + used, sizeof(w->runs[0]) - used,
					 "%s%s", i > 2 ? " " : "", argv[i]);
	}
	w->n_runs++;
	snprintf(out, outlen, "ok");
	*ret_status = 0;
	if (w->ignore_cmd) {
		return 0;
	}
	if (strcmp(action, "publish") == 0) {
		ldns_rr_list_push_rr(s->zone, key_rr(256, s->alg, 90 + w->n_runs, false));
	} else if (strcmp(action, "activate") == 0) {
		s->zsig_tag = (uint16_t)strtoul(argv[4], NULL, 10);
	} else if (strcmp(action, "remove") == 0) {
		for (size_t k = 0; k < ldns_rr_list_rr_count(s->zone); k++) {
			ldns_rr *h = ldns_rr_list_rr(s->zone, k);

			if (ldns_rr_get_type(h) == LDNS_RR_TYPE_DNSKEY &&
			    zc_key_tag(h) == (uint16_t)strtoul(argv[4], NULL, 10)) {
				ldns_rr_list_set_rr(s->zone,
						    ldns_rr_list_rr(s->zone,
								    ldns_rr_list_rr_count(s->zone) - 1),
						    k);
				(void)ldns_rr_list_pop_rr(s->zone);
				ldns_rr_free(h);
				break;
			}
		}
	}
	return 0;
}

/* ns1.NAME.example. has signer NAME's address, unless the world says otherwise. */
static int fake_resolve(void *ud, const char *name, char (*out)[SGN_ADDR_LEN], unsigned max,
			unsigned *ret_n, enum zc_security *ret_sec, char *why, size_t whylen)
{
	struct world *w = ud;

	w->resolves++;
	switch (w->resolve_err) {
	case 0:
		break;
	case ZC_EBOGUS:
		snprintf(why, whylen, "%s A: DNSSEC validation failed (signature expired)", name);
		return ZC_EBOGUS;
	case ZC_ETIMEOUT:
		snprintf(why, whylen, "%s A: no answer from the resolver (timeout)", name);
		return ZC_ETIMEOUT;
	default:
		snprintf(why, whylen, "%s AAAA: SERVFAIL", name);
		return w->resolve_err;
	}
	*ret_n = 0;
	for (unsigned i = 0; i < w->n && w->resolve_n > 0; i++) {
		char want[64];

		snprintf(want, sizeof(want), "ns1.%s.example.", w->s[i].name);
		if (strcmp(want, name) == 0 && max > 0) {
			snprintf(out[0], SGN_ADDR_LEN, "%s", w->s[i].addr);
			*ret_n = 1;
		}
	}
	*ret_sec = ZC_SEC_SECURE;
	return 0;
}

static const struct sgn_io fake_io = {
	.query = fake_query,
	.apply = fake_apply,
	.now = fake_now,
	.mono_ms = fake_mono,
	.sleep_ms = fake_sleep,
	.run = fake_run,
	.resolve = fake_resolve,
};

/* The clock moves by @s seconds. */
static void tick(struct world *w, unsigned s)
{
	fake_sleep(w, s * 1000);
}

/* A signer with a KSK and a ZSK of algorithm @alg (key seeds 2*@seed, 2*@seed+1). */
static void add_signer(struct world *w, const char *name, const char *addr, uint8_t alg,
		       unsigned seed)
{
	struct fake_signer *s = &w->s[w->n++];
	ldns_rr *ksk = key_rr(257, alg, 2 * seed, false), *zsk = key_rr(256, alg, 2 * seed + 1, false);
	char line[256];

	s->name = name;
	s->addr = addr;
	s->alg = alg;
	s->zone = ldns_rr_list_new();
	snprintf(line, sizeof(line), ZONE " 300 IN SOA ns1.%s.example. h.example. 1 3600 600 86400 300",
		 name);
	ldns_rr_list_push_rr(s->zone, rr(line));
	snprintf(line, sizeof(line), ZONE " 300 IN NS ns1.%s.example.", name);
	ldns_rr_list_push_rr(s->zone, rr(line));
	s->zsig_tag = zc_key_tag(zsk);
	ldns_rr_list_push_rr(s->zone, ksk);
	ldns_rr_list_push_rr(s->zone, zsk);
}

struct cfix {
	struct sfix sf;
	struct world w;
	struct zc_signers *c;
	char points[64][128];
	unsigned n_points;
};

static void on_point(void *ud, const char *point)
{
	struct cfix *f = ud;

	if (f->n_points < 64) {
		snprintf(f->points[f->n_points++], sizeof(f->points[0]), "%s", point);
	}
}

static void new_controller(struct cfix *f)
{
	struct zc_signers_opts o = { .readback_timeout_ms = 2000, .retry_s = 5,
				     .hook = on_point, .hook_userdata = f };

	zc_signers_free(f->c);
	assert_int_equal(zc_signers_new(f->sf.ctx, f->sf.st, &o, &f->c), 0);
	zc_signers_set_io(f->c, &fake_io, &f->w);
}

static void configure(struct cfix *f, const char *name, const char *addr)
{
	struct zc_signer *s = NULL;
	char spec[256], err[256] = "";

	snprintf(spec, sizeof(spec), "%s server=%s tsig=" TSIG " ns=ns1.%s.example.=%s", name, addr,
		 name, addr);
	assert_int_equal(zc_signer_parse(spec, &s, err, sizeof(err)), 0);
	assert_int_equal(zc_signers_signer_add(f->c, s, false), 0);
	zc_signer_free(s);
}

/* Signer @name again, its nameserver name without an address (resolved). */
static void configure_by_name(struct cfix *f, const char *name, const char *addr)
{
	struct zc_signer *s = NULL;
	char spec[256], err[256] = "";

	snprintf(spec, sizeof(spec), "%s server=%s tsig=" TSIG " ns=ns1.%s.example.", name, addr,
		 name);
	assert_int_equal(zc_signer_parse(spec, &s, err, sizeof(err)), 0);
	assert_int_equal(s->ns[0].n_addrs, 0);
	assert_int_equal(zc_signers_signer_add(f->c, s, true), 0);
	zc_signer_free(s);
}

static int world_setup(void **state)
{
	struct cfix *f = calloc(1, sizeof(*f));
	struct zc_signer_zone *z = NULL;
	char err[256] = "";

	assert_non_null(f);
	store_init(&f->sf);
	f->w.now = 1700000000;
	f->w.ttl_ds = 120;
	f->w.ttl_ns = 600;
	add_signer(&f->w, "knot", "192.0.2.1@53", 13, 1);
	add_signer(&f->w, "bind", "192.0.2.2@53", 13, 2);
	f->w.parent_ns = rrs(ZONE " 600 IN NS ns1.knot.example.", NULL);
	f->w.parent_ds = ldns_rr_list_new();
	{
		ldns_rr *ds = NULL;
		ldns_rr *ksk = ldns_rr_list_rr(f->w.s[0].zone, 2);

		assert_int_equal(zc_ds_from_key(ksk, ZC_DIGEST_SHA256, &ds), 0);
		ldns_rr_set_ttl(ds, f->w.ttl_ds);
		ldns_rr_list_push_rr(f->w.parent_ds, ds);
	}
	new_controller(f);
	configure(f, "knot", "192.0.2.1@53");
	configure(f, "bind", "192.0.2.2@53");
	assert_int_equal(zc_signer_zone_parse(ZONE " signers=knot parent=" PARENT_ADDR, &z, err,
					      sizeof(err)),
			 0);
	assert_int_equal(zc_signers_zone_add(f->c, z, false), 0);
	zc_signer_zone_free(z);
	*state = f;
	return 0;
}

static int world_teardown(void **state)
{
	struct cfix *f = *state;

	zc_signers_free(f->c);
	for (unsigned i = 0; i < f->w.n; i++) {
		ldns_rr_list_deep_free(f->w.s[i].zone);
	}
	ldns_rr_list_deep_free(f->w.parent_ds);
	ldns_rr_list_deep_free(f->w.parent_ns);
	store_fini(&f->sf);
	free(f);
	return 0;
}

/* The parent's agents: CDS of the signers in the delegation -> DS; CSYNC -> NS. */
static void parent_agents(struct world *w)
{
	struct fake_signer *s = NULL;

	for (unsigned i = 0; i < w->n; i++) {
		char ns[ZC_DNS_MAX_NAME_TEXT + 16];

		snprintf(ns, sizeof(ns), ZONE " 600 IN NS ns1.%s.example.", w->s[i].name);
		{
			ldns_rr *r = rr(ns);

			if (!s && sgn_has_rdata(w->parent_ns, r)) {
				s = &w->s[i];
			}
			ldns_rr_free(r);
		}
	}
	assert_non_null(s);
	{
		ldns_rr_list *cds = ldns_rr_list_new(), *csync = ldns_rr_list_new();

		push_copies(cds, s->zone, LDNS_RR_TYPE_CDS);
		push_copies(csync, s->zone, LDNS_RR_TYPE_CSYNC);
		if (ldns_rr_list_rr_count(cds) > 0) {
			ldns_rr_list_deep_free(w->parent_ds);
			w->parent_ds = cds;
			for (size_t i = 0; i < ldns_rr_list_rr_count(cds); i++) {
				ldns_rr_set_type(ldns_rr_list_rr(cds, i), LDNS_RR_TYPE_DS);
			}
		} else {
			ldns_rr_list_deep_free(cds);
		}
		if (ldns_rr_list_rr_count(csync) > 0) {
			ldns_rr_list_deep_free(w->parent_ns);
			w->parent_ns = ldns_rr_list_new();
			push_copies(w->parent_ns, s->zone, LDNS_RR_TYPE_NS);
		}
		ldns_rr_list_deep_free(csync);
	}
}

static json_t *status_of(struct cfix *f)
{
	json_t *a = NULL;

	assert_int_equal(zc_signers_status(f->c, ZONE, false, &a), 0);
	return a;
}

static const char *proc_field(json_t *a, const char *key)
{
	return json_string_value(json_object_get(json_object_get(json_array_get(a, 0), "process"),
						 key));
}

/*
 * Runs passes, the agents and the clock until the process ends; the clock moves
 * one second per pass. Returns the final status (json_decref()).
 */
static json_t *drive(struct cfix *f, unsigned max_passes)
{
	for (unsigned i = 0; i < max_passes; i++) {
		struct zc_signers_pass p;
		json_t *a;
		const char *st;

		assert_int_equal(zc_signers_run(f->c, NULL, &p), 0);
		a = status_of(f);
		st = proc_field(a, "status");
		if (strcmp(st, "done") == 0 || strcmp(st, "stopped") == 0) {
			if (strcmp(st, "stopped") == 0) {
				print_message("stopped: %s\n", proc_field(a, "error"));
			}
			return a;
		}
		json_decref(a);
		parent_agents(&f->w);
		tick(&f->w, 1);
	}
	fail_msg("the process did not end");
	return NULL;
}

static size_t count_type(const ldns_rr_list *l, ldns_rr_type t)
{
	size_t n = 0;

	for (size_t i = 0; i < ldns_rr_list_rr_count(l); i++) {
		n += ldns_rr_get_type(ldns_rr_list_rr(l, i)) == t;
	}
	return n;
}

static void test_join_in_a_scripted_world(void **state)
{
	struct cfix *f = *state;
	struct zc_signers_pass p;
	json_t *a;
	int64_t until;

	assert_int_equal(zc_signers_start(f->c, ZONE, ZC_PROC_JOIN, "bind"), 0);
	assert_int_equal(zc_signers_start(f->c, ZONE, ZC_PROC_JOIN, "bind"), -EBUSY);
	/* one pass: check, dnskey (both signers), then DNSKEY-Wait from the TTLs served */
	assert_int_equal(zc_signers_run(f->c, NULL, &p), 0);
	assert_int_equal(p.waiting, 1);
	a = status_of(f);
	assert_string_equal(proc_field(a, "step"), "dnskey-wait");
	assert_non_null(strstr(proc_field(a, "waiting_for"), "DNSKEY-Wait: largest DNSKEY TTL 300s"));
	until = json_integer_value(
		json_object_get(json_object_get(json_array_get(a, 0), "process"), "until"));
	assert_int_equal(until, f->w.now + 300);
	assert_int_equal(p.next_s, until);
	json_decref(a);
	assert_int_equal(count_type(f->w.s[0].zone, LDNS_RR_TYPE_DNSKEY), 3);
	assert_int_equal(count_type(f->w.s[1].zone, LDNS_RR_TYPE_DNSKEY), 3);
	/* not a second early; and a new controller (after a crash) keeps the deadline */
	tick(&f->w, 299);
	new_controller(f);
	assert_int_equal(zc_signers_run(f->c, NULL, &p), 0);
	a = status_of(f);
	assert_string_equal(proc_field(a, "step"), "dnskey-wait");
	json_decref(a);
	tick(&f->w, 1);
	a = drive(f, 2000);
	assert_string_equal(proc_field(a, "status"), "done");
	json_decref(a);
	/* RFC 8901 model 2: both ZSKs everywhere, CDS/CDNSKEY of both KSKs everywhere */
	for (unsigned i = 0; i < 2; i++) {
		ldns_rr_list *z = f->w.s[i].zone;

		assert_int_equal(count_type(z, LDNS_RR_TYPE_DNSKEY), 3);
		assert_int_equal(count_type(z, LDNS_RR_TYPE_CDS), 2);
		assert_int_equal(count_type(z, LDNS_RR_TYPE_CDNSKEY), 2);
		assert_int_equal(count_type(z, LDNS_RR_TYPE_NS), 2);
		assert_int_equal(count_type(z, LDNS_RR_TYPE_CSYNC), 0);
		assert_true(sgn_has_key(z, ldns_rr_list_rr(f->w.s[1 - i].zone, 3)));
	}
	assert_int_equal(ldns_rr_list_rr_count(f->w.parent_ds), 2);
	assert_int_equal(ldns_rr_list_rr_count(f->w.parent_ns), 2);
	/* four UPDATEs per signer: DNSKEY, CDS, NS+CSYNC, CSYNC removal */
	assert_int_equal(f->w.s[0].applies, 4);
	assert_int_equal(f->w.s[1].applies, 4);
	/* then a sync finds nothing to do */
	assert_int_equal(zc_signers_start(f->c, ZONE, ZC_PROC_SYNC, NULL), 0);
	a = drive(f, 3000);
	assert_string_equal(proc_field(a, "status"), "done");
	json_decref(a);
	assert_int_equal(f->w.s[0].applies, 4);
}

static void test_join_lost_answer_is_not_sent_twice(void **state)
{
	struct cfix *f = *state;
	json_t *a;

	/* the UPDATE is applied but its answer lost: the step is retried, reads the
	 * signer, finds the change there, and does not send it again */
	f->w.s[1].lose_answers = 1;
	assert_int_equal(zc_signers_start(f->c, ZONE, ZC_PROC_JOIN, "bind"), 0);
	a = drive(f, 3000);
	assert_string_equal(proc_field(a, "status"), "done");
	json_decref(a);
	assert_int_equal(f->w.s[0].applies, 4);
	assert_int_equal(f->w.s[1].applies, 4);
	/* knot's ZSK; CDS and CDNSKEY of both KSKs; NS and CSYNC; the CSYNC out */
	assert_int_equal(f->w.s[1].applied, 1 + 4 + 2 + 1);
}

static void test_join_signer_ignoring_updates_stops(void **state)
{
	struct cfix *f = *state;
	struct zc_signers_pass p;
	json_t *a;
	unsigned applies;

	f->w.s[1].ignore_dnskey = true;
	assert_int_equal(zc_signers_start(f->c, ZONE, ZC_PROC_JOIN, "bind"), 0);
	assert_int_equal(zc_signers_run(f->c, NULL, &p), 0);
	assert_int_equal(p.stopped, 1);
	a = status_of(f);
	assert_string_equal(proc_field(a, "status"), "stopped");
	assert_string_equal(proc_field(a, "step"), "dnskey");
	assert_non_null(strstr(proc_field(a, "error"),
			       "signer 'bind' answered NOERROR but changed nothing"));
	json_decref(a);
	/* stopped stays stopped */
	applies = f->w.s[1].applies;
	tick(&f->w, 3600);
	assert_int_equal(zc_signers_run(f->c, NULL, &p), 0);
	assert_int_equal(f->w.s[1].applies, applies);
	assert_int_equal(zc_signers_abort(f->c, ZONE), 0);
	assert_int_equal(zc_signers_abort(f->c, ZONE), ZC_ENOTFOUND);
}

static void test_join_dropped_keys_stop_at_the_next_step(void **state)
{
	struct cfix *f = *state;
	json_t *a;

	assert_int_equal(zc_signers_start(f->c, ZONE, ZC_PROC_JOIN, "bind"), 0);
	assert_int_equal(zc_signers_run(f->c, NULL, NULL), 0); /* into dnskey-wait */
	a = status_of(f);
	assert_string_equal(proc_field(a, "step"), "dnskey-wait");
	json_decref(a);
	/* the signer re-signs and drops the foreign key it had taken (Knot full) */
	{
		ldns_rr_list *z = f->w.s[1].zone;
		ldns_rr *foreign = ldns_rr_list_rr(f->w.s[0].zone, 3);

		for (size_t k = 0; k < ldns_rr_list_rr_count(z); k++) {
			if (zc_key_equal(ldns_rr_list_rr(z, k), foreign)) {
				ldns_rr_free(ldns_rr_list_rr(z, k));
				ldns_rr_list_set_rr(z, ldns_rr_list_rr(z, ldns_rr_list_rr_count(z) - 1),
						    k);
				(void)ldns_rr_list_pop_rr(z);
				break;
			}
		}
	}
	tick(&f->w, 400);
	a = drive(f, 10);
	assert_string_equal(proc_field(a, "status"), "stopped");
	assert_non_null(strstr(proc_field(a, "error"), "signer 'bind' no longer serves the DNSKEY"));
	json_decref(a);
}

static void test_join_refused_up_front(void **state)
{
	struct cfix *f = *state;
	json_t *a;

	/* bind signs with RSASHA256 (8) next to ECDSA P-256 (13) */
	for (size_t k = 0; k < ldns_rr_list_rr_count(f->w.s[1].zone); k++) {
		ldns_rr *r = ldns_rr_list_rr(f->w.s[1].zone, k);

		if (ldns_rr_get_type(r) == LDNS_RR_TYPE_DNSKEY) {
			ldns_rr *n = key_rr(zc_key_tag(r) == f->w.s[1].zsig_tag ? 256 : 257, 8, 40 + k,
					    false);

			if (zc_key_tag(r) == f->w.s[1].zsig_tag) {
				f->w.s[1].zsig_tag = zc_key_tag(n);
			}
			ldns_rr_free(r);
			ldns_rr_list_set_rr(f->w.s[1].zone, n, k);
		}
	}
	f->w.s[1].alg = 8;
	assert_int_equal(zc_signers_start(f->c, ZONE, ZC_PROC_JOIN, "bind"), 0);
	a = drive(f, 3);
	assert_string_equal(proc_field(a, "step"), "check");
	assert_non_null(strstr(proc_field(a, "error"), "algorithm mismatch"));
	json_decref(a);
	assert_int_equal(f->w.s[0].applies + f->w.s[1].applies, 0);
}

static void test_check_group_key_tag_collision_and_ns(void **state)
{
	struct zc_signer *cfg[2] = { NULL, NULL };
	struct sgn_view view[2];
	struct sgn_group g = { .n = 0 };
	struct sgn_targets t;
	struct zc_signer_zone *z = NULL;
	ldns_rdf *apex = NULL;
	const char *who = NULL;
	char why[512], err[256];

	(void)state;
	memset(view, 0, sizeof(view));
	assert_int_equal(zc_signer_zone_parse(ZONE, &z, err, sizeof(err)), 0);
	assert_int_equal(zc_name_from_str(ZONE, &apex), 0);
	assert_int_equal(zc_signer_parse("a server=192.0.2.1 ns=ns1.a.example", &cfg[0], err,
					 sizeof(err)),
			 0);
	assert_int_equal(zc_signer_parse("b server=192.0.2.2 ns=ns1.b.example", &cfg[1], err,
					 sizeof(err)),
			 0);
	assert_int_equal(sgn_group_add(&g, "a", SGN_ACTIVE), 0);
	assert_int_equal(sgn_group_add(&g, "b", SGN_JOINING), 0);
	for (unsigned i = 0; i < 2; i++) {
		view[i].dnskey = ldns_rr_list_new();
		view[i].ns = ldns_rr_list_new();
	}
	/* b's ZSK: another key with the tag of a's ZSK */
	ldns_rr_list_push_rr(view[0].dnskey, key_rr(257, 13, 10, false));
	ldns_rr_list_push_rr(view[0].dnskey, key_rr(256, 13, 11, false));
	ldns_rr_list_push_rr(view[1].dnskey, key_rr(257, 13, 12, false));
	ldns_rr_list_push_rr(view[1].dnskey, key_rr(256, 13, 11, true));
	assert_int_equal(zc_key_tag(ldns_rr_list_rr(view[0].dnskey, 1)),
			 zc_key_tag(ldns_rr_list_rr(view[1].dnskey, 1)));
	assert_false(zc_key_equal(ldns_rr_list_rr(view[0].dnskey, 1),
				  ldns_rr_list_rr(view[1].dnskey, 1)));
	{
		struct sgn_set set = { .zone = z, .apex = apex, .group = &g, .cfg = cfg,
				       .view = view };

		assert_int_equal(sgn_targets_compute(&set, &t), 0);
		assert_int_equal(sgn_check_group(&set, &t, &who, why, sizeof(why)), 1);
		assert_non_null(strstr(why, "key tag collision"));
		assert_string_equal(who, "b");
		sgn_targets_release(&t);
		/* the same key at both: two signers cannot own one key */
		ldns_rr_free(ldns_rr_list_pop_rr(view[1].dnskey));
		ldns_rr_list_push_rr(view[1].dnskey, key_rr(256, 13, 11, false));
		assert_int_equal(sgn_targets_compute(&set, &t), 0);
		assert_int_equal(sgn_check_group(&set, &t, &who, why, sizeof(why)), 1);
		assert_non_null(strstr(why, "both publish key"));
		sgn_targets_release(&t);
		/* fine keys, but an NS name nobody declares */
		ldns_rr_free(ldns_rr_list_pop_rr(view[1].dnskey));
		ldns_rr_list_push_rr(view[1].dnskey, key_rr(256, 13, 13, false));
		ldns_rr_list_push_rr(view[1].ns, rr(ZONE " 300 IN NS ns9.other.example."));
		assert_int_equal(sgn_targets_compute(&set, &t), 0);
		assert_int_equal(sgn_check_group(&set, &t, &who, why, sizeof(why)), 1);
		assert_non_null(strstr(why, "serves NS ns9.other.example."));
		sgn_targets_release(&t);
		ldns_rr_free(ldns_rr_list_pop_rr(view[1].ns));
		ldns_rr_list_push_rr(view[1].ns, rr(ZONE " 300 IN NS ns1.a.example."));
		assert_int_equal(sgn_targets_compute(&set, &t), 0);
		assert_int_equal(sgn_check_group(&set, &t, &who, why, sizeof(why)), 0);
		/* the NS union, and every KSK for the parent */
		assert_int_equal(ldns_rr_list_rr_count(t.ns), 2);
		assert_int_equal(ldns_rr_list_rr_count(t.sep), 2);
		sgn_targets_release(&t);
	}
	for (unsigned i = 0; i < 2; i++) {
		sgn_view_release(&view[i]);
		zc_signer_free(cfg[i]);
	}
	sgn_group_release(&g);
	zc_signer_zone_free(z);
	ldns_rdf_deep_free(apex);
}

static void test_leave_in_a_scripted_world(void **state)
{
	struct cfix *f = *state;
	json_t *a;
	ldns_rr *knot_zsk = ldns_rr_clone(ldns_rr_list_rr(f->w.s[0].zone, 3));
	char *order[16];
	unsigned n = 0;

	assert_int_equal(zc_signers_start(f->c, ZONE, ZC_PROC_JOIN, "bind"), 0);
	json_decref(drive(f, 3000));
	assert_int_equal(zc_signers_start(f->c, ZONE, ZC_PROC_LEAVE, "bind"), 0);
	f->n_points = 0;
	a = drive(f, 3000);
	assert_string_equal(proc_field(a, "status"), "done");
	json_decref(a);
	/* RFC 8901 §8.2: NS out first, then the DS, the ZSK last */
	for (unsigned i = 0; i < f->n_points; i++) {
		if (strstr(f->points[i], "/done") && n < 16) {
			order[n++] = f->points[i];
		}
	}
	assert_true(n >= 10);
	assert_string_equal(order[0], "leave/check/done");
	assert_string_equal(order[1], "leave/ns/done");
	assert_string_equal(order[5], "leave/cds/done");
	assert_string_equal(order[8], "leave/dnskey/done");
	/* knot alone again: its keys, its CDS, its NS; bind's keys gone from knot */
	assert_int_equal(count_type(f->w.s[0].zone, LDNS_RR_TYPE_DNSKEY), 2);
	assert_int_equal(count_type(f->w.s[0].zone, LDNS_RR_TYPE_CDS), 1);
	assert_int_equal(count_type(f->w.s[0].zone, LDNS_RR_TYPE_NS), 1);
	assert_int_equal(ldns_rr_list_rr_count(f->w.parent_ds), 1);
	assert_int_equal(ldns_rr_list_rr_count(f->w.parent_ns), 1);
	/* what was put at bind is gone from it too (its own NS went, as asked) */
	assert_false(sgn_has_key(f->w.s[1].zone, knot_zsk));
	ldns_rr_free(knot_zsk);
	/* the last signer cannot leave */
	assert_int_equal(zc_signers_start(f->c, ZONE, ZC_PROC_LEAVE, "knot"), -EINVAL);
	assert_non_null(strstr(zc_signers_last_error(f->c), "last active signer"));
}

/* Signer "knot" with a keys-command; "bind" joined: a group of two in sync. */
static void roll_setup(struct cfix *f)
{
	struct zc_signer *s = NULL;
	char err[256] = "";
	json_t *a;

	assert_int_equal(zc_signers_start(f->c, ZONE, ZC_PROC_JOIN, "bind"), 0);
	a = drive(f, 3000);
	assert_string_equal(proc_field(a, "status"), "done");
	json_decref(a);
	assert_int_equal(zc_signer_parse("knot server=192.0.2.1@53 tsig=" TSIG
					 " ns=ns1.knot.example.=192.0.2.1@53 keys-command=/fake/keys",
					 &s, err, sizeof(err)),
			 0);
	assert_int_equal(zc_signers_signer_add(f->c, s, true), 0);
	zc_signer_free(s);
}

static bool zone_has_key(const struct fake_signer *s, const ldns_rr *key)
{
	for (size_t k = 0; k < ldns_rr_list_rr_count(s->zone); k++) {
		const ldns_rr *h = ldns_rr_list_rr(s->zone, k);

		if (ldns_rr_get_type(h) == LDNS_RR_TYPE_DNSKEY && zc_key_equal(h, key)) {
			return true;
		}
	}
	return false;
}

static void test_zsk_rollover_in_a_scripted_world(void **state)
{
	struct cfix *f = *state;
	struct fake_signer *knot = &f->w.s[0], *bind = &f->w.s[1];
	ldns_rr *old = ldns_rr_clone(ldns_rr_list_rr(knot->zone, 3)), *new = NULL;
	char want[3][64];
	json_t *a;

	roll_setup(f);
	assert_int_equal(zc_key_tag(old), knot->zsig_tag);
	assert_true(zone_has_key(bind, old));
	f->n_points = 0;
	assert_int_equal(zc_signers_start(f->c, ZONE, ZC_PROC_ROLL_ZSK, "knot"), 0);
	a = drive(f, 3000);
	assert_string_equal(proc_field(a, "status"), "done");
	json_decref(a);
	/* the command ran once per action, with the tags of the keys */
	assert_int_equal(f->w.n_runs, 3);
	for (size_t k = 0; k < ldns_rr_list_rr_count(knot->zone); k++) {
		const ldns_rr *h = ldns_rr_list_rr(knot->zone, k);

		if (ldns_rr_get_type(h) == LDNS_RR_TYPE_DNSKEY && zc_key_tag(h) == knot->zsig_tag) {
			new = ldns_rr_clone(h);
		}
	}
	assert_non_null(new);
	snprintf(want[0], sizeof(want[0]), "publish zsk %u", zc_key_tag(old));
	snprintf(want[1], sizeof(want[1]), "activate zsk %u %u", zc_key_tag(new), zc_key_tag(old));
	snprintf(want[2], sizeof(want[2]), "remove zsk %u", zc_key_tag(old));
	for (int i = 0; i < 3; i++) {
		assert_string_equal(f->w.runs[i], want[i]);
	}
	/* the old ZSK gone everywhere, the new one everywhere */
	assert_false(zone_has_key(knot, old));
	assert_false(zone_has_key(bind, old));
	assert_true(zone_has_key(bind, new));
	/* the new key was at BIND before Knot signed with it: the order of the points */
	{
		int pushed = -1, activated = -1, waited = -1;

		for (unsigned i = 0; i < f->n_points; i++) {
			if (strcmp(f->points[i], "roll-zsk/dnskey/verified/bind") == 0) {
				pushed = (int)i;
			}
			if (strcmp(f->points[i], "roll-zsk/activate/verified/knot") == 0) {
				activated = (int)i;
			}
			if (strcmp(f->points[i], "roll-zsk/sig-wait/waiting") == 0 && waited < 0) {
				waited = (int)i;
			}
		}
		assert_true(pushed >= 0 && pushed < activated && activated < waited);
	}
	ldns_rr_free(old);
	ldns_rr_free(new);
}

static void test_rollover_ignored_keys_command_stops(void **state)
{
	struct cfix *f = *state;
	json_t *a;

	roll_setup(f);
	f->w.ignore_cmd = true;
	assert_int_equal(zc_signers_start(f->c, ZONE, ZC_PROC_ROLL_ZSK, "knot"), 0);
	a = drive(f, 100);
	assert_string_equal(proc_field(a, "status"), "stopped");
	assert_string_equal(proc_field(a, "step"), "publish");
	assert_non_null(strstr(proc_field(a, "error"), "ignored"));
	json_decref(a);
	assert_int_equal(f->w.n_runs, 1);
	/* resumed, the command runs again (the stop forgot it), and is ignored again */
	assert_int_equal(zc_signers_resume(f->c, ZONE), 0);
	a = drive(f, 100);
	assert_string_equal(proc_field(a, "status"), "stopped");
	json_decref(a);
	assert_int_equal(f->w.n_runs, 2);
	/* Knot signs with a KSK and a ZSK: it has no CSK to roll */
	assert_int_equal(zc_signers_abort(f->c, ZONE), 0);
	assert_int_equal(zc_signers_start(f->c, ZONE, ZC_PROC_ROLL_CSK, "knot"), 0);
	a = drive(f, 10);
	assert_string_equal(proc_field(a, "step"), "check");
	assert_non_null(strstr(proc_field(a, "error"), "no csk"));
	json_decref(a);
	assert_int_equal(f->w.n_runs, 2);
}

static void test_config_guards(void **state)
{
	struct cfix *f = *state;
	struct zc_signer_zone *z = NULL;
	char err[256];

	assert_int_equal(zc_signers_signer_remove(f->c, "knot"), -EBUSY);
	assert_non_null(strstr(zc_signers_last_error(f->c), "leave first"));
	assert_int_equal(zc_signers_signer_remove(f->c, "nobody"), ZC_ENOTFOUND);
	assert_int_equal(zc_signers_start(f->c, ZONE, ZC_PROC_JOIN, "knot"), -EINVAL);
	assert_int_equal(zc_signers_start(f->c, ZONE, ZC_PROC_JOIN, "nobody"), ZC_ENOTFOUND);
	assert_int_equal(zc_signers_start(f->c, "other.example.", ZC_PROC_SYNC, NULL), ZC_ENOTFOUND);
	/* a rollover needs the signer's keys-command */
	assert_int_equal(zc_signers_start(f->c, ZONE, ZC_PROC_ROLL_ZSK, "knot"), -EINVAL);
	assert_non_null(strstr(zc_signers_last_error(f->c), "keys-command"));
	assert_int_equal(zc_signer_zone_parse("x.example signers=nobody", &z, err, sizeof(err)), 0);
	assert_int_equal(zc_signers_zone_add(f->c, z, false), ZC_ENOTFOUND);
	zc_signer_zone_free(z);
	/* a zone with a process in progress cannot go */
	assert_int_equal(zc_signers_start(f->c, ZONE, ZC_PROC_JOIN, "bind"), 0);
	assert_int_equal(zc_signers_zone_remove(f->c, ZONE), -EBUSY);
	assert_int_equal(zc_signers_signer_remove(f->c, "bind"), -EBUSY);
	assert_int_equal(zc_signers_abort(f->c, ZONE), 0);
	assert_int_equal(zc_signers_zone_remove(f->c, ZONE), 0);
}

/* The first "signers" entry named @name in a live status array. */
static json_t *status_signer(json_t *a, const char *name)
{
	size_t i;
	json_t *v;

	json_array_foreach(json_object_get(json_array_get(a, 0), "signers"), i, v) {
		if (strcmp(json_string_value(json_object_get(v, "name")), name) == 0) {
			return v;
		}
	}
	fail_msg("no signer %s in the status", name);
	return NULL;
}

static void test_ns_name_resolved_once_per_pass_and_read_back(void **state)
{
	struct cfix *f = *state;
	struct zc_signers_pass p;
	json_t *a, *b, *srv;

	f->w.resolve_n = 1;
	configure_by_name(f, "bind", "192.0.2.2@53");
	assert_int_equal(zc_signers_start(f->c, ZONE, ZC_PROC_JOIN, "bind"), 0);
	/* check, dnskey (read, written, read back) in one pass: one lookup */
	assert_int_equal(zc_signers_run(f->c, NULL, &p), 0);
	assert_int_equal(f->w.resolves, 1);
	assert_int_equal(p.waiting, 1);
	assert_int_equal(p.stopped, 0);
	a = status_of(f);
	assert_string_equal(proc_field(a, "step"), "dnskey-wait");
	json_decref(a);
	assert_int_equal(f->w.s[1].applies, 1);
	assert_int_equal(count_type(f->w.s[1].zone, LDNS_RR_TYPE_DNSKEY), 3);
	/* the next pass asks again */
	tick(&f->w, 300);
	assert_int_equal(zc_signers_run(f->c, NULL, &p), 0);
	assert_int_equal(f->w.resolves, 2);
	/* status: the address, and where it came from */
	assert_int_equal(zc_signers_status(f->c, ZONE, true, &a), 0);
	b = status_signer(a, "bind");
	srv = json_array_get(json_object_get(b, "servers"), 0);
	assert_string_equal(json_string_value(json_object_get(srv, "address")), "192.0.2.2@53");
	assert_string_equal(json_string_value(json_object_get(srv, "source")), "dns");
	assert_string_equal(json_string_value(json_object_get(srv, "ns")), "ns1.bind.example.");
	srv = json_array_get(json_object_get(b, "nameservers"), 0);
	assert_string_equal(json_string_value(json_object_get(srv, "security")), "secure");
	assert_true(json_is_null(json_object_get(srv, "error")));
	srv = json_array_get(json_object_get(status_signer(a, "knot"), "servers"), 0);
	assert_string_equal(json_string_value(json_object_get(srv, "source")), "config");
	json_decref(a);
}

static void test_ns_name_without_address_holds_the_step(void **state)
{
	struct cfix *f = *state;
	static const struct {
		int err;
		unsigned n;
		const char *why;
	} cases[] = {
		{ ZC_ERESOLV, 0, "SERVFAIL" },
		{ ZC_EBOGUS, 0, "validation failed" },
		{ ZC_ETIMEOUT, 0, "timeout" },
		{ 0, 0, "no A or AAAA record" }, /* NODATA for both */
	};
	struct zc_signers_pass p;
	json_t *a, *b;

	configure_by_name(f, "bind", "192.0.2.2@53");
	assert_int_equal(zc_signers_start(f->c, ZONE, ZC_PROC_JOIN, "bind"), 0);
	for (size_t i = 0; i < ZC_ARRAY_SIZE(cases); i++) {
		f->w.resolve_err = cases[i].err;
		f->w.resolve_n = cases[i].n;
		tick(&f->w, 10);
		assert_int_equal(zc_signers_run(f->c, NULL, &p), 0);
		/* never stopped, never gone on: the step waits and tries again */
		assert_int_equal(p.waiting, 1);
		assert_int_equal(p.stopped, 0);
		a = status_of(f);
		assert_string_equal(proc_field(a, "step"), "check");
		assert_string_equal(proc_field(a, "status"), "waiting");
		assert_non_null(strstr(proc_field(a, "error"), "ns1.bind.example."));
		assert_non_null(strstr(proc_field(a, "error"), cases[i].why));
		json_decref(a);
		assert_int_equal(f->w.s[0].applies + f->w.s[1].applies, 0);
	}
	/* status: the signer cannot be read, the group is not in sync, and why */
	assert_int_equal(zc_signers_status(f->c, ZONE, true, &a), 0);
	b = status_signer(a, "bind");
	assert_non_null(strstr(json_string_value(json_object_get(b, "error")), "no A or AAAA"));
	assert_true(json_is_false(json_object_get(json_array_get(a, 0), "in_sync")));
	assert_true(json_array_size(json_object_get(b, "servers")) == 0);
	assert_non_null(strstr(json_string_value(json_object_get(
				       json_array_get(json_object_get(b, "nameservers"), 0), "error")),
			       "no A or AAAA"));
	json_decref(a);
	/* a write is not sent when its read-back set is not known */
	{
		struct zc_signer *s = NULL;
		struct sgn_write_result res;
		ldns_rr_list *add = rrs(ZONE " 300 IN NS ns9.example.", NULL);

		assert_int_equal(zc_signers_signer_get(f->c, "bind", &s), 0);
		assert_int_equal(sgn_write(f->c, s, ZONE, add, NULL, &res, NULL, NULL), 0);
		assert_int_equal(res.outcome, SGN_WRITE_TRANSIENT);
		assert_int_equal(f->w.s[1].applies, 0);
		ldns_rr_list_deep_free(add);
		zc_signer_free(s);
	}
	/* the name resolves again: the process goes on */
	f->w.resolve_err = 0;
	f->w.resolve_n = 1;
	a = drive(f, 3000);
	assert_string_equal(proc_field(a, "status"), "done");
	json_decref(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_signer_parse_canonical_roundtrip),
		cmocka_unit_test(test_signer_parse_errors),
		cmocka_unit_test(test_zone_parse_digests_and_lists),
		cmocka_unit_test(test_group_json_roundtrip),
		cmocka_unit_test_setup_teardown(test_store_signer_rows, store_setup, store_teardown),
		cmocka_unit_test_setup_teardown(test_store_group_compare_and_set, store_setup,
						store_teardown),
		cmocka_unit_test(test_model_own_zone_and_sep_keys),
		cmocka_unit_test(test_model_cds_and_ds_coverage),
		cmocka_unit_test(test_model_diff_only_removable_goes),
		cmocka_unit_test(test_rfc2136_update_message),
		cmocka_unit_test(test_pdns_api_body),
		cmocka_unit_test(test_check_group_key_tag_collision_and_ns),
		cmocka_unit_test_setup_teardown(test_join_in_a_scripted_world, world_setup,
						world_teardown),
		cmocka_unit_test_setup_teardown(test_join_lost_answer_is_not_sent_twice, world_setup,
						world_teardown),
		cmocka_unit_test_setup_teardown(test_join_signer_ignoring_updates_stops, world_setup,
						world_teardown),
		cmocka_unit_test_setup_teardown(test_join_dropped_keys_stop_at_the_next_step,
						world_setup, world_teardown),
		cmocka_unit_test_setup_teardown(test_join_refused_up_front, world_setup,
						world_teardown),
		cmocka_unit_test_setup_teardown(test_leave_in_a_scripted_world, world_setup,
						world_teardown),
		cmocka_unit_test_setup_teardown(test_config_guards, world_setup, world_teardown),
		cmocka_unit_test_setup_teardown(test_zsk_rollover_in_a_scripted_world, world_setup,
						world_teardown),
		cmocka_unit_test_setup_teardown(test_rollover_ignored_keys_command_stops,
						world_setup, world_teardown),
		cmocka_unit_test_setup_teardown(test_ns_name_resolved_once_per_pass_and_read_back,
						world_setup, world_teardown),
		cmocka_unit_test_setup_teardown(test_ns_name_without_address_holds_the_step,
						world_setup, world_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
