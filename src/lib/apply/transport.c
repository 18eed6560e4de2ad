/* SPDX-License-Identifier: MIT */
/*
 * One blocking DNS exchange over TCP (RFC 7766: two-octet length prefix) with a
 * primary, and the TSIG-signed message exchange built on it (zc_apply_exchange()).
 * Updates are rare, so blocking is fine; every step is bounded by one deadline
 * with poll(), and the answer by 65535 octets.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <zonecut/net.h>

#include "apply/internal.h"

/* Milliseconds left until @deadline (monotonic), 0 when past. */
static int left_ms(uint64_t deadline)
{
	uint64_t now = zc_now_mono_ms();

	return now >= deadline ? 0 : (int)ZC_MIN(deadline - now, (uint64_t)INT32_MAX);
}

static int wait_fd(int fd, short events, uint64_t deadline)
{
	struct pollfd p = { .fd = fd, .events = events };

	for (;;) {
		int ms = left_ms(deadline);
		int n;

		if (ms == 0) {
			return ZC_ETIMEOUT;
		}
		n = poll(&p, 1, ms);
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n < 0) {
			return -errno;
		}
		if (n == 0) {
			return ZC_ETIMEOUT;
		}
		return 0;
	}
}

static int send_all(int fd, const uint8_t *p, size_t n, uint64_t deadline)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR) {
			continue;
		}
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			int r = wait_fd(fd, POLLOUT, deadline);

			if (r < 0) {
				return r;
			}
			continue;
		}
		if (w < 0) {
			return errno == ECONNRESET || errno == EPIPE ? ZC_ECONN : -errno;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int recv_all(int fd, uint8_t *p, size_t n, uint64_t deadline)
{
	while (n > 0) {
		ssize_t got = recv(fd, p, n, 0);

		if (got < 0 && errno == EINTR) {
			continue;
		}
		if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			int r = wait_fd(fd, POLLIN, deadline);

			if (r < 0) {
				return r;
			}
			continue;
		}
		if (got < 0) {
			return errno == ECONNRESET ? ZC_ECONN : -errno;
		}
		if (got == 0) {
			return ZC_ECONN; /* closed before the whole answer came */
		}
		p += got;
		n -= (size_t)got;
	}
	return 0;
}

int zc_apply_tcp_exchange(const struct sockaddr *server, socklen_t server_len,
			  const uint8_t *query, size_t query_len, unsigned timeout_ms,
			  uint8_t **ret_answer, size_t *ret_len)
{
	uint64_t deadline = zc_now_mono_ms() + timeout_ms;
	uint8_t lenbuf[2], *ans = NULL;
	size_t alen;
	int fd, r, soerr = 0;
	socklen_t sl = sizeof(soerr);

	if (!server || !query || query_len == 0 || query_len > 65535 || !ret_answer || !ret_len) {
		return -EINVAL;
	}
	fd = socket(server->sa_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		return -errno;
	}
	if (connect(fd, server, server_len) < 0) {
		if (errno != EINPROGRESS) {
			r = errno == ECONNREFUSED ? ZC_ECONN : -errno;
			goto out;
		}
		r = wait_fd(fd, POLLOUT, deadline);
		if (r < 0) {
			goto out;
		}
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0) {
			r = -errno;
			goto out;
		}
		if (soerr != 0) {
			r = soerr == ECONNREFUSED || soerr == ECONNRESET ? ZC_ECONN : -soerr;
			goto out;
		}
	}
	lenbuf[0] = (uint8_t)(query_len >> 8);
	lenbuf[1] = (uint8_t)query_len;
	r = send_all(fd, lenbuf, 2, deadline);
	if (r == 0) {
		r = send_all(fd, query, query_len, deadline);
	}
	if (r == 0) {
		r = recv_all(fd, lenbuf, 2, deadline);
	}
	if (r < 0) {
		goto out;
	}
	alen = (size_t)lenbuf[0] << 8 | lenbuf[1];
	if (alen == 0) {
		r = ZC_EMALF;
		goto out;
	}
	ans = malloc(alen);
	if (!ans) {
		r = -ENOMEM;
		goto out;
	}
	r = recv_all(fd, ans, alen, deadline);
	if (r < 0) {
		goto out;
	}
	*ret_answer = ans;
	*ret_len = alen;
	ans = NULL;
out:
	free(ans);
	close(fd);
	return r;
}

#define EXCHANGE_MAX_WIRE 65535
#define EXCHANGE_DEFAULT_FUDGE 300

const char *zc_rcode_str(int rcode)
{
	static const char *const names[] = { "NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN",
					     "NOTIMP",  "REFUSED", "YXDOMAIN", "YXRRSET",
					     "NXRRSET", "NOTAUTH", "NOTZONE" };

	if (rcode >= 0 && rcode < (int)ZC_ARRAY_SIZE(names)) {
		return names[rcode];
	}
	return "rcode?";
}

static void whyf(struct zc_exchange *x, const char *fmt, ...) ZC_PRINTF(2, 3);
static void whyf(struct zc_exchange *x, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(x->why, sizeof(x->why), fmt, ap);
	va_end(ap);
}

/* The question of @p equals that of @q (or @p has none: some error answers). */
static bool same_question(const ldns_pkt *p, const ldns_pkt *q)
{
	const ldns_rr *a, *b;

	if (ldns_pkt_qdcount(p) == 0) {
		return true;
	}
	if (ldns_rr_list_rr_count(ldns_pkt_question(p)) != 1 ||
	    ldns_rr_list_rr_count(ldns_pkt_question(q)) != 1) {
		return false;
	}
	a = ldns_rr_list_rr(ldns_pkt_question(p), 0);
	b = ldns_rr_list_rr(ldns_pkt_question(q), 0);
	return ldns_dname_compare(ldns_rr_owner(a), ldns_rr_owner(b)) == 0 &&
	       ldns_rr_get_type(a) == ldns_rr_get_type(b);
}

int zc_apply_exchange(const struct sockaddr *server, socklen_t server_len,
		      const struct zc_tsig *tsig, ldns_pkt *msg, const char *what,
		      unsigned timeout_ms, uint16_t fudge, struct zc_exchange *x)
{
	uint8_t *plain = NULL, *wire = NULL, *ans = NULL, mac[ZC_TSIG_MAX_MAC];
	size_t plen = 0, wlen = 0, alen = 0, mac_len = 0;
	char srv[INET6_ADDRSTRLEN + 16];
	ldns_pkt *a = NULL;
	int r, terr = 0;

	if (!x) {
		return -EINVAL;
	}
	x->answer = NULL;
	x->rcode = -1;
	x->tsig_error = 0;
	x->why[0] = '\0';
	if (!server || !msg || !what || timeout_ms == 0) {
		whyf(x, "bad arguments");
		return -EINVAL;
	}
	if (zc_addr_to_str(server, srv, sizeof(srv)) < 0) {
		whyf(x, "%s: bad server address", what);
		return -EINVAL;
	}
	ldns_pkt_set_random_id(msg);
	if (ldns_pkt2wire(&plain, msg, &plen) != LDNS_STATUS_OK || plen > EXCHANGE_MAX_WIRE) {
		whyf(x, "%s to %s could not be built", what, srv);
		r = ZC_EMALF;
		goto out;
	}
	wire = malloc(EXCHANGE_MAX_WIRE);
	if (!wire) {
		whyf(x, "%s: out of memory", what);
		r = -ENOMEM;
		goto out;
	}
	memcpy(wire, plain, plen);
	wlen = plen;
	if (tsig) {
		r = zc_tsig_sign_wire(tsig, wire, plen, EXCHANGE_MAX_WIRE, zc_now_wall_ms() / 1000,
				      fudge ? fudge : EXCHANGE_DEFAULT_FUDGE, &wlen, mac,
				      &mac_len);
		if (r < 0) {
			whyf(x, "%s to %s could not be signed (%s)", what, srv, zc_strerror(r));
			goto out;
		}
	}
	r = zc_apply_tcp_exchange(server, server_len, wire, wlen, timeout_ms, &ans, &alen);
	if (r < 0) {
		whyf(x, "%s to %s failed (%s)", what, srv, zc_strerror(r));
		goto out;
	}
	if (alen < LDNS_HEADER_SIZE || ldns_read_uint16(ans) != ldns_pkt_id(msg) ||
	    !LDNS_QR_WIRE(ans) || LDNS_OPCODE_WIRE(ans) != ldns_pkt_get_opcode(msg)) {
		whyf(x, "%s to %s: the answer does not match", what, srv);
		r = ZC_EMALF;
		goto out;
	}
	x->rcode = LDNS_RCODE_WIRE(ans);
	if (tsig) {
		r = zc_tsig_verify_wire(tsig, ans, alen, mac, mac_len, zc_now_wall_ms() / 1000,
					&terr);
		x->tsig_error = terr;
		if (r < 0 && terr != 0) {
			whyf(x, "%s to %s: TSIG error %s with key '%s' (%s)", what, srv,
			     zc_tsig_error_str(terr), zc_tsig_name(tsig),
			     terr == 16   ? "wrong secret or algorithm"
			     : terr == 17 ? "the server does not know this key, or does not allow it here"
			     : terr == 18 ? "clocks differ by more than the fudge"
					  : "rejected");
			goto out;
		}
		if (r < 0) {
			whyf(x, "%s to %s: the answer's TSIG is not valid (%s)", what, srv,
			     r == ZC_ENOKEY ? "unsigned or signed with another key" : zc_strerror(r));
			goto out;
		}
	}
	if (ldns_wire2pkt(&a, ans, alen) != LDNS_STATUS_OK || !a) {
		whyf(x, "%s to %s: malformed answer", what, srv);
		r = ZC_EMALF;
		goto out;
	}
	if (!same_question(a, msg)) {
		whyf(x, "%s to %s: the answer is for another question", what, srv);
		ldns_pkt_free(a);
		r = ZC_EMALF;
		goto out;
	}
	x->answer = a;
	r = 0;
out:
	free(plain);
	free(wire);
	free(ans);
	return r;
}
