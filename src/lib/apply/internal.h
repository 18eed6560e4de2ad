/* SPDX-License-Identifier: MIT */
/*
 * apply/internal.h: helpers shared by the apply/ sources: name normalisation,
 * DS text lines, TSIG signing and verification of wire messages, and the
 * blocking TCP exchange with the primary.
 */
#ifndef ZC_APPLY_INTERNAL_H
#define ZC_APPLY_INTERNAL_H

#include <zonecut/apply.h>

#include "util/internal.h"

/* Longest DS line "65535 255 255 HEX": the digest is capped at 512 octets. */
#define ZC_APPLY_MAX_DIGEST 512
#define ZC_APPLY_MAX_DS_LINE (16 + 2 * ZC_APPLY_MAX_DIGEST)

/*
 * A name parsed with ldns, lower-cased and absolute, as an rdf (*ret_rdf, may be
 * NULL) and as text with the final dot (*ret_text, may be NULL; free()).
 * Returns 0, ZC_EMALF or -ENOMEM.
 */
int zc_apply_name(const char *text, ldns_rdf **ret_rdf, char **ret_text);

/*
 * Splits a canonical DS text (zc_apply_ds_text()) into its lines, in place in
 * the copy *ret_buf: *ret_lines points into it. free() both. Returns 0 or -ENOMEM.
 */
int zc_apply_ds_lines(const char *text, char **ret_buf, char ***ret_lines, size_t *ret_n);

/*
 * zc_tsig_load_file() on a buffer of @len octets (not NUL-terminated; at most
 * 64 KiB); @origin names it in messages. Same returns.
 */
int zc_tsig_parse_buffer(const char *origin, const char *buf, size_t len,
			 struct zc_tsig **ret_key, char *err, size_t errlen);

/* --- TSIG on wire messages (tsig.c) --------------------------------------- */

#define ZC_TSIG_MAX_MAC 64

/*
 * Signs the message @wire (@len octets, no TSIG yet; @cap octets of room) in
 * place: appends the TSIG RR (RFC 8945 §4.2, §4.3.3) and bumps ARCOUNT. The MAC
 * goes to @ret_mac (ZC_TSIG_MAX_MAC octets) for verifying the answer.
 * Returns 0 with *ret_len and *ret_mac_len, ZC_ELIMIT (no room) or -ENOMEM.
 */
int zc_tsig_sign_wire(const struct zc_tsig *key, uint8_t *wire, size_t len, size_t cap,
		      uint64_t now, uint16_t fudge, size_t *ret_len, uint8_t *ret_mac,
		      size_t *ret_mac_len);

/*
 * Checks the TSIG of the answer @wire to a request whose MAC was @req_mac
 * (RFC 8945 §5.3): the last additional record must be a TSIG of our key and
 * algorithm. *ret_error gets the TSIG error field (0 when none or no TSIG).
 * Returns 0 (signed, MAC valid, time within fudge); ZC_ENOKEY (no TSIG, another
 * key or algorithm, or an unsigned error answer: BADSIG, BADKEY); ZC_EBOGUS (MAC
 * wrong); ZC_EEXPIRED (time outside fudge); ZC_EMALF (malformed); -ENOMEM.
 */
int zc_tsig_verify_wire(const struct zc_tsig *key, const uint8_t *wire, size_t len,
			const uint8_t *req_mac, size_t req_mac_len, uint64_t now,
			int *ret_error);

/* --- transport (transport.c) ---------------------------------------------- */

/*
 * One DNS message exchange over TCP with @server (RFC 7766 two-octet length),
 * bounded by @timeout_ms in all. Returns 0 with *ret_answer (free()) and
 * *ret_len; ZC_ETIMEOUT; ZC_ECONN (refused, reset, closed early); ZC_EMALF (a
 * zero-length answer); -errno; -ENOMEM.
 */
int zc_apply_tcp_exchange(const struct sockaddr *server, socklen_t server_len,
			  const uint8_t *query, size_t query_len, unsigned timeout_ms,
			  uint8_t **ret_answer, size_t *ret_len);

#endif
