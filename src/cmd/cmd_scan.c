/* SPDX-License-Identifier: MIT */
/*
 * zonecut scan: the parental agent. Reads the delegations (parent zone file or a
 * list), runs the scan funnel of libzonecut over them, prints one decision per
 * delegation (table or JSON Lines) and hands accepted changes to --apply.
 */
#include <errno.h>
#include <event2/event.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <sys/resource.h>

#include "cmd.h"
#include "util/internal.h"
#include <zonecut/apply.h>
#include <zonecut/scan.h>
#include <zonecut/store.h>

#define SCAN_MAX_WORKERS 64
#define SCAN_DEFAULT_MAX_WORKERS 8 /* when counting CPUs */
/*
 * Politeness on the Internet: per server address at most 10 queries in flight (the
 * engine's default) and 500 a second. A registry's daily scan puts a large DNS
 * provider's hundreds of thousands of zones on a handful of addresses; at 500 q/s
 * an address answers a million probes in about an hour.
 */
#define SCAN_DEFAULT_QPS_PER_SERVER 500

enum apply_mode { APPLY_NONE = 0, APPLY_JSON, APPLY_NSUPDATE, APPLY_UPDATE };

struct scan_args {
	const char *zone;
	const char *list;
	const char *child;
	struct cmd_resolver_args ra;
	bool json;
	bool tcp_only;
	bool progress;
	bool no_bootstrap;
	bool lenient;
	const char *db;
	const char *output;
	const char *parent_primary;
	const char *tsig;
	const char *tsig_file;
	const char *config;
	const char *parent;
	enum apply_mode apply;
	struct zc_scan_opts so;
	struct zc_engine_opts eo;
	uint64_t timeout_ms;
	unsigned workers; /* 0: one per CPU */
};

static int parse_list_u8(const char *value, uint8_t *out, unsigned max, unsigned *ret_n,
			 char *err, size_t errlen)
{
	char buf[256];
	unsigned n = 0;
	char *save = NULL;

	snprintf(buf, sizeof(buf), "%s", value);
	for (char *t = strtok_r(buf, ", ", &save); t; t = strtok_r(NULL, ", ", &save)) {
		uint32_t v;

		if (n >= max || zc_parse_u32(t, 1, 255, &v) < 0) {
			snprintf(err, errlen, "'%s' is not a list of numbers 1-255 (at most %u)",
				 value, max);
			return -EINVAL;
		}
		out[n++] = (uint8_t)v;
	}
	if (n == 0) {
		snprintf(err, errlen, "empty list");
		return -EINVAL;
	}
	*ret_n = n;
	return 0;
}

static int u32_opt(const char *value, uint32_t min, uint32_t max, unsigned *ret, char *err,
		   size_t errlen)
{
	uint32_t v;

	if (zc_parse_u32(value, min, max, &v) < 0) {
		snprintf(err, errlen, "'%s' is not a number from %u to %u", value, min, max);
		return -EINVAL;
	}
	*ret = v;
	return 0;
}

static int scan_set(void *state, const struct cmd_opt *o, const char *value, char *err,
		    size_t errlen)
{
	struct scan_args *a = state;
	const char *n = o->name;
	struct zc_scan_policy *p = &a->so.policy;
	int r = cmd_resolver_set(&a->ra, o, value, err, errlen);

	if (r != 0) {
		return r < 0 ? r : 0;
	}
	if (strcmp(n, "zone") == 0) {
		a->zone = value;
	} else if (strcmp(n, "list") == 0) {
		a->list = value;
	} else if (strcmp(n, "child") == 0) {
		a->child = value;
	} else if (strcmp(n, "json") == 0) {
		a->json = true;
	} else if (strcmp(n, "tcp-only") == 0) {
		a->tcp_only = true;
	} else if (strcmp(n, "progress") == 0) {
		a->progress = true;
	} else if (strcmp(n, "thorough") == 0) {
		a->so.probe_all = true;
	} else if (strcmp(n, "leave-out-after") == 0) {
		return u32_opt(value, 0, 1000, &p->leave_out_after, err, errlen);
	} else if (strcmp(n, "no-bootstrap") == 0) {
		p->bootstrap = false;
	} else if (strcmp(n, "lenient-continuity") == 0) {
		p->strict_continuity = false;
	} else if (strcmp(n, "db") == 0) {
		a->db = value;
	} else if (strcmp(n, "output") == 0) {
		a->output = value;
	} else if (strcmp(n, "parent-primary") == 0) {
		a->parent_primary = value;
	} else if (strcmp(n, "tsig") == 0) {
		a->tsig = value;
	} else if (strcmp(n, "tsig-file") == 0) {
		a->tsig_file = value;
	} else if (strcmp(n, "config") == 0) {
		a->config = value;
	} else if (strcmp(n, "parent") == 0) {
		a->parent = value;
	} else if (strcmp(n, "algorithms") == 0) {
		return parse_list_u8(value, p->algorithms, ZC_SCAN_MAX_ALGORITHMS, &p->n_algorithms,
				     err, errlen);
	} else if (strcmp(n, "digests") == 0) {
		return parse_list_u8(value, p->digests, ZC_SCAN_MAX_DIGESTS, &p->n_digests, err,
				     errlen);
	} else if (strcmp(n, "cdnskey-digests") == 0) {
		return parse_list_u8(value, p->cdnskey_digests, ZC_SCAN_MAX_DIGESTS,
				     &p->n_cdnskey_digests, err, errlen);
	} else if (strcmp(n, "max-records") == 0) {
		return u32_opt(value, 1, ZC_DNS_MAX_RRSET, &p->max_records, err, errlen);
	} else if (strcmp(n, "accept-after-delay") == 0) {
		uint64_t ms;

		if (zc_parse_duration_ms(value, 3600000, &ms) < 0 || ms > 365ull * 86400000) {
			snprintf(err, errlen, "'%s' is not a delay (hours, or with a unit: 72h, 3d)",
				 value);
			return -EINVAL;
		}
		p->accept_after_delay_ms = ms;
	} else if (strcmp(n, "concurrency") == 0) {
		return u32_opt(value, 1, 100000, &a->so.concurrency, err, errlen);
	} else if (strcmp(n, "timeout") == 0) {
		if (zc_parse_duration_ms(value, 1000, &a->timeout_ms) < 0 || a->timeout_ms == 0 ||
		    a->timeout_ms > 60000) {
			snprintf(err, errlen, "'%s' is not a duration from 1ms to 60s", value);
			return -EINVAL;
		}
		a->eo.timeout_ms = (unsigned)a->timeout_ms;
		/* the back-off may grow the first timeout up to four times */
		if (a->eo.max_timeout_ms < a->eo.timeout_ms * 4) {
			a->eo.max_timeout_ms = a->eo.timeout_ms * 4;
		}
	} else if (strcmp(n, "workers") == 0) {
		return u32_opt(value, 1, SCAN_MAX_WORKERS, &a->workers, err, errlen);
	} else if (strcmp(n, "retries") == 0) {
		return u32_opt(value, 0, 10, &a->eo.retries, err, errlen);
	} else if (strcmp(n, "inflight-per-server") == 0) {
		return u32_opt(value, 1, 10000, &a->eo.max_inflight_per_server, err, errlen);
	} else if (strcmp(n, "qps-per-server") == 0) {
		return u32_opt(value, 0, 1000000, &a->eo.qps_per_server, err, errlen);
	} else if (strcmp(n, "apply") == 0) {
		if (strcmp(value, "json") == 0) {
			a->apply = APPLY_JSON;
		} else if (strcmp(value, "nsupdate") == 0) {
			a->apply = APPLY_NSUPDATE;
		} else if (strcmp(value, "update") == 0) {
			a->apply = APPLY_UPDATE;
		} else {
			snprintf(err, errlen, "'%s' is not one of json, nsupdate, update", value);
			return -EINVAL;
		}
	}
	return 0;
}

static const struct cmd_opt scan_opts[] = {
	{ "zone", 'z', true, "FILE", "parent zone file: NS, glue and DS of every child", scan_set },
	{ "list", 'l', true, "FILE", "\"child ns1 ns2 ...\" lines; DS read from DNS", scan_set },
	{ "child", 0, true, "NAME", "scan this one delegation only", scan_set },
	{ "json", 'j', false, NULL, "JSON Lines: one object per delegation", scan_set },
	CMD_RESOLVER_OPTS(scan_set),
	{ "db", 0, true, "FILE", "state store (SQLite)", scan_set },
	{ "tcp-only", 0, false, NULL, "ask nameservers over TCP only", scan_set },
	{ "leave-out-after", 0, true, "RUNS",
	  "leave out a server failing this many runs in a row (default 7; 0: never)", scan_set },
	{ "thorough", 0, false, NULL,
	  "ask every address even when the first publishes nothing (more queries)", scan_set },
	{ "algorithms", 0, true, "LIST", "allowed DNSSEC algorithms (default 8,10,13,14,15,16)",
	  scan_set },
	{ "digests", 0, true, "LIST", "allowed DS digest types (default 2,4)", scan_set },
	{ "cdnskey-digests", 0, true, "LIST", "digests for DS made from CDNSKEY (default 2)",
	  scan_set },
	{ "max-records", 0, true, "N", "most CDS or CDNSKEY records accepted (default 8)",
	  scan_set },
	{ "no-bootstrap", 0, false, NULL, "never bootstrap unsecured delegations (RFC 9615)",
	  scan_set },
	{ "lenient-continuity", 0, false, NULL,
	  "one algorithm validating DNSKEY suffices (default: all, as dnssec-cds)", scan_set },
	{ "accept-after-delay", 0, true, "HOURS",
	  "bootstrap without signals after a stable CDS this long (RFC 8078 3.3; off)", scan_set },
	{ "concurrency", 'C', true, "N", "delegations in progress at once (default 1000)",
	  scan_set },
	{ "workers", 'w', true, "N",
	  "event loops on threads of their own (default: one per CPU, at most 8)", scan_set },
	{ "timeout", 0, true, "DURATION", "first query timeout (default 1500ms)", scan_set },
	{ "retries", 0, true, "N", "query retries with doubled timeout (default 2)", scan_set },
	{ "inflight-per-server", 0, true, "N", "queries in flight per server address (default 10)",
	  scan_set },
	{ "qps-per-server", 0, true, "N",
	  "queries per second per server address (default 500; 0: no limit)", scan_set },
	{ "apply", 'a', true, "MODE", "hand changes on: json, nsupdate, update", scan_set },
	{ "output", 'o', true, "FILE", "where --apply nsupdate writes its script", scan_set },
	{ "parent", 0, true, "ZONE", "parent zone name (--list; default: the child minus a label)",
	  scan_set },
	{ "parent-primary", 0, true, "ADDR", "parent primary for --apply update", scan_set },
	{ "tsig", 0, true, "[ALG:]NAME:SECRET", "TSIG key for --apply update", scan_set },
	{ "tsig-file", 0, true, "FILE", "TSIG key file (tsig-keygen format)", scan_set },
	{ "progress", 0, false, NULL, "show progress even when stderr is not a terminal",
	  scan_set },
	{ "config", 'c', true, "FILE", "read options from FILE", scan_set, true },
	{ NULL },
};

const struct cmd cmd_scan_def = {
	.name = "scan",
	.run = cmd_scan,
	.summary = "the parental agent: CDS/CDNSKEY of children to DS changes",
	.opts = scan_opts,
	.usage =
		"Usage: zonecut scan --zone PARENT_ZONE_FILE [--child NAME] [OPTIONS]\n"
		"       zonecut scan --list FILE [OPTIONS]\n"
		"\n"
		"Reads the delegations of a parent zone and decides, for each child, whether its\n"
		"DS set must change: CDS/CDNSKEY rollovers (RFC 7344), deletes (RFC 8078) and\n"
		"authenticated bootstraps of unsigned delegations (RFC 9615), following the\n"
		"parental agent rules of RFC 9975.\n"
		"\n"
		"First CDS and CDNSKEY are asked at one address (nameservers in the parent's\n"
		"order, addresses sorted): nothing there means no-cds, the common case. When\n"
		"something is published (or with --thorough, always), every nameserver is asked\n"
		"at every one of its addresses, and all answers must agree; a server that fails\n"
		"then makes the result error (retry later), never a change.\n"
		"\n"
		"A change of a secured delegation must be signed by a key the current DS set\n"
		"names; a bootstrap needs signed signals under every out-of-child nameserver\n"
		"(_dsboot.CHILD._signal.NS). The new DS set must validate the child's DNSKEY set\n"
		"with every algorithm it names, and a signature is never acted upon twice\n"
		"(replay protection, kept in the --db state store).\n"
		"\n"
		"Each delegation ends in exactly one result: no-cds, unchanged, update, delete,\n"
		"rejected (with reasons) or error (could not finish). Nothing changes at the\n"
		"parent without --apply:\n"
		"  json      only the update/delete decisions as JSON Lines (for an EPP pipeline)\n"
		"  nsupdate  an nsupdate script on stdout, or in --output FILE\n"
		"  update    RFC 2136 DNS UPDATE with TSIG to --parent-primary, journaled first,\n"
		"            applied once, read back afterwards\n"
		"\n"
		"Input: --zone takes a zone file whose first record is the parent's SOA, the\n"
		"records of each child together (as zone writers produce them); glue comes from\n"
		"it. --list takes \"child ns1 ns2 ...\" lines (ns may carry addresses:\n"
		"ns1.example.net=192.0.2.1,2001:db8::1); the current DS set is then read\n"
		"from DNS through the validating resolver.\n"
		"\n"
		"Speed and politeness: --workers event loops (threads; default one per CPU)\n"
		"share the input, --concurrency delegations in progress at once, and the\n"
		"per-server limits --inflight-per-server (default 10) and --qps-per-server\n"
		"(default 500), which hold for the whole scan, whatever the workers.\n"
		"The defaults are meant for the Internet; raise them for servers of your own.\n"
		"\n"
		"Output: a table and a summary by default; --json gives one object per delegation\n"
		"(schema zonecut.scan.v1: child, result, mode, reasons, ds_old, ds_new,\n"
		"evidence). Progress is shown on a terminal.\n"
		"\n"
		"Exit status: 0 every delegation fine; 1 some rejected or error; 2 bad usage or\n"
		"input (nothing attempted); 3 operational failure.\n",
};

/* An accepted change kept for --apply update until the scan is over. */
struct pending_change {
	char *child;
	ldns_rr_list *ds_old, *ds_new;
	enum zc_change_mode mode;
	uint32_t inception;
	json_t *decision; /* printed once applied (with --json) */
	int64_t journal_id; /* its journal entry once tried; 0 before */
};

struct scan_run {
	struct scan_args *a;
	struct zc_progress *progress;
	uint64_t done;
	uint64_t counts[ZC_SCAN_RESULT_COUNT];
	FILE *script;
	char parent[ZC_DNS_MAX_NAME_TEXT]; /* from the zone file; "" for --list */
	struct pending_change *changes;
	size_t n_changes;
	unsigned apply_failed;
	bool write_failed;
	bool table_header;
	pthread_mutex_t lock; /* the workers' decisions: counts, output, changes */
};

static enum zc_change_mode change_mode(const struct zc_scan_decision *d)
{
	if (d->result == ZC_SCAN_DELETE) {
		return ZC_CHANGE_DELETE;
	}
	return d->mode == ZC_SCAN_MODE_BOOTSTRAP ? ZC_CHANGE_BOOTSTRAP : ZC_CHANGE_ROLLOVER;
}

/* The parent zone of @child: the zone file's apex, --parent, or the child minus a label. */
static const char *parent_of(const struct scan_run *run, const char *child, char *buf, size_t len)
{
	const char *dot;

	if (run->parent[0]) {
		return run->parent;
	}
	if (run->a->parent) {
		return run->a->parent;
	}
	dot = strchr(child, '.');
	snprintf(buf, len, "%s", dot && dot[1] ? dot + 1 : ".");
	return buf;
}

static void ds_text(struct zc_buf *b, const ldns_rr_list *l)
{
	bool first = true;

	zc_buf_put(b, "[", 1);
	for (size_t i = 0; l && i < ldns_rr_list_rr_count(l); i++) {
		char buf[512];

		if (zc_ds_to_str(ldns_rr_list_rr(l, i), buf, sizeof(buf)) == 0) {
			if (!first) {
				zc_buf_put(b, ",", 1);
			}
			first = false;
			zc_buf_json_str(b, buf, strlen(buf));
		}
	}
	zc_buf_put(b, "]", 1);
}

/*
 * The decision as one line of compact JSON, written straight as text. Returns the
 * line (caller frees) or NULL without memory.
 */
static char *decision_text(const struct zc_scan_decision *d)
{
	const char *mode = zc_scan_mode_str(d->mode);
	const char *result = zc_scan_result_str(d->result);
	struct zc_buf b = { 0 };
	bool first = true;

	zc_buf_puts(&b, "{\"schema\":\"zonecut.scan.v1\",\"child\":");
	zc_buf_json_str(&b, d->child, strlen(d->child));
	zc_buf_puts(&b, ",\"result\":");
	zc_buf_json_str(&b, result, strlen(result));
	zc_buf_puts(&b, ",\"mode\":");
	if (mode) {
		zc_buf_json_str(&b, mode, strlen(mode));
	} else {
		zc_buf_puts(&b, "null");
	}
	zc_buf_puts(&b, ",\"reasons\":[");
	for (int r = 0; r < ZC_R_COUNT; r++) {
		if (d->reasons & (1u << r)) {
			const char *name = zc_scan_reason_str(r);

			if (!first) {
				zc_buf_put(&b, ",", 1);
			}
			first = false;
			zc_buf_json_str(&b, name, strlen(name));
		}
	}
	zc_buf_puts(&b, "],\"ds_old\":");
	ds_text(&b, d->ds_old);
	if (d->ds_new) {
		zc_buf_puts(&b, ",\"ds_new\":");
		ds_text(&b, d->ds_new);
	}
	if (d->inception) {
		zc_buf_printf(&b, ",\"inception\":%" PRIu32, d->inception);
	}
	zc_buf_printf(&b, ",\"queries\":%u", d->queries);
	if (d->evidence_json) {
		zc_buf_puts(&b, ",\"evidence\":");
		zc_buf_put(&b, d->evidence_json, d->evidence_len);
	}
	zc_buf_put(&b, "}", 1);
	return zc_buf_steal(&b);
}

/* The same decision as a JSON object (for --apply update, which adds its outcome). */
static json_t *decision_json(const struct zc_scan_decision *d)
{
	char *line = decision_text(d);
	json_t *o = line ? json_loads(line, 0, NULL) : NULL;

	free(line);
	return o;
}

static void text_line(struct scan_run *run, const struct zc_scan_decision *d)
{
	const char *mode = zc_scan_mode_str(d->mode);
	char reasons[512] = "";
	size_t len = 0;

	if (!run->table_header) {
		printf("%-40s %-10s %-10s %s\n", "CHILD", "RESULT", "MODE", "REASONS / NEW DS");
		run->table_header = true;
	}
	for (int r = 0; r < ZC_R_COUNT; r++) {
		if (d->reasons & (1u << r)) {
			len += (size_t)snprintf(reasons + len, len < sizeof(reasons) ?
							       sizeof(reasons) - len : 0,
						"%s%s", len ? "," : "", zc_scan_reason_str(r));
		}
	}
	printf("%-40s %-10s %-10s %s\n", d->child, zc_scan_result_str(d->result), mode ? mode : "-",
	       reasons);
	if ((d->result == ZC_SCAN_UPDATE) && d->ds_new) {
		for (size_t i = 0; i < ldns_rr_list_rr_count(d->ds_new); i++) {
			char buf[512];

			if (zc_ds_to_str(ldns_rr_list_rr(d->ds_new, i), buf, sizeof(buf)) == 0) {
				printf("%-40s %-10s %-10s DS %s\n", "", "", "", buf);
			}
		}
	}
}

static int keep_change(struct scan_run *run, const struct zc_scan_decision *d, json_t *decision)
{
	struct pending_change *v, *c;

	v = realloc(run->changes, (run->n_changes + 1) * sizeof(*v));
	if (!v) {
		return -ENOMEM;
	}
	run->changes = v;
	c = &v[run->n_changes];
	memset(c, 0, sizeof(*c));
	c->child = strdup(d->child);
	c->ds_old = ldns_rr_list_clone(d->ds_old);
	c->ds_new = d->ds_new ? ldns_rr_list_clone(d->ds_new) : ldns_rr_list_new();
	c->mode = change_mode(d);
	c->inception = d->inception;
	c->decision = decision;
	if (!c->child || !c->ds_old || !c->ds_new) {
		free(c->child);
		ldns_rr_list_deep_free(c->ds_old);
		ldns_rr_list_deep_free(c->ds_new);
		return -ENOMEM;
	}
	run->n_changes++;
	return 0;
}

/* Called with run->lock held. @o: the decision as JSON (when wanted); @line: it printed. */
static void decision_locked(struct scan_run *run, const struct zc_scan_decision *d, json_t *o,
			    char *line)
{
	struct scan_args *a = run->a;
	bool change = d->result == ZC_SCAN_UPDATE || d->result == ZC_SCAN_DELETE;

	run->done++;
	run->counts[d->result]++;
	zc_progress_update(run->progress, run->done, d->child);
	if (a->apply == APPLY_NSUPDATE && change) {
		char pbuf[ZC_DNS_MAX_NAME_TEXT];
		struct zc_change c = {
			.child = d->child,
			.parent = parent_of(run, d->child, pbuf, sizeof(pbuf)),
			.ds_old = d->ds_old,
			.ds_new = d->ds_new,
			.mode = change_mode(d),
			.inception = d->inception,
		};

		if (zc_apply_nsupdate(run->script, &c, NULL, NULL, ZC_NSUPDATE_PREREQ) < 0) {
			run->write_failed = true;
		}
	}
	if (a->apply == APPLY_UPDATE && change) {
		/* applied after the scan (the updater blocks); printed with its outcome */
		if (keep_change(run, d, o) < 0) {
			json_decref(o);
			run->apply_failed++;
		}
		if (!a->json) {
			text_line(run, d);
		}
		return;
	}
	json_decref(o);
	if (line) {
		if (fputs(line, stdout) == EOF || fputc('\n', stdout) == EOF) {
			run->write_failed = true;
		}
	} else if (a->json || (a->apply == APPLY_JSON && change)) {
		run->write_failed = true; /* the JSON could not be made (memory) */
	} else if (a->apply != APPLY_JSON && !(a->apply == APPLY_NSUPDATE && !a->output)) {
		text_line(run, d);
	}
}

/*
 * A decision, from any worker's thread: the JSON is made outside the lock, the
 * counting and writing inside it.
 */
static void on_decision(const struct zc_scan_decision *d, void *ud)
{
	struct scan_run *run = ud;
	struct scan_args *a = run->a;
	bool change = d->result == ZC_SCAN_UPDATE || d->result == ZC_SCAN_DELETE;
	json_t *o = NULL;
	char *line = NULL;

	if (a->json || (a->apply == APPLY_JSON && change)) {
		if (a->apply == APPLY_UPDATE && change) {
			o = decision_json(d); /* the outcome of applying it is added later */
		} else {
			line = decision_text(d);
		}
	}
	pthread_mutex_lock(&run->lock);
	decision_locked(run, d, o, line);
	pthread_mutex_unlock(&run->lock);
	free(line);
}

static void apply_result_log(const char *child, const struct zc_apply_result *res)
{
	int level = res->state == ZC_JOURNAL_DONE ? ZC_LOG_NOTICE : ZC_LOG_ERR;

	zc_log(arg_ctx, level, "child '%s', DS change %s (%s)", child,
	       zc_journal_state_str(res->state), res->message);
}

static json_t *apply_result_json(const struct zc_apply_result *res)
{
	return json_pack("{s:I,s:s,s:b,s:b,s:s}", "journal", (json_int_t)res->id, "state",
			 zc_journal_state_str(res->state), "sent", res->sent, "resumed",
			 res->existing, "message", res->message);
}

static void on_retried(const struct zc_journal_entry *e, const struct zc_apply_result *res,
		       void *ud)
{
	struct scan_run *run = ud;

	apply_result_log(e->child, res);
	if (res->state != ZC_JOURNAL_DONE) {
		run->apply_failed++;
	}
}

/*
 * --apply update: every accepted change goes through the journal to the parent's
 * primary, then unfinished changes of earlier runs are retried.
 */
static int apply_updates(struct scan_run *run, struct zc_store *st)
{
	struct scan_args *a = run->a;
	struct sockaddr_storage ss;
	socklen_t sslen;
	struct zc_tsig *tsig = NULL;
	struct zc_updater *up = NULL;
	char err[512] = "";
	int r;

	r = zc_addr_parse(a->parent_primary, 53, &ss, &sslen);
	if (r == 0 && a->tsig) {
		r = zc_tsig_parse(a->tsig, &tsig, err, sizeof(err));
	} else if (r == 0 && a->tsig_file) {
		r = zc_tsig_load_file(a->tsig_file, &tsig, err, sizeof(err));
	}
	if (r < 0) {
		fprintf(stderr, "%s: %s\n", arg_progname, err[0] ? err : zc_strerror(r));
		return EXIT_USAGE;
	}
	if (tsig && zc_tsig_is_weak(tsig)) {
		zc_log(arg_ctx, ZC_LOG_WARNING, "TSIG key '%s' is weak (SHA-1 or a short secret)",
		       zc_tsig_name(tsig));
	}
	r = zc_updater_new(arg_ctx, (struct sockaddr *)&ss, sslen, tsig, NULL, &up);
	if (r < 0) {
		zc_tsig_free(tsig);
		return EXIT_OPERATIONAL;
	}
	for (size_t i = 0; i < run->n_changes; i++) {
		struct pending_change *pc = &run->changes[i];
		char pbuf[ZC_DNS_MAX_NAME_TEXT];
		struct zc_change c = {
			.child = pc->child,
			.parent = parent_of(run, pc->child, pbuf, sizeof(pbuf)),
			.ds_old = pc->ds_old,
			.ds_new = pc->ds_new,
			.mode = pc->mode,
			.inception = pc->inception,
		};
		struct zc_apply_result res;

		r = zc_updater_apply(up, st, &c, &res);
		if (r < 0) {
			snprintf(res.message, sizeof(res.message), "%s",
				 r == -ESTALE ? "replayed signature inception: not applied" :
						zc_strerror(r));
			res.state = ZC_JOURNAL_FAILED;
			res.id = 0;
			res.sent = false;
			res.existing = false;
		}
		pc->journal_id = res.id;
		apply_result_log(pc->child, &res);
		if (res.state != ZC_JOURNAL_DONE) {
			run->apply_failed++;
		}
		if (pc->decision) {
			json_object_set_new(pc->decision, "apply", apply_result_json(&res));
			if (out_json_line(pc->decision) < 0) {
				run->write_failed = true;
			}
			pc->decision = NULL;
		}
		if (r < 0 && r != -ESTALE && r != -EALREADY && r != ZC_EMALF) {
			break; /* the store failed: stop sending */
		}
	}
	/*
	 * Earlier runs' unfinished changes (failed, or interrupted); not the ones
	 * this run has just tried: one attempt per change and run.
	 */
	if (r >= 0 || r == -ESTALE || r == -EALREADY || r == ZC_EMALF) {
		struct zc_journal_entry *v = NULL;
		size_t n = 0;

		r = zc_store_journal_list(st, true, run->parent[0] ? run->parent : NULL, 0, &v, &n);
		for (size_t i = 0; r == 0 && i < n; i++) {
			struct zc_apply_result res;
			bool tried = false;

			for (size_t j = 0; j < run->n_changes && !tried; j++) {
				tried = run->changes[j].journal_id == v[i].id;
			}
			if (tried) {
				continue;
			}
			r = zc_updater_resume(up, st, v[i].id, &res);
			if (r == -ESTALE || r == ZC_ENOTFOUND) {
				r = 0; /* another run finished or moved it meanwhile */
				continue;
			}
			if (r == 0) {
				on_retried(&v[i], &res, run);
			}
		}
		zc_journal_entries_free(v, n);
	}
	zc_updater_free(up);
	zc_tsig_free(tsig);
	return r < 0 ? EXIT_OPERATIONAL : 0;
}

static void changes_free(struct scan_run *run)
{
	for (size_t i = 0; i < run->n_changes; i++) {
		free(run->changes[i].child);
		ldns_rr_list_deep_free(run->changes[i].ds_old);
		ldns_rr_list_deep_free(run->changes[i].ds_new);
		json_decref(run->changes[i].decision);
	}
	free(run->changes);
}

/* Each query attempt holds a socket: allow as many descriptors as we may. */
static void raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static int load_sources(struct scan_args *a, struct zc_scan_source **ret_src)
{
	char err[1024] = "";
	int r;

	if (a->zone) {
		r = zc_zone_source_new(a->zone, a->child, ret_src, err, sizeof(err));
	} else {
		r = zc_list_source_new(a->list, a->child, ret_src, err, sizeof(err));
	}
	if (r < 0) {
		fprintf(stderr, "%s: %s\n", arg_progname, err[0] ? err : zc_strerror(r));
		return r == -ENOMEM ? EXIT_OPERATIONAL : EXIT_USAGE;
	}
	return 0;
}

/*
 * The input shared by the workers: one delegation at a time under a lock (the
 * zone source is a stream). After an error every worker sees the end; the error
 * is reported once, by cmd_scan().
 *
 * The workers stay within SHARE_SLACK delegations in progress of each other: a
 * worker ahead of the least busy one by more is told to ask again later (when one
 * of its own is decided; never while it has none). Otherwise, whenever there are
 * fewer delegations left than --concurrency (a small input, the end of a large
 * one), the first worker to ask could take them all, and a server would see only
 * that worker's share of --inflight-per-server. Each worker publishes its count
 * when it asks; the others read it without the lock's help for the rest.
 */
#define SHARE_SLACK 8

struct shared_source {
	struct zc_scan_source *inner; /* borrowed */
	pthread_mutex_t lock;
	int err;
	unsigned n;
	_Atomic unsigned *in_progress; /* per worker, as of its last question */
};

/* A worker's view of the shared input. */
struct worker_source {
	struct zc_scan_source pub;
	struct shared_source *sh;
	struct zc_scan *scan; /* the worker's own: read on its own thread only */
	unsigned idx;
};

static bool share_ahead(const struct shared_source *sh, unsigned idx, unsigned mine)
{
	unsigned least = UINT_MAX;

	for (unsigned i = 0; i < sh->n; i++) {
		if (i != idx) {
			unsigned v = atomic_load_explicit(&sh->in_progress[i], memory_order_relaxed);

			least = v < least ? v : least;
		}
	}
	return mine > 0 && least != UINT_MAX && mine > least + SHARE_SLACK;
}

static int shared_next(struct zc_scan_source *src, struct zc_delegation **ret)
{
	struct worker_source *ws = (struct worker_source *)src;
	struct shared_source *ss = ws->sh;
	unsigned mine = zc_scan_in_progress(ws->scan);
	int r = 1;

	pthread_mutex_lock(&ss->lock);
	if (ss->err == 0) {
		if (share_ahead(ss, ws->idx, mine)) {
			r = ZC_SCAN_SOURCE_LATER;
		} else {
			r = ss->inner->next(ss->inner, ret);
			if (r < 0) {
				ss->err = r;
				r = 1;
			} else if (r == 0) {
				mine++;
			}
		}
	}
	atomic_store_explicit(&ss->in_progress[ws->idx], mine, memory_order_relaxed);
	pthread_mutex_unlock(&ss->lock);
	return r;
}

static const char *shared_err(const struct zc_scan_source *src)
{
	const struct worker_source *ws = (const struct worker_source *)src;

	return ws->sh->inner->err(ws->sh->inner);
}

static void shared_free(struct zc_scan_source *src)
{
	(void)src; /* embedded in its worker */
}

/* One event loop with its own engine, resolver and scan, on a thread of its own. */
struct scan_worker {
	struct event_base *base;
	struct zc_engine *eng;
	struct zc_resolver *res;
	struct zc_resolver *res_plain; /* unvalidating, for the signals' first try */
	struct zc_scan *scan;
	struct zc_scan_source *src;
	struct worker_source shared_src; /* src when there are several workers */
	pthread_t thread;
	bool started;
	int r;
};

static void *worker_main(void *ud)
{
	struct scan_worker *w = ud;

	w->r = zc_scan_run(w->scan, w->src);
	return NULL;
}

/* Share @total out over @n parts: part @i of it (the parts add up to @total). */
static unsigned share(unsigned total, unsigned n, unsigned i)
{
	return total / n + (i < total % n ? 1 : 0);
}

/*
 * How many workers: --workers, else one per CPU (at most 8); never more than the
 * limits can be shared out over (each worker keeps at least one delegation and one
 * query in flight per server; the rate per server is shared, not shared out).
 */
static unsigned worker_count(const struct scan_args *a)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned n = a->workers;

	if (n == 0) {
		n = cpus > 0 ? (unsigned)cpus : 1;
		n = n > SCAN_DEFAULT_MAX_WORKERS ? SCAN_DEFAULT_MAX_WORKERS : n;
	}
	if (a->child || n > a->so.concurrency) {
		n = a->child ? 1 : a->so.concurrency;
	}
	if (a->eo.max_inflight_per_server && n > a->eo.max_inflight_per_server) {
		n = a->eo.max_inflight_per_server;
	}
	return n ? n : 1;
}

static const char *const scan_resolver_options[] = { "qname-minimisation: no", NULL };

static int worker_setup(struct scan_worker *w, struct scan_args *a, struct scan_run *run,
			unsigned n, unsigned i, bool *ret_usage)
{
	struct zc_resolver_opts ro;
	struct zc_engine_opts eo = a->eo;
	struct zc_scan_opts so = a->so;
	int r;

	/*
	 * --tcp-only is the policy for questions to the children's nameservers; the
	 * resolver (addresses, signals) keeps UDP with its own TCP fallback:
	 * libunbound 1.17 in event mode loses some lookups with tcp-upstream.
	 */
	cmd_resolver_opts(&a->ra, &ro);
	/*
	 * No QNAME minimisation (RFC 9156) for the RFC 9615 signal names: every child's
	 * name under _signal.<ns> is new to the cache, so minimisation walks it label by
	 * label, with a denial to validate at each empty non-terminal; that is about 2.7
	 * times the queries (and the validations) at the nameserver operator, for no
	 * privacy: below the operator's zone cut every name goes to the same servers.
	 */
	ro.options = scan_resolver_options;
	w->base = event_base_new();
	if (!w->base) {
		return -ENOMEM;
	}
	r = zc_resolver_new(arg_ctx, w->base, &ro, &w->res);
	if (r < 0) {
		*ret_usage = r == ZC_ECONFIG;
		return r;
	}
	if (ro.trust_anchor_file) {
		/*
		 * RFC 9615 signals: resolved first without validation and checked with
		 * the signer's DNSKEY set, which the validating resolver vouches for
		 * (zc_scan_opts.signal_resolver): our verification instead of
		 * libunbound's, which is two to three times slower here.
		 */
		ro.trust_anchor_file = NULL;
		r = zc_resolver_new(arg_ctx, w->base, &ro, &w->res_plain);
		if (r < 0) {
			return r;
		}
	}
	so.concurrency = share(a->so.concurrency, n, i);
	if (eo.max_inflight_per_server) {
		eo.max_inflight_per_server = share(a->eo.max_inflight_per_server, n, i);
	}
	if (eo.max_inflight < so.concurrency * 3) {
		eo.max_inflight = so.concurrency * 3;
	}
	r = zc_engine_new(arg_ctx, w->base, &eo, &w->eng);
	if (r < 0) {
		return r;
	}
	so.signal_resolver = w->res_plain;
	return zc_scan_new(arg_ctx, w->base, w->eng, w->res, &so, on_decision, run, &w->scan);
}

static void worker_release(struct scan_worker *w)
{
	zc_scan_free(w->scan);
	zc_engine_free(w->eng);
	zc_resolver_free(w->res);
	zc_resolver_free(w->res_plain);
	if (w->base) {
		event_base_free(w->base);
	}
}

int cmd_scan(int argc, char **argv)
{
	struct scan_args a = { 0 };
	struct scan_run run = { .a = &a };
	struct zc_scan_source *src = NULL;
	struct shared_source shared = { 0 };
	struct scan_worker *workers = NULL;
	unsigned n_workers = 0;
	struct zc_store *store = NULL;
	struct zc_rate_limit *rate = NULL;
	struct zc_scan_stats st = { 0 };
	int optind_ = 0, r, code = EXIT_OPERATIONAL;

	pthread_mutex_init(&run.lock, NULL);
	pthread_mutex_init(&shared.lock, NULL);
	zc_scan_opts_default(&a.so);
	zc_engine_opts_default(&a.eo);
	a.eo.qps_per_server = SCAN_DEFAULT_QPS_PER_SERVER;
	r = cmd_parse_options(&cmd_scan_def, &a, argc, argv, &optind_);
	if (r == 1) {
		return out_finish(EXIT_OK);
	}
	if (r) {
		return r;
	}
	if (optind_ < argc) {
		return cmd_usage_error("scan", "unexpected argument '%s'", argv[optind_]);
	}
	if (!a.zone == !a.list) {
		return cmd_usage_error("scan", "give exactly one of --zone FILE and --list FILE");
	}
	if (a.apply == APPLY_NSUPDATE && a.json && !a.output) {
		return cmd_usage_error("scan", "--apply nsupdate with --json needs --output FILE");
	}
	if (a.apply == APPLY_UPDATE && !a.parent_primary) {
		return cmd_usage_error("scan", "--apply update needs --parent-primary ADDR[@PORT]");
	}
	if (a.tsig && a.tsig_file) {
		return cmd_usage_error("scan", "give --tsig or --tsig-file, not both");
	}
	if (a.tcp_only) {
		a.so.flags |= ZC_Q_TCP;
	}
	r = load_sources(&a, &src);
	if (r) {
		return r;
	}
	if (zc_zone_source_origin(src)) {
		zc_name_to_str(zc_zone_source_origin(src), run.parent, sizeof(run.parent));
	}
	if (cmd_open_store(a.db, &store) < 0) {
		src->free(src);
		return EXIT_OPERATIONAL;
	}
	a.so.store = store;
	a.so.record = a.apply == APPLY_JSON || a.apply == APPLY_NSUPDATE;
	raise_fd_limit();
	if (a.apply == APPLY_NSUPDATE) {
		run.script = stdout;
		if (a.output) {
			run.script = fopen(a.output, "we");
			if (!run.script) {
				fprintf(stderr, "%s: %s: %s\n", arg_progname, a.output, strerror(errno));
				src->free(src);
				return EXIT_USAGE;
			}
		}
		if (a.parent_primary) {
			char host[128];
			char *at;

			/* nsupdate(1) takes "server ADDR [PORT]" */
			snprintf(host, sizeof(host), "%s", a.parent_primary);
			at = strrchr(host, '@');
			if (at) {
				*at = ' ';
			}
			fprintf(run.script, "server %s\n", host);
		}
	}
	n_workers = worker_count(&a);
	workers = calloc(n_workers, sizeof(*workers));
	if (!workers) {
		fprintf(stderr, "%s: out of memory\n", arg_progname);
		goto out;
	}
	/*
	 * --qps-per-server holds for the whole scan: the workers take their tokens from
	 * buckets they share, so a server gets the full rate whichever workers hold its
	 * queries (a share each would leave some of it unused whenever the delegations
	 * are not spread evenly, as at the start and the end of a scan).
	 */
	if (n_workers > 1 && a.eo.qps_per_server) {
		if (zc_rate_limit_new(a.eo.qps_per_server, &rate) < 0) {
			fprintf(stderr, "%s: out of memory\n", arg_progname);
			goto out;
		}
		a.eo.rate_limit = rate;
	}
	shared.inner = src;
	shared.n = n_workers;
	shared.in_progress = calloc(n_workers, sizeof(*shared.in_progress));
	if (!shared.in_progress) {
		fprintf(stderr, "%s: out of memory\n", arg_progname);
		goto out;
	}
	for (unsigned i = 0; i < n_workers; i++) {
		bool usage = false;

		r = worker_setup(&workers[i], &a, &run, n_workers, i, &usage);
		workers[i].shared_src = (struct worker_source){
			.pub = { shared_next, shared_err, shared_free },
			.sh = &shared,
			.scan = workers[i].scan,
			.idx = i,
		};
		workers[i].src = n_workers > 1 ? &workers[i].shared_src.pub : src;
		if (r < 0) {
			code = usage ? EXIT_USAGE : EXIT_OPERATIONAL;
			goto out;
		}
	}
	run.progress = zc_progress_new(stderr, "scan", 0, a.progress);
	/*
	 * Into a file or a pipe, decisions go out in 64 kB writes (about 150 lines of
	 * JSON) rather than the stdio default of 4 kB: a tenth of a million-line run's
	 * write() calls. A terminal keeps line buffering.
	 */
	if (!isatty(STDOUT_FILENO)) {
		static char outbuf[64 * 1024]; /* glibc ignores the size without a buffer */

		(void)setvbuf(stdout, outbuf, _IOFBF, sizeof(outbuf));
	}
	if (n_workers == 1) {
		workers[0].r = zc_scan_run(workers[0].scan, workers[0].src);
	} else {
		for (unsigned i = 0; i < n_workers; i++) {
			workers[i].started =
				pthread_create(&workers[i].thread, NULL, worker_main, &workers[i]) == 0;
			if (!workers[i].started) {
				workers[i].r = -EAGAIN;
				/* no count to keep the others within */
				atomic_store(&shared.in_progress[i], UINT_MAX);
			}
		}
		for (unsigned i = 0; i < n_workers; i++) {
			if (workers[i].started) {
				pthread_join(workers[i].thread, NULL);
			}
		}
	}
	zc_progress_free(run.progress);
	r = shared.err;
	for (unsigned i = 0; i < n_workers; i++) {
		struct zc_scan_stats ws;

		r = r < 0 ? r : workers[i].r;
		zc_scan_get_stats(workers[i].scan, &ws);
		st.delegations += ws.delegations;
		st.queries += ws.queries;
		st.signals_direct += ws.signals_direct;
	}
	if (r < 0) {
		const char *why = src->err(src);

		fprintf(stderr, "%s: scan stopped (%s)\n", arg_progname,
			why && why[0] ? why : zc_strerror(r));
		code = r == ZC_EMALF ? EXIT_USAGE : EXIT_OPERATIONAL;
		goto out;
	}
	{
		FILE *sum = (a.json || a.apply != APPLY_NONE) ? stderr : stdout;

		fprintf(sum, "%llu delegations: ", (unsigned long long)st.delegations);
		for (int i = 0; i < ZC_SCAN_RESULT_COUNT; i++) {
			fprintf(sum, "%s%llu %s", i ? ", " : "", (unsigned long long)run.counts[i],
				zc_scan_result_str(i));
		}
		/* the signal queries asked at the nameservers themselves are no
		 * delegation's own (as the resolvers' are not), but go out all the same */
		fprintf(sum, "; %llu queries", (unsigned long long)st.queries);
		if (st.signals_direct) {
			fprintf(sum, ", %llu signal queries",
				(unsigned long long)st.signals_direct);
		}
		fputc('\n', sum);
	}
	code = (run.counts[ZC_SCAN_REJECTED] || run.counts[ZC_SCAN_ERROR]) ? EXIT_ATTENTION :
									     EXIT_OK;
	if (a.apply == APPLY_UPDATE) {
		r = apply_updates(&run, store);
		if (r) {
			code = r;
		} else if (run.apply_failed) {
			code = EXIT_ATTENTION;
		}
	}
	if (run.write_failed) {
		code = EXIT_OPERATIONAL;
	}
out:
	if (run.script && run.script != stdout) {
		if (fclose(run.script) != 0) {
			code = EXIT_OPERATIONAL;
		}
	}
	for (unsigned i = 0; workers && i < n_workers; i++) {
		worker_release(&workers[i]);
	}
	free(workers);
	zc_rate_limit_free(rate);
	changes_free(&run);
	zc_store_free(store);
	pthread_mutex_destroy(&shared.lock);
	free(shared.in_progress);
	pthread_mutex_destroy(&run.lock);
	if (src) {
		src->free(src);
	}
	return out_finish(code);
}
