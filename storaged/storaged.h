/*
 * storaged.h - fleetboot-storaged's parts, one file per role:
 * main.c (options, start-up, status, resets), nbdkit.c (runs nbdkit with
 * the fleetboot plugin and restarts it when it dies), backend.c (the
 * iSCSI target's view of machines and disks).
 */
#ifndef FB_STORAGED_H
#define FB_STORAGED_H

#include <sys/types.h>

#include "config.h"
#include "evloop.h"
#include "storaged/disk.h"
#include "iscsi/target.h"

/* nbdkit.c */
struct sd_nbdkit {
	struct fb_loop *loop;
	const char *conf_path; /* absolute path handed to the plugin */
	int port;
	int verbose;
	const char *run_user; /* -u/-g for nbdkit when not NULL */
	const char *tls_dir;  /* STATE/tls with the server certificate, or NULL */
	pid_t pid;            /* running child, 0 when none */
	int restarts;         /* unplanned exits so far */
	uint64_t started_ms;  /* when the current child started */
	uint64_t backoff_ms;  /* delay before the next restart */
	int stopping;
	struct fb_timer restart; /* pending restart */
};
int sd_nbdkit_start(struct sd_nbdkit *n);
/* Reap children (from SIGCHLD); schedules a restart for an unplanned exit. */
void sd_nbdkit_reap(struct sd_nbdkit *n);
/* Stop for good: SIGTERM, then SIGKILL after a grace period. */
void sd_nbdkit_stop(struct sd_nbdkit *n);

/* backend.c */
void sd_iscsi_backend(struct sd_ctx *ctx, struct fb_iscsi_backend *be);
/* The target's mutual CHAP secret for a machine whose initiator proves
 * secret (32 hex + NUL); see backend.c. 0, or -1. */
int sd_mutual_secret(const char *secret, char out[33]);

#endif
