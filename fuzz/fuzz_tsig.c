/* SPDX-License-Identifier: MIT */
/*
 * fuzz_tsig: untrusted input for the TSIG code. The same bytes are read as a key
 * file (BIND `key { ... };` statement or one "[ALG:]NAME:SECRET" line), as
 * "[ALG:]NAME:SECRET" text, and as a DNS answer whose TSIG is checked against a
 * fixed key and request MAC (the answer comes from the network).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "apply/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t req_mac[32] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };
	struct zc_tsig *key = NULL, *fixed = NULL;
	char err[256];
	char *text;
	int terr;

	if (size > 70000) {
		return 0;
	}
	if (zc_tsig_parse_buffer("fuzz", (const char *)data, size, &key, err, sizeof(err)) == 0) {
		(void)zc_tsig_name(key);
		(void)zc_tsig_is_weak(key);
		zc_tsig_free(key);
		key = NULL;
	}
	text = malloc(size + 1);
	if (!text) {
		return 0;
	}
	memcpy(text, data, size);
	text[size] = '\0';
	if (zc_tsig_parse(text, &key, err, sizeof(err)) == 0) {
		zc_tsig_free(key);
	}
	free(text);
	if (zc_tsig_parse("hmac-sha256:zc-key.:c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTEyMzQ=",
			  &fixed, NULL, 0) == 0) {
		(void)zc_tsig_verify_wire(fixed, data, size, req_mac, sizeof(req_mac), 1700000000,
					  &terr);
		zc_tsig_free(fixed);
	}
	return 0;
}
