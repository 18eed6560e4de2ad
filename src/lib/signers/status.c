/* SPDX-License-Identifier: MIT */
/*
 * zonecut signers status: per zone the process and where it stands (step, what
 * it waits for and until when, why it stopped), its recent events, and -- read
 * live -- each signer's view side by side (keys with their owner and role, CDS,
 * CDNSKEY, NS, CSYNC, TTLs), the parent's DS and NS sets, and whether the group
 * is in sync, with one finding per difference.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "signers/internal.h"

#define STATUS_EVENTS 50

static json_t *str_or_null(const char *s)
{
	return s && *s ? json_string(s) : json_null();
}

static json_t *rdata_array(const ldns_rr_list *l)
{
	json_t *a = json_array();

	for (size_t i = 0; a && l && i < ldns_rr_list_rr_count(l); i++) {
		char *rd = sgn_rdata_str(ldns_rr_list_rr(l, i));

		if (rd) {
			json_array_append_new(a, json_string(rd));
		}
		free(rd);
	}
	return a;
}

/* A rollover's keys: {"old": [...], "new": [...]} of the process data; null otherwise. */
static json_t *roll_json(const struct zc_group_row *row)
{
	json_t *d = row->proc_data[0] ? json_loads(row->proc_data, 0, NULL) : NULL;
	json_t *roll = json_object_get(d, "roll"), *out;

	out = json_is_object(roll) ? json_object() : NULL;
	for (int k = 0; out && k < 2; k++) {
		const char *field = k ? "new" : "old";
		json_t *v = json_object_get(roll, field);

		json_object_set_new(out, field, json_is_array(v) ? json_copy(v) : json_array());
	}
	json_decref(d);
	return out ? out : json_null();
}

static json_t *process_json(const struct zc_group_row *row, int64_t now)
{
	json_t *p;

	if (!row->proc_kind[0]) {
		return json_null();
	}
	p = json_pack("{s:I, s:s, s:o, s:s, s:s, s:o, s:o, s:o, s:o, s:I}", "id",
			 (json_int_t)row->proc_id, "kind", row->proc_kind, "signer",
			 str_or_null(row->proc_signer), "step", row->proc_step, "status",
			 row->proc_status, "waiting_for", str_or_null(row->proc_wait), "until",
			 row->proc_deadline ? json_integer(row->proc_deadline) : json_null(),
			 "seconds_left",
			 row->proc_deadline ? json_integer(row->proc_deadline > now
								   ? row->proc_deadline - now
								   : 0)
					    : json_null(),
			 "error", str_or_null(row->proc_error), "started",
			 (json_int_t)row->proc_started);
	/* rollovers: the keys rolled, each as "FLAGS 3 ALG BASE64" */
	if (p && json_object_set_new(p, "roll", roll_json(row)) < 0) {
		json_decref(p);
		return NULL;
	}
	return p;
}

static json_t *events_json(struct zc_signers *c, const struct zc_group_row *row)
{
	struct zc_group_event *v = NULL;
	size_t n = 0;
	json_t *a = json_array();

	if (!a || zc_store_group_event_list(c->st, row->zone, row->proc_id, STATUS_EVENTS, &v,
					    &n) < 0) {
		json_decref(a);
		return json_null();
	}
	for (size_t i = 0; i < n; i++) {
		json_array_append_new(a, json_pack("{s:I, s:I, s:s, s:o, s:s, s:s}", "id",
						   (json_int_t)v[i].id, "at", (json_int_t)v[i].at,
						   "step", v[i].step, "signer",
						   str_or_null(v[i].signer), "action", v[i].action,
						   "detail", v[i].detail));
	}
	zc_group_events_free(v, n);
	return a;
}

/* Who owns @key, seen at member @i: the member itself, or the one it was pushed from. */
static const char *key_owner(const struct sgn_set *set, const struct sgn_targets *t, unsigned i,
			     const ldns_rr *key)
{
	if (!sgn_has_key(set->group->m[i].pushed, key)) {
		return set->group->m[i].name;
	}
	for (unsigned j = 0; j < set->group->n; j++) {
		if (j != i && t->own[j] && sgn_has_key(t->own[j], key)) {
			return set->group->m[j].name;
		}
	}
	return NULL; /* pushed, and no member owns it any more */
}

static const char *key_role(const struct sgn_view *v, const ldns_rr *key)
{
	uint16_t flags = ldns_read_uint16(ldns_rdf_data(ldns_rr_rdf(key, 0)));
	bool signs = false;

	for (unsigned k = 0; k < v->n_zsig; k++) {
		signs = signs || (v->zsig[k].tag == zc_key_tag(key) &&
				  v->zsig[k].alg == zc_rr_algorithm(key));
	}
	if (flags & 1) {
		return signs ? "csk" : "ksk";
	}
	return "zsk";
}

/*
 * The signer's nameservers: each name with its addresses, where they came from
 * (the configuration, or DNS in this pass) and, for DNS, the answers' security
 * or why the name gave no address.
 */
static json_t *nameservers_json(struct zc_signers *c, const struct zc_signer *s)
{
	json_t *a = json_array();

	for (unsigned i = 0; a && i < s->n_ns; i++) {
		const struct sgn_ns_entry *e = NULL;
		json_t *addrs = json_array();

		if (s->ns[i].n_addrs == 0) {
			e = sgn_ns_resolve(c, s->ns[i].name);
		}
		for (unsigned k = 0; addrs && k < s->ns[i].n_addrs; k++) {
			json_array_append_new(addrs, json_string(s->ns[i].addrs[k]));
		}
		for (unsigned k = 0; addrs && e && k < e->n_addrs; k++) {
			json_array_append_new(addrs, json_string(e->addrs[k]));
		}
		json_array_append_new(
			a, json_pack("{s:s, s:s, s:o, s:o, s:o}", "name", s->ns[i].name, "source",
				     sgn_source_str(s->ns[i].n_addrs ? SGN_SRC_CONFIG : SGN_SRC_DNS),
				     "addresses", addrs ? addrs : json_array(), "security",
				     e && e->status == 0 ? json_string(zc_security_str(e->sec))
							 : json_null(),
				     "error", e && e->status < 0 ? json_string(e->why) : json_null()));
	}
	return a;
}

static json_t *signer_json(struct zc_signers *c, const struct sgn_set *set,
			   const struct sgn_targets *t, unsigned i)
{
	const struct sgn_view *v = &set->view[i];
	const struct zc_signer *s = set->cfg[i];
	struct sgn_server servers[SGN_MAX_SERVERS];
	char why[SGN_ERR_LEN] = "";
	unsigned n = 0;
	json_t *o, *srv = json_array(), *keys = json_array(), *ns = json_array();

	/* the servers of this pass (resolved when the view was read), even a partial set */
	(void)sgn_servers(c, s, servers, ZC_ARRAY_SIZE(servers), &n, why, sizeof(why));
	for (unsigned k = 0; srv && k < n; k++) {
		json_array_append_new(srv, json_pack("{s:s, s:o, s:s}", "address", servers[k].addr,
						     "ns", str_or_null(servers[k].ns), "source",
						     sgn_source_str(servers[k].source)));
	}
	o = json_pack("{s:s, s:s, s:s, s:o, s:o}", "name", s->name, "state",
		      sgn_state_str(set->group->m[i].state), "driver", zc_signer_driver_str(s->driver),
		      "servers", srv, "nameservers", nameservers_json(c, s));
	if (!o) {
		json_decref(keys);
		json_decref(ns);
		return NULL;
	}
	if (v->status < 0) {
		json_object_set_new(o, "error", json_string(v->err));
		json_decref(keys);
		json_decref(ns);
		return o;
	}
	json_object_set_new(o, "error", json_null());
	for (size_t k = 0; keys && k < ldns_rr_list_rr_count(v->dnskey); k++) {
		const ldns_rr *key = ldns_rr_list_rr(v->dnskey, k);
		const char *owner = t ? key_owner(set, t, i, key) : NULL;
		char *rd = sgn_rdata_str(key);

		json_array_append_new(
			keys, json_pack("{s:i, s:i, s:i, s:s, s:o, s:s?}", "tag", zc_key_tag(key),
					"algorithm", zc_rr_algorithm(key), "flags",
					ldns_read_uint16(ldns_rdf_data(ldns_rr_rdf(key, 0))), "role",
					key_role(v, key), "owner", str_or_null(owner), "key", rd));
		free(rd);
	}
	for (size_t k = 0; ns && k < ldns_rr_list_rr_count(v->ns); k++) {
		char name[ZC_DNS_MAX_NAME_TEXT];

		if (zc_name_to_str(ldns_rr_rdf(ldns_rr_list_rr(v->ns, k), 0), name, sizeof(name)) == 0) {
			json_array_append_new(ns, json_string(name));
		}
	}
	json_object_set_new(o, "serial", json_integer(v->serial));
	json_object_set_new(o, "dnskey", keys);
	json_object_set_new(o, "cds", rdata_array(v->cds));
	json_object_set_new(o, "cdnskey", rdata_array(v->cdnskey));
	json_object_set_new(o, "ns", ns);
	json_object_set_new(o, "csync", rdata_array(v->csync));
	json_object_set_new(o, "ttl", json_pack("{s:i, s:i, s:i, s:i}", "dnskey", v->ttl_dnskey,
						"cds", v->ttl_cds, "ns", v->ttl_ns, "soa",
						v->ttl_soa));
	return o;
}

static void finding(json_t *findings, const char *fmt, ...) ZC_PRINTF(2, 3);
static void finding(json_t *findings, const char *fmt, ...)
{
	char buf[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	json_array_append_new(findings, json_string(buf));
}

/* The live part: views, parent, in_sync and findings, added to @o. */
static int live_json(struct zc_signers *c, const struct zc_group_row *row, json_t *o)
{
	struct zc_signer *cfg[ZC_SIGNERS_MAX_GROUP] = { 0 };
	struct sgn_view view[ZC_SIGNERS_MAX_GROUP];
	struct zc_signer_zone *z = NULL;
	struct sgn_parent parent = { 0 };
	struct sgn_targets t = { 0 };
	struct sgn_group g = { .n = 0 };
	ldns_rdf *apex = NULL;
	json_t *signers = json_array(), *findings = json_array(), *pj;
	bool complete = true, have_t = false, in_sync;
	char err[SGN_ERR_LEN] = "";
	int e;

	memset(view, 0, sizeof(view));
	e = sgn_group_parse(row->members, row->zone, &g);
	if (e == 0) {
		e = zc_signer_zone_parse(row->spec[0] ? row->spec : row->zone, &z, err, sizeof(err));
	}
	if (e == 0) {
		e = zc_name_from_str(row->zone, &apex);
	}
	if (e < 0 || !signers || !findings) {
		e = e < 0 ? e : -ENOMEM;
		goto out;
	}
	for (unsigned i = 0; i < g.n; i++) {
		char *spec = NULL;

		if (zc_store_signer_get(c->st, g.m[i].name, &spec) < 0 ||
		    zc_signer_parse(spec, &cfg[i], err, sizeof(err)) < 0) {
			finding(findings, "signer '%s' is not configured", g.m[i].name);
			complete = false;
			free(spec);
			continue;
		}
		free(spec);
		if (sgn_view_read(c, cfg[i], row->zone, &view[i]) < 0) {
			finding(findings, "%s", view[i].err);
			complete = complete && !sgn_participates(&g, i);
		}
	}
	if (sgn_parent_read(c, z, &parent) < 0) {
		finding(findings, "%s", parent.err);
	}
	{
		struct sgn_set set = { .zone = z,
				       .apex = apex,
				       .group = &g,
				       .cfg = cfg,
				       .view = view,
				       .parent_ds = parent.status == 0 ? parent.ds : NULL,
				       .parent_ns = parent.status == 0 ? parent.ns : NULL };

		if (complete && g.n > 0 && sgn_targets_compute(&set, &t) == 0) {
			have_t = true;
		}
		for (unsigned i = 0; i < g.n; i++) {
			if (cfg[i]) {
				json_array_append_new(signers,
						      signer_json(c, &set, have_t ? &t : NULL, i));
			}
		}
		in_sync = have_t && parent.status == 0;
		for (unsigned i = 0; have_t && i < g.n; i++) {
			static const char *const what[] = { "DNSKEY", "CDS/CDNSKEY", "NS" };

			if (!sgn_participates(&g, i)) {
				continue;
			}
			for (int k = SGN_W_DNSKEY; k <= SGN_W_NS; k++) {
				ldns_rr_list *add = NULL, *del = NULL;
				char *ch;

				if (sgn_diff_for(&set, &t, i, k, false, &add, &del) < 0) {
					continue;
				}
				if (ldns_rr_list_rr_count(add) || ldns_rr_list_rr_count(del)) {
					ch = sgn_change_str(add, del);
					finding(findings, "signer '%s' %s set differs from the group's: %s",
						g.m[i].name, what[k], ch ? ch : "?");
					free(ch);
					in_sync = false;
				}
				ldns_rr_list_deep_free(add);
				ldns_rr_list_deep_free(del);
			}
		}
		if (have_t && parent.status == 0) {
			if (!sgn_ds_names_exactly(parent.ds, t.sep)) {
				finding(findings, "the parent's DS set does not name exactly the group's "
						  "KSKs/CSKs");
				in_sync = false;
			}
			if (!sgn_parent_ns_done(&set, &t)) {
				finding(findings, "the parent's NS set differs from the group's NS union");
				in_sync = false;
			}
		}
	}
	pj = json_pack("{s:o, s:o, s:o, s:{s:i, s:i}, s:o}", "servers", json_array(), "ds",
		       rdata_array(parent.ds), "ns", rdata_array(parent.ns), "ttl", "ds",
		       parent.ttl_ds, "ns", parent.ttl_ns, "error",
		       parent.status < 0 ? json_string(parent.err) : json_null());
	for (unsigned i = 0; pj && i < z->n_parent; i++) {
		json_array_append_new(json_object_get(pj, "servers"), json_string(z->parent[i]));
	}
	json_object_set_new(o, "signers", signers);
	signers = NULL;
	json_object_set_new(o, "parent", pj ? pj : json_null());
	json_object_set_new(o, "keys", have_t ? json_pack("{s:o, s:o, s:o}", "ds_must_name",
							  rdata_array(t.sep), "cds",
							  rdata_array(t.cds), "ns",
							  rdata_array(t.ns))
					      : json_null());
	json_object_set_new(o, "in_sync", json_boolean(in_sync));
	json_object_set_new(o, "findings", findings);
	findings = NULL;
	e = 0;
out:
	json_decref(signers);
	json_decref(findings);
	if (have_t) {
		sgn_targets_release(&t);
	}
	for (unsigned i = 0; i < ZC_SIGNERS_MAX_GROUP; i++) {
		sgn_view_release(&view[i]);
		zc_signer_free(cfg[i]);
	}
	sgn_parent_release(&parent);
	sgn_group_release(&g);
	zc_signer_zone_free(z);
	ldns_rdf_deep_free(apex);
	return e;
}

static int zone_json(struct zc_signers *c, const struct zc_group_row *row, bool live,
		     json_t **ret)
{
	struct sgn_group g;
	json_t *o, *group = json_array();
	int64_t now = c->io->now(c->io_ud);
	int e = sgn_group_parse(row->members, row->zone, &g);

	if (e < 0) {
		json_decref(group);
		return e;
	}
	for (unsigned i = 0; group && i < g.n; i++) {
		json_array_append_new(group, json_pack("{s:s, s:s, s:i}", "signer", g.m[i].name,
						       "state", sgn_state_str(g.m[i].state),
						       "pushed_keys",
						       (int)ldns_rr_list_rr_count(g.m[i].pushed)));
	}
	sgn_group_release(&g);
	o = json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:I}", "schema", "zonecut.signers.v1",
		      "zone", row->zone, "config", row->spec, "group", group ? group : json_null(),
		      "process", process_json(row, now), "events", events_json(c, row), "now",
		      (json_int_t)now);
	if (!o) {
		return -ENOMEM;
	}
	if (live) {
		e = live_json(c, row, o);
		if (e < 0) {
			json_decref(o);
			return e;
		}
	}
	*ret = o;
	return 0;
}

int zc_signers_status(struct zc_signers *c, const char *zone, bool live, json_t **ret)
{
	struct zc_group_row *rows = NULL;
	size_t n = 0;
	json_t *a;
	int e = 0;

	if (!c || !ret) {
		return -EINVAL;
	}
	c->err[0] = '\0';
	/* one look: each nameserver name is resolved once for it */
	sgn_ns_cache_clear(c);
	a = json_array();
	if (!a) {
		return -ENOMEM;
	}
	if (zone) {
		struct zc_group_row row;
		ldns_rdf *apex = NULL;
		char name[ZC_DNS_MAX_NAME_TEXT];

		if (zc_name_from_str(zone, &apex) < 0 || zc_name_to_str(apex, name, sizeof(name)) < 0) {
			ldns_rdf_deep_free(apex);
			json_decref(a);
			sgn_seterr(c, "'%s' is not a domain name", zone);
			return -EINVAL;
		}
		ldns_rdf_deep_free(apex);
		e = zc_store_group_get(c->st, name, &row);
		if (e == ZC_ENOTFOUND) {
			sgn_seterr(c, "zone '%s' is not run by the controller", name);
		}
		if (e == 0) {
			json_t *o = NULL;

			e = zone_json(c, &row, live, &o);
			if (e == 0) {
				json_array_append_new(a, o);
			}
			zc_group_row_release(&row);
		}
	} else {
		e = zc_store_group_list(c->st, &rows, &n);
		for (size_t i = 0; e == 0 && i < n; i++) {
			json_t *o = NULL;

			e = zone_json(c, &rows[i], live, &o);
			if (e == 0) {
				json_array_append_new(a, o);
			}
		}
		zc_group_rows_free(rows, n);
	}
	if (e < 0) {
		json_decref(a);
		return e;
	}
	*ret = a;
	return 0;
}
