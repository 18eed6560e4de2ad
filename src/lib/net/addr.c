/* SPDX-License-Identifier: MIT */
/*
 * net/addr.c: server addresses as text and back: "192.0.2.1", "192.0.2.1@5353",
 * "2001:db8::1", "2001:db8::1@53", "[2001:db8::1]:53". Numeric only: the engine
 * never resolves names behind the caller's back.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <zonecut/net.h>

#include "util/banned.h"

/* "fe80::1%eth0" or "fe80::1%2": interface name or number */
static int parse_scope(const char *s, uint32_t *ret)
{
	unsigned idx = if_nametoindex(s);

	if (idx > 0) {
		*ret = idx;
		return 0;
	}
	return zc_parse_u32(s, 1, UINT32_MAX, ret);
}

int zc_addr_parse(const char *text, uint16_t default_port, struct sockaddr_storage *ret,
		  socklen_t *ret_len)
{
	char host[INET6_ADDRSTRLEN + IF_NAMESIZE + 1];
	const char *port = NULL;
	const char *end;
	bool bracket = false;
	size_t hlen;
	uint32_t portnum = default_port;
	char *pct;
	int r;

	if (!text || !ret || !ret_len) {
		return -EINVAL;
	}
	if (text[0] == '[') {
		/* RFC 3986 style: the only form where ':' may introduce the port */
		bracket = true;
		end = strchr(text, ']');
		if (!end) {
			return -EINVAL;
		}
		text++;
		if (end[1] == ':' || end[1] == '@') {
			port = end + 2;
		} else if (end[1] != '\0') {
			return -EINVAL;
		}
	} else {
		end = strchr(text, '@');
		if (end) {
			port = end + 1;
		} else {
			end = text + strlen(text);
		}
	}
	hlen = (size_t)(end - text);
	if (hlen == 0 || hlen >= sizeof(host)) {
		return -EINVAL;
	}
	memcpy(host, text, hlen);
	host[hlen] = '\0';
	if (port) {
		r = zc_parse_u32(port, 1, 65535, &portnum);
		if (r < 0) {
			return -EINVAL;
		}
	}
	if (!bracket) {
		struct sockaddr_in sin;

		memset(&sin, 0, sizeof(sin));
		if (inet_pton(AF_INET, host, &sin.sin_addr) == 1) {
			sin.sin_family = AF_INET;
			sin.sin_port = htons((uint16_t)portnum);
			memset(ret, 0, sizeof(*ret));
			memcpy(ret, &sin, sizeof(sin));
			*ret_len = sizeof(sin);
			return 0;
		}
	}
	{
		struct sockaddr_in6 sin6;
		uint32_t scope = 0;

		memset(&sin6, 0, sizeof(sin6));
		pct = strchr(host, '%');
		if (pct) {
			*pct = '\0';
			if (parse_scope(pct + 1, &scope) < 0) {
				return -EINVAL;
			}
		}
		if (inet_pton(AF_INET6, host, &sin6.sin6_addr) != 1) {
			return -EINVAL;
		}
		sin6.sin6_family = AF_INET6;
		sin6.sin6_port = htons((uint16_t)portnum);
		sin6.sin6_scope_id = scope;
		memset(ret, 0, sizeof(*ret));
		memcpy(ret, &sin6, sizeof(sin6));
		*ret_len = sizeof(sin6);
	}
	return 0;
}

/* Decimal digits of @v at @p; returns the end. */
static char *put_dec(char *p, unsigned v)
{
	char tmp[10];
	size_t n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n) {
		*p++ = tmp[--n];
	}
	return p;
}

/* "a.b.c.d@port": the evidence of every decision names its servers, so IPv4 is
 * written here rather than through inet_ntop() and snprintf(). */
static int addr4_to_str(const struct sockaddr_in *s4, char *buf, size_t len)
{
	char tmp[sizeof("255.255.255.255@65535")], *p = tmp;
	const uint8_t *a = (const uint8_t *)&s4->sin_addr;

	for (int i = 0; i < 4; i++) {
		p = put_dec(p, a[i]);
		*p++ = i < 3 ? '.' : '@';
	}
	p = put_dec(p, ntohs(s4->sin_port));
	if ((size_t)(p - tmp) >= len) {
		return ZC_ELIMIT;
	}
	memcpy(buf, tmp, (size_t)(p - tmp));
	buf[p - tmp] = '\0';
	return 0;
}

int zc_addr_to_str(const struct sockaddr *sa, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];
	char scope[IF_NAMESIZE + 2] = "";
	unsigned port;
	int n;

	if (!sa || !buf) {
		return -EINVAL;
	}
	if (sa->sa_family == AF_INET) {
		return addr4_to_str((const struct sockaddr_in *)sa, buf, len);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
		char ifname[IF_NAMESIZE];

		if (!inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof(a))) {
			return -EINVAL;
		}
		port = ntohs(s6->sin6_port);
		if (s6->sin6_scope_id != 0) {
			if (if_indextoname(s6->sin6_scope_id, ifname)) {
				(void)snprintf(scope, sizeof(scope), "%%%s", ifname);
			} else {
				(void)snprintf(scope, sizeof(scope), "%%%u", s6->sin6_scope_id);
			}
		}
	} else {
		return -EINVAL;
	}
	n = snprintf(buf, len, "%s%s@%u", a, scope, port);
	if (n < 0 || (size_t)n >= len) {
		return ZC_ELIMIT;
	}
	return 0;
}
