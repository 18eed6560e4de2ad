/* SPDX-License-Identifier: MIT */
/*
 * One blocking HTTP/1.1 request over TCP, for the REST APIs of DNS servers
 * (PowerDNS) on a trusted network: "Connection: close", the answer read to the
 * end (Content-Length, chunked, or until the server closes), bounded in time by
 * one deadline and in size by ZC_HTTP_MAX_BODY. No TLS: put the API behind a
 * local address or a tunnel.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <zonecut/net.h>

#include "apply/internal.h"

#define HTTP_MAX_HEAD 16384

static void whyf(char *why, size_t len, const char *fmt, ...) ZC_PRINTF(3, 4);
static void whyf(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (!why || len == 0) {
		return;
	}
	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
}

static int wait_fd(int fd, short events, uint64_t deadline)
{
	struct pollfd p = { .fd = fd, .events = events };

	for (;;) {
		uint64_t now = zc_now_mono_ms();
		int n;

		if (now >= deadline) {
			return ZC_ETIMEOUT;
		}
		n = poll(&p, 1, (int)ZC_MIN(deadline - now, (uint64_t)INT32_MAX));
		if (n < 0 && errno == EINTR) {
			continue;
		}
		return n < 0 ? -errno : n == 0 ? ZC_ETIMEOUT : 0;
	}
}

/* Decodes a chunked body in place; returns its length, or -1 when malformed. */
static ssize_t unchunk(char *b, size_t len)
{
	size_t in = 0, out = 0;

	for (;;) {
		char *end;
		unsigned long n;

		if (in >= len) {
			return -1;
		}
		n = strtoul(b + in, &end, 16);
		if (end == b + in || (size_t)(end - b) > len) {
			return -1;
		}
		in = (size_t)(end - b);
		while (in + 1 < len && !(b[in] == '\r' && b[in + 1] == '\n')) {
			in++; /* chunk extensions */
		}
		in += 2;
		if (n == 0) {
			return (ssize_t)out;
		}
		if (n > len || in + n + 2 > len) {
			return -1;
		}
		memmove(b + out, b + in, n);
		out += n;
		in += n + 2;
	}
}

/* The value of header @name in the head @h (NUL-terminated), or NULL. */
static const char *header(const char *h, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = strstr(h, "\r\n"); p; p = strstr(p + 2, "\r\n")) {
		if (strncasecmp(p + 2, name, n) == 0 && p[2 + n] == ':') {
			const char *v = p + 3 + n;

			while (*v == ' ' || *v == '\t') {
				v++;
			}
			return v;
		}
	}
	return NULL;
}

int zc_apply_http(const struct sockaddr *server, socklen_t server_len, const char *method,
		  const char *path, const char *const *headers, const char *body,
		  unsigned timeout_ms, int *ret_status, char **ret_body, size_t *ret_len, char *why,
		  size_t whylen)
{
	uint64_t deadline = zc_now_mono_ms() + timeout_ms;
	char srv[INET6_ADDRSTRLEN + 16], host[INET6_ADDRSTRLEN + 8], *req = NULL, *buf = NULL;
	size_t blen = 0, bcap = 0, rlen, sent = 0, blen_body = body ? strlen(body) : 0;
	const char *eoh, *cl, *te;
	int fd = -1, r, status, soerr = 0, n;
	socklen_t sl = sizeof(soerr);

	if (!server || !method || !path || path[0] != '/' || !ret_status || !ret_body || !ret_len ||
	    timeout_ms == 0 || zc_addr_to_str(server, srv, sizeof(srv)) < 0) {
		whyf(why, whylen, "bad HTTP request arguments");
		return -EINVAL;
	}
	/* Host: the address without the port (brackets for IPv6) */
	snprintf(host, sizeof(host), server->sa_family == AF_INET6 ? "[%.*s]" : "%.*s",
		 (int)(strrchr(srv, '@') - srv), srv);
	n = snprintf(NULL, 0, "%s %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n", method, path,
		     host);
	rlen = (size_t)n + 64 + blen_body;
	for (const char *const *h = headers; h && *h; h++) {
		rlen += strlen(*h) + 2;
	}
	req = malloc(rlen + 1);
	if (!req) {
		return -ENOMEM;
	}
	n = snprintf(req, rlen + 1, "%s %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n", method,
		     path, host);
	for (const char *const *h = headers; h && *h; h++) {
		n += snprintf(req + n, rlen + 1 - (size_t)n, "%s\r\n", *h);
	}
	n += snprintf(req + n, rlen + 1 - (size_t)n, "Content-Length: %zu\r\n\r\n", blen_body);
	if (blen_body) {
		memcpy(req + n, body, blen_body);
	}
	rlen = (size_t)n + blen_body;
	fd = socket(server->sa_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		r = -errno;
		whyf(why, whylen, "HTTP to %s: %s", srv, strerror(errno));
		goto out;
	}
	if (connect(fd, server, server_len) < 0 && errno != EINPROGRESS) {
		r = errno == ECONNREFUSED ? ZC_ECONN : -errno;
		whyf(why, whylen, "HTTP to %s: connection failed (%s)", srv, strerror(errno));
		goto out;
	}
	r = wait_fd(fd, POLLOUT, deadline);
	if (r == 0 && (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0 || soerr != 0)) {
		r = soerr == ECONNREFUSED || soerr == ECONNRESET ? ZC_ECONN : -soerr;
	}
	while (r == 0 && sent < rlen) {
		ssize_t w = send(fd, req + sent, rlen - sent, MSG_NOSIGNAL);

		if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
			r = wait_fd(fd, POLLOUT, deadline);
		} else if (w < 0) {
			r = errno == EPIPE || errno == ECONNRESET ? ZC_ECONN : -errno;
		} else {
			sent += (size_t)w;
		}
	}
	/* the answer, until the server closes (Connection: close) */
	while (r == 0) {
		ssize_t got;

		if (blen + 4096 + 1 > bcap) {
			char *nb;

			if (bcap >= ZC_HTTP_MAX_BODY + HTTP_MAX_HEAD) {
				r = ZC_ELIMIT;
				break;
			}
			bcap = bcap ? bcap * 2 : 16384;
			nb = realloc(buf, bcap);
			if (!nb) {
				r = -ENOMEM;
				break;
			}
			buf = nb;
		}
		got = recv(fd, buf + blen, bcap - blen - 1, 0);
		if (got < 0 && (errno == EAGAIN || errno == EINTR)) {
			r = wait_fd(fd, POLLIN, deadline);
		} else if (got < 0) {
			r = errno == ECONNRESET ? ZC_ECONN : -errno;
		} else if (got == 0) {
			break;
		} else {
			blen += (size_t)got;
		}
	}
	if (r < 0) {
		whyf(why, whylen, "HTTP %s %s to %s failed (%s)", method, path, srv, zc_strerror(r));
		goto out;
	}
	if (!buf || blen < 12 || strncmp(buf, "HTTP/1.", 7) != 0 ||
	    sscanf(buf + 9, "%3d", &status) != 1) {
		whyf(why, whylen, "HTTP %s %s to %s: not an HTTP answer", method, path, srv);
		r = ZC_EMALF;
		goto out;
	}
	buf[blen] = '\0';
	eoh = strstr(buf, "\r\n\r\n");
	if (!eoh) {
		whyf(why, whylen, "HTTP %s %s to %s: truncated answer", method, path, srv);
		r = ZC_EMALF;
		goto out;
	}
	{
		size_t head = (size_t)(eoh - buf) + 4, len = blen - head;
		char *b = buf + head;

		buf[head - 2] = '\0'; /* headers end; the body stays after */
		te = header(buf, "Transfer-Encoding");
		cl = header(buf, "Content-Length");
		if (te && strncasecmp(te, "chunked", 7) == 0) {
			ssize_t l = unchunk(b, len);

			if (l < 0) {
				whyf(why, whylen, "HTTP %s %s to %s: bad chunked body", method, path, srv);
				r = ZC_EMALF;
				goto out;
			}
			len = (size_t)l;
		} else if (cl) {
			unsigned long l = strtoul(cl, NULL, 10);

			if (l > len) {
				whyf(why, whylen, "HTTP %s %s to %s: truncated body", method, path, srv);
				r = ZC_EMALF;
				goto out;
			}
			len = l;
		}
		memmove(buf, b, len);
		buf[len] = '\0';
		*ret_status = status;
		*ret_body = buf;
		*ret_len = len;
		buf = NULL;
	}
	r = 0;
out:
	if (fd >= 0) {
		close(fd);
	}
	free(req);
	free(buf);
	return r;
}
