/* SPDX-License-Identifier: MIT */
/*
 * The multi-signer controller: configuration kept in the store, and the
 * processes (join, leave, sync, rollovers) as explicit state machines. One row
 * of the store holds a zone's group and the state of its process; every step
 * boundary, every
 * wait deadline and every key pushed to a signer is written there (compare-and-
 * set) before the next thing happens, so that a controller killed at any point
 * resumes exactly where it stood: writes are record-level and idempotent, each
 * step first reads what the signers serve and sends only what is missing, and a
 * deadline once recorded is kept.
 *
 * Steps (RFC 8901 §8; draft-ietf-dnsop-dnssec-automation §5):
 *  join N:  check, dnskey (every ZSK/CSK everywhere), dnskey-wait (DNSKEY-Wait),
 *           cds (CDS/CDNSKEY of every KSK/CSK everywhere), ds (the parent's DS
 *           set names exactly those keys), ds-wait (DS-Wait), ns (NS union, CSYNC
 *           when the parent differs), parent-ns, csync-remove, ns-wait (NS-Wait).
 *  leave L: check, ns (L's NS out everywhere, L included; CSYNC), parent-ns,
 *           csync-remove, ns-wait, cds (without L's keys), ds, ds-wait, dnskey
 *           (L's ZSK/CSK out), dnskey-wait, cleanup.
 *  sync:    join's steps without a new member.
 *  roll-zsk S: check, publish (S's keys-command), dnskey, dnskey-wait, activate,
 *           sig-wait (Signature-Wait), remove, dnskey-clean.
 *  roll-ksk S: check, publish, cds, ds, ds-wait, activate, remove, dnskey-wait,
 *           cds-clean, ds-clean (double-DS).
 *  roll-csk S: both; see the rollover section below.
 * Every step after a write first checks that the signers still publish what was
 * written and read back before: a signer that dropped it stops the process.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include <zonecut/apply.h>

#include "signers/internal.h"

/* What a step function returns (negative: a store error, the pass stops). */
enum { S_NEXT = 0, S_WAIT = 1, S_STOP = 2 };

/* Invariants a step checks first: what earlier steps wrote must still be there. */
enum { V_DNSKEY = 1 << 0, V_CDS = 1 << 1, V_NS = 1 << 2 };

struct run;

struct step_def {
	const char *name;
	int (*fn)(struct run *r);
	unsigned verify;
};

struct proc_def {
	enum zc_signers_proc kind;
	const struct step_def *steps;
};

/* A zone's working set during one pass. */
struct run {
	struct zc_signers *c;
	struct zc_group_row row;
	struct zc_signer_zone *zone;
	ldns_rdf *apex;
	struct sgn_group group;
	struct zc_signer *cfg[ZC_SIGNERS_MAX_GROUP]; /* same index as group.m */
	struct sgn_view view[ZC_SIGNERS_MAX_GROUP];
	bool have_view[ZC_SIGNERS_MAX_GROUP];
	struct sgn_parent parent;
	bool have_parent;
	const struct proc_def *proc;
	const struct step_def *step;
	struct sgn_set set; /* what model.c sees of the above */
	ldns_rr_list *extra; /* roll-csk: the old and new CSKs count as zone keys */
};

static const char *const proc_names[] = {
	[ZC_PROC_JOIN] = "join",	 [ZC_PROC_LEAVE] = "leave",
	[ZC_PROC_SYNC] = "sync",	 [ZC_PROC_ROLL_ZSK] = "roll-zsk",
	[ZC_PROC_ROLL_KSK] = "roll-ksk", [ZC_PROC_ROLL_CSK] = "roll-csk",
};

const char *zc_signers_proc_str(enum zc_signers_proc p)
{
	return (unsigned)p < ZC_ARRAY_SIZE(proc_names) ? proc_names[p] : "?";
}

int zc_signers_proc_parse(const char *s, enum zc_signers_proc *ret)
{
	if (!s || !ret) {
		return -EINVAL;
	}
	for (size_t i = 0; i < ZC_ARRAY_SIZE(proc_names); i++) {
		if (strcmp(s, proc_names[i]) == 0) {
			*ret = (enum zc_signers_proc)i;
			return 0;
		}
	}
	return -EINVAL;
}

static bool unfinished(const char *status)
{
	return strcmp(status, "running") == 0 || strcmp(status, "waiting") == 0 ||
	       strcmp(status, "stopped") == 0;
}

void sgn_seterr(struct zc_signers *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->err, sizeof(c->err), fmt, ap);
	va_end(ap);
}

/* --- the controller object ------------------------------------------------------ */

int zc_signers_new(struct zc_ctx *ctx, struct zc_store *st, const struct zc_signers_opts *opts,
		   struct zc_signers **ret)
{
	struct zc_signers *c;

	if (!st || !ret) {
		return -EINVAL;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		return -ENOMEM;
	}
	c->ctx = ctx;
	c->st = st;
	if (opts) {
		c->o = *opts;
	}
	if (!c->o.timeout_ms) {
		c->o.timeout_ms = SGN_DEFAULT_TIMEOUT_MS;
	}
	if (!c->o.readback_timeout_ms) {
		c->o.readback_timeout_ms = SGN_DEFAULT_READBACK_MS;
	}
	if (!c->o.retry_s) {
		c->o.retry_s = SGN_DEFAULT_RETRY_S;
	}
	c->io = &sgn_io_real;
	c->io_ud = c;
	*ret = c;
	return 0;
}

void zc_signers_free(struct zc_signers *c)
{
	if (!c) {
		return;
	}
	sgn_ns_cache_clear(c);
	sgn_dns_free(c);
	free(c);
}

const char *zc_signers_last_error(const struct zc_signers *c)
{
	return c ? c->err : "";
}

void zc_signers_set_io(struct zc_signers *c, const struct sgn_io *io, void *ud)
{
	c->io = io ? io : &sgn_io_real;
	c->io_ud = io ? ud : c;
	sgn_ns_cache_clear(c);
}

/* --- configuration ------------------------------------------------------------------ */

static int load_signer(struct zc_signers *c, const char *name, struct zc_signer **ret)
{
	char *spec = NULL;
	char err[SGN_ERR_LEN] = "";
	int r = zc_store_signer_get(c->st, name, &spec);

	if (r == ZC_ENOTFOUND) {
		sgn_seterr(c, "signer '%s' is not configured", name);
		return r;
	}
	if (r < 0) {
		sgn_seterr(c, "signer '%s' cannot be read from the store (%s)", name, zc_strerror(r));
		return r;
	}
	r = zc_signer_parse(spec, ret, err, sizeof(err));
	free(spec);
	if (r < 0) {
		sgn_seterr(c, "signer '%s' in the store is not valid (%s)", name, err);
		return r == -ENOMEM ? r : ZC_ESTORE;
	}
	return 0;
}

int zc_signers_signer_add(struct zc_signers *c, const struct zc_signer *s, bool replace)
{
	char *spec = NULL, *old = NULL;
	int r;

	if (!c || !s) {
		return -EINVAL;
	}
	c->err[0] = '\0';
	r = zc_signer_format(s, false, &spec);
	if (r < 0) {
		return r;
	}
	if (!replace) {
		r = zc_store_signer_get(c->st, s->name, &old);
		free(old);
		if (r == 0) {
			sgn_seterr(c, "signer '%s' exists (replace it to change it)", s->name);
			free(spec);
			return -EEXIST;
		}
		if (r != ZC_ENOTFOUND) {
			free(spec);
			return r;
		}
	}
	r = zc_store_signer_put(c->st, s->name, spec);
	free(spec);
	return r;
}

int zc_signers_signer_get(struct zc_signers *c, const char *name, struct zc_signer **ret)
{
	if (!c || !name || !ret) {
		return -EINVAL;
	}
	c->err[0] = '\0';
	return load_signer(c, name, ret);
}

int zc_signers_signer_list(struct zc_signers *c, struct zc_signer ***ret_v, size_t *ret_n)
{
	struct zc_signer_row *rows = NULL;
	struct zc_signer **v = NULL;
	size_t n = 0, k = 0;
	int r;

	if (!c || !ret_v || !ret_n) {
		return -EINVAL;
	}
	c->err[0] = '\0';
	r = zc_store_signer_list(c->st, &rows, &n);
	if (r < 0) {
		return r;
	}
	if (n > 0) {
		v = calloc(n, sizeof(*v));
		r = v ? 0 : -ENOMEM;
	}
	for (; r == 0 && k < n; k++) {
		char err[SGN_ERR_LEN] = "";

		r = zc_signer_parse(rows[k].spec, &v[k], err, sizeof(err));
		if (r < 0) {
			sgn_seterr(c, "signer '%s' in the store is not valid (%s)", rows[k].name, err);
			r = r == -ENOMEM ? r : ZC_ESTORE;
		}
	}
	zc_signer_rows_free(rows, n);
	if (r < 0) {
		for (size_t i = 0; v && i < n; i++) {
			zc_signer_free(v[i]);
		}
		free(v);
		return r;
	}
	*ret_v = v;
	*ret_n = n;
	return 0;
}

int zc_signers_signer_remove(struct zc_signers *c, const char *name)
{
	struct zc_group_row *rows = NULL;
	size_t n = 0;
	int r;

	if (!c || !name) {
		return -EINVAL;
	}
	c->err[0] = '\0';
	r = zc_store_group_list(c->st, &rows, &n);
	for (size_t i = 0; r == 0 && i < n; i++) {
		struct sgn_group g;

		r = sgn_group_parse(rows[i].members, rows[i].zone, &g);
		if (r == 0 && sgn_group_find(&g, name)) {
			sgn_seterr(c, "signer '%s' is in the group of zone '%s' (leave first)", name,
				   rows[i].zone);
			r = -EBUSY;
		}
		if (r == 0 && unfinished(rows[i].proc_status) &&
		    strcmp(rows[i].proc_signer, name) == 0) {
			sgn_seterr(c, "signer '%s' is the subject of the unfinished %s of zone '%s'",
				   name, rows[i].proc_kind, rows[i].zone);
			r = -EBUSY;
		}
		sgn_group_release(&g);
	}
	zc_group_rows_free(rows, n);
	if (r < 0) {
		return r;
	}
	r = zc_store_signer_delete(c->st, name);
	if (r == ZC_ENOTFOUND) {
		sgn_seterr(c, "signer '%s' is not configured", name);
	}
	return r;
}

int zc_signers_zone_add(struct zc_signers *c, const struct zc_signer_zone *z, bool replace)
{
	struct zc_group_row row = { 0 };
	struct sgn_group g = { .n = 0 };
	char *spec = NULL, *members = NULL;
	int r;

	if (!c || !z || !z->zone) {
		return -EINVAL;
	}
	c->err[0] = '\0';
	r = zc_signer_zone_format(z, false, &spec);
	if (r < 0) {
		return r;
	}
	r = zc_store_group_get(c->st, z->zone, &row);
	if (r == 0) {
		if (!replace) {
			sgn_seterr(c, "zone '%s' exists (replace it to change its configuration)",
				   z->zone);
			r = -EEXIST;
		} else {
			/* a new configuration; the group and the process stay */
			free(row.spec);
			row.spec = spec;
			spec = NULL;
			r = zc_store_group_update(c->st, &row);
		}
		goto out;
	}
	if (r != ZC_ENOTFOUND) {
		goto out;
	}
	r = 0;
	for (unsigned i = 0; r == 0 && i < z->n_signers; i++) {
		struct zc_signer *s = NULL;

		r = load_signer(c, z->signers[i], &s);
		zc_signer_free(s);
		if (r == 0) {
			r = sgn_group_add(&g, z->signers[i], SGN_ACTIVE);
		}
	}
	if (r == 0) {
		r = sgn_group_format(&g, &members);
	}
	if (r == 0) {
		struct zc_group_row nr = { .zone = z->zone, .spec = spec, .members = members };

		r = zc_store_group_add(c->st, &nr);
	}
out:
	zc_group_row_release(&row);
	sgn_group_release(&g);
	free(spec);
	free(members);
	return r;
}

int zc_signers_zone_remove(struct zc_signers *c, const char *zone)
{
	struct zc_group_row row;
	ldns_rdf *apex = NULL;
	char name[ZC_DNS_MAX_NAME_TEXT];
	int r;

	if (!c || !zone) {
		return -EINVAL;
	}
	c->err[0] = '\0';
	if (zc_name_from_str(zone, &apex) < 0 || zc_name_to_str(apex, name, sizeof(name)) < 0) {
		ldns_rdf_deep_free(apex);
		sgn_seterr(c, "'%s' is not a domain name", zone);
		return -EINVAL;
	}
	ldns_rdf_deep_free(apex);
	r = zc_store_group_get(c->st, name, &row);
	if (r == ZC_ENOTFOUND) {
		sgn_seterr(c, "zone '%s' is not run by the controller", name);
	}
	if (r < 0) {
		return r;
	}
	if (unfinished(row.proc_status)) {
		sgn_seterr(c, "zone '%s' has an unfinished %s (abort it first)", name, row.proc_kind);
		r = -EBUSY;
	}
	zc_group_row_release(&row);
	return r < 0 ? r : zc_store_group_delete(c->st, name);
}

int zc_signers_zone_list(struct zc_signers *c, struct zc_signer_zone ***ret_v, size_t *ret_n)
{
	struct zc_group_row *rows = NULL;
	struct zc_signer_zone **v = NULL;
	size_t n = 0;
	int r;

	if (!c || !ret_v || !ret_n) {
		return -EINVAL;
	}
	c->err[0] = '\0';
	r = zc_store_group_list(c->st, &rows, &n);
	if (r == 0 && n > 0) {
		v = calloc(n, sizeof(*v));
		r = v ? 0 : -ENOMEM;
	}
	for (size_t i = 0; r == 0 && i < n; i++) {
		struct sgn_group g;
		char err[SGN_ERR_LEN] = "";

		r = zc_signer_zone_parse(rows[i].spec[0] ? rows[i].spec : rows[i].zone, &v[i], err,
					 sizeof(err));
		if (r < 0) {
			sgn_seterr(c, "zone '%s' in the store is not valid (%s)", rows[i].zone, err);
			r = r == -ENOMEM ? r : ZC_ESTORE;
			break;
		}
		r = sgn_group_parse(rows[i].members, rows[i].zone, &g);
		for (unsigned k = 0; r == 0 && k < g.n; k++) {
			v[i]->signers[k] = strdup(g.m[k].name);
			r = v[i]->signers[k] ? 0 : -ENOMEM;
			v[i]->n_signers = k + 1;
		}
		sgn_group_release(&g);
	}
	zc_group_rows_free(rows, n);
	if (r < 0) {
		for (size_t i = 0; v && i < n; i++) {
			zc_signer_zone_free(v[i]);
		}
		free(v);
		return r;
	}
	*ret_v = v;
	*ret_n = n;
	return 0;
}

/* --- a pass over one zone: loading, saving, events --------------------------------- */

static void run_release(struct run *r)
{
	zc_group_row_release(&r->row);
	zc_signer_zone_free(r->zone);
	ldns_rdf_deep_free(r->apex);
	for (unsigned i = 0; i < ZC_SIGNERS_MAX_GROUP; i++) {
		zc_signer_free(r->cfg[i]);
		sgn_view_release(&r->view[i]);
	}
	sgn_group_release(&r->group);
	sgn_parent_release(&r->parent);
	ldns_rr_list_deep_free(r->extra);
}

static int64_t now_s(const struct run *r)
{
	return r->c->io->now(r->c->io_ud);
}

/* Writes the row (group included), compare-and-set. -ESTALE: another controller. */
static int save(struct run *r)
{
	char *members = NULL;
	int e = sgn_group_format(&r->group, &members);

	if (e < 0) {
		return e;
	}
	free(r->row.members);
	r->row.members = members;
	e = zc_store_group_update(r->c->st, &r->row);
	if (e == -ESTALE) {
		zc_log(r->c->ctx, ZC_LOG_WARNING,
		       "zone '%s', the store changed under this pass (another controller?): "
		       "leaving the zone to it",
		       r->row.zone);
	}
	return e;
}

/* Appends an event about the process of @row to the store's log. */
static int row_event(struct zc_signers *c, const struct zc_group_row *row, const char *signer,
		     const char *action, const char *fmt, va_list ap) ZC_PRINTF(5, 0);
static int row_event(struct zc_signers *c, const struct zc_group_row *row, const char *signer,
		     const char *action, const char *fmt, va_list ap)
{
	char detail[2048];
	struct zc_group_event e = {
		.zone = row->zone,
		.proc_id = row->proc_id,
		.at = c->io->now(c->io_ud),
		.step = row->proc_step,
		/* the store only reads these */
		.signer = (char *)(signer ? signer : ""),
		.action = (char *)action,
		.detail = detail,
	};

	vsnprintf(detail, sizeof(detail), fmt, ap);
	return zc_store_group_event_add(c->st, &e, NULL);
}

static int event(struct run *r, const char *signer, const char *action, const char *fmt, ...)
	ZC_PRINTF(4, 5);
static int event(struct run *r, const char *signer, const char *action, const char *fmt, ...)
{
	va_list ap;
	int e;

	va_start(ap, fmt);
	e = row_event(r->c, &r->row, signer, action, fmt, ap);
	va_end(ap);
	return e;
}

static int cevent(struct zc_signers *c, const struct zc_group_row *row, const char *signer,
		  const char *action, const char *fmt, ...) ZC_PRINTF(5, 6);
static int cevent(struct zc_signers *c, const struct zc_group_row *row, const char *signer,
		  const char *action, const char *fmt, ...)
{
	va_list ap;
	int e;

	va_start(ap, fmt);
	e = row_event(c, row, signer, action, fmt, ap);
	va_end(ap);
	return e;
}

/* Calls the hook with "KIND/STEP/WHAT[/SIGNER]". */
static void hook_at(struct run *r, const char *step, const char *what, const char *signer)
{
	char point[256];

	if (!r->c->o.hook) {
		return;
	}
	snprintf(point, sizeof(point), "%s/%s/%s%s%s", r->row.proc_kind, step, what,
		 signer ? "/" : "", signer ? signer : "");
	r->c->o.hook(r->c->o.hook_userdata, point);
}

static void hook(struct run *r, const char *what, const char *signer)
{
	hook_at(r, r->row.proc_step, what, signer);
}

/* sgn_write() calls this once the change has left (answered or not). */
static void hook_sent(void *ud, const struct zc_signer *s)
{
	hook(ud, "after-send", s->name);
}

static int set_text(char **field, const char *text)
{
	char *c = strdup(text);

	if (!c) {
		return -ENOMEM;
	}
	free(*field);
	*field = c;
	return 0;
}

/* The process stops: the operator must look. */
static int stop(struct run *r, const char *signer, const char *fmt, ...) ZC_PRINTF(3, 4);
static int stop(struct run *r, const char *signer, const char *fmt, ...)
{
	char msg[SGN_ERR_LEN];
	va_list ap;
	int e;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	zc_log(r->c->ctx, ZC_LOG_ERR, "zone '%s', %s stopped at step %s (%s)", r->row.zone,
	       r->row.proc_kind, r->row.proc_step, msg);
	if (set_text(&r->row.proc_status, "stopped") < 0 || set_text(&r->row.proc_error, msg) < 0 ||
	    set_text(&r->row.proc_wait, "") < 0) {
		return -ENOMEM;
	}
	r->row.proc_deadline = 0;
	e = save(r);
	if (e == 0) {
		e = event(r, signer, "stopped", "%s", msg);
	}
	return e < 0 ? e : S_STOP;
}

/* A transient failure: the step is tried again after retry_s. */
static int retry(struct run *r, const char *signer, const char *fmt, ...) ZC_PRINTF(3, 4);
static int retry(struct run *r, const char *signer, const char *fmt, ...)
{
	char msg[SGN_ERR_LEN];
	bool again;
	va_list ap;
	int e;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	again = strcmp(r->row.proc_error, msg) == 0;
	zc_log(r->c->ctx, again ? ZC_LOG_INFO : ZC_LOG_WARNING,
	       "zone '%s', %s step %s: %s; trying again in %us", r->row.zone, r->row.proc_kind,
	       r->row.proc_step, msg, r->c->o.retry_s);
	if (set_text(&r->row.proc_status, "waiting") < 0 || set_text(&r->row.proc_error, msg) < 0 ||
	    set_text(&r->row.proc_wait, "retry") < 0) {
		return -ENOMEM;
	}
	r->row.proc_deadline = now_s(r) + r->c->o.retry_s;
	e = save(r);
	if (e == 0 && !again) {
		e = event(r, signer, "retry", "%s", msg);
	}
	return e < 0 ? e : S_WAIT;
}

/* Waits until @deadline for what @fmt says; recorded once, kept across passes. */
static int wait_until(struct run *r, int64_t deadline, const char *fmt, ...) ZC_PRINTF(3, 4);
static int wait_until(struct run *r, int64_t deadline, const char *fmt, ...)
{
	char msg[SGN_ERR_LEN];
	va_list ap;
	bool changed;
	int e;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	changed = strcmp(r->row.proc_wait, msg) != 0 || r->row.proc_deadline != deadline ||
		  strcmp(r->row.proc_status, "waiting") != 0 || r->row.proc_error[0];
	if (!changed) {
		return S_WAIT;
	}
	if (set_text(&r->row.proc_status, "waiting") < 0 || set_text(&r->row.proc_wait, msg) < 0 ||
	    set_text(&r->row.proc_error, "") < 0) {
		return -ENOMEM;
	}
	r->row.proc_deadline = deadline;
	e = save(r);
	if (e < 0) {
		return e;
	}
	hook(r, "waiting", NULL);
	return S_WAIT;
}

/* --- the working set: configurations, views, targets -------------------------------- */

static bool participates(const struct run *r, unsigned i)
{
	return sgn_participates(&r->group, i);
}

static const struct sgn_set *set_of(struct run *r)
{
	r->set = (struct sgn_set){
		.zone = r->zone,
		.apex = r->apex,
		.group = &r->group,
		.cfg = r->cfg,
		.view = r->view,
		.parent_ds = r->have_parent ? r->parent.ds : NULL,
		.parent_ns = r->have_parent ? r->parent.ns : NULL,
		.zone_extra = r->extra,
	};
	return &r->set;
}

/* Reads what member @i serves (once per pass, again after a write). 0 or an error. */
static int need_view(struct run *r, unsigned i)
{
	if (r->have_view[i]) {
		return 0;
	}
	sgn_view_release(&r->view[i]);
	if (sgn_view_read(r->c, r->cfg[i], r->row.zone, &r->view[i]) < 0) {
		return r->view[i].status;
	}
	r->have_view[i] = true;
	return 0;
}

static void forget_view(struct run *r, unsigned i)
{
	r->have_view[i] = false;
}

/* Views of every participant; a failure is a retry. Returns 0, S_WAIT or an error. */
static int need_views(struct run *r)
{
	for (unsigned i = 0; i < r->group.n; i++) {
		if (participates(r, i) && need_view(r, i) < 0) {
			return retry(r, r->group.m[i].name, "%s", r->view[i].err);
		}
	}
	return 0;
}

static int need_parent(struct run *r)
{
	if (r->have_parent) {
		return 0;
	}
	sgn_parent_release(&r->parent);
	if (sgn_parent_read(r->c, r->zone, &r->parent) < 0) {
		return r->parent.status == ZC_ECONFIG ? stop(r, NULL, "%s", r->parent.err)
						      : retry(r, NULL, "%s", r->parent.err);
	}
	r->have_parent = true;
	return 0;
}

/* Key text "13/28071" of every record of @l into @buf. */
static void keys_str(const ldns_rr_list *l, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; l && i < ldns_rr_list_rr_count(l) && used + 2 < len; i++) {
		char k[32];

		sgn_key_str(ldns_rr_list_rr(l, i), k, sizeof(k));
		used += (size_t)snprintf(buf + used, len - used, "%s%s", i ? " " : "", k);
	}
	if (!buf[0]) {
		snprintf(buf, len, "none");
	}
}

/* --- writes with read-back -------------------------------------------------------- */

/*
 * Sends @add/@del to member @i and reads it back (sgn_write()). DNSKEY records
 * added are recorded as pushed before the change leaves (a crash right after must
 * not make them look like the signer's own), and removed from the record once
 * the removal is read back. With @best_effort (a leaving signer) failures are
 * only logged. Returns 0 (done, or nothing to do), S_WAIT/S_STOP (already
 * recorded), or an error.
 */
static int push(struct run *r, unsigned i, ldns_rr_list *add, ldns_rr_list *del, bool best_effort)
{
	struct sgn_member *m = &r->group.m[i];
	const char *name = m->name;
	struct sgn_write_result res;
	char *change;
	int e;

	if (ldns_rr_list_rr_count(add) == 0 && ldns_rr_list_rr_count(del) == 0) {
		return 0;
	}
	for (size_t k = 0; k < ldns_rr_list_rr_count(add); k++) {
		const ldns_rr *rr = ldns_rr_list_rr(add, k);

		if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_DNSKEY && !sgn_has_key(m->pushed, rr)) {
			ldns_rr *c = ldns_rr_clone(rr);

			if (!c || !ldns_rr_list_push_rr(m->pushed, c)) {
				ldns_rr_free(c);
				return -ENOMEM;
			}
		}
	}
	e = save(r);
	change = sgn_change_str(add, del);
	if (e == 0) {
		e = event(r, name, "update", "%s", change ? change : "?");
	}
	free(change);
	if (e < 0) {
		return e;
	}
	zc_log(r->c->ctx, ZC_LOG_NOTICE, "zone '%s', %s step %s: updating signer '%s' (+%zu -%zu)",
	       r->row.zone, r->row.proc_kind, r->row.proc_step, name, ldns_rr_list_rr_count(add),
	       ldns_rr_list_rr_count(del));
	hook(r, "before-send", name);
	e = sgn_write(r->c, r->cfg[i], r->row.zone, add, del, &res, hook_sent, r);
	forget_view(r, i);
	if (e < 0) {
		return e;
	}
	if (res.outcome != SGN_WRITE_OK) {
		if (best_effort) {
			zc_log(r->c->ctx, ZC_LOG_WARNING, "zone '%s', %s", r->row.zone, res.why);
			return event(r, name, "skipped", "%s (the signer is leaving)", res.why);
		}
		if (res.outcome == SGN_WRITE_TRANSIENT || res.outcome == SGN_WRITE_PARTIAL) {
			return retry(r, name, "%s", res.why);
		}
		return stop(r, name, "%s", res.why);
	}
	hook(r, "verified", name);
	for (size_t k = 0; k < ldns_rr_list_rr_count(del); k++) {
		const ldns_rr *rr = ldns_rr_list_rr(del, k);

		for (size_t j = 0; ldns_rr_get_type(rr) == LDNS_RR_TYPE_DNSKEY &&
				   j < ldns_rr_list_rr_count(m->pushed);
		     j++) {
			if (zc_key_equal(ldns_rr_list_rr(m->pushed, j), rr)) {
				ldns_rr_free(ldns_rr_list_rr(m->pushed, j));
				ldns_rr_list_set_rr(m->pushed, ldns_rr_list_rr(m->pushed,
									  ldns_rr_list_rr_count(m->pushed) - 1),
						    j);
				(void)ldns_rr_list_pop_rr(m->pushed);
				break;
			}
		}
	}
	e = save(r);
	if (e == 0) {
		e = event(r, name, "verified", "read back from %u server(s)", res.servers);
	}
	return e;
}

/* --- the changes each kind of step makes ------------------------------------------- */

/*
 * Checks the invariants of @mask on every participant: what earlier steps wrote
 * and read back is still served. Returns 0, S_STOP or an error.
 */
static int verify(struct run *r, const struct sgn_targets *t, unsigned mask)
{
	static const struct {
		unsigned bit;
		int what;
		const char *name;
	} inv[] = { { V_DNSKEY, SGN_W_DNSKEY, "DNSKEY" }, { V_CDS, SGN_W_CDS, "CDS/CDNSKEY" },
		    { V_NS, SGN_W_NS, "NS" } };

	for (unsigned i = 0; i < r->group.n; i++) {
		if (!participates(r, i)) {
			continue;
		}
		for (size_t k = 0; k < ZC_ARRAY_SIZE(inv); k++) {
			ldns_rr_list *add = NULL, *del = NULL;
			char *change;
			int e;

			if (!(mask & inv[k].bit)) {
				continue;
			}
			e = sgn_diff_for(set_of(r), t, i, inv[k].what, false, &add, &del);
			if (e < 0) {
				return e;
			}
			/* for NS, a CSYNC still there is no drift */
			for (size_t j = 0; inv[k].what == SGN_W_NS && j < ldns_rr_list_rr_count(del);) {
				if (ldns_rr_get_type(ldns_rr_list_rr(del, j)) == LDNS_RR_TYPE_CSYNC) {
					ldns_rr_free(ldns_rr_list_rr(del, j));
					ldns_rr_list_set_rr(del, ldns_rr_list_rr(del,
										 ldns_rr_list_rr_count(del) - 1),
							    j);
					(void)ldns_rr_list_pop_rr(del);
				} else {
					j++;
				}
			}
			if (ldns_rr_list_rr_count(add) == 0 && ldns_rr_list_rr_count(del) == 0) {
				ldns_rr_list_deep_free(add);
				ldns_rr_list_deep_free(del);
				continue;
			}
			change = sgn_change_str(add, del);
			ldns_rr_list_deep_free(add);
			ldns_rr_list_deep_free(del);
			e = stop(r, r->group.m[i].name,
				 "signer '%s' no longer serves the %s set it accepted and served "
				 "before (needed: %s): does it manage that set itself (Knot "
				 "dnskey-management: full, a signer's own rollover)?",
				 r->group.m[i].name, inv[k].name, change ? change : "?");
			free(change);
			return e;
		}
	}
	return 0;
}

/* Reads views (and the parent when @parent), computes targets, verifies the step's invariants. */
static int prepare(struct run *r, struct sgn_targets *t, bool parent)
{
	int e = need_views(r);

	memset(t, 0, sizeof(*t));
	if (e == 0 && parent) {
		e = need_parent(r);
	}
	if (e != 0) {
		return e;
	}
	e = sgn_targets_compute(set_of(r), t);
	if (e == ZC_ENOTSUP || e == ZC_EMALF) {
		return stop(r, NULL, "CDS cannot be computed for the group's keys (%s)",
			    zc_strerror(e));
	}
	if (e < 0) {
		return e;
	}
	return verify(r, t, r->step->verify);
}

/* One write step: @what on every participant (and on leaving ones, best effort, for NS). */
static int write_step(struct run *r, int what, bool parent)
{
	struct sgn_targets t;
	bool csync = false;
	int e = prepare(r, &t, parent);

	if (e != 0) {
		sgn_targets_release(&t);
		return e;
	}
	/* CSYNC goes with the new NS set only when the parent's differs (RFC 8901 §8). */
	csync = what == SGN_W_NS && !sgn_parent_ns_done(set_of(r), &t);
	for (unsigned i = 0; e == 0 && i < r->group.n; i++) {
		ldns_rr_list *add = NULL, *del = NULL;
		bool leaving = !participates(r, i);

		if (leaving && what != SGN_W_NS) {
			continue;
		}
		if (leaving) {
			/*
			 * RFC 8901 §8.2: the leaving signer drops its own NS too, with the
			 * same CSYNC as the others (the parent may ask any of them), if it
			 * still can.
			 */
			if (need_view(r, i) < 0) {
				e = event(r, r->group.m[i].name, "skipped", "%s", r->view[i].err);
				continue;
			}
		}
		e = sgn_diff_for(set_of(r), &t, i, what, csync, &add, &del);
		if (e == 0) {
			e = push(r, i, add, del, leaving);
		}
		ldns_rr_list_deep_free(add);
		ldns_rr_list_deep_free(del);
	}
	sgn_targets_release(&t);
	return e;
}

/* --- steps --------------------------------------------------------------------------- */

static int st_dnskey(struct run *r)
{
	return write_step(r, SGN_W_DNSKEY, false);
}

static int st_cds(struct run *r)
{
	return write_step(r, SGN_W_CDS, true);
}

static int st_ns(struct run *r)
{
	return write_step(r, SGN_W_NS, true);
}

static int st_csync_remove(struct run *r)
{
	struct sgn_targets t;
	int e = prepare(r, &t, false);

	for (unsigned i = 0; e == 0 && i < r->group.n; i++) {
		bool leaving = !participates(r, i);

		if (leaving && need_view(r, i) < 0) {
			continue; /* gone already: nothing to clean there */
		}
		if (ldns_rr_list_rr_count(r->view[i].csync) > 0) {
			e = push(r, i, NULL, r->view[i].csync, leaving);
		}
	}
	sgn_targets_release(&t);
	return e;
}

/* What a step keeps between passes: a small JSON object in the row. */
static json_t *data_load(const struct run *r)
{
	json_t *d = r->row.proc_data[0] ? json_loads(r->row.proc_data, 0, NULL) : NULL;

	return json_is_object(d) ? d : (json_decref(d), json_object());
}

static int data_store(struct run *r, json_t *d)
{
	char *text = json_dumps(d, JSON_COMPACT);

	if (!text) {
		return -ENOMEM;
	}
	free(r->row.proc_data);
	r->row.proc_data = text;
	return 0;
}

/*
 * A timed wait: the deadline and what it is for are computed once (@seconds,
 * @what), recorded, and kept: a pass after a crash waits for the same moment.
 * At the end, the step's invariants are checked once more.
 */
static int timed_wait(struct run *r, uint32_t seconds, const char *what)
{
	json_t *d = data_load(r);
	int64_t now = now_s(r), until;
	struct sgn_targets t;
	char text[SGN_ERR_LEN];
	int e;

	if (!d) {
		return -ENOMEM;
	}
	until = (int64_t)json_integer_value(json_object_get(d, "until"));
	snprintf(text, sizeof(text), "%s",
		 json_string_value(json_object_get(d, "what")) ? json_string_value(
									 json_object_get(d, "what"))
							       : "");
	if (until == 0) {
		until = now + seconds;
		snprintf(text, sizeof(text), "%s", what);
		e = json_object_set_new(d, "until", json_integer(until)) < 0 ||
				    json_object_set_new(d, "what", json_string(what)) < 0
			    ? -ENOMEM
			    : data_store(r, d);
		json_decref(d);
		if (e == 0) {
			e = event(r, NULL, "wait", "%s: %us, until %lld", what, seconds,
				  (long long)until);
		}
		if (e < 0) {
			return e;
		}
		zc_log(r->c->ctx, ZC_LOG_NOTICE, "zone '%s', %s: %s, waiting %us", r->row.zone,
		       r->row.proc_kind, what, seconds);
		return wait_until(r, until, "%s", text);
	}
	json_decref(d);
	if (now < until) {
		return wait_until(r, until, "%s", text);
	}
	/* At the end of the wait: is everything still as it was? */
	e = prepare(r, &t, false);
	sgn_targets_release(&t);
	return e;
}

/* The step's timed wait has begun (its deadline is recorded). */
static bool waiting_already(const struct run *r)
{
	json_t *d = data_load(r);
	bool begun = d && json_integer_value(json_object_get(d, "until")) != 0;

	json_decref(d);
	return begun;
}

static int st_dnskey_wait(struct run *r)
{
	char what[SGN_ERR_LEN];
	uint32_t ttl = 0;
	const char *who = "";
	int e;

	if (waiting_already(r)) {
		return timed_wait(r, 0, NULL);
	}
	e = need_views(r);
	if (e != 0) {
		return e;
	}
	for (unsigned i = 0; i < r->group.n; i++) {
		if (participates(r, i) && r->view[i].ttl_dnskey >= ttl) {
			ttl = r->view[i].ttl_dnskey;
			who = r->group.m[i].name;
		}
	}
	snprintf(what, sizeof(what),
		 "DNSKEY-Wait: largest DNSKEY TTL %us (signer %s) + propagation delay %us", ttl, who,
		 r->zone->propagation_delay_s);
	return timed_wait(r, ttl + r->zone->propagation_delay_s, what);
}

static int st_ds_wait(struct run *r)
{
	char what[SGN_ERR_LEN];
	int e;

	if (waiting_already(r)) {
		return timed_wait(r, 0, NULL);
	}
	e = need_parent(r);
	if (e != 0) {
		return e;
	}
	snprintf(what, sizeof(what), "DS-Wait: the parent's DS TTL %us", r->parent.ttl_ds);
	return timed_wait(r, r->parent.ttl_ds, what);
}

static int st_ns_wait(struct run *r)
{
	char what[SGN_ERR_LEN];
	uint32_t ttl;
	const char *who = "the parent";
	int e;

	if (waiting_already(r)) {
		return timed_wait(r, 0, NULL);
	}
	e = need_parent(r);
	if (e == 0) {
		e = need_views(r);
	}
	if (e != 0) {
		return e;
	}
	ttl = r->parent.ttl_ns;
	for (unsigned i = 0; i < r->group.n; i++) {
		if (participates(r, i) && r->view[i].ttl_ns > ttl) {
			ttl = r->view[i].ttl_ns;
			who = r->group.m[i].name;
		}
	}
	snprintf(what, sizeof(what), "NS-Wait: largest NS TTL %us (%s)", ttl, who);
	return timed_wait(r, ttl, what);
}

/* Polls the parent until @done; the wait text says what is missing. */
static int parent_poll(struct run *r, bool done, const char *fmt, ...) ZC_PRINTF(3, 4);
static int parent_poll(struct run *r, bool done, const char *fmt, ...)
{
	char msg[SGN_ERR_LEN];
	va_list ap;

	if (done) {
		return event(r, NULL, "parent", "the parent is in line");
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return wait_until(r, now_s(r) + r->c->o.retry_s, "%s", msg);
}

static int st_parent_ds(struct run *r)
{
	struct sgn_targets t;
	char want[1024], have[1024];
	int e = prepare(r, &t, true);

	if (e == 0) {
		keys_str(t.sep, want, sizeof(want));
		keys_str(r->parent.ds, have, sizeof(have));
		e = parent_poll(r, sgn_ds_names_exactly(r->parent.ds, t.sep),
				"the parent's DS set to name exactly the keys %s (it names %s)",
				want, have);
	}
	sgn_targets_release(&t);
	return e;
}

static int st_parent_ns(struct run *r)
{
	struct sgn_targets t;
	int e = prepare(r, &t, true);

	if (e == 0) {
		char want[1024] = "", have[1024] = "";
		size_t a = 0, b = 0;

		for (size_t k = 0; k < ldns_rr_list_rr_count(t.ns) && a + 2 < sizeof(want); k++) {
			char n[ZC_DNS_MAX_NAME_TEXT];

			zc_name_to_str(ldns_rr_rdf(ldns_rr_list_rr(t.ns, k), 0), n, sizeof(n));
			a += (size_t)snprintf(want + a, sizeof(want) - a, "%s%s", k ? " " : "", n);
		}
		for (size_t k = 0; k < ldns_rr_list_rr_count(r->parent.ns) && b + 2 < sizeof(have);
		     k++) {
			char n[ZC_DNS_MAX_NAME_TEXT];

			zc_name_to_str(ldns_rr_rdf(ldns_rr_list_rr(r->parent.ns, k), 0), n,
				       sizeof(n));
			b += (size_t)snprintf(have + b, sizeof(have) - b, "%s%s", k ? " " : "", n);
		}
		e = parent_poll(r, sgn_parent_ns_done(set_of(r), &t),
				"the parent's NS set to be %s (it is %s; CSYNC published)", want,
				have);
	}
	sgn_targets_release(&t);
	return e;
}

/* Prerequisites of RFC 8901 §4 and §8.1, refused up front with the reason. */
static int check_group(struct run *r)
{
	struct sgn_targets t;
	char why[SGN_ERR_LEN];
	const char *who = NULL;
	int e = prepare(r, &t, true);

	/* prepare() may itself say S_WAIT (1): only the check's own 1 is a refusal */
	if (e != 0) {
		sgn_targets_release(&t);
		return e;
	}
	e = sgn_check_group(set_of(r), &t, &who, why, sizeof(why));
	sgn_targets_release(&t);
	if (e == 1) {
		return stop(r, who, "%s", why);
	}
	return e;
}

static int member_index(const struct run *r, const char *name)
{
	for (unsigned i = 0; i < r->group.n; i++) {
		if (strcmp(r->group.m[i].name, name) == 0) {
			return (int)i;
		}
	}
	return -1;
}

static int st_check(struct run *r)
{
	int e = check_group(r);

	if (e == 0) {
		e = event(r, r->row.proc_signer[0] ? r->row.proc_signer : NULL, "checked",
			  "algorithms, key tags, keys and NS names of the group are fine");
	}
	return e;
}

static int st_done(struct run *r)
{
	int idx = member_index(r, r->row.proc_signer);

	if (r->proc->kind == ZC_PROC_JOIN && idx >= 0) {
		r->group.m[idx].state = SGN_ACTIVE;
	}
	return 0;
}

/*
 * leave: at the end, what the controller put at the leaving signer goes (best
 * effort: it may be gone), and it leaves the group.
 */
static int st_cleanup(struct run *r)
{
	int idx = member_index(r, r->row.proc_signer);
	int e = 0;

	if (idx >= 0 && need_view(r, (unsigned)idx) == 0) {
		ldns_rr_list *del = ldns_rr_list_new();

		for (size_t k = 0; del && k < ldns_rr_list_rr_count(r->view[idx].dnskey); k++) {
			const ldns_rr *rr = ldns_rr_list_rr(r->view[idx].dnskey, k);

			if (sgn_has_key(r->group.m[idx].pushed, rr)) {
				ldns_rr *c = ldns_rr_clone(rr);

				if (!c || !ldns_rr_list_push_rr(del, c)) {
					ldns_rr_free(c);
				}
			}
		}
		if (!del) {
			return -ENOMEM;
		}
		e = push(r, (unsigned)idx, NULL, del, true);
		ldns_rr_list_deep_free(del);
	} else if (idx >= 0) {
		e = event(r, r->row.proc_signer, "skipped", "%s", r->view[idx].err);
	}
	if (e < 0 || e == S_WAIT || e == S_STOP) {
		return e;
	}
	if (idx >= 0) {
		sgn_group_remove(&r->group, r->row.proc_signer);
		zc_signer_free(r->cfg[idx]);
		sgn_view_release(&r->view[idx]);
		memmove(&r->cfg[idx], &r->cfg[idx + 1],
			(ZC_SIGNERS_MAX_GROUP - (unsigned)idx - 1) * sizeof(r->cfg[0]));
		memmove(&r->view[idx], &r->view[idx + 1],
			(ZC_SIGNERS_MAX_GROUP - (unsigned)idx - 1) * sizeof(r->view[0]));
		memmove(&r->have_view[idx], &r->have_view[idx + 1],
			(ZC_SIGNERS_MAX_GROUP - (unsigned)idx - 1) * sizeof(r->have_view[0]));
		r->cfg[ZC_SIGNERS_MAX_GROUP - 1] = NULL;
		memset(&r->view[ZC_SIGNERS_MAX_GROUP - 1], 0, sizeof(r->view[0]));
		r->have_view[ZC_SIGNERS_MAX_GROUP - 1] = false;
	}
	return 0;
}

/* --- rollovers of one signer's keys ---------------------------------------------------- */

/*
 * A rollover of signer S's ZSK, KSK or CSK inside the group (RFC 8901 §7, §8;
 * RFC 6781 §4.1.1 pre-publish for ZSKs, §4.1.2 double-DS for KSKs; RFC 7583
 * for the intervals). DNS UPDATE and the PowerDNS API can publish keys a signer
 * does not own, but not make it create or sign with one: S's keys-command does
 * that (publish, activate, remove), and every effect is then read from what S
 * serves, as a write is read back. What the process keeps from step to step
 * (the old keys, the new ones, which command ran) is the "roll" member of the
 * process data:
 *   {"old": ["257 3 13 ..."], "new": [...], "ran": "publish"}
 * "ran" is recorded before the command starts and cleared once its effect is
 * seen or the process stops: after a crash the command is never run twice, its
 * effect is looked for instead.
 */

#define KEYS_CMD_TIMEOUT_MS 120000
#define KEYS_CMD_OUT_LEN 1024

static bool key_is_sep(const ldns_rr *key)
{
	const ldns_rdf *f = ldns_rr_rdf(key, 0);

	return f && ldns_rdf_size(f) == 2 && (ldns_read_uint16(ldns_rdf_data(f)) & 1);
}

static const char *roll_role(const struct run *r)
{
	switch (r->proc->kind) {
	case ZC_PROC_ROLL_ZSK:
		return "zsk";
	case ZC_PROC_ROLL_KSK:
		return "ksk";
	default:
		return "csk";
	}
}

/* The keys of the role being rolled that a view shows (sgn_own_keys() of member @i). */
static bool of_role(const struct run *r, unsigned i, const ldns_rr *key)
{
	unsigned soa = sgn_signed_by(&r->view[i], key, LDNS_RR_TYPE_SOA);

	switch (r->proc->kind) {
	case ZC_PROC_ROLL_ZSK:
		return !key_is_sep(key);
	case ZC_PROC_ROLL_KSK:
		return key_is_sep(key) && soa == 0;
	default:
		return key_is_sep(key) && soa > 0;
	}
}

/* A successor of the role: a new ZSK has no SEP flag, a new KSK or CSK has it. */
static bool successor_flags(const struct run *r, const ldns_rr *key)
{
	return key_is_sep(key) == (r->proc->kind != ZC_PROC_ROLL_ZSK);
}

static json_t *roll_obj(json_t *d)
{
	json_t *roll = json_object_get(d, "roll");

	if (!json_is_object(roll)) {
		roll = json_object();
		if (!roll || json_object_set_new(d, "roll", roll) < 0) {
			return NULL;
		}
	}
	return roll;
}

/* The keys recorded under roll.@field (DNSKEY records owned by the apex); NULL on ENOMEM. */
static ldns_rr_list *roll_keys(const struct run *r, const char *field)
{
	json_t *d = data_load(r), *v;
	ldns_rr_list *out = ldns_rr_list_new();
	size_t i;

	if (!d || !out) {
		json_decref(d);
		ldns_rr_list_free(out);
		return NULL;
	}
	json_array_foreach(json_object_get(json_object_get(d, "roll"), field), i, v) {
		char line[4096];
		ldns_rr *rr = NULL;

		if (!json_is_string(v)) {
			continue;
		}
		snprintf(line, sizeof(line), "@ 0 IN DNSKEY %s", json_string_value(v));
		if (zc_rr_from_str(line, 0, r->apex, &rr) == 0 && !ldns_rr_list_push_rr(out, rr)) {
			ldns_rr_free(rr);
		}
	}
	json_decref(d);
	return out;
}

/* roll-csk: the old and new CSKs count as zone keys while they are published. */
static int roll_refresh_extra(struct run *r)
{
	ldns_rr_list *old, *new;

	if (r->proc->kind != ZC_PROC_ROLL_CSK) {
		return 0;
	}
	old = roll_keys(r, "old");
	new = roll_keys(r, "new");
	if (!old || !new || sgn_append_copies(old, new) < 0) {
		ldns_rr_list_deep_free(old);
		ldns_rr_list_deep_free(new);
		return -ENOMEM;
	}
	ldns_rr_list_deep_free(new);
	ldns_rr_list_deep_free(r->extra);
	r->extra = old;
	return 0;
}

/* Records @keys under roll.@field (NULL @keys: the field goes) in the row (not saved yet). */
static int roll_set_keys(struct run *r, const char *field, const ldns_rr_list *keys)
{
	json_t *d = data_load(r), *roll = d ? roll_obj(d) : NULL, *arr = json_array();
	int e = d && roll && arr ? 0 : -ENOMEM;

	for (size_t i = 0; e == 0 && keys && i < ldns_rr_list_rr_count(keys); i++) {
		char *rd = sgn_rdata_str(ldns_rr_list_rr(keys, i));

		e = rd && json_array_append_new(arr, json_string(rd)) == 0 ? 0 : -ENOMEM;
		free(rd);
	}
	if (e == 0) {
		e = keys ? json_object_set(roll, field, arr) : json_object_del(roll, field);
		e = e < 0 && keys ? -ENOMEM : 0;
	}
	if (e == 0) {
		e = data_store(r, d);
	}
	json_decref(arr);
	json_decref(d);
	return e == 0 ? roll_refresh_extra(r) : e;
}

/* roll.ran: the keys-command action that ran and whose effect is not seen yet ("": none). */
static int roll_set_ran(struct run *r, const char *action)
{
	json_t *d = data_load(r), *roll = d ? roll_obj(d) : NULL;
	int e = d && roll ? 0 : -ENOMEM;

	if (e == 0) {
		e = json_object_set_new(roll, "ran", json_string(action)) < 0 ? -ENOMEM
									  : data_store(r, d);
	}
	json_decref(d);
	return e;
}

static bool roll_ran(const struct run *r, const char *action)
{
	json_t *d = data_load(r);
	const char *ran = json_string_value(json_object_get(json_object_get(d, "roll"), "ran"));
	bool yes = ran && strcmp(ran, action) == 0;

	json_decref(d);
	return yes;
}

/* The process data of the next step: the roll goes on, the rest is the step's own. */
static int roll_carry(struct run *r)
{
	json_t *d = data_load(r), *roll = d ? json_object_get(d, "roll") : NULL, *nd;
	char *text;

	if (!roll) {
		json_decref(d);
		return set_text(&r->row.proc_data, "");
	}
	nd = json_pack("{s:O}", "roll", roll);
	json_decref(d);
	text = nd ? json_dumps(nd, JSON_COMPACT) : NULL;
	json_decref(nd);
	if (!text) {
		return -ENOMEM;
	}
	free(r->row.proc_data);
	r->row.proc_data = text;
	return 0;
}

/* Own keys of member @i (copies) for which @keep says yes; NULL on ENOMEM. */
static ldns_rr_list *own_where(struct run *r, unsigned i,
			       bool (*keep)(const struct run *r, unsigned i, const ldns_rr *key,
					    const void *arg),
			       const void *arg)
{
	ldns_rr_list *own = sgn_own_keys(&r->view[i], r->group.m[i].pushed);
	ldns_rr_list *out = own ? ldns_rr_list_new() : NULL;

	for (size_t k = 0; out && k < ldns_rr_list_rr_count(own); k++) {
		const ldns_rr *key = ldns_rr_list_rr(own, k);
		ldns_rr *c;

		if (!keep(r, i, key, arg)) {
			continue;
		}
		c = ldns_rr_clone(key);
		if (!c || !ldns_rr_list_push_rr(out, c)) {
			ldns_rr_free(c);
			ldns_rr_list_deep_free(out);
			out = NULL;
		}
	}
	ldns_rr_list_deep_free(own);
	return out;
}

/* A key of the role being rolled (own_where()). */
static bool is_of_role(const struct run *r, unsigned i, const ldns_rr *key, const void *arg)
{
	(void)arg;
	return of_role(r, i, key);
}

/* A successor: the flags of the role, and not one of the old keys (@arg). */
static bool is_successor(const struct run *r, unsigned i, const ldns_rr *key, const void *arg)
{
	(void)i;
	return successor_flags(r, key) && !sgn_has_key(arg, key);
}

/* What an action must show at the signer (member @i), given the old and new keys. */
struct roll_ctx {
	unsigned i;
	const char *action;
	ldns_rr_list *old, *new;
};

/*
 * Is the effect of @x->action served by every server of the signer? Reads the
 * signer again. Returns 1 yes, 0 not (yet), or a negative view error (the
 * signer cannot be read, or its servers disagree).
 */
static int roll_effect(struct run *r, struct roll_ctx *x, char *what, size_t len)
{
	const struct sgn_view *v = &r->view[x->i];
	int e = need_view(r, x->i);

	if (e < 0) {
		snprintf(what, len, "%s", r->view[x->i].err);
		return e;
	}
	if (strcmp(x->action, "publish") == 0) {
		ldns_rr_list *n;

		n = own_where(r, x->i, is_successor, x->old);
		if (!n) {
			return -ENOMEM;
		}
		snprintf(what, len, "a new %s (one more key %s the SEP flag)", roll_role(r),
			 r->proc->kind == ZC_PROC_ROLL_ZSK ? "without" : "with");
		if (ldns_rr_list_rr_count(n) == 0) {
			ldns_rr_list_deep_free(n);
			return 0;
		}
		ldns_rr_list_deep_free(x->new);
		x->new = n;
		return 1;
	}
	if (strcmp(x->action, "activate") == 0) {
		/*
		 * The new key signs on every server: the SOA and the apex NS set (ZSK,
		 * CSK; the NS set seldom changes, so a signer that re-signs only what
		 * changed shows there that it has not re-signed its data yet) and the
		 * DNSKEY set (KSK, CSK). Signatures by an old ZSK or CSK may stay beside
		 * them (BIND drops them only with the key), the old key still being
		 * published. An old KSK must stop signing the DNSKEY set, though: a
		 * signer may sign it with a KSK it merely publishes (Knot does), so that
		 * alone tells the swap of RFC 6781 §4.1.2 from a pre-published key.
		 */
		bool zone = r->proc->kind != ZC_PROC_ROLL_KSK;
		bool sep = r->proc->kind != ZC_PROC_ROLL_ZSK;
		bool ok = ldns_rr_list_rr_count(x->new) > 0;

		snprintf(what, len, "RRSIGs by the new key over %s%s%s on every server%s",
			 zone ? "the SOA and the apex NS set" : "", zone && sep ? " and " : "",
			 sep ? "the DNSKEY set" : "",
			 zone ? "" : ", none by the old key over the DNSKEY set");
		for (size_t k = 0; k < ldns_rr_list_rr_count(x->new); k++) {
			const ldns_rr *key = ldns_rr_list_rr(x->new, k);

			ok = ok &&
			     (!zone || (sgn_signed_by(v, key, LDNS_RR_TYPE_SOA) == v->n_servers &&
					sgn_signed_by(v, key, LDNS_RR_TYPE_NS) == v->n_servers)) &&
			     (!sep || sgn_signed_by(v, key, LDNS_RR_TYPE_DNSKEY) == v->n_servers);
		}
		for (size_t k = 0; !zone && k < ldns_rr_list_rr_count(x->old); k++) {
			const ldns_rr *key = ldns_rr_list_rr(x->old, k);

			ok = ok && sgn_signed_by(v, key, LDNS_RR_TYPE_DNSKEY) == 0;
		}
		return ok;
	}
	/* remove */
	snprintf(what, len, "a DNSKEY set without the old %s", roll_role(r));
	for (size_t k = 0; k < ldns_rr_list_rr_count(x->old); k++) {
		if (sgn_has_key(v->dnskey, ldns_rr_list_rr(x->old, k))) {
			return 0;
		}
	}
	return 1;
}

/* "28071 5709" */
static void tags_str(const ldns_rr_list *l, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; l && i < ldns_rr_list_rr_count(l) && used + 8 < len; i++) {
		used += (size_t)snprintf(buf + used, len - used, "%s%u", i ? " " : "",
					 zc_key_tag(ldns_rr_list_rr(l, i)));
	}
}

/*
 * Reads the signer until the effect of @x->action shows on every server, for at
 * most readback_timeout_ms. Returns 1 (seen), 0 (not seen: @what says what is
 * missing), a view error, or -ENOMEM.
 */
static int roll_poll(struct run *r, struct roll_ctx *x, char *what, size_t len)
{
	uint64_t t0 = r->c->io->mono_ms(r->c->io_ud);
	int e;

	for (;;) {
		forget_view(r, x->i);
		e = roll_effect(r, x, what, len);
		if (e == 1 || e == -ENOMEM ||
		    r->c->io->mono_ms(r->c->io_ud) - t0 >= r->c->o.readback_timeout_ms) {
			return e;
		}
		r->c->io->sleep_ms(r->c->io_ud, 250);
	}
}

/*
 * Runs the keys-command of the signer for @x->action. Returns 0 (exit status
 * 0), S_STOP (recorded: it could not run, or failed) or an error.
 */
static int roll_command(struct run *r, struct roll_ctx *x, bool again)
{
	const struct zc_signer *s = r->cfg[x->i];
	const char *name = s->name;
	char out[KEYS_CMD_OUT_LEN] = "", why[SGN_ERR_LEN] = "", tags[256] = "";
	char tagbuf[8][8], *argv[4 + 8 + 1];
	int e, status = 0, argc = 0;

	argv[argc++] = s->keys_command;
	argv[argc++] = r->row.zone;
	argv[argc++] = (char *)x->action;
	argv[argc++] = (char *)roll_role(r);
	/* activate NEW... OLD...; remove OLD...; publish OLD... (for its information) */
	for (int pass = 0; pass < 2; pass++) {
		const ldns_rr_list *l = pass == 1 ? x->old
					: strcmp(x->action, "activate") == 0 ? x->new
									     : NULL;

		for (size_t k = 0; l && k < ldns_rr_list_rr_count(l) && argc < 4 + 8; k++) {
			snprintf(tagbuf[argc - 4], sizeof(tagbuf[0]), "%u",
				 zc_key_tag(ldns_rr_list_rr(l, k)));
			argv[argc] = tagbuf[argc - 4];
			argc++;
		}
	}
	argv[argc] = NULL;
	for (int k = 2; k < argc; k++) {
		size_t u = strlen(tags);

		snprintf(tags + u, sizeof(tags) - u, " %s", argv[k]);
	}
	/* record, then act: a pass after a crash looks for the effect before running it again */
	e = roll_set_ran(r, x->action);
	if (e == 0) {
		e = save(r);
	}
	if (e == 0) {
		e = event(r, name, "keys-command", "%s%s %s%s", again ? "again: " : "",
			  s->keys_command, r->row.zone, tags);
	}
	if (e < 0) {
		return e;
	}
	zc_log(r->c->ctx, ZC_LOG_NOTICE, "zone '%s', %s step %s: running %s %s%s", r->row.zone,
	       r->row.proc_kind, r->row.proc_step, s->keys_command, r->row.zone, tags);
	hook(r, "before-send", name);
	e = r->c->io->run ? r->c->io->run(r->c->io_ud, argv, KEYS_CMD_TIMEOUT_MS, &status, out,
					  sizeof(out), why, sizeof(why))
			  : ZC_ENOTSUP;
	hook(r, "after-send", name);
	if (e == 0 && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
		snprintf(why, sizeof(why), "%s %s %s: %s %d%s%s", s->keys_command, x->action,
			 roll_role(r), WIFEXITED(status) ? "exit status" : "killed by signal",
			 WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status),
			 out[0] ? ": " : "", out);
		e = -EIO;
	}
	if (e < 0) {
		if (roll_set_ran(r, "") < 0) {
			return -ENOMEM;
		}
		return stop(r, name, "keys-command of signer '%s' failed (%s)", name,
			    why[0] ? why : zc_strerror(e));
	}
	return event(r, name, "keys-command", "exit status 0%s%s", out[0] ? ": " : "", out);
}

/*
 * Makes the signer (member x->i) do @x->action: nothing when its effect is
 * served already; else its keys-command runs, and the signer is read until the
 * effect shows on every server, for at most readback_timeout_ms. The command is
 * recorded as run before it starts: a pass after a crash first looks for its
 * effect and runs it again (actions are idempotent, doc/signers.md) only when
 * the effect does not show. Returns 0 (seen), S_WAIT/S_STOP (recorded) or an
 * error.
 */
static int keys_action(struct run *r, struct roll_ctx *x)
{
	const char *name = r->cfg[x->i]->name;
	char what[SGN_ERR_LEN] = "";
	bool again = roll_ran(r, x->action);
	int e;

	e = again ? roll_poll(r, x, what, sizeof(what)) : roll_effect(r, x, what, sizeof(what));
	if (e < 0) {
		return e == -ENOMEM ? e : retry(r, name, "%s", what);
	}
	if (e == 1 && !again) {
		return event(r, name, "verified", "signer '%s' serves %s", name, what);
	}
	if (e == 0 && strcmp(r->cfg[x->i]->keys_command, SGN_KEYS_MANUAL) == 0) {
		/* the operator acts at the provider; the controller looks every retry_s */
		char old[128], new[128];

		tags_str(x->old, old, sizeof(old));
		tags_str(x->new, new, sizeof(new));
		return wait_until(r, now_s(r) + r->c->o.retry_s,
				  "the operator to make signer %s %s%s%s%s%s "
				  "(keys-command=manual): it does not serve %s yet",
				  name,
				  strcmp(x->action, "publish") == 0    ? "publish a new "
				  : strcmp(x->action, "activate") == 0 ? "sign with the new "
								       : "remove the old ",
				  roll_role(r), strcmp(x->action, "activate") == 0 ? " " : "",
				  strcmp(x->action, "activate") == 0 ? new : "",
				  strcmp(x->action, "publish") == 0 ? ", not signing with it yet"
				  : strcmp(x->action, "activate") == 0 ? " instead of the old one"
								       : "",
				  what);
	}
	if (e == 0) {
		e = roll_command(r, x, again);
		if (e != 0) {
			return e;
		}
		e = roll_poll(r, x, what, sizeof(what));
		if (e == -ENOMEM) {
			return e;
		}
		if (e < 0) {
			/* cannot tell now (servers disagree, no answer): look again later */
			return retry(r, name, "%s", what);
		}
	}
	if (roll_set_ran(r, "") < 0) {
		return -ENOMEM;
	}
	if (e != 1) {
		/* the command said yes, the signer did nothing: as an ignored write */
		return stop(r, name,
			    "keys-command %s %s of signer '%s' exited 0, but the signer does not "
			    "serve %s after %us (%s); check the command and the signer, then "
			    "resume",
			    x->action, roll_role(r), name, what, r->c->o.readback_timeout_ms / 1000,
			    "ignored");
	}
	hook(r, "verified", name);
	e = save(r);
	if (e == 0) {
		e = event(r, name, "verified", "signer '%s' serves %s", name, what);
	}
	return e;
}

/* Loads the roll's context for the subject signer; 0, or S_STOP/S_WAIT/an error. */
static int roll_begin(struct run *r, struct roll_ctx *x, const char *action)
{
	int idx = member_index(r, r->row.proc_signer);

	memset(x, 0, sizeof(*x));
	if (idx < 0) {
		return stop(r, r->row.proc_signer, "signer '%s' is not in the group any more",
			    r->row.proc_signer);
	}
	x->i = (unsigned)idx;
	x->action = action;
	x->old = roll_keys(r, "old");
	x->new = roll_keys(r, "new");
	return x->old && x->new ? 0 : -ENOMEM;
}

static void roll_end(struct roll_ctx *x)
{
	ldns_rr_list_deep_free(x->old);
	ldns_rr_list_deep_free(x->new);
}

/* Refuses up front: the group's prerequisites, a keys-command, a key of the role. */
static int st_roll_check(struct run *r)
{
	int idx = member_index(r, r->row.proc_signer);
	ldns_rr_list *keys;
	const char *name = r->row.proc_signer;
	int e = check_group(r);

	if (e != 0) {
		return e;
	}
	if (idx < 0) {
		return stop(r, name, "signer '%s' is not in the group", name);
	}
	if (!r->cfg[idx]->keys_command) {
		return stop(r, name,
			    "signer '%s' has no keys-command: the controller cannot make it create "
			    "or sign with a key of its own (give keys-command=PATH)",
			    name);
	}
	keys = own_where(r, (unsigned)idx, is_of_role, NULL);
	if (!keys) {
		return -ENOMEM;
	}
	if (ldns_rr_list_rr_count(keys) == 0) {
		ldns_rr_list_deep_free(keys);
		return stop(r, name, "signer '%s' has no %s of its own to roll (%s)", name,
			    roll_role(r),
			    r->proc->kind == ZC_PROC_ROLL_CSK
				    ? "a CSK has the SEP flag and signs the SOA"
				    : r->proc->kind == ZC_PROC_ROLL_KSK
					      ? "a KSK has the SEP flag and does not sign the SOA: "
						"a signer with one key has a CSK"
					      : "a ZSK has no SEP flag");
	}
	ldns_rr_list_deep_free(keys);
	return event(r, name, "checked",
		     "algorithms, key tags, keys and NS names of the group are fine; signer '%s' "
		     "has a %s and a keys-command",
		     name, roll_role(r));
}

/* The signer publishes a successor key, not signing with it yet. */
static int st_roll_publish(struct run *r)
{
	struct roll_ctx x;
	char tags[256];
	int e = roll_begin(r, &x, "publish");

	if (e == 0) {
		e = need_views(r);
	}
	if (e == 0 && ldns_rr_list_rr_count(x.old) == 0) {
		/* record which keys are the old ones before anything new can appear */
		ldns_rr_list_deep_free(x.old);
		x.old = own_where(r, x.i, is_of_role, NULL);
		e = x.old ? 0 : -ENOMEM;
		if (e == 0 && ldns_rr_list_rr_count(x.old) == 0) {
			e = stop(r, r->row.proc_signer, "signer '%s' has no %s of its own any more",
				 r->row.proc_signer, roll_role(r));
		} else if (e == 0) {
			e = roll_set_keys(r, "old", x.old);
			if (e == 0) {
				e = save(r);
			}
			tags_str(x.old, tags, sizeof(tags));
			if (e == 0) {
				e = event(r, r->row.proc_signer, "roll", "old %s: %s", roll_role(r),
					  tags);
			}
		}
	}
	if (e == 0) {
		e = keys_action(r, &x);
	}
	for (size_t k = 0; e == 0 && r->proc->kind != ZC_PROC_ROLL_KSK &&
			   k < ldns_rr_list_rr_count(x.new);
	     k++) {
		/* signing with it before the others publish it: say so, and push it at once */
		const ldns_rr *key = ldns_rr_list_rr(x.new, k);

		if (sgn_signed_by(&r->view[x.i], key, LDNS_RR_TYPE_SOA) > 0) {
			zc_log(r->c->ctx, ZC_LOG_WARNING,
			       "zone '%s', signer '%s' signs with its new %s before the other "
			       "signers publish it",
			       r->row.zone, r->row.proc_signer, roll_role(r));
			e = event(r, r->row.proc_signer, "warning",
				  "signer '%s' signs with its new %s already: until the other "
				  "signers publish it, data from '%s' fails to validate against "
				  "their DNSKEY sets (publish must not activate)",
				  r->row.proc_signer, roll_role(r), r->row.proc_signer);
		}
	}
	if (e == 0) {
		e = roll_set_keys(r, "new", x.new);
		tags_str(x.new, tags, sizeof(tags));
		if (e == 0) {
			e = save(r);
		}
		if (e == 0) {
			e = event(r, r->row.proc_signer, "roll", "new %s: %s", roll_role(r), tags);
		}
	}
	roll_end(&x);
	return e;
}

/* The signer signs with the new key and no longer with the old one. */
static int st_roll_activate(struct run *r)
{
	struct roll_ctx x;
	struct sgn_targets t;
	int e = prepare(r, &t, false);

	sgn_targets_release(&t);
	if (e != 0) {
		return e;
	}
	e = roll_begin(r, &x, "activate");
	if (e == 0 && ldns_rr_list_rr_count(x.new) == 0) {
		e = stop(r, r->row.proc_signer, "no new %s recorded (the store was changed?)",
			 roll_role(r));
	}
	if (e == 0) {
		e = keys_action(r, &x);
	}
	roll_end(&x);
	return e;
}

/* The signer no longer publishes the old key. */
static int st_roll_remove(struct run *r)
{
	struct roll_ctx x;
	struct sgn_targets t;
	int e = prepare(r, &t, false);

	sgn_targets_release(&t);
	if (e == 0) {
		e = roll_begin(r, &x, "remove");
		if (e == 0) {
			e = keys_action(r, &x);
		}
		roll_end(&x);
	}
	return e;
}

/*
 * Signature-Wait (RFC 7583 §3.2, Iret): after the signer stopped signing with
 * the old ZSK or CSK, what it signed before stays in caches for the largest TTL
 * of the zone's data; the old key must stay published that long. Not knowing
 * every TTL of the zone from the apex alone, the controller takes the zone's
 * max-zone-ttl when given, else the largest of the SOA, NS and DNSKEY TTLs and
 * the SOA minimum (negative answers, RFC 2308) the rolling signer serves; plus
 * the propagation delay.
 */
static int st_sig_wait(struct run *r)
{
	char what[SGN_ERR_LEN];
	int idx = member_index(r, r->row.proc_signer);
	const struct sgn_view *v;
	uint32_t ttl;
	int e;

	if (waiting_already(r)) {
		return timed_wait(r, 0, NULL);
	}
	e = need_views(r);
	if (e != 0) {
		return e;
	}
	if (idx < 0) {
		return stop(r, r->row.proc_signer, "signer '%s' is not in the group any more",
			    r->row.proc_signer);
	}
	v = &r->view[idx];
	if (r->zone->max_zone_ttl_s) {
		ttl = r->zone->max_zone_ttl_s;
		snprintf(what, sizeof(what),
			 "Signature-Wait: max-zone-ttl %us + propagation delay %us", ttl,
			 r->zone->propagation_delay_s);
	} else {
		ttl = ZC_MAX(ZC_MAX(v->ttl_soa, v->ttl_ns), ZC_MAX(v->ttl_dnskey, v->soa_minimum));
		snprintf(what, sizeof(what),
			 "Signature-Wait: largest TTL served by signer %s %us (SOA, NS, DNSKEY, "
			 "SOA minimum; set max-zone-ttl for the zone's data) + propagation "
			 "delay %us",
			 r->row.proc_signer, ttl, r->zone->propagation_delay_s);
	}
	return timed_wait(r, ttl + r->zone->propagation_delay_s, what);
}

static const struct step_def roll_zsk_steps[] = {
	{ "check", st_roll_check, 0 },
	{ "publish", st_roll_publish, 0 },
	{ "dnskey", st_dnskey, 0 },
	{ "dnskey-wait", st_dnskey_wait, V_DNSKEY },
	{ "activate", st_roll_activate, V_DNSKEY },
	{ "sig-wait", st_sig_wait, V_DNSKEY },
	{ "remove", st_roll_remove, 0 },
	{ "dnskey-clean", st_dnskey, 0 },
	{ "done", st_done, 0 },
	{ NULL, NULL, 0 },
};

static const struct step_def roll_ksk_steps[] = {
	{ "check", st_roll_check, 0 },
	{ "publish", st_roll_publish, 0 },
	{ "cds", st_cds, V_DNSKEY },
	{ "ds", st_parent_ds, V_DNSKEY | V_CDS },
	{ "ds-wait", st_ds_wait, V_DNSKEY | V_CDS },
	{ "activate", st_roll_activate, V_DNSKEY },
	{ "remove", st_roll_remove, V_DNSKEY },
	{ "dnskey-wait", st_dnskey_wait, V_DNSKEY },
	{ "cds-clean", st_cds, V_DNSKEY },
	{ "ds-clean", st_parent_ds, V_DNSKEY | V_CDS },
	{ "done", st_done, 0 },
	{ NULL, NULL, 0 },
};

static const struct step_def roll_csk_steps[] = {
	{ "check", st_roll_check, 0 },
	{ "publish", st_roll_publish, 0 },
	{ "dnskey", st_dnskey, 0 },
	{ "dnskey-wait", st_dnskey_wait, V_DNSKEY },
	{ "cds", st_cds, V_DNSKEY },
	{ "ds", st_parent_ds, V_DNSKEY | V_CDS },
	{ "ds-wait", st_ds_wait, V_DNSKEY | V_CDS },
	{ "activate", st_roll_activate, V_DNSKEY },
	{ "sig-wait", st_sig_wait, V_DNSKEY },
	{ "remove", st_roll_remove, 0 },
	{ "dnskey-clean", st_dnskey, 0 },
	{ "clean-wait", st_dnskey_wait, V_DNSKEY },
	{ "cds-clean", st_cds, V_DNSKEY },
	{ "ds-clean", st_parent_ds, V_DNSKEY | V_CDS },
	{ "done", st_done, 0 },
	{ NULL, NULL, 0 },
};

static const struct step_def join_steps[] = {
	{ "check", st_check, 0 },
	{ "dnskey", st_dnskey, 0 },
	{ "dnskey-wait", st_dnskey_wait, V_DNSKEY },
	{ "cds", st_cds, V_DNSKEY },
	{ "ds", st_parent_ds, V_DNSKEY | V_CDS },
	{ "ds-wait", st_ds_wait, V_DNSKEY | V_CDS },
	{ "ns", st_ns, V_DNSKEY | V_CDS },
	{ "parent-ns", st_parent_ns, V_DNSKEY | V_CDS | V_NS },
	{ "csync-remove", st_csync_remove, V_DNSKEY | V_CDS | V_NS },
	{ "ns-wait", st_ns_wait, V_DNSKEY | V_CDS | V_NS },
	{ "done", st_done, 0 },
	{ NULL, NULL, 0 },
};

static const struct step_def leave_steps[] = {
	{ "check", st_check, 0 },
	{ "ns", st_ns, 0 },
	{ "parent-ns", st_parent_ns, V_NS },
	{ "csync-remove", st_csync_remove, V_NS },
	{ "ns-wait", st_ns_wait, V_NS },
	{ "cds", st_cds, V_NS },
	{ "ds", st_parent_ds, V_NS | V_CDS },
	{ "ds-wait", st_ds_wait, V_NS | V_CDS },
	{ "dnskey", st_dnskey, V_NS | V_CDS },
	{ "dnskey-wait", st_dnskey_wait, V_NS | V_CDS | V_DNSKEY },
	{ "cleanup", st_cleanup, 0 },
	{ "done", st_done, 0 },
	{ NULL, NULL, 0 },
};

static const struct proc_def procs[] = {
	{ ZC_PROC_JOIN, join_steps },
	{ ZC_PROC_LEAVE, leave_steps },
	{ ZC_PROC_SYNC, join_steps },
	{ ZC_PROC_ROLL_ZSK, roll_zsk_steps },
	{ ZC_PROC_ROLL_KSK, roll_ksk_steps },
	{ ZC_PROC_ROLL_CSK, roll_csk_steps },
};

static const struct proc_def *proc_find(const char *kind)
{
	enum zc_signers_proc k;

	if (zc_signers_proc_parse(kind, &k) < 0) {
		return NULL;
	}
	for (size_t i = 0; i < ZC_ARRAY_SIZE(procs); i++) {
		if (procs[i].kind == k) {
			return &procs[i];
		}
	}
	return NULL;
}

static const struct step_def *step_find(const struct proc_def *p, const char *name)
{
	for (const struct step_def *s = p->steps; s->name; s++) {
		if (strcmp(s->name, name) == 0) {
			return s;
		}
	}
	return NULL;
}

/* --- starting, stopping and running processes ---------------------------------------- */

/* "Example.COM" -> "example.com." */
static int zone_key(struct zc_signers *c, const char *zone, char *buf, size_t len)
{
	ldns_rdf *apex = NULL;
	int e = zc_name_from_str(zone, &apex);

	if (e == 0) {
		e = zc_name_to_str(apex, buf, len);
	}
	ldns_rdf_deep_free(apex);
	if (e < 0) {
		sgn_seterr(c, "'%s' is not a domain name", zone);
		return -EINVAL;
	}
	return 0;
}

/* Loads the row of @zone (and the zone configuration). */
static int load_row(struct zc_signers *c, const char *zone, struct zc_group_row *row,
		    struct sgn_group *g)
{
	char name[ZC_DNS_MAX_NAME_TEXT];
	int e = zone_key(c, zone, name, sizeof(name));

	if (e < 0) {
		return e;
	}
	e = zc_store_group_get(c->st, name, row);
	if (e == ZC_ENOTFOUND) {
		sgn_seterr(c, "zone '%s' is not run by the controller (add it first)", name);
	}
	if (e < 0) {
		return e;
	}
	e = sgn_group_parse(row->members, row->zone, g);
	if (e < 0) {
		sgn_seterr(c, "zone '%s': the group in the store is not valid", name);
		zc_group_row_release(row);
	}
	return e;
}

static bool is_roll(enum zc_signers_proc kind)
{
	return kind == ZC_PROC_ROLL_ZSK || kind == ZC_PROC_ROLL_KSK || kind == ZC_PROC_ROLL_CSK;
}

int zc_signers_start(struct zc_signers *c, const char *zone, enum zc_signers_proc kind,
		     const char *signer)
{
	struct zc_group_row row;
	struct sgn_group g;
	struct zc_signer *s = NULL;
	struct sgn_member *m;
	const struct proc_def *p;
	int e;

	if (!c || !zone) {
		return -EINVAL;
	}
	c->err[0] = '\0';
	p = proc_find(zc_signers_proc_str(kind));
	if (!p) {
		sgn_seterr(c, "the %s process is not implemented yet", zc_signers_proc_str(kind));
		return ZC_ENOTSUP;
	}
	if ((kind != ZC_PROC_SYNC) != (signer != NULL)) {
		sgn_seterr(c, "%s %s", zc_signers_proc_str(kind),
			   signer ? "takes no signer" : "needs a signer");
		return -EINVAL;
	}
	e = load_row(c, zone, &row, &g);
	if (e < 0) {
		return e;
	}
	if (unfinished(row.proc_status)) {
		sgn_seterr(c, "zone '%s' has an unfinished %s of '%s' (step %s, %s): abort or finish "
			      "it first",
			   row.zone, row.proc_kind, row.proc_signer, row.proc_step, row.proc_status);
		e = -EBUSY;
		goto out;
	}
	if (signer) {
		e = load_signer(c, signer, &s);
		if (e < 0) {
			goto out;
		}
	}
	m = signer ? sgn_group_find(&g, signer) : NULL;
	if (kind == ZC_PROC_JOIN && m && m->state == SGN_ACTIVE) {
		sgn_seterr(c, "signer '%s' is in the group of zone '%s' already", signer, row.zone);
		e = -EINVAL;
		goto out;
	}
	if (kind == ZC_PROC_JOIN && !m && g.n >= ZC_SIGNERS_MAX_GROUP) {
		sgn_seterr(c, "zone '%s' has %d signers, the most a group may have", row.zone,
			   ZC_SIGNERS_MAX_GROUP);
		e = ZC_ELIMIT;
		goto out;
	}
	/* a signer left half-way in or out by an aborted process must be settled first */
	for (unsigned i = 0; i < g.n; i++) {
		if (g.m[i].state != SGN_ACTIVE && !(signer && strcmp(g.m[i].name, signer) == 0)) {
			sgn_seterr(c, "signer '%s' is still %s in zone '%s' (its %s was aborted): "
				      "%s it again, or %s it, first",
				   g.m[i].name, sgn_state_str(g.m[i].state), row.zone,
				   g.m[i].state == SGN_JOINING ? "join" : "leave",
				   g.m[i].state == SGN_JOINING ? "join" : "leave",
				   g.m[i].state == SGN_JOINING ? "leave" : "join");
			e = -EBUSY;
			goto out;
		}
	}
	if ((kind == ZC_PROC_LEAVE || is_roll(kind)) && !m) {
		sgn_seterr(c, "signer '%s' is not in the group of zone '%s'", signer, row.zone);
		e = -EINVAL;
		goto out;
	}
	if (is_roll(kind) && m->state != SGN_ACTIVE) {
		sgn_seterr(c, "signer '%s' is %s in zone '%s': finish that first", signer,
			   sgn_state_str(m->state), row.zone);
		e = -EBUSY;
		goto out;
	}
	if (is_roll(kind) && !s->keys_command) {
		sgn_seterr(c, "signer '%s' has no keys-command: the controller cannot make it "
			      "create or sign with a key of its own (add keys-command=PATH to the "
			      "signer)",
			   signer);
		e = -EINVAL;
		goto out;
	}
	if (kind == ZC_PROC_LEAVE) {
		unsigned others = 0;

		for (unsigned i = 0; i < g.n; i++) {
			others += strcmp(g.m[i].name, signer) != 0 && g.m[i].state == SGN_ACTIVE;
		}
		if (others == 0) {
			sgn_seterr(c, "signer '%s' is the last active signer of zone '%s': a zone "
				      "cannot be left without one",
				   signer, row.zone);
			e = -EINVAL;
			goto out;
		}
	}
	if (g.n == 0) {
		sgn_seterr(c, "zone '%s' has no signer yet", row.zone);
		if (kind != ZC_PROC_JOIN) {
			e = -EINVAL;
			goto out;
		}
	}
	row.proc_id++;
	if (set_text(&row.proc_kind, zc_signers_proc_str(kind)) < 0 ||
	    set_text(&row.proc_signer, signer ? signer : "") < 0 ||
	    set_text(&row.proc_step, p->steps[0].name) < 0 ||
	    set_text(&row.proc_status, "running") < 0 || set_text(&row.proc_wait, "") < 0 ||
	    set_text(&row.proc_data, "") < 0 || set_text(&row.proc_error, "") < 0) {
		e = -ENOMEM;
		goto out;
	}
	row.proc_deadline = 0;
	row.proc_started = c->io->now(c->io_ud);
	e = zc_store_group_update(c->st, &row);
	if (e == 0) {
		e = cevent(c, &row, signer, "start", "%s of zone %s started", row.proc_kind,
			   row.zone);
	}
	if (e == 0) {
		zc_log(c->ctx, ZC_LOG_NOTICE, "zone '%s', %s%s%s started", row.zone, row.proc_kind,
		       signer ? " of " : "", signer ? signer : "");
	}
out:
	zc_signer_free(s);
	sgn_group_release(&g);
	zc_group_row_release(&row);
	return e;
}

/* Moves the process of @zone from one of @from to @to ("" error). */
static int set_status(struct zc_signers *c, const char *zone, const char *const *from, size_t nfrom,
		      const char *to, const char *what)
{
	struct zc_group_row row;
	struct sgn_group g;
	bool ok = false;
	int e = load_row(c, zone, &row, &g);

	if (e < 0) {
		return e;
	}
	sgn_group_release(&g);
	for (size_t i = 0; i < nfrom; i++) {
		ok = ok || strcmp(row.proc_status, from[i]) == 0;
	}
	if (!ok) {
		sgn_seterr(c, "zone '%s' has no process to %s (%s%s%s)", row.zone, what,
			   row.proc_kind[0] ? row.proc_kind : "none",
			   row.proc_status[0] ? ": " : "", row.proc_status);
		zc_group_row_release(&row);
		return ZC_ENOTFOUND;
	}
	if (set_text(&row.proc_status, to) < 0 || set_text(&row.proc_error, "") < 0 ||
	    set_text(&row.proc_wait, "") < 0) {
		zc_group_row_release(&row);
		return -ENOMEM;
	}
	/* a resumed step starts over (a wait keeps its deadline) */
	e = zc_store_group_update(c->st, &row);
	if (e == 0) {
		e = cevent(c, &row, row.proc_signer, to, "%s of zone %s: %s", row.proc_kind, row.zone,
			   what);
	}
	zc_group_row_release(&row);
	return e;
}

int zc_signers_abort(struct zc_signers *c, const char *zone)
{
	static const char *const from[] = { "running", "waiting", "stopped" };

	if (!c || !zone) {
		return -EINVAL;
	}
	c->err[0] = '\0';
	return set_status(c, zone, from, ZC_ARRAY_SIZE(from), "aborted", "abort");
}

int zc_signers_resume(struct zc_signers *c, const char *zone)
{
	static const char *const from[] = { "stopped" };

	if (!c || !zone) {
		return -EINVAL;
	}
	c->err[0] = '\0';
	return set_status(c, zone, from, ZC_ARRAY_SIZE(from), "running", "resume");
}

/* Loads everything a pass over @zone's process needs. 0, 1 (nothing to do) or an error. */
static int run_load(struct zc_signers *c, const char *zone, struct run *r)
{
	char err[SGN_ERR_LEN] = "";
	int e = load_row(c, zone, &r->row, &r->group);

	if (e < 0) {
		return e;
	}
	if (strcmp(r->row.proc_status, "running") != 0 && strcmp(r->row.proc_status, "waiting") != 0) {
		return 1;
	}
	r->proc = proc_find(r->row.proc_kind);
	r->step = r->proc ? step_find(r->proc, r->row.proc_step) : NULL;
	if (!r->step) {
		return stop(r, NULL, "unknown process '%s' or step '%s' in the store",
			    r->row.proc_kind, r->row.proc_step) < 0 ? ZC_ESTORE : 1;
	}
	e = zc_signer_zone_parse(r->row.spec[0] ? r->row.spec : r->row.zone, &r->zone, err,
				 sizeof(err));
	if (e == 0) {
		e = zc_name_from_str(r->row.zone, &r->apex);
	}
	if (e < 0) {
		return stop(r, NULL, "zone configuration in the store is not valid (%s)", err) < 0
			       ? ZC_ESTORE
			       : 1;
	}
	/* the subject of a join joins the group at once (its keys are recorded from now on) */
	if (r->proc->kind == ZC_PROC_JOIN) {
		struct sgn_member *m = sgn_group_find(&r->group, r->row.proc_signer);

		if (!m) {
			e = sgn_group_add(&r->group, r->row.proc_signer, SGN_JOINING);
			if (e < 0) {
				return e;
			}
		} else if (m->state == SGN_LEAVING) {
			m->state = SGN_JOINING; /* back in, after an aborted leave */
		}
	}
	if (r->proc->kind == ZC_PROC_LEAVE) {
		struct sgn_member *m = sgn_group_find(&r->group, r->row.proc_signer);

		if (m) {
			m->state = SGN_LEAVING;
		}
	}
	e = roll_refresh_extra(r);
	if (e < 0) {
		return e;
	}
	for (unsigned i = 0; i < r->group.n; i++) {
		e = load_signer(c, r->group.m[i].name, &r->cfg[i]);
		if (e == ZC_ENOTFOUND || e == ZC_ESTORE) {
			return stop(r, r->group.m[i].name, "%s", c->err) < 0 ? ZC_ESTORE : 1;
		}
		if (e < 0) {
			return e;
		}
	}
	return 0;
}

/* Runs the process of one zone as far as it goes now. */
static int run_zone(struct zc_signers *c, const char *zone, struct zc_signers_pass *pass)
{
	struct run r = { .c = c };
	int e = run_load(c, zone, &r);

	if (e == 1) {
		if (strcmp(r.row.proc_status, "stopped") == 0) {
			pass->zones++;
			pass->stopped++;
		}
		run_release(&r);
		return 0;
	}
	if (e < 0) {
		run_release(&r);
		return e;
	}
	pass->zones++;
	for (;;) {
		const char *next;

		if (strcmp(r.row.proc_status, "waiting") == 0 && r.row.proc_deadline > now_s(&r)) {
			e = S_WAIT;
		} else {
			e = r.step->fn(&r);
		}
		if (e < 0 || e == S_STOP || e == S_WAIT) {
			break;
		}
		/* the step is done: record the next one before anything else happens */
		if (strcmp(r.step->name, "done") == 0) {
			if (set_text(&r.row.proc_status, "done") < 0 ||
			    set_text(&r.row.proc_wait, "") < 0 || set_text(&r.row.proc_error, "") < 0) {
				e = -ENOMEM;
				break;
			}
			r.row.proc_deadline = 0;
			e = save(&r);
			if (e == 0) {
				e = event(&r, r.row.proc_signer, "done", "%s of zone %s finished",
					  r.row.proc_kind, r.row.zone);
			}
			if (e == 0) {
				zc_log(c->ctx, ZC_LOG_NOTICE, "zone '%s', %s%s%s finished",
				       r.row.zone, r.row.proc_kind, r.row.proc_signer[0] ? " of " : "",
				       r.row.proc_signer);
				hook(&r, "finished", NULL);
				pass->finished++;
			}
			break;
		}
		next = r.step[1].name;
		if (set_text(&r.row.proc_step, next) < 0 || set_text(&r.row.proc_status, "running") < 0 ||
		    set_text(&r.row.proc_wait, "") < 0 || set_text(&r.row.proc_error, "") < 0 ||
		    roll_carry(&r) < 0) {
			e = -ENOMEM;
			break;
		}
		r.row.proc_deadline = 0;
		e = save(&r);
		if (e < 0) {
			break;
		}
		zc_log(c->ctx, ZC_LOG_INFO, "zone '%s', %s: step %s done, next %s", r.row.zone,
		       r.row.proc_kind, r.step->name, next);
		hook_at(&r, r.step->name, "done", NULL);
		r.step++;
	}
	if (e == S_WAIT) {
		pass->waiting++;
		if (r.row.proc_deadline && (!pass->next_s || r.row.proc_deadline < pass->next_s)) {
			pass->next_s = r.row.proc_deadline;
		}
	} else if (e == S_STOP) {
		pass->stopped++;
	}
	run_release(&r);
	return e == -ESTALE ? 0 : e < 0 ? e : 0;
}

int zc_signers_run(struct zc_signers *c, const char *zone, struct zc_signers_pass *ret)
{
	struct zc_signers_pass pass = { 0 };
	struct zc_group_row *rows = NULL;
	size_t n = 0;
	int e = 0;

	if (!c) {
		return -EINVAL;
	}
	c->err[0] = '\0';
	/* nameserver names are resolved once per pass: every read in it sees the same servers */
	sgn_ns_cache_clear(c);
	if (zone) {
		e = run_zone(c, zone, &pass);
	} else {
		e = zc_store_group_list(c->st, &rows, &n);
		for (size_t i = 0; e == 0 && i < n; i++) {
			if (unfinished(rows[i].proc_status)) {
				e = run_zone(c, rows[i].zone, &pass);
			}
		}
		zc_group_rows_free(rows, n);
	}
	sgn_ns_cache_clear(c);
	if (e < 0) {
		return e;
	}
	if (ret) {
		*ret = pass;
	}
	return 0;
}
