/* SPDX-License-Identifier: MIT */
/*
 * zonecut signers: the multi-signer controller (RFC 8901, model 2). Verbs to
 * configure signers and zones, to start join/leave/sync processes, to run them
 * (once, or in a loop until they are done) and to show where each zone stands.
 * Everything is in libzonecut (zonecut/signers.h); this file parses, prints and
 * chooses the exit code.
 */
#include <errno.h>
#include <fnmatch.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include <zonecut/signers.h>

#define SIGNERS_MAX_CONF 64

struct signers_args {
	const char *db;
	const char *config;
	const char *conf_signers[SIGNERS_MAX_CONF];
	size_t n_conf_signers;
	const char *conf_zones[SIGNERS_MAX_CONF];
	size_t n_conf_zones;
	bool json;
	bool replace;
	bool loop;
	bool offline;
	bool wait;
	struct zc_signers_opts so;
	struct cmd_resolver_args ra; /* for ns names given without addresses */
	struct zc_resolver_opts ro;
	uint64_t max_time_ms;
};

static int ms_opt(const char *value, uint64_t unit, uint64_t max, uint64_t *ret, char *err,
		  size_t errlen)
{
	if (zc_parse_duration_ms(value, unit, ret) < 0 || *ret == 0 || *ret > max) {
		snprintf(err, errlen, "'%s' is not a duration up to %llus", value,
			 (unsigned long long)(max / 1000));
		return -EINVAL;
	}
	return 0;
}

static int signers_set(void *state, const struct cmd_opt *o, const char *value, char *err,
		       size_t errlen)
{
	struct signers_args *a = state;
	const char *n = o->name;
	uint64_t ms;
	int r = cmd_resolver_set(&a->ra, o, value, err, errlen);

	if (r != 0) {
		return r < 0 ? r : 0;
	}
	if (strcmp(n, "db") == 0) {
		a->db = value;
	} else if (strcmp(n, "config") == 0) {
		a->config = value;
	} else if (strcmp(n, "json") == 0) {
		a->json = true;
	} else if (strcmp(n, "replace") == 0) {
		a->replace = true;
	} else if (strcmp(n, "loop") == 0) {
		a->loop = true;
	} else if (strcmp(n, "wait") == 0) {
		a->wait = true;
	} else if (strcmp(n, "offline") == 0) {
		a->offline = true;
	} else if (strcmp(n, "signer") == 0 || strcmp(n, "zone") == 0) {
		bool s = n[0] == 's';
		size_t *cnt = s ? &a->n_conf_signers : &a->n_conf_zones;

		if (*cnt >= SIGNERS_MAX_CONF) {
			snprintf(err, errlen, "at most %d entries", SIGNERS_MAX_CONF);
			return -EINVAL;
		}
		(s ? a->conf_signers : a->conf_zones)[(*cnt)++] = value;
	} else if (strcmp(n, "timeout") == 0) {
		r = ms_opt(value, 1000, 60000, &ms, err, errlen);
		a->so.timeout_ms = (unsigned)ms;
		return r;
	} else if (strcmp(n, "readback-timeout") == 0) {
		r = ms_opt(value, 1000, 3600000, &ms, err, errlen);
		a->so.readback_timeout_ms = (unsigned)ms;
		return r;
	} else if (strcmp(n, "retry") == 0) {
		r = ms_opt(value, 1000, 86400000, &ms, err, errlen);
		a->so.retry_s = (unsigned)((ms + 999) / 1000);
		return r;
	} else if (strcmp(n, "max-time") == 0) {
		return ms_opt(value, 1000, 365ull * 86400000, &a->max_time_ms, err, errlen);
	}
	return 0;
}

static const struct cmd_opt signers_opts[] = {
	{ "db", 0, true, "FILE", "state store (SQLite)", signers_set },
	{ "signer", 0, true, "SPEC", "a signer (config file; repeatable): NAME key=value...",
	  signers_set },
	{ "zone", 0, true, "SPEC", "a zone (config file; repeatable): ZONE key=value...",
	  signers_set },
	{ "json", 'j', false, NULL, "JSON output (one object per line)", signers_set },
	{ "replace", 0, false, NULL, "add: replace an existing signer or zone", signers_set },
	{ "wait", 'w', false, NULL, "join/leave/sync/rollover: run the process until it ends",
	  signers_set },
	{ "loop", 0, false, NULL, "run: go on until no process is waiting any more", signers_set },
	{ "max-time", 0, true, "DURATION", "run --loop, --wait: give up after this long",
	  signers_set },
	{ "offline", 0, false, NULL, "status: the store only, no queries", signers_set },
	{ "timeout", 0, true, "DURATION", "each DNS exchange (default 5s)", signers_set },
	{ "readback-timeout", 0, true, "DURATION",
	  "how long a write may take to show on every server (default 30s)", signers_set },
	{ "retry", 0, true, "DURATION", "retry and parent polling interval (default 10s)",
	  signers_set },
	CMD_RESOLVER_OPTS(signers_set),
	{ "config", 'c', true, "FILE", "read options from FILE", signers_set, true },
	{ NULL },
};

static int cmd_signers(int argc, char **argv);

const struct cmd cmd_signers_def = {
	.name = "signers",
	.run = cmd_signers,
	.summary = "multi-signer controller: keep signers in sync, add and remove them",
	.opts = signers_opts,
	.usage =
		"Usage: zonecut signers add NAME [driver=rfc2136|pdns-api] server=ADDR[@PORT]\n"
		"                        [tsig=[ALG:]KEY:SECRET | tsig-file=FILE]\n"
		"                        [api-key=TOKEN] ns=NSNAME[=ADDR[@PORT],...] ...\n"
		"                        [keys-command=PATH|manual]\n"
		"       zonecut signers remove NAME\n"
		"       zonecut signers zone-add ZONE signers=NAME[,NAME...]\n"
		"                        parent=ADDR[@PORT][,...] [cds-digests=2,4]\n"
		"                        [propagation-delay=DURATION] [max-zone-ttl=DURATION]\n"
		"       zonecut signers zone-remove ZONE\n"
		"       zonecut signers list [--json]\n"
		"       zonecut signers join ZONE SIGNER [--wait]\n"
		"       zonecut signers leave ZONE SIGNER [--wait]\n"
		"       zonecut signers sync ZONE [--wait]\n"
		"       zonecut signers rollover ZONE SIGNER zsk|ksk|csk [--wait]\n"
		"       zonecut signers run [ZONE] [--loop]\n"
		"       zonecut signers status [ZONE] [--json] [--offline]\n"
		"       zonecut signers abort|resume ZONE\n"
		"\n"
		"The multi-signer controller of RFC 8901 (model 2): a zone is served by a group\n"
		"of signers (DNS providers), each signing with its own keys. The controller puts\n"
		"every signer's ZSKs and CSKs into every DNSKEY set, publishes identical CDS and\n"
		"CDNSKEY records for every KSK and CSK at every signer, keeps the NS set the union\n"
		"of the signers' nameservers (with CSYNC for the parent when it changes), and adds\n"
		"(join) or removes (leave) a signer in the order that never breaks validation.\n"
		"\n"
		"rollover rolls one signer's ZSK (pre-publish), KSK (double-DS) or CSK inside the\n"
		"group. The signer's keys-command makes it act, as\n"
		"  PATH ZONE publish|activate|remove zsk|ksk|csk [KEYTAG...]\n"
		"(no shell; each action idempotent), or with keys-command=manual the operator\n"
		"does each step at the provider when status says so. Every effect is read from\n"
		"what the signer serves (a new key; RRSIGs by the new key over the SOA or DNSKEY\n"
		"set; the old key gone); a command whose effect never shows stops the process.\n"
		"The old ZSK/CSK stays published for the zone's max-zone-ttl (default: the\n"
		"largest apex TTL served).\n"
		"\n"
		"Every write (RFC 2136 UPDATE with TSIG, or the PowerDNS API) is read back from\n"
		"every authoritative server of the signer: the addresses given as\n"
		"ns=NAME=ADDR, and for a name given without addresses its A and AAAA records\n"
		"(port 53), resolved once per pass through the validating resolver\n"
		"(--trust-anchor, --root-hints, --forward, as for scan). A name that gives no\n"
		"address (NXDOMAIN, SERVFAIL, bogus, timeout) is never skipped: the step waits\n"
		"and tries again, and status says why. A signer that answers NOERROR and\n"
		"changes nothing stops the process. Waits are computed from the TTLs the servers\n"
		"serve (DNSKEY-Wait, DS-Wait, NS-Wait); the parent's DS and NS sets are read from\n"
		"the parent= servers. Each step, deadline and key pushed is recorded in the state\n"
		"store before the next thing happens: after a crash, 'run' resumes every zone\n"
		"where it stood. A process stopped on a finding waits for the operator: fix the\n"
		"cause, then 'resume' (or 'abort').\n"
		"\n"
		"join, leave, sync and rollover start a process and run one pass (with --wait:\n"
		"until it ends); 'run' makes one pass over every unfinished process (with\n"
		"--loop: until none is waiting). Signers and zones may also be given in the\n"
		"config file as 'signer = SPEC' and 'zone = SPEC' lines: they are stored at\n"
		"every start (a zone's signers= is only its first group; join and leave change\n"
		"the group).\n"
		"\n"
		"Exit status: 0 done; 1 a process stopped or a group is out of sync; 2 bad usage\n"
		"or configuration; 3 operational failure (store, internal).\n",
};

/* An error of the library, with its reason; returns the exit code for @r. */
static int fail(struct zc_signers *c, int r, const char *what)
{
	const char *why = zc_signers_last_error(c);

	fprintf(stderr, "%s: %s: %s\n", arg_progname, what, why && why[0] ? why : zc_strerror(r));
	switch (r) {
	case -EINVAL:
	case -EEXIST:
	case -EBUSY:
	case ZC_ENOTFOUND:
	case ZC_ECONFIG:
	case ZC_ELIMIT:
	case ZC_ENOTSUP:
		return EXIT_USAGE;
	default:
		return EXIT_OPERATIONAL;
	}
}

/* Joins argv[from..argc) with blanks into @buf. */
static int join_args(int argc, char **argv, int from, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (int i = from; i < argc; i++) {
		int n = snprintf(buf + used, len - used, "%s%s", i > from ? " " : "", argv[i]);

		if (n < 0 || (size_t)n >= len - used) {
			return -1;
		}
		used += (size_t)n;
	}
	return 0;
}

/* The config file's signer and zone entries go into the store first. */
static int apply_conf(struct zc_signers *c, const struct signers_args *a)
{
	char err[512] = "";
	int r;

	for (size_t i = 0; i < a->n_conf_signers; i++) {
		struct zc_signer *s = NULL;

		r = zc_signer_parse(a->conf_signers[i], &s, err, sizeof(err));
		if (r < 0) {
			return cmd_usage_error("signers", "signer: %s", err);
		}
		r = zc_signers_signer_add(c, s, true);
		zc_signer_free(s);
		if (r < 0) {
			return fail(c, r, "signer from the configuration");
		}
	}
	for (size_t i = 0; i < a->n_conf_zones; i++) {
		struct zc_signer_zone *z = NULL;

		r = zc_signer_zone_parse(a->conf_zones[i], &z, err, sizeof(err));
		if (r < 0) {
			return cmd_usage_error("signers", "zone: %s", err);
		}
		r = zc_signers_zone_add(c, z, true);
		zc_signer_zone_free(z);
		if (r < 0) {
			return fail(c, r, "zone from the configuration");
		}
	}
	return 0;
}

static int verb_add(struct zc_signers *c, const struct signers_args *a, int argc, char **argv,
		    bool zone)
{
	char text[8192], err[512] = "";
	int r;

	if (argc < 2) {
		return cmd_usage_error("signers", "%s needs %s", argv[0], zone ? "a ZONE" : "a NAME");
	}
	if (join_args(argc, argv, 1, text, sizeof(text)) < 0) {
		return cmd_usage_error("signers", "%s: the specification is too long", argv[0]);
	}
	if (zone) {
		struct zc_signer_zone *z = NULL;

		r = zc_signer_zone_parse(text, &z, err, sizeof(err));
		if (r < 0) {
			return cmd_usage_error("signers", "%s", err);
		}
		r = zc_signers_zone_add(c, z, a->replace);
		zc_signer_zone_free(z);
	} else {
		struct zc_signer *s = NULL;

		r = zc_signer_parse(text, &s, err, sizeof(err));
		if (r < 0) {
			return cmd_usage_error("signers", "%s", err);
		}
		r = zc_signers_signer_add(c, s, a->replace);
		zc_signer_free(s);
	}
	return r < 0 ? fail(c, r, argv[0]) : EXIT_OK;
}

static int verb_remove(struct zc_signers *c, int argc, char **argv, bool zone)
{
	int r;

	if (argc != 2) {
		return cmd_usage_error("signers", "%s takes exactly one %s", argv[0],
				       zone ? "ZONE" : "NAME");
	}
	r = zone ? zc_signers_zone_remove(c, argv[1]) : zc_signers_signer_remove(c, argv[1]);
	return r < 0 ? fail(c, r, argv[0]) : EXIT_OK;
}

static int verb_list(struct zc_signers *c, const struct signers_args *a)
{
	struct zc_signer **sv = NULL;
	struct zc_signer_zone **zv = NULL;
	size_t sn = 0, zn = 0;
	json_t *js = NULL, *jz = NULL;
	int r, code = EXIT_OK;

	r = zc_signers_signer_list(c, &sv, &sn);
	if (r == 0) {
		r = zc_signers_zone_list(c, &zv, &zn);
	}
	if (r < 0) {
		code = fail(c, r, "list");
		goto out;
	}
	if (a->json) {
		js = json_array();
		jz = json_array();
	} else {
		printf("%zu signer%s\n", sn, sn == 1 ? "" : "s");
	}
	for (size_t i = 0; i < sn; i++) {
		char *text = NULL;

		if (zc_signer_format(sv[i], true, &text) < 0) {
			code = EXIT_OPERATIONAL;
			break;
		}
		if (a->json) {
			json_t *ns = json_array();

			for (unsigned k = 0; k < sv[i]->n_ns; k++) {
				json_array_append_new(ns, json_string(sv[i]->ns[k].name));
			}
			json_array_append_new(js, json_pack("{s:s, s:s, s:s, s:o, s:s}", "name",
							    sv[i]->name, "driver",
							    zc_signer_driver_str(sv[i]->driver),
							    "server", sv[i]->server, "ns", ns, "spec",
							    text));
		} else {
			printf("  %s\n", text);
		}
		free(text);
	}
	if (!a->json) {
		printf("%zu zone%s\n", zn, zn == 1 ? "" : "s");
	}
	for (size_t i = 0; i < zn; i++) {
		char *text = NULL;

		if (zc_signer_zone_format(zv[i], true, &text) < 0) {
			code = EXIT_OPERATIONAL;
			break;
		}
		if (a->json) {
			json_t *g = json_array();

			for (unsigned k = 0; k < zv[i]->n_signers; k++) {
				json_array_append_new(g, json_string(zv[i]->signers[k]));
			}
			json_array_append_new(jz, json_pack("{s:s, s:o, s:s}", "zone", zv[i]->zone,
							    "signers", g, "spec", text));
		} else {
			printf("  %s\n", text);
		}
		free(text);
	}
	if (a->json && out_json_line(json_pack("{s:s, s:o, s:o}", "schema",
					       "zonecut.signers.list.v1", "signers", js, "zones",
					       jz)) < 0) {
		code = EXIT_OPERATIONAL;
	}
out:
	for (size_t i = 0; i < sn; i++) {
		zc_signer_free(sv[i]);
	}
	free(sv);
	for (size_t i = 0; i < zn; i++) {
		zc_signer_zone_free(zv[i]);
	}
	free(zv);
	return code;
}

static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
	got_signal = sig;
}

/*
 * Passes over @zone (NULL: all) until nothing waits any more (with @loop), the
 * time is up, or a signal comes. Exit 1 when a process stopped.
 */
static int run_passes(struct zc_signers *c, const struct signers_args *a, const char *zone,
		      bool loop)
{
	uint64_t start = zc_now_mono_ms();
	struct zc_signers_pass p;
	struct sigaction sa = { .sa_handler = on_signal };
	int r;

	sigemptyset(&sa.sa_mask);
	(void)sigaction(SIGTERM, &sa, NULL);
	(void)sigaction(SIGINT, &sa, NULL);
	for (;;) {
		int64_t now;
		uint64_t sleep_ms;

		r = zc_signers_run(c, zone, &p);
		if (r < 0) {
			return fail(c, r, "run");
		}
		if (!loop || p.waiting == 0 || got_signal) {
			break;
		}
		if (a->max_time_ms && zc_now_mono_ms() - start >= a->max_time_ms) {
			zc_log(arg_ctx, ZC_LOG_WARNING, "giving up after --max-time; %u process%s "
							"still waiting",
			       p.waiting, p.waiting == 1 ? "" : "es");
			break;
		}
		now = (int64_t)(zc_now_wall_ms() / 1000);
		sleep_ms = p.next_s > now ? (uint64_t)(p.next_s - now) * 1000 : 200;
		if (sleep_ms > 1000) {
			sleep_ms = 1000; /* look again every second: a signal, the time limit */
		}
		{
			struct timespec ts = { .tv_sec = (time_t)(sleep_ms / 1000),
					       .tv_nsec = (long)(sleep_ms % 1000) * 1000000L };

			(void)nanosleep(&ts, NULL);
		}
	}
	if (a->json) {
		if (out_json_line(json_pack("{s:s, s:i, s:i, s:i, s:i, s:I}", "schema",
					    "zonecut.signers.run.v1", "zones", p.zones, "waiting",
					    p.waiting, "stopped", p.stopped, "finished", p.finished,
					    "next", (json_int_t)p.next_s)) < 0) {
			return EXIT_OPERATIONAL;
		}
	} else if (p.zones) {
		fprintf(stderr, "%u zone%s: %u finished, %u waiting, %u stopped\n", p.zones,
			p.zones == 1 ? "" : "s", p.finished, p.waiting, p.stopped);
	}
	return p.stopped ? EXIT_ATTENTION : EXIT_OK;
}

static int verb_process(struct zc_signers *c, const struct signers_args *a, int argc, char **argv,
			enum zc_signers_proc kind)
{
	int need = kind == ZC_PROC_SYNC ? 2 : kind == ZC_PROC_JOIN || kind == ZC_PROC_LEAVE ? 3 : 4;
	int r;

	if (argc != need) {
		return cmd_usage_error("signers", "%s takes %s", argv[0],
				       need == 2   ? "ZONE"
				       : need == 3 ? "ZONE SIGNER"
						   : "ZONE SIGNER zsk|ksk|csk");
	}
	if (need == 4) {
		if (strcmp(argv[3], "zsk") == 0) {
			kind = ZC_PROC_ROLL_ZSK;
		} else if (strcmp(argv[3], "ksk") == 0) {
			kind = ZC_PROC_ROLL_KSK;
		} else if (strcmp(argv[3], "csk") == 0) {
			kind = ZC_PROC_ROLL_CSK;
		} else {
			return cmd_usage_error("signers", "rollover: '%s' is not zsk, ksk or csk",
					       argv[3]);
		}
	}
	r = zc_signers_start(c, argv[1], kind, need > 2 ? argv[2] : NULL);
	if (r < 0) {
		return fail(c, r, argv[0]);
	}
	return run_passes(c, a, argv[1], a->wait);
}

/* --- status ------------------------------------------------------------------------- */

static void print_time(int64_t t, int64_t now)
{
	time_t tt = (time_t)t;
	struct tm tm;
	char buf[64];

	gmtime_r(&tt, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S UTC", &tm);
	printf("%s (in %llds)", buf, (long long)(t > now ? t - now : 0));
}

static void print_list(const char *label, json_t *arr)
{
	size_t i;
	json_t *v;

	printf("    %-8s", label);
	if (json_array_size(arr) == 0) {
		printf(" -\n");
		return;
	}
	json_array_foreach(arr, i, v) {
		printf("%s%s\n", i ? "             " : " ", json_string_value(v));
	}
}

static void print_zone(json_t *z)
{
	json_t *p = json_object_get(z, "process"), *g = json_object_get(z, "group"), *v;
	int64_t now = json_integer_value(json_object_get(z, "now"));
	size_t i;

	printf("zone %s\n  group:", json_string_value(json_object_get(z, "zone")));
	json_array_foreach(g, i, v) {
		printf("%s %s (%s)", i ? "," : "", json_string_value(json_object_get(v, "signer")),
		       json_string_value(json_object_get(v, "state")));
	}
	printf("\n");
	if (json_is_object(p)) {
		const char *signer = json_string_value(json_object_get(p, "signer"));
		const char *wait = json_string_value(json_object_get(p, "waiting_for"));
		const char *err = json_string_value(json_object_get(p, "error"));

		printf("  process: %s%s%s, step %s, %s\n",
		       json_string_value(json_object_get(p, "kind")), signer ? " of " : "",
		       signer ? signer : "", json_string_value(json_object_get(p, "step")),
		       json_string_value(json_object_get(p, "status")));
		if (wait) {
			printf("  waiting for: %s", wait);
			if (json_is_integer(json_object_get(p, "until"))) {
				printf(", until ");
				print_time(json_integer_value(json_object_get(p, "until")), now);
			}
			printf("\n");
		}
		if (err) {
			printf("  %s: %s\n",
			       strcmp(json_string_value(json_object_get(p, "status")), "stopped") == 0
				       ? "stopped"
				       : "last error",
			       err);
		}
	} else {
		printf("  process: none\n");
	}
	json_array_foreach(json_object_get(z, "signers"), i, v) {
		json_t *k;
		size_t j;

		printf("  signer %s (%s)", json_string_value(json_object_get(v, "name")),
		       json_string_value(json_object_get(v, "state")));
		json_array_foreach(json_object_get(v, "servers"), j, k) {
			const char *ns = json_string_value(json_object_get(k, "ns"));

			printf("%s %s (%s%s%s)", j ? "," : ", servers",
			       json_string_value(json_object_get(k, "address")),
			       json_string_value(json_object_get(k, "source")), ns ? " " : "",
			       ns ? ns : "");
		}
		if (json_string_value(json_object_get(v, "error"))) {
			printf(": %s\n", json_string_value(json_object_get(v, "error")));
			continue;
		}
		printf(", serial %lld\n", (long long)json_integer_value(json_object_get(v, "serial")));
		printf("    DNSKEY  ");
		json_array_foreach(json_object_get(v, "dnskey"), j, k) {
			const char *owner = json_string_value(json_object_get(k, "owner"));

			printf("%s%lld/%lld %s (%s)", j ? ", " : " ",
			       (long long)json_integer_value(json_object_get(k, "algorithm")),
			       (long long)json_integer_value(json_object_get(k, "tag")),
			       json_string_value(json_object_get(k, "role")), owner ? owner : "?");
		}
		printf("\n");
		print_list("CDS", json_object_get(v, "cds"));
		print_list("NS", json_object_get(v, "ns"));
		print_list("CSYNC", json_object_get(v, "csync"));
	}
	if (json_is_object(json_object_get(z, "parent"))) {
		json_t *pp = json_object_get(z, "parent");

		printf("  parent%s%s\n", json_string_value(json_object_get(pp, "error")) ? ": " : "",
		       json_string_value(json_object_get(pp, "error"))
			       ? json_string_value(json_object_get(pp, "error"))
			       : "");
		print_list("DS", json_object_get(pp, "ds"));
		print_list("NS", json_object_get(pp, "ns"));
	}
	if (json_is_boolean(json_object_get(z, "in_sync"))) {
		printf("  in sync: %s\n", json_is_true(json_object_get(z, "in_sync")) ? "yes" : "no");
		json_array_foreach(json_object_get(z, "findings"), i, v) {
			printf("  finding: %s\n", json_string_value(v));
		}
	}
}

static int verb_status(struct zc_signers *c, const struct signers_args *a, int argc, char **argv)
{
	json_t *arr = NULL, *z;
	size_t i;
	int r, code = EXIT_OK;

	if (argc > 2) {
		return cmd_usage_error("signers", "status takes at most one ZONE");
	}
	r = zc_signers_status(c, argc == 2 ? argv[1] : NULL, !a->offline, &arr);
	if (r < 0) {
		return fail(c, r, "status");
	}
	json_array_foreach(arr, i, z) {
		json_t *p = json_object_get(z, "process");
		const char *st = json_is_object(p) ? json_string_value(json_object_get(p, "status"))
						   : "";
		bool busy = st && (strcmp(st, "running") == 0 || strcmp(st, "waiting") == 0);

		if ((st && strcmp(st, "stopped") == 0) ||
		    (!busy && json_is_false(json_object_get(z, "in_sync")))) {
			code = EXIT_ATTENTION;
		}
		if (a->json) {
			if (out_json_line(json_incref(z)) < 0) {
				code = EXIT_OPERATIONAL;
			}
		} else {
			print_zone(z);
		}
	}
	json_decref(arr);
	return code;
}

/*
 * Test aid: ZONECUT_TEST_KILL_AT="PATTERN[|PATTERN...]" kills the controller
 * (SIGKILL, no clean-up) at the first interruption point that matches one of the
 * fnmatch(3) patterns: what a crash or kill -9 there leaves behind.
 */
static void on_point(void *ud, const char *point)
{
	const char *patterns = ud;
	char buf[8192];
	char *save = NULL;

	zc_log(arg_ctx, ZC_LOG_DEBUG, "at %s", point);
	if (!patterns || snprintf(buf, sizeof(buf), "%s", patterns) >= (int)sizeof(buf)) {
		return;
	}
	for (char *p = strtok_r(buf, "|", &save); p; p = strtok_r(NULL, "|", &save)) {
		if (fnmatch(p, point, 0) == 0) {
			fprintf(stderr, "%s: killed at %s (ZONECUT_TEST_KILL_AT)\n", arg_progname,
				point);
			(void)raise(SIGKILL);
		}
	}
}

static int cmd_signers(int argc, char **argv)
{
	struct signers_args a = { 0 };
	struct zc_store *st = NULL;
	struct zc_signers *c = NULL;
	const char *verb;
	int optind_ = 0, r, code = EXIT_OPERATIONAL;
	char **args;
	int nargs;

	r = cmd_parse_options(&cmd_signers_def, &a, argc, argv, &optind_);
	if (r == 1) {
		return out_finish(EXIT_OK);
	}
	if (r) {
		return r;
	}
	if (optind_ >= argc) {
		return cmd_usage_error("signers", "a verb is needed (add, remove, zone-add, "
						  "zone-remove, list, join, leave, sync, rollover, "
						  "run, status, abort, resume)");
	}
	args = argv + optind_;
	nargs = argc - optind_;
	verb = args[0];
	if (cmd_open_store(a.db, &st) < 0) {
		return EXIT_OPERATIONAL;
	}
	cmd_resolver_opts(&a.ra, &a.ro);
	a.so.resolver = &a.ro;
	a.so.hook = on_point;
	a.so.hook_userdata = getenv("ZONECUT_TEST_KILL_AT");
	r = zc_signers_new(arg_ctx, st, &a.so, &c);
	if (r < 0) {
		goto out;
	}
	code = apply_conf(c, &a);
	if (code != EXIT_OK) {
		goto out;
	}
	if (strcmp(verb, "add") == 0 || strcmp(verb, "zone-add") == 0) {
		code = verb_add(c, &a, nargs, args, verb[0] == 'z');
	} else if (strcmp(verb, "remove") == 0 || strcmp(verb, "zone-remove") == 0) {
		code = verb_remove(c, nargs, args, verb[0] == 'z');
	} else if (strcmp(verb, "list") == 0) {
		code = nargs == 1 ? verb_list(c, &a)
				  : cmd_usage_error("signers", "list takes no argument");
	} else if (strcmp(verb, "join") == 0) {
		code = verb_process(c, &a, nargs, args, ZC_PROC_JOIN);
	} else if (strcmp(verb, "leave") == 0) {
		code = verb_process(c, &a, nargs, args, ZC_PROC_LEAVE);
	} else if (strcmp(verb, "sync") == 0) {
		code = verb_process(c, &a, nargs, args, ZC_PROC_SYNC);
	} else if (strcmp(verb, "rollover") == 0) {
		code = verb_process(c, &a, nargs, args, ZC_PROC_ROLL_ZSK);
	} else if (strcmp(verb, "run") == 0) {
		code = nargs > 2 ? cmd_usage_error("signers", "run takes at most one ZONE")
				 : run_passes(c, &a, nargs == 2 ? args[1] : NULL, a.loop);
	} else if (strcmp(verb, "status") == 0) {
		code = verb_status(c, &a, nargs, args);
	} else if (strcmp(verb, "abort") == 0 || strcmp(verb, "resume") == 0) {
		if (nargs != 2) {
			code = cmd_usage_error("signers", "%s takes exactly one ZONE", verb);
		} else {
			r = verb[0] == 'a' ? zc_signers_abort(c, args[1]) : zc_signers_resume(c, args[1]);
			code = r < 0 ? fail(c, r, verb) : EXIT_OK;
			if (r == 0 && verb[0] == 'r') {
				code = run_passes(c, &a, args[1], a.wait);
			}
		}
	} else {
		code = cmd_usage_error("signers", "unknown verb '%s'", verb);
	}
out:
	zc_signers_free(c);
	zc_store_free(st);
	return out_finish(code);
}
