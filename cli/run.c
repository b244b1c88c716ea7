/*
 * run.c - see run.h. Both pipes are read in one poll loop so a program
 * that fills one of them while we wait on the other cannot deadlock.
 */
#include "run.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void exec_prog(char *const argv[])
{
	execvp(argv[0], argv);
	if (!strchr(argv[0], '/')) {
		static const char *const dirs[] = {"/usr/sbin", "/sbin"};
		for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
			char p[256];
			snprintf(p, sizeof(p), "%s/%s", dirs[i], argv[0]);
			execv(p, argv);
		}
	}
	_exit(127);
}

/* The last non-empty line of buf, copied into err. */
static void last_line(const char *buf, char *err, size_t errlen)
{
	size_t n = strlen(buf);
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' '))
		n--;
	size_t s = n;
	while (s && buf[s - 1] != '\n')
		s--;
	size_t len = n - s < errlen - 1 ? n - s : errlen - 1;
	memcpy(err, buf + s, len);
	err[len] = 0;
}

int run_prog(char *const argv[], char *out, size_t outlen, char *err, size_t errlen)
{
	int po[2], pe[2];
	char ebuf[4096];
	size_t on = 0, en = 0;
	if (err && errlen)
		err[0] = 0;
	if (pipe2(po, O_CLOEXEC) < 0)
		return -1;
	if (pipe2(pe, O_CLOEXEC) < 0) {
		close(po[0]);
		close(po[1]);
		return -1;
	}
	pid_t pid = fork();
	if (pid < 0) {
		close(po[0]);
		close(po[1]);
		close(pe[0]);
		close(pe[1]);
		return -1;
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY);
		if (null >= 0)
			dup2(null, 0);
		dup2(po[1], 1);
		dup2(pe[1], 2);
		exec_prog(argv);
	}
	close(po[1]);
	close(pe[1]);
	struct pollfd pf[2] = {{po[0], POLLIN, 0}, {pe[0], POLLIN, 0}};
	int open_fds = 2;
	while (open_fds) {
		if (poll(pf, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (int i = 0; i < 2; i++) {
			if (pf[i].fd < 0 || !pf[i].revents)
				continue;
			char tmp[4096];
			ssize_t r = read(pf[i].fd, tmp, sizeof(tmp));
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0) {
				close(pf[i].fd);
				pf[i].fd = -1;
				open_fds--;
				continue;
			}
			/* Keep what fits; stderr keeps its end (the reason). */
			if (i == 0 && out) {
				size_t k =
				    (size_t)r < outlen - 1 - on ? (size_t)r : outlen - 1 - on;
				memcpy(out + on, tmp, k);
				on += k;
			} else if (i == 1) {
				if ((size_t)r >= sizeof(ebuf) - 1 - en) {
					en = 0;
				}
				size_t k =
				    (size_t)r < sizeof(ebuf) - 1 ? (size_t)r : sizeof(ebuf) - 1;
				memcpy(ebuf + en, tmp, k);
				en += k;
			}
		}
	}
	if (out && outlen)
		out[on] = 0;
	ebuf[en] = 0;
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	int rc = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
	if (err && errlen) {
		last_line(ebuf, err, errlen);
		if (!err[0] && rc == 127)
			snprintf(err, errlen, "%s: not found", argv[0]);
		else if (!err[0] && rc)
			snprintf(err, errlen, "%s: exit %d", argv[0], rc);
	}
	return rc;
}
