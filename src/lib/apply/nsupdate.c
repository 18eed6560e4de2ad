/* SPDX-License-Identifier: MIT */
/*
 * nsupdate(1) scripts for a DS change: for operators who feed their primary
 * themselves. Only the difference between the old and the new DS set is written,
 * adds before deletes, optionally guarded by RFC 2136 prerequisites.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "apply/internal.h"

/* "ADDR", "ADDR@PORT" or "[ADDR]:PORT" into "ADDR" and "PORT" (may be ""). */
static int split_server(const char *server, char *addr, size_t alen, char *port, size_t plen)
{
	const char *a = server, *p = NULL;
	size_t n;
	uint32_t pv;
	unsigned char tmp[sizeof(struct in6_addr)];

	if (server[0] == '[') {
		const char *close = strchr(server, ']');

		if (!close || (close[1] != '\0' && close[1] != ':' && close[1] != '@')) {
			return -EINVAL;
		}
		a = server + 1;
		n = (size_t)(close - a);
		p = close[1] ? close + 2 : NULL;
	} else {
		const char *at = strchr(server, '@');

		n = at ? (size_t)(at - server) : strlen(server);
		p = at ? at + 1 : NULL;
	}
	if (n == 0 || n >= alen) {
		return -EINVAL;
	}
	memcpy(addr, a, n);
	addr[n] = '\0';
	if (inet_pton(AF_INET, addr, tmp) != 1 && inet_pton(AF_INET6, addr, tmp) != 1) {
		return -EINVAL;
	}
	port[0] = '\0';
	if (p) {
		if (zc_parse_u32(p, 1, 65535, &pv) < 0) {
			return -EINVAL;
		}
		snprintf(port, plen, "%u", pv);
	}
	return 0;
}

/* true when @line is one of the sorted @v. */
static bool has_line(char **v, size_t n, const char *line)
{
	for (size_t i = 0; i < n; i++) {
		if (strcmp(v[i], line) == 0) {
			return true;
		}
	}
	return false;
}

int zc_apply_nsupdate(FILE *out, const struct zc_change *c, const char *server,
		      const char *zone, unsigned flags)
{
	struct zc_journal_entry e = { 0 };
	char addr[64], port[8];
	char *zone_text = NULL, *obuf = NULL, *nbuf = NULL;
	char **ol = NULL, **nl = NULL;
	size_t on = 0, nn = 0;
	int r;

	if (!out || !c) {
		return -EINVAL;
	}
	if (server) {
		r = split_server(server, addr, sizeof(addr), port, sizeof(port));
		if (r < 0) {
			return r;
		}
	}
	r = zc_change_to_journal(c, &e);
	if (r < 0) {
		return r;
	}
	if (zone) {
		r = zc_apply_name(zone, NULL, &zone_text);
		if (r < 0) {
			goto out;
		}
	}
	if (strcmp(e.ds_old, e.ds_new) == 0) {
		goto out; /* nothing to change */
	}
	r = zc_apply_ds_lines(e.ds_old, &obuf, &ol, &on);
	if (r == 0) {
		r = zc_apply_ds_lines(e.ds_new, &nbuf, &nl, &nn);
	}
	if (r < 0) {
		goto out;
	}
	if (server) {
		fprintf(out, "server %s%s%s\n", addr, port[0] ? " " : "", port);
	}
	fprintf(out, "zone %s\n", zone_text ? zone_text : e.parent);
	if (flags & ZC_NSUPDATE_PREREQ) {
		/* RFC 2136 §2.4.2 (value-dependent) or §2.4.3: the old set, exactly. */
		if (on == 0) {
			fprintf(out, "prereq nxrrset %s IN DS\n", e.child);
		}
		for (size_t i = 0; i < on; i++) {
			fprintf(out, "prereq yxrrset %s IN DS %s\n", e.child, ol[i]);
		}
	}
	for (size_t i = 0; i < nn; i++) {
		if (!has_line(ol, on, nl[i])) {
			fprintf(out, "update add %s %u IN DS %s\n", e.child, e.ttl, nl[i]);
		}
	}
	if (nn == 0) {
		/* RFC 8078 §4: every DS goes, also those we did not know about. */
		fprintf(out, "update delete %s IN DS\n", e.child);
	} else {
		for (size_t i = 0; i < on; i++) {
			if (!has_line(nl, nn, ol[i])) {
				fprintf(out, "update delete %s IN DS %s\n", e.child, ol[i]);
			}
		}
	}
	fprintf(out, "send\n");
	if (fflush(out) != 0 || ferror(out)) {
		r = -EIO;
	}
out:
	free(ol);
	free(nl);
	free(obuf);
	free(nbuf);
	free(zone_text);
	zc_journal_entry_release(&e);
	return r;
}
