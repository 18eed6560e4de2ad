/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the configuration file reader (zc_conf_load). Every entry it
 * returns has a non-empty option-like key and a value without control bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <zonecut/util.h>

#include "fuzz_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct zc_conf *conf = NULL;
	char path[64], err[512];
	int fd = fuzz_file(data, size, path, sizeof(path));

	if (fd < 0) {
		return 0;
	}
	if (zc_conf_load(path, &conf, err, sizeof(err)) == 0) {
		for (size_t i = 0; i < conf->n; i++) {
			const struct zc_conf_entry *e = &conf->entries[i];

			if (!e->key[0] || strchr(e->key, '=') || strchr(e->value, '\n')) {
				abort();
			}
		}
		zc_conf_free(conf);
	}
	close(fd);
	return 0;
}
