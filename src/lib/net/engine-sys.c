/* SPDX-License-Identifier: MIT */
/*
 * net/engine-sys.c: the real transport of the query engine: non-blocking sockets
 * and one wakeup timer on the engine's libevent base. Every socket is connected,
 * so the kernel already drops datagrams from other sources and reports ICMP
 * errors (ECONNREFUSED) on the socket itself.
 */
#include "net/internal.h"

#include <errno.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <unistd.h>

struct sys_sock {
	struct zc_sock s; /* first: the engine only sees this */
	struct zc_engine *eng;
	int fd;
	unsigned watching;
	struct event *ev;
};

static uint64_t sys_now_ms(void *impl)
{
	(void)impl;
	return zc_now_mono_ms();
}

static void sys_wake_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	zc_engine_on_wakeup(arg);
}

static void sys_wakeup(void *impl, uint64_t at_ms)
{
	struct zc_engine *eng = impl;
	struct timeval tv = { 0, 0 };
	uint64_t now;

	if (at_ms == ZC_TIME_NEVER) {
		(void)evtimer_del(eng->wake_ev);
		return;
	}
	now = zc_now_mono_ms();
	if (at_ms > now) {
		uint64_t d = at_ms - now;

		tv.tv_sec = (time_t)(d / 1000);
		tv.tv_usec = (suseconds_t)((d % 1000) * 1000);
	}
	if (evtimer_add(eng->wake_ev, &tv) < 0) {
		zc_log(eng->ctx, ZC_LOG_ERR, "query engine: cannot arm the wakeup timer");
	}
}

static void sys_io_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sys_sock *ss = arg;
	unsigned ev = 0;

	(void)fd;
	if (what & EV_READ) {
		ev |= ZC_IO_READ;
	}
	if (what & EV_WRITE) {
		ev |= ZC_IO_WRITE;
	}
	/* The engine may close this socket, but frees it only from its reaper, which runs
	 * before we return; libevent does not touch the event after its callback. */
	zc_engine_io_ready(ss->eng, &ss->s, ev);
}

static int sys_open(void *impl, int type, const struct sockaddr *sa, socklen_t salen,
		    struct zc_sock **ret_sock)
{
	struct zc_engine *eng = impl;
	struct sys_sock *ss;
	int fd, r;

	fd = socket(sa->sa_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		return -errno;
	}
	if (type == SOCK_STREAM) {
		int one = 1;

		/* queries are small and pipelined: do not wait for more bytes */
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	}
	/* UDP: connect() binds a random ephemeral port and filters the peer. */
	if (connect(fd, sa, salen) < 0 && errno != EINPROGRESS) {
		r = -errno;
		close(fd);
		return r;
	}
	ss = calloc(1, sizeof(*ss));
	if (!ss) {
		close(fd);
		return -ENOMEM;
	}
	ss->ev = event_new(eng->base, fd, EV_PERSIST, sys_io_cb, ss);
	if (!ss->ev) {
		free(ss);
		close(fd);
		return -ENOMEM;
	}
	ss->s.type = type;
	ss->eng = eng;
	ss->fd = fd;
	*ret_sock = &ss->s;
	return 0;
}

static int sys_finish_connect(void *impl, struct zc_sock *s)
{
	struct sys_sock *ss = (struct sys_sock *)s;
	int err = 0;
	socklen_t len = sizeof(err);

	(void)impl;
	if (getsockopt(ss->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) {
		return -errno;
	}
	return err ? -err : 0;
}

static ssize_t sys_send(void *impl, struct zc_sock *s, const uint8_t *buf, size_t len)
{
	struct sys_sock *ss = (struct sys_sock *)s;
	ssize_t n;

	(void)impl;
	do {
		n = send(ss->fd, buf, len, MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	if (n < 0) {
		return (errno == EAGAIN || errno == EWOULDBLOCK) ? -EAGAIN : -errno;
	}
	return n;
}

static ssize_t sys_recv(void *impl, struct zc_sock *s, uint8_t *buf, size_t len,
			struct sockaddr_storage *from, socklen_t *fromlen)
{
	struct sys_sock *ss = (struct sys_sock *)s;
	ssize_t n;

	(void)impl;
	do {
		n = recvfrom(ss->fd, buf, len, 0, (struct sockaddr *)from, from ? fromlen : NULL);
	} while (n < 0 && errno == EINTR);
	if (n < 0) {
		return (errno == EAGAIN || errno == EWOULDBLOCK) ? -EAGAIN : -errno;
	}
	return n;
}

static void sys_watch(void *impl, struct zc_sock *s, unsigned events)
{
	struct sys_sock *ss = (struct sys_sock *)s;
	struct zc_engine *eng = impl;
	short what = EV_PERSIST;

	if (ss->watching == events) {
		return;
	}
	if (ss->watching) {
		(void)event_del(ss->ev);
	}
	ss->watching = events;
	if (!events) {
		return;
	}
	if (events & ZC_IO_READ) {
		what |= EV_READ;
	}
	if (events & ZC_IO_WRITE) {
		what |= EV_WRITE;
	}
	if (event_assign(ss->ev, eng->base, ss->fd, what, sys_io_cb, ss) < 0 ||
	    event_add(ss->ev, NULL) < 0) {
		zc_log(eng->ctx, ZC_LOG_ERR, "query engine: cannot watch socket %d", ss->fd);
		ss->watching = 0;
	}
}

static void sys_close(void *impl, struct zc_sock *s)
{
	struct sys_sock *ss = (struct sys_sock *)s;

	(void)impl;
	event_free(ss->ev);
	close(ss->fd);
	free(ss);
}

const struct zc_transport_ops zc_sys_transport = {
	.now_ms = sys_now_ms,
	.wakeup = sys_wakeup,
	.open = sys_open,
	.finish_connect = sys_finish_connect,
	.send = sys_send,
	.recv = sys_recv,
	.watch = sys_watch,
	.close = sys_close,
};

int zc_sys_transport_init(struct zc_engine *eng)
{
	eng->wake_ev = evtimer_new(eng->base, sys_wake_cb, eng);
	return eng->wake_ev ? 0 : -ENOMEM;
}

void zc_sys_transport_release(struct zc_engine *eng)
{
	if (eng->wake_ev) {
		event_free(eng->wake_ev);
		eng->wake_ev = NULL;
	}
}
