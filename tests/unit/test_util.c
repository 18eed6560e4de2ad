/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of util/: error texts, number/duration/bool parsing, the config file
 * reader (syntax errors, bounds, quotes, environment), the bounded wire cursor and
 * the log threshold.
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
#include <jansson.h>

#include "util/internal.h"

static void test_strerror_known_and_errno(void **state)
{
	(void)state;
	assert_string_equal(zc_strerror(ZC_ETIMEOUT), "timeout");
	assert_string_equal(zc_strerror(-ENOENT), strerror(ENOENT));
	assert_string_equal(zc_strerror(-99999), "unknown error");
	assert_string_equal(zc_strerror(0), "success");
}

static void test_parse_u32_bounds(void **state)
{
	static const struct {
		const char *in;
		uint32_t min, max;
		int ret;
		uint32_t val;
	} cases[] = {
		{ "0", 0, 10, 0, 0 },
		{ "10", 0, 10, 0, 10 },
		{ "11", 0, 10, -ERANGE, 0 },
		{ "4294967295", 0, UINT32_MAX, 0, UINT32_MAX },
		{ "4294967296", 0, UINT32_MAX, -ERANGE, 0 },
		{ "99999999999999999999999", 0, UINT32_MAX, -ERANGE, 0 },
		{ "", 0, 10, -EINVAL, 0 },
		{ "-1", 0, 10, -EINVAL, 0 },
		{ "5x", 0, 10, -EINVAL, 0 },
		{ " 5", 0, 10, -EINVAL, 0 },
	};
	(void)state;
	for (size_t i = 0; i < ZC_ARRAY_SIZE(cases); i++) {
		uint32_t v = 12345;
		int r = zc_parse_u32(cases[i].in, cases[i].min, cases[i].max, &v);

		assert_int_equal(r, cases[i].ret);
		if (r == 0) {
			assert_int_equal(v, cases[i].val);
		} else {
			assert_int_equal(v, 12345); /* ret_* untouched on failure */
		}
	}
	assert_int_equal(zc_parse_u32(NULL, 0, 1, &(uint32_t){ 0 }), -EINVAL);
}

static void test_parse_duration_units(void **state)
{
	uint64_t ms;

	(void)state;
	assert_int_equal(zc_parse_duration_ms("1500ms", 1000, &ms), 0);
	assert_int_equal(ms, 1500);
	assert_int_equal(zc_parse_duration_ms("2", 1000, &ms), 0);
	assert_int_equal(ms, 2000);
	assert_int_equal(zc_parse_duration_ms("72", 3600000, &ms), 0);
	assert_int_equal(ms, 72ull * 3600000);
	assert_int_equal(zc_parse_duration_ms("3d", 1, &ms), 0);
	assert_int_equal(ms, 3ull * 86400000);
	assert_int_equal(zc_parse_duration_ms("3w", 1, &ms), -EINVAL);
	assert_int_equal(zc_parse_duration_ms("s", 1, &ms), -EINVAL);
	assert_int_equal(zc_parse_duration_ms("18446744073709551615d", 1, &ms), -ERANGE);
}

static void test_parse_bool_words(void **state)
{
	bool b = false;

	(void)state;
	assert_int_equal(zc_parse_bool("YES", &b), 0);
	assert_true(b);
	assert_int_equal(zc_parse_bool("off", &b), 0);
	assert_false(b);
	assert_int_equal(zc_parse_bool("maybe", &b), -EINVAL);
}

static char *write_tmp(const char *text)
{
	char *path = strdup("/tmp/zc-test-conf-XXXXXX");
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

static void test_conf_load_entries(void **state)
{
	char *path = write_tmp("# comment\n"
			       "trust-anchor = /etc/root.ds\n"
			       "\n"
			       "  forward: 127.0.0.1   # trailing comment\n"
			       "forward = \"127.0.0.2 # not a comment\"\n"
			       "tcp-only = yes\n");
	struct zc_conf *c = NULL;
	char err[256];

	(void)state;
	assert_int_equal(zc_conf_load(path, &c, err, sizeof(err)), 0);
	assert_int_equal(c->n, 4);
	assert_string_equal(c->entries[0].key, "trust-anchor");
	assert_string_equal(c->entries[0].value, "/etc/root.ds");
	assert_int_equal(c->entries[0].line, 2);
	assert_string_equal(c->entries[1].value, "127.0.0.1");
	assert_string_equal(c->entries[2].value, "127.0.0.2 # not a comment");
	assert_string_equal(c->entries[3].key, "tcp-only");
	zc_conf_free(c);
	unlink(path);
	free(path);
}

static void test_conf_load_errors(void **state)
{
	static const struct {
		const char *text;
		const char *msg;
	} cases[] = {
		{ "ok = 1\nBadKey = 2\n", ":2: expected" },
		{ "key 2\n", ":1: expected '='" },
		{ "key = \"open\n", ":1: unterminated" },
		{ "key = \"a\" b\n", ":1: unexpected text" },
		{ "key = a\x01b\n", ":1: control character" },
	};
	(void)state;
	for (size_t i = 0; i < ZC_ARRAY_SIZE(cases); i++) {
		char *path = write_tmp(cases[i].text);
		struct zc_conf *c = NULL;
		char err[512] = "";

		assert_int_equal(zc_conf_load(path, &c, err, sizeof(err)), ZC_ECONFIG);
		assert_null(c);
		assert_non_null(strstr(err, cases[i].msg));
		unlink(path);
		free(path);
	}
}

static void test_conf_load_long_line_and_missing(void **state)
{
	char *big = malloc(ZC_CONF_MAX_LINE + 100);
	struct zc_conf *c = NULL;
	char err[256];
	char *path;

	(void)state;
	memset(big, 'a', ZC_CONF_MAX_LINE + 98);
	memcpy(big, "k = ", 4);
	big[ZC_CONF_MAX_LINE + 98] = '\n';
	big[ZC_CONF_MAX_LINE + 99] = '\0';
	path = write_tmp(big);
	assert_int_equal(zc_conf_load(path, &c, err, sizeof(err)), ZC_ECONFIG);
	assert_non_null(strstr(err, "longer than"));
	unlink(path);
	free(path);
	free(big);
	assert_int_equal(zc_conf_load("/nonexistent/zc.conf", &c, err, sizeof(err)), -ENOENT);
}

static bool only_timeout(const char *key)
{
	return strcmp(key, "timeout") == 0 || strcmp(key, "tcp-only") == 0;
}

static void test_conf_env(void **state)
{
	char e0[] = "PATH=/bin", e1[] = "ZC_TIMEOUT=5s", e2[] = "ZC_TCP_ONLY=yes",
	     e3[] = "ZC_OTHER=1", e4[] = "ZC_=x";
	char *env[] = { e0, e1, e2, e3, e4, NULL };
	struct zc_conf *c = zc_conf_new();

	(void)state;
	assert_int_equal(zc_conf_add_env(c, env, only_timeout), 0);
	assert_int_equal(c->n, 2);
	assert_string_equal(c->entries[0].key, "timeout");
	assert_string_equal(c->entries[0].value, "5s");
	assert_string_equal(c->entries[1].key, "tcp-only");
	assert_int_equal(c->entries[1].line, 0);
	zc_conf_free(c);
}

static void test_buf_grows_and_terminates(void **state)
{
	struct zc_buf b = { 0 };
	char chunk[700];
	char *s;
	(void)state;

	assert_null(zc_buf_steal(&b)); /* nothing put */
	memset(chunk, 'x', sizeof(chunk));
	for (int i = 0; i < 10; i++) {
		zc_buf_put(&b, chunk, sizeof(chunk));
		assert_false(b.oom);
		assert_int_equal(b.len, (size_t)(i + 1) * sizeof(chunk));
		assert_int_equal(b.p[b.len], '\0');
		assert_true(b.cap > b.len);
	}
	zc_buf_put(&b, "ab", 2);
	s = zc_buf_steal(&b);
	assert_non_null(s);
	assert_int_equal(strlen(s), 7002);
	assert_string_equal(s + 7000, "ab");
	assert_null(b.p);
	assert_int_equal(b.len, 0);
	free(s);
	/* printf: short and longer than any first guess */
	zc_buf_printf(&b, "%s=%d", "n", 42);
	zc_buf_printf(&b, " %.*s", (int)sizeof(chunk), chunk); /* past the first 512 */
	assert_int_equal(b.len, 4 + 1 + sizeof(chunk));
	assert_int_equal(memcmp(b.p, "n=42 x", 6), 0);
	assert_int_equal(b.p[b.len], '\0');
	zc_buf_release(&b);
	/* after a failed allocation: appends ignored, steal says so */
	zc_buf_put(&b, "a", 1);
	b.oom = true;
	zc_buf_put(&b, "b", 1);
	assert_int_equal(b.len, 1);
	assert_null(zc_buf_steal(&b));
	zc_buf_release(&b);
	/* repeat: a copy of its own bytes, also when the buffer has to move */
	zc_buf_puts(&b, "[abc]");
	for (int i = 0; i < 12; i++) {
		size_t len = b.len;

		zc_buf_repeat(&b, 0, len); /* doubles, and outgrows the room */
		assert_int_equal(b.len, 2 * len);
		assert_int_equal(memcmp(b.p, b.p + len, len), 0);
		assert_int_equal(b.p[b.len], '\0');
	}
	assert_int_equal(b.len, 5u << 12);
	zc_buf_repeat(&b, 1, 3);
	assert_int_equal(memcmp(b.p + b.len - 3, "abc", 3), 0);
	zc_buf_repeat(&b, b.len, 1);     /* past the end: nothing */
	zc_buf_repeat(&b, b.len - 1, 2); /* beyond it: nothing */
	assert_int_equal(b.len, (5u << 12) + 3);
	zc_buf_release(&b);
}


/* JSON string text: every ASCII octet in a string, as jansson writes it. */
static void test_buf_json_str_like_jansson(void **state)
{
	(void)state;

	for (int c = 0; c < 0x80; c++) {
		char s[4] = { 'a', (char)c, 'z', '\0' };
		struct zc_buf b = { 0 };
		json_t *j = json_stringn(s, 3);
		char *want = json_dumps(j, JSON_ENCODE_ANY);
		char *got;

		zc_buf_json_str(&b, s, 3);
		got = zc_buf_steal(&b);
		assert_non_null(want);
		assert_non_null(got);
		if (strcmp(got, want) != 0) {
			fail_msg("octet %d: got %s, want %s", c, got, want);
		}
		free(got);
		free(want);
		json_decref(j);
	}
}

static void test_wire_sticky_error(void **state)
{
	static const uint8_t b[] = { 0x12, 0x34, 0x56 };
	struct zc_wire w;
	uint8_t out[4];

	(void)state;
	zc_wire_init(&w, b, sizeof(b));
	assert_int_equal(zc_wire_u16(&w), 0x1234);
	assert_int_equal(zc_wire_left(&w), 1);
	assert_int_equal(zc_wire_u16(&w), 0); /* past the end */
	assert_false(zc_wire_ok(&w));
	assert_int_equal(zc_wire_u8(&w), 0); /* sticky, even though one byte is left */
	zc_wire_init(&w, b, sizeof(b));
	zc_wire_bytes(&w, out, 4);
	assert_false(zc_wire_ok(&w));
	zc_wire_init(&w, b, sizeof(b));
	assert_int_equal(zc_wire_u8(&w), 0x12);
	assert_int_equal(zc_wire_u32(&w), 0);
	assert_false(zc_wire_ok(&w));
}

struct captured {
	int n;
	int level;
	char msg[64];
};

static void capture(void *ud, int level, const char *msg)
{
	struct captured *c = ud;

	c->n++;
	c->level = level;
	snprintf(c->msg, sizeof(c->msg), "%s", msg);
}

static void test_log_threshold(void **state)
{
	struct zc_ctx *ctx = zc_ctx_new();
	struct captured c = { 0 };

	(void)state;
	zc_ctx_set_log_fn(ctx, capture, &c);
	zc_log(ctx, ZC_LOG_DEBUG, "hidden %d", 1);
	assert_int_equal(c.n, 0);
	zc_log(ctx, ZC_LOG_ERR, "zone '%s' failed", "a.");
	assert_int_equal(c.n, 1);
	assert_string_equal(c.msg, "zone 'a.' failed");
	zc_ctx_set_log_level(ctx, ZC_LOG_DEBUG);
	zc_log(ctx, ZC_LOG_DEBUG, "shown");
	assert_int_equal(c.n, 2);
	zc_log(NULL, ZC_LOG_ERR, "no ctx");
	zc_ctx_free(ctx);
	zc_ctx_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_strerror_known_and_errno),
		cmocka_unit_test(test_parse_u32_bounds),
		cmocka_unit_test(test_parse_duration_units),
		cmocka_unit_test(test_parse_bool_words),
		cmocka_unit_test(test_conf_load_entries),
		cmocka_unit_test(test_conf_load_errors),
		cmocka_unit_test(test_conf_load_long_line_and_missing),
		cmocka_unit_test(test_conf_env),
		cmocka_unit_test(test_buf_grows_and_terminates),
		cmocka_unit_test(test_buf_json_str_like_jansson),
		cmocka_unit_test(test_wire_sticky_error),
		cmocka_unit_test(test_log_threshold),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
