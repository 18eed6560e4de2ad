/* SPDX-License-Identifier: MIT */
/*
 * A signer's keys-command: the program through which the controller makes a
 * signer create, activate or remove keys of its own during a rollover (DNS
 * UPDATE and the PowerDNS API can only publish keys the signer does not sign
 * with). Run with posix_spawn(), no shell, argv only, in its own process group,
 * stdin from /dev/null, stdout and stderr captured together (bounded), killed
 * with its whole group when it outlives its time.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "signers/internal.h"

extern char **environ;

/* Keeps the last part of the output: what a failing program says last matters most. */
static void out_add(char *out, size_t outlen, size_t *used, const char *buf, size_t n)
{
	if (outlen == 0) {
		return;
	}
	if (n >= outlen - 1) {
		buf += n - (outlen - 1);
		n = outlen - 1;
	}
	if (*used + n > outlen - 1) {
		size_t drop = *used + n - (outlen - 1);

		memmove(out, out + drop, *used - drop);
		*used -= drop;
	}
	memcpy(out + *used, buf, n);
	*used += n;
	out[*used] = '\0';
}

int sgn_run_command(void *ud, char *const argv[], unsigned timeout_ms, int *ret_status, char *out,
		    size_t outlen, char *why, size_t whylen)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	int pipefd[2] = { -1, -1 };
	size_t used = 0;
	uint64_t deadline;
	bool timed_out = false;
	pid_t pid = -1;
	int status = 0, r;

	(void)ud;
	if (outlen) {
		out[0] = '\0';
	}
	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		snprintf(why, whylen, "pipe failed (%s)", strerror(errno));
		return -errno;
	}
	r = posix_spawn_file_actions_init(&fa);
	if (r == 0) {
		r = posix_spawnattr_init(&attr);
		if (r != 0) {
			posix_spawn_file_actions_destroy(&fa);
		}
	}
	if (r != 0) {
		close(pipefd[0]);
		close(pipefd[1]);
		return -r;
	}
	/* stdout and stderr into the pipe, stdin empty; the CLOEXEC copies go at exec */
	r = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	if (r == 0) {
		r = posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1);
	}
	if (r == 0) {
		r = posix_spawn_file_actions_adddup2(&fa, pipefd[1], 2);
	}
	/* its own process group, so that a timeout kills what it started too */
	if (r == 0) {
		r = posix_spawnattr_setpgroup(&attr, 0);
	}
	if (r == 0) {
		r = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
	}
	if (r == 0) {
		r = posix_spawn(&pid, argv[0], &fa, &attr, argv, environ);
	}
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	close(pipefd[1]);
	if (r != 0) {
		close(pipefd[0]);
		snprintf(why, whylen, "cannot run %s (%s)", argv[0], strerror(r));
		return -r;
	}
	deadline = zc_now_mono_ms() + timeout_ms;
	for (;;) {
		struct pollfd p = { .fd = pipefd[0], .events = POLLIN };
		uint64_t now = zc_now_mono_ms();
		char buf[1024];
		ssize_t n;

		if (now >= deadline) {
			timed_out = true;
			break;
		}
		r = poll(&p, 1, (int)ZC_MIN(deadline - now, 1000));
		if (r < 0 && errno == EINTR) {
			continue;
		}
		if (r <= 0) {
			continue;
		}
		n = read(pipefd[0], buf, sizeof(buf));
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n <= 0) {
			break; /* every writer closed: the program (and what it started) ended */
		}
		out_add(out, outlen, &used, buf, (size_t)n);
	}
	close(pipefd[0]);
	if (timed_out) {
		(void)kill(-pid, SIGKILL);
	}
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			snprintf(why, whylen, "waiting for %s failed (%s)", argv[0],
				 strerror(errno));
			return -errno;
		}
	}
	/* strip one final newline and make the text one line for events */
	for (size_t i = 0; i < used; i++) {
		if (out[i] == '\n' || out[i] == '\r' || out[i] == '\t') {
			out[i] = i + 1 == used ? '\0' : ' ';
		}
	}
	if (timed_out) {
		snprintf(why, whylen, "%s did not end within %ums (killed)", argv[0], timeout_ms);
		return ZC_ETIMEOUT;
	}
	*ret_status = status;
	return 0;
}
