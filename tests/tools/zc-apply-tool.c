/* SPDX-License-Identifier: MIT */
/*
 * zc-apply-tool: drives store/ and apply/ for the system tests, through the same
 * library calls that `zonecut scan --apply update` makes. Prints JSON on stdout.
 *
 *   zc-apply-tool update   --db F --primary A[@P] (--tsig K | --tsig-file F)
 *                          --child C --zone Z [--old DS] [--new DS] [--ttl N]
 *                          [--mode M] [--inception N] [--timeout MS]
 *   zc-apply-tool retry    --db F --primary A[@P] (--tsig K | --tsig-file F) [--zone Z]
 *   zc-apply-tool journal  --db F --child C --zone Z [--old DS] [--new DS] [--state S]
 *                          (journals a change and stops: what a crash leaves behind)
 *   zc-apply-tool list     --db F
 *   zc-apply-tool nsupdate --child C --zone Z [--old DS] [--new DS] [--server A[@P]]
 *                          [--prereq]
 *
 * DS sets are "KEYTAG ALG DIGESTTYPE HEX" entries separated by ';' or newlines.
 * Exit: 0 done; 1 the change failed or conflicted; 2 usage; 3 operational error.
 */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zonecut/zonecut.h>

struct args {
	const char *db, *primary, *tsig, *tsig_file, *child, *zone, *old, *new, *mode, *state;
	const char *server;
	uint32_t ttl, inception, timeout;
	bool prereq;
};

static void log_stderr(void *ud, int level, const char *msg)
{
	(void)ud;
	fprintf(stderr, "zc-apply-tool: <%d> %s\n", level, msg);
}

static int usage(const char *why)
{
	fprintf(stderr, "zc-apply-tool: %s\nusage: zc-apply-tool update|retry|journal|list|nsupdate "
			"[options] (see the source)\n",
		why);
	return 2;
}

static json_t *result_json(const struct zc_apply_result *r)
{
	return json_pack("{s:I, s:s, s:b, s:b, s:i, s:i, s:s, s:s}", "id", (json_int_t)r->id,
			 "state", zc_journal_state_str(r->state), "existing", r->existing, "sent",
			 r->sent, "rcode", r->rcode, "tsig_error", r->tsig_error, "tsig_error_text",
			 r->tsig_error ? zc_tsig_error_str(r->tsig_error) : "", "message",
			 r->message);
}

static json_t *entry_json(const struct zc_journal_entry *e)
{
	return json_pack("{s:I, s:s, s:s, s:s, s:s, s:I, s:s, s:I, s:s, s:I, s:i, s:s?, s:s?}",
			 "id", (json_int_t)e->id, "child", e->child, "parent", e->parent,
			 "ds_old", e->ds_old, "ds_new", e->ds_new, "ttl", (json_int_t)e->ttl,
			 "mode", zc_change_mode_str(e->mode), "inception",
			 (json_int_t)e->inception, "state", zc_journal_state_str(e->state),
			 "attempts", (json_int_t)e->attempts, "last_rcode", e->last_rcode,
			 "last_error", e->last_error, "target", e->target);
}

static int print_json(json_t *j)
{
	int r = j ? json_dumpf(j, stdout, JSON_COMPACT) : -1;

	json_decref(j);
	putchar('\n');
	return r == 0 && fflush(stdout) == 0 ? 0 : 3;
}

static int load_key(const struct args *a, struct zc_tsig **ret)
{
	char err[512] = "";
	int r;

	*ret = NULL;
	if (a->tsig) {
		r = zc_tsig_parse(a->tsig, ret, err, sizeof(err));
	} else if (a->tsig_file) {
		r = zc_tsig_load_file(a->tsig_file, ret, err, sizeof(err));
	} else {
		return 0;
	}
	if (r < 0) {
		fprintf(stderr, "zc-apply-tool: %s\n", err);
		return 2;
	}
	if (zc_tsig_is_weak(*ret)) {
		fprintf(stderr, "zc-apply-tool: warning: TSIG key '%s' is weak (%s)\n",
			zc_tsig_name(*ret), zc_tsig_algorithm_str(zc_tsig_algorithm(*ret)));
	}
	return 0;
}

static int make_updater(struct zc_ctx *ctx, const struct args *a, const struct zc_tsig *key,
			struct zc_updater **ret)
{
	struct zc_updater_opts o = { .timeout_ms = a->timeout };
	struct sockaddr_storage ss;
	socklen_t sl;

	if (!a->primary || zc_addr_parse(a->primary, 53, &ss, &sl) < 0) {
		return usage("--primary ADDR[@PORT] is required");
	}
	if (zc_updater_new(ctx, (struct sockaddr *)&ss, sl, key, &o, ret) < 0) {
		return 3;
	}
	return 0;
}

/* Builds the change from the arguments; the lists are freed by the caller. */
static int make_change(const struct args *a, struct zc_change *c, ldns_rr_list **old,
		       ldns_rr_list **new)
{
	enum zc_change_mode mode = ZC_CHANGE_UPDATE;

	if (!a->child || !a->zone) {
		return usage("--child and --zone are required");
	}
	if (a->mode && zc_change_mode_parse(a->mode, &mode) < 0) {
		return usage("bad --mode");
	}
	if (zc_apply_ds_parse(a->child, 0, a->old ? a->old : "", old) < 0 ||
	    zc_apply_ds_parse(a->child, 0, a->new ? a->new : "", new) < 0) {
		return usage("bad DS text in --old or --new");
	}
	memset(c, 0, sizeof(*c));
	c->child = a->child;
	c->parent = a->zone;
	c->ds_old = *old;
	c->ds_new = *new;
	c->ttl = a->ttl;
	c->mode = mode;
	c->inception = a->inception;
	return 0;
}

static void on_retry(const struct zc_journal_entry *e, const struct zc_apply_result *res,
		     void *ud)
{
	json_t *arr = ud;
	json_t *o = result_json(res);

	json_object_set_new(o, "child", json_string(e->child));
	json_object_set_new(o, "attempts", json_integer(e->attempts));
	json_array_append_new(arr, o);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "primary", required_argument, NULL, 'p' },
		{ "tsig", required_argument, NULL, 'k' },
		{ "tsig-file", required_argument, NULL, 'K' },
		{ "child", required_argument, NULL, 'c' },
		{ "zone", required_argument, NULL, 'z' },
		{ "old", required_argument, NULL, 'o' },
		{ "new", required_argument, NULL, 'n' },
		{ "ttl", required_argument, NULL, 't' },
		{ "mode", required_argument, NULL, 'm' },
		{ "inception", required_argument, NULL, 'i' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "state", required_argument, NULL, 's' },
		{ "server", required_argument, NULL, 'S' },
		{ "prereq", no_argument, NULL, 'P' },
		{ NULL, 0, NULL, 0 },
	};
	struct args a = { .timeout = 3000 };
	struct zc_ctx *ctx = zc_ctx_new();
	struct zc_store *st = NULL;
	struct zc_updater *up = NULL;
	struct zc_tsig *key = NULL;
	ldns_rr_list *old = NULL, *new = NULL;
	struct zc_change c;
	const char *cmd;
	int opt, rc = 0, r;

	if (argc < 2 || !ctx) {
		return usage("no command");
	}
	cmd = argv[1];
	zc_ctx_set_log_fn(ctx, log_stderr, NULL);
	zc_ctx_set_log_level(ctx, ZC_LOG_INFO);
	optind = 2;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'd': a.db = optarg; break;
		case 'p': a.primary = optarg; break;
		case 'k': a.tsig = optarg; break;
		case 'K': a.tsig_file = optarg; break;
		case 'c': a.child = optarg; break;
		case 'z': a.zone = optarg; break;
		case 'o': a.old = optarg; break;
		case 'n': a.new = optarg; break;
		case 'm': a.mode = optarg; break;
		case 's': a.state = optarg; break;
		case 'S': a.server = optarg; break;
		case 'P': a.prereq = true; break;
		case 't':
			if (zc_parse_u32(optarg, 1, INT32_MAX, &a.ttl) < 0) {
				return usage("bad --ttl");
			}
			break;
		case 'i':
			if (zc_parse_u32(optarg, 0, UINT32_MAX, &a.inception) < 0) {
				return usage("bad --inception");
			}
			break;
		case 'T':
			if (zc_parse_u32(optarg, 1, 600000, &a.timeout) < 0) {
				return usage("bad --timeout");
			}
			break;
		default:
			return usage("bad option");
		}
	}
	if (strcmp(cmd, "nsupdate") == 0) {
		rc = make_change(&a, &c, &old, &new);
		if (rc == 0) {
			r = zc_apply_nsupdate(stdout, &c, a.server, NULL,
					      a.prereq ? ZC_NSUPDATE_PREREQ : 0);
			rc = r < 0 ? (r == -EIO ? 3 : 2) : 0;
			if (r < 0) {
				fprintf(stderr, "zc-apply-tool: %s\n", zc_strerror(r));
			}
		}
		goto out;
	}
	if (!a.db) {
		rc = usage("--db is required");
		goto out;
	}
	r = zc_store_open(ctx, a.db, &st);
	if (r < 0) {
		fprintf(stderr, "zc-apply-tool: store '%s': %s\n", a.db, zc_strerror(r));
		rc = 3;
		goto out;
	}
	if (strcmp(cmd, "list") == 0) {
		struct zc_journal_entry *v = NULL;
		size_t n = 0;
		json_t *arr = json_array();

		r = zc_store_journal_list(st, false, NULL, 0, &v, &n);
		if (r < 0) {
			rc = 3;
			json_decref(arr);
			goto out;
		}
		for (size_t i = 0; i < n; i++) {
			json_array_append_new(arr, entry_json(&v[i]));
		}
		zc_journal_entries_free(v, n);
		rc = print_json(arr);
	} else if (strcmp(cmd, "journal") == 0) {
		struct zc_journal_entry e;
		enum zc_journal_state to = ZC_JOURNAL_PENDING;
		int64_t id;

		rc = make_change(&a, &c, &old, &new);
		if (rc != 0) {
			goto out;
		}
		if (a.state && (zc_journal_state_parse(a.state, &to) < 0 ||
				(to != ZC_JOURNAL_PENDING && to != ZC_JOURNAL_SENT))) {
			rc = usage("--state must be pending or sent");
			goto out;
		}
		r = zc_change_to_journal(&c, &e);
		if (r < 0) {
			rc = usage(zc_strerror(r));
			goto out;
		}
		r = zc_store_journal_add(st, &e, &id, NULL);
		zc_journal_entry_release(&e);
		if (r == 0 && to == ZC_JOURNAL_SENT) {
			r = zc_store_journal_set_state(st, id, ZC_JOURNAL_PENDING, ZC_JOURNAL_SENT,
						       -1, NULL, a.primary);
		}
		if (r < 0) {
			fprintf(stderr, "zc-apply-tool: %s\n", zc_strerror(r));
			rc = 3;
			goto out;
		}
		rc = print_json(json_pack("{s:I, s:s}", "id", (json_int_t)id, "state",
					  zc_journal_state_str(to)));
	} else if (strcmp(cmd, "update") == 0 || strcmp(cmd, "retry") == 0) {
		rc = load_key(&a, &key);
		if (rc == 0) {
			rc = make_updater(ctx, &a, key, &up);
		}
		if (rc != 0) {
			goto out;
		}
		if (strcmp(cmd, "update") == 0) {
			struct zc_apply_result res;

			rc = make_change(&a, &c, &old, &new);
			if (rc != 0) {
				goto out;
			}
			r = zc_updater_apply(up, st, &c, &res);
			if (r < 0) {
				print_json(json_pack("{s:s, s:i, s:s}", "state", "error", "error", r,
						     "message", zc_strerror(r)));
				rc = r == -ESTALE || r == -EALREADY || r == ZC_EMALF ? 1 : 3;
				goto out;
			}
			rc = print_json(result_json(&res));
			if (rc == 0 && res.state != ZC_JOURNAL_DONE) {
				rc = 1;
			}
		} else {
			json_t *arr = json_array();
			size_t n = 0;

			r = zc_updater_retry_pending(up, st, a.zone, on_retry, arr, &n);
			if (r < 0) {
				fprintf(stderr, "zc-apply-tool: retry: %s\n", zc_strerror(r));
				json_decref(arr);
				rc = 3;
				goto out;
			}
			for (size_t i = 0; i < json_array_size(arr); i++) {
				const char *s = json_string_value(
					json_object_get(json_array_get(arr, i), "state"));

				if (s && strcmp(s, "done") != 0) {
					rc = 1;
				}
			}
			r = print_json(arr);
			if (r != 0) {
				rc = r;
			}
		}
	} else {
		rc = usage("unknown command");
	}
out:
	ldns_rr_list_deep_free(old);
	ldns_rr_list_deep_free(new);
	zc_updater_free(up);
	zc_tsig_free(key);
	zc_store_free(st);
	zc_ctx_free(ctx);
	return rc;
}
