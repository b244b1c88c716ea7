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
#include <grp.h>
#include <limits.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "web.h"

struct web web_g;

static void usage(void)
{
	fprintf(stderr, "usage: fleetboot-web [-c FILE] [-f] [-n] [-v]\n");
	exit(2);
}

/*
 * Whom to run as when started as root: the owner of state_dir when that is
 * not root (the files are theirs), else the user fleetboot. With neither
 * (a root-owned state_dir on a machine without a fleetboot user, as in
 * tests) no other user could write the database, so the daemon keeps root
 * and says so, as fleetboot-storaged does.
 */
static void drop_privileges(void)
{
	struct stat st;
	struct passwd *pw = NULL;
	if (getuid() != 0)
		return;
	if (stat(web_g.cfg.state_dir, &st) == 0 && st.st_uid != 0)
		pw = getpwuid(st.st_uid);
	if (!pw)
		pw = getpwnam("fleetboot");
	if (!pw) {
		log_warnx("state_dir is owned by root and there is no 'fleetboot' user: keeping "
		          "root privileges");
		return;
	}
	if (setgroups(1, &pw->pw_gid) < 0 || setgid(pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0)
		fatal("cannot drop privileges to %s", pw->pw_name);
	if (setuid(0) == 0)
		fatalx("privileges were not dropped");
	log_info("running as %s", pw->pw_name);
}

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
	const char *conf = NULL;
	int fg = 0, check = 0, verbose = 0, opt;
	char err[512];

	while ((opt = getopt(argc, argv, "c:fnvh")) != -1) {
		switch (opt) {
		case 'c':
			conf = optarg;
			break;
		case 'f':
			fg = 1;
			break;
		case 'n':
			check = 1;
			break;
		case 'v':
			verbose++;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	log_init("fleetboot-web", fg || check, verbose);
	if (fb_config_load(&web_g.cfg, conf, conf != NULL, err, sizeof(err)) < 0) {
		fprintf(stderr, "fleetboot-web: %s\n", err);
		return 1;
	}
	if (check) {
		struct sockaddr_in sin;
		if (web_listen_addr(&sin) < 0) {
			fprintf(stderr,
			        "fleetboot-web: %s: [web] listen: '%s' is not an IPv4 address\n",
			        web_g.cfg.path[0] ? web_g.cfg.path : "defaults",
			        web_g.cfg.web_host);
			return 1;
		}
		if (verbose)
			fb_config_print(&web_g.cfg, stdout);
		return 0;
	}
	if (conf && !realpath(conf, web_g.conf_arg))
		fatal("%s", conf);
	find_ui();

	if (!fg && daemon(0, 0) < 0)
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
	drop_privileges();

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
