/* SPDX-License-Identifier: MIT */
/*
 * Configuration of the multi-signer controller in text: signers ("NAME key=value
 * ...") and zones ("ZONE key=value ..."), parsed and written back canonically, as
 * they appear in the config file, on the command line and in the store; and the
 * signer group of a zone as the JSON kept in the store.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <zonecut/apply.h>
#include <zonecut/net.h>

#include "signers/internal.h"

#define CONF_MAX_TEXT 8192
#define DEFAULT_DNS_PORT 53
#define DEFAULT_API_PORT 8081

static const char *const driver_names[] = {
	[ZC_SIGNER_RFC2136] = "rfc2136",
	[ZC_SIGNER_PDNS_API] = "pdns-api",
};

const char *zc_signer_driver_str(enum zc_signer_driver d)
{
	return (unsigned)d < ZC_ARRAY_SIZE(driver_names) ? driver_names[d] : "?";
}

static void seterr(char *err, size_t errlen, const char *fmt, ...) ZC_PRINTF(3, 4);
static void seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || errlen == 0) {
		return;
	}
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* Signer names: 1..63 of [a-z0-9_-]. */
static bool name_ok(const char *s, size_t n)
{
	if (n == 0 || n > ZC_SIGNER_MAX_NAME) {
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		if (!islower((unsigned char)s[i]) && !isdigit((unsigned char)s[i]) && s[i] != '-' &&
		    s[i] != '_') {
			return false;
		}
	}
	return true;
}

/* "ADDR[@PORT]" into the canonical "ADDR@PORT" (malloc'd). */
static int addr_norm(const char *text, uint16_t port, char **ret)
{
	struct sockaddr_storage ss;
	socklen_t len;
	char buf[INET6_ADDRSTRLEN + 32];

	if (zc_addr_parse(text, port, &ss, &len) < 0 ||
	    zc_addr_to_str((struct sockaddr *)&ss, buf, sizeof(buf)) < 0) {
		return -EINVAL;
	}
	*ret = strdup(buf);
	return *ret ? 0 : -ENOMEM;
}

/* A domain name into its canonical text (absolute, lower-case; malloc'd). */
static int dname_norm(const char *text, char **ret)
{
	ldns_rdf *rdf = NULL;
	char buf[ZC_DNS_MAX_NAME_TEXT];
	int r = zc_name_from_str(text, &rdf);

	if (r == 0) {
		r = zc_name_to_str(rdf, buf, sizeof(buf));
	}
	ldns_rdf_deep_free(rdf);
	if (r < 0) {
		return r == -ENOMEM ? r : ZC_EMALF;
	}
	*ret = strdup(buf);
	return *ret ? 0 : -ENOMEM;
}

/* Splits "a,b,c" into at most @max malloc'd items normalised by @norm. */
static int split_list(const char *value, unsigned max, char **out, unsigned *ret_n,
		      int (*norm)(const char *item, void *arg, char **ret), void *arg)
{
	char buf[CONF_MAX_TEXT];
	char *save = NULL;
	unsigned n = *ret_n;
	int r;

	snprintf(buf, sizeof(buf), "%s", value);
	for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (n >= max) {
			return ZC_ELIMIT;
		}
		r = norm(t, arg, &out[n]);
		if (r < 0) {
			return r;
		}
		n++;
	}
	if (n == *ret_n) {
		return -EINVAL;
	}
	*ret_n = n;
	return 0;
}

static int norm_addr(const char *item, void *arg, char **ret)
{
	return addr_norm(item, *(const uint16_t *)arg, ret);
}

static int norm_signer_name(const char *item, void *arg, char **ret)
{
	(void)arg;
	if (!name_ok(item, strlen(item))) {
		return -EINVAL;
	}
	*ret = strdup(item);
	return *ret ? 0 : -ENOMEM;
}

/* Splits @text into blank-separated tokens, in place. */
static unsigned tokens(char *text, char **tok, unsigned max)
{
	unsigned n = 0;
	char *save = NULL;

	for (char *t = strtok_r(text, " \t\r\n", &save); t; t = strtok_r(NULL, " \t\r\n", &save)) {
		if (n == max) {
			return max + 1;
		}
		tok[n++] = t;
	}
	return n;
}

/* --- signers ---------------------------------------------------------------- */

void zc_signer_free(struct zc_signer *s)
{
	if (!s) {
		return;
	}
	free(s->name);
	free(s->server);
	free(s->tsig);
	free(s->tsig_file);
	free(s->api_key);
	free(s->api_server_id);
	free(s->keys_command);
	for (unsigned i = 0; i < s->n_ns; i++) {
		free(s->ns[i].name);
		for (unsigned j = 0; j < s->ns[i].n_addrs; j++) {
			free(s->ns[i].addrs[j]);
		}
	}
	free(s);
}

static int parse_ns(struct zc_signer *s, const char *value, char *err, size_t errlen)
{
	struct zc_signer_ns *ns;
	char name[ZC_DNS_MAX_NAME_TEXT];
	const char *eq = strchr(value, '=');
	uint16_t port = DEFAULT_DNS_PORT;
	size_t n = eq ? (size_t)(eq - value) : strlen(value);
	int r;

	if (s->n_ns >= ZC_SIGNERS_MAX_NS) {
		seterr(err, errlen, "signer '%s': more than %d nameservers", s->name,
		       ZC_SIGNERS_MAX_NS);
		return ZC_ECONFIG;
	}
	if (n == 0 || n >= sizeof(name)) {
		seterr(err, errlen, "signer '%s': bad ns '%s'", s->name, value);
		return ZC_ECONFIG;
	}
	memcpy(name, value, n);
	name[n] = '\0';
	ns = &s->ns[s->n_ns];
	r = dname_norm(name, &ns->name);
	if (r < 0) {
		seterr(err, errlen, "signer '%s': ns '%s' is not a domain name", s->name, name);
		return r == -ENOMEM ? r : ZC_ECONFIG;
	}
	s->n_ns++;
	for (unsigned i = 0; i + 1 < s->n_ns; i++) {
		if (strcmp(s->ns[i].name, ns->name) == 0) {
			seterr(err, errlen, "signer '%s': ns '%s' given twice", s->name, ns->name);
			return ZC_ECONFIG;
		}
	}
	if (eq) {
		r = split_list(eq + 1, ZC_SIGNERS_MAX_ADDRS, ns->addrs, &ns->n_addrs, norm_addr,
			       &port);
		if (r < 0) {
			seterr(err, errlen,
			       "signer '%s': ns '%s' needs numeric addresses (ADDR[@PORT],... at "
			       "most %d)",
			       s->name, ns->name, ZC_SIGNERS_MAX_ADDRS);
			return r == -ENOMEM ? r : ZC_ECONFIG;
		}
	}
	return 0;
}

/* Replaces *field with a copy of @value; a second occurrence of a key is an error. */
static int set_once(char **field, const char *key, const char *value, const char *who,
		    char *err, size_t errlen)
{
	if (*field) {
		seterr(err, errlen, "%s: '%s' given twice", who, key);
		return ZC_ECONFIG;
	}
	if (!*value) {
		seterr(err, errlen, "%s: '%s' is empty", who, key);
		return ZC_ECONFIG;
	}
	*field = strdup(value);
	return *field ? 0 : -ENOMEM;
}

static int signer_kv(struct zc_signer *s, const char *key, const char *value, bool *have_driver,
		     char **server_text, char *err, size_t errlen)
{
	char who[ZC_SIGNER_MAX_NAME + 16];

	snprintf(who, sizeof(who), "signer '%s'", s->name);
	if (strcmp(key, "driver") == 0) {
		if (*have_driver) {
			seterr(err, errlen, "%s: 'driver' given twice", who);
			return ZC_ECONFIG;
		}
		*have_driver = true;
		for (size_t i = 0; i < ZC_ARRAY_SIZE(driver_names); i++) {
			if (strcmp(value, driver_names[i]) == 0) {
				s->driver = (enum zc_signer_driver)i;
				return 0;
			}
		}
		seterr(err, errlen, "%s: driver '%s' is not rfc2136 or pdns-api", who, value);
		return ZC_ECONFIG;
	}
	if (strcmp(key, "server") == 0) {
		return set_once(server_text, key, value, who, err, errlen);
	}
	if (strcmp(key, "tsig") == 0) {
		struct zc_tsig *k = NULL;
		char why[256] = "";
		int r = zc_tsig_parse(value, &k, why, sizeof(why));

		zc_tsig_free(k);
		if (r < 0) {
			seterr(err, errlen, "%s: %s", who, why[0] ? why : zc_strerror(r));
			return r == -ENOMEM ? r : ZC_ECONFIG;
		}
		return set_once(&s->tsig, key, value, who, err, errlen);
	}
	if (strcmp(key, "tsig-file") == 0) {
		return set_once(&s->tsig_file, key, value, who, err, errlen);
	}
	if (strcmp(key, "api-key") == 0) {
		return set_once(&s->api_key, key, value, who, err, errlen);
	}
	if (strcmp(key, "api-server-id") == 0) {
		return set_once(&s->api_server_id, key, value, who, err, errlen);
	}
	if (strcmp(key, "ns") == 0) {
		return parse_ns(s, value, err, errlen);
	}
	if (strcmp(key, "keys-command") == 0) {
		/* run without a PATH search: the program is named by its full path; or
		 * "manual": the operator acts at the provider, the controller waits */
		if (value[0] != '/' && strcmp(value, SGN_KEYS_MANUAL) != 0) {
			seterr(err, errlen,
			       "%s: keys-command '%s' is not an absolute path (or \"manual\")", who,
			       value);
			return ZC_ECONFIG;
		}
		return set_once(&s->keys_command, key, value, who, err, errlen);
	}
	seterr(err, errlen, "%s: unknown key '%s' (driver, server, tsig, tsig-file, api-key, "
			    "api-server-id, ns, keys-command)",
	       who, key);
	return ZC_ECONFIG;
}

/* What the driver needs, and nothing meant for the other one. */
static int signer_check(const struct zc_signer *s, char *err, size_t errlen)
{
	if (s->n_ns == 0) {
		seterr(err, errlen, "signer '%s': at least one ns=NAME is needed", s->name);
		return ZC_ECONFIG;
	}
	if (s->tsig && s->tsig_file) {
		seterr(err, errlen, "signer '%s': give tsig or tsig-file, not both", s->name);
		return ZC_ECONFIG;
	}
	if (s->driver == ZC_SIGNER_RFC2136 && (s->api_key || s->api_server_id)) {
		seterr(err, errlen, "signer '%s': api-key and api-server-id are for driver pdns-api",
		       s->name);
		return ZC_ECONFIG;
	}
	if (s->driver == ZC_SIGNER_PDNS_API) {
		if (s->tsig || s->tsig_file) {
			seterr(err, errlen, "signer '%s': tsig is for driver rfc2136", s->name);
			return ZC_ECONFIG;
		}
		if (!s->api_key) {
			seterr(err, errlen, "signer '%s': driver pdns-api needs api-key", s->name);
			return ZC_ECONFIG;
		}
		/* ns names without addresses are resolved: the API endpoint is never read */
	}
	return 0;
}

int zc_signer_parse(const char *text, struct zc_signer **ret, char *err, size_t errlen)
{
	char buf[CONF_MAX_TEXT], *tok[64], *server_text = NULL;
	struct zc_signer *s;
	bool have_driver = false;
	unsigned n;
	int r = 0;

	if (!text || !ret) {
		return -EINVAL;
	}
	if (strlen(text) >= sizeof(buf)) {
		seterr(err, errlen, "signer text longer than %d bytes", CONF_MAX_TEXT - 1);
		return ZC_ECONFIG;
	}
	snprintf(buf, sizeof(buf), "%s", text);
	n = tokens(buf, tok, ZC_ARRAY_SIZE(tok));
	if (n == 0 || n > ZC_ARRAY_SIZE(tok)) {
		seterr(err, errlen, n ? "signer: too many fields" : "signer: empty");
		return ZC_ECONFIG;
	}
	if (strchr(tok[0], '=') || !name_ok(tok[0], strlen(tok[0]))) {
		seterr(err, errlen, "signer name '%s' must be 1-63 of a-z, 0-9, '-', '_'", tok[0]);
		return ZC_ECONFIG;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		return -ENOMEM;
	}
	s->name = strdup(tok[0]);
	if (!s->name) {
		r = -ENOMEM;
		goto out;
	}
	for (unsigned i = 1; r == 0 && i < n; i++) {
		char *eq = strchr(tok[i], '=');

		if (!eq) {
			seterr(err, errlen, "signer '%s': expected key=value, not '%s'", s->name,
			       tok[i]);
			r = ZC_ECONFIG;
			break;
		}
		*eq = '\0';
		r = signer_kv(s, tok[i], eq + 1, &have_driver, &server_text, err, errlen);
	}
	if (r < 0) {
		goto out;
	}
	if (!server_text) {
		seterr(err, errlen, "signer '%s': server=ADDR[@PORT] is needed", s->name);
		r = ZC_ECONFIG;
		goto out;
	}
	r = addr_norm(server_text,
		      s->driver == ZC_SIGNER_PDNS_API ? DEFAULT_API_PORT : DEFAULT_DNS_PORT,
		      &s->server);
	if (r < 0) {
		seterr(err, errlen, "signer '%s': server '%s' is not ADDR[@PORT]", s->name,
		       server_text);
		r = r == -ENOMEM ? r : ZC_ECONFIG;
		goto out;
	}
	r = signer_check(s, err, errlen);
	if (r < 0) {
		goto out;
	}
	*ret = s;
	s = NULL;
out:
	free(server_text);
	zc_signer_free(s);
	return r;
}

static int tb_finish(struct zc_buf *b, char **ret)
{
	char *s = zc_buf_steal(b);

	if (!s) {
		return -ENOMEM;
	}
	*ret = s;
	return 0;
}

/* "hmac-sha256:name:***" for a listing. */
static void redact_tsig(const char *tsig, char *buf, size_t len)
{
	const char *last = strrchr(tsig, ':');

	snprintf(buf, len, "%.*s:***", last ? (int)(last - tsig) : 0, tsig);
}

int zc_signer_format(const struct zc_signer *s, bool redact, char **ret_text)
{
	struct zc_buf b = { 0 };

	if (!s || !s->name || !s->server || !ret_text) {
		return -EINVAL;
	}
	zc_buf_printf(&b, "%s driver=%s server=%s", s->name, zc_signer_driver_str(s->driver), s->server);
	if (s->tsig) {
		char red[512];

		redact_tsig(s->tsig, red, sizeof(red));
		zc_buf_printf(&b, " tsig=%s", redact ? red : s->tsig);
	}
	if (s->tsig_file) {
		zc_buf_printf(&b, " tsig-file=%s", s->tsig_file);
	}
	if (s->api_key) {
		zc_buf_printf(&b, " api-key=%s", redact ? "***" : s->api_key);
	}
	if (s->api_server_id) {
		zc_buf_printf(&b, " api-server-id=%s", s->api_server_id);
	}
	if (s->keys_command) {
		zc_buf_printf(&b, " keys-command=%s", s->keys_command);
	}
	for (unsigned i = 0; i < s->n_ns; i++) {
		zc_buf_printf(&b, " ns=%s", s->ns[i].name);
		for (unsigned j = 0; j < s->ns[i].n_addrs; j++) {
			zc_buf_printf(&b, "%c%s", j ? ',' : '=', s->ns[i].addrs[j]);
		}
	}
	return tb_finish(&b, ret_text);
}

/* --- zones ------------------------------------------------------------------- */

void zc_signer_zone_free(struct zc_signer_zone *z)
{
	if (!z) {
		return;
	}
	free(z->zone);
	for (unsigned i = 0; i < z->n_signers; i++) {
		free(z->signers[i]);
	}
	for (unsigned i = 0; i < z->n_parent; i++) {
		free(z->parent[i]);
	}
	free(z);
}

static int zone_digests(struct zc_signer_zone *z, const char *value, char *err, size_t errlen)
{
	char buf[64];
	char *save = NULL;

	snprintf(buf, sizeof(buf), "%s", value);
	z->n_digests = 0;
	z->digests[z->n_digests++] = ZC_DIGEST_SHA256;
	for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		uint32_t d;
		bool dup = false;

		/* RFC 9558 / SPECS S11: SHA-256 always, SHA-384 allowed, SHA-1 never. */
		if (zc_parse_u32(t, 1, 255, &d) < 0 ||
		    (d != ZC_DIGEST_SHA256 && d != ZC_DIGEST_SHA384)) {
			seterr(err, errlen,
			       "zone '%s': cds-digests takes 2 (SHA-256) and 4 (SHA-384), not '%s'",
			       z->zone, t);
			return ZC_ECONFIG;
		}
		for (unsigned i = 0; i < z->n_digests; i++) {
			dup = dup || z->digests[i] == d;
		}
		if (!dup) {
			z->digests[z->n_digests++] = (uint8_t)d;
		}
	}
	return 0;
}

static int zone_kv(struct zc_signer_zone *z, const char *key, const char *value, char *err,
		   size_t errlen)
{
	uint16_t port = DEFAULT_DNS_PORT;
	int r;

	if (strcmp(key, "signers") == 0) {
		if (z->n_signers) {
			seterr(err, errlen, "zone '%s': 'signers' given twice", z->zone);
			return ZC_ECONFIG;
		}
		r = split_list(value, ZC_SIGNERS_MAX_GROUP, z->signers, &z->n_signers,
			       norm_signer_name, NULL);
		if (r < 0) {
			seterr(err, errlen, "zone '%s': signers=NAME[,NAME...] (at most %d names of "
					    "a-z, 0-9, '-', '_')",
			       z->zone, ZC_SIGNERS_MAX_GROUP);
			return r == -ENOMEM ? r : ZC_ECONFIG;
		}
		for (unsigned i = 0; i < z->n_signers; i++) {
			for (unsigned j = 0; j < i; j++) {
				if (strcmp(z->signers[i], z->signers[j]) == 0) {
					seterr(err, errlen, "zone '%s': signer '%s' listed twice",
					       z->zone, z->signers[i]);
					return ZC_ECONFIG;
				}
			}
		}
		return 0;
	}
	if (strcmp(key, "parent") == 0) {
		if (z->n_parent) {
			seterr(err, errlen, "zone '%s': 'parent' given twice", z->zone);
			return ZC_ECONFIG;
		}
		r = split_list(value, ZC_SIGNERS_MAX_ADDRS, z->parent, &z->n_parent, norm_addr,
			       &port);
		if (r < 0) {
			seterr(err, errlen, "zone '%s': parent=ADDR[@PORT][,...] (numeric, at most %d)",
			       z->zone, ZC_SIGNERS_MAX_ADDRS);
			return r == -ENOMEM ? r : ZC_ECONFIG;
		}
		return 0;
	}
	if (strcmp(key, "cds-digests") == 0) {
		return zone_digests(z, value, err, errlen);
	}
	if (strcmp(key, "propagation-delay") == 0) {
		uint64_t ms;

		if (zc_parse_duration_ms(value, 1000, &ms) < 0 || ms > 7ull * 86400000) {
			seterr(err, errlen, "zone '%s': propagation-delay '%s' is not a duration "
					    "up to 7d",
			       z->zone, value);
			return ZC_ECONFIG;
		}
		z->propagation_delay_s = (uint32_t)((ms + 999) / 1000);
		return 0;
	}
	if (strcmp(key, "max-zone-ttl") == 0) {
		uint64_t ms;

		if (zc_parse_duration_ms(value, 1000, &ms) < 0 || ms > 30ull * 86400000) {
			seterr(err, errlen,
			       "zone '%s': max-zone-ttl '%s' is not a duration up to 30d", z->zone,
			       value);
			return ZC_ECONFIG;
		}
		z->max_zone_ttl_s = (uint32_t)((ms + 999) / 1000);
		return 0;
	}
	seterr(err, errlen, "zone '%s': unknown key '%s' (signers, parent, cds-digests, "
			    "propagation-delay, max-zone-ttl)",
	       z->zone, key);
	return ZC_ECONFIG;
}

int zc_signer_zone_parse(const char *text, struct zc_signer_zone **ret, char *err, size_t errlen)
{
	char buf[CONF_MAX_TEXT], *tok[32];
	struct zc_signer_zone *z;
	unsigned n;
	int r = 0;

	if (!text || !ret) {
		return -EINVAL;
	}
	if (strlen(text) >= sizeof(buf)) {
		seterr(err, errlen, "zone text longer than %d bytes", CONF_MAX_TEXT - 1);
		return ZC_ECONFIG;
	}
	snprintf(buf, sizeof(buf), "%s", text);
	n = tokens(buf, tok, ZC_ARRAY_SIZE(tok));
	if (n == 0 || n > ZC_ARRAY_SIZE(tok)) {
		seterr(err, errlen, n ? "zone: too many fields" : "zone: empty");
		return ZC_ECONFIG;
	}
	z = calloc(1, sizeof(*z));
	if (!z) {
		return -ENOMEM;
	}
	r = strchr(tok[0], '=') ? ZC_EMALF : dname_norm(tok[0], &z->zone);
	if (r == 0 && strcmp(z->zone, ".") == 0) {
		r = ZC_EMALF; /* the root has no parent to hold a DS set */
	}
	if (r < 0) {
		seterr(err, errlen, "zone name '%s' is not a domain name below the root", tok[0]);
		r = r == -ENOMEM ? r : ZC_ECONFIG;
		goto out;
	}
	z->digests[z->n_digests++] = ZC_DIGEST_SHA256;
	for (unsigned i = 1; r == 0 && i < n; i++) {
		char *eq = strchr(tok[i], '=');

		if (!eq) {
			seterr(err, errlen, "zone '%s': expected key=value, not '%s'", z->zone,
			       tok[i]);
			r = ZC_ECONFIG;
			break;
		}
		*eq = '\0';
		r = zone_kv(z, tok[i], eq + 1, err, errlen);
	}
	if (r < 0) {
		goto out;
	}
	*ret = z;
	z = NULL;
out:
	zc_signer_zone_free(z);
	return r;
}

int zc_signer_zone_format(const struct zc_signer_zone *z, bool with_signers, char **ret_text)
{
	struct zc_buf b = { 0 };

	if (!z || !z->zone || !ret_text) {
		return -EINVAL;
	}
	zc_buf_printf(&b, "%s", z->zone);
	if (with_signers && z->n_signers) {
		zc_buf_printf(&b, " signers=");
		for (unsigned i = 0; i < z->n_signers; i++) {
			zc_buf_printf(&b, "%s%s", i ? "," : "", z->signers[i]);
		}
	}
	if (z->n_parent) {
		zc_buf_printf(&b, " parent=");
		for (unsigned i = 0; i < z->n_parent; i++) {
			zc_buf_printf(&b, "%s%s", i ? "," : "", z->parent[i]);
		}
	}
	if (z->n_digests > 1) {
		zc_buf_printf(&b, " cds-digests=");
		for (unsigned i = 0; i < z->n_digests; i++) {
			zc_buf_printf(&b, "%s%u", i ? "," : "", z->digests[i]);
		}
	}
	if (z->propagation_delay_s) {
		zc_buf_printf(&b, " propagation-delay=%us", z->propagation_delay_s);
	}
	if (z->max_zone_ttl_s) {
		zc_buf_printf(&b, " max-zone-ttl=%us", z->max_zone_ttl_s);
	}
	return tb_finish(&b, ret_text);
}

/* --- the group --------------------------------------------------------------- */

static const char *const state_names[] = {
	[SGN_ACTIVE] = "active",
	[SGN_JOINING] = "joining",
	[SGN_LEAVING] = "leaving",
};

const char *sgn_state_str(enum sgn_state s)
{
	return (unsigned)s < ZC_ARRAY_SIZE(state_names) ? state_names[s] : "?";
}

void sgn_group_release(struct sgn_group *g)
{
	if (!g) {
		return;
	}
	for (unsigned i = 0; i < g->n; i++) {
		ldns_rr_list_deep_free(g->m[i].pushed);
		g->m[i].pushed = NULL;
	}
	g->n = 0;
}

struct sgn_member *sgn_group_find(struct sgn_group *g, const char *name)
{
	for (unsigned i = 0; i < g->n; i++) {
		if (strcmp(g->m[i].name, name) == 0) {
			return &g->m[i];
		}
	}
	return NULL;
}

int sgn_group_add(struct sgn_group *g, const char *name, enum sgn_state state)
{
	struct sgn_member *m;

	if (sgn_group_find(g, name)) {
		return -EEXIST;
	}
	if (g->n >= ZC_SIGNERS_MAX_GROUP || !name_ok(name, strlen(name))) {
		return g->n >= ZC_SIGNERS_MAX_GROUP ? ZC_ELIMIT : -EINVAL;
	}
	m = &g->m[g->n];
	memset(m, 0, sizeof(*m));
	snprintf(m->name, sizeof(m->name), "%s", name);
	m->state = state;
	m->pushed = ldns_rr_list_new();
	if (!m->pushed) {
		return -ENOMEM;
	}
	g->n++;
	return 0;
}

void sgn_group_remove(struct sgn_group *g, const char *name)
{
	for (unsigned i = 0; i < g->n; i++) {
		if (strcmp(g->m[i].name, name) == 0) {
			ldns_rr_list_deep_free(g->m[i].pushed);
			memmove(&g->m[i], &g->m[i + 1], (g->n - i - 1) * sizeof(g->m[0]));
			g->n--;
			return;
		}
	}
}

int sgn_group_parse(const char *text, const char *zone, struct sgn_group *ret)
{
	struct sgn_group g = { .n = 0 };
	json_t *root = NULL, *arr;
	ldns_rdf *origin = NULL;
	size_t i;
	int r = 0;

	memset(ret, 0, sizeof(*ret));
	if (!text || !*text) {
		return 0;
	}
	root = json_loads(text, 0, NULL);
	arr = root ? json_object_get(root, "members") : NULL;
	if (!json_is_array(arr) || zc_name_from_str(zone, &origin) < 0) {
		r = ZC_ESTORE;
		goto out;
	}
	for (i = 0; r == 0 && i < json_array_size(arr); i++) {
		json_t *o = json_array_get(arr, i), *pushed = json_object_get(o, "pushed");
		const char *name = json_string_value(json_object_get(o, "name"));
		const char *state = json_string_value(json_object_get(o, "state"));
		struct sgn_member *m;
		int st = -1;

		for (size_t k = 0; state && k < ZC_ARRAY_SIZE(state_names); k++) {
			if (strcmp(state, state_names[k]) == 0) {
				st = (int)k;
			}
		}
		if (!name || st < 0 || !json_is_array(pushed)) {
			r = ZC_ESTORE;
			break;
		}
		r = sgn_group_add(&g, name, (enum sgn_state)st);
		if (r < 0) {
			r = r == -ENOMEM ? r : ZC_ESTORE;
			break;
		}
		m = &g.m[g.n - 1];
		for (size_t k = 0; r == 0 && k < json_array_size(pushed); k++) {
			const char *rd = json_string_value(json_array_get(pushed, k));
			char line[4096];
			ldns_rr *rr = NULL;

			if (!rd || snprintf(line, sizeof(line), "@ 0 IN DNSKEY %s", rd) >=
					   (int)sizeof(line)) {
				r = ZC_ESTORE;
				break;
			}
			r = zc_rr_from_str(line, 0, origin, &rr);
			if (r < 0) {
				r = r == -ENOMEM ? r : ZC_ESTORE;
				break;
			}
			if (!ldns_rr_list_push_rr(m->pushed, rr)) {
				ldns_rr_free(rr);
				r = -ENOMEM;
			}
		}
	}
out:
	json_decref(root);
	ldns_rdf_deep_free(origin);
	if (r < 0) {
		sgn_group_release(&g);
		return r;
	}
	*ret = g;
	return 0;
}

int sgn_group_format(const struct sgn_group *g, char **ret)
{
	json_t *root = json_object(), *arr = json_array();
	char *text = NULL;
	int r = 0;

	if (!root || !arr || json_object_set(root, "members", arr) < 0) {
		r = -ENOMEM;
		goto out;
	}
	for (unsigned i = 0; r == 0 && i < g->n; i++) {
		const struct sgn_member *m = &g->m[i];
		json_t *pushed = json_array();
		json_t *o = json_pack("{s:s, s:s, s:o*}", "name", m->name, "state",
				      sgn_state_str(m->state), "pushed", pushed);

		if (!o || json_array_append_new(arr, o) < 0) {
			r = -ENOMEM;
			break;
		}
		for (size_t k = 0; r == 0 && m->pushed && k < ldns_rr_list_rr_count(m->pushed);
		     k++) {
			char *rd = sgn_rdata_str(ldns_rr_list_rr(m->pushed, k));

			if (!rd || json_array_append_new(pushed, json_string(rd)) < 0) {
				r = -ENOMEM;
			}
			free(rd);
		}
	}
	if (r == 0) {
		text = json_dumps(root, JSON_COMPACT);
		r = text ? 0 : -ENOMEM;
	}
out:
	json_decref(arr);
	json_decref(root);
	if (r == 0) {
		*ret = text;
	}
	return r;
}
