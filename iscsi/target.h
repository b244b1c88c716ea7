/*
 * target.h - the iSCSI target (libfbiscsi.a) as fleetboot-storaged's
 * main code sees it. The target owns its sockets and threads; machines,
 * secrets and disks come from the daemon through these callbacks, so the
 * target itself knows nothing of the database or the copy-on-write engine.
 *
 * Target names are iqn.2026-11.org.fleetboot:MACID, LUN 0; CHAP user MACID,
 * secret the machine's secret (DESIGN.md).
 */
#ifndef FB_ISCSI_TARGET_H
#define FB_ISCSI_TARGET_H

#include <netinet/in.h>
#include <stdint.h>

#include "blockdev.h"

#define FB_ISCSI_IQN_PREFIX "iqn.2026-11.org.fleetboot:"

struct fb_iscsi_backend {
	/* May the initiator at peer log in to machine macid? Fills the CHAP
	 * secret (32 hex + NUL). 0, -ENOENT (unknown machine) or -EACCES
	 * (peer address refused by require_lease_ip). Called from target
	 * threads: must be thread-safe. */
	int (*lookup)(void *arg, const char *macid, const struct sockaddr_in *peer,
	              char secret[33]);
	/* Open the machine's disk after a successful login. NULL with errno
	 * (EBUSY: another writer holds the overlay). */
	struct fb_blockdev *(*open)(void *arg, const char *macid, const struct sockaddr_in *peer);
	/* The session ended: release the disk (bd->ops->close is the
	 * daemon's business, not the target's). */
	void (*release)(void *arg, const char *macid, struct fb_blockdev *bd);
	void *arg;
};

struct fb_iscsi_target;

/* Bind addr:port (addr NULL = any) and start serving on threads of the
 * target's own. Returns NULL with errno on failure. */
struct fb_iscsi_target *fb_iscsi_target_start(const char *addr, int port,
                                              const struct fb_iscsi_backend *be, int io_threads);
/* Stop accepting, close every session, join threads, free. */
void fb_iscsi_target_stop(struct fb_iscsi_target *t);

struct fb_iscsi_stats {
	uint32_t sessions;   /* sessions logged in now */
	uint64_t bytes_read; /* since start */
	uint64_t bytes_written;
};
void fb_iscsi_target_stats(struct fb_iscsi_target *t, struct fb_iscsi_stats *st);

#endif
