/*
 * disk.h - machines' disks as both front ends see them: who may connect
 * (secret, lease address), which disk a machine gets (its mode, its overlay
 * pinned to a base version, ephemeral and pending resets), and the counters
 * storaged reports. Used by the nbdkit plugin and by fleetboot-storaged's
 * iSCSI backend; one struct sd_ctx per process.
 */
#ifndef FB_SD_DISK_H
#define FB_SD_DISK_H

#include <stddef.h>
#include <pthread.h>
#include <stdint.h>

#include "config.h"
#include "db/db.h"
#include "blockdev.h"
#include "cow/cow.h"

struct sd_ctx;

struct sd_disk {
	struct fb_blockdev bd;     /* what the front end serves (counting wrapper) */
	struct fb_blockdev *inner; /* the engine's device */
	struct cow_ovl *ovl;       /* NULL when serving a bare base read-only */
	char mac[FB_MACID_LEN];
	enum fb_mode mode;
	char peer[FB_IP_LEN]; /* address of the first connection */
	int refs;             /* connections using it (ctx lock) */
	uint64_t rd, wr;      /* bytes (atomic) */
	int64_t boot_seq;     /* the machine's boot counter when it was opened */
	int dead;             /* left over from an earlier boot: I/O fails (io lock) */
	pthread_rwlock_t io;  /* I/O holds it shared; retiring the disk holds it alone */
	struct sd_disk *next;
};

/* proto (the protocol this process serves) names the status keys it
 * writes. */
struct sd_ctx *sd_new(const struct fb_config *cfg, enum fb_protocol proto, char *why,
                      size_t whylen);
void sd_free(struct sd_ctx *ctx);

/*
 * May a client at peer (dotted quad; NULL = not checked) use machine mac
 * with credential secret (NULL = not checked here, e.g. iSCSI CHAP checks
 * it)? Only the credential of the machine's current boot counts (db/
 * credentials.c), never the long-lived machine secret. Fills secret_out
 * (may be NULL) with that credential, the CHAP secret. 0, -ENOENT (unknown
 * machine), -EACCES (wrong or stale credential, none issued for this boot,
 * or the wrong peer address) with why.
 */
int sd_authorize(struct sd_ctx *ctx, const char *mac, const char *secret, const char *peer,
                 char secret_out[FB_SECRET_LEN], char *why, size_t whylen);

/* 1 when the machine boots verified (secure_boot "on"): its root is served
 * over TLS only. 0 otherwise or when unknown. */
int sd_machine_secure_boot(struct sd_ctx *ctx, const char *mac);

/* Open (or share, within this process) the machine's disk. NULL with errno:
 * EBUSY another process holds the overlay; EROFS never; ENOENT no image. */
struct sd_disk *sd_open(struct sd_ctx *ctx, const char *mac, const char *peer, char *why,
                        size_t whylen);
/* Record a boot event of mac (an iSCSI login: what an admin sees of a
 * SAN-booted machine, whose OS reports no stages). 0 or -1 (logged). */
int sd_event(struct sd_ctx *ctx, const char *mac, const char *stage, const char *detail);
/* A connection ended; the last one closes the disk and carries out a
 * pending reset. */
void sd_release(struct sd_ctx *ctx, struct sd_disk *d);

/* Extents of the machine's overlay (through the disk's io lock, so a
 * retired disk answers -ESHUTDOWN); -EOPNOTSUPP for a bare base. */
int sd_extents(struct sd_disk *d, uint64_t len, uint64_t off, cow_extent_fn fn, void *arg);
/* Has a pending reset of this overlay row fallen due at boot boot_seq? */
int sd_reset_due(const struct fb_overlay *row, int64_t boot_seq);

/* Write connection counts, bytes and overlay sizes to the status table. */
void sd_report(struct sd_ctx *ctx);
/* Connections open now. */
int sd_connections(struct sd_ctx *ctx);

/* Overlay path of a machine: state_dir/overlays/MACID.ovl */
void sd_overlay_path(const struct fb_config *cfg, const char *mac, char *out, size_t len);
/* Where the iSCSI target keeps the persistent reservations an initiator
 * asked to survive power loss (APTPL), beside the machine's overlay: 0,
 * or -1 for a disk that keeps nothing across boots (ephemeral, read-only,
 * no overlay), where APTPL=1 is refused. */
int sd_pr_path(struct sd_ctx *ctx, const struct sd_disk *d, char *out, size_t len);
/* Where base-verification sidecars live. */
void sd_verify_dir(const struct fb_config *cfg, char *out, size_t len);

#endif
