/* SPDX-License-Identifier: MIT */
/*
 * zc-engine-load: a test tool that sends COUNT copies of one question to one server
 * through the query engine, all at once, with given in-flight caps and rate, and
 * prints the engine's statistics as one JSON object. The system tests compare them
 * with what a counting proxy saw on the server side.
 *
 * Usage: zc-engine-load ADDR[@PORT] NAME TYPE COUNT PER_SERVER_CAP QPS [tcp]
 */
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zonecut/zonecut.h>

struct load {
	unsigned count, done, answered, failed;
	struct event_base *base;
};

static void on_answer(const struct zc_answer *ans, void *ud)
{
	struct load *l = ud;

	if (ans->status == 0) {
		l->answered++;
	} else {
		l->failed++;
	}
	if (++l->done == l->count) {
		event_base_loopbreak(l->base);
	}
}

int main(int argc, char **argv)
{
	struct sockaddr_storage ss;
	socklen_t sslen;
	struct zc_engine_opts o;
	struct zc_engine_stats st;
	struct zc_engine *eng = NULL;
	struct zc_ctx *ctx = zc_ctx_new();
	struct load l = { 0 };
	ldns_rdf *name = NULL;
	uint32_t count, cap, qps;
	ldns_rr_type type;
	uint64_t t0;
	unsigned flags = ZC_Q_DNSSEC;

	if (argc < 7 || zc_addr_parse(argv[1], 53, &ss, &sslen) < 0 ||
	    zc_name_from_str(argv[2], &name) < 0 ||
	    (type = ldns_get_rr_type_by_name(argv[3])) == 0 ||
	    zc_parse_u32(argv[4], 1, 10000000, &count) < 0 ||
	    zc_parse_u32(argv[5], 1, 100000, &cap) < 0 || zc_parse_u32(argv[6], 0, 1000000, &qps) < 0) {
		fprintf(stderr, "usage: zc-engine-load ADDR[@PORT] NAME TYPE COUNT PER_SERVER_CAP QPS [tcp]\n");
		return 2;
	}
	if (argc > 7 && strcmp(argv[7], "tcp") == 0) {
		flags |= ZC_Q_TCP;
	}
	zc_engine_opts_default(&o);
	o.max_inflight_per_server = cap;
	o.qps_per_server = qps;
	o.timeout_ms = 2000;
	o.retries = 2;
	l.count = count;
	l.base = event_base_new();
	if (!l.base || zc_engine_new(ctx, l.base, &o, &eng) < 0) {
		return 3;
	}
	t0 = zc_now_mono_ms();
	for (uint32_t i = 0; i < count; i++) {
		if (zc_engine_query(eng, (struct sockaddr *)&ss, sslen, name, type, flags, on_answer,
				    &l) < 0) {
			fprintf(stderr, "zc-engine-load: query %u not accepted\n", i);
			return 3;
		}
	}
	event_base_dispatch(l.base);
	zc_engine_get_stats(eng, &st);
	printf("{\"count\":%u,\"answered\":%u,\"failed\":%u,\"elapsed_ms\":%llu,"
	       "\"max_inflight_per_server_seen\":%u,\"max_inflight_seen\":%u,\"udp_sent\":%llu,"
	       "\"tcp_sent\":%llu,\"tcp_connects\":%llu,\"timeouts\":%llu,\"ignored\":%llu}\n",
	       l.count, l.answered, l.failed, (unsigned long long)(zc_now_mono_ms() - t0),
	       st.max_inflight_per_server_seen, st.max_inflight_seen,
	       (unsigned long long)st.udp_sent, (unsigned long long)st.tcp_sent,
	       (unsigned long long)st.tcp_connects, (unsigned long long)st.timeouts,
	       (unsigned long long)st.ignored);
	zc_engine_free(eng);
	event_base_free(l.base);
	ldns_rdf_deep_free(name);
	zc_ctx_free(ctx);
	return l.failed ? 1 : 0;
}
