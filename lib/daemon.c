/* daemon.c - see daemon.h. */
#include "daemon.h"

#include <grp.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "log.h"
#include "stateperm.h"

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

	/* Nothing a daemon creates is for other users. (nbdkit, storaged's
	 * child, sets 022 for its plugins; the fleetboot plugin sets 077 again.) */
	fb_umask_private();
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

/* Keep only the capabilities in keep (a mask of CAP_* bits) as permitted
 * and effective; called after setuid with PR_SET_KEEPCAPS set. */
static void caps_limit(uint64_t keep)
{
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct d[2];
	memset(d, 0, sizeof(d));
	d[0].permitted = d[0].effective = (uint32_t)keep;
	d[1].permitted = d[1].effective = (uint32_t)(keep >> 32);
	if (syscall(SYS_capset, &h, d) < 0)
		fatal("cannot keep the capabilities needed after dropping root");
}

/* An install made before the state tree was kept private (0755) is
 * tightened at the next start, by the tree's owner (root under systemd has
 * no CAP_FOWNER to change another user's files). */
static void state_tighten(const char *state_dir)
{
	int t = fb_state_tighten(state_dir);
	if (t > 0)
		log_info("%s: closed to other users (mode at most 0750)", state_dir);
	else if (t < 0)
		log_warn("%s: cannot close it to other users", state_dir);
}

void fb_daemon_drop(const struct fb_config *cfg, struct passwd *pw, uint64_t keep_caps)
{
	if (!pw) {
		if (getuid() == 0)
			log_warnx("the state directory is owned by root: keeping root privileges "
			          "(run 'fleetboot init' as root once the user '%s' exists, which "
			          "'make install' creates, or chown -R the state directory to a "
			          "service user)",
			          FB_SERVICE_USER);
		state_tighten(cfg->state_dir);
		return;
	}
	if (keep_caps && prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
		fatal("PR_SET_KEEPCAPS");
	if (setgroups(1, &pw->pw_gid) < 0 || setgid(pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0)
		fatal("cannot drop privileges to %s", pw->pw_name);
	if (keep_caps) {
		caps_limit(keep_caps);
		prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
	}
	if (setuid(0) == 0)
		fatalx("privileges were not dropped");
	if (keep_caps)
		log_info("running as %s, keeping only the capability set %#llx", pw->pw_name,
		         (unsigned long long)keep_caps);
	else
		log_info("running as %s", pw->pw_name);
	state_tighten(cfg->state_dir);
}

void fb_log_unreadable(const char *path, int err)
{
	struct passwd pw, *res = NULL;
	char buf[1024], uid[32];
	const char *who = uid;
	if (getpwuid_r(geteuid(), &pw, buf, sizeof(buf), &res) == 0 && res)
		who = res->pw_name;
	else
		snprintf(uid, sizeof(uid), "uid %u", (unsigned)geteuid());
	log_warnx("cannot read %s: %s (runs as user %s)", path, strerror(err), who);
}
