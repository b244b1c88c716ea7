/*
 * main.c - fleetboot-web: options, configuration, start-up order and
 * shutdown.
 *
 *   fleetboot-web [-c FILE] [-f] [-n] [-v]
 *
 * Start-up binds the [web] listen address while still privileged, then
 * drops to the service user (the owner of state_dir when that is not root,
 * else `fleetboot`), then opens the database as that user.
 */
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon.h"
#include "locate.h"
#include "log.h"
#include "web.h"

struct web web_g;

static void find_ui(void)
{
	const char *env = getenv("FLEETBOOT_WEB_UI");
	char cand[PATH_MAX];
	if (env && *env)
		snprintf(cand, sizeof(cand), "%s", env);
	else
		snprintf(cand, sizeof(cand), "%s/web/ui", fb_share_dir());
	if (!realpath(cand, web_g.ui_dir))
		fatal("%s: the web UI files are missing", cand);
	/* A UI directory of "/" would let realpath checks pass for anything. */
	if (!strcmp(web_g.ui_dir, "/"))
		fatalx("the web UI directory cannot be /");
}

int main(int argc, char **argv)
{
	struct fb_daemon_opts o = {0};

	fb_daemon_init(argc, argv, "fleetboot-web", NULL, &o, &web_g.cfg);
	if (o.check) {
		struct sockaddr_in sin;
		if (web_listen_addr(&sin) < 0) {
			fprintf(stderr,
			        "fleetboot-web: %s: [web] listen: '%s' is not an IPv4 address\n",
			        web_g.cfg.path[0] ? web_g.cfg.path : "defaults",
			        web_g.cfg.web_host);
			return 1;
		}
		if (o.verbose)
			fb_config_print(&web_g.cfg, stdout);
		return 0;
	}
	if (o.conf && !realpath(o.conf, web_g.conf_arg))
		fatal("%s", o.conf);
	find_ui();

	if (!o.foreground && daemon(0, 0) < 0)
		fatal("daemon");

	/* Signals go to the main thread only: block them before any thread
	 * starts (threads inherit the mask), then wait for them below. */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	/* Bind while privileged; open the database as the service user, so the
	 * files SQLite creates (-wal, -shm) belong to it. */
	int lfd = web_bind();
	if (lfd < 0)
		fatalx("cannot listen on [web] listen");
	fb_daemon_drop(&web_g.cfg, fb_daemon_run_as(&web_g.cfg), 0);

	int rc = fb_db_open_state(&web_g.db, web_g.cfg.state_dir);
	if (rc < 0)
		fatalx("%s: cannot open the database: %s (run 'fleetboot init')",
		       web_g.cfg.state_dir, strerror(-rc));
	if (fb_db_user_exists_any(web_g.db) <= 0)
		log_warnx("no web user exists yet: nobody can log in until 'fleetboot init' or "
		          "'fleetboot user passwd' sets a password");
	web_auth_init();
	if (web_events_start() < 0)
		fatalx("cannot start the event poller");
	if (web_start(lfd) < 0)
		fatalx("cannot start the HTTP server");
	log_info("listening on %s:%d, UI from %s", web_g.cfg.web_host[0] ? web_g.cfg.web_host : "*",
	         web_g.cfg.web_port, web_g.ui_dir);

	int sig = 0;
	while (sig != SIGINT && sig != SIGTERM) {
		if (sigwait(&set, &sig) != 0)
			break;
		if (sig == SIGHUP)
			log_info("SIGHUP: nothing to reload (restart to apply config changes)");
	}
	log_info("stopping on signal %d", sig);
	web_events_stop();
	web_stop();
	web_auth_free();
	fb_db_close(web_g.db);
	return 0;
}
