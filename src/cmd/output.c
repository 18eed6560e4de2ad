/* SPDX-License-Identifier: MIT */
/*
 * Output of the command: JSON Lines on stdout (jansson), DNS messages as RFC 8427
 * JSON or as kdig-like text, and the final stdout write check; and opening the
 * state store, with the message when it cannot be.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "util/internal.h"

int out_json_line(json_t *obj)
{
	int r;

	if (!obj) {
		return -ENOMEM;
	}
	r = json_dumpf(obj, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(obj);
	if (r < 0 || fputc('\n', stdout) == EOF) {
		return -EIO;
	}
	return 0;
}

/* --- compact JSON text ----------------------------------------------------- */

static void jb_value(struct zc_buf *b, const json_t *v, unsigned depth)
{
	char num[32];
	const char *key;
	json_t *item;
	size_t i;
	bool first = true;

	if (depth > 64) {
		b->oom = true; /* deeper than anything we make: refuse */
		return;
	}
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		zc_buf_put(b, "{", 1);
		json_object_foreach ((json_t *)v, key, item) {
			if (!first) {
				zc_buf_put(b, ",", 1);
			}
			first = false;
			zc_buf_json_str(b, key, strlen(key));
			zc_buf_put(b, ":", 1);
			jb_value(b, item, depth + 1);
		}
		zc_buf_put(b, "}", 1);
		break;
	case JSON_ARRAY:
		zc_buf_put(b, "[", 1);
		json_array_foreach (v, i, item) {
			if (i > 0) {
				zc_buf_put(b, ",", 1);
			}
			jb_value(b, item, depth + 1);
		}
		zc_buf_put(b, "]", 1);
		break;
	case JSON_STRING:
		zc_buf_json_str(b, json_string_value(v), json_string_length(v));
		break;
	case JSON_INTEGER:
		zc_buf_put(b, num,
		       (size_t)snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT,
					json_integer_value(v)));
		break;
	case JSON_TRUE:
		zc_buf_put(b, "true", 4);
		break;
	case JSON_FALSE:
		zc_buf_put(b, "false", 5);
		break;
	case JSON_NULL:
		zc_buf_put(b, "null", 4);
		break;
	default: {
		/* reals: jansson's own formatting */
		char *t = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);

		if (!t) {
			b->oom = true;
			return;
		}
		zc_buf_put(b, t, strlen(t));
		free(t);
	}
	}
}

char *out_json_text(const json_t *obj)
{
	struct zc_buf b = { 0 };

	if (!obj) {
		return NULL;
	}
	jb_value(&b, obj, 0);
	return zc_buf_steal(&b);
}

int out_finish(int code)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "%s: error writing to stdout\n", arg_progname);
		return EXIT_OPERATIONAL;
	}
	return code;
}

static char *owner_str(const ldns_rdf *name)
{
	return name ? ldns_rdf2str(name) : strdup(".");
}

static json_t *rr_json(const ldns_rr *rr)
{
	json_t *o = json_object();
	char *owner = owner_str(ldns_rr_owner(rr));
	char *type = ldns_rr_type2str(ldns_rr_get_type(rr));
	char *cls = ldns_rr_class2str(ldns_rr_get_class(rr));
	char *data = zc_rr_rdata_to_str(rr);

	if (o) {
		json_object_set_new(o, "NAME", json_string(owner ? owner : ""));
		json_object_set_new(o, "TYPE", json_integer(ldns_rr_get_type(rr)));
		json_object_set_new(o, "TYPEname", json_string(type ? type : ""));
		json_object_set_new(o, "CLASS", json_integer(ldns_rr_get_class(rr)));
		json_object_set_new(o, "CLASSname", json_string(cls ? cls : ""));
		json_object_set_new(o, "TTL", json_integer(ldns_rr_ttl(rr)));
		json_object_set_new(o, "rdata", json_string(data ? data : ""));
	}
	free(owner);
	free(type);
	free(cls);
	free(data);
	return o;
}

static json_t *section_json(const ldns_rr_list *l, bool skip_opt)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < ldns_rr_list_rr_count(l); i++) {
		const ldns_rr *rr = ldns_rr_list_rr(l, i);

		if (skip_opt && ldns_rr_get_type(rr) == LDNS_RR_TYPE_OPT) {
			continue;
		}
		json_array_append_new(a, rr_json(rr));
	}
	return a;
}

json_t *out_pkt_json(const ldns_pkt *pkt)
{
	json_t *o = json_object();
	const ldns_rr_list *q = ldns_pkt_question(pkt);
	char *rcode = ldns_pkt_rcode2str(ldns_pkt_get_rcode(pkt));

	if (!o) {
		free(rcode);
		return NULL;
	}
	/* RFC 8427 §2.1 member names */
	json_object_set_new(o, "ID", json_integer(ldns_pkt_id(pkt)));
	json_object_set_new(o, "QR", json_integer(ldns_pkt_qr(pkt)));
	json_object_set_new(o, "Opcode", json_integer(ldns_pkt_get_opcode(pkt)));
	json_object_set_new(o, "AA", json_integer(ldns_pkt_aa(pkt)));
	json_object_set_new(o, "TC", json_integer(ldns_pkt_tc(pkt)));
	json_object_set_new(o, "RD", json_integer(ldns_pkt_rd(pkt)));
	json_object_set_new(o, "RA", json_integer(ldns_pkt_ra(pkt)));
	json_object_set_new(o, "AD", json_integer(ldns_pkt_ad(pkt)));
	json_object_set_new(o, "CD", json_integer(ldns_pkt_cd(pkt)));
	json_object_set_new(o, "RCODE", json_integer(ldns_pkt_get_rcode(pkt)));
	json_object_set_new(o, "RCODEname", json_string(rcode ? rcode : ""));
	json_object_set_new(o, "QDCOUNT", json_integer(ldns_pkt_qdcount(pkt)));
	json_object_set_new(o, "ANCOUNT", json_integer(ldns_pkt_ancount(pkt)));
	json_object_set_new(o, "NSCOUNT", json_integer(ldns_pkt_nscount(pkt)));
	json_object_set_new(o, "ARCOUNT", json_integer(ldns_pkt_arcount(pkt)));
	if (q && ldns_rr_list_rr_count(q) > 0) {
		const ldns_rr *qr = ldns_rr_list_rr(q, 0);
		char *qname = owner_str(ldns_rr_owner(qr));
		char *qtype = ldns_rr_type2str(ldns_rr_get_type(qr));

		json_object_set_new(o, "QNAME", json_string(qname ? qname : ""));
		json_object_set_new(o, "QTYPE", json_integer(ldns_rr_get_type(qr)));
		json_object_set_new(o, "QTYPEname", json_string(qtype ? qtype : ""));
		json_object_set_new(o, "QCLASS", json_integer(ldns_rr_get_class(qr)));
		free(qname);
		free(qtype);
	}
	if (ldns_pkt_edns(pkt)) {
		json_object_set_new(o, "EDNS", json_pack("{s:i,s:b}", "UDPSIZE",
							 (int)ldns_pkt_edns_udp_size(pkt), "DO",
							 ldns_pkt_edns_do(pkt)));
	}
	json_object_set_new(o, "answerRRs", section_json(ldns_pkt_answer(pkt), false));
	json_object_set_new(o, "authorityRRs", section_json(ldns_pkt_authority(pkt), false));
	json_object_set_new(o, "additionalRRs", section_json(ldns_pkt_additional(pkt), true));
	free(rcode);
	return o;
}

static void section_text(FILE *out, const char *title, const ldns_rr_list *l)
{
	if (!l || ldns_rr_list_rr_count(l) == 0) {
		return;
	}
	fprintf(out, "\n;; %s SECTION:\n", title);
	for (size_t i = 0; i < ldns_rr_list_rr_count(l); i++) {
		const ldns_rr *rr = ldns_rr_list_rr(l, i);
		char *s;

		if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_OPT) {
			continue;
		}
		s = ldns_rr2str(rr);
		if (s) {
			fputs(s, out);
			free(s);
		}
	}
}

void out_pkt_text(FILE *out, const ldns_pkt *pkt)
{
	char *rcode = ldns_pkt_rcode2str(ldns_pkt_get_rcode(pkt));

	fprintf(out, ";; ->>HEADER<<- opcode: QUERY; status: %s; id: %u\n", rcode ? rcode : "?",
		ldns_pkt_id(pkt));
	fprintf(out, ";; flags:%s%s%s%s%s%s%s; QUERY: %u; ANSWER: %u; AUTHORITY: %u; ADDITIONAL: %u\n",
		ldns_pkt_qr(pkt) ? " qr" : "", ldns_pkt_aa(pkt) ? " aa" : "",
		ldns_pkt_tc(pkt) ? " tc" : "", ldns_pkt_rd(pkt) ? " rd" : "",
		ldns_pkt_ra(pkt) ? " ra" : "", ldns_pkt_ad(pkt) ? " ad" : "",
		ldns_pkt_cd(pkt) ? " cd" : "", ldns_pkt_qdcount(pkt), ldns_pkt_ancount(pkt),
		ldns_pkt_nscount(pkt), ldns_pkt_arcount(pkt));
	if (ldns_pkt_edns(pkt)) {
		fprintf(out, ";; EDNS: version %u; flags:%s; UDP size: %u\n",
			ldns_pkt_edns_version(pkt), ldns_pkt_edns_do(pkt) ? " do" : "",
			ldns_pkt_edns_udp_size(pkt));
	}
	free(rcode);
	section_text(out, "QUESTION", ldns_pkt_question(pkt));
	section_text(out, "ANSWER", ldns_pkt_answer(pkt));
	section_text(out, "AUTHORITY", ldns_pkt_authority(pkt));
	section_text(out, "ADDITIONAL", ldns_pkt_additional(pkt));
}

int cmd_open_store(const char *db, struct zc_store **ret)
{
	extern char **environ;
	char *path = NULL;
	int r;

	if (db) {
		path = strdup(db);
		r = path ? 0 : -ENOMEM;
	} else {
		r = zc_store_default_path(environ, &path);
	}
	if (r == 0) {
		r = zc_store_open(arg_ctx, path, ret);
	}
	if (r < 0) {
		fprintf(stderr, "%s: state store %s%s%s cannot be opened (%s)\n", arg_progname,
			path ? "'" : "", path ? path : "", path ? "'" : "", zc_strerror(r));
	}
	free(path);
	return r;
}
