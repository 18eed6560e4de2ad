/* SPDX-License-Identifier: MIT */
/*
 * fuzz_zoneline: zone text through zc_rr_from_str(), the whole input as one
 * record (parentheses may span lines) and then line by line; what parses goes
 * through every accessor and formatter, and the lines together through the
 * RRset functions.
 */
#include <stddef.h>
#include <stdint.h>

#include "fuzz_dns.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ZONELINE_MAX_INPUT 16384
#define ZONELINE_MAX_LINES 64

static void one(const char *text, const ldns_rdf *origin, ldns_rr_list *keep)
{
	ldns_rr *rr = NULL;

	if (zc_rr_from_str(text, 300, origin, &rr) != 0) {
		return;
	}
	fuzz_exercise_rr(rr, NULL);
	if (keep && ldns_rr_list_rr_count(keep) < ZONELINE_MAX_LINES &&
	    ldns_rr_list_push_rr(keep, rr)) {
		return;
	}
	ldns_rr_free(rr);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char text[ZONELINE_MAX_INPUT + 1];
	ldns_rdf *origin = NULL, *name = NULL;
	ldns_rr_list *list;
	char *line, *next;

	if (size > ZONELINE_MAX_INPUT) {
		size = ZONELINE_MAX_INPUT;
	}
	memcpy(text, data, size);
	text[size] = '\0';
	if (zc_name_from_str("Example.", &origin) != 0) {
		return 0;
	}
	one(text, NULL, NULL);
	one(text, origin, NULL);
	if (zc_name_from_str(text, &name) == 0) {
		fuzz_name(name);
		ldns_rdf_deep_free(name);
	}

	list = ldns_rr_list_new();
	for (line = text; list && line; line = next) {
		next = strchr(line, '\n');
		if (next) {
			*next++ = '\0';
		}
		one(line, origin, list);
	}
	if (list) {
		fuzz_exercise_list(list);
		ldns_rr_list_deep_free(list);
	}
	ldns_rdf_deep_free(origin);
	return 0;
}
