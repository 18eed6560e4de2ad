/* SPDX-License-Identifier: MIT */
/*
 * zc-signers-tool: drives the multi-signer controller's driver layer for the
 * system tests -- one write through a signer's driver, read back from every
 * authoritative server of the signer, exactly as the controller's steps do it.
 * Prints one JSON object on stdout.
 *
 *   zc-signers-tool write --signer SPEC --zone ZONE [--add RR]... [--del RR]...
 *                         [--readback-timeout MS] [--timeout MS]
 *
 * RR is a record in presentation form ("multi.example. 3 IN DNSKEY 256 3 13 ...").
 * Exit: 0 the write is applied and read back; 1 any other outcome; 2 usage.
 */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zonecut/zonecut.h>

#include "signers/internal.h"

static void log_stderr(void *ud, int level, const char *msg)
{
	(void)ud;
	fprintf(stderr, "zc-signers-tool: <%d> %s\n", level, msg);
}

static int usage(const char *why)
{
	fprintf(stderr, "zc-signers-tool: %s\nusage: zc-signers-tool write --signer SPEC --zone Z "
			"[--add RR]... [--del RR]...\n",
		why);
	return 2;
}

static int push_rr(ldns_rr_list *l, const char *text)
{
	ldns_rr *rr = NULL;

	if (zc_rr_from_str(text, 3600, NULL, &rr) < 0) {
		return -1;
	}
	if (!ldns_rr_list_push_rr(l, rr)) {
		ldns_rr_free(rr);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "signer", required_argument, NULL, 's' },
		{ "zone", required_argument, NULL, 'z' },
		{ "add", required_argument, NULL, 'a' },
		{ "del", required_argument, NULL, 'd' },
		{ "readback-timeout", required_argument, NULL, 'r' },
		{ "timeout", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	struct zc_signers_opts so = { 0 };
	const char *spec = NULL, *zone = NULL;
	ldns_rr_list *add = ldns_rr_list_new(), *del = ldns_rr_list_new();
	struct zc_signer *s = NULL;
	struct zc_signers *c = NULL;
	struct zc_store *st = NULL;
	struct zc_ctx *ctx = zc_ctx_new();
	struct sgn_write_result res;
	char err[512] = "", dbpath[] = "/tmp/zc-signers-tool-XXXXXX";
	int ch, r, code = 2, fd;

	if (!add || !del || !ctx) {
		return 3;
	}
	zc_ctx_set_log_fn(ctx, log_stderr, NULL);
	if (argc < 2 || strcmp(argv[1], "write") != 0) {
		return usage("the verb is 'write'");
	}
	optind = 2;
	while ((ch = getopt_long(argc, argv, "", lopts, NULL)) != -1) {
		switch (ch) {
		case 's':
			spec = optarg;
			break;
		case 'z':
			zone = optarg;
			break;
		case 'a':
		case 'd':
			if (push_rr(ch == 'a' ? add : del, optarg) < 0) {
				return usage("bad record");
			}
			break;
		case 'r':
			so.readback_timeout_ms = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 't':
			so.timeout_ms = (unsigned)strtoul(optarg, NULL, 10);
			break;
		default:
			return usage("bad option");
		}
	}
	if (!spec || !zone) {
		return usage("--signer and --zone are needed");
	}
	if (zc_signer_parse(spec, &s, err, sizeof(err)) < 0) {
		return usage(err);
	}
	/* the controller needs a store; this tool keeps nothing */
	fd = mkstemp(dbpath);
	if (fd < 0) {
		return 3;
	}
	close(fd);
	unlink(dbpath);
	r = zc_store_open(ctx, dbpath, &st);
	if (r == 0) {
		r = zc_signers_new(ctx, st, &so, &c);
	}
	if (r == 0) {
		r = sgn_write(c, s, zone, add, del, &res, NULL, NULL);
	}
	if (r < 0) {
		fprintf(stderr, "zc-signers-tool: %s\n", zc_strerror(r));
		code = 3;
	} else {
		json_t *o = json_pack("{s:s, s:i, s:i, s:s}", "outcome",
				      sgn_write_outcome_str(res.outcome), "rcode", res.rcode,
				      "servers", res.servers, "why", res.why);

		json_dumpf(o, stdout, JSON_COMPACT);
		fputc('\n', stdout);
		json_decref(o);
		code = res.outcome == SGN_WRITE_OK ? 0 : 1;
	}
	zc_signers_free(c);
	zc_store_free(st);
	unlink(dbpath);
	{
		char side[sizeof(dbpath) + 8];

		snprintf(side, sizeof(side), "%s-wal", dbpath);
		unlink(side);
		snprintf(side, sizeof(side), "%s-shm", dbpath);
		unlink(side);
	}
	zc_signer_free(s);
	ldns_rr_list_deep_free(add);
	ldns_rr_list_deep_free(del);
	zc_ctx_free(ctx);
	return code;
}
