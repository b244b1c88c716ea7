/*
 * disk.c - see disk.h. Every decision that needs the database (who may
 * connect, which base, whether to discard an overlay) happens here, and
 * each database call holds one mutex (ctx->lock), because an fb_db handle
 * belongs to one thread at a time; the data path never takes that mutex.
 *
 * Opening a machine's disk (sd_open) does not hold that mutex across its
 * file work: a persistent machine's first attach creates its overlay
 * (ftruncate, fsync, directory fsync), and 1000 machines powering on at
 * once must not queue behind each other's fsyncs. Instead a machine being
 * opened is marked (ctx->opening) under the mutex: another connection of
 * the same machine waits for that open to finish and then shares its disk,
 * so each overlay still has one opener and one writer in this process
 * (the overlay's OFD lock keeps other processes out, as before). Closing
 * (sd_release, and a new boot retiring its stale predecessor's disk) works
 * the same way: its flush runs without the mutex, the machine marked busy
 * so that its next open waits for the close.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "daemon.h"
#include "fileio.h"
#include "log.h"
#include "neigh.h"
#include "secret.h"
#include "storaged/disk.h"
#include "str.h"

/* A machine whose disk one thread is opening, outside ctx->lock. */
struct sd_opening {
	char mac[FB_MACID_LEN];
	struct sd_opening *next;
};

struct sd_ctx {
	struct fb_config cfg;
	enum fb_protocol proto;
	pthread_mutex_t lock;
	struct fb_db *db;
	struct sd_disk *disks;         /* open disks (lock) */
	struct sd_opening *opening;    /* machines whose disk is being opened (lock) */
	pthread_cond_t opened;         /* an open finished (with lock) */
	uint64_t closed_rd, closed_wr; /* bytes of disks already closed */
	char verify_dir[4096];
};

void sd_overlay_path(const struct fb_config *cfg, const char *mac, char *out, size_t len)
{
	snprintf(out, len, "%s/overlays/%s.ovl", cfg->state_dir, mac);
}

int sd_pr_path(struct sd_ctx *ctx, const struct sd_disk *d, char *out, size_t len)
{
	if (!d->ovl || d->mode != FB_MODE_PERSISTENT)
		return -1;
	/* Beside the overlay, named after it: cow_ovl_discard removes it with
	 * the overlay (a reset disk keeps no registrations). */
	int n = snprintf(out, len, "%s/overlays/%s.ovl.pr", ctx->cfg.state_dir, d->mac);
	return n > 0 && (size_t)n < len ? 0 : -1;
}

void sd_verify_dir(const struct fb_config *cfg, char *out, size_t len)
{
	cow_verify_dir(cfg->state_dir, out, len);
}

struct sd_ctx *sd_new(const struct fb_config *cfg, enum fb_protocol proto, char *why, size_t whylen)
{
	struct sd_ctx *ctx = calloc(1, sizeof(*ctx));
	char dir[4200];
	int rc;

	if (!ctx) {
		snprintf(why, whylen, "out of memory");
		return NULL;
	}
	ctx->cfg = *cfg;
	ctx->proto = proto;
	pthread_mutex_init(&ctx->lock, NULL);
	pthread_cond_init(&ctx->opened, NULL);
	sd_verify_dir(cfg, ctx->verify_dir, sizeof(ctx->verify_dir));
	snprintf(dir, sizeof(dir), "%s/overlays", cfg->state_dir);
	if (fb_mkdir_p(dir, 0700) < 0) {
		snprintf(why, whylen, "%s: %s", dir, strerror(errno));
		goto fail;
	}
	rc = fb_db_open_state(&ctx->db, cfg->state_dir);
	if (rc < 0) {
		snprintf(why, whylen, "%s/fleetboot.db: %s", cfg->state_dir, strerror(-rc));
		goto fail;
	}
	return ctx;
fail:
	pthread_cond_destroy(&ctx->opened);
	pthread_mutex_destroy(&ctx->lock);
	free(ctx);
	return NULL;
}

void sd_free(struct sd_ctx *ctx)
{
	if (!ctx)
		return;
	while (ctx->disks) {
		struct sd_disk *d = ctx->disks;
		d->refs = 1;
		sd_release(ctx, d);
	}
	fb_db_close(ctx->db);
	pthread_cond_destroy(&ctx->opened);
	pthread_mutex_destroy(&ctx->lock);
	free(ctx);
}

int sd_authorize(struct sd_ctx *ctx, const char *mac, const char *secret, const char *peer,
                 char secret_out[FB_SECRET_LEN], char *why, size_t whylen)
{
	struct fb_machine m;
	struct fb_lease l;
	char cred[FB_SECRET_LEN] = "";
	int rc;

	memset(&m, 0, sizeof(m));
	pthread_mutex_lock(&ctx->lock);
	rc = fb_db_machine_get(ctx->db, mac, &m);
	if (rc < 0) {
		snprintf(why, whylen, "unknown machine %s", mac);
		rc = rc == -ENOENT ? -ENOENT : rc;
		goto out;
	}
	/* The credential of the machine's current boot opens its disk; the
	 * long-lived machine secret never does (it stays on the server). An
	 * earlier boot's credential is no longer current. */
	int have_cred = fb_db_credential_current(ctx->db, m.mac, cred) == 0;
	if (secret && !(have_cred && fb_secret_equal(secret, cred))) {
		snprintf(why, whylen, "wrong credential for machine %s (not this boot's)", mac);
		rc = -EACCES;
		goto out;
	}
	if (!have_cred) {
		snprintf(why, whylen, "no credential was issued for machine %s's current boot",
		         mac);
		rc = -EACCES;
		goto out;
	}
	if (peer && ctx->cfg.require_lease_ip) {
		/* Issue 13: an address is no identity. The peer must hold the
		 * machine's reservation or current lease (bootd leasing) AND
		 * map to the machine's MAC in the neighbour table now; in proxy
		 * mode another server leases, and the neighbour entry is what
		 * there is. */
		int held =
		    ctx->cfg.dhcp != FB_DHCP_AUTHORITATIVE || (m.ip[0] && !strcmp(m.ip, peer));
		if (!held && fb_db_lease_get(ctx->db, mac, &l) == 0 && !strcmp(l.ip, peer) &&
		    l.expires >= fb_now() && !strcmp(l.state, "bound"))
			held = 1;
		struct in_addr pa;
		uint8_t nmac[6];
		char nid[FB_MACID_LEN] = "none";
		if (ip4_parse(peer, &pa) == 0 && fb_neigh_lookup(pa, nmac) == 0)
			mac_format(nmac, nid);
		if (!held || strcmp(nid, m.mac)) {
			snprintf(why, whylen,
			         !held
			             ? "peer %s is not machine %s's leased or reserved address"
			             : "peer %s is not machine %s's MAC in the neighbour table (it "
			               "maps to %s)",
			         peer, mac, nid);
			rc = -EACCES;
			goto out;
		}
	}
	if (secret_out)
		fb_strlcpy(secret_out, cred, FB_SECRET_LEN);
out:
	memset(cred, 0, sizeof(cred));
	memset(m.secret, 0, sizeof(m.secret));
	pthread_mutex_unlock(&ctx->lock);
	return rc;
}

int sd_machine_secure_boot(struct sd_ctx *ctx, const char *mac)
{
	struct fb_machine m;
	int on;
	memset(&m, 0, sizeof(m));
	pthread_mutex_lock(&ctx->lock);
	on = fb_db_machine_get(ctx->db, mac, &m) == 0 && !strcmp(m.secure_boot, "on");
	memset(m.secret, 0, sizeof(m.secret));
	pthread_mutex_unlock(&ctx->lock);
	return on;
}

/* ---- the counting wrapper the front ends see ---- */

/* Every call holds the disk's io lock shared, so retiring a disk left over
 * from an earlier boot (retire_stale) waits for calls in flight and later
 * calls fail instead of touching a closed engine. */
#define WITH_IO(d, expr)                                                                           \
	({                                                                                         \
		int rc_;                                                                           \
		pthread_rwlock_rdlock(&(d)->io);                                                   \
		rc_ = (d)->dead ? -ESHUTDOWN : (expr);                                             \
		pthread_rwlock_unlock(&(d)->io);                                                   \
		rc_;                                                                               \
	})

static int w_read(struct fb_blockdev *bd, void *buf, uint64_t len, uint64_t off)
{
	struct sd_disk *d = bd->priv;
	int rc = WITH_IO(d, d->inner->ops->read(d->inner, buf, len, off));
	if (!rc)
		__atomic_fetch_add(&d->rd, len, __ATOMIC_RELAXED);
	return rc;
}

/* Never waits, not even for the io lock (held for writing while a stale
 * disk is retired). */
static int w_read_nowait(struct fb_blockdev *bd, void *buf, uint64_t len, uint64_t off)
{
	struct sd_disk *d = bd->priv;
	if (!d->inner->ops->read_nowait || pthread_rwlock_tryrdlock(&d->io))
		return -EAGAIN;
	int rc = d->dead ? -ESHUTDOWN : d->inner->ops->read_nowait(d->inner, buf, len, off);
	pthread_rwlock_unlock(&d->io);
	if (!rc)
		__atomic_fetch_add(&d->rd, len, __ATOMIC_RELAXED);
	return rc;
}

static int w_write_nowait(struct fb_blockdev *bd, const void *buf, uint64_t len, uint64_t off)
{
	struct sd_disk *d = bd->priv;
	if (!d->inner->ops->write_nowait || pthread_rwlock_tryrdlock(&d->io))
		return -EAGAIN;
	int rc = d->dead ? -ESHUTDOWN : d->inner->ops->write_nowait(d->inner, buf, len, off);
	pthread_rwlock_unlock(&d->io);
	if (!rc)
		__atomic_fetch_add(&d->wr, len, __ATOMIC_RELAXED);
	return rc;
}

static int w_write(struct fb_blockdev *bd, const void *buf, uint64_t len, uint64_t off,
                   unsigned flags)
{
	struct sd_disk *d = bd->priv;
	int rc = WITH_IO(d, d->inner->ops->write(d->inner, buf, len, off, flags));
	if (!rc)
		__atomic_fetch_add(&d->wr, len, __ATOMIC_RELAXED);
	return rc;
}

static int w_flush(struct fb_blockdev *bd)
{
	struct sd_disk *d = bd->priv;
	return WITH_IO(d, d->inner->ops->flush(d->inner));
}

static int w_trim(struct fb_blockdev *bd, uint64_t len, uint64_t off, unsigned flags)
{
	struct sd_disk *d = bd->priv;
	return WITH_IO(d, d->inner->ops->trim(d->inner, len, off, flags));
}

static int w_zero(struct fb_blockdev *bd, uint64_t len, uint64_t off, unsigned flags)
{
	struct sd_disk *d = bd->priv;
	return WITH_IO(d, d->inner->ops->zero(d->inner, len, off, flags));
}

int sd_extents(struct sd_disk *d, uint64_t len, uint64_t off, cow_extent_fn fn, void *arg)
{
	return WITH_IO(d, d->ovl ? cow_ovl_extents(d->ovl, len, off, fn, arg) : -EOPNOTSUPP);
}

static void w_close(struct fb_blockdev *bd)
{
	/* Front ends release through sd_release(); nothing to do here. */
}

static const struct fb_blockdev_ops wrap_ops = {
    .read = w_read,
    .read_nowait = w_read_nowait,
    .write = w_write,
    .write_nowait = w_write_nowait,
    .flush = w_flush,
    .trim = w_trim,
    .zero = w_zero,
    .close = w_close,
};

/* ---- opening a machine's disk ---- */

/* One database call of the open path, which runs without ctx->lock: the
 * call alone holds it. */
#define DB(ctx, expr)                                                                              \
	({                                                                                         \
		pthread_mutex_lock(&(ctx)->lock);                                                  \
		__typeof__(expr) r_ = (expr);                                                      \
		pthread_mutex_unlock(&(ctx)->lock);                                                \
		r_;                                                                                \
	})

/*
 * A reset asked for while the machine was connected records the boot it
 * was asked in (reset_pending = that boot + 1, see cli/cmd_overlay.c) and
 * falls due once a later boot has begun: "when its current boot ends",
 * never while the boot that was using the overlay goes on (a reconnect in
 * the same boot, after a network blip or an nbdkit restart, keeps it).
 * Any other non-zero value (an older flag) is due once the machine has
 * booted at all.
 */
int sd_reset_due(const struct fb_overlay *row, int64_t boot_seq)
{
	return row->reset_pending && boot_seq >= row->reset_pending;
}

static int base_for(struct sd_ctx *ctx, const struct fb_image *img, struct cow_base **b, char *why,
                    size_t whylen)
{
	char path[FB_PATH_LEN + 16];
	snprintf(path, sizeof(path), "%s/rootfs.img", img->dir);
	int rc = cow_base_get(img->id, path, img->sha256, ctx->verify_dir, b, why, whylen);
	if (rc == -EACCES || rc == -EPERM)
		fb_log_unreadable(path, -rc); /* a setup mistake, not a missing image */
	return rc;
}

/* Is the overlay's pinned version still what the machine's image ref
 * allows? A new version of the same image keeps the pin; another image, or
 * an explicit other version, needs an explicit reset. */
static int pin_ok(const struct fb_machine *m, const struct fb_image *pinned)
{
	char name[FB_NAME_LEN];
	int version = 0;
	if (fb_image_ref_parse(m->image, name, &version) < 0)
		return 0;
	return !strcmp(name, pinned->name) && (version == 0 || version == pinned->version);
}

/*
 * A machine set to the menu boots what was chosen in this boot's menu:
 * bootd records the chosen script as an ipxe-script event "image=REF". The
 * newest ipxe-script event decides: when it is the menu itself, nothing has
 * been chosen in this boot yet.
 */
static void menu_choice(struct sd_ctx *ctx, struct fb_machine *m)
{
	struct fb_event e;
	char ref[FB_REF_LEN], name[FB_NAME_LEN];
	int version;
	if (DB(ctx, fb_db_event_last(ctx->db, m->mac, "ipxe-script", &e)) < 0 ||
	    strncmp(e.detail, "image=", 6))
		return;
	fb_strlcpy(ref, e.detail + 6, sizeof(ref));
	ref[strcspn(ref, " ")] = 0;
	if (fb_image_ref_parse(ref, name, &version) == 0)
		fb_strlcpy(m->image, ref, sizeof(m->image));
}

/* A readonly or install machine is served its base image itself, read-only:
 * there is no overlay to keep. Returns 0 or a negative errno (why says). */
static int open_base_disk(struct sd_ctx *ctx, const struct fb_machine *m, const char *mac,
                          struct fb_blockdev **inner, char *why, size_t whylen)
{
	struct fb_image img;
	struct cow_base *base;
	int rc;
	if ((rc = DB(ctx, fb_db_image_resolve(ctx->db, m->image, &img))) < 0) {
		snprintf(why, whylen, "machine %s: image %s: %s", mac, m->image, strerror(-rc));
		return rc;
	}
	if ((rc = base_for(ctx, &img, &base, why, whylen)) < 0)
		return rc;
	*inner = cow_bdev_base(base);
	if (!*inner) {
		cow_base_put(base);
		snprintf(why, whylen, "out of memory");
		return -ENOMEM;
	}
	return 0;
}

/*
 * Before an overlay is opened: discard it when a reset has fallen due or
 * when an ephemeral machine has begun a new boot, and refuse a persistent
 * machine whose overlay file is gone (rather than attach an empty disk).
 * *have_row says whether the overlay's DB row is (still) there. Returns 0 or
 * a negative errno (why says).
 */
static int prepare_overlay(struct sd_ctx *ctx, const struct fb_machine *m, const char *mac,
                           const char *path, int64_t boot_seq, int *have_row, char *why,
                           size_t whylen)
{
	struct fb_overlay row;
	struct cow_header h;
	int ephemeral = m->mode == FB_MODE_EPHEMERAL;
	*have_row = DB(ctx, fb_db_overlay_get(ctx->db, mac, &row)) == 0;

	if (access(path, F_OK) == 0) {
		/* Decide about discarding while holding the lock, so a live
		 * holder elsewhere is never pulled from under. */
		int lfd = cow_ovl_lock(path);
		if (lfd == -EBUSY) {
			snprintf(why, whylen, "machine %s: overlay in use by another connection",
			         mac);
			return -EBUSY;
		}
		if (lfd < 0 && lfd != -ENOENT) {
			snprintf(why, whylen, "%s: %s", path, strerror(-lfd));
			return lfd;
		}
		if (lfd >= 0) {
			int rc = cow_ovl_read_header(path, &h, why, whylen);
			int due = *have_row && sd_reset_due(&row, boot_seq);
			int discard = due || (ephemeral && rc == 0 && h.boot_seq != boot_seq);
			if (rc < 0 && !due) {
				close(lfd);
				return -EUCLEAN;
			}
			if (discard) {
				log_info("%s: discarding overlay (%s)", mac,
				         due ? "reset requested" : "ephemeral, new boot");
				cow_ovl_discard(path, lfd);
				DB(ctx, fb_db_overlay_delete(ctx->db, mac));
				*have_row = 0;
			} else {
				close(lfd);
			}
		}
	} else if (*have_row && !row.reset_pending && !ephemeral) {
		snprintf(why, whylen,
		         "machine %s: its overlay %s is missing; refusing to attach an empty disk "
		         "(fleetboot overlay reset %s starts afresh)",
		         mac, path, mac);
		return -EIO;
	} else if (*have_row) {
		DB(ctx, fb_db_overlay_delete(ctx->db, mac));
		*have_row = 0;
	}
	return 0;
}

/* The image version the overlay serves: the one an existing overlay is
 * pinned to (while the machine's image ref still allows it), else the one
 * the ref names now. Returns 0 or a negative errno (why says). */
static int resolve_pin(struct sd_ctx *ctx, const struct fb_machine *m, const char *mac,
                       const char *path, struct fb_image *img, char *why, size_t whylen)
{
	struct cow_header h;
	int rc;
	if (access(path, F_OK) != 0) {
		if ((rc = DB(ctx, fb_db_image_resolve(ctx->db, m->image, img))) < 0) {
			snprintf(why, whylen, "machine %s: image %s: %s", mac, m->image,
			         strerror(-rc));
			return rc;
		}
		return 0;
	}
	if (cow_ovl_read_header(path, &h, why, whylen) < 0)
		return -EUCLEAN;
	if (DB(ctx, fb_db_image_get_id(ctx->db, h.image_id, img)) < 0) {
		snprintf(why, whylen,
		         "machine %s: overlay pinned to image id %" PRId64 " which is gone", mac,
		         h.image_id);
		return -ESTALE;
	}
	if (!pin_ok(m, img)) {
		snprintf(why, whylen,
		         "machine %s: overlay pinned to %s@%d but the machine is set to %s "
		         "(fleetboot overlay reset %s)",
		         mac, img->name, img->version, m->image, mac);
		return -ESTALE;
	}
	return 0;
}

/* Open the overlay over img's base, creating it (and its DB row) when the
 * machine has none. Returns 0 or a negative errno (why says). */
static int attach_overlay(struct sd_ctx *ctx, const char *mac, const char *path,
                          const struct fb_image *img, int64_t boot_seq, int have_row,
                          struct cow_ovl **ovl, struct fb_blockdev **inner, char *why,
                          size_t whylen)
{
	struct cow_base *base = NULL;
	int rc;
	if ((rc = base_for(ctx, img, &base, why, whylen)) < 0)
		return rc;
	if (access(path, F_OK) != 0) {
		rc = cow_ovl_create(path, base->size, img->id, img->sha256, boot_seq, mac);
		if (rc < 0 && rc != -EEXIST) {
			snprintf(why, whylen, "%s: cannot create: %s", path, strerror(-rc));
			goto fail;
		}
		log_info("%s: new overlay over %s@%d", mac, img->name, img->version);
	}
	if (!have_row) {
		struct fb_overlay o = {0};
		fb_strlcpy(o.mac, mac, sizeof(o.mac));
		o.image_id = img->id;
		fb_strlcpy(o.path, path, sizeof(o.path));
		o.created = fb_now();
		o.boot_seq = boot_seq;
		if ((rc = DB(ctx, fb_db_overlay_put(ctx->db, &o))) < 0)
			log_warnx("%s: cannot record the overlay: %s", mac, strerror(-rc));
	}
	if ((rc = cow_ovl_open(path, base, 0, ovl, why, whylen)) < 0) {
		if (rc == -EACCES || rc == -EPERM)
			fb_log_unreadable(path, -rc);
		goto fail;
	}
	*inner = cow_bdev_overlay(*ovl);
	if (!*inner) {
		cow_ovl_close(*ovl);
		*ovl = NULL;
		rc = -ENOMEM;
		snprintf(why, whylen, "out of memory");
		goto fail;
	}
	return 0;
fail:
	cow_base_put(base);
	return rc;
}

/* A persistent or ephemeral machine is served its overlay: prepared,
 * pinned, then attached. Returns 0 or a negative errno (why says). */
static int open_overlay_disk(struct sd_ctx *ctx, const struct fb_machine *m, const char *mac,
                             int64_t boot_seq, struct cow_ovl **ovl, struct fb_blockdev **inner,
                             char *why, size_t whylen)
{
	char path[FB_PATH_LEN];
	struct fb_image img;
	int have_row, rc;
	sd_overlay_path(&ctx->cfg, mac, path, sizeof(path));
	if ((rc = prepare_overlay(ctx, m, mac, path, boot_seq, &have_row, why, whylen)) < 0)
		return rc;
	if ((rc = resolve_pin(ctx, m, mac, path, &img, why, whylen)) < 0)
		return rc;
	return attach_overlay(ctx, mac, path, &img, boot_seq, have_row, ovl, inner, why, whylen);
}

/* Open a machine's disk as its mode says and wrap it in the counting
 * device the front ends serve. Runs without ctx->lock (each database call
 * takes it), with mac marked as opening. NULL with errno set and why filled
 * on failure. */
static struct sd_disk *open_disk(struct sd_ctx *ctx, const char *mac, char *why, size_t whylen)
{
	struct fb_machine m;
	struct cow_ovl *ovl = NULL;
	struct fb_blockdev *inner = NULL;
	int64_t boot_seq = 0;
	int rc;

	if ((rc = DB(ctx, fb_db_machine_get(ctx->db, mac, &m))) < 0) {
		snprintf(why, whylen, "unknown machine %s", mac);
		errno = -rc;
		return NULL;
	}
	DB(ctx, fb_db_machine_boot_seq(ctx->db, mac, &boot_seq));
	if (!strcmp(m.image, "menu"))
		menu_choice(ctx, &m);
	if (!m.image[0] || !strcmp(m.image, "menu")) {
		snprintf(why, whylen, "machine %s has no image assigned", mac);
		errno = ENOENT;
		return NULL;
	}
	if (m.mode == FB_MODE_READONLY || m.mode == FB_MODE_INSTALL)
		rc = open_base_disk(ctx, &m, mac, &inner, why, whylen);
	else
		rc = open_overlay_disk(ctx, &m, mac, boot_seq, &ovl, &inner, why, whylen);
	if (rc < 0) {
		errno = -rc;
		return NULL;
	}
	struct sd_disk *d = calloc(1, sizeof(*d));
	if (!d) {
		inner->ops->close(inner);
		snprintf(why, whylen, "out of memory");
		errno = ENOMEM;
		return NULL;
	}
	d->inner = inner;
	d->ovl = ovl;
	d->boot_seq = boot_seq;
	pthread_rwlock_init(&d->io, NULL);
	d->bd = *inner;
	d->bd.ops = &wrap_ops;
	d->bd.priv = d;
	fb_strlcpy(d->mac, mac, sizeof(d->mac));
	d->mode = m.mode;
	return d;
}

static struct sd_opening **opening_of(struct sd_ctx *ctx, const char *mac)
{
	struct sd_opening **p = &ctx->opening;
	while (*p && strcmp((*p)->mac, mac))
		p = &(*p)->next;
	return p;
}

/* Mark mac busy (being opened or closed); called with ctx->lock. Another
 * sd_open of mac waits until busy_end. */
static void busy_begin(struct sd_ctx *ctx, struct sd_opening *me, const char *mac)
{
	me->next = NULL;
	fb_strlcpy(me->mac, mac, sizeof(me->mac));
	*opening_of(ctx, mac) = me;
}

/* Called with ctx->lock. */
static void busy_end(struct sd_ctx *ctx, struct sd_opening *me)
{
	struct sd_opening **p = opening_of(ctx, me->mac);
	*p = me->next;
	pthread_cond_broadcast(&ctx->opened);
}

/* Take d off the list of open disks; ctx->lock. */
static void unlist(struct sd_ctx *ctx, struct sd_disk *d)
{
	for (struct sd_disk **p = &ctx->disks; *p; p = &(*p)->next)
		if (*p == d) {
			*p = d->next;
			break;
		}
}

/*
 * A machine that starts a new boot while a connection of its previous boot
 * still holds its disk powered off or reset without disconnecting: that
 * connection is dead, only TCP does not know it yet. Retire the disk it
 * holds (flush, close, I/O on it fails from now on) so the new boot gets a
 * fresh open, with the ephemeral discard that a new boot implies. Runs
 * without ctx->lock (the flush may wait for fsyncs), with the machine
 * marked busy and d off the list; the caller holds a reference to d so the
 * stale connection's release cannot free it meanwhile.
 */
static void retire_stale(struct sd_ctx *ctx, struct sd_disk *d, int64_t now_seq)
{
	pthread_rwlock_wrlock(&d->io);
	d->inner->ops->flush(d->inner);
	if (d->ovl)
		DB(ctx, fb_db_overlay_set_bytes(ctx->db, d->mac, (int64_t)cow_ovl_bytes(d->ovl)));
	d->inner->ops->close(d->inner);
	d->dead = 1;
	pthread_rwlock_unlock(&d->io);
	log_info("%s: boot %" PRId64 " started: the connection left from boot %" PRId64
	         " is stale, its disk is closed",
	         d->mac, now_seq, d->boot_seq);
}

static void disk_free(struct sd_disk *d)
{
	pthread_rwlock_destroy(&d->io);
	free(d);
}

struct sd_disk *sd_open(struct sd_ctx *ctx, const char *mac, const char *peer, char *why,
                        size_t whylen)
{
	struct sd_opening me;
	struct sd_disk *d, *stale;
	int64_t boot_seq;
	pthread_mutex_lock(&ctx->lock);
	for (;;) {
		boot_seq = 0;
		fb_db_machine_boot_seq(ctx->db, mac, &boot_seq);
		for (d = ctx->disks; d; d = d->next)
			if (!strcmp(d->mac, mac))
				break;
		if (d && d->boot_seq == boot_seq) {
			d->refs++;
			pthread_mutex_unlock(&ctx->lock);
			return d;
		}
		/* Another connection of this machine is opening or closing its
		 * disk: wait for it, then share what it opened (or try again). */
		if (!*opening_of(ctx, mac))
			break;
		pthread_cond_wait(&ctx->opened, &ctx->lock);
	}
	busy_begin(ctx, &me, mac);
	stale = d;
	if (stale) {
		unlist(ctx, stale);
		stale->refs++;
	}
	pthread_mutex_unlock(&ctx->lock);

	/* The file work (a stale disk's flush, an overlay's creation and its
	 * fsyncs, loading its map) runs beside other machines' opens. */
	if (stale)
		retire_stale(ctx, stale, boot_seq);
	d = open_disk(ctx, mac, why, whylen);
	int e = errno;

	pthread_mutex_lock(&ctx->lock);
	if (stale) {
		ctx->closed_rd += stale->rd;
		ctx->closed_wr += stale->wr;
		if (--stale->refs > 0)
			stale = NULL; /* its connection frees it on release */
	}
	if (d) {
		d->refs = 1;
		fb_strlcpy(d->peer, peer ? peer : "", sizeof(d->peer));
		d->next = ctx->disks;
		ctx->disks = d;
	}
	busy_end(ctx, &me);
	pthread_mutex_unlock(&ctx->lock);
	if (stale)
		disk_free(stale);
	errno = e;
	return d;
}

static void set_machine_status(struct sd_ctx *ctx, const struct sd_disk *d, int connected)
{
	char key[96], val[256];
	snprintf(key, sizeof(key), "storaged.machine.%s", d->mac);
	if (connected)
		snprintf(val, sizeof(val),
		         "%s connected peer=%s mode=%s read=%" PRIu64 " written=%" PRIu64
		         " overlay=%" PRIu64,
		         fb_protocol_name(ctx->proto), d->peer, fb_mode_name(d->mode),
		         __atomic_load_n(&d->rd, __ATOMIC_RELAXED),
		         __atomic_load_n(&d->wr, __ATOMIC_RELAXED),
		         d->ovl ? cow_ovl_bytes(d->ovl) : 0);
	else
		snprintf(val, sizeof(val), "disconnected");
	fb_db_status_set(ctx->db, key, val);
}

void sd_release(struct sd_ctx *ctx, struct sd_disk *d)
{
	struct sd_opening me;
	struct fb_overlay row;
	char path[FB_PATH_LEN];

	pthread_mutex_lock(&ctx->lock);
	if (--d->refs > 0) {
		pthread_mutex_unlock(&ctx->lock);
		return;
	}
	if (d->dead) {
		/* Retired by a newer boot: already closed and unlisted. */
		pthread_mutex_unlock(&ctx->lock);
		disk_free(d);
		return;
	}
	unlist(ctx, d);
	ctx->closed_rd += d->rd;
	ctx->closed_wr += d->wr;
	/* The close (its flush and fsyncs) runs without ctx->lock, the machine
	 * marked busy so its next open waits for it: a lab's machines
	 * disconnecting at once do not queue every other attach behind their
	 * fsyncs. */
	busy_begin(ctx, &me, d->mac);
	pthread_mutex_unlock(&ctx->lock);

	if (d->ovl)
		DB(ctx, fb_db_overlay_set_bytes(ctx->db, d->mac, (int64_t)cow_ovl_bytes(d->ovl)));
	pthread_mutex_lock(&ctx->lock);
	set_machine_status(ctx, d, 0);
	pthread_mutex_unlock(&ctx->lock);
	int had_ovl = d->ovl != NULL;
	d->inner->ops->close(d->inner);
	/* A reset requested during an earlier boot happens now. */
	int64_t now_seq = 0;
	DB(ctx, fb_db_machine_boot_seq(ctx->db, d->mac, &now_seq));
	if (had_ovl && DB(ctx, fb_db_overlay_get(ctx->db, d->mac, &row)) == 0 &&
	    sd_reset_due(&row, now_seq)) {
		sd_overlay_path(&ctx->cfg, d->mac, path, sizeof(path));
		int lfd = cow_ovl_lock(path);
		if (lfd >= 0 || lfd == -ENOENT) {
			cow_ovl_discard(path, lfd);
			DB(ctx, fb_db_overlay_delete(ctx->db, d->mac));
			log_info("%s: overlay discarded (pending reset)", d->mac);
		}
	}
	pthread_mutex_lock(&ctx->lock);
	busy_end(ctx, &me);
	pthread_mutex_unlock(&ctx->lock);
	disk_free(d);
}

int sd_connections(struct sd_ctx *ctx)
{
	int n = 0;
	pthread_mutex_lock(&ctx->lock);
	for (struct sd_disk *d = ctx->disks; d; d = d->next)
		n += d->refs;
	pthread_mutex_unlock(&ctx->lock);
	return n;
}

void sd_report(struct sd_ctx *ctx)
{
	char key[64], val[64];
	uint64_t rd, wr;
	int n = 0, machines = 0;

	pthread_mutex_lock(&ctx->lock);
	rd = ctx->closed_rd;
	wr = ctx->closed_wr;
	fb_db_begin(ctx->db);
	for (struct sd_disk *d = ctx->disks; d; d = d->next) {
		n += d->refs;
		machines++;
		rd += __atomic_load_n(&d->rd, __ATOMIC_RELAXED);
		wr += __atomic_load_n(&d->wr, __ATOMIC_RELAXED);
		set_machine_status(ctx, d, 1);
		if (d->ovl)
			fb_db_overlay_set_bytes(ctx->db, d->mac, (int64_t)cow_ovl_bytes(d->ovl));
	}
#define PUT(name, fmt, v)                                                                          \
	do {                                                                                       \
		snprintf(key, sizeof(key), "storaged.%s.%s", fb_protocol_name(ctx->proto), name);  \
		snprintf(val, sizeof(val), fmt, v);                                                \
		fb_db_status_set(ctx->db, key, val);                                               \
	} while (0)
	PUT("connections", "%d", n);
	PUT("machines", "%d", machines);
	PUT("bytes_read", "%" PRIu64, rd);
	PUT("bytes_written", "%" PRIu64, wr);
	PUT("updated", "%" PRId64, fb_now());
#undef PUT
	fb_db_commit(ctx->db);
	pthread_mutex_unlock(&ctx->lock);
}

int sd_event(struct sd_ctx *ctx, const char *mac, const char *stage, const char *detail)
{
	pthread_mutex_lock(&ctx->lock);
	int rc = fb_db_event_add(ctx->db, mac, stage, detail);
	if (rc < 0)
		log_warnx("%s: cannot record event %s: %s", mac, stage, fb_db_errmsg(ctx->db));
	pthread_mutex_unlock(&ctx->lock);
	return rc < 0 ? -1 : 0;
}
