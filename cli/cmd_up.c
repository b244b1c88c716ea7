/*
 * cmd_up.c - `fleetboot up`: run fleetboot-bootd, fleetboot-storaged and
 * fleetboot-web in the foreground as one supervised group.
 *
 * Each daemon runs with -f (log to stderr); its lines are relayed with the
 * daemon's name in front, so one terminal shows the whole server. A daemon
 * that dies is restarted after a back-off that doubles up to 30 s and
 * resets once it has stayed up for a minute. A restart is never silent: it
 * logs "fleetboot-NAME exited (signal 11, ...); restarting in N s" and
 * counts in the status key up.restarts, so a test (or a person) sees that a
 * daemon crashed even though service went on. Ctrl-C or SIGTERM stops
 * every daemon (SIGTERM, then SIGKILL after 10 s) and then exits.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "clock.h"
#include "evloop.h"
#include "locate.h"

static int run_up(struct cli_ctx *ctx, int argc, char **argv);

static struct cli_cmd cmd_up = {
    .name = "up",
    .usage = "  up [--without bootd|storaged|web]  run the daemons in the foreground, "
             "supervised\n",
    .run = run_up,
};
CLI_COMMAND(cmd_up)

struct child {
	const char *name;       /* "bootd" */
	char prog[FB_PATH_LEN]; /* path of fleetboot-NAME */
	pid_t pid;              /* 0 when not running */
	int out;                /* read end of its stderr pipe */
	char line[2048];        /* partial line being relayed */
	size_t linelen;
	uint64_t started; /* monotonic ms */
	uint64_t backoff; /* ms before the next restart */
	int restarts;
	struct fb_timer restart;
	struct up *up;
};

struct up {
	struct cli_ctx *ctx;
	struct child kids[3];
	int nkids;
	int stopping;
	int restarts; /* of all daemons, since up started */
	struct fb_loop *loop;
	struct fb_timer kill_timer;
};

static void relay(struct child *c, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '\n' || c->linelen == sizeof(c->line) - 1) {
			c->line[c->linelen] = 0;
			fprintf(stderr, "%-8s| %s\n", c->name, c->line);
			c->linelen = 0;
			if (p[i] == '\n')
				continue;
		}
		c->line[c->linelen++] = p[i];
	}
}

static void on_output(struct fb_loop *l, int fd, uint32_t ev, void *arg)
{
	struct child *c = arg;
	char buf[4096];
	ssize_t n = read(fd, buf, sizeof(buf));
	if (n > 0) {
		relay(c, buf, (size_t)n);
		return;
	}
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	fb_loop_del_fd(l, fd);
	close(fd);
	c->out = -1;
}

static void set_status(struct up *u, struct child *c, const char *state)
{
	struct fb_db *db = cli_db(u->ctx);
	char key[64], val[128];
	if (!db)
		return;
	snprintf(key, sizeof(key), "up.%s", c->name);
	snprintf(val, sizeof(val), "%s (pid %d, restarts %d)", state, (int)c->pid, c->restarts);
	fb_db_status_set(db, key, val);
}

/* Record a restart where `fleetboot status` and the web UI show it. */
static void count_restart(struct up *u, struct child *c, const char *how)
{
	struct fb_db *db = cli_db(u->ctx);
	char val[160];
	u->restarts++;
	if (!db)
		return;
	snprintf(val, sizeof(val), "%d (last: fleetboot-%s exited (%s))", u->restarts, c->name,
	         how);
	fb_db_status_set(db, "up.restarts", val);
}

static int start_child(struct up *u, struct child *c)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	pid_t pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0) {
		/* Die with the supervisor, whatever kills it. */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		dup2(p[1], STDERR_FILENO);
		dup2(p[1], STDOUT_FILENO);
		const char *args[8];
		int n = 0;
		args[n++] = c->prog;
		args[n++] = "-f";
		if (u->ctx->cfg.path[0]) {
			args[n++] = "-c";
			args[n++] = u->ctx->cfg.path;
		}
		if (u->ctx->verbose)
			args[n++] = "-v";
		args[n] = NULL;
		execv(c->prog, (char *const *)args);
		fprintf(stderr, "cannot run %s: %s\n", c->prog, strerror(errno));
		_exit(127);
	}
	close(p[1]);
	fcntl(p[0], F_SETFL, O_NONBLOCK);
	c->pid = pid;
	c->out = p[0];
	c->linelen = 0;
	c->started = fb_mono_ms();
	fb_loop_add_fd(u->loop, p[0], EPOLLIN, on_output, c);
	fprintf(stderr, "%-8s| started (pid %d)\n", c->name, (int)pid);
	set_status(u, c, "running");
	return 0;
}

static void on_restart(struct fb_loop *l, void *arg)
{
	struct child *c = arg;
	if (c->up->stopping)
		return;
	c->restarts++;
	if (start_child(c->up, c) < 0) {
		fprintf(stderr, "%-8s| cannot start: %s\n", c->name, strerror(errno));
		fb_timer_arm(l, &c->restart, c->backoff);
	}
}

static void stop_all(struct up *u, int sig)
{
	for (int i = 0; i < u->nkids; i++)
		if (u->kids[i].pid > 0)
			kill(u->kids[i].pid, sig);
}

static int any_running(struct up *u)
{
	for (int i = 0; i < u->nkids; i++)
		if (u->kids[i].pid > 0)
			return 1;
	return 0;
}

static void on_kill_timer(struct fb_loop *l, void *arg)
{
	struct up *u = arg;
	fprintf(stderr, "up      | daemons still running after 10 s: killing them\n");
	stop_all(u, SIGKILL);
}

static void on_sigchld(struct fb_loop *l, int signo, void *arg)
{
	struct up *u = arg;
	int st;
	pid_t pid;
	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		for (int i = 0; i < u->nkids; i++) {
			struct child *c = &u->kids[i];
			if (c->pid != pid)
				continue;
			/* Relay whatever it printed last. */
			if (c->out >= 0)
				on_output(l, c->out, EPOLLIN, c);
			char how[96];
			if (WIFEXITED(st))
				snprintf(how, sizeof(how), "status %d", WEXITSTATUS(st));
			else
				snprintf(how, sizeof(how), "signal %d, %s%s", WTERMSIG(st),
				         strsignal(WTERMSIG(st)),
				         WCOREDUMP(st) ? ", core dumped" : "");
			c->pid = 0;
			if (u->stopping) {
				fprintf(stderr, "%-8s| stopped (%s)\n", c->name, how);
				set_status(u, c, "stopped");
				break;
			}
			uint64_t up_ms = fb_mono_ms() - c->started;
			if (up_ms > 60000)
				c->backoff = 1000;
			fprintf(stderr, "%-8s| fleetboot-%s exited (%s); restarting in %llu s\n",
			        c->name, c->name, how, (unsigned long long)(c->backoff / 1000));
			count_restart(u, c, how);
			set_status(u, c, "restarting");
			fb_timer_arm(l, &c->restart, c->backoff);
			c->backoff = c->backoff * 2 > 30000 ? 30000 : c->backoff * 2;
		}
	}
	if (u->stopping && !any_running(u))
		fb_loop_stop(l);
}

static void on_stop_signal(struct fb_loop *l, int signo, void *arg)
{
	struct up *u = arg;
	if (u->stopping) {
		stop_all(u, SIGKILL);
		return;
	}
	u->stopping = 1;
	fprintf(stderr, "up      | stopping (signal %d)\n", signo);
	for (int i = 0; i < u->nkids; i++)
		fb_timer_disarm(l, &u->kids[i].restart);
	stop_all(u, SIGTERM);
	if (!any_running(u))
		fb_loop_stop(l);
	else
		fb_timer_arm(l, &u->kill_timer, 10000);
}

static int run_up(struct cli_ctx *ctx, int argc, char **argv)
{
	struct cli_opt o[] = {{"without", 1, NULL}};
	char *pos[1];
	int npos, rc;
	static struct up u;

	if ((rc = cli_parse(&cmd_up, argc - 1, argv + 1, o, 1, pos, 0, &npos)))
		return rc;
	const char *without = o[0].val ? o[0].val : "";
	const char *names[] = {"bootd", "storaged", "web"};
	u.ctx = ctx;
	if (!cli_db(ctx))
		return CLI_ERR;
	for (int i = 0; i < 3; i++) {
		if (strstr(without, names[i]))
			continue;
		struct child *c = &u.kids[u.nkids];
		char prog[64];
		snprintf(prog, sizeof(prog), "fleetboot-%s", names[i]);
		if (fb_find_program(prog, c->prog, sizeof(c->prog)) < 0)
			return cli_error("%s not found next to %s", prog, fb_self_dir());
		c->name = names[i];
		c->out = -1;
		c->backoff = 1000;
		c->up = &u;
		fb_timer_init(&c->restart, on_restart, c);
		u.nkids++;
	}
	if (!u.nkids)
		return cli_usage(&cmd_up, "--without leaves nothing to run");
	u.loop = fb_loop_new();
	if (!u.loop)
		return cli_error("cannot create event loop: %s", strerror(errno));
	fb_timer_init(&u.kill_timer, on_kill_timer, &u);
	if (fb_loop_add_signal(u.loop, SIGCHLD, on_sigchld, &u) < 0 ||
	    fb_loop_add_signal(u.loop, SIGINT, on_stop_signal, &u) < 0 ||
	    fb_loop_add_signal(u.loop, SIGTERM, on_stop_signal, &u) < 0)
		return cli_error("cannot watch signals: %s", strerror(errno));
	signal(SIGPIPE, SIG_IGN);
	for (int i = 0; i < u.nkids; i++)
		if (start_child(&u, &u.kids[i]) < 0)
			return cli_error("cannot start %s: %s", u.kids[i].prog, strerror(errno));
	fprintf(stderr, "up      | running %d daemons; Ctrl-C stops them all\n", u.nkids);
	fb_loop_run(u.loop);
	fb_loop_free(u.loop);
	return CLI_OK;
}
