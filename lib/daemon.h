/*
 * daemon.h - what every fleetboot daemon does first: the common options
 * (-c FILE, -f foreground, -n check the configuration, -v), logging, the
 * configuration file, and whom to run as after binding.
 */
#ifndef FB_DAEMON_H
#define FB_DAEMON_H

#include <pwd.h>
#include <stdint.h>

#include "config.h"

struct fb_daemon_opts {
	const char *conf; /* -c FILE, or NULL for the default */
	int foreground;   /* -f */
	int check;        /* -n: check the configuration and exit */
	int verbose;      /* -v count */
};

/*
 * Parse the options (anything else prints the usage, with extra_usage
 * lines after it when not NULL, and exits 2), start logging as name, and
 * load the configuration into cfg; a bad file prints its line-numbered
 * message and exits 1.
 */
void fb_daemon_init(int argc, char **argv, const char *name, const char *extra_usage,
                    struct fb_daemon_opts *o, struct fb_config *cfg);

/* The service user that `make install` creates and `fleetboot init`, run
 * as root, gives the state tree to. */
#define FB_SERVICE_USER "fleetboot"

/*
 * Whom to run as when started as root: the owner of state_dir (the files
 * are theirs). NULL when not root, or when state_dir is owned by root: no
 * other user could write it, so the daemon keeps root (fb_daemon_drop says
 * so).
 */
struct passwd *fb_daemon_run_as(const struct fb_config *cfg);
/* Become pw for good (fatal if that fails), keeping only the capabilities
 * in keep_caps (a mask of 1 << CAP_*; 0 keeps none); with pw NULL under
 * root, log that root is kept. Then close cfg's state directory to other
 * users (mode at most 0750) if an older install left it open. */
void fb_daemon_drop(const struct fb_config *cfg, struct passwd *pw, uint64_t keep_caps);

/*
 * Log that path exists but this process may not open it (err is EACCES or
 * EPERM): "cannot read PATH: Permission denied (runs as user NAME)". A
 * state tree the daemon's user cannot read is a setup mistake, not a
 * missing file, and the log says which. Thread-safe; path is logged as
 * given (escape client-chosen parts first).
 */
void fb_log_unreadable(const char *path, int err);

#endif
