/* SPDX-License-Identifier: MIT */
/*
 * zonecut query: what the engine sees. With @SERVER it asks that address directly
 * (UDP with EDNS0, TCP fallback, or TCP only); without, it resolves through the
 * validating resolver and prints the security status.
 */
#include <errno.h>
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cmd.h"


struct query_args {
	bool tcp;
	bool dnssec;
	bool json;
	bool no_rd;
	bool cd;
	struct cmd_resolver_args ra; /* resolver mode */
	uint64_t timeout_ms;
	uint32_t retries;
	const char *config;
};

static int query_set(void *state, const struct cmd_opt *o, const char *value, char *err,
		     size_t errlen)
{
	struct query_args *a = state;
	const char *n = o->name;
	int r = cmd_resolver_set(&a->ra, o, value, err, errlen);

	if (r != 0) {
		return r < 0 ? r : 0;
	}
	if (strcmp(n, "tcp") == 0) {
		a->tcp = true;
	} else if (strcmp(n, "dnssec") == 0) {
		a->dnssec = true;
	} else if (strcmp(n, "json") == 0) {
		a->json = true;
	} else if (strcmp(n, "no-rd") == 0) {
		a->no_rd = true;
	} else if (strcmp(n, "cd") == 0) {
		a->cd = true;
	} else if (strcmp(n, "config") == 0) {
		a->config = value;
	} else if (strcmp(n, "timeout") == 0) {
		if (zc_parse_duration_ms(value, 1000, &a->timeout_ms) < 0 || a->timeout_ms == 0 ||
		    a->timeout_ms > 600000) {
			snprintf(err, errlen, "'%s' is not a duration between 1ms and 600s", value);
			return -EINVAL;
		}
	} else if (strcmp(n, "retries") == 0) {
		if (zc_parse_u32(value, 0, 10, &a->retries) < 0) {
			snprintf(err, errlen, "'%s' is not a number from 0 to 10", value);
			return -EINVAL;
		}
	}
	return 0;
}

static const struct cmd_opt query_opts[] = {
	{ "tcp", 't', false, NULL, "TCP only (default: UDP, TCP when truncated)", query_set },
	{ "dnssec", 'd', false, NULL, "set the DO bit (DNSSEC records)", query_set },
	{ "json", 'j', false, NULL, "one JSON object (RFC 8427 message) on stdout", query_set },
	{ "no-rd", 0, false, NULL, "clear the RD bit (direct queries)", query_set },
	{ "cd", 0, false, NULL, "set the CD bit (direct queries)", query_set },
	{ "timeout", 0, true, "DURATION", "first attempt timeout, e.g. 1500ms, 2s (default 2s)",
	  query_set },
	{ "retries", 0, true, "N", "further attempts with doubled timeout (default 2)", query_set },
	CMD_RESOLVER_OPTS(query_set), /* resolver mode (no @SERVER) */
	{ "config", 'c', true, "FILE", "read options from FILE", query_set, true },
	{ NULL },
};

const struct cmd cmd_query_def = {
	.name = "query",
	.run = cmd_query,
	.summary = "ask one server, or resolve with DNSSEC validation",
	.opts = query_opts,
	.usage =
		"Usage: zonecut query [@SERVER] NAME [TYPE] [OPTIONS]\n"
		"\n"
		"Asks one DNS question and shows the answer, the way zonecut's engine sees it.\n"
		"\n"
		"With @SERVER (an IPv4 or IPv6 address, optionally @PORT: @192.0.2.1@5353,\n"
		"@[2001:db8::1]:53), the question goes straight to that server: UDP with EDNS0\n"
		"(1232-byte buffer), repeated over TCP when the answer is truncated, or TCP only\n"
		"with --tcp. The transport used, attempts and round-trip time are shown.\n"
		"\n"
		"Without @SERVER, the name is resolved by the validating resolver (libunbound),\n"
		"configured with --trust-anchor, --root-hints and/or --forward, and the answer's\n"
		"security status is shown: secure, insecure or bogus (with the reason).\n"
		"\n"
		"TYPE defaults to A; any mnemonic ldns knows, TYPEnnn, or DSYNC.\n"
		"\n"
		"Exit status: 0 an answer came back (and, resolving, it is not bogus);\n"
		"1 the answer is bogus or SERVFAIL; 2 bad usage; 3 no answer (timeout, refused\n"
		"connection, resolver failure).\n"
		"\n"
		"Examples:\n"
		"  zonecut query @127.0.0.1 example.com SOA --dnssec\n"
		"  zonecut query www.example.com A --trust-anchor root.ds --root-hints root.hints\n",
};

struct query_run {
	struct query_args *a;
	struct event_base *base;
	const char *server_text;
	const char *qname_text;
	ldns_rr_type qtype;
	int exit_code;
};

static json_t *query_json_base(const struct query_run *q, const char *mode)
{
	char *type = ldns_rr_type2str(q->qtype);
	json_t *o = json_pack("{s:s,s:s,s:s,s:s}", "schema", "zonecut.query.v1", "mode", mode,
			      "qname", q->qname_text, "qtype", type ? type : "");

	free(type);
	return o;
}

static void direct_done(const struct zc_answer *ans, void *ud)
{
	struct query_run *q = ud;
	char server[128] = "";

	/* Idle TCP connections and resolver timers would keep the loop alive. */
	event_base_loopbreak(q->base);
	(void)zc_addr_to_str(ans->server, server, sizeof(server));
	if (q->a->json) {
		json_t *o = query_json_base(q, "direct");

		if (o) {
			json_object_set_new(o, "server", json_string(server));
			json_object_set_new(o, "status",
					    json_string(ans->status ? zc_strerror(ans->status) : "ok"));
			json_object_set_new(o, "transport", json_string(ans->tcp ? "tcp" : "udp"));
			json_object_set_new(o, "tc_fallback", json_boolean(ans->tc_fallback));
			json_object_set_new(o, "attempts", json_integer(ans->attempts));
			json_object_set_new(o, "rtt_ms", json_integer(ans->rtt_ms));
			if (ans->status == 0) {
				json_object_set_new(o, "message", out_pkt_json(ans->pkt));
			}
		}
		if (out_json_line(o) < 0) {
			q->exit_code = EXIT_OPERATIONAL;
			return;
		}
	} else if (ans->status == 0) {
		out_pkt_text(stdout, ans->pkt);
		printf("\n;; Received %zu B from %s over %s%s, %u attempt(s), %u ms\n",
		       ans->wire_len, server, ans->tcp ? "TCP" : "UDP",
		       ans->tc_fallback ? " (UDP answer truncated)" : "", ans->attempts,
		       ans->rtt_ms);
	}
	if (ans->status != 0) {
		zc_log(arg_ctx, ZC_LOG_ERR, "query '%s' to %s failed (%s)", q->qname_text, server,
		       zc_strerror(ans->status));
		q->exit_code = EXIT_OPERATIONAL;
	} else {
		q->exit_code = EXIT_OK;
	}
}

static void resolve_done(const struct zc_resolved *res, void *ud)
{
	struct query_run *q = ud;
	const char *sec = zc_security_str(res->security);

	event_base_loopbreak(q->base);
	if (q->a->json) {
		json_t *o = query_json_base(q, "resolve");

		if (o) {
			json_object_set_new(o, "status",
					    json_string(res->status ? zc_strerror(res->status) : "ok"));
			json_object_set_new(o, "security", json_string(sec));
			json_object_set_new(o, "why_bogus", res->why_bogus ?
								json_string(res->why_bogus) :
								json_null());
			if (res->pkt) {
				char *rc = ldns_pkt_rcode2str(res->rcode);

				json_object_set_new(o, "rcode", json_string(rc ? rc : ""));
				free(rc);
				json_object_set_new(o, "message", out_pkt_json(res->pkt));
			}
		}
		if (out_json_line(o) < 0) {
			q->exit_code = EXIT_OPERATIONAL;
			return;
		}
	} else if (res->pkt) {
		out_pkt_text(stdout, res->pkt);
		printf("\n;; security: %s%s%s%s\n", sec, res->why_bogus ? " (" : "",
		       res->why_bogus ? res->why_bogus : "", res->why_bogus ? ")" : "");
	}
	if (res->status != 0) {
		zc_log(arg_ctx, ZC_LOG_ERR, "resolving '%s' failed (%s)", q->qname_text,
		       zc_strerror(res->status));
		q->exit_code = EXIT_OPERATIONAL;
	} else if (res->security == ZC_SEC_BOGUS || res->rcode == LDNS_RCODE_SERVFAIL) {
		q->exit_code = EXIT_ATTENTION;
	} else {
		q->exit_code = EXIT_OK;
	}
}

static int parse_type(const char *s, ldns_rr_type *ret)
{
	ldns_rr_type t;

	if (strcasecmp(s, "DSYNC") == 0) {
		*ret = (ldns_rr_type)ZC_RR_TYPE_DSYNC;
		return 0;
	}
	t = ldns_get_rr_type_by_name(s);
	if (t == 0) {
		return -EINVAL;
	}
	*ret = t;
	return 0;
}

int cmd_query(int argc, char **argv)
{
	struct query_args a = { .timeout_ms = 2000, .retries = 2 };
	struct query_run q = { .a = &a, .exit_code = EXIT_OPERATIONAL, .qtype = LDNS_RR_TYPE_A };
	struct sockaddr_storage ss;
	socklen_t sslen = 0;
	ldns_rdf *qname = NULL;
	struct zc_engine *eng = NULL;
	struct zc_resolver *res = NULL;
	int optind_ = 0, r, nops = 0;
	const char *ops[2] = { NULL, NULL };

	r = cmd_parse_options(&cmd_query_def, &a, argc, argv, &optind_);
	if (r == 1) {
		return out_finish(EXIT_OK);
	}
	if (r) {
		return r;
	}
	for (int i = optind_; i < argc; i++) {
		if (argv[i][0] == '@') {
			if (q.server_text) {
				return cmd_usage_error("query", "only one @SERVER");
			}
			q.server_text = argv[i] + 1;
			continue;
		}
		if (nops >= 2) {
			return cmd_usage_error("query", "unexpected argument '%s'", argv[i]);
		}
		ops[nops++] = argv[i];
	}
	if (nops == 0) {
		return cmd_usage_error("query", "missing NAME");
	}
	q.qname_text = ops[0];
	if (zc_name_from_str(ops[0], &qname) < 0) {
		return cmd_usage_error("query", "'%s' is not a domain name", ops[0]);
	}
	if (ops[1] && parse_type(ops[1], &q.qtype) < 0) {
		ldns_rdf_deep_free(qname);
		return cmd_usage_error("query", "'%s' is not a record type", ops[1]);
	}
	if (q.server_text && zc_addr_parse(q.server_text, 53, &ss, &sslen) < 0) {
		ldns_rdf_deep_free(qname);
		return cmd_usage_error("query", "'%s' is not an IP address (with optional @PORT)",
				       q.server_text);
	}
	q.base = event_base_new();
	if (!q.base) {
		ldns_rdf_deep_free(qname);
		return EXIT_OPERATIONAL;
	}
	if (q.server_text) {
		struct zc_engine_opts eo;
		unsigned flags = 0;

		zc_engine_opts_default(&eo);
		eo.timeout_ms = (unsigned)a.timeout_ms;
		eo.retries = a.retries;
		/* the back-off may grow the first timeout up to four times */
		if (eo.max_timeout_ms < eo.timeout_ms * 4) {
			eo.max_timeout_ms = eo.timeout_ms * 4;
		}
		flags |= a.tcp ? ZC_Q_TCP : 0;
		flags |= a.dnssec ? ZC_Q_DNSSEC : 0;
		flags |= a.no_rd ? 0 : ZC_Q_RD;
		flags |= a.cd ? ZC_Q_CD : 0;
		r = zc_engine_new(arg_ctx, q.base, &eo, &eng);
		if (r == 0) {
			r = zc_engine_query(eng, (struct sockaddr *)&ss, sslen, qname, q.qtype, flags,
					    direct_done, &q);
		}
	} else {
		struct zc_resolver_opts ro;

		cmd_resolver_opts(&a.ra, &ro);
		ro.tcp_only = a.tcp;
		ro.timeout_ms = (unsigned)(a.timeout_ms * (a.retries + 1) * 4);
		r = zc_resolver_new(arg_ctx, q.base, &ro, &res);
		if (r == ZC_ECONFIG) {
			q.exit_code = EXIT_USAGE;
			goto out;
		}
		if (r == 0) {
			r = zc_resolver_resolve(res, qname, q.qtype, resolve_done, &q);
		}
	}
	if (r < 0) {
		zc_log(arg_ctx, ZC_LOG_ERR, "query '%s' could not start (%s)", q.qname_text,
		       zc_strerror(r));
		goto out;
	}
	event_base_dispatch(q.base);
out:
	zc_engine_free(eng);
	zc_resolver_free(res);
	event_base_free(q.base);
	ldns_rdf_deep_free(qname);
	return out_finish(q.exit_code);
}
