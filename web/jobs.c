/*
 * jobs.c - overlay actions run as the CLI in a child process, so the HTTP
 * thread never blocks on them and the storage engine's own code decides:
 * `fleetboot overlay commit MAC --as NAME` (copies a whole image, may take
 * minutes) and `fleetboot overlay reset MAC` (discards at once when the
 * machine is not connected, else marks the reset pending).
 *
 * The request's connection is suspended; a worker thread spawns the
 * command, collects its output (bounded), waits for it and resumes the
 * connection, whose handler then reports the exit status and the text the
 * command printed (its error line on failure).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "locate.h"
#include "log.h"
#include "str.h"
#include "web.h"

#define JOB_OUT_MAX 8192

extern char **environ;

struct web_job {
	struct MHD_Connection *conn; /* suspended until the job ends */
	char *argv[10];              /* the command line */
	char prog[4096];             /* path of the fleetboot CLI */
	char action[16];             /* "commit" or "reset" */
	char mac[FB_MACID_LEN];
	char as[FB_NAME_LEN];  /* commit: the new image's name */
	char out[JOB_OUT_MAX]; /* what the command printed */
	int exit_code;         /* its exit status, or -1 */
	pthread_mutex_t lock;  /* guards done */
	int done;              /* the worker finished */
	int detached;          /* the request went away first: worker frees */
};

static void trim(char *s)
{
	size_t l = strlen(s);
	while (l && (s[l - 1] == '\n' || s[l - 1] == ' '))
		s[--l] = '\0';
}

static void *worker(void *arg)
{
	struct web_job *j = arg;
	int fds[2] = {-1, -1};
	pid_t pid = -1;
	posix_spawn_file_actions_t fa;
	size_t used = 0;

	j->exit_code = -1;
	if (pipe2(fds, O_CLOEXEC) < 0) {
		snprintf(j->out, sizeof(j->out), "commit: pipe: %s", strerror(errno));
		goto done;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
	posix_spawn_file_actions_adddup2(&fa, fds[1], 2);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	int rc = posix_spawn(&pid, j->prog, &fa, NULL, j->argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(fds[1]);
	if (rc) {
		snprintf(j->out, sizeof(j->out), "commit: cannot run %s: %s", j->prog,
		         strerror(rc));
		close(fds[0]);
		goto done;
	}
	for (;;) {
		char buf[1024];
		ssize_t n = read(fds[0], buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		/* Keep the last bytes: the error is at the end. buf is smaller
		 * than out, so one read never fills it alone. */
		_Static_assert(sizeof(buf) < JOB_OUT_MAX, "read buffer larger than output");
		if (used + (size_t)n > sizeof(j->out) - 1) {
			size_t drop = used + (size_t)n - (sizeof(j->out) - 1);
			memmove(j->out, j->out + drop, used - drop);
			used -= drop;
		}
		memcpy(j->out + used, buf, (size_t)n);
		used += (size_t)n;
		j->out[used] = '\0';
	}
	close(fds[0]);
	int st;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	j->exit_code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	trim(j->out);
	/* The error text for the client: "fleetboot: " prefix stripped. */
	if (j->exit_code) {
		char *line = strrchr(j->out, '\n');
		line = line ? line + 1 : j->out;
		if (!strncmp(line, "fleetboot: ", 11))
			line += 11;
		memmove(j->out, line, strlen(line) + 1);
	}
	log_info("overlay %s %s: exit %d", j->action, j->mac, j->exit_code);
done:
	pthread_mutex_lock(&j->lock);
	j->done = 1;
	int detached = j->detached;
	if (!detached)
		MHD_resume_connection(j->conn);
	pthread_mutex_unlock(&j->lock);
	if (detached) {
		pthread_mutex_destroy(&j->lock);
		free(j);
	}
	return NULL;
}

int web_job_start(struct MHD_Connection *c, struct web_req *req, const char *action,
                  const char *mac, const char *as)
{
	struct web_job *j = calloc(1, sizeof(*j));
	if (!j)
		return -1;
	if (fb_find_program("fleetboot", j->prog, sizeof(j->prog)) < 0) {
		free(j);
		errno = ENOENT;
		return -1;
	}
	fb_strlcpy(j->action, action, sizeof(j->action));
	fb_strlcpy(j->mac, mac, sizeof(j->mac));
	fb_strlcpy(j->as, as ? as : "", sizeof(j->as));
	int k = 0;
	j->argv[k++] = "fleetboot";
	if (web_g.conf_arg[0]) {
		j->argv[k++] = "-c";
		j->argv[k++] = web_g.conf_arg;
	}
	j->argv[k++] = "overlay";
	j->argv[k++] = j->action;
	j->argv[k++] = j->mac;
	if (as) {
		j->argv[k++] = "--as";
		j->argv[k++] = j->as;
	}
	j->argv[k] = NULL;
	j->conn = c;
	pthread_mutex_init(&j->lock, NULL);
	req->job = j;
	/* Suspend before the worker can resume. */
	MHD_suspend_connection(c);
	pthread_t t;
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	int rc = pthread_create(&t, &attr, worker, j);
	pthread_attr_destroy(&attr);
	if (rc) {
		snprintf(j->out, sizeof(j->out), "commit: cannot start a thread");
		j->exit_code = -1;
		j->done = 1;
		MHD_resume_connection(c);
	}
	return 0;
}

const char *web_job_action(const struct web_job *j)
{
	return j->action;
}

const char *web_job_mac(const struct web_job *j)
{
	return j->mac;
}

int web_job_done(struct web_job *j, int *exit_code, const char **output)
{
	pthread_mutex_lock(&j->lock);
	int done = j->done;
	pthread_mutex_unlock(&j->lock);
	if (!done)
		return 1;
	*exit_code = j->exit_code;
	*output = j->out;
	return 0;
}

void web_job_free(struct web_job *j)
{
	pthread_mutex_lock(&j->lock);
	if (!j->done) {
		/* The worker still runs: it frees the job when it ends. */
		j->detached = 1;
		pthread_mutex_unlock(&j->lock);
		return;
	}
	pthread_mutex_unlock(&j->lock);
	pthread_mutex_destroy(&j->lock);
	free(j);
}
