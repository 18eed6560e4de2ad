/* SPDX-License-Identifier: MIT */
/*
 * dns/present.c: the presentation form of a record's rdata alone (no owner, TTL,
 * class or type), as evidence and message dumps show it.
 */
#include <stdlib.h>

#include "dns/internal.h"

char *zc_rr_rdata_to_str(const ldns_rr *rr)
{
	ldns_buffer *b;
	char *s = NULL;

	if (!rr) {
		return NULL;
	}
	b = ldns_buffer_new(256);
	if (!b) {
		return NULL;
	}
	for (size_t i = 0; i < ldns_rr_rd_count(rr); i++) {
		if (i > 0) {
			ldns_buffer_printf(b, " ");
		}
		(void)ldns_rdf2buffer_str(b, ldns_rr_rdf(rr, i));
	}
	if (ldns_buffer_status_ok(b)) {
		s = ldns_buffer_export2str(b);
	}
	ldns_buffer_free(b);
	return s;
}
