/* SPDX-License-Identifier: MIT */
/*
 * DNS UPDATE (RFC 2136) with TSIG (RFC 8945) to the parent's primary, exactly
 * once. The journal entry is committed before anything is sent and marked SENT
 * before the UPDATE leaves; the UPDATE carries prerequisites on the old DS set
 * (RFC 2136 §2.4.2 / §2.4.3), so sending it twice, or after someone else changed
 * the DS set, cannot change anything; and every outcome is read back from the
 * primary. A crash at any point leaves an unfinished entry that the next run
 * resumes through the same steps: read first, send only when the primary still
 * holds the old set.
 */
#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "apply/internal.h"

#define UPDATER_DEFAULT_TIMEOUT_MS 5000
#define UPDATER_DEFAULT_FUDGE 300

struct zc_updater {
	struct zc_ctx *ctx; /* borrowed */
	struct sockaddr_storage addr;
	socklen_t addr_len;
	char addr_text[INET6_ADDRSTRLEN + 8];
	const struct zc_tsig *tsig; /* borrowed; NULL: unsigned */
	unsigned timeout_ms;
	uint16_t fudge;
};

int zc_updater_new(struct zc_ctx *ctx, const struct sockaddr *primary, socklen_t primary_len,
		   const struct zc_tsig *tsig, const struct zc_updater_opts *opts,
		   struct zc_updater **ret_up)
{
	struct zc_updater *up;
	char host[INET6_ADDRSTRLEN], serv[8];

	if (!primary || !ret_up || primary_len == 0 || primary_len > sizeof(up->addr) ||
	    (primary->sa_family != AF_INET && primary->sa_family != AF_INET6)) {
		return -EINVAL;
	}
	if (getnameinfo(primary, primary_len, host, sizeof(host), serv, sizeof(serv),
			NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
		return -EINVAL;
	}
	up = calloc(1, sizeof(*up));
	if (!up) {
		return -ENOMEM;
	}
	up->ctx = ctx;
	memcpy(&up->addr, primary, primary_len);
	up->addr_len = primary_len;
	snprintf(up->addr_text, sizeof(up->addr_text), "%s@%s", host, serv);
	up->tsig = tsig;
	up->timeout_ms = opts && opts->timeout_ms ? opts->timeout_ms : UPDATER_DEFAULT_TIMEOUT_MS;
	up->fudge = opts && opts->fudge ? opts->fudge : UPDATER_DEFAULT_FUDGE;
	*ret_up = up;
	return 0;
}

void zc_updater_free(struct zc_updater *up)
{
	free(up);
}

static void msgf(char *buf, size_t len, const char *fmt, ...) ZC_PRINTF(3, 4);
static void msgf(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
}

/* Sends @pkt to the primary, signed with the updater's key (zc_apply_exchange()). */
static void exchange(struct zc_updater *up, ldns_pkt *pkt, const char *what, struct zc_exchange *x)
{
	int r = zc_apply_exchange((const struct sockaddr *)&up->addr, up->addr_len, up->tsig, pkt,
				  what, up->timeout_ms, up->fudge, x);

	/* on failure x->answer is NULL and x->why says why: the callers look at those */
	(void)r;
}

/*
 * Reads the DS RRset of @child at the primary (TCP, no RD: the primary answers
 * from its own zone) into *ret_text (zc_apply_ds_text() form). Returns 0, or -1
 * with @x->why set.
 */
static int read_ds(struct zc_updater *up, const char *child, struct zc_exchange *x, char **ret_text)
{
	ldns_rdf *name = NULL;
	ldns_pkt *q = NULL;
	ldns_rr_list *ds = NULL;
	int r = -1, rc;

	if (zc_apply_name(child, &name, NULL) < 0) {
		msgf(x->why, sizeof(x->why), "bad child name '%s'", child);
		return -1;
	}
	q = ldns_pkt_query_new(ldns_rdf_clone(name), LDNS_RR_TYPE_DS, LDNS_RR_CLASS_IN, 0);
	if (!q) {
		msgf(x->why, sizeof(x->why), "out of memory");
		goto out;
	}
	exchange(up, q, "DS query", x);
	if (!x->answer) {
		goto out;
	}
	rc = x->rcode;
	if (rc != LDNS_RCODE_NOERROR && rc != LDNS_RCODE_NXDOMAIN) {
		msgf(x->why, sizeof(x->why), "DS query for %s to %s answered %s", child,
		     up->addr_text, zc_rcode_str(rc));
		goto out;
	}
	/* Only the primary's own data counts: an authoritative answer. */
	if (!ldns_pkt_aa(x->answer)) {
		msgf(x->why, sizeof(x->why),
		     "DS query for %s to %s: the answer is not authoritative (not the parent's "
		     "primary?)",
		     child, up->addr_text);
		goto out;
	}
	ds = ldns_rr_list_new();
	if (!ds) {
		msgf(x->why, sizeof(x->why), "out of memory");
		goto out;
	}
	for (size_t i = 0; i < ldns_rr_list_rr_count(ldns_pkt_answer(x->answer)); i++) {
		ldns_rr *rr = ldns_rr_list_rr(ldns_pkt_answer(x->answer), i);

		if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_DS &&
		    ldns_rr_get_class(rr) == LDNS_RR_CLASS_IN &&
		    ldns_dname_compare(ldns_rr_owner(rr), name) == 0) {
			if (!ldns_rr_list_push_rr(ds, rr)) {
				msgf(x->why, sizeof(x->why), "out of memory");
				goto out;
			}
		}
	}
	r = zc_apply_ds_text(ds, ret_text);
	if (r < 0) {
		msgf(x->why, sizeof(x->why), "DS RRset of %s at %s is not usable (%s)", child,
		     up->addr_text, zc_strerror(r));
		r = -1;
	}
out:
	ldns_rr_list_free(ds); /* the records belong to the answer */
	if (x->answer) {
		ldns_pkt_free(x->answer);
		x->answer = NULL;
	}
	ldns_pkt_free(q);
	ldns_rdf_deep_free(name);
	return r;
}

/* A record for the UPDATE message: @owner @class @type, TTL @ttl, rdata of @from (may be NULL). */
static int push_rr(ldns_rr_list *list, const ldns_rdf *owner, ldns_rr_class klass, uint32_t ttl,
		   const ldns_rr *from)
{
	ldns_rr *rr = from ? ldns_rr_clone(from) : ldns_rr_new();

	if (!rr) {
		return -ENOMEM;
	}
	ldns_rdf_deep_free(ldns_rr_owner(rr));
	ldns_rr_set_owner(rr, ldns_rdf_clone(owner));
	ldns_rr_set_type(rr, LDNS_RR_TYPE_DS);
	ldns_rr_set_class(rr, klass);
	ldns_rr_set_ttl(rr, ttl);
	if (!ldns_rr_owner(rr) || !ldns_rr_list_push_rr(list, rr)) {
		ldns_rr_free(rr);
		return -ENOMEM;
	}
	return 0;
}

static bool has_line(char **v, size_t n, const char *line)
{
	for (size_t i = 0; i < n; i++) {
		if (strcmp(v[i], line) == 0) {
			return true;
		}
	}
	return false;
}

/* Appends the DS record of the text @line with @klass and @ttl to @list. */
static int push_line(ldns_rr_list *list, const char *child, const ldns_rdf *owner,
		     ldns_rr_class klass, uint32_t ttl, const char *line)
{
	ldns_rr_list *one = NULL;
	int r = zc_apply_ds_parse(child, ttl, line, &one);

	if (r == 0 && ldns_rr_list_rr_count(one) != 1) {
		r = ZC_EMALF;
	}
	if (r == 0) {
		r = push_rr(list, owner, klass, ttl, ldns_rr_list_rr(one, 0));
	}
	ldns_rr_list_deep_free(one);
	return r;
}

/*
 * The UPDATE for entry @e: zone @e->parent; prerequisite: the DS RRset of the
 * child is exactly ds_old (RFC 2136 §2.4.2, class IN, TTL 0, with each record) or
 * does not exist (§2.4.3, class NONE); update: add each new record (§2.5.1),
 * delete each old one that goes (§2.5.4, class NONE), or the whole RRset (§2.5.2,
 * class ANY) when ds_new is empty.
 */
static int build_update(const struct zc_journal_entry *e, ldns_pkt **ret_pkt)
{
	ldns_rdf *zone = NULL, *child = NULL;
	ldns_rr_list *pr = NULL, *up = NULL;
	char *obuf = NULL, *nbuf = NULL, **ol = NULL, **nl = NULL;
	size_t on = 0, nn = 0;
	ldns_pkt *pkt;
	int r;

	r = zc_apply_name(e->parent, &zone, NULL);
	if (r == 0) {
		r = zc_apply_name(e->child, &child, NULL);
	}
	if (r == 0) {
		r = zc_apply_ds_lines(e->ds_old, &obuf, &ol, &on);
	}
	if (r == 0) {
		r = zc_apply_ds_lines(e->ds_new, &nbuf, &nl, &nn);
	}
	if (r < 0) {
		goto out;
	}
	pr = ldns_rr_list_new();
	up = ldns_rr_list_new();
	if (!pr || !up) {
		r = -ENOMEM;
		goto out;
	}
	if (on == 0) {
		r = push_rr(pr, child, LDNS_RR_CLASS_NONE, 0, NULL);
	}
	for (size_t i = 0; r == 0 && i < on; i++) {
		r = push_line(pr, e->child, child, LDNS_RR_CLASS_IN, 0, ol[i]);
	}
	for (size_t i = 0; r == 0 && i < nn; i++) {
		if (!has_line(ol, on, nl[i])) {
			r = push_line(up, e->child, child, LDNS_RR_CLASS_IN, e->ttl, nl[i]);
		}
	}
	if (r == 0 && nn == 0) {
		r = push_rr(up, child, LDNS_RR_CLASS_ANY, 0, NULL);
	}
	for (size_t i = 0; r == 0 && nn > 0 && i < on; i++) {
		if (!has_line(nl, nn, ol[i])) {
			r = push_line(up, e->child, child, LDNS_RR_CLASS_NONE, 0, ol[i]);
		}
	}
	if (r < 0) {
		goto out;
	}
	/* ldns_update_pkt_new() takes @zone (the question owner) and copies the lists. */
	pkt = ldns_update_pkt_new(zone, LDNS_RR_CLASS_IN, pr, up, NULL);
	zone = NULL;
	if (!pkt) {
		r = -ENOMEM;
		goto out;
	}
	/* RFC 2136 §2.2: the bits after the opcode are zero in an UPDATE. */
	ldns_pkt_set_rd(pkt, false);
	*ret_pkt = pkt;
out:
	ldns_rdf_deep_free(zone);
	ldns_rdf_deep_free(child);
	ldns_rr_list_deep_free(pr);
	ldns_rr_list_deep_free(up);
	free(ol);
	free(nl);
	free(obuf);
	free(nbuf);
	return r;
}

/*
 * Records the end state of entry @e and fills @res. Returns 0, -ESTALE or a
 * store error.
 */
static int finish(struct zc_updater *up, struct zc_store *st, struct zc_journal_entry *e,
		  enum zc_journal_state to, int rcode, const char *message,
		  struct zc_apply_result *res)
{
	int r = zc_store_journal_set_state(st, e->id, e->state, to, rcode,
					   to == ZC_JOURNAL_DONE ? NULL : message, NULL);

	if (r < 0) {
		return r;
	}
	e->state = to;
	res->state = to;
	snprintf(res->message, sizeof(res->message), "%s", message);
	zc_log(up->ctx, to == ZC_JOURNAL_DONE ? ZC_LOG_INFO : ZC_LOG_WARNING,
	       "zone '%s', DS change %lld for '%s': %s (%s)", e->parent, (long long)e->id,
	       e->child, zc_journal_state_str(to), message);
	return 0;
}

/* One line per record, ';'-separated, for messages; "none" for an empty set. */
static void set_str(const char *text, char *buf, size_t len)
{
	size_t j = 0;

	if (!*text) {
		snprintf(buf, len, "none");
		return;
	}
	for (const char *p = text; *p && j + 4 < len; p++) {
		if (*p == '\n') {
			if (p[1]) {
				buf[j++] = ';';
				buf[j++] = ' ';
			}
		} else {
			buf[j++] = *p;
		}
	}
	if (j + 4 >= len) {
		buf[j++] = '.';
		buf[j++] = '.';
		buf[j++] = '.';
	}
	buf[j] = '\0';
}

/* Steps 2-4 of zc_updater_apply() for the unfinished entry @e. */
static int run_entry(struct zc_updater *up, struct zc_store *st, struct zc_journal_entry *e,
		     struct zc_apply_result *res)
{
	struct zc_exchange x;
	ldns_pkt *pkt = NULL;
	char *cur = NULL, msg[512], have[200];
	int r;

	res->id = e->id;
	res->rcode = -1;
	res->tsig_error = 0;
	res->sent = false;
	/* Step 2: what does the primary hold now? */
	if (read_ds(up, e->child, &x, &cur) < 0) {
		res->tsig_error = x.tsig_error;
		return finish(up, st, e, ZC_JOURNAL_FAILED, -1, x.why, res);
	}
	if (strcmp(cur, e->ds_new) == 0) {
		free(cur);
		return finish(up, st, e, ZC_JOURNAL_DONE, -1,
			      e->state == ZC_JOURNAL_PENDING && e->attempts == 0
				      ? "the primary already holds the new DS set"
				      : "applied (found at the primary)",
			      res);
	}
	if (strcmp(cur, e->ds_old) != 0) {
		/* Changed behind our back: never overwrite someone else's change. */
		set_str(cur, have, sizeof(have));
		msgf(msg, sizeof(msg),
		     "DS set at the primary changed meanwhile (now: %s); left untouched", have);
		free(cur);
		return finish(up, st, e, ZC_JOURNAL_CONFLICT, -1, msg, res);
	}
	free(cur);
	cur = NULL;
	r = build_update(e, &pkt);
	if (r < 0) {
		msgf(msg, sizeof(msg), "the UPDATE could not be built (%s)", zc_strerror(r));
		return finish(up, st, e, ZC_JOURNAL_FAILED, -1, msg, res);
	}
	/* Step 3: durably SENT before the message leaves. */
	r = zc_store_journal_set_state(st, e->id, e->state, ZC_JOURNAL_SENT, -1, NULL,
				       up->addr_text);
	if (r < 0) {
		ldns_pkt_free(pkt);
		return r;
	}
	e->state = ZC_JOURNAL_SENT;
	e->attempts++;
	res->sent = true;
	exchange(up, pkt, "UPDATE", &x);
	ldns_pkt_free(pkt);
	res->rcode = x.rcode;
	res->tsig_error = x.tsig_error;
	if (!x.answer) {
		return finish(up, st, e, ZC_JOURNAL_FAILED, x.rcode, x.why, res);
	}
	ldns_pkt_free(x.answer);
	x.answer = NULL;
	switch (x.rcode) {
	case LDNS_RCODE_NOERROR:
	case LDNS_RCODE_YXRRSET:
	case LDNS_RCODE_NXRRSET:
	case LDNS_RCODE_NXDOMAIN:
	case LDNS_RCODE_YXDOMAIN:
		break;
	default:
		msgf(msg, sizeof(msg), "UPDATE to %s answered %s", up->addr_text,
		     zc_rcode_str(x.rcode));
		return finish(up, st, e, ZC_JOURNAL_FAILED, x.rcode, msg, res);
	}
	/* Step 4: read back. */
	if (read_ds(up, e->child, &x, &cur) < 0) {
		msgf(msg, sizeof(msg), "UPDATE answered %s but the read-back failed: %s",
		     zc_rcode_str(res->rcode), x.why);
		return finish(up, st, e, ZC_JOURNAL_FAILED, res->rcode, msg, res);
	}
	if (strcmp(cur, e->ds_new) == 0) {
		free(cur);
		return finish(up, st, e, ZC_JOURNAL_DONE, res->rcode,
			      res->rcode == LDNS_RCODE_NOERROR
				      ? "applied and read back"
				      : "applied earlier (prerequisite failed, new DS set found)",
			      res);
	}
	set_str(cur, have, sizeof(have));
	free(cur);
	if (res->rcode == LDNS_RCODE_NOERROR) {
		msgf(msg, sizeof(msg), "UPDATE answered NOERROR but nothing changed (DS now: %s)",
		     have);
		return finish(up, st, e, ZC_JOURNAL_FAILED, res->rcode, msg, res);
	}
	msgf(msg, sizeof(msg),
	     "UPDATE prerequisite failed (%s): the DS set changed meanwhile (now: %s); left "
	     "untouched",
	     zc_rcode_str(res->rcode), have);
	return finish(up, st, e, ZC_JOURNAL_CONFLICT, res->rcode, msg, res);
}

int zc_updater_apply(struct zc_updater *up, struct zc_store *st, const struct zc_change *c,
		     struct zc_apply_result *ret)
{
	struct zc_apply_result res = { 0 };
	struct zc_journal_entry e = { 0 };
	enum zc_journal_add_result added;
	bool newer;
	int64_t id;
	int r;

	if (!up || !st || !c || !ret) {
		return -EINVAL;
	}
	r = zc_change_to_journal(c, &e);
	if (r < 0) {
		return r;
	}
	if (strcmp(e.ds_old, e.ds_new) == 0) {
		zc_journal_entry_release(&e);
		return -EALREADY;
	}
	/* S10 (RFC 7344 §6.2): never act on a CDS/CDNSKEY older than the last applied. */
	if (c->inception != 0) {
		r = zc_store_inception_is_newer(st, e.child, c->inception, &newer);
		if (r == 0 && !newer) {
			zc_log(up->ctx, ZC_LOG_WARNING,
			       "zone '%s', DS change for '%s' refused: signature inception %u is "
			       "not newer than the last applied one",
			       e.parent, e.child, c->inception);
			r = -ESTALE;
		}
		if (r < 0) {
			zc_journal_entry_release(&e);
			return r;
		}
	}
	/* Step 1: durable before anything else happens. */
	r = zc_store_journal_add(st, &e, &id, &added);
	zc_journal_entry_release(&e);
	if (r < 0) {
		return r;
	}
	r = zc_store_journal_get(st, id, &e);
	if (r < 0) {
		return r;
	}
	res.existing = added == ZC_JOURNAL_EXISTING;
	r = run_entry(up, st, &e, &res);
	zc_journal_entry_release(&e);
	if (r < 0) {
		return r;
	}
	*ret = res;
	return 0;
}

int zc_updater_resume(struct zc_updater *up, struct zc_store *st, int64_t id,
		      struct zc_apply_result *ret)
{
	struct zc_apply_result res = { 0 };
	struct zc_journal_entry e;
	int r;

	if (!up || !st || !ret || id <= 0) {
		return -EINVAL;
	}
	r = zc_store_journal_get(st, id, &e);
	if (r < 0) {
		return r;
	}
	if (!zc_journal_state_unfinished(e.state)) {
		zc_journal_entry_release(&e);
		return -ESTALE;
	}
	res.existing = true;
	r = run_entry(up, st, &e, &res);
	zc_journal_entry_release(&e);
	if (r < 0) {
		return r;
	}
	*ret = res;
	return 0;
}

int zc_updater_retry_pending(struct zc_updater *up, struct zc_store *st, const char *parent,
			     zc_apply_cb cb, void *userdata, size_t *ret_count)
{
	struct zc_journal_entry *v = NULL;
	char *zone = NULL;
	size_t n = 0, done = 0;
	int r;

	if (!up || !st) {
		return -EINVAL;
	}
	if (parent) {
		r = zc_apply_name(parent, NULL, &zone);
		if (r < 0) {
			return r;
		}
	}
	r = zc_store_journal_list(st, true, zone, 0, &v, &n);
	free(zone);
	if (r < 0) {
		return r;
	}
	for (size_t i = 0; i < n; i++) {
		struct zc_apply_result res;

		r = zc_updater_resume(up, st, v[i].id, &res);
		if (r == -ESTALE || r == ZC_ENOTFOUND) {
			r = 0; /* another run finished or moved it meanwhile */
			continue;
		}
		if (r < 0) {
			break;
		}
		if (cb) {
			struct zc_journal_entry now;

			if (zc_store_journal_get(st, v[i].id, &now) == 0) {
				cb(&now, &res, userdata);
				zc_journal_entry_release(&now);
			} else {
				cb(&v[i], &res, userdata);
			}
		}
		done++;
	}
	zc_journal_entries_free(v, n);
	if (r < 0) {
		return r;
	}
	if (ret_count) {
		*ret_count = done;
	}
	return 0;
}
