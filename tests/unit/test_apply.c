/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of apply/ (no network): the canonical DS text form and its parser,
 * the journal form of a change, the exact nsupdate script text, TSIG keys from
 * text and from BIND key files (good and bad), TSIG signing and verification
 * cross-checked against ldns, and the updater's refusals that happen before any
 * packet is sent (replayed inception, nothing to change, bad input).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <zonecut/apply.h>

#include "apply/internal.h"

#define DIG1 "2BB183AF5F22588179A53B0A98631FAD1A292118"
#define DIG256 "E2D3C916F6DEEAC73294E8268FB5885044A833FC5459588F4A9184CFC41A5766"
#define SECRET "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTEyMzQ=" /* 32 octets */

static ldns_rr_list *ds_list(const char *child, const char *text)
{
	ldns_rr_list *l = NULL;

	assert_int_equal(zc_apply_ds_parse(child, 7200, text, &l), 0);
	return l;
}

static void test_ds_text_canonical_sorted_unique(void **state)
{
	ldns_rr_list *l = ldns_rr_list_new();
	ldns_rr *rr;
	char *t = NULL;

	(void)state;
	assert_int_equal(ldns_rr_new_frm_str(&rr, "x.example. 3600 IN DS 60485 5 2 " DIG256 "",
					     0, NULL, NULL),
			 LDNS_STATUS_OK);
	ldns_rr_list_push_rr(l, rr);
	assert_int_equal(ldns_rr_new_frm_str(&rr, "x.example. 60 IN CDS 20 13 1 " DIG1, 0, NULL,
					     NULL),
			 LDNS_STATUS_OK);
	ldns_rr_list_push_rr(l, rr);
	assert_int_equal(ldns_rr_new_frm_str(&rr, "X.EXAMPLE. 3600 IN DS 60485 5 2 " DIG256, 0,
					     NULL, NULL),
			 LDNS_STATUS_OK);
	ldns_rr_list_push_rr(l, rr);
	assert_int_equal(zc_apply_ds_text(l, &t), 0);
	assert_string_equal(t, "20 13 1 " DIG1 "\n60485 5 2 " DIG256 "\n");
	free(t);
	/* a CDS delete form and other types are not DS */
	assert_int_equal(ldns_rr_new_frm_str(&rr, "x.example. 60 IN CDS 0 0 0 00", 0, NULL, NULL),
			 LDNS_STATUS_OK);
	ldns_rr_list_push_rr(l, rr);
	assert_int_equal(zc_apply_ds_text(l, &t), ZC_EMALF);
	ldns_rr_list_deep_free(l);
	l = ldns_rr_list_new();
	assert_int_equal(ldns_rr_new_frm_str(&rr, "x.example. 60 IN A 192.0.2.1", 0, NULL, NULL),
			 LDNS_STATUS_OK);
	ldns_rr_list_push_rr(l, rr);
	assert_int_equal(zc_apply_ds_text(l, &t), ZC_EMALF);
	ldns_rr_list_deep_free(l);
	assert_int_equal(zc_apply_ds_text(NULL, &t), 0);
	assert_string_equal(t, "");
	free(t);
}

static void test_ds_parse_good_and_bad(void **state)
{
	static const struct {
		const char *text;
		int ret;
		size_t n;
	} cases[] = {
		{ "", 0, 0 },
		{ " ; \n ", 0, 0 },
		{ "60485 5 1 " DIG1, 0, 1 },
		{ "60485 5 1 2BB183AF 5F225881 79A53B0A 98631FAD 1A292118", 0, 1 },
		{ "1 13 2 aabb\n2 13 2 CCDD;3 13 4 EEFF\n", 0, 3 },
		{ "1 13 2 ABC", ZC_EMALF, 0 },       /* odd number of hex digits */
		{ "1 13 2 XY", ZC_EMALF, 0 },        /* not hex */
		{ "1 13 2", ZC_EMALF, 0 },           /* no digest */
		{ "70000 13 2 AA", ZC_EMALF, 0 },    /* key tag out of range */
		{ "1 256 2 AA", ZC_EMALF, 0 },       /* algorithm out of range */
		{ "1 x 2 AA", ZC_EMALF, 0 },
		{ "0 0 0 00", ZC_EMALF, 0 },         /* RFC 8078 delete form is no DS */
	};
	(void)state;
	for (size_t i = 0; i < ZC_ARRAY_SIZE(cases); i++) {
		ldns_rr_list *l = NULL;
		int r = zc_apply_ds_parse("x.example.", 60, cases[i].text, &l);

		assert_int_equal(r, cases[i].ret);
		if (r == 0) {
			assert_int_equal(ldns_rr_list_rr_count(l), cases[i].n);
			for (size_t j = 0; j < cases[i].n; j++) {
				ldns_rr *rr = ldns_rr_list_rr(l, j);

				assert_int_equal(ldns_rr_get_type(rr), LDNS_RR_TYPE_DS);
				assert_int_equal(ldns_rr_ttl(rr), 60);
			}
			ldns_rr_list_deep_free(l);
		} else {
			assert_null(l);
		}
	}
	/* round trip */
	{
		ldns_rr_list *l = ds_list("x.example.", "60485 5 1 " DIG1);
		char *t = NULL;

		assert_int_equal(zc_apply_ds_text(l, &t), 0);
		assert_string_equal(t, "60485 5 1 " DIG1 "\n");
		free(t);
		ldns_rr_list_deep_free(l);
	}
	/* too many records */
	{
		char *big = malloc(ZC_APPLY_MAX_DS * 16 + 32);
		size_t pos = 0;
		ldns_rr_list *l = NULL;

		for (int i = 0; i <= ZC_APPLY_MAX_DS; i++) {
			pos += (size_t)snprintf(big + pos, 16, "%d 13 2 AA\n", i + 1);
		}
		assert_int_equal(zc_apply_ds_parse("x.", 1, big, &l), ZC_ELIMIT);
		free(big);
	}
	assert_int_equal(zc_apply_ds_parse("", 1, "", &(ldns_rr_list *){ NULL }), ZC_EMALF);
}

static void test_change_to_journal(void **state)
{
	ldns_rr_list *old = ds_list("a.example.", "2 13 2 BB\n1 13 2 AA");
	ldns_rr_list *new = ds_list("a.example.", "3 13 2 CC");
	struct zc_change c = { .child = "A.Example", .parent = "EXAMPLE.", .ds_old = old,
			       .ds_new = new, .mode = ZC_CHANGE_ROLLOVER, .inception = 77 };
	struct zc_journal_entry e;

	(void)state;
	assert_int_equal(zc_change_to_journal(&c, &e), 0);
	assert_string_equal(e.child, "a.example.");
	assert_string_equal(e.parent, "example.");
	assert_string_equal(e.ds_old, "1 13 2 AA\n2 13 2 BB\n");
	assert_string_equal(e.ds_new, "3 13 2 CC\n");
	assert_int_equal(e.ttl, 7200); /* from the old DS set */
	assert_int_equal(e.inception, 77);
	zc_journal_entry_release(&e);
	c.ttl = 300;
	assert_int_equal(zc_change_ttl(&c), 300);
	c.ttl = 0;
	c.ds_old = NULL;
	assert_int_equal(zc_change_ttl(&c), ZC_APPLY_DEFAULT_TTL);
	/* the child must lie below its parent */
	c.parent = "other.";
	assert_int_equal(zc_change_to_journal(&c, &e), ZC_EMALF);
	c.parent = "a.example.";
	assert_int_equal(zc_change_to_journal(&c, &e), ZC_EMALF);
	c.parent = "example.";
	c.child = "";
	assert_int_equal(zc_change_to_journal(&c, &e), ZC_EMALF);
	ldns_rr_list_deep_free(old);
	ldns_rr_list_deep_free(new);
}

/* Runs zc_apply_nsupdate() into a memory buffer. */
static int script(const struct zc_change *c, const char *server, const char *zone,
		  unsigned flags, char **ret)
{
	size_t len = 0;
	FILE *f = open_memstream(ret, &len);
	int r;

	assert_non_null(f);
	r = zc_apply_nsupdate(f, c, server, zone, flags);
	fclose(f);
	return r;
}

static void test_nsupdate_script_text(void **state)
{
	ldns_rr_list *old = ds_list("child.example.", "1 13 2 AA\n2 13 2 BB");
	ldns_rr_list *new = ds_list("child.example.", "2 13 2 BB\n3 13 2 CC");
	ldns_rr_list *empty = ldns_rr_list_new();
	struct zc_change c = { .child = "child.example.", .parent = "example.", .ds_old = old,
			       .ds_new = new, .mode = ZC_CHANGE_ROLLOVER };
	char *out = NULL;

	(void)state;
	/* rollover: only the difference, adds first */
	assert_int_equal(script(&c, "127.0.0.1@5300", NULL, 0, &out), 0);
	assert_string_equal(out, "server 127.0.0.1 5300\n"
				 "zone example.\n"
				 "update add child.example. 7200 IN DS 3 13 2 CC\n"
				 "update delete child.example. IN DS 1 13 2 AA\n"
				 "send\n");
	free(out);
	/* with prerequisites on the old set, another zone, IPv6 server */
	assert_int_equal(script(&c, "[2001:db8::53]:53", "Example", ZC_NSUPDATE_PREREQ, &out), 0);
	assert_string_equal(out, "server 2001:db8::53 53\n"
				 "zone example.\n"
				 "prereq yxrrset child.example. IN DS 1 13 2 AA\n"
				 "prereq yxrrset child.example. IN DS 2 13 2 BB\n"
				 "update add child.example. 7200 IN DS 3 13 2 CC\n"
				 "update delete child.example. IN DS 1 13 2 AA\n"
				 "send\n");
	free(out);
	/* bootstrap: nothing before, default TTL, no server line */
	c.ds_old = empty;
	c.mode = ZC_CHANGE_BOOTSTRAP;
	assert_int_equal(script(&c, NULL, NULL, ZC_NSUPDATE_PREREQ, &out), 0);
	assert_string_equal(out, "zone example.\n"
				 "prereq nxrrset child.example. IN DS\n"
				 "update add child.example. 3600 IN DS 2 13 2 BB\n"
				 "update add child.example. 3600 IN DS 3 13 2 CC\n"
				 "send\n");
	free(out);
	/* delete: the whole RRset goes */
	c.ds_old = old;
	c.ds_new = NULL;
	c.mode = ZC_CHANGE_DELETE;
	assert_int_equal(script(&c, "192.0.2.53", NULL, 0, &out), 0);
	assert_string_equal(out, "server 192.0.2.53\n"
				 "zone example.\n"
				 "update delete child.example. IN DS\n"
				 "send\n");
	free(out);
	/* nothing to change: nothing written */
	c.ds_new = old;
	assert_int_equal(script(&c, NULL, NULL, 0, &out), 0);
	assert_string_equal(out, "");
	free(out);
	/* bad input changes nothing: no partial script */
	assert_int_equal(script(&c, "not-an-address", NULL, 0, &out), -EINVAL);
	assert_string_equal(out, "");
	free(out);
	assert_int_equal(script(&c, "192.0.2.1@70000", NULL, 0, &out), -EINVAL);
	free(out);
	c.child = "elsewhere.";
	c.ds_new = new;
	assert_int_equal(script(&c, NULL, NULL, 0, &out), ZC_EMALF);
	assert_string_equal(out, "");
	free(out);
	ldns_rr_list_deep_free(old);
	ldns_rr_list_deep_free(new);
	ldns_rr_list_deep_free(empty);
}

static void test_tsig_parse_good_and_bad(void **state)
{
	static const struct {
		const char *text;
		int ret;
		enum zc_tsig_alg alg;
		const char *name;
	} cases[] = {
		{ "zc-key:" SECRET, 0, ZC_TSIG_HMAC_SHA256, "zc-key." },
		{ "hmac-sha512:Upd.Example.:" SECRET, 0, ZC_TSIG_HMAC_SHA512, "upd.example." },
		{ "HMAC-SHA384.:k:" SECRET, 0, ZC_TSIG_HMAC_SHA384, "k." },
		{ "hmac-sha224:k:" SECRET, 0, ZC_TSIG_HMAC_SHA224, "k." },
		{ "hmac-sha1:k:" SECRET "\n", 0, ZC_TSIG_HMAC_SHA1, "k." },
		{ "hmac-md5:k:" SECRET, ZC_ENOTSUP, 0, NULL },
		{ "hmac-sha999:k:" SECRET, ZC_ENOTSUP, 0, NULL },
		{ "k:not base64!", ZC_EMALF, 0, NULL },
		{ "k:YWJj=", ZC_EMALF, 0, NULL },  /* bad padding / length */
		{ "k:", ZC_EMALF, 0, NULL },       /* empty secret */
		{ ":" SECRET, ZC_EMALF, 0, NULL }, /* empty name */
		{ "hmac-sha256::" SECRET, ZC_EMALF, 0, NULL },
		{ "a:b:c:" SECRET, ZC_EMALF, 0, NULL },
		{ "justaname", ZC_EMALF, 0, NULL },
		{ "", ZC_EMALF, 0, NULL },
	};
	char err[256];

	(void)state;
	for (size_t i = 0; i < ZC_ARRAY_SIZE(cases); i++) {
		struct zc_tsig *k = NULL;
		int r;

		err[0] = '\0';
		r = zc_tsig_parse(cases[i].text, &k, err, sizeof(err));
		assert_int_equal(r, cases[i].ret);
		if (r == 0) {
			assert_int_equal(zc_tsig_algorithm(k), cases[i].alg);
			assert_string_equal(zc_tsig_name(k), cases[i].name);
			assert_int_equal(zc_tsig_is_weak(k), cases[i].alg == ZC_TSIG_HMAC_SHA1);
			zc_tsig_free(k);
		} else {
			assert_null(k);
			assert_true(err[0] != '\0'); /* always a reason */
		}
	}
	{
		struct zc_tsig *k = NULL;

		/* a short secret is accepted but weak */
		assert_int_equal(zc_tsig_parse("k:YWJj", &k, NULL, 0), 0);
		assert_true(zc_tsig_is_weak(k));
		zc_tsig_free(k);
	}
	assert_string_equal(zc_tsig_algorithm_str(ZC_TSIG_HMAC_SHA384), "hmac-sha384");
	assert_string_equal(zc_tsig_error_str(16), "BADSIG");
	assert_string_equal(zc_tsig_error_str(17), "BADKEY");
	assert_string_equal(zc_tsig_error_str(18), "BADTIME");
	assert_int_equal(zc_tsig_parse(NULL, &(struct zc_tsig *){ NULL }, NULL, 0), -EINVAL);
	zc_tsig_free(NULL);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_tsig_load_file_forms(void **state)
{
	static const struct {
		const char *text;
		int ret;
		const char *name;
		enum zc_tsig_alg alg;
	} cases[] = {
		/* as tsig-keygen writes it */
		{ "key \"zc-test\" {\n\talgorithm hmac-sha256;\n\tsecret \"" SECRET "\";\n};\n", 0,
		  "zc-test.", ZC_TSIG_HMAC_SHA256 },
		{ "# made by hand\n/* block\ncomment */ key upd.example. { secret \"" SECRET
		  "\"; // the secret\n algorithm HMAC-SHA512; };",
		  0, "upd.example.", ZC_TSIG_HMAC_SHA512 },
		{ "hmac-sha384:line-key:" SECRET "\n\n", 0, "line-key.", ZC_TSIG_HMAC_SHA384 },
		{ "line-key:" SECRET, 0, "line-key.", ZC_TSIG_HMAC_SHA256 },
		{ "key \"a\" { algorithm hmac-sha256; secret \"" SECRET "\"; };\n"
		  "key \"b\" { algorithm hmac-sha256; secret \"" SECRET "\"; };\n",
		  ZC_EMALF, NULL, 0 },
		{ "key \"a\" { algorithm hmac-sha256; };", ZC_EMALF, NULL, 0 },
		{ "key \"a\" { secret \"" SECRET "\"; };", ZC_EMALF, NULL, 0 },
		{ "key \"a\" { algorithm hmac-md5; secret \"" SECRET "\"; };", ZC_ENOTSUP, NULL, 0 },
		{ "key \"a\" { algorithm hmac-sha256; secret \"" SECRET "; };", ZC_EMALF, NULL, 0 },
		{ "key \"a\" { algorithm hmac-sha256; secret \"!!!!\"; };", ZC_EMALF, NULL, 0 },
		{ "key \"a\" { algorithm hmac-sha256; secret \"" SECRET "\"; colour blue; };", ZC_EMALF,
		  NULL, 0 },
		{ "key \"a\" { algorithm hmac-sha256; secret \"" SECRET "\"; }", ZC_EMALF, NULL, 0 },
		{ "line-key:" SECRET "\nsecond line\n", ZC_EMALF, NULL, 0 },
		{ "", ZC_EMALF, NULL, 0 },
	};
	char dir[] = "/tmp/zc-test-tsig-XXXXXX", path[128], err[512];

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/key", dir);
	for (size_t i = 0; i < ZC_ARRAY_SIZE(cases); i++) {
		struct zc_tsig *k = NULL;
		int r;

		write_file(path, cases[i].text);
		err[0] = '\0';
		r = zc_tsig_load_file(path, &k, err, sizeof(err));
		if (r != cases[i].ret) {
			print_error("case %zu: %d (%s)\n", i, r, err);
		}
		assert_int_equal(r, cases[i].ret);
		if (r == 0) {
			assert_string_equal(zc_tsig_name(k), cases[i].name);
			assert_int_equal(zc_tsig_algorithm(k), cases[i].alg);
			zc_tsig_free(k);
		} else {
			assert_non_null(strstr(err, path)); /* "PATH:LINE: reason" */
		}
	}
	unlink(path);
	assert_int_equal(zc_tsig_load_file(path, &(struct zc_tsig *){ NULL }, err, sizeof(err)),
			 -ENOENT);
	assert_int_equal(zc_tsig_load_file(dir, &(struct zc_tsig *){ NULL }, err, sizeof(err)),
			 -EINVAL);
	rmdir(dir);
}

/* Our request TSIG verifies with ldns; an ldns-signed answer verifies with ours. */
static void test_tsig_sign_verify_cross_check(void **state)
{
	struct zc_tsig *k = NULL, *other = NULL;
	ldns_rdf *qname = NULL;
	ldns_pkt *q, *resp = NULL, *parsed = NULL;
	uint8_t wire[4096], mac[ZC_TSIG_MAX_MAC], macrdf[2 + ZC_TSIG_MAX_MAC];
	uint8_t *plain = NULL, *rwire = NULL;
	size_t plen, wlen, mac_len, rlen;
	ldns_rdf *req_mac;
	uint64_t now = (uint64_t)time(NULL);
	int terr = -1;

	(void)state;
	assert_int_equal(zc_tsig_parse("hmac-sha256:zc-key:" SECRET, &k, NULL, 0), 0);
	assert_int_equal(zc_tsig_parse("hmac-sha256:zc-key:YWJjZGVmZ2hpamtsbW5vcA==", &other, NULL,
				       0),
			 0);
	assert_int_equal(ldns_str2rdf_dname(&qname, "child.example."), LDNS_STATUS_OK);
	q = ldns_pkt_query_new(qname, LDNS_RR_TYPE_DS, LDNS_RR_CLASS_IN, 0);
	ldns_pkt_set_id(q, 4242);
	assert_int_equal(ldns_pkt2wire(&plain, q, &plen), LDNS_STATUS_OK);
	memcpy(wire, plain, plen);
	free(plain);
	assert_int_equal(zc_tsig_sign_wire(k, wire, plen, sizeof(wire), now, 300, &wlen, mac,
					   &mac_len),
			 0);
	assert_int_equal(mac_len, 32);
	assert_int_equal(ldns_wire2pkt(&parsed, wire, wlen), LDNS_STATUS_OK);
	assert_true(ldns_pkt_tsig_verify(parsed, wire, wlen, "zc-key.", SECRET, NULL));
	ldns_pkt_free(parsed);
	/* no room: refused, not overflowed */
	assert_int_equal(zc_tsig_sign_wire(k, wire, plen, plen + 10, now, 300, &wlen, mac, &mac_len),
			 ZC_ELIMIT);
	/* the answer, signed by ldns over our request MAC (RFC 8945 §4.3.2) */
	resp = ldns_pkt_clone(q);
	ldns_pkt_set_qr(resp, true);
	ldns_pkt_set_aa(resp, true);
	macrdf[0] = 0;
	macrdf[1] = (uint8_t)mac_len;
	memcpy(macrdf + 2, mac, mac_len);
	req_mac = ldns_rdf_new_frm_data(LDNS_RDF_TYPE_INT16_DATA, mac_len + 2, macrdf);
	assert_int_equal(ldns_pkt_tsig_sign(resp, "zc-key.", SECRET, 300, "hmac-sha256.", req_mac),
			 LDNS_STATUS_OK);
	assert_int_equal(ldns_pkt2wire(&rwire, resp, &rlen), LDNS_STATUS_OK);
	assert_int_equal(zc_tsig_verify_wire(k, rwire, rlen, mac, mac_len, now, &terr), 0);
	assert_int_equal(terr, 0);
	/* another secret, a changed byte, another request MAC, a skewed clock */
	assert_int_equal(zc_tsig_verify_wire(other, rwire, rlen, mac, mac_len, now, &terr),
			 ZC_EBOGUS);
	mac[0] ^= 1;
	assert_int_equal(zc_tsig_verify_wire(k, rwire, rlen, mac, mac_len, now, &terr), ZC_EBOGUS);
	mac[0] ^= 1;
	assert_int_equal(zc_tsig_verify_wire(k, rwire, rlen, mac, mac_len, now + 3600, &terr),
			 ZC_EEXPIRED);
	rwire[3] ^= 0x05; /* rcode */
	assert_int_equal(zc_tsig_verify_wire(k, rwire, rlen, mac, mac_len, now, &terr), ZC_EBOGUS);
	free(rwire);
	/* an unsigned answer */
	ldns_rr_free(ldns_pkt_tsig(resp));
	ldns_pkt_set_tsig(resp, NULL);
	assert_int_equal(ldns_pkt2wire(&rwire, resp, &rlen), LDNS_STATUS_OK);
	assert_int_equal(zc_tsig_verify_wire(k, rwire, rlen, mac, mac_len, now, &terr), ZC_ENOKEY);
	/* truncated garbage */
	assert_int_equal(zc_tsig_verify_wire(k, rwire, 5, mac, mac_len, now, &terr), ZC_EMALF);
	free(rwire);
	ldns_rdf_deep_free(req_mac);
	ldns_pkt_free(resp);
	ldns_pkt_free(q);
	zc_tsig_free(k);
	zc_tsig_free(other);
}

/* Refusals that happen before anything is journaled or sent. */
static void test_updater_refuses_before_sending(void **state)
{
	char dir[] = "/tmp/zc-test-apply-XXXXXX", path[128], cmd[160];
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(1) };
	ldns_rr_list *old = ds_list("c.example.", "1 13 2 AA");
	ldns_rr_list *new = ds_list("c.example.", "2 13 2 BB");
	struct zc_change c = { .child = "c.example.", .parent = "example.", .ds_old = old,
			       .ds_new = new, .mode = ZC_CHANGE_ROLLOVER, .inception = 1000 };
	struct zc_updater *up = NULL;
	struct zc_store *st = NULL;
	struct zc_apply_result res;
	struct zc_journal_entry *v = NULL;
	size_t n = 9;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/zc.db", dir);
	assert_int_equal(zc_store_open(NULL, path, &st), 0);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(zc_updater_new(NULL, (struct sockaddr *)&sin, sizeof(sin), NULL, NULL,
					&up),
			 0);
	/* S10: an inception not newer than the last applied one */
	assert_int_equal(zc_store_child_set_applied(st, "c.example.", 2000, "1 13 2 AA\n", 1), 0);
	assert_int_equal(zc_updater_apply(up, st, &c, &res), -ESTALE);
	c.inception = 2000;
	assert_int_equal(zc_updater_apply(up, st, &c, &res), -ESTALE);
	/* nothing to change */
	c.inception = 3000;
	c.ds_new = old;
	assert_int_equal(zc_updater_apply(up, st, &c, &res), -EALREADY);
	/* bad input */
	c.ds_new = new;
	c.child = "c.elsewhere.";
	assert_int_equal(zc_updater_apply(up, st, &c, &res), ZC_EMALF);
	/* none of that reached the journal */
	assert_int_equal(zc_store_journal_list(st, false, NULL, 0, &v, &n), 0);
	assert_int_equal(n, 0);
	/* bad addresses */
	sin.sin_family = AF_UNIX;
	assert_int_equal(zc_updater_new(NULL, (struct sockaddr *)&sin, sizeof(sin), NULL, NULL,
					&(struct zc_updater *){ NULL }),
			 -EINVAL);
	assert_int_equal(zc_updater_resume(up, st, 5, &res), ZC_ENOTFOUND);
	zc_updater_free(up);
	zc_store_free(st);
	ldns_rr_list_deep_free(old);
	ldns_rr_list_deep_free(new);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ds_text_canonical_sorted_unique),
		cmocka_unit_test(test_ds_parse_good_and_bad),
		cmocka_unit_test(test_change_to_journal),
		cmocka_unit_test(test_nsupdate_script_text),
		cmocka_unit_test(test_tsig_parse_good_and_bad),
		cmocka_unit_test(test_tsig_load_file_forms),
		cmocka_unit_test(test_tsig_sign_verify_cross_check),
		cmocka_unit_test(test_updater_refuses_before_sending),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
