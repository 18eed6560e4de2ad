/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of store/ (SQLite backend): schema creation and file mode, journal
 * life cycle and its durability across close/reopen, duplicate suppression and
 * superseding, replay (S10) inception bookkeeping with serial arithmetic,
 * accept-after-delay observations, server back-off, the default path, and the
 * error paths (missing directory, corrupt file, newer schema, limits).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <zonecut/store.h>

#include "store/internal.h"

struct fixture {
	char dir[64];
	char path[128];
	struct zc_ctx *ctx;
	struct zc_store *st;
	char lastlog[1024];
};

static void capture_log(void *ud, int level, const char *msg)
{
	struct fixture *f = ud;

	(void)level;
	snprintf(f->lastlog, sizeof(f->lastlog), "%s", msg);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/zc-test-store-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/zc.db", f->dir);
	f->ctx = zc_ctx_new();
	zc_ctx_set_log_fn(f->ctx, capture_log, f);
	assert_int_equal(zc_store_open(f->ctx, f->path, &f->st), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[256];

	zc_store_free(f->st);
	zc_ctx_free(f->ctx);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static void reopen(struct fixture *f)
{
	zc_store_free(f->st);
	f->st = NULL;
	assert_int_equal(zc_store_open(f->ctx, f->path, &f->st), 0);
}

static struct zc_journal_entry change(const char *child, const char *old, const char *new)
{
	struct zc_journal_entry e = {
		.child = (char *)child,
		.parent = (char *)"example.",
		.ds_old = (char *)old,
		.ds_new = (char *)new,
		.ttl = 3600,
		.mode = ZC_CHANGE_ROLLOVER,
		.inception = 1700000000,
	};
	return e;
}

static void test_store_schema_created_mode_0600(void **state)
{
	struct fixture *f = *state;
	struct stat sb;
	sqlite3 *db;
	sqlite3_stmt *stmt;

	assert_int_equal(zc_store_schema_version(f->st), ZC_STORE_SCHEMA_VERSION);
	assert_int_equal(stat(f->path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	/* WAL mode and the version table are in the file. */
	assert_int_equal(sqlite3_open_v2(f->path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &stmt, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(stmt, 0), "wal");
	sqlite3_finalize(stmt);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT version FROM schema_version", -1, &stmt,
					    NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(stmt, 0), ZC_STORE_SCHEMA_VERSION);
	sqlite3_finalize(stmt);
	sqlite3_close(db);
	/* Reopening an existing store keeps it. */
	reopen(f);
	assert_int_equal(zc_store_schema_version(f->st), ZC_STORE_SCHEMA_VERSION);
}

static void test_store_journal_lifecycle(void **state)
{
	struct fixture *f = *state;
	struct zc_journal_entry in = change("a.example.", "1 8 2 AA\n", "2 8 2 BB\n"), e;
	enum zc_journal_add_result res = ZC_JOURNAL_EXISTING;
	int64_t id = 0;

	assert_int_equal(zc_store_journal_add(f->st, &in, &id, &res), 0);
	assert_true(id > 0);
	assert_int_equal(res, ZC_JOURNAL_ADDED);
	assert_int_equal(zc_store_journal_get(f->st, id, &e), 0);
	assert_int_equal(e.state, ZC_JOURNAL_PENDING);
	assert_string_equal(e.child, "a.example.");
	assert_string_equal(e.parent, "example.");
	assert_string_equal(e.ds_old, "1 8 2 AA\n");
	assert_string_equal(e.ds_new, "2 8 2 BB\n");
	assert_int_equal(e.mode, ZC_CHANGE_ROLLOVER);
	assert_int_equal(e.ttl, 3600);
	assert_int_equal(e.attempts, 0);
	assert_int_equal(e.last_rcode, -1);
	assert_null(e.last_error);
	assert_null(e.target);
	assert_true(e.created > 0);
	zc_journal_entry_release(&e);

	/* pending -> sent counts an attempt and records the target */
	assert_int_equal(zc_store_journal_set_state(f->st, id, ZC_JOURNAL_PENDING,
						    ZC_JOURNAL_SENT, -1, NULL, "127.0.0.1@53"),
			 0);
	/* a second mover with a stale view is told so */
	assert_int_equal(zc_store_journal_set_state(f->st, id, ZC_JOURNAL_PENDING,
						    ZC_JOURNAL_SENT, -1, NULL, NULL),
			 -ESTALE);
	assert_int_equal(zc_store_journal_set_state(f->st, id, ZC_JOURNAL_SENT,
						    ZC_JOURNAL_FAILED, 5, "refused", NULL),
			 0);
	assert_int_equal(zc_store_journal_get(f->st, id, &e), 0);
	assert_int_equal(e.state, ZC_JOURNAL_FAILED);
	assert_int_equal(e.attempts, 1);
	assert_int_equal(e.last_rcode, 5);
	assert_string_equal(e.last_error, "refused");
	assert_string_equal(e.target, "127.0.0.1@53");
	zc_journal_entry_release(&e);
	/* failed -> sent -> done; done is final */
	assert_int_equal(zc_store_journal_set_state(f->st, id, ZC_JOURNAL_FAILED,
						    ZC_JOURNAL_SENT, -1, NULL, NULL),
			 0);
	assert_int_equal(zc_store_journal_set_state(f->st, id, ZC_JOURNAL_SENT, ZC_JOURNAL_DONE,
						    0, NULL, NULL),
			 0);
	assert_int_equal(zc_store_journal_get(f->st, id, &e), 0);
	assert_int_equal(e.state, ZC_JOURNAL_DONE);
	assert_int_equal(e.attempts, 2);
	assert_int_equal(e.last_rcode, 0);
	assert_null(e.last_error);
	zc_journal_entry_release(&e);
	assert_int_equal(zc_store_journal_set_state(f->st, id, ZC_JOURNAL_DONE, ZC_JOURNAL_SENT,
						    -1, NULL, NULL),
			 -EINVAL);
	assert_int_equal(zc_store_journal_set_state(f->st, id, ZC_JOURNAL_SENT,
						    ZC_JOURNAL_FAILED, -1, NULL, NULL),
			 -ESTALE);
	/* nothing moves back to pending; unknown ids are not found */
	assert_int_equal(zc_store_journal_set_state(f->st, id, ZC_JOURNAL_SENT,
						    ZC_JOURNAL_PENDING, -1, NULL, NULL),
			 -EINVAL);
	assert_int_equal(zc_store_journal_set_state(f->st, 9999, ZC_JOURNAL_PENDING,
						    ZC_JOURNAL_SENT, -1, NULL, NULL),
			 ZC_ENOTFOUND);
	assert_int_equal(zc_store_journal_get(f->st, 9999, &e), ZC_ENOTFOUND);
}

static void test_store_done_records_child_state(void **state)
{
	struct fixture *f = *state;
	struct zc_journal_entry in = change("b.example.", "", "3 13 2 CC\n");
	struct zc_child_state cs;
	int64_t id;

	assert_int_equal(zc_store_child_get(f->st, "b.example.", &cs), ZC_ENOTFOUND);
	assert_int_equal(zc_store_journal_add(f->st, &in, &id, NULL), 0);
	assert_int_equal(zc_store_journal_set_state(f->st, id, ZC_JOURNAL_PENDING,
						    ZC_JOURNAL_DONE, -1, NULL, NULL),
			 0);
	assert_int_equal(zc_store_child_get(f->st, "b.example.", &cs), 0);
	assert_int_equal(cs.last_inception, 1700000000);
	assert_string_equal(cs.ds, "3 13 2 CC\n");
	assert_true(cs.applied_at > 0);
	zc_child_state_release(&cs);
	/* conflict and failed do not touch the child state */
	in = change("b.example.", "3 13 2 CC\n", "4 13 2 DD\n");
	in.inception = 1800000000;
	assert_int_equal(zc_store_journal_add(f->st, &in, &id, NULL), 0);
	assert_int_equal(zc_store_journal_set_state(f->st, id, ZC_JOURNAL_PENDING,
						    ZC_JOURNAL_CONFLICT, -1, "changed", NULL),
			 0);
	assert_int_equal(zc_store_child_get(f->st, "b.example.", &cs), 0);
	assert_int_equal(cs.last_inception, 1700000000);
	assert_string_equal(cs.ds, "3 13 2 CC\n");
	zc_child_state_release(&cs);
}

static void test_store_durable_across_reopen(void **state)
{
	struct fixture *f = *state;
	struct zc_journal_entry in = change("c.example.", "1 8 2 AA\n", "");
	struct zc_journal_entry *v = NULL;
	size_t n = 0;
	int64_t id;

	in.mode = ZC_CHANGE_DELETE;
	assert_int_equal(zc_store_journal_add(f->st, &in, &id, NULL), 0);
	assert_int_equal(zc_store_journal_set_state(f->st, id, ZC_JOURNAL_PENDING,
						    ZC_JOURNAL_SENT, -1, NULL, "192.0.2.1@53"),
			 0);
	/* as after a crash: another process opens the file */
	reopen(f);
	assert_int_equal(zc_store_journal_list(f->st, true, NULL, 0, &v, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(v[0].id, id);
	assert_int_equal(v[0].state, ZC_JOURNAL_SENT);
	assert_int_equal(v[0].mode, ZC_CHANGE_DELETE);
	assert_string_equal(v[0].ds_new, "");
	zc_journal_entries_free(v, n);
}

static void test_store_duplicate_suppressed_newer_supersedes(void **state)
{
	struct fixture *f = *state;
	struct zc_journal_entry in = change("d.example.", "1 8 2 AA\n", "2 8 2 BB\n"), e;
	struct zc_journal_entry *v = NULL;
	enum zc_journal_add_result res;
	int64_t id1, id2, id3;
	size_t n;

	assert_int_equal(zc_store_journal_add(f->st, &in, &id1, &res), 0);
	assert_int_equal(res, ZC_JOURNAL_ADDED);
	/* the same change again (a new run): same entry */
	in.inception = 1700000100;
	assert_int_equal(zc_store_journal_add(f->st, &in, &id2, &res), 0);
	assert_int_equal(res, ZC_JOURNAL_EXISTING);
	assert_int_equal(id1, id2);
	/* also while it is failed (kept for retry) */
	assert_int_equal(zc_store_journal_set_state(f->st, id1, ZC_JOURNAL_PENDING,
						    ZC_JOURNAL_FAILED, -1, "timeout", NULL),
			 0);
	assert_int_equal(zc_store_journal_add(f->st, &in, &id2, &res), 0);
	assert_int_equal(res, ZC_JOURNAL_EXISTING);
	assert_int_equal(id1, id2);
	assert_int_equal(zc_store_journal_find_unfinished(f->st, "d.example.", &e), 0);
	assert_int_equal(e.id, id1);
	zc_journal_entry_release(&e);
	/* a different change for the child supersedes the old one */
	in.ds_new = (char *)"5 8 2 EE\n";
	assert_int_equal(zc_store_journal_add(f->st, &in, &id3, &res), 0);
	assert_int_equal(res, ZC_JOURNAL_ADDED);
	assert_true(id3 > id1);
	assert_int_equal(zc_store_journal_get(f->st, id1, &e), 0);
	assert_int_equal(e.state, ZC_JOURNAL_SUPERSEDED);
	zc_journal_entry_release(&e);
	assert_int_equal(zc_store_journal_list(f->st, true, NULL, 0, &v, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(v[0].id, id3);
	zc_journal_entries_free(v, n);
	/* once done, the same change is a new entry */
	assert_int_equal(zc_store_journal_set_state(f->st, id3, ZC_JOURNAL_PENDING,
						    ZC_JOURNAL_DONE, -1, NULL, NULL),
			 0);
	assert_int_equal(zc_store_journal_find_unfinished(f->st, "d.example.", &e), ZC_ENOTFOUND);
	assert_int_equal(zc_store_journal_list(f->st, false, "example.", 0, &v, &n), 0);
	assert_int_equal(n, 2);
	zc_journal_entries_free(v, n);
	assert_int_equal(zc_store_journal_list(f->st, false, "other.", 0, &v, &n), 0);
	assert_int_equal(n, 0);
	assert_null(v);
}

static void test_store_replay_inception(void **state)
{
	struct fixture *f = *state;
	static const struct {
		uint32_t stored, offered;
		bool newer;
	} cases[] = {
		{ 1000, 999, false },
		{ 1000, 1000, false }, /* equal is not newer (RFC 7344 §6.2) */
		{ 1000, 1001, true },
		{ 0xffffff00u, 0x10, true },  /* serial arithmetic across the wrap */
		{ 0x10, 0xffffff00u, false },
		{ 1000, 0, false },           /* unsigned never beats a recorded signature */
	};
	bool newer = false;

	assert_int_equal(zc_store_inception_is_newer(f->st, "r.example.", 5, &newer), 0);
	assert_true(newer); /* nothing recorded yet */
	for (size_t i = 0; i < ZC_ARRAY_SIZE(cases); i++) {
		char child[64];

		snprintf(child, sizeof(child), "r%zu.example.", i);
		assert_int_equal(zc_store_child_set_applied(f->st, child, cases[i].stored, "", 1), 0);
		assert_int_equal(zc_store_inception_is_newer(f->st, child, cases[i].offered, &newer),
				 0);
		assert_int_equal(newer, cases[i].newer);
	}
	/* the stored inception only moves forward */
	assert_int_equal(zc_store_child_set_applied(f->st, "r0.example.", 500, "1 8 2 AA\n", 2), 0);
	assert_int_equal(zc_store_inception_is_newer(f->st, "r0.example.", 999, &newer), 0);
	assert_false(newer);
	assert_int_equal(zc_store_child_set_applied(f->st, "r0.example.", 2000, "1 8 2 AA\n", 3), 0);
	assert_int_equal(zc_store_inception_is_newer(f->st, "r0.example.", 1999, &newer), 0);
	assert_false(newer);
	/* it survives a reopen */
	reopen(f);
	assert_int_equal(zc_store_inception_is_newer(f->st, "r0.example.", 2001, &newer), 0);
	assert_true(newer);
}

static void test_store_observe_resets_on_new_fingerprint(void **state)
{
	struct fixture *f = *state;
	struct zc_observation o;

	assert_int_equal(zc_store_observe(f->st, "o.example.", "fp1", 1000, &o), 0);
	assert_int_equal(o.first_seen, 1000);
	assert_int_equal(o.count, 1);
	assert_int_equal(zc_store_observe(f->st, "o.example.", "fp1", 5000, &o), 0);
	assert_int_equal(o.first_seen, 1000);
	assert_int_equal(o.last_seen, 5000);
	assert_int_equal(o.count, 2);
	assert_int_equal(zc_store_observe(f->st, "o.example.", "fp2", 9000, &o), 0);
	assert_int_equal(o.first_seen, 9000);
	assert_int_equal(o.count, 1);
	assert_int_equal(zc_store_observe(f->st, "o.example.", "fp2", 9100, NULL), 0);
	assert_int_equal(zc_store_observe_clear(f->st, "o.example."), 0);
	assert_int_equal(zc_store_observe(f->st, "o.example.", "fp2", 9200, &o), 0);
	assert_int_equal(o.first_seen, 9200);
	assert_int_equal(o.count, 1);
	assert_int_equal(zc_store_observe(f->st, "o.example.", "", 1, &o), -EINVAL);
}

static void test_store_server_backoff(void **state)
{
	struct fixture *f = *state;
	int64_t next = -1;
	uint32_t fails = 99;
	unsigned count = 99;

	assert_int_equal(zc_store_server_next_retry(f->st, "s.example.", "192.0.2.1@53", &next,
						    &fails),
			 0);
	assert_int_equal(next, 0);
	assert_int_equal(fails, 0);
	assert_int_equal(zc_store_server_failure(f->st, "s.example.", "192.0.2.1@53", 1000, &next,
						 &fails),
			 0);
	assert_int_equal(fails, 1);
	assert_int_equal(next, 1000 + 300);
	assert_int_equal(zc_store_server_failure(f->st, "s.example.", "192.0.2.1@53", 2000, &next,
						 &fails),
			 0);
	assert_int_equal(fails, 2);
	assert_int_equal(next, 2000 + 600);
	/* another server of the same child is independent */
	assert_int_equal(zc_store_server_next_retry(f->st, "s.example.", "192.0.2.2@53", &next,
						    &fails),
			 0);
	assert_int_equal(fails, 0);
	for (int i = 0; i < 40; i++) {
		assert_int_equal(zc_store_server_failure(f->st, "s.example.", "192.0.2.1@53", 3000,
							 &next, &fails),
				 0);
	}
	assert_int_equal(fails, 42);
	assert_int_equal(next, 3000 + ZC_STORE_BACKOFF_MAX_S);
	/* what a scan asks first: does any server of the child have a back-off? */
	assert_int_equal(zc_store_server_failure(f->st, "s.example.", "192.0.2.3@53", 3000, NULL,
						 NULL),
			 0);
	assert_int_equal(zc_store_servers_backing_off(f->st, "s.example.", &count), 0);
	assert_int_equal(count, 2);
	assert_int_equal(zc_store_servers_backing_off(f->st, "other.example.", &count), 0);
	assert_int_equal(count, 0);
	assert_int_equal(zc_store_servers_backing_off(f->st, "s.example.", NULL), -EINVAL);
	assert_int_equal(zc_store_servers_backing_off(NULL, "s.example.", &count), -EINVAL);
	assert_int_equal(zc_store_server_success(f->st, "s.example.", "192.0.2.3@53"), 0);
	assert_int_equal(zc_store_server_success(f->st, "s.example.", "192.0.2.1@53"), 0);
	assert_int_equal(zc_store_server_next_retry(f->st, "s.example.", "192.0.2.1@53", &next,
						    &fails),
			 0);
	assert_int_equal(next, 0);
	assert_int_equal(fails, 0);
	assert_int_equal(zc_store_servers_backing_off(f->st, "s.example.", &count), 0);
	assert_int_equal(count, 0);
	assert_int_equal(zc_store_backoff_delay(1), 300);
	assert_int_equal(zc_store_backoff_delay(4), 2400);
}

static void test_store_limits_and_arguments(void **state)
{
	struct fixture *f = *state;
	struct zc_journal_entry in = change("l.example.", "", "1 8 2 AA\n");
	char *big = malloc(ZC_STORE_MAX_TEXT + 2);
	int64_t id;

	assert_non_null(big);
	memset(big, 'A', ZC_STORE_MAX_TEXT + 1);
	big[ZC_STORE_MAX_TEXT + 1] = '\0';
	in.ds_new = big;
	assert_int_equal(zc_store_journal_add(f->st, &in, &id, NULL), ZC_ELIMIT);
	big[ZC_STORE_MAX_TEXT] = '\0'; /* exactly the limit is fine */
	assert_int_equal(zc_store_journal_add(f->st, &in, &id, NULL), 0);
	free(big);
	in.child = (char *)"";
	assert_int_equal(zc_store_journal_add(f->st, &in, &id, NULL), -EINVAL);
	in.child = (char *)"l.example.";
	in.mode = (enum zc_change_mode)42;
	assert_int_equal(zc_store_journal_add(f->st, &in, &id, NULL), -EINVAL);
	assert_int_equal(zc_store_journal_add(NULL, &in, &id, NULL), -EINVAL);
	assert_int_equal(zc_store_child_set_applied(f->st, "x.", 1, NULL, 1), -EINVAL);
	assert_int_equal(zc_store_journal_get(f->st, 0, &in), -EINVAL);
}

static void test_store_names(void **state)
{
	enum zc_change_mode m;
	enum zc_journal_state s;

	(void)state;
	assert_string_equal(zc_change_mode_str(ZC_CHANGE_BOOTSTRAP), "bootstrap");
	assert_string_equal(zc_journal_state_str(ZC_JOURNAL_CONFLICT), "conflict");
	assert_string_equal(zc_journal_state_str((enum zc_journal_state)77), "?");
	assert_int_equal(zc_change_mode_parse("rollover", &m), 0);
	assert_int_equal(m, ZC_CHANGE_ROLLOVER);
	assert_int_equal(zc_change_mode_parse("Rollover", &m), -EINVAL);
	assert_int_equal(zc_journal_state_parse("superseded", &s), 0);
	assert_int_equal(s, ZC_JOURNAL_SUPERSEDED);
	assert_true(zc_journal_state_unfinished(ZC_JOURNAL_FAILED));
	assert_false(zc_journal_state_unfinished(ZC_JOURNAL_DONE));
}

static void test_store_open_errors(void **state)
{
	struct fixture *f = *state;
	struct zc_store *st = NULL;
	char path[256];
	int fd;

	/* a missing directory */
	snprintf(path, sizeof(path), "%s/missing/zc.db", f->dir);
	assert_int_equal(zc_store_open(f->ctx, path, &st), -ENOENT);
	assert_null(st);
	/* a file where a directory should be */
	snprintf(path, sizeof(path), "%s/zc.db/zc.db", f->dir);
	assert_int_equal(zc_store_open(f->ctx, path, &st), -ENOTDIR);
	/* a file that is not a database: a clean error, with SQLite's words logged */
	snprintf(path, sizeof(path), "%s/corrupt.db", f->dir);
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	for (int i = 0; i < 64; i++) {
		assert_int_equal(write(fd, "this is not an SQLite database, just some text..\n", 50),
				 50);
	}
	close(fd);
	f->lastlog[0] = '\0';
	assert_int_equal(zc_store_open(f->ctx, path, &st), ZC_ESTORE);
	assert_null(st);
	assert_non_null(strstr(f->lastlog, "not a database"));
	/* a schema newer than ours */
	{
		sqlite3 *db;

		snprintf(path, sizeof(path), "%s/newer.db", f->dir);
		assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
		assert_int_equal(sqlite3_exec(db,
					      "CREATE TABLE schema_version (version INTEGER);"
					      "INSERT INTO schema_version VALUES (999);",
					      NULL, NULL, NULL),
				 SQLITE_OK);
		sqlite3_close(db);
		assert_int_equal(zc_store_open(f->ctx, path, &st), ZC_ESTORE);
		assert_non_null(strstr(f->lastlog, "newer"));
	}
	assert_int_equal(zc_store_open(f->ctx, "postgresql://db/zonecut", &st), ZC_ENOTSUP);
	assert_int_equal(zc_store_open(f->ctx, "", &st), -EINVAL);
	assert_int_equal(zc_store_open(NULL, NULL, &st), -EINVAL);
	zc_store_free(NULL);
}

static void test_store_default_path(void **state)
{
	struct fixture *f = *state;
	char env1[256], home[256], want[256];
	char *envp[3] = { env1, NULL, NULL };
	char *path = NULL;
	struct stat sb;

	snprintf(env1, sizeof(env1), "ZC_STATE_DIR=%s/state/deep", f->dir);
	assert_int_equal(zc_store_default_path(envp, &path), 0);
	snprintf(want, sizeof(want), "%s/state/deep/zonecut.db", f->dir);
	assert_string_equal(path, want);
	free(path);
	snprintf(want, sizeof(want), "%s/state/deep", f->dir);
	assert_int_equal(stat(want, &sb), 0);
	assert_true(S_ISDIR(sb.st_mode));
	assert_int_equal(sb.st_mode & 0777, 0700);
	if (geteuid() != 0) {
		snprintf(home, sizeof(home), "HOME=%s/home", f->dir);
		envp[0] = home;
		assert_int_equal(zc_store_default_path(envp, &path), 0);
		snprintf(want, sizeof(want), "%s/home/.local/state/zonecut/zonecut.db", f->dir);
		assert_string_equal(path, want);
		free(path);
		envp[0] = NULL;
		assert_int_equal(zc_store_default_path(envp, &path), -ENOENT);
	}
	assert_int_equal(zc_store_default_path(envp, NULL), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_store_schema_created_mode_0600, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_journal_lifecycle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_done_records_child_state, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_durable_across_reopen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_duplicate_suppressed_newer_supersedes,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_replay_inception, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_observe_resets_on_new_fingerprint, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_store_server_backoff, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_limits_and_arguments, setup, teardown),
		cmocka_unit_test(test_store_names),
		cmocka_unit_test_setup_teardown(test_store_open_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_default_path, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
