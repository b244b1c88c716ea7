/*
 * main.c - fleetboot-storaged: serves every machine's copy-on-write root
 * disk. NBD through nbdkit with the fleetboot plugin (a supervised child),
 * iSCSI through the target in this process, status into the database, and
 * pending overlay resets carried out when no connection holds them.
 *
 *   fleetboot-storaged [-c FILE] [-f] [-n] [-v]
 *   fleetboot-storaged --check OVERLAY     consistency check of an overlay
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "daemon.h"
#include "locate.h"
#include "log.h"
#include "storaged/storaged.h"
#include "str.h"

#define STATUS_MS 5000

struct storaged {
	struct fb_config cfg;
	char conf_path[PATH_MAX];
	char tls_dir[PATH_MAX]; /* absolute STATE/tls, when it has a certificate */
	struct fb_loop *loop;
	struct fb_db *db;   /* main thread only */
	struct sd_ctx *ctx; /* shared with the iSCSI threads */
	struct fb_iscsi_target *iscsi;
	struct sd_nbdkit nbd;
	struct fb_timer status;
	int64_t started;
};

/* Resets that were requested while a connection held the overlay and have
 * fallen due (a later boot began) but that no open has carried out yet. */
static int sweep_cb(void *arg, const struct fb_overlay *o)
{
	struct storaged *s = arg;
	int64_t seq = 0;
	if (!o->reset_pending || fb_db_machine_boot_seq(s->db, o->mac, &seq) < 0 ||
	    !sd_reset_due(o, seq))
		return 0;
	int fd = cow_ovl_lock(o->path);
	if (fd == -EBUSY)
		return 0; /* still connected: its holder resets on close */
	cow_ovl_discard(o->path, fd);
	fb_db_overlay_delete(s->db, o->mac);
	log_info("%s: overlay discarded (pending reset)", o->mac);
	return 0;
}

static void status_cb(struct fb_loop *l, void *arg)
{
	struct storaged *s = arg;
	char val[256];

	sd_report(s->ctx);
	if (s->iscsi) {
		struct fb_iscsi_stats st;
		fb_iscsi_target_stats(s->iscsi, &st);
		snprintf(val, sizeof(val), "%u", st.sessions);
		fb_db_status_set(s->db, "storaged.iscsi.sessions", val);
	}
	snprintf(val, sizeof(val), "%s pid=%d restarts=%d port=%d",
	         s->nbd.pid ? "running" : "restarting", (int)s->nbd.pid, s->nbd.restarts,
	         s->cfg.nbd_port);
	fb_db_status_set(s->db, "storaged.nbdkit", val);
	snprintf(val, sizeof(val), "pid=%d started=%" PRId64 " iscsi_port=%d nbd_port=%d",
	         (int)getpid(), s->started, s->iscsi ? s->cfg.iscsi_port : 0, s->cfg.nbd_port);
	fb_db_status_set(s->db, "storaged.daemon", val);

	fb_db_overlay_list(s->db, sweep_cb, s);
	fb_timer_arm(l, &s->status, STATUS_MS);
}

static void on_signal(struct fb_loop *l, int signo, void *arg)
{
	struct storaged *s = arg;
	if (signo == SIGCHLD) {
		sd_nbdkit_reap(&s->nbd);
		return;
	}
	if (signo == SIGHUP) {
		log_info("SIGHUP: nothing to reload (restart to apply config changes)");
		return;
	}
	log_info("stopping on signal %d", signo);
	fb_loop_stop(l);
}

static int check_main(const char *path)
{
	int rc = cow_ovl_check(path, stdout);
	return rc == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	static struct storaged s;
	struct fb_daemon_opts o = {0};
	char err[512];

	if (argc == 3 && !strcmp(argv[1], "--check"))
		return check_main(argv[2]);
	fb_daemon_init(argc, argv, "fleetboot-storaged",
	               "       fleetboot-storaged --check OVERLAY\n", &o, &s.cfg);
	if (o.check) {
		if (o.verbose)
			fb_config_print(&s.cfg, stdout);
		return 0;
	}
	/* nbdkit gets the same file, by absolute path (it runs from /). */
	if (s.cfg.path[0] && !realpath(s.cfg.path, s.conf_path))
		fatal("%s", s.cfg.path);
	if (!s.cfg.path[0]) {
		/* No file existed: write the defaults nowhere; nbdkit's plugin
		 * reads the same default path and gets the same defaults. */
		fb_strlcpy(s.conf_path, fb_default_conf(), sizeof(s.conf_path));
	}
	if (!o.foreground && daemon(0, 0) < 0)
		fatal("daemon");
	signal(SIGPIPE, SIG_IGN);

	s.started = fb_now();
	s.loop = fb_loop_new();
	if (!s.loop)
		fatal("event loop");
	int rc = fb_db_open_state(&s.db, s.cfg.state_dir);
	if (rc < 0)
		fatalx("%s: cannot open the database: %s (run 'fleetboot init')", s.cfg.state_dir,
		       strerror(-rc));
	s.ctx = sd_new(&s.cfg, FB_PROTOCOL_ISCSI, err, sizeof(err));
	if (!s.ctx)
		fatalx("%s", err);
	if (fb_loop_add_signal(s.loop, SIGINT, on_signal, &s) < 0 ||
	    fb_loop_add_signal(s.loop, SIGTERM, on_signal, &s) < 0 ||
	    fb_loop_add_signal(s.loop, SIGHUP, on_signal, &s) < 0 ||
	    fb_loop_add_signal(s.loop, SIGCHLD, on_signal, &s) < 0)
		fatal("signals");

	struct passwd *pw = fb_daemon_run_as(&s.cfg);
	/* FB_STORAGED_NO_ISCSI=1: NBD only (tests of the NBD side). */
	const char *no_iscsi = getenv("FB_STORAGED_NO_ISCSI");
	if (s.cfg.iscsi_port > 0 && !(no_iscsi && !strcmp(no_iscsi, "1"))) {
		struct fb_iscsi_backend be = {0};
		sd_iscsi_backend(s.ctx, &be);
		be.prelogin_per_address = s.cfg.iscsi_prelogin_per_address;
		be.prelogin_max = s.cfg.iscsi_prelogin_max;
		s.iscsi = fb_iscsi_target_start(NULL, s.cfg.iscsi_port, &be, 4);
		if (!s.iscsi)
			fatal("iSCSI target on port %d", s.cfg.iscsi_port);
		log_info("iSCSI target on port %d", s.cfg.iscsi_port);
	}
	s.nbd.loop = s.loop;
	s.nbd.conf_path = s.conf_path;
	s.nbd.port = s.cfg.nbd_port;
	s.nbd.verbose = o.verbose > 1;
	s.nbd.run_user = pw ? pw->pw_name : NULL;
	char tls_dir[PATH_MAX], tls_crt[PATH_MAX + 20];
	snprintf(tls_dir, sizeof(tls_dir), "%s/tls", s.cfg.state_dir);
	snprintf(tls_crt, sizeof(tls_crt), "%s/server-cert.pem", tls_dir);
	if (access(tls_crt, R_OK) == 0 && realpath(tls_dir, s.tls_dir))
		s.nbd.tls_dir = s.tls_dir;
	if (s.cfg.nbd_port > 0 && sd_nbdkit_start(&s.nbd) < 0)
		fatalx("cannot start nbdkit");
	fb_daemon_drop(&s.cfg, pw, 0);

	fb_timer_init(&s.status, status_cb, &s);
	fb_timer_arm(s.loop, &s.status, 100);
	fb_loop_run(s.loop);

	sd_nbdkit_stop(&s.nbd);
	if (s.iscsi)
		fb_iscsi_target_stop(s.iscsi);
	sd_report(s.ctx);
	fb_db_status_set(s.db, "storaged.nbdkit", "stopped");
	fb_db_status_set(s.db, "storaged.daemon", "stopped");
	sd_free(s.ctx);
	fb_db_close(s.db);
	fb_loop_free(s.loop);
	return 0;
}
