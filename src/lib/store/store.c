/* SPDX-License-Identifier: MIT */
/*
 * The store front end: argument and limit checks, the names of modes and
 * states, the default path, and dispatch to the backend's operations table
 * (store/internal.h). Backends see only checked arguments.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/internal.h"

/*
 * One backend operation at a time: a scan's worker threads share one store. Each
 * operation is complete in itself (its own transaction), so this is all the
 * backends need.
 */
#define STORE_LOCKED(st, call)                                                   \
	__extension__({                                                          \
		int r_;                                                          \
		pthread_mutex_lock(&(st)->lock);                                 \
		r_ = (call);                                                     \
		pthread_mutex_unlock(&(st)->lock);                               \
		r_;                                                              \
	})

static const char *const mode_names[] = {
	[ZC_CHANGE_UPDATE] = "update",
	[ZC_CHANGE_DELETE] = "delete",
	[ZC_CHANGE_BOOTSTRAP] = "bootstrap",
	[ZC_CHANGE_ROLLOVER] = "rollover",
};

static const char *const state_names[] = {
	[ZC_JOURNAL_PENDING] = "pending",   [ZC_JOURNAL_SENT] = "sent",
	[ZC_JOURNAL_DONE] = "done",         [ZC_JOURNAL_FAILED] = "failed",
	[ZC_JOURNAL_CONFLICT] = "conflict", [ZC_JOURNAL_SUPERSEDED] = "superseded",
};

const char *zc_change_mode_str(enum zc_change_mode m)
{
	if ((unsigned)m < ZC_ARRAY_SIZE(mode_names)) {
		return mode_names[m];
	}
	return "?";
}

int zc_change_mode_parse(const char *s, enum zc_change_mode *ret)
{
	if (!s || !ret) {
		return -EINVAL;
	}
	for (size_t i = 0; i < ZC_ARRAY_SIZE(mode_names); i++) {
		if (strcmp(s, mode_names[i]) == 0) {
			*ret = (enum zc_change_mode)i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *zc_journal_state_str(enum zc_journal_state s)
{
	if ((unsigned)s < ZC_ARRAY_SIZE(state_names)) {
		return state_names[s];
	}
	return "?";
}

int zc_journal_state_parse(const char *s, enum zc_journal_state *ret)
{
	if (!s || !ret) {
		return -EINVAL;
	}
	for (size_t i = 0; i < ZC_ARRAY_SIZE(state_names); i++) {
		if (strcmp(s, state_names[i]) == 0) {
			*ret = (enum zc_journal_state)i;
			return 0;
		}
	}
	return -EINVAL;
}

bool zc_journal_state_unfinished(enum zc_journal_state s)
{
	return s == ZC_JOURNAL_PENDING || s == ZC_JOURNAL_SENT || s == ZC_JOURNAL_FAILED;
}

void zc_journal_entry_release(struct zc_journal_entry *e)
{
	if (!e) {
		return;
	}
	free(e->child);
	free(e->parent);
	free(e->ds_old);
	free(e->ds_new);
	free(e->last_error);
	free(e->target);
	e->child = e->parent = e->ds_old = e->ds_new = e->last_error = e->target = NULL;
}

void zc_journal_entries_free(struct zc_journal_entry *v, size_t n)
{
	if (!v) {
		return;
	}
	for (size_t i = 0; i < n; i++) {
		zc_journal_entry_release(&v[i]);
	}
	free(v);
}

void zc_child_state_release(struct zc_child_state *s)
{
	if (s) {
		free(s->ds);
		s->ds = NULL;
	}
}

int64_t zc_store_backoff_delay(uint32_t failures)
{
	int64_t d = ZC_STORE_BACKOFF_BASE_S;

	for (uint32_t i = 1; i < failures && d < ZC_STORE_BACKOFF_MAX_S; i++) {
		d *= 2;
	}
	return ZC_MIN(d, (int64_t)ZC_STORE_BACKOFF_MAX_S);
}

/* Names and addresses: present, not empty, bounded. */
static int check_name(const char *s)
{
	if (!s || !*s) {
		return -EINVAL;
	}
	if (strnlen(s, ZC_STORE_MAX_NAME) >= ZC_STORE_MAX_NAME) {
		return ZC_ELIMIT;
	}
	return 0;
}

/* Texts: may be empty; bounded. */
static int check_text(const char *s)
{
	if (!s) {
		return -EINVAL;
	}
	if (strnlen(s, ZC_STORE_MAX_TEXT + 1) > ZC_STORE_MAX_TEXT) {
		return ZC_ELIMIT;
	}
	return 0;
}

static int64_t now_s(void)
{
	return (int64_t)(zc_now_wall_ms() / 1000);
}

int zc_store_open(struct zc_ctx *ctx, const char *path, struct zc_store **ret_store)
{
	struct zc_store *st;
	int r;

	if (!path || !*path || !ret_store) {
		return -EINVAL;
	}
	if (strncmp(path, "postgresql://", 13) == 0 || strncmp(path, "postgres://", 11) == 0) {
		zc_log(ctx, ZC_LOG_ERR, "store '%s': the PostgreSQL backend is not built in",
		       path);
		return ZC_ENOTSUP;
	}
	st = calloc(1, sizeof(*st));
	if (!st) {
		return -ENOMEM;
	}
	st->ctx = ctx;
	st->ops = &zc_store_sqlite_ops;
	if (pthread_mutex_init(&st->lock, NULL) != 0) {
		free(st);
		return -ENOMEM;
	}
	r = st->ops->open(st, path);
	if (r < 0) {
		pthread_mutex_destroy(&st->lock);
		free(st);
		return r;
	}
	*ret_store = st;
	return 0;
}

void zc_store_free(struct zc_store *st)
{
	if (!st) {
		return;
	}
	st->ops->close(st);
	pthread_mutex_destroy(&st->lock);
	free(st);
}

int zc_store_schema_version(const struct zc_store *st)
{
	return st ? st->schema_version : 0;
}

/* The value of @key in the "KEY=value" array @envp; NULL when unset or empty. */
static const char *env_get(char *const *envp, const char *key)
{
	size_t n = strlen(key);

	for (; envp && *envp; envp++) {
		if (strncmp(*envp, key, n) == 0 && (*envp)[n] == '=') {
			return (*envp)[n + 1] ? *envp + n + 1 : NULL;
		}
	}
	return NULL;
}

/* mkdir -p @dir (mode 0700 for what it creates). */
static int mkdir_p(char *dir)
{
	struct stat sb;

	if (stat(dir, &sb) == 0) {
		return S_ISDIR(sb.st_mode) ? 0 : -ENOTDIR;
	}
	for (char *p = dir + 1; *p; p++) {
		if (*p != '/') {
			continue;
		}
		*p = '\0';
		if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
			int e = errno;

			*p = '/';
			return -e;
		}
		*p = '/';
	}
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		return -errno;
	}
	return 0;
}

int zc_store_default_path(char *const *envp, char **ret_path)
{
	char dir[4096];
	char *path;
	int n, r;

	if (!ret_path) {
		return -EINVAL;
	}
	const char *state_dir = env_get(envp, "ZC_STATE_DIR");
	const char *xdg = env_get(envp, "XDG_STATE_HOME");
	const char *home = env_get(envp, "HOME");

	if (state_dir) {
		n = snprintf(dir, sizeof(dir), "%s", state_dir);
	} else if (geteuid() == 0) {
		n = snprintf(dir, sizeof(dir), "/var/lib/zonecut");
	} else if (xdg && xdg[0] == '/') {
		/* XDG base directories: a relative value is invalid and ignored. */
		n = snprintf(dir, sizeof(dir), "%s/zonecut", xdg);
	} else if (home) {
		n = snprintf(dir, sizeof(dir), "%s/.local/state/zonecut", home);
	} else {
		return -ENOENT;
	}
	if (n < 0 || (size_t)n >= sizeof(dir) - sizeof("/zonecut.db")) {
		return ZC_ELIMIT;
	}
	r = mkdir_p(dir);
	if (r < 0) {
		return r;
	}
	path = malloc((size_t)n + sizeof("/zonecut.db"));
	if (!path) {
		return -ENOMEM;
	}
	memcpy(path, dir, (size_t)n);
	memcpy(path + n, "/zonecut.db", sizeof("/zonecut.db"));
	*ret_path = path;
	return 0;
}

int zc_store_child_get(struct zc_store *st, const char *child, struct zc_child_state *ret)
{
	int r;

	if (!st || !ret) {
		return -EINVAL;
	}
	r = check_name(child);
	if (r < 0) {
		return r;
	}
	return STORE_LOCKED(st, st->ops->child_get(st, child, ret));
}

int zc_store_child_set_applied(struct zc_store *st, const char *child, uint32_t inception,
			       const char *ds_text, int64_t now)
{
	int r;

	if (!st) {
		return -EINVAL;
	}
	r = check_name(child);
	if (r == 0) {
		r = check_text(ds_text);
	}
	if (r < 0) {
		return r;
	}
	return STORE_LOCKED(st, st->ops->child_set_applied(st, child, inception, ds_text, now));
}

int zc_store_inception_is_newer(struct zc_store *st, const char *child, uint32_t inception,
				bool *ret_newer)
{
	struct zc_child_state cs;
	int r;

	if (!ret_newer) {
		return -EINVAL;
	}
	r = zc_store_child_get(st, child, &cs);
	if (r == ZC_ENOTFOUND) {
		*ret_newer = true;
		return 0;
	}
	if (r < 0) {
		return r;
	}
	/* RFC 7344 §6.2: only a signature newer than the last accepted one counts. */
	*ret_newer = cs.last_inception == 0 || zc_serial_newer(inception, cs.last_inception);
	if (cs.last_inception != 0 && inception == 0) {
		*ret_newer = false;
	}
	zc_child_state_release(&cs);
	return 0;
}

int zc_store_journal_add(struct zc_store *st, const struct zc_journal_entry *e, int64_t *ret_id,
			 enum zc_journal_add_result *ret_result)
{
	int r;

	if (!st || !e || !ret_id || (unsigned)e->mode > ZC_CHANGE_ROLLOVER) {
		return -EINVAL;
	}
	r = check_name(e->child);
	if (r == 0) {
		r = check_name(e->parent);
	}
	if (r == 0) {
		r = check_text(e->ds_old);
	}
	if (r == 0) {
		r = check_text(e->ds_new);
	}
	if (r < 0) {
		return r;
	}
	return STORE_LOCKED(st, st->ops->journal_add(st, e, now_s(), ret_id, ret_result));
}

/* The life cycle of store.h; moves to the same state are allowed for SENT only. */
static bool transition_allowed(enum zc_journal_state from, enum zc_journal_state to)
{
	if (!zc_journal_state_unfinished(from)) {
		return false;
	}
	switch (to) {
	case ZC_JOURNAL_SENT:
	case ZC_JOURNAL_DONE:
	case ZC_JOURNAL_FAILED:
	case ZC_JOURNAL_CONFLICT:
	case ZC_JOURNAL_SUPERSEDED:
		return true;
	case ZC_JOURNAL_PENDING:
	default:
		return false;
	}
}

int zc_store_journal_set_state(struct zc_store *st, int64_t id, enum zc_journal_state from,
			       enum zc_journal_state to, int rcode, const char *error,
			       const char *target)
{
	int r;

	if (!st || id <= 0 || (unsigned)from > ZC_JOURNAL_SUPERSEDED ||
	    (unsigned)to > ZC_JOURNAL_SUPERSEDED || rcode < -1 || rcode > 4095) {
		return -EINVAL;
	}
	if (!transition_allowed(from, to)) {
		return -EINVAL;
	}
	r = error ? check_text(error) : 0;
	if (r == 0 && target) {
		r = check_name(target);
	}
	if (r < 0) {
		return r;
	}
	return STORE_LOCKED(st, st->ops->journal_set_state(st, id, from, to, rcode, error, target,
							   now_s()));
}

int zc_store_journal_get(struct zc_store *st, int64_t id, struct zc_journal_entry *ret)
{
	if (!st || id <= 0 || !ret) {
		return -EINVAL;
	}
	return STORE_LOCKED(st, st->ops->journal_get(st, id, ret));
}

int zc_store_journal_find_unfinished(struct zc_store *st, const char *child,
				     struct zc_journal_entry *ret)
{
	int r;

	if (!st || !ret) {
		return -EINVAL;
	}
	r = check_name(child);
	if (r < 0) {
		return r;
	}
	return STORE_LOCKED(st, st->ops->journal_find_unfinished(st, child, ret));
}

int zc_store_journal_list(struct zc_store *st, bool unfinished_only, const char *parent,
			  size_t max, struct zc_journal_entry **ret_v, size_t *ret_n)
{
	int r;

	if (!st || !ret_v || !ret_n) {
		return -EINVAL;
	}
	r = parent ? check_name(parent) : 0;
	if (r < 0) {
		return r;
	}
	if (max == 0 || max > ZC_STORE_MAX_LIST) {
		max = ZC_STORE_MAX_LIST;
	}
	return STORE_LOCKED(st, st->ops->journal_list(st, unfinished_only, parent, max, ret_v, ret_n));
}

int zc_store_observe(struct zc_store *st, const char *child, const char *fingerprint,
		     int64_t now, struct zc_observation *ret)
{
	int r;

	if (!st || !fingerprint || !*fingerprint) {
		return -EINVAL;
	}
	r = check_name(child);
	if (r == 0) {
		r = check_text(fingerprint);
	}
	if (r < 0) {
		return r;
	}
	return STORE_LOCKED(st, st->ops->observe(st, child, fingerprint, now, ret));
}

int zc_store_observe_clear(struct zc_store *st, const char *child)
{
	int r;

	if (!st) {
		return -EINVAL;
	}
	r = check_name(child);
	if (r < 0) {
		return r;
	}
	return STORE_LOCKED(st, st->ops->observe_clear(st, child));
}

int zc_store_server_failure(struct zc_store *st, const char *child, const char *server,
			    int64_t now, int64_t *ret_next_retry, uint32_t *ret_failures)
{
	int r;

	if (!st) {
		return -EINVAL;
	}
	r = check_name(child);
	if (r == 0) {
		r = check_name(server);
	}
	if (r < 0) {
		return r;
	}
	return STORE_LOCKED(st, st->ops->server_failure(st, child, server, now, ret_next_retry,
							ret_failures));
}

int zc_store_server_success(struct zc_store *st, const char *child, const char *server)
{
	int r;

	if (!st) {
		return -EINVAL;
	}
	r = check_name(child);
	if (r == 0) {
		r = check_name(server);
	}
	if (r < 0) {
		return r;
	}
	return STORE_LOCKED(st, st->ops->server_success(st, child, server));
}

int zc_store_servers_backing_off(struct zc_store *st, const char *child, unsigned *ret_count)
{
	int r;

	if (!st || !ret_count) {
		return -EINVAL;
	}
	r = check_name(child);
	if (r < 0) {
		return r;
	}
	return STORE_LOCKED(st, st->ops->servers_backing_off(st, child, ret_count));
}

int zc_store_server_next_retry(struct zc_store *st, const char *child, const char *server,
			       int64_t *ret_next_retry, uint32_t *ret_failures)
{
	int r;

	if (!st) {
		return -EINVAL;
	}
	r = check_name(child);
	if (r == 0) {
		r = check_name(server);
	}
	if (r < 0) {
		return r;
	}
	return STORE_LOCKED(st, st->ops->server_get(st, child, server, ret_next_retry, ret_failures));
}

/* --- multi-signer controller ---------------------------------------------- */

void zc_signer_rows_free(struct zc_signer_row *v, size_t n)
{
	if (!v) {
		return;
	}
	for (size_t i = 0; i < n; i++) {
		free(v[i].name);
		free(v[i].spec);
	}
	free(v);
}

void zc_group_row_release(struct zc_group_row *r)
{
	if (!r) {
		return;
	}
	free(r->zone);
	free(r->spec);
	free(r->members);
	free(r->proc_kind);
	free(r->proc_signer);
	free(r->proc_step);
	free(r->proc_status);
	free(r->proc_wait);
	free(r->proc_data);
	free(r->proc_error);
	r->zone = r->spec = r->members = r->proc_kind = r->proc_signer = r->proc_step = NULL;
	r->proc_status = r->proc_wait = r->proc_data = r->proc_error = NULL;
}

void zc_group_rows_free(struct zc_group_row *v, size_t n)
{
	if (!v) {
		return;
	}
	for (size_t i = 0; i < n; i++) {
		zc_group_row_release(&v[i]);
	}
	free(v);
}

void zc_group_events_free(struct zc_group_event *v, size_t n)
{
	if (!v) {
		return;
	}
	for (size_t i = 0; i < n; i++) {
		free(v[i].zone);
		free(v[i].step);
		free(v[i].signer);
		free(v[i].action);
		free(v[i].detail);
	}
	free(v);
}

/* A text that may be NULL (stored as ""): bounded. */
static int check_opt_text(const char *s)
{
	return s ? check_text(s) : 0;
}

int zc_store_signer_put(struct zc_store *st, const char *name, const char *spec)
{
	int r;

	if (!st) {
		return -EINVAL;
	}
	r = check_name(name);
	if (r == 0) {
		r = check_text(spec);
	}
	if (r < 0) {
		return r;
	}
	return STORE_LOCKED(st, st->ops->signer_put(st, name, spec, now_s()));
}

int zc_store_signer_get(struct zc_store *st, const char *name, char **ret_spec)
{
	int r;

	if (!st || !ret_spec) {
		return -EINVAL;
	}
	r = check_name(name);
	if (r < 0) {
		return r;
	}
	return STORE_LOCKED(st, st->ops->signer_get(st, name, ret_spec));
}

int zc_store_signer_list(struct zc_store *st, struct zc_signer_row **ret_v, size_t *ret_n)
{
	if (!st || !ret_v || !ret_n) {
		return -EINVAL;
	}
	return STORE_LOCKED(st, st->ops->signer_list(st, ret_v, ret_n));
}

int zc_store_signer_delete(struct zc_store *st, const char *name)
{
	int r;

	if (!st) {
		return -EINVAL;
	}
	r = check_name(name);
	if (r < 0) {
		return r;
	}
	return STORE_LOCKED(st, st->ops->signer_delete(st, name));
}

/* Every text of a group row within bounds (NULL allowed: stored as ""). */
static int check_group_row(const struct zc_group_row *r)
{
	const char *texts[] = { r->spec,       r->members,   r->proc_kind, r->proc_signer,
				r->proc_step,  r->proc_status, r->proc_wait, r->proc_data,
				r->proc_error };
	int e = check_name(r->zone);

	for (size_t i = 0; e == 0 && i < ZC_ARRAY_SIZE(texts); i++) {
		e = check_opt_text(texts[i]);
	}
	return e;
}

int zc_store_group_add(struct zc_store *st, const struct zc_group_row *r)
{
	int e;

	if (!st || !r) {
		return -EINVAL;
	}
	e = check_group_row(r);
	if (e < 0) {
		return e;
	}
	return STORE_LOCKED(st, st->ops->group_add(st, r, now_s()));
}

int zc_store_group_get(struct zc_store *st, const char *zone, struct zc_group_row *ret)
{
	int r;

	if (!st || !ret) {
		return -EINVAL;
	}
	r = check_name(zone);
	if (r < 0) {
		return r;
	}
	return STORE_LOCKED(st, st->ops->group_get(st, zone, ret));
}

int zc_store_group_list(struct zc_store *st, struct zc_group_row **ret_v, size_t *ret_n)
{
	if (!st || !ret_v || !ret_n) {
		return -EINVAL;
	}
	return STORE_LOCKED(st, st->ops->group_list(st, ret_v, ret_n));
}

int zc_store_group_update(struct zc_store *st, struct zc_group_row *r)
{
	int e;

	if (!st || !r || r->version <= 0) {
		return -EINVAL;
	}
	e = check_group_row(r);
	if (e < 0) {
		return e;
	}
	return STORE_LOCKED(st, st->ops->group_update(st, r, now_s()));
}

int zc_store_group_delete(struct zc_store *st, const char *zone)
{
	int r;

	if (!st) {
		return -EINVAL;
	}
	r = check_name(zone);
	if (r < 0) {
		return r;
	}
	return STORE_LOCKED(st, st->ops->group_delete(st, zone));
}

int zc_store_group_event_add(struct zc_store *st, const struct zc_group_event *e,
			     int64_t *ret_id)
{
	int r;

	if (!st || !e) {
		return -EINVAL;
	}
	r = check_name(e->zone);
	if (r == 0) {
		r = check_opt_text(e->step);
	}
	if (r == 0) {
		r = check_opt_text(e->signer);
	}
	if (r == 0) {
		r = check_opt_text(e->action);
	}
	if (r == 0) {
		r = check_opt_text(e->detail);
	}
	if (r < 0) {
		return r;
	}
	return STORE_LOCKED(st, st->ops->event_add(st, e, ret_id));
}

int zc_store_group_event_list(struct zc_store *st, const char *zone, int64_t proc_id, size_t max,
			      struct zc_group_event **ret_v, size_t *ret_n)
{
	int r;

	if (!st || !ret_v || !ret_n || proc_id < 0) {
		return -EINVAL;
	}
	r = check_name(zone);
	if (r < 0) {
		return r;
	}
	if (max == 0 || max > ZC_STORE_MAX_LIST) {
		max = ZC_STORE_MAX_LIST;
	}
	return STORE_LOCKED(st, st->ops->event_list(st, zone, proc_id, max, ret_v, ret_n));
}
