/* SPDX-License-Identifier: MIT */
/*
 * dns/name.c: domain names over ldns: parsing into absolute lower-case names,
 * presentation form, ancestry and the canonical order of RFC 4034 §6.1. Every
 * name handed to ldns is checked first: several ldns name walkers read one octet
 * past the end of a relative name.
 */
#include <errno.h>
#include <string.h>

#include "dns/internal.h"

bool dns_name_wire_ok(const uint8_t *wire, size_t len, bool *ret_absolute)
{
	size_t pos = 0;

	if (!wire || len == 0 || len > DNS_MAX_NAME_WIRE) {
		return false;
	}
	while (pos < len) {
		uint8_t l = wire[pos];

		if (l == 0) {
			/* The root label ends the name: nothing may follow it. */
			if (pos + 1 != len) {
				return false;
			}
			if (ret_absolute) {
				*ret_absolute = true;
			}
			return true;
		}
		/* RFC 1035 §4.1.4: 0xC0 is a compression pointer, 0x40/0x80 are
		 * extended label types (RFC 6891 §5); none belongs in a stored name. */
		if (l > DNS_MAX_LABEL || len - pos - 1 < l) {
			return false;
		}
		pos += 1 + (size_t)l;
	}
	if (ret_absolute) {
		*ret_absolute = false;
	}
	return true;
}

bool dns_name_ok(const ldns_rdf *name, bool *ret_absolute)
{
	if (!name || ldns_rdf_get_type(name) != LDNS_RDF_TYPE_DNAME) {
		return false;
	}
	return dns_name_wire_ok(ldns_rdf_data(name), ldns_rdf_size(name), ret_absolute);
}

bool dns_name_abs_ok(const ldns_rdf *name)
{
	bool abs = false;

	return dns_name_ok(name, &abs) && abs;
}

int dns_err_from_ldns(ldns_status st)
{
	if (st == LDNS_STATUS_OK) {
		return 0;
	}
	return st == LDNS_STATUS_MEM_ERR ? -ENOMEM : ZC_EMALF;
}

int zc_name_from_str(const char *text, ldns_rdf **ret_name)
{
	ldns_rdf *name = NULL;
	ldns_status st;

	if (!text || !ret_name) {
		return -EINVAL;
	}
	if (text[0] == '\0') {
		return ZC_EMALF;
	}
	/* ldns ends every name it parses with the root label: "a.b" is "a.b.". */
	st = ldns_str2rdf_dname(&name, text);
	if (st != LDNS_STATUS_OK) {
		return dns_err_from_ldns(st);
	}
	if (!dns_name_abs_ok(name)) {
		ldns_rdf_deep_free(name);
		return ZC_EMALF;
	}
	ldns_dname2canonical(name);
	*ret_name = name;
	return 0;
}

/*
 * One octet of a label in presentation form (RFC 1035 §5.1): upper case folded,
 * the characters that end or quote a token escaped as \X (ldns leaves '"' bare,
 * which our own token scanner and ldns's would take for a quote), anything not
 * printable as \DDD.
 */
static int put_octet(char *buf, size_t len, size_t *pos, uint8_t c)
{
	char *o = buf + *pos;
	size_t room = len - *pos;

	if (c >= 'A' && c <= 'Z') {
		c = (uint8_t)(c - 'A' + 'a');
	}
	if (c == '.' || c == ';' || c == '(' || c == ')' || c == '\\' || c == '"') {
		if (room < 3) {
			return ZC_ELIMIT;
		}
		o[0] = '\\';
		o[1] = (char)c;
		o[2] = '\0';
		*pos += 2;
	} else if (c <= 0x20 || c >= 0x7f) {
		if (room < 5) {
			return ZC_ELIMIT;
		}
		o[0] = '\\';
		o[1] = (char)('0' + c / 100);
		o[2] = (char)('0' + c / 10 % 10);
		o[3] = (char)('0' + c % 10);
		o[4] = '\0';
		*pos += 4;
	} else {
		if (room < 2) {
			return ZC_ELIMIT;
		}
		o[0] = (char)c;
		o[1] = '\0';
		*pos += 1;
	}
	return 0;
}

int zc_name_to_str(const ldns_rdf *name, char *buf, size_t len)
{
	const uint8_t *w;
	size_t size, i = 0, pos = 0;
	int r;

	if (!buf || !dns_name_ok(name, NULL)) {
		return -EINVAL;
	}
	if (len == 0) {
		return ZC_ELIMIT;
	}
	w = ldns_rdf_data(name);
	size = ldns_rdf_size(name);
	buf[0] = '\0';
	/* dns_name_ok() vouched for the label lengths. A relative name is printed
	 * absolute: its labels all end with a dot too. */
	while (i < size && w[i] != 0) {
		size_t l = w[i++];

		for (size_t j = 0; j < l; j++) {
			r = put_octet(buf, len, &pos, w[i + j]);
			if (r < 0) {
				return r;
			}
		}
		i += l;
		if (pos + 1 >= len) {
			return ZC_ELIMIT;
		}
		buf[pos++] = '.';
		buf[pos] = '\0';
	}
	if (pos == 0) {
		if (len < 2) {
			return ZC_ELIMIT;
		}
		memcpy(buf, ".", 2);
	}
	return 0;
}

/* Octets of two names in wire form, ASCII case folded (length octets are <= 63). */
static bool wire_equal_nocase(const uint8_t *a, const uint8_t *b, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		uint8_t x = a[i], y = b[i];

		if (x != y && ((x | 0x20) != (y | 0x20) || (x | 0x20) < 'a' || (x | 0x20) > 'z')) {
			return false;
		}
	}
	return true;
}

bool zc_name_is_at_or_below(const ldns_rdf *name, const ldns_rdf *parent)
{
	const uint8_t *n, *p;
	size_t nlen, plen, off = 0;

	if (!dns_name_abs_ok(name) || !dns_name_abs_ok(parent)) {
		return false;
	}
	n = ldns_rdf_data(name);
	p = ldns_rdf_data(parent);
	nlen = ldns_rdf_size(name);
	plen = ldns_rdf_size(parent);
	/* the label boundary where as many octets are left as @parent has */
	while (nlen - off > plen) {
		off += 1u + n[off];
	}
	return nlen - off == plen && wire_equal_nocase(n + off, p, plen);
}

bool zc_name_equal(const ldns_rdf *a, const ldns_rdf *b)
{
	return dns_name_abs_ok(a) && dns_name_abs_ok(b) && ldns_rdf_size(a) == ldns_rdf_size(b) &&
	       wire_equal_nocase(ldns_rdf_data(a), ldns_rdf_data(b), ldns_rdf_size(a));
}

int zc_name_cmp(const ldns_rdf *a, const ldns_rdf *b)
{
	bool ok_a = dns_name_abs_ok(a);
	bool ok_b = dns_name_abs_ok(b);

	if (!ok_a || !ok_b) {
		return (int)ok_a - (int)ok_b;
	}
	return ldns_dname_compare(a, b);
}
