/* SPDX-License-Identifier: MIT */
/*
 * The SQLite backend of the store: one file, WAL, synchronous=FULL so that a
 * committed journal entry survives a crash or a power cut, a busy timeout so that
 * several processes can share the file, prepared statements cached for the life
 * of the handle, and every read-modify-write inside BEGIN IMMEDIATE.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sqlite3.h>
#include <string.h>
#include <unistd.h>

#include "store/internal.h"

#define SQ_BUSY_TIMEOUT_MS 5000

/*
 * Schema migrations: migrations[i] takes a database from version i to i + 1.
 * Never edit a released entry; append a new one and bump ZC_STORE_SCHEMA_VERSION.
 */
static const char *const migrations[] = {
	/* 0 -> 1 */
	"CREATE TABLE child ("
	"  name TEXT PRIMARY KEY NOT NULL,"
	"  last_inception INTEGER NOT NULL DEFAULT 0,"
	"  ds TEXT NOT NULL DEFAULT '',"
	"  applied_at INTEGER NOT NULL DEFAULT 0);"
	"CREATE TABLE journal ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  child TEXT NOT NULL,"
	"  parent TEXT NOT NULL,"
	"  ds_old TEXT NOT NULL,"
	"  ds_new TEXT NOT NULL,"
	"  ttl INTEGER NOT NULL,"
	"  mode TEXT NOT NULL CHECK (mode IN ('update','delete','bootstrap','rollover')),"
	"  inception INTEGER NOT NULL DEFAULT 0,"
	"  state TEXT NOT NULL CHECK (state IN"
	"    ('pending','sent','done','failed','conflict','superseded')),"
	"  attempts INTEGER NOT NULL DEFAULT 0,"
	"  last_rcode INTEGER,"
	"  last_error TEXT,"
	"  target TEXT,"
	"  created INTEGER NOT NULL,"
	"  updated INTEGER NOT NULL);"
	/* At most one unfinished change per child, whatever the writers do. */
	"CREATE UNIQUE INDEX journal_unfinished ON journal(child)"
	"  WHERE state IN ('pending','sent','failed');"
	"CREATE INDEX journal_state ON journal(state, id);"
	"CREATE TABLE observation ("
	"  child TEXT PRIMARY KEY NOT NULL,"
	"  fingerprint TEXT NOT NULL,"
	"  first_seen INTEGER NOT NULL,"
	"  last_seen INTEGER NOT NULL,"
	"  count INTEGER NOT NULL);"
	"CREATE TABLE server_backoff ("
	"  child TEXT NOT NULL,"
	"  server TEXT NOT NULL,"
	"  failures INTEGER NOT NULL,"
	"  next_retry INTEGER NOT NULL,"
	"  PRIMARY KEY (child, server));",
	/* 1 -> 2: the multi-signer controller (zonecut signers) */
	"CREATE TABLE signer ("
	"  name TEXT PRIMARY KEY NOT NULL,"
	"  spec TEXT NOT NULL,"
	"  created INTEGER NOT NULL,"
	"  updated INTEGER NOT NULL);"
	"CREATE TABLE signer_group ("
	"  zone TEXT PRIMARY KEY NOT NULL,"
	"  spec TEXT NOT NULL DEFAULT '',"
	"  members TEXT NOT NULL DEFAULT '',"
	"  proc_id INTEGER NOT NULL DEFAULT 0,"
	"  proc_kind TEXT NOT NULL DEFAULT '',"
	"  proc_signer TEXT NOT NULL DEFAULT '',"
	"  proc_step TEXT NOT NULL DEFAULT '',"
	"  proc_status TEXT NOT NULL DEFAULT '',"
	"  proc_deadline INTEGER NOT NULL DEFAULT 0,"
	"  proc_wait TEXT NOT NULL DEFAULT '',"
	"  proc_data TEXT NOT NULL DEFAULT '',"
	"  proc_error TEXT NOT NULL DEFAULT '',"
	"  proc_started INTEGER NOT NULL DEFAULT 0,"
	"  version INTEGER NOT NULL,"
	"  created INTEGER NOT NULL,"
	"  updated INTEGER NOT NULL);"
	"CREATE TABLE signer_event ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  zone TEXT NOT NULL,"
	"  proc_id INTEGER NOT NULL,"
	"  at INTEGER NOT NULL,"
	"  step TEXT NOT NULL,"
	"  signer TEXT NOT NULL,"
	"  action TEXT NOT NULL,"
	"  detail TEXT NOT NULL);"
	"CREATE INDEX signer_event_zone ON signer_event(zone, proc_id, id);",
};
_Static_assert(ZC_ARRAY_SIZE(migrations) == ZC_STORE_SCHEMA_VERSION,
	       "one migration per schema version");

#define JOURNAL_COLUMNS                                                                    \
	"id, child, parent, ds_old, ds_new, ttl, mode, inception, state, attempts, "       \
	"last_rcode, last_error, target, created, updated"

enum sq_stmt {
	S_BEGIN,
	S_COMMIT,
	S_ROLLBACK,
	S_CHILD_GET,
	S_CHILD_UPSERT,
	S_J_INSERT,
	S_J_GET,
	S_J_UNFINISHED,
	S_J_SUPERSEDE,
	S_J_SET_STATE,
	S_J_LIST_ALL,
	S_J_LIST_UNFINISHED,
	S_J_LIST_ALL_PARENT,
	S_J_LIST_UNFINISHED_PARENT,
	S_OBS_GET,
	S_OBS_PUT,
	S_OBS_DEL,
	S_SRV_GET,
	S_SRV_PUT,
	S_SRV_DEL,
	S_SRV_COUNT,
	S_SIGNER_PUT,
	S_SIGNER_GET,
	S_SIGNER_LIST,
	S_SIGNER_DEL,
	S_GROUP_ADD,
	S_GROUP_GET,
	S_GROUP_LIST,
	S_GROUP_UPDATE,
	S_GROUP_DEL,
	S_GROUP_DEL_EVENTS,
	S_EVENT_ADD,
	S_EVENT_LIST,
	S_EVENT_LIST_PROC,
	S_COUNT
};

#define GROUP_COLUMNS                                                                      \
	"zone, spec, members, proc_id, proc_kind, proc_signer, proc_step, proc_status, "   \
	"proc_deadline, proc_wait, proc_data, proc_error, proc_started, version, created, " \
	"updated"
#define EVENT_COLUMNS "id, zone, proc_id, at, step, signer, action, detail"

static const char *const sql[S_COUNT] = {
	[S_BEGIN] = "BEGIN IMMEDIATE",
	[S_COMMIT] = "COMMIT",
	[S_ROLLBACK] = "ROLLBACK",
	[S_CHILD_GET] = "SELECT last_inception, ds, applied_at FROM child WHERE name = ?1",
	[S_CHILD_UPSERT] = "INSERT INTO child (name, last_inception, ds, applied_at)"
			   " VALUES (?1, ?2, ?3, ?4) ON CONFLICT (name) DO UPDATE SET"
			   " last_inception = excluded.last_inception, ds = excluded.ds,"
			   " applied_at = excluded.applied_at",
	[S_J_INSERT] = "INSERT INTO journal (child, parent, ds_old, ds_new, ttl, mode, inception,"
		       " state, attempts, created, updated)"
		       " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'pending', 0, ?8, ?8)",
	[S_J_GET] = "SELECT " JOURNAL_COLUMNS " FROM journal WHERE id = ?1",
	[S_J_UNFINISHED] = "SELECT " JOURNAL_COLUMNS " FROM journal WHERE child = ?1"
			   " AND state IN ('pending','sent','failed')",
	[S_J_SUPERSEDE] = "UPDATE journal SET state = 'superseded', updated = ?2,"
			  " last_error = 'superseded by a newer change' WHERE id = ?1",
	[S_J_SET_STATE] = "UPDATE journal SET state = ?2, attempts = attempts + ?3,"
			  " last_rcode = CASE WHEN ?4 < 0 THEN last_rcode ELSE ?4 END,"
			  " last_error = ?5, target = COALESCE(?6, target), updated = ?7"
			  " WHERE id = ?1 AND state = ?8",
	[S_J_LIST_ALL] = "SELECT " JOURNAL_COLUMNS " FROM journal ORDER BY id LIMIT ?1",
	[S_J_LIST_UNFINISHED] = "SELECT " JOURNAL_COLUMNS " FROM journal"
				" WHERE state IN ('pending','sent','failed') ORDER BY id LIMIT ?1",
	[S_J_LIST_ALL_PARENT] = "SELECT " JOURNAL_COLUMNS " FROM journal WHERE parent = ?2"
				" ORDER BY id LIMIT ?1",
	[S_J_LIST_UNFINISHED_PARENT] = "SELECT " JOURNAL_COLUMNS " FROM journal"
				       " WHERE state IN ('pending','sent','failed')"
				       " AND parent = ?2 ORDER BY id LIMIT ?1",
	[S_OBS_GET] = "SELECT fingerprint, first_seen, last_seen, count FROM observation"
		      " WHERE child = ?1",
	[S_OBS_PUT] = "INSERT OR REPLACE INTO observation (child, fingerprint, first_seen,"
		      " last_seen, count) VALUES (?1, ?2, ?3, ?4, ?5)",
	[S_OBS_DEL] = "DELETE FROM observation WHERE child = ?1",
	[S_SRV_GET] = "SELECT failures, next_retry FROM server_backoff"
		      " WHERE child = ?1 AND server = ?2",
	[S_SRV_PUT] = "INSERT OR REPLACE INTO server_backoff (child, server, failures,"
		      " next_retry) VALUES (?1, ?2, ?3, ?4)",
	[S_SRV_DEL] = "DELETE FROM server_backoff WHERE child = ?1 AND server = ?2",
	[S_SRV_COUNT] = "SELECT count(*) FROM server_backoff WHERE child = ?1",
	[S_SIGNER_PUT] = "INSERT INTO signer (name, spec, created, updated) VALUES (?1, ?2, ?3, ?3)"
			 " ON CONFLICT (name) DO UPDATE SET spec = excluded.spec,"
			 " updated = excluded.updated",
	[S_SIGNER_GET] = "SELECT spec FROM signer WHERE name = ?1",
	[S_SIGNER_LIST] = "SELECT name, spec, created, updated FROM signer ORDER BY name",
	[S_SIGNER_DEL] = "DELETE FROM signer WHERE name = ?1",
	[S_GROUP_ADD] = "INSERT INTO signer_group (" GROUP_COLUMNS ") VALUES (?1, ?2, ?3, ?4, ?5,"
			" ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, 1, ?14, ?14)",
	[S_GROUP_GET] = "SELECT " GROUP_COLUMNS " FROM signer_group WHERE zone = ?1",
	[S_GROUP_LIST] = "SELECT " GROUP_COLUMNS " FROM signer_group ORDER BY zone",
	[S_GROUP_UPDATE] = "UPDATE signer_group SET spec = ?2, members = ?3, proc_id = ?4,"
			   " proc_kind = ?5, proc_signer = ?6, proc_step = ?7, proc_status = ?8,"
			   " proc_deadline = ?9, proc_wait = ?10, proc_data = ?11,"
			   " proc_error = ?12, proc_started = ?13, version = version + 1,"
			   " updated = ?14 WHERE zone = ?1 AND version = ?15",
	[S_GROUP_DEL] = "DELETE FROM signer_group WHERE zone = ?1",
	[S_GROUP_DEL_EVENTS] = "DELETE FROM signer_event WHERE zone = ?1",
	[S_EVENT_ADD] = "INSERT INTO signer_event (zone, proc_id, at, step, signer, action, detail)"
			" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	[S_EVENT_LIST] = "SELECT * FROM (SELECT " EVENT_COLUMNS " FROM signer_event WHERE zone = ?1"
			 " ORDER BY id DESC LIMIT ?2) ORDER BY id",
	[S_EVENT_LIST_PROC] = "SELECT * FROM (SELECT " EVENT_COLUMNS " FROM signer_event"
			      " WHERE zone = ?1 AND proc_id = ?3 ORDER BY id DESC LIMIT ?2)"
			      " ORDER BY id",
};

struct sq {
	sqlite3 *db;
	char *path;
	sqlite3_stmt *stmt[S_COUNT];
};

static struct sq *SQ(struct zc_store *st)
{
	return st->impl;
}

/*
 * Maps a failed SQLite call to our codes and logs the database's message:
 * out of memory is -ENOMEM, everything else ZC_ESTORE.
 */
static int sq_fail(struct zc_store *st, int rc, const char *what)
{
	struct sq *s = SQ(st);

	if (rc == SQLITE_NOMEM) {
		return -ENOMEM;
	}
	zc_log(st->ctx, ZC_LOG_ERR, "store '%s', %s failed (%s)", s->path, what,
	       s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
	return ZC_ESTORE;
}

/* A cached prepared statement, reset and unbound; NULL on failure (logged). */
static sqlite3_stmt *sq_stmt(struct zc_store *st, enum sq_stmt id, int *ret_err)
{
	struct sq *s = SQ(st);
	int rc;

	if (!s->stmt[id]) {
		rc = sqlite3_prepare_v3(s->db, sql[id], -1, SQLITE_PREPARE_PERSISTENT,
					&s->stmt[id], NULL);
		if (rc != SQLITE_OK) {
			*ret_err = sq_fail(st, rc, "preparing a statement");
			return NULL;
		}
	}
	return s->stmt[id];
}

static void sq_done(sqlite3_stmt *stmt)
{
	if (stmt) {
		sqlite3_reset(stmt);
		sqlite3_clear_bindings(stmt);
	}
}

/* Runs a statement that returns no rows. */
static int sq_exec_stmt(struct zc_store *st, sqlite3_stmt *stmt, const char *what)
{
	int rc = sqlite3_step(stmt);

	sq_done(stmt);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		return sq_fail(st, rc, what);
	}
	return 0;
}

static int sq_simple(struct zc_store *st, enum sq_stmt id, const char *what)
{
	int r = 0;
	sqlite3_stmt *stmt = sq_stmt(st, id, &r);

	if (!stmt) {
		return r;
	}
	return sq_exec_stmt(st, stmt, what);
}

static int tx_begin(struct zc_store *st)
{
	return sq_simple(st, S_BEGIN, "starting a transaction");
}

static int tx_commit(struct zc_store *st)
{
	return sq_simple(st, S_COMMIT, "committing");
}

/* Rolls back when a transaction is open; returns @r unchanged. */
static int tx_rollback(struct zc_store *st, int r)
{
	if (!sqlite3_get_autocommit(SQ(st)->db)) {
		(void)sq_simple(st, S_ROLLBACK, "rolling back");
	}
	return r;
}

static int bind_text(sqlite3_stmt *stmt, int i, const char *s)
{
	if (!s) {
		return sqlite3_bind_null(stmt, i);
	}
	return sqlite3_bind_text(stmt, i, s, -1, SQLITE_STATIC);
}

/* A copy of a text column; NULL column gives NULL with *err untouched. */
static char *col_text(sqlite3_stmt *stmt, int i, int *err)
{
	const unsigned char *t = sqlite3_column_text(stmt, i);
	int n = sqlite3_column_bytes(stmt, i);
	char *c;

	if (!t) {
		if (sqlite3_column_type(stmt, i) != SQLITE_NULL) {
			*err = -ENOMEM;
		}
		return NULL;
	}
	if (n < 0 || n > ZC_STORE_MAX_TEXT) {
		*err = ZC_ESTORE;
		return NULL;
	}
	c = malloc((size_t)n + 1);
	if (!c) {
		*err = -ENOMEM;
		return NULL;
	}
	memcpy(c, t, (size_t)n);
	c[n] = '\0';
	return c;
}

/* Reads one journal row (JOURNAL_COLUMNS order) into @e. */
static int read_entry(struct zc_store *st, sqlite3_stmt *stmt, struct zc_journal_entry *e)
{
	const char *mode = (const char *)sqlite3_column_text(stmt, 6);
	const char *state = (const char *)sqlite3_column_text(stmt, 8);
	int err = 0;

	memset(e, 0, sizeof(*e));
	e->id = sqlite3_column_int64(stmt, 0);
	e->ttl = (uint32_t)sqlite3_column_int64(stmt, 5);
	e->inception = (uint32_t)sqlite3_column_int64(stmt, 7);
	e->attempts = (uint32_t)sqlite3_column_int64(stmt, 9);
	e->last_rcode = sqlite3_column_type(stmt, 10) == SQLITE_NULL
				? -1
				: (int)sqlite3_column_int(stmt, 10);
	e->created = sqlite3_column_int64(stmt, 13);
	e->updated = sqlite3_column_int64(stmt, 14);
	if (zc_change_mode_parse(mode, &e->mode) < 0 ||
	    zc_journal_state_parse(state, &e->state) < 0) {
		zc_log(st->ctx, ZC_LOG_ERR, "store '%s', journal entry %lld is malformed",
		       SQ(st)->path, (long long)e->id);
		return ZC_ESTORE;
	}
	e->child = col_text(stmt, 1, &err);
	e->parent = col_text(stmt, 2, &err);
	e->ds_old = col_text(stmt, 3, &err);
	e->ds_new = col_text(stmt, 4, &err);
	e->last_error = col_text(stmt, 11, &err);
	e->target = col_text(stmt, 12, &err);
	if (err == 0 && (!e->child || !e->parent || !e->ds_old || !e->ds_new)) {
		err = ZC_ESTORE;
	}
	if (err < 0) {
		zc_journal_entry_release(e);
		return err;
	}
	return 0;
}

/* Steps a statement expected to give zero or one journal row. */
static int one_entry(struct zc_store *st, sqlite3_stmt *stmt, struct zc_journal_entry *ret)
{
	int rc = sqlite3_step(stmt);
	int r;

	if (rc == SQLITE_DONE) {
		sq_done(stmt);
		return ZC_ENOTFOUND;
	}
	if (rc != SQLITE_ROW) {
		sq_done(stmt);
		return sq_fail(st, rc, "reading the journal");
	}
	r = read_entry(st, stmt, ret);
	sq_done(stmt);
	return r;
}

/* --- open / close -------------------------------------------------------- */

static int sq_pragma(struct zc_store *st, const char *text)
{
	char *msg = NULL;
	int rc = sqlite3_exec(SQ(st)->db, text, NULL, NULL, &msg);

	if (rc != SQLITE_OK) {
		zc_log(st->ctx, ZC_LOG_ERR, "store '%s', '%s' failed (%s)", SQ(st)->path, text,
		       msg ? msg : sqlite3_errstr(rc));
		sqlite3_free(msg);
		return rc == SQLITE_NOMEM ? -ENOMEM : ZC_ESTORE;
	}
	return 0;
}

static int read_version(struct zc_store *st, int *ret_version)
{
	sqlite3_stmt *stmt = NULL;
	int rc, v = 0;

	rc = sqlite3_prepare_v2(SQ(st)->db, "SELECT version FROM schema_version", -1, &stmt, NULL);
	if (rc != SQLITE_OK) {
		return sq_fail(st, rc, "reading the schema version");
	}
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		v = sqlite3_column_int(stmt, 0);
	} else if (rc != SQLITE_DONE) {
		sqlite3_finalize(stmt);
		return sq_fail(st, rc, "reading the schema version");
	}
	sqlite3_finalize(stmt);
	*ret_version = v;
	return 0;
}

/* Creates or migrates the schema in one transaction. */
static int migrate(struct zc_store *st)
{
	char buf[96];
	int r, v = 0;

	r = tx_begin(st);
	if (r < 0) {
		return r;
	}
	r = sq_pragma(st, "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)");
	if (r == 0) {
		r = read_version(st, &v);
	}
	if (r == 0 && (v < 0 || v > ZC_STORE_SCHEMA_VERSION)) {
		zc_log(st->ctx, ZC_LOG_ERR,
		       "store '%s' has schema version %d, newer than this zonecut (%d)",
		       SQ(st)->path, v, ZC_STORE_SCHEMA_VERSION);
		r = ZC_ESTORE;
	}
	for (int i = v; r == 0 && i < ZC_STORE_SCHEMA_VERSION; i++) {
		r = sq_pragma(st, migrations[i]);
	}
	if (r == 0 && v != ZC_STORE_SCHEMA_VERSION) {
		snprintf(buf, sizeof(buf), "DELETE FROM schema_version;"
			 "INSERT INTO schema_version (version) VALUES (%d)",
			 ZC_STORE_SCHEMA_VERSION);
		r = sq_pragma(st, buf);
	}
	if (r == 0) {
		r = tx_commit(st);
	}
	if (r < 0) {
		return tx_rollback(st, r);
	}
	st->schema_version = ZC_STORE_SCHEMA_VERSION;
	return 0;
}

/*
 * Creates the file with mode 0600 before SQLite sees it: SQLite would create it
 * 0644 (less the umask), and its -wal and -shm files copy the database's mode.
 */
static int precreate(struct zc_store *st, const char *path)
{
	int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOCTTY, 0600);

	if (fd < 0) {
		if (errno == EEXIST) {
			return 0;
		}
		int e = errno;

		zc_log(st->ctx, ZC_LOG_ERR, "store '%s' cannot be created (%s)", path, strerror(e));
		return -e;
	}
	close(fd);
	return 0;
}

static void sq_close(struct zc_store *st)
{
	struct sq *s = SQ(st);

	if (!s) {
		return;
	}
	for (int i = 0; i < S_COUNT; i++) {
		sqlite3_finalize(s->stmt[i]);
	}
	sqlite3_close_v2(s->db);
	free(s->path);
	free(s);
	st->impl = NULL;
}

static int sq_open(struct zc_store *st, const char *path)
{
	struct sq *s = calloc(1, sizeof(*s));
	int rc, r;

	if (!s) {
		return -ENOMEM;
	}
	st->impl = s;
	s->path = strdup(path);
	if (!s->path) {
		r = -ENOMEM;
		goto out;
	}
	r = precreate(st, path);
	if (r < 0) {
		goto out;
	}
	/* SQLite opens its files with O_CLOEXEC itself (unix VFS, robust_open()). */
	rc = sqlite3_open_v2(path, &s->db,
			     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX |
				     SQLITE_OPEN_EXRESCODE,
			     NULL);
	if (rc != SQLITE_OK) {
		int e = sqlite3_system_errno(s->db);

		r = sq_fail(st, rc, "opening");
		if (e > 0 && (rc & 0xff) == SQLITE_CANTOPEN) {
			r = -e;
		}
		goto out;
	}
	if (sqlite3_db_readonly(s->db, "main") == 1) {
		zc_log(st->ctx, ZC_LOG_ERR, "store '%s' is not writable", path);
		r = -EACCES;
		goto out;
	}
	sqlite3_busy_timeout(s->db, SQ_BUSY_TIMEOUT_MS);
	/*
	 * WAL: readers do not block the writer. synchronous=FULL: in WAL mode NORMAL
	 * may lose the last commits on power loss, and a journal entry must not be lost
	 * once zc_store_journal_add() returned.
	 */
	r = sq_pragma(st, "PRAGMA journal_mode = WAL");
	if (r == 0) {
		r = sq_pragma(st, "PRAGMA synchronous = FULL");
	}
	if (r == 0) {
		r = sq_pragma(st, "PRAGMA trusted_schema = OFF");
	}
	if (r == 0) {
		r = migrate(st);
	}
out:
	if (r < 0) {
		sq_close(st);
	}
	return r;
}

/* --- child state --------------------------------------------------------- */

static int sq_child_get(struct zc_store *st, const char *child, struct zc_child_state *ret)
{
	int r = 0, rc;
	sqlite3_stmt *stmt = sq_stmt(st, S_CHILD_GET, &r);
	char *ds;

	if (!stmt) {
		return r;
	}
	bind_text(stmt, 1, child);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_DONE) {
		sq_done(stmt);
		return ZC_ENOTFOUND;
	}
	if (rc != SQLITE_ROW) {
		sq_done(stmt);
		return sq_fail(st, rc, "reading a child");
	}
	ds = col_text(stmt, 1, &r);
	if (!ds && r == 0) {
		r = ZC_ESTORE;
	}
	if (r == 0) {
		ret->last_inception = (uint32_t)sqlite3_column_int64(stmt, 0);
		ret->applied_at = sqlite3_column_int64(stmt, 2);
		ret->ds = ds;
	}
	sq_done(stmt);
	return r;
}

/* Inside a transaction: the child's applied state; the inception only moves forward. */
static int child_upsert(struct zc_store *st, const char *child, uint32_t inception,
			const char *ds_text, int64_t now)
{
	struct zc_child_state cs = { 0 };
	uint32_t keep;
	sqlite3_stmt *stmt;
	int r;

	r = sq_child_get(st, child, &cs);
	if (r < 0 && r != ZC_ENOTFOUND) {
		return r;
	}
	keep = cs.last_inception;
	zc_child_state_release(&cs);
	if (inception != 0 && (keep == 0 || zc_serial_newer(inception, keep))) {
		keep = inception;
	}
	r = 0;
	stmt = sq_stmt(st, S_CHILD_UPSERT, &r);
	if (!stmt) {
		return r;
	}
	bind_text(stmt, 1, child);
	sqlite3_bind_int64(stmt, 2, keep);
	bind_text(stmt, 3, ds_text);
	sqlite3_bind_int64(stmt, 4, now);
	return sq_exec_stmt(st, stmt, "recording a child");
}

static int sq_child_set_applied(struct zc_store *st, const char *child, uint32_t inception,
				const char *ds_text, int64_t now)
{
	int r = tx_begin(st);

	if (r < 0) {
		return r;
	}
	r = child_upsert(st, child, inception, ds_text, now);
	if (r == 0) {
		r = tx_commit(st);
	}
	return r < 0 ? tx_rollback(st, r) : 0;
}

/* --- journal ------------------------------------------------------------- */

static bool same_change(const struct zc_journal_entry *a, const struct zc_journal_entry *b)
{
	return strcmp(a->parent, b->parent) == 0 && strcmp(a->ds_old, b->ds_old) == 0 &&
	       strcmp(a->ds_new, b->ds_new) == 0 && a->ttl == b->ttl;
}

static int sq_journal_add(struct zc_store *st, const struct zc_journal_entry *e, int64_t now,
			  int64_t *ret_id, enum zc_journal_add_result *ret_result)
{
	struct zc_journal_entry old;
	sqlite3_stmt *stmt;
	int64_t id;
	int r;

	r = tx_begin(st);
	if (r < 0) {
		return r;
	}
	stmt = sq_stmt(st, S_J_UNFINISHED, &r);
	if (!stmt) {
		return tx_rollback(st, r);
	}
	bind_text(stmt, 1, e->child);
	r = one_entry(st, stmt, &old);
	if (r == 0) {
		if (same_change(&old, e)) {
			/* The same change is still in flight: hand back its id. */
			id = old.id;
			zc_journal_entry_release(&old);
			r = tx_commit(st);
			if (r < 0) {
				return tx_rollback(st, r);
			}
			*ret_id = id;
			if (ret_result) {
				*ret_result = ZC_JOURNAL_EXISTING;
			}
			return 0;
		}
		id = old.id;
		zc_journal_entry_release(&old);
		stmt = sq_stmt(st, S_J_SUPERSEDE, &r);
		if (!stmt) {
			return tx_rollback(st, r);
		}
		sqlite3_bind_int64(stmt, 1, id);
		sqlite3_bind_int64(stmt, 2, now);
		r = sq_exec_stmt(st, stmt, "superseding a journal entry");
	} else if (r == ZC_ENOTFOUND) {
		r = 0;
	}
	if (r < 0) {
		return tx_rollback(st, r);
	}
	stmt = sq_stmt(st, S_J_INSERT, &r);
	if (!stmt) {
		return tx_rollback(st, r);
	}
	bind_text(stmt, 1, e->child);
	bind_text(stmt, 2, e->parent);
	bind_text(stmt, 3, e->ds_old);
	bind_text(stmt, 4, e->ds_new);
	sqlite3_bind_int64(stmt, 5, e->ttl);
	bind_text(stmt, 6, zc_change_mode_str(e->mode));
	sqlite3_bind_int64(stmt, 7, e->inception);
	sqlite3_bind_int64(stmt, 8, now);
	r = sq_exec_stmt(st, stmt, "adding a journal entry");
	if (r < 0) {
		return tx_rollback(st, r);
	}
	id = sqlite3_last_insert_rowid(SQ(st)->db);
	r = tx_commit(st);
	if (r < 0) {
		return tx_rollback(st, r);
	}
	*ret_id = id;
	if (ret_result) {
		*ret_result = ZC_JOURNAL_ADDED;
	}
	return 0;
}

static int sq_journal_set_state(struct zc_store *st, int64_t id, enum zc_journal_state from,
				enum zc_journal_state to, int rcode, const char *error,
				const char *target, int64_t now)
{
	struct zc_journal_entry e;
	sqlite3_stmt *stmt;
	int r;

	r = tx_begin(st);
	if (r < 0) {
		return r;
	}
	stmt = sq_stmt(st, S_J_GET, &r);
	if (!stmt) {
		return tx_rollback(st, r);
	}
	sqlite3_bind_int64(stmt, 1, id);
	r = one_entry(st, stmt, &e);
	if (r < 0) {
		return tx_rollback(st, r);
	}
	if (e.state != from) {
		zc_journal_entry_release(&e);
		return tx_rollback(st, -ESTALE);
	}
	stmt = sq_stmt(st, S_J_SET_STATE, &r);
	if (!stmt) {
		zc_journal_entry_release(&e);
		return tx_rollback(st, r);
	}
	sqlite3_bind_int64(stmt, 1, id);
	bind_text(stmt, 2, zc_journal_state_str(to));
	sqlite3_bind_int(stmt, 3, to == ZC_JOURNAL_SENT ? 1 : 0);
	sqlite3_bind_int(stmt, 4, rcode);
	bind_text(stmt, 5, error);
	bind_text(stmt, 6, target);
	sqlite3_bind_int64(stmt, 7, now);
	bind_text(stmt, 8, zc_journal_state_str(from));
	r = sq_exec_stmt(st, stmt, "updating a journal entry");
	if (r == 0 && to == ZC_JOURNAL_DONE) {
		/* The change and the child's replay state move together (S10). */
		r = child_upsert(st, e.child, e.inception, e.ds_new, now);
	}
	zc_journal_entry_release(&e);
	if (r == 0) {
		r = tx_commit(st);
	}
	return r < 0 ? tx_rollback(st, r) : 0;
}

static int sq_journal_get(struct zc_store *st, int64_t id, struct zc_journal_entry *ret)
{
	int r = 0;
	sqlite3_stmt *stmt = sq_stmt(st, S_J_GET, &r);

	if (!stmt) {
		return r;
	}
	sqlite3_bind_int64(stmt, 1, id);
	return one_entry(st, stmt, ret);
}

static int sq_journal_find_unfinished(struct zc_store *st, const char *child,
				      struct zc_journal_entry *ret)
{
	int r = 0;
	sqlite3_stmt *stmt = sq_stmt(st, S_J_UNFINISHED, &r);

	if (!stmt) {
		return r;
	}
	bind_text(stmt, 1, child);
	return one_entry(st, stmt, ret);
}

static int sq_journal_list(struct zc_store *st, bool unfinished_only, const char *parent,
			   size_t max, struct zc_journal_entry **ret_v, size_t *ret_n)
{
	enum sq_stmt id = unfinished_only ? (parent ? S_J_LIST_UNFINISHED_PARENT
						    : S_J_LIST_UNFINISHED)
					  : (parent ? S_J_LIST_ALL_PARENT : S_J_LIST_ALL);
	struct zc_journal_entry *v = NULL, *nv;
	size_t n = 0, cap = 0;
	sqlite3_stmt *stmt;
	int r = 0, rc;

	stmt = sq_stmt(st, id, &r);
	if (!stmt) {
		return r;
	}
	sqlite3_bind_int64(stmt, 1, (sqlite3_int64)max);
	if (parent) {
		bind_text(stmt, 2, parent);
	}
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			nv = realloc(v, cap * sizeof(*v));
			if (!nv) {
				r = -ENOMEM;
				break;
			}
			v = nv;
		}
		r = read_entry(st, stmt, &v[n]);
		if (r < 0) {
			break;
		}
		n++;
	}
	if (r == 0 && rc != SQLITE_DONE) {
		r = sq_fail(st, rc, "listing the journal");
	}
	sq_done(stmt);
	if (r < 0) {
		zc_journal_entries_free(v, n);
		return r;
	}
	if (n == 0) {
		free(v);
		v = NULL;
	}
	*ret_v = v;
	*ret_n = n;
	return 0;
}

/* --- observations (RFC 8078 §3.3) ---------------------------------------- */

static int sq_observe(struct zc_store *st, const char *child, const char *fingerprint,
		      int64_t now, struct zc_observation *ret)
{
	struct zc_observation o = { .first_seen = now, .last_seen = now, .count = 1 };
	sqlite3_stmt *stmt;
	int r, rc;

	r = tx_begin(st);
	if (r < 0) {
		return r;
	}
	stmt = sq_stmt(st, S_OBS_GET, &r);
	if (!stmt) {
		return tx_rollback(st, r);
	}
	bind_text(stmt, 1, child);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		const char *fp = (const char *)sqlite3_column_text(stmt, 0);

		if (fp && strcmp(fp, fingerprint) == 0) {
			/* Same set again: the delay keeps running. */
			o.first_seen = sqlite3_column_int64(stmt, 1);
			o.count = (uint32_t)ZC_MIN(sqlite3_column_int64(stmt, 3) + 1,
						   (sqlite3_int64)UINT32_MAX);
		}
	} else if (rc != SQLITE_DONE) {
		r = sq_fail(st, rc, "reading an observation");
	}
	sq_done(stmt);
	if (r < 0) {
		return tx_rollback(st, r);
	}
	stmt = sq_stmt(st, S_OBS_PUT, &r);
	if (!stmt) {
		return tx_rollback(st, r);
	}
	bind_text(stmt, 1, child);
	bind_text(stmt, 2, fingerprint);
	sqlite3_bind_int64(stmt, 3, o.first_seen);
	sqlite3_bind_int64(stmt, 4, o.last_seen);
	sqlite3_bind_int64(stmt, 5, o.count);
	r = sq_exec_stmt(st, stmt, "recording an observation");
	if (r == 0) {
		r = tx_commit(st);
	}
	if (r < 0) {
		return tx_rollback(st, r);
	}
	if (ret) {
		*ret = o;
	}
	return 0;
}

static int sq_observe_clear(struct zc_store *st, const char *child)
{
	int r = 0;
	sqlite3_stmt *stmt = sq_stmt(st, S_OBS_DEL, &r);

	if (!stmt) {
		return r;
	}
	bind_text(stmt, 1, child);
	return sq_exec_stmt(st, stmt, "clearing an observation");
}

/* --- server back-off (RFC 9975 §3) --------------------------------------- */

static int srv_read(struct zc_store *st, const char *child, const char *server,
		    int64_t *ret_next, uint32_t *ret_failures)
{
	int r = 0, rc;
	sqlite3_stmt *stmt = sq_stmt(st, S_SRV_GET, &r);

	if (!stmt) {
		return r;
	}
	bind_text(stmt, 1, child);
	bind_text(stmt, 2, server);
	rc = sqlite3_step(stmt);
	*ret_next = 0;
	*ret_failures = 0;
	if (rc == SQLITE_ROW) {
		*ret_failures = (uint32_t)ZC_MIN(sqlite3_column_int64(stmt, 0),
						 (sqlite3_int64)UINT32_MAX);
		*ret_next = sqlite3_column_int64(stmt, 1);
	} else if (rc != SQLITE_DONE) {
		r = sq_fail(st, rc, "reading a server back-off");
	}
	sq_done(stmt);
	return r;
}

static int sq_server_failure(struct zc_store *st, const char *child, const char *server,
			     int64_t now, int64_t *ret_next_retry, uint32_t *ret_failures)
{
	sqlite3_stmt *stmt;
	uint32_t failures = 0;
	int64_t next = 0;
	int r;

	r = tx_begin(st);
	if (r < 0) {
		return r;
	}
	r = srv_read(st, child, server, &next, &failures);
	if (r < 0) {
		return tx_rollback(st, r);
	}
	if (failures < UINT32_MAX) {
		failures++;
	}
	next = now + zc_store_backoff_delay(failures);
	stmt = sq_stmt(st, S_SRV_PUT, &r);
	if (!stmt) {
		return tx_rollback(st, r);
	}
	bind_text(stmt, 1, child);
	bind_text(stmt, 2, server);
	sqlite3_bind_int64(stmt, 3, failures);
	sqlite3_bind_int64(stmt, 4, next);
	r = sq_exec_stmt(st, stmt, "recording a server failure");
	if (r == 0) {
		r = tx_commit(st);
	}
	if (r < 0) {
		return tx_rollback(st, r);
	}
	if (ret_next_retry) {
		*ret_next_retry = next;
	}
	if (ret_failures) {
		*ret_failures = failures;
	}
	return 0;
}

static int sq_server_success(struct zc_store *st, const char *child, const char *server)
{
	uint32_t failures = 0;
	int64_t next = 0;
	int r = srv_read(st, child, server, &next, &failures);
	sqlite3_stmt *stmt;

	/*
	 * Nearly every server answers nearly every time: a read finds nothing to clear
	 * and spares a write transaction (its locks) per server and run.
	 */
	if (r < 0 || failures == 0) {
		return r;
	}
	stmt = sq_stmt(st, S_SRV_DEL, &r);
	if (!stmt) {
		return r;
	}
	bind_text(stmt, 1, child);
	bind_text(stmt, 2, server);
	return sq_exec_stmt(st, stmt, "clearing a server back-off");
}

static int sq_servers_backing_off(struct zc_store *st, const char *child, unsigned *ret_count)
{
	int r = 0, rc;
	sqlite3_stmt *stmt = sq_stmt(st, S_SRV_COUNT, &r);

	if (!stmt) {
		return r;
	}
	bind_text(stmt, 1, child);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		*ret_count = (unsigned)ZC_MIN(sqlite3_column_int64(stmt, 0), (sqlite3_int64)UINT_MAX);
	} else {
		r = sq_fail(st, rc, "counting server back-offs");
	}
	sq_done(stmt);
	return r;
}

static int sq_server_get(struct zc_store *st, const char *child, const char *server,
			 int64_t *ret_next_retry, uint32_t *ret_failures)
{
	uint32_t failures = 0;
	int64_t next = 0;
	int r = srv_read(st, child, server, &next, &failures);

	if (r < 0) {
		return r;
	}
	if (ret_next_retry) {
		*ret_next_retry = next;
	}
	if (ret_failures) {
		*ret_failures = failures;
	}
	return 0;
}

/* --- multi-signer controller ---------------------------------------------- */

static int sq_signer_put(struct zc_store *st, const char *name, const char *spec, int64_t now)
{
	int r = 0;
	sqlite3_stmt *stmt = sq_stmt(st, S_SIGNER_PUT, &r);

	if (!stmt) {
		return r;
	}
	bind_text(stmt, 1, name);
	bind_text(stmt, 2, spec);
	sqlite3_bind_int64(stmt, 3, now);
	return sq_exec_stmt(st, stmt, "recording a signer");
}

static int sq_signer_get(struct zc_store *st, const char *name, char **ret_spec)
{
	int r = 0, rc;
	sqlite3_stmt *stmt = sq_stmt(st, S_SIGNER_GET, &r);
	char *spec;

	if (!stmt) {
		return r;
	}
	bind_text(stmt, 1, name);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_DONE) {
		sq_done(stmt);
		return ZC_ENOTFOUND;
	}
	if (rc != SQLITE_ROW) {
		sq_done(stmt);
		return sq_fail(st, rc, "reading a signer");
	}
	spec = col_text(stmt, 0, &r);
	sq_done(stmt);
	if (!spec) {
		return r < 0 ? r : ZC_ESTORE;
	}
	*ret_spec = spec;
	return 0;
}

/*
 * Steps @stmt and reads each row with @read into a growing array of @size-octet
 * elements (read fills a zeroed element; on failure it releases what it took).
 * @release frees @n elements and the array. Returns 0 with *ret_v (NULL when
 * *ret_n is 0) and *ret_n, or an error (nothing returned).
 */
static int sq_collect(struct zc_store *st, sqlite3_stmt *stmt, size_t size,
		      int (*read)(sqlite3_stmt *stmt, void *row),
		      void (*release)(void *v, size_t n), const char *what, void **ret_v,
		      size_t *ret_n)
{
	char *v = NULL;
	size_t n = 0, cap = 0;
	int r = 0, rc = SQLITE_DONE;

	while (r == 0 && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		if (n == cap) {
			char *nv = realloc(v, (cap ? cap * 2 : 16) * size);

			if (!nv) {
				r = -ENOMEM;
				break;
			}
			v = nv;
			cap = cap ? cap * 2 : 16;
		}
		memset(v + n * size, 0, size);
		r = read(stmt, v + n * size);
		n += r == 0;
	}
	if (r == 0 && rc != SQLITE_DONE) {
		r = sq_fail(st, rc, what);
	}
	sq_done(stmt);
	if (r < 0) {
		release(v, n);
		return r;
	}
	if (n == 0) {
		free(v);
		v = NULL;
	}
	*ret_v = v;
	*ret_n = n;
	return 0;
}

static int read_signer(sqlite3_stmt *stmt, void *row)
{
	struct zc_signer_row *s = row;
	int err = 0;

	s->name = col_text(stmt, 0, &err);
	s->spec = col_text(stmt, 1, &err);
	s->created = sqlite3_column_int64(stmt, 2);
	s->updated = sqlite3_column_int64(stmt, 3);
	if (err == 0 && (!s->name || !s->spec)) {
		err = ZC_ESTORE;
	}
	if (err < 0) {
		free(s->name);
		free(s->spec);
	}
	return err;
}

static void release_signers(void *v, size_t n)
{
	zc_signer_rows_free(v, n);
}

static int sq_signer_list(struct zc_store *st, struct zc_signer_row **ret_v, size_t *ret_n)
{
	int r = 0;
	sqlite3_stmt *stmt = sq_stmt(st, S_SIGNER_LIST, &r);

	if (!stmt) {
		return r;
	}
	return sq_collect(st, stmt, sizeof(**ret_v), read_signer, release_signers,
			  "listing the signers", (void **)ret_v, ret_n);
}

/* Runs a DELETE of one row by key; ZC_ENOTFOUND when nothing was deleted. */
static int delete_one(struct zc_store *st, enum sq_stmt id, const char *key, const char *what)
{
	int r = 0;
	sqlite3_stmt *stmt = sq_stmt(st, id, &r);

	if (!stmt) {
		return r;
	}
	bind_text(stmt, 1, key);
	r = sq_exec_stmt(st, stmt, what);
	if (r == 0 && sqlite3_changes(SQ(st)->db) == 0) {
		r = ZC_ENOTFOUND;
	}
	return r;
}

static int sq_signer_delete(struct zc_store *st, const char *name)
{
	return delete_one(st, S_SIGNER_DEL, name, "deleting a signer");
}

/* Binds the fields of a group row as ?2 .. ?13 (S_GROUP_ADD and S_GROUP_UPDATE agree). */
static void bind_group(sqlite3_stmt *stmt, const struct zc_group_row *r)
{
	bind_text(stmt, 1, r->zone);
	bind_text(stmt, 2, r->spec ? r->spec : "");
	bind_text(stmt, 3, r->members ? r->members : "");
	sqlite3_bind_int64(stmt, 4, r->proc_id);
	bind_text(stmt, 5, r->proc_kind ? r->proc_kind : "");
	bind_text(stmt, 6, r->proc_signer ? r->proc_signer : "");
	bind_text(stmt, 7, r->proc_step ? r->proc_step : "");
	bind_text(stmt, 8, r->proc_status ? r->proc_status : "");
	sqlite3_bind_int64(stmt, 9, r->proc_deadline);
	bind_text(stmt, 10, r->proc_wait ? r->proc_wait : "");
	bind_text(stmt, 11, r->proc_data ? r->proc_data : "");
	bind_text(stmt, 12, r->proc_error ? r->proc_error : "");
	sqlite3_bind_int64(stmt, 13, r->proc_started);
}

static int sq_group_add(struct zc_store *st, const struct zc_group_row *row, int64_t now)
{
	int r = 0, rc;
	sqlite3_stmt *stmt = sq_stmt(st, S_GROUP_ADD, &r);

	if (!stmt) {
		return r;
	}
	bind_group(stmt, row);
	sqlite3_bind_int64(stmt, 14, now);
	rc = sqlite3_step(stmt);
	sq_done(stmt);
	if ((rc & 0xff) == SQLITE_CONSTRAINT) {
		return -EEXIST;
	}
	if (rc != SQLITE_DONE) {
		return sq_fail(st, rc, "adding a signer group");
	}
	return 0;
}

/* Reads one group row (GROUP_COLUMNS order) into @g. */
static int read_group(sqlite3_stmt *stmt, void *row)
{
	struct zc_group_row *g = row;
	char **texts[] = { &g->zone,      &g->spec,      &g->members,   NULL,
			   &g->proc_kind, &g->proc_signer, &g->proc_step, &g->proc_status,
			   NULL,          &g->proc_wait, &g->proc_data, &g->proc_error };
	int err = 0;

	memset(g, 0, sizeof(*g));
	for (int i = 0; i < (int)ZC_ARRAY_SIZE(texts); i++) {
		if (texts[i]) {
			*texts[i] = col_text(stmt, i, &err);
			if (err == 0 && !*texts[i]) {
				err = ZC_ESTORE;
			}
		}
	}
	g->proc_id = sqlite3_column_int64(stmt, 3);
	g->proc_deadline = sqlite3_column_int64(stmt, 8);
	g->proc_started = sqlite3_column_int64(stmt, 12);
	g->version = sqlite3_column_int64(stmt, 13);
	g->created = sqlite3_column_int64(stmt, 14);
	g->updated = sqlite3_column_int64(stmt, 15);
	if (err < 0) {
		zc_group_row_release(g);
	}
	return err;
}

static int sq_group_get(struct zc_store *st, const char *zone, struct zc_group_row *ret)
{
	int r = 0, rc;
	sqlite3_stmt *stmt = sq_stmt(st, S_GROUP_GET, &r);

	if (!stmt) {
		return r;
	}
	bind_text(stmt, 1, zone);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_DONE) {
		r = ZC_ENOTFOUND;
	} else if (rc != SQLITE_ROW) {
		r = sq_fail(st, rc, "reading a signer group");
	} else {
		r = read_group(stmt, ret);
	}
	sq_done(stmt);
	return r;
}

static void release_groups(void *v, size_t n)
{
	zc_group_rows_free(v, n);
}

static int sq_group_list(struct zc_store *st, struct zc_group_row **ret_v, size_t *ret_n)
{
	int r = 0;
	sqlite3_stmt *stmt = sq_stmt(st, S_GROUP_LIST, &r);

	if (!stmt) {
		return r;
	}
	return sq_collect(st, stmt, sizeof(**ret_v), read_group, release_groups,
			  "listing the signer groups", (void **)ret_v, ret_n);
}

static int sq_group_update(struct zc_store *st, struct zc_group_row *row, int64_t now)
{
	struct zc_group_row cur;
	int r = 0;
	sqlite3_stmt *stmt;

	r = tx_begin(st);
	if (r < 0) {
		return r;
	}
	stmt = sq_stmt(st, S_GROUP_UPDATE, &r);
	if (!stmt) {
		return tx_rollback(st, r);
	}
	bind_group(stmt, row);
	sqlite3_bind_int64(stmt, 14, now);
	sqlite3_bind_int64(stmt, 15, row->version);
	r = sq_exec_stmt(st, stmt, "updating a signer group");
	if (r == 0 && sqlite3_changes(SQ(st)->db) == 0) {
		/* Tell "changed meanwhile" from "gone". */
		r = sq_group_get(st, row->zone, &cur);
		if (r == 0) {
			zc_group_row_release(&cur);
			r = -ESTALE;
		}
	}
	if (r == 0) {
		r = tx_commit(st);
	}
	if (r < 0) {
		return tx_rollback(st, r);
	}
	row->version++;
	row->updated = now;
	return 0;
}

static int sq_group_delete(struct zc_store *st, const char *zone)
{
	int r = tx_begin(st);

	if (r < 0) {
		return r;
	}
	r = delete_one(st, S_GROUP_DEL, zone, "deleting a signer group");
	if (r == 0) {
		sqlite3_stmt *stmt = sq_stmt(st, S_GROUP_DEL_EVENTS, &r);

		if (stmt) {
			bind_text(stmt, 1, zone);
			r = sq_exec_stmt(st, stmt, "deleting the events of a signer group");
		}
	}
	if (r == 0) {
		r = tx_commit(st);
	}
	return r < 0 ? tx_rollback(st, r) : 0;
}

static int sq_event_add(struct zc_store *st, const struct zc_group_event *e, int64_t *ret_id)
{
	int r = 0;
	sqlite3_stmt *stmt = sq_stmt(st, S_EVENT_ADD, &r);

	if (!stmt) {
		return r;
	}
	bind_text(stmt, 1, e->zone);
	sqlite3_bind_int64(stmt, 2, e->proc_id);
	sqlite3_bind_int64(stmt, 3, e->at);
	bind_text(stmt, 4, e->step ? e->step : "");
	bind_text(stmt, 5, e->signer ? e->signer : "");
	bind_text(stmt, 6, e->action ? e->action : "");
	bind_text(stmt, 7, e->detail ? e->detail : "");
	r = sq_exec_stmt(st, stmt, "recording an event");
	if (r == 0 && ret_id) {
		*ret_id = sqlite3_last_insert_rowid(SQ(st)->db);
	}
	return r;
}

static int read_event(sqlite3_stmt *stmt, void *row)
{
	struct zc_group_event *e = row;
	int err = 0;

	e->id = sqlite3_column_int64(stmt, 0);
	e->zone = col_text(stmt, 1, &err);
	e->proc_id = sqlite3_column_int64(stmt, 2);
	e->at = sqlite3_column_int64(stmt, 3);
	e->step = col_text(stmt, 4, &err);
	e->signer = col_text(stmt, 5, &err);
	e->action = col_text(stmt, 6, &err);
	e->detail = col_text(stmt, 7, &err);
	if (err == 0 && (!e->zone || !e->step || !e->signer || !e->action || !e->detail)) {
		err = ZC_ESTORE;
	}
	if (err < 0) {
		free(e->zone);
		free(e->step);
		free(e->signer);
		free(e->action);
		free(e->detail);
	}
	return err;
}

static void release_events(void *v, size_t n)
{
	zc_group_events_free(v, n);
}

static int sq_event_list(struct zc_store *st, const char *zone, int64_t proc_id, size_t max,
			 struct zc_group_event **ret_v, size_t *ret_n)
{
	int r = 0;
	sqlite3_stmt *stmt = sq_stmt(st, proc_id ? S_EVENT_LIST_PROC : S_EVENT_LIST, &r);

	if (!stmt) {
		return r;
	}
	bind_text(stmt, 1, zone);
	sqlite3_bind_int64(stmt, 2, (sqlite3_int64)max);
	if (proc_id) {
		sqlite3_bind_int64(stmt, 3, proc_id);
	}
	return sq_collect(st, stmt, sizeof(**ret_v), read_event, release_events,
			  "listing events", (void **)ret_v, ret_n);
}

const struct zc_store_ops zc_store_sqlite_ops = {
	.name = "sqlite",
	.open = sq_open,
	.close = sq_close,
	.child_get = sq_child_get,
	.child_set_applied = sq_child_set_applied,
	.journal_add = sq_journal_add,
	.journal_set_state = sq_journal_set_state,
	.journal_get = sq_journal_get,
	.journal_find_unfinished = sq_journal_find_unfinished,
	.journal_list = sq_journal_list,
	.observe = sq_observe,
	.observe_clear = sq_observe_clear,
	.server_failure = sq_server_failure,
	.server_success = sq_server_success,
	.servers_backing_off = sq_servers_backing_off,
	.server_get = sq_server_get,
	.signer_put = sq_signer_put,
	.signer_get = sq_signer_get,
	.signer_list = sq_signer_list,
	.signer_delete = sq_signer_delete,
	.group_add = sq_group_add,
	.group_get = sq_group_get,
	.group_list = sq_group_list,
	.group_update = sq_group_update,
	.group_delete = sq_group_delete,
	.event_add = sq_event_add,
	.event_list = sq_event_list,
};
