/* daemon.c - see daemon.h. */
#include "daemon.h"

#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

static void usage(const char *name, const char *extra)
{
	fprintf(stderr, "usage: %s [-c FILE] [-f] [-n] [-v]\n%s", name, extra ? extra : "");
	exit(2);
}

void fb_daemon_init(int argc, char **argv, const char *name, const char *extra_usage,
                    struct fb_daemon_opts *o, struct fb_config *cfg)
{
	char err[512];
	int opt;

	while ((opt = getopt(argc, argv, "c:fnvh")) != -1) {
		switch (opt) {
		case 'c':
			o->conf = optarg;
			break;
		case 'f':
			o->foreground = 1;
			break;
		case 'n':
			o->check = 1;
			break;
		case 'v':
			o->verbose++;
			break;
		default:
			usage(name, extra_usage);
		}
	}
	if (optind != argc)
		usage(name, extra_usage);
	log_init(name, o->foreground || o->check, o->verbose);
	if (fb_config_load(cfg, o->conf, o->conf != NULL, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s: %s\n", name, err);
		exit(1);
	}
}

struct passwd *fb_daemon_run_as(const struct fb_config *cfg)
{
	struct stat st;
	if (getuid() != 0 || stat(cfg->state_dir, &st) < 0 || st.st_uid == 0)
		return NULL;
	return getpwuid(st.st_uid);
}

void fb_daemon_drop(struct passwd *pw)
{
	if (!pw) {
		if (getuid() == 0)
			log_warnx("the state directory is owned by root: keeping root privileges "
			          "(run 'fleetboot init' as root once the user '%s' exists, which "
			          "'make install' creates, or chown -R the state directory to a "
			          "service user)",
			          FB_SERVICE_USER);
		return;
	}
	if (setgroups(1, &pw->pw_gid) < 0 || setgid(pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0)
		fatal("cannot drop privileges to %s", pw->pw_name);
	if (setuid(0) == 0)
		fatalx("privileges were not dropped");
	log_info("running as %s", pw->pw_name);
}
