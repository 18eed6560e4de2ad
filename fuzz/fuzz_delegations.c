/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the scan's delegation sources. The input is read as a registrar
 * list ("child ns..." lines) and as a parent zone file; whatever they accept is
 * streamed to the end, each delegation checked for sane limits.
 */
#include <stdint.h>
#include <stdlib.h>

#include <zonecut/scan.h>

#include "fuzz_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void drain(struct zc_scan_source *src)
{
	for (unsigned i = 0; i < 100000; i++) {
		struct zc_delegation *d = NULL;
		int r = src->next(src, &d);

		if (r != 0) {
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
		zc_delegation_free(d);
	}
	src->free(src);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct zc_scan_source *src = NULL;
	char path[64], err[1024];
	int fd = fuzz_file(data, size, path, sizeof(path));

	if (fd < 0) {
		return 0;
	}
	if (zc_list_source_new(path, NULL, &src, err, sizeof(err)) == 0) {
		drain(src);
	}
	src = NULL;
	if (zc_zone_source_new(path, NULL, &src, err, sizeof(err)) == 0) {
		drain(src);
	}
	close(fd);
	return 0;
}
