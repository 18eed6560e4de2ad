/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the scan's delegation sources. The input is read as a registrar
 * list ("child ns..." lines) and as a parent zone file; whatever they accept is
 * streamed to the end, each delegation checked for sane limits. The zone file is
 * read twice, with the spool (pass 1 collects the delegations) and without (pass 2
 * collects them again): both must give the same delegations, or the same error.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <zonecut/scan.h>

#include "fuzz_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define OUT_MAX 65536

struct out {
	char text[OUT_MAX];
	size_t len;
};

static void out_put(struct out *o, const char *s)
{
	size_t n = strlen(s);

	if (n > OUT_MAX - 1 - o->len) {
		n = OUT_MAX - 1 - o->len;
	}
	memcpy(o->text + o->len, s, n);
	o->len += n;
	o->text[o->len] = '\0';
}

static void out_rdf(struct out *o, const ldns_rdf *rdf)
{
	char *s = ldns_rdf2str(rdf);

	out_put(o, s ? s : "?");
	free(s);
}

static void out_addr(struct out *o, const struct sockaddr_storage *ss)
{
	const void *addr = &((const struct sockaddr_in6 *)ss)->sin6_addr;
	char a[INET6_ADDRSTRLEN] = "?";

	if (ss->ss_family == AF_INET) {
		addr = &((const struct sockaddr_in *)ss)->sin_addr;
	}
	(void)inet_ntop(ss->ss_family, addr, a, sizeof(a));
	out_put(o, " ");
	out_put(o, a);
}

static void out_delegation(struct out *o, const struct zc_delegation *d)
{
	char num[64];

	out_rdf(o, d->child);
	snprintf(num, sizeof(num), " %llu %u\n", (unsigned long long)d->seq, d->n_ns_dropped);
	out_put(o, num);
	for (unsigned n = 0; n < d->n_ns; n++) {
		out_put(o, " ns ");
		out_rdf(o, d->ns[n].name);
		for (unsigned g = 0; g < d->ns[n].n_glue; g++) {
			out_addr(o, &d->ns[n].glue[g]);
		}
		out_put(o, "\n");
	}
	for (size_t n = 0; n < ldns_rr_list_rr_count(d->ds); n++) {
		char *s = ldns_rr2str(ldns_rr_list_rr(d->ds, n));

		out_put(o, " ds ");
		out_put(o, s ? s : "?");
		free(s);
	}
}

/* Streams @src to the end (and frees it), checking limits; its text into @o if not NULL. */
static void drain(struct zc_scan_source *src, struct out *o)
{
	for (unsigned i = 0; i < 100000; i++) {
		struct zc_delegation *d = NULL;
		int r = src->next(src, &d);

		if (r != 0) {
			if (o) {
				out_put(o, r < 0 ? "next error\n" : "end\n");
			}
			break;
		}
		if (!d->child || !d->ds || d->n_ns > ZC_SCAN_MAX_NS) {
			abort();
		}
		for (unsigned n = 0; n < d->n_ns; n++) {
			if (!d->ns[n].name || d->ns[n].n_glue > ZC_SCAN_MAX_ADDRS) {
				abort();
			}
		}
		if (o) {
			out_delegation(o, d);
		}
		zc_delegation_free(d);
	}
	src->free(src);
}

/* The zone source's delegations, or its error, as text; @spool: with a spool. */
static void zone(const char *path, bool spool, struct out *o)
{
	struct zc_scan_source *src = NULL;
	char err[1024] = "";

	o->len = 0;
	o->text[0] = '\0';
	if (spool) {
		(void)unsetenv("TMPDIR");
	} else {
		(void)setenv("TMPDIR", "/nonexistent", 1);
	}
	if (zc_zone_source_new(path, NULL, &src, err, sizeof(err)) == 0) {
		drain(src, o);
	} else {
		out_put(o, err);
	}
	(void)unsetenv("TMPDIR");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct out with, without;
	struct zc_scan_source *src = NULL;
	char path[64], err[1024];
	int fd = fuzz_file(data, size, path, sizeof(path));

	if (fd < 0) {
		return 0;
	}
	if (zc_list_source_new(path, NULL, &src, err, sizeof(err)) == 0) {
		drain(src, NULL);
	}
	zone(path, true, &with);
	zone(path, false, &without);
	if (strcmp(with.text, without.text) != 0) {
		fprintf(stderr, "with the spool:\n%s\nwithout:\n%s\n", with.text, without.text);
		abort();
	}
	close(fd);
	return 0;
}
