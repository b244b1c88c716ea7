/*
 * target.h - the iSCSI target (libfbiscsi.a) as fleetboot-storaged's
 * main code sees it. The target owns its sockets and threads; machines,
 * secrets and disks come from the daemon through these callbacks, so the
 * target itself knows nothing of the database or the copy-on-write engine.
 *
 * Target names are iqn.2026-11.org.fleetboot:MACID, LUN 0; CHAP user MACID,
 * secret the boot's credential (DESIGN.md). MACID may be spelt with
 * colons or hyphens, in either case: the target turns it into the
 * canonical form before anything uses it, and refuses what does not parse.
 */
#ifndef FB_ISCSI_TARGET_H
#define FB_ISCSI_TARGET_H

#include <netinet/in.h>
#include <stdint.h>

#include "blockdev.h"

#define FB_ISCSI_IQN_PREFIX "iqn.2026-11.org.fleetboot:"
/* Room for a reason the daemon gives the target for its log. */
#define FB_ISCSI_REASON_LEN 160

struct fb_iscsi_backend {
	/* May the initiator at peer log in to machine macid (always in the
	 * canonical form, 52-54-00-12-34-56)? Fills the CHAP secret the
	 * initiator must prove (32 hex + NUL) and the distinct secret the
	 * target proves itself with in mutual CHAP (never the same: an
	 * initiator that knows one must not learn to answer as the target).
	 * must_mutual: left empty when one-way CHAP will do; else the machine
	 * must authenticate the target (mutual CHAP), and this is what the
	 * log says when an initiator logs in without challenging the target
	 * (the login then fails with Authentication failure). The target
	 * knows no policy: whose logins must be mutual is the daemon's call.
	 * 0, -ENOENT (unknown machine) or -EACCES (peer address refused by
	 * require_lease_ip). The initiator is told neither apart from a wrong
	 * CHAP response. Called from target threads: must be thread-safe. */
	int (*lookup)(void *arg, const char *macid, const struct sockaddr_in *peer, char secret[33],
	              char mutual[33], char must_mutual[FB_ISCSI_REASON_LEN]);
	/* Open the machine's disk after a successful login. NULL with errno
	 * (EBUSY: another writer holds the overlay). */
	struct fb_blockdev *(*open)(void *arg, const char *macid, const struct sockaddr_in *peer);
	/* The session ended: release the disk (bd->ops->close is the
	 * daemon's business, not the target's). */
	void (*release)(void *arg, const char *macid, struct fb_blockdev *bd);
	/* Optional: where the machine's persistent reservations are kept
	 * when an initiator asks for APTPL (its disk bd, as open gave it).
	 * 0 with the path, or -1: this disk keeps none (ephemeral, read-only)
	 * and APTPL=1 is refused. */
	int (*pr_file)(void *arg, const char *macid, struct fb_blockdev *bd, char *path,
	               size_t len);
	void *arg;
	/* Connections that have not completed login, per source address and
	 * in all; one over either cap is closed at accept (0: the defaults). */
	unsigned prelogin_per_address, prelogin_max;
};

#define FB_ISCSI_PRELOGIN_PER_ADDRESS 8
#define FB_ISCSI_PRELOGIN_MAX         256

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
