/* SPDX-License-Identifier: MIT */
/*
 * One blocking DNS exchange over TCP (RFC 7766: two-octet length prefix) with the
 * parent's primary. Updates are rare, so blocking is fine; every step is bounded
 * by one deadline with poll(), and the answer by 65535 octets.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

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
