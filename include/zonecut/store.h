/* SPDX-License-Identifier: MIT */
/*
 * zonecut/store.h: the state store. What the parental agent must remember between
 * runs: per child the last applied change (RFC 7344 §6.2 replay protection), the
 * journal of DS changes (written durably before a change is sent, so nothing is
 * lost and nothing is applied twice), RFC 8078 §3.3 accept-after-delay
 * observations and per-server back-off (RFC 9975 §3). And what the multi-signer
 * controller (RFC 8901) must remember: its signers, each zone's signer group with
 * the state of its current process, and the log of what that process did.
 *
 * One interface over backends: SQLite (a file path, the default) now; PostgreSQL
 * ("postgresql://...") later, behind the same functions.
 *
 * Ownership: string arguments are borrowed. Structures returned through ret_*
 * are released with the matching _release() or _free() function.
 * Threading: a store handle is used by one thread at a time. Several processes
 * may share one SQLite file (WAL, busy timeout).
 * Errors: 0, -EINVAL (bad argument), -ENOMEM, -errno (file system), ZC_ELIMIT (a
 * text over ZC_STORE_MAX_TEXT), ZC_ENOTFOUND (no such row, where documented) or
 * ZC_ESTORE (database failure; the database's message goes to the context log).
 */
#ifndef ZONECUT_STORE_H
#define ZONECUT_STORE_H

#include <stdint.h>
#include <zonecut/common.h>
#include <zonecut/util.h>

/* Longest text kept in one field (DS set text, error message, fingerprint). */
#define ZC_STORE_MAX_TEXT 65536
/* Longest name (child, parent zone) or server address text, NUL included. */
#define ZC_STORE_MAX_NAME 1025
/* Server back-off (RFC 9975 §3): 5, 10, 20, 40 ... minutes, at most one day. */
#define ZC_STORE_BACKOFF_BASE_S 300
#define ZC_STORE_BACKOFF_MAX_S 86400
/* Schema version this library writes; older files are migrated on open. */
#define ZC_STORE_SCHEMA_VERSION 2

struct zc_store;

/*
 * zc_store_open() - opens (creating when missing) the store at @path: a file path
 * for SQLite. A new file is created with mode 0600 (the -wal and -shm files take
 * the same mode); the directory must exist. The schema is created or migrated to
 * ZC_STORE_SCHEMA_VERSION inside one transaction. SQLite runs in WAL mode with
 * synchronous=FULL (a committed journal entry survives a power cut) and a busy
 * timeout of 5 s. @ctx (borrowed, may be NULL) receives error messages and must
 * outlive the store.
 * Returns 0 and *ret_store (free with zc_store_free()); -EINVAL; -ENOMEM; -errno
 * when the file cannot be created or opened (-EACCES, -ENOENT...); ZC_ENOTSUP for
 * a "postgresql://" URI (backend not built); ZC_ESTORE for a file that is not a
 * database, is corrupt, or has a schema newer than this library.
 */
ZC_PUBLIC ZC_MUSTCHECK int zc_store_open(struct zc_ctx *ctx, const char *path,
					 struct zc_store **ret_store);
/* zc_store_free() - closes the store; NULL is a no-op. */
ZC_PUBLIC void zc_store_free(struct zc_store *st);
/* zc_store_schema_version() - the schema version of the open store (for tests). */
ZC_PUBLIC int zc_store_schema_version(const struct zc_store *st);

/*
 * zc_store_default_path() - where the command keeps its store when none is
 * configured, from the environment @envp (a NULL-terminated "KEY=value" array
 * such as `environ`; the library never calls getenv() itself):
 *   $ZC_STATE_DIR/zonecut.db when set; else, for root, /var/lib/zonecut/zonecut.db;
 *   else $XDG_STATE_HOME/zonecut/zonecut.db, else $HOME/.local/state/zonecut/zonecut.db.
 * Creates the missing directories (mode 0700). Returns 0 and *ret_path (caller
 * frees with free()), -ENOENT (no HOME for a non-root user), -ENOMEM, ZC_ELIMIT
 * (path too long) or -errno from mkdir().
 */
ZC_PUBLIC ZC_MUSTCHECK int zc_store_default_path(char *const *envp, char **ret_path);

/* --- per child: the last applied change (replay protection, S10) -------- */

struct zc_child_state {
	uint32_t last_inception; /* RRSIG inception of the last applied CDS/CDNSKEY; 0: none */
	char *ds;                /* last applied DS set (zc_apply_ds_text() form); "" if none */
	int64_t applied_at;      /* Unix time of that change; 0 if none */
};

/*
 * zc_store_child_get() - the state of @child (absolute lower-case name). Returns
 * 0 and fills @ret (release with zc_child_state_release()), ZC_ENOTFOUND when
 * nothing was ever applied for it, or an error.
 */
ZC_PUBLIC ZC_MUSTCHECK int zc_store_child_get(struct zc_store *st, const char *child,
					      struct zc_child_state *ret);
/* zc_child_state_release() - frees what @s holds (not @s itself); NULL-safe. */
ZC_PUBLIC void zc_child_state_release(struct zc_child_state *s);
/*
 * zc_store_child_set_applied() - records that @ds_text (may be "") was applied
 * for @child at @now, signed with @inception (0: unsigned, kept as before). The
 * stored inception only moves forward (serial-number arithmetic). Used for
 * changes applied outside the journal (nsupdate, EPP); journal entries reaching
 * ZC_JOURNAL_DONE update it themselves. Returns 0 or an error.
 */
ZC_PUBLIC ZC_MUSTCHECK int zc_store_child_set_applied(struct zc_store *st, const char *child,
						      uint32_t inception, const char *ds_text,
						      int64_t now);
/*
 * zc_store_inception_is_newer() - S10 (RFC 7344 §6.2): *ret_newer is true when
 * @inception is newer (RFC 1982 serial arithmetic on 32 bits, like RRSIG times)
 * than the last applied inception for @child, or when none is recorded. An
 * @inception of 0 is never newer when one is recorded. Returns 0 or an error.
 */
ZC_PUBLIC ZC_MUSTCHECK int zc_store_inception_is_newer(struct zc_store *st, const char *child,
						       uint32_t inception, bool *ret_newer);

/* --- journal of DS changes ---------------------------------------------- */

/* What a change does (the scanner's decision). */
enum zc_change_mode {
	ZC_CHANGE_UPDATE = 0,    /* the DS set changes (keys added or removed) */
	ZC_CHANGE_DELETE = 1,    /* RFC 8078 §4: every DS goes */
	ZC_CHANGE_BOOTSTRAP = 2, /* RFC 9615 / RFC 8078 §3: first DS of an unsigned delegation */
	ZC_CHANGE_ROLLOVER = 3,  /* RFC 7344: DS replaced for a key rollover */
};
/* "update", "delete", "bootstrap", "rollover"; "?" for other values. */
ZC_PUBLIC const char *zc_change_mode_str(enum zc_change_mode m);
/* Parses the names above. Returns 0 or -EINVAL. */
ZC_PUBLIC ZC_MUSTCHECK int zc_change_mode_parse(const char *s, enum zc_change_mode *ret);

/*
 * Life of a journal entry:
 *   PENDING --> SENT --> DONE | FAILED | CONFLICT
 *   PENDING --> DONE | FAILED | CONFLICT   (nothing had to be sent, or could not read)
 *   FAILED  --> SENT ...                   (retried on the next run)
 *   PENDING/SENT/FAILED --> SUPERSEDED     (a newer change for the same child)
 * PENDING, SENT and FAILED are "unfinished": at most one unfinished entry per child
 * (enforced by the database). DONE, CONFLICT and SUPERSEDED are final.
 */
enum zc_journal_state {
	ZC_JOURNAL_PENDING = 0,    /* journaled, not sent yet */
	ZC_JOURNAL_SENT = 1,       /* an UPDATE went (or was about to go) out */
	ZC_JOURNAL_DONE = 2,       /* the parent holds ds_new (read back) */
	ZC_JOURNAL_FAILED = 3,     /* not applied (refused, timeout...); retried later */
	ZC_JOURNAL_CONFLICT = 4,   /* the parent holds neither ds_old nor ds_new: untouched */
	ZC_JOURNAL_SUPERSEDED = 5, /* replaced by a newer entry for the child; never sent again */
};
/* "pending", "sent", "done", "failed", "conflict", "superseded"; "?" otherwise. */
ZC_PUBLIC const char *zc_journal_state_str(enum zc_journal_state s);
/* Parses the names above. Returns 0 or -EINVAL. */
ZC_PUBLIC ZC_MUSTCHECK int zc_journal_state_parse(const char *s, enum zc_journal_state *ret);
/* True for PENDING, SENT and FAILED. */
ZC_PUBLIC bool zc_journal_state_unfinished(enum zc_journal_state s);

struct zc_journal_entry {
	int64_t id;                  /* > 0, assigned by zc_store_journal_add() */
	char *child;                 /* absolute lower-case name */
	char *parent;                /* parent zone */
	char *ds_old;                /* DS set before (zc_apply_ds_text() form; "" = none) */
	char *ds_new;                /* DS set after ("" = delete every DS) */
	uint32_t ttl;                /* TTL of the added DS records */
	enum zc_change_mode mode;
	uint32_t inception;          /* RRSIG inception of the CDS/CDNSKEY; 0: none */
	enum zc_journal_state state;
	uint32_t attempts;           /* UPDATEs sent so far */
	int last_rcode;              /* rcode of the last UPDATE answer; -1: none */
	char *last_error;            /* NULL when none */
	char *target;                /* where it was sent ("addr@port"); NULL when never */
	int64_t created;             /* Unix time */
	int64_t updated;
};
/* zc_journal_entry_release() - frees the strings of @e (not @e); NULL-safe. */
ZC_PUBLIC void zc_journal_entry_release(struct zc_journal_entry *e);
/* zc_journal_entries_free() - releases @n entries and frees the array. NULL-safe. */
ZC_PUBLIC void zc_journal_entries_free(struct zc_journal_entry *v, size_t n);

enum zc_journal_add_result {
	ZC_JOURNAL_ADDED = 0,    /* a new entry was created */
	ZC_JOURNAL_EXISTING = 1, /* an identical unfinished entry exists: its id is returned */
};

/*
 * zc_store_journal_add() - journals a change described by @e: child, parent,
 * ds_old, ds_new, ttl, mode and inception are read; the other fields are ignored.
 * In one transaction: when an unfinished entry for the child exists with the same
 * parent, ds_old, ds_new and ttl, nothing is added and its id is returned with
 * ZC_JOURNAL_EXISTING (a new run does not duplicate a change still in flight);
 * when the unfinished entry differs, it becomes SUPERSEDED and the new entry is
 * added as PENDING. The transaction is committed (durable) before this returns.
 * Returns 0 with *ret_id and *ret_result (may be NULL), or an error (nothing added).
 */
ZC_PUBLIC ZC_MUSTCHECK int zc_store_journal_add(struct zc_store *st,
						const struct zc_journal_entry *e, int64_t *ret_id,
						enum zc_journal_add_result *ret_result);
/*
 * zc_store_journal_set_state() - moves entry @id from state @from to @to,
 * recording @rcode (-1: keep the previous one) and @error (NULL: cleared) and
 * @target (NULL: keep). Moving to SENT counts one attempt. Moving to DONE also
 * records the child's applied state (ds_new, inception, time) in the same
 * transaction. Committed before it returns.
 * Returns 0; ZC_ENOTFOUND (no entry @id); -ESTALE when the entry is not in state
 * @from (another run moved it: the caller must not act on it); -EINVAL when the
 * move is not allowed by the life cycle above; or an error.
 */
ZC_PUBLIC ZC_MUSTCHECK int zc_store_journal_set_state(struct zc_store *st, int64_t id,
						      enum zc_journal_state from,
						      enum zc_journal_state to, int rcode,
						      const char *error, const char *target);
/* zc_store_journal_get() - entry @id into @ret (release it). 0, ZC_ENOTFOUND or an error. */
ZC_PUBLIC ZC_MUSTCHECK int zc_store_journal_get(struct zc_store *st, int64_t id,
						struct zc_journal_entry *ret);
/*
 * zc_store_journal_find_unfinished() - the unfinished entry of @child, if any.
 * Returns 0 and fills @ret (release it), ZC_ENOTFOUND, or an error.
 */
ZC_PUBLIC ZC_MUSTCHECK int zc_store_journal_find_unfinished(struct zc_store *st,
							    const char *child,
							    struct zc_journal_entry *ret);
/*
 * zc_store_journal_list() - entries in id order: only unfinished ones when
 * @unfinished_only, else all; of parent zone @parent only when not NULL; at most
 * @max (0: ZC_STORE_MAX_LIST). Returns 0 with *ret_v (free with
 * zc_journal_entries_free(); NULL when *ret_n is 0) and *ret_n, or an error.
 */
#define ZC_STORE_MAX_LIST 100000
ZC_PUBLIC ZC_MUSTCHECK int zc_store_journal_list(struct zc_store *st, bool unfinished_only,
						 const char *parent, size_t max,
						 struct zc_journal_entry **ret_v, size_t *ret_n);

/* --- RFC 8078 §3.3 accept after delay (S7) ------------------------------ */

struct zc_observation {
	int64_t first_seen; /* first time this fingerprint was seen without a change */
	int64_t last_seen;
	uint32_t count;     /* runs that saw it, this one included */
};

/*
 * zc_store_observe() - records that @child published the CDS/CDNSKEY set whose
 * fingerprint is @fingerprint (any text, e.g. a hash of the canonical RRsets) at
 * @now. A different fingerprint than the stored one starts over (first_seen =
 * @now, count = 1). Returns 0 with the updated observation in @ret (may be NULL),
 * or an error.
 */
ZC_PUBLIC ZC_MUSTCHECK int zc_store_observe(struct zc_store *st, const char *child,
					    const char *fingerprint, int64_t now,
					    struct zc_observation *ret);
/* zc_store_observe_clear() - forgets the observation of @child (0 also when none). */
ZC_PUBLIC ZC_MUSTCHECK int zc_store_observe_clear(struct zc_store *st, const char *child);

/* --- server back-off (S3) ------------------------------------------------ */

/*
 * zc_store_server_failure() - one more consecutive failure of @server (address
 * text, e.g. "192.0.2.1@53") for @child at @now. The next retry is @now +
 * ZC_STORE_BACKOFF_BASE_S * 2^(failures-1), at most ZC_STORE_BACKOFF_MAX_S later.
 * Returns 0 with *ret_next_retry and *ret_failures (each may be NULL), or an error.
 */
ZC_PUBLIC ZC_MUSTCHECK int zc_store_server_failure(struct zc_store *st, const char *child,
						   const char *server, int64_t now,
						   int64_t *ret_next_retry,
						   uint32_t *ret_failures);
/*
 * zc_store_servers_backing_off() - *@ret_count: how many servers of @child have a
 * back-off recorded (failures not yet forgotten). One read for a child whose
 * servers all answered, instead of one zc_store_server_success() each. 0 or an error.
 */
ZC_PUBLIC ZC_MUSTCHECK int zc_store_servers_backing_off(struct zc_store *st, const char *child,
							 unsigned *ret_count);
/* zc_store_server_success() - @server answered: its back-off is forgotten. 0 or an error. */
ZC_PUBLIC ZC_MUSTCHECK int zc_store_server_success(struct zc_store *st, const char *child,
						   const char *server);
/*
 * zc_store_server_next_retry() - when @server may be asked again for @child:
 * *ret_next_retry is 0 and *ret_failures 0 when it is not backing off. Each
 * out-parameter may be NULL. Returns 0 or an error.
 */
ZC_PUBLIC ZC_MUSTCHECK int zc_store_server_next_retry(struct zc_store *st, const char *child,
						      const char *server,
						      int64_t *ret_next_retry,
						      uint32_t *ret_failures);

/* --- multi-signer controller (RFC 8901): signers, groups, events ---------- */

/*
 * The store keeps these rows as text; signers/ decides what the texts mean (a
 * signer's configuration, the group members as JSON, process data as JSON). Every
 * text is bounded by ZC_STORE_MAX_TEXT, names by ZC_STORE_MAX_NAME.
 */

/* One configured signer (a DNS provider that signs with its own keys). */
struct zc_signer_row {
	char *name;      /* the signer's name */
	char *spec;      /* its configuration, as zc_signer_format() writes it */
	int64_t created; /* Unix time */
	int64_t updated;
};
/* zc_signer_rows_free() - releases @n rows and frees the array; NULL-safe. */
ZC_PUBLIC void zc_signer_rows_free(struct zc_signer_row *v, size_t n);

/* zc_store_signer_put() - creates signer @name or replaces its @spec. 0 or an error. */
ZC_PUBLIC ZC_MUSTCHECK int zc_store_signer_put(struct zc_store *st, const char *name,
					       const char *spec);
/*
 * zc_store_signer_get() - the spec of signer @name into *ret_spec (free()).
 * Returns 0, ZC_ENOTFOUND or an error.
 */
ZC_PUBLIC ZC_MUSTCHECK int zc_store_signer_get(struct zc_store *st, const char *name,
					       char **ret_spec);
/*
 * zc_store_signer_list() - every signer in name order. Returns 0 with *ret_v
 * (zc_signer_rows_free(); NULL when *ret_n is 0) and *ret_n, or an error.
 */
ZC_PUBLIC ZC_MUSTCHECK int zc_store_signer_list(struct zc_store *st, struct zc_signer_row **ret_v,
						size_t *ret_n);
/*
 * zc_store_signer_delete() - forgets signer @name. Whether a group still uses it
 * is for the caller to check. Returns 0, ZC_ENOTFOUND or an error.
 */
ZC_PUBLIC ZC_MUSTCHECK int zc_store_signer_delete(struct zc_store *st, const char *name);

/*
 * One zone run by the controller: its configuration, its signer group and the
 * state of its current (or last) process -- all in one row, so that every step
 * of a process is one atomic compare-and-set write (@version).
 */
struct zc_group_row {
	char *zone;          /* absolute lower-case name */
	char *spec;          /* configuration (parent servers, options) */
	char *members;       /* the signer group and what was pushed to each (JSON) */
	int64_t proc_id;     /* number of the current or last process; 0: none yet */
	char *proc_kind;     /* "join", "leave", ...; "" when there never was one */
	char *proc_signer;   /* the signer it is about; "" */
	char *proc_step;     /* the step it stands at */
	char *proc_status;   /* "running", "waiting", "stopped", "done", "aborted"; "" */
	int64_t proc_deadline; /* Unix time a wait ends; 0: none */
	char *proc_wait;     /* what it waits for, for people; "" */
	char *proc_data;     /* what the process keeps between steps (JSON); "" */
	char *proc_error;    /* why it stopped, or the last transient failure; "" */
	int64_t proc_started; /* Unix time */
	int64_t version;     /* > 0; every write of the row increments it */
	int64_t created;
	int64_t updated;
};
/* zc_group_row_release() - frees the strings of @r (not @r); NULL-safe. */
ZC_PUBLIC void zc_group_row_release(struct zc_group_row *r);
/* zc_group_rows_free() - releases @n rows and frees the array; NULL-safe. */
ZC_PUBLIC void zc_group_rows_free(struct zc_group_row *v, size_t n);

/*
 * zc_store_group_add() - creates the row of @r->zone from @r (NULL strings are
 * stored as ""; version, created and updated are set by the store). Returns 0,
 * -EEXIST when the zone has a row, or an error.
 */
ZC_PUBLIC ZC_MUSTCHECK int zc_store_group_add(struct zc_store *st, const struct zc_group_row *r);
/* zc_store_group_get() - the row of @zone into @ret (release it). 0, ZC_ENOTFOUND or an error. */
ZC_PUBLIC ZC_MUSTCHECK int zc_store_group_get(struct zc_store *st, const char *zone,
					      struct zc_group_row *ret);
/*
 * zc_store_group_list() - every row in zone order. Returns 0 with *ret_v
 * (zc_group_rows_free(); NULL when *ret_n is 0) and *ret_n, or an error.
 */
ZC_PUBLIC ZC_MUSTCHECK int zc_store_group_list(struct zc_store *st, struct zc_group_row **ret_v,
					       size_t *ret_n);
/*
 * zc_store_group_update() - writes every field of @r (but zone and created) to the
 * row of @r->zone when its version is still @r->version (compare-and-set),
 * durably, and sets @r->version and @r->updated to the new values.
 * Returns 0; -ESTALE when the row changed meanwhile (another controller): nothing
 * written, the caller must re-read; ZC_ENOTFOUND; or an error.
 */
ZC_PUBLIC ZC_MUSTCHECK int zc_store_group_update(struct zc_store *st, struct zc_group_row *r);
/*
 * zc_store_group_delete() - forgets the zone and its events. Returns 0,
 * ZC_ENOTFOUND or an error.
 */
ZC_PUBLIC ZC_MUSTCHECK int zc_store_group_delete(struct zc_store *st, const char *zone);

/* One thing a process did, for status and audit (append-only). */
struct zc_group_event {
	int64_t id;     /* > 0, increasing; assigned by zc_store_group_event_add() */
	char *zone;
	int64_t proc_id;
	int64_t at;     /* Unix time */
	char *step;
	char *signer;   /* "" when none */
	char *action;   /* e.g. "update", "verified", "wait", "stopped" */
	char *detail;   /* "" when none */
};
/* zc_group_events_free() - releases @n events and frees the array; NULL-safe. */
ZC_PUBLIC void zc_group_events_free(struct zc_group_event *v, size_t n);
/*
 * zc_store_group_event_add() - appends @e (zone, proc_id, at, step, signer, action,
 * detail; NULL strings as ""), durably. Returns 0 with *ret_id (may be NULL), or an error.
 */
ZC_PUBLIC ZC_MUSTCHECK int zc_store_group_event_add(struct zc_store *st,
						    const struct zc_group_event *e,
						    int64_t *ret_id);
/*
 * zc_store_group_event_list() - the events of @zone (of process @proc_id only
 * when not 0) in order, the last @max of them (0: ZC_STORE_MAX_LIST). Returns 0
 * with *ret_v (zc_group_events_free(); NULL when *ret_n is 0) and *ret_n, or an error.
 */
ZC_PUBLIC ZC_MUSTCHECK int zc_store_group_event_list(struct zc_store *st, const char *zone,
						     int64_t proc_id, size_t max,
						     struct zc_group_event **ret_v, size_t *ret_n);

#endif
