/* SPDX-License-Identifier: MIT */
/*
 * The PowerDNS HTTP API driver. A change becomes one PATCH of the zone's rrsets:
 * for each owner and type it touches, the whole new content (changetype
 * REPLACE), or DELETE when the rrset ends empty. The current content comes from
 * a GET of the zone just before: the API's rrsets hold the records of the zone
 * data (what the controller put there), not the keys of PowerDNS's own keystore
 * nor the CDS/CDNSKEY it makes for them, so a REPLACE never touches those.
 * HTTP statuses map onto rcodes for the read-back logic: 2xx NOERROR, 401/403
 * REFUSED, 404 NOTAUTH (no such zone), 422 FORMERR, others SERVFAIL.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <zonecut/apply.h>
#include <zonecut/net.h>

#include "signers/internal.h"

#define PDNS_API_PATH "/api/v1/servers/%s/zones/%s"

/* The rdata of @rr as PowerDNS wants it: presentation form, no trailing blank. */
static char *content_of(const ldns_rr *rr)
{
	char *t = sgn_rdata_str(rr);
	size_t n = t ? strlen(t) : 0;

	while (n > 0 && (t[n - 1] == ' ' || t[n - 1] == '\t')) {
		t[--n] = '\0';
	}
	return t;
}

static bool same_rrset(const ldns_rr *a, const ldns_rr *b)
{
	return ldns_rr_get_type(a) == ldns_rr_get_type(b) &&
	       ldns_dname_compare(ldns_rr_owner(a), ldns_rr_owner(b)) == 0;
}

/* The records of @l in the rrset of @key (owner and type); exact type, not family. */
static bool has_in_rrset(const ldns_rr_list *l, const ldns_rr *key)
{
	for (size_t i = 0; l && i < ldns_rr_list_rr_count(l); i++) {
		if (same_rrset(ldns_rr_list_rr(l, i), key) &&
		    zc_rdata_equal(ldns_rr_list_rr(l, i), key)) {
			return true;
		}
	}
	return false;
}

/* One rrset entry of the PATCH: the new content of the rrset of @key. */
static json_t *rrset_json(const ldns_rr *key, const ldns_rr_list *have, const ldns_rr_list *add,
			  const ldns_rr_list *del)
{
	char name[ZC_DNS_MAX_NAME_TEXT], *type = ldns_rr_type2str(ldns_rr_get_type(key));
	json_t *records = json_array(), *o;
	uint32_t ttl = 0;

	if (!type || !records || zc_name_to_str(ldns_rr_owner(key), name, sizeof(name)) < 0) {
		free(type);
		json_decref(records);
		return NULL;
	}
	for (int pass = 0; pass < 2; pass++) {
		const ldns_rr_list *l = pass ? add : have;

		for (size_t i = 0; l && i < ldns_rr_list_rr_count(l); i++) {
			const ldns_rr *rr = ldns_rr_list_rr(l, i);
			char *c;

			if (!same_rrset(rr, key) || (pass == 0 && has_in_rrset(del, rr)) ||
			    (pass == 1 && has_in_rrset(have, rr) && !has_in_rrset(del, rr))) {
				continue;
			}
			if (pass == 1 || ttl == 0) {
				ttl = ldns_rr_ttl(rr);
			}
			c = content_of(rr);
			if (!c) {
				free(type);
				json_decref(records);
				return NULL;
			}
			json_array_append_new(records, json_pack("{s:s, s:b}", "content", c,
								 "disabled", false));
			free(c);
		}
	}
	if (json_array_size(records) == 0) {
		json_decref(records);
		o = json_pack("{s:s, s:s, s:s}", "name", name, "type", type, "changetype", "DELETE");
	} else {
		o = json_pack("{s:s, s:s, s:i, s:s, s:o}", "name", name, "type", type, "ttl",
			      (int)(ttl ? ttl : SGN_DEFAULT_TTL), "changetype", "REPLACE", "records",
			      records);
	}
	free(type);
	return o;
}

int sgn_pdns_body(const char *zone, const ldns_rr_list *have, const ldns_rr_list *add,
		  const ldns_rr_list *del, json_t **ret)
{
	json_t *rrsets = json_array(), *body;
	ldns_rr_list *seen = ldns_rr_list_new();
	int r = rrsets && seen ? 0 : -ENOMEM;

	(void)zone;
	for (int pass = 0; r == 0 && pass < 2; pass++) {
		const ldns_rr_list *l = pass ? del : add;

		for (size_t i = 0; r == 0 && l && i < ldns_rr_list_rr_count(l); i++) {
			const ldns_rr *rr = ldns_rr_list_rr(l, i);
			bool done = false;
			json_t *o;

			for (size_t k = 0; !done && k < ldns_rr_list_rr_count(seen); k++) {
				done = same_rrset(ldns_rr_list_rr(seen, k), rr);
			}
			if (done) {
				continue;
			}
			o = rrset_json(rr, have, add, del);
			if (!o || json_array_append_new(rrsets, o) < 0 ||
			    !ldns_rr_list_push_rr(seen, (ldns_rr *)rr)) {
				r = -ENOMEM;
			}
		}
	}
	ldns_rr_list_free(seen); /* the records belong to @add and @del */
	if (r < 0) {
		json_decref(rrsets);
		return r;
	}
	body = json_pack("{s:o}", "rrsets", rrsets);
	if (!body) {
		return -ENOMEM;
	}
	*ret = body;
	return 0;
}

/* The records of the zone's rrsets (GET answer @text) into a new list. */
static int parse_zone(const char *text, ldns_rr_list **ret, char *why, size_t whylen)
{
	json_t *root = json_loads(text, 0, NULL), *rrsets = json_object_get(root, "rrsets"), *o;
	ldns_rr_list *l = ldns_rr_list_new();
	size_t i;
	int r = 0;

	if (!l || !json_is_array(rrsets)) {
		snprintf(why, whylen, "the API's zone has no rrsets");
		r = l ? ZC_EMALF : -ENOMEM;
	}
	json_array_foreach(r == 0 ? rrsets : NULL, i, o) {
		const char *name = json_string_value(json_object_get(o, "name"));
		const char *type = json_string_value(json_object_get(o, "type"));
		json_int_t ttl = json_integer_value(json_object_get(o, "ttl"));
		json_t *records = json_object_get(o, "records"), *rec;
		size_t k;

		if (!name || !type) {
			continue;
		}
		json_array_foreach(records, k, rec) {
			const char *content = json_string_value(json_object_get(rec, "content"));
			char line[8192];
			ldns_rr *rr = NULL;

			if (!content || snprintf(line, sizeof(line), "%s %lld IN %s %s", name,
						 (long long)ttl, type, content) >= (int)sizeof(line)) {
				continue;
			}
			/* records of types ldns cannot read cannot be ours: left alone */
			if (zc_rr_from_str(line, 0, NULL, &rr) < 0) {
				continue;
			}
			if (!ldns_rr_list_push_rr(l, rr)) {
				ldns_rr_free(rr);
				r = -ENOMEM;
				break;
			}
		}
		if (r < 0) {
			break;
		}
	}
	json_decref(root);
	if (r < 0) {
		ldns_rr_list_deep_free(l);
		return r;
	}
	*ret = l;
	return 0;
}

static int status_rcode(int status)
{
	if (status >= 200 && status < 300) {
		return LDNS_RCODE_NOERROR;
	}
	switch (status) {
	case 401:
	case 403:
		return LDNS_RCODE_REFUSED;
	case 404:
		return LDNS_RCODE_NOTAUTH;
	case 400:
	case 422:
		return LDNS_RCODE_FORMERR;
	default:
		return LDNS_RCODE_SERVFAIL;
	}
}

int sgn_pdns_apply(const struct zc_signer *s, const char *zone, const ldns_rr_list *add,
		   const ldns_rr_list *del, unsigned timeout_ms, int *ret_rcode, char *why,
		   size_t whylen)
{
	struct sockaddr_storage ss;
	socklen_t len;
	char path[ZC_DNS_MAX_NAME_TEXT + 128], key[1024], *answer = NULL, *text = NULL;
	const char *headers[] = { key, "Content-Type: application/json",
				  "Accept: application/json", NULL };
	ldns_rr_list *have = NULL;
	json_t *body = NULL;
	size_t alen = 0;
	int r, status = 0;

	if (zc_addr_parse(s->server, 8081, &ss, &len) < 0) {
		snprintf(why, whylen, "bad API address '%s'", s->server);
		return -EINVAL;
	}
	snprintf(key, sizeof(key), "X-API-Key: %s", s->api_key ? s->api_key : "");
	snprintf(path, sizeof(path), PDNS_API_PATH,
		 s->api_server_id ? s->api_server_id : "localhost", zone);
	r = zc_apply_http((struct sockaddr *)&ss, len, "GET", path, headers, NULL, timeout_ms,
			  &status, &answer, &alen, why, whylen);
	if (r < 0) {
		return r;
	}
	if (status != 200) {
		snprintf(why, whylen, "signer '%s': GET %s answered HTTP %d (%.200s)", s->name, path,
			 status, answer);
		*ret_rcode = status_rcode(status);
		free(answer);
		return 0;
	}
	r = parse_zone(answer, &have, why, whylen);
	free(answer);
	answer = NULL;
	if (r == 0) {
		r = sgn_pdns_body(zone, have, add, del, &body);
	}
	if (r == 0) {
		text = json_dumps(body, JSON_COMPACT);
		r = text ? 0 : -ENOMEM;
	}
	if (r == 0) {
		r = zc_apply_http((struct sockaddr *)&ss, len, "PATCH", path, headers, text,
				  timeout_ms, &status, &answer, &alen, why, whylen);
	}
	if (r == 0) {
		*ret_rcode = status_rcode(status);
		if (*ret_rcode != LDNS_RCODE_NOERROR) {
			snprintf(why, whylen, "signer '%s': PATCH %s answered HTTP %d (%.200s)",
				 s->name, path, status, answer);
		}
	}
	free(answer);
	free(text);
	json_decref(body);
	ldns_rr_list_deep_free(have);
	return r;
}
