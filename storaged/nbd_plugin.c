/*
 * nbd_plugin.c - nbdkit-fleetboot-plugin.so: serves each machine's
 * copy-on-write disk over NBD. nbdkit does the protocol (negotiation,
 * structured replies, block status, multi-conn); this file decides who gets
 * which disk and keeps the durability promises (FLUSH and FUA native).
 *
 *   nbdkit fleetboot config=/etc/fleetboot/fleetboot.conf
 *
 * Export name MACID.SECRET. An unknown machine, a wrong secret or (with
 * require_lease_ip) a peer that does not hold the machine's lease or
 * reserved address is refused at negotiation, and logged.
 *
 * Connections of one machine share one opened disk (disk.c), so a flush on
 * any of them makes every connection's completed writes durable: that is
 * what makes advertising multi-conn honest.
 */
#define NBDKIT_API_VERSION 2
#include <nbdkit-plugin.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "netaddr.h"
#include "stateperm.h"
#include "storaged/disk.h"
#include "str.h"

#define THREAD_MODEL NBDKIT_THREAD_MODEL_PARALLEL

static char *conf_path;
static struct fb_config cfg;
static struct sd_ctx *ctx;
static pthread_t status_thread;
static int status_running;
static pthread_mutex_t status_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t status_cond = PTHREAD_COND_INITIALIZER;
static int status_stop;

struct conn {
	struct sd_disk *d;
};

static void fb_unload(void)
{
	if (status_running) {
		pthread_mutex_lock(&status_lock);
		status_stop = 1;
		pthread_cond_signal(&status_cond);
		pthread_mutex_unlock(&status_lock);
		pthread_join(status_thread, NULL);
		status_running = 0;
	}
	if (ctx)
		sd_report(ctx);
	sd_free(ctx);
	ctx = NULL;
	free(conf_path);
}

static int fb_config(const char *key, const char *value)
{
	if (!strcmp(key, "config")) {
		free(conf_path);
		conf_path = nbdkit_realpath(value);
		return conf_path ? 0 : -1;
	}
	nbdkit_error("unknown parameter '%s' (only config=FILE)", key);
	return -1;
}

static int fb_config_complete(void)
{
	char err[512];
	if (fb_config_load(&cfg, conf_path, conf_path != NULL, err, sizeof(err)) < 0) {
		nbdkit_error("%s", err);
		return -1;
	}
	return 0;
}

static int fb_get_ready(void)
{
	char why[512];
	/* nbdkit sets umask 022 for its plugins; overlays and the database's
	 * WAL are the service's alone. */
	fb_umask_private();
	log_init("nbdkit-fleetboot", 1, 0);
	ctx = sd_new(&cfg, FB_PROTOCOL_NBD, why, sizeof(why));
	if (!ctx) {
		nbdkit_error("%s", why);
		return -1;
	}
	return 0;
}

/* Status for `fleetboot status`: every 5 s, and at the end. */
static void *status_main(void *arg)
{
	pthread_mutex_lock(&status_lock);
	while (!status_stop) {
		struct timespec ts;
		pthread_mutex_unlock(&status_lock);
		sd_report(ctx);
		pthread_mutex_lock(&status_lock);
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += 5;
		if (!status_stop)
			pthread_cond_timedwait(&status_cond, &status_lock, &ts);
	}
	pthread_mutex_unlock(&status_lock);
	return NULL;
}

static int fb_after_fork(void)
{
	if (pthread_create(&status_thread, NULL, status_main, NULL) == 0)
		status_running = 1;
	return 0;
}

static void peer_address(char out[FB_IP_LEN])
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	out[0] = 0;
	if (nbdkit_peer_name((struct sockaddr *)&ss, &len) < 0)
		return;
	if (ss.ss_family == AF_INET)
		inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, out, FB_IP_LEN);
	else if (ss.ss_family == AF_INET6) {
		/* IPv4-mapped IPv6 peers compare as IPv4. */
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr))
			inet_ntop(AF_INET, &s6->sin6_addr.s6_addr[12], out, FB_IP_LEN);
		else
			fb_strlcpy(out, "ipv6", FB_IP_LEN);
	} else {
		fb_strlcpy(out, "local", FB_IP_LEN);
	}
}

static void *fb_open(int readonly)
{
	const char *name = nbdkit_export_name();
	char macid[FB_MACID_LEN], raw[64], peer[FB_IP_LEN], why[512];
	const char *dot;
	struct conn *c;
	int rc;

	peer_address(peer);
	dot = name ? strrchr(name, '.') : NULL;
	if (!dot || (size_t)(dot - name) >= sizeof(raw)) {
		nbdkit_error("refused: export name is not MACID.SECRET (peer %s)", peer);
		nbdkit_set_error(EACCES);
		return NULL;
	}
	memcpy(raw, name, (size_t)(dot - name));
	raw[dot - name] = 0;
	if (macid_normalize(raw, macid) < 0) {
		nbdkit_error("refused: export name does not start with a machine id (peer %s)",
		             peer);
		nbdkit_set_error(EACCES);
		return NULL;
	}
	/* A Unix-socket peer (tests, local tools) has no address to check. */
	rc = sd_authorize(ctx, macid, dot + 1, strcmp(peer, "local") ? peer : NULL, NULL, why,
	                  sizeof(why));
	if (rc < 0) {
		nbdkit_error("refused export for %s from %s: %s", macid, peer, why);
		nbdkit_set_error(EACCES);
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		nbdkit_error("out of memory");
		return NULL;
	}
	c->d = sd_open(ctx, macid, peer, why, sizeof(why));
	if (!c->d) {
		int e = errno;
		nbdkit_error("refused export for %s from %s: %s", macid, peer, why);
		nbdkit_set_error(e);
		free(c);
		return NULL;
	}
	nbdkit_debug("%s connected from %s (%s)", macid, peer, fb_mode_name(c->d->mode));
	return c;
}

static void fb_close(void *h)
{
	struct conn *c = h;
	sd_release(ctx, c->d);
	free(c);
}

static int64_t fb_get_size(void *h)
{
	struct conn *c = h;
	return (int64_t)c->d->bd.size;
}

static int fb_can_write(void *h)
{
	struct conn *c = h;
	return !c->d->bd.readonly;
}

static int fb_can_flush(void *h)
{
	return 1;
}

static int fb_can_fua(void *h)
{
	return NBDKIT_FUA_NATIVE;
}

static int fb_can_trim(void *h)
{
	return fb_can_write(h);
}

static int fb_can_zero(void *h)
{
	return fb_can_write(h);
}

static int fb_can_fast_zero(void *h)
{
	return fb_can_write(h);
}

static int fb_can_extents(void *h)
{
	struct conn *c = h;
	return c->d->ovl != NULL;
}

static int fb_can_multi_conn(void *h)
{
	return 1;
}

static int fb_can_cache(void *h)
{
	return NBDKIT_CACHE_NONE;
}

static int fb_block_size(void *h, uint32_t *minimum, uint32_t *preferred, uint32_t *maximum)
{
	/* Any byte range works; whole clusters avoid read-modify-write. */
	*minimum = 1;
	*preferred = COW_CLUSTER;
	*maximum = 0xffffffff;
	return 0;
}

static int fail(int rc)
{
	nbdkit_set_error(-rc);
	return -1;
}

static int fb_pread(void *h, void *buf, uint32_t count, uint64_t offset, uint32_t flags)
{
	struct conn *c = h;
	int rc = c->d->bd.ops->read(&c->d->bd, buf, count, offset);
	return rc < 0 ? fail(rc) : 0;
}

static int fb_pwrite(void *h, const void *buf, uint32_t count, uint64_t offset, uint32_t flags)
{
	struct conn *c = h;
	int rc = c->d->bd.ops->write(&c->d->bd, buf, count, offset,
	                             (flags & NBDKIT_FLAG_FUA) ? FB_BD_FUA : 0);
	return rc < 0 ? fail(rc) : 0;
}

static int fb_flush(void *h, uint32_t flags)
{
	struct conn *c = h;
	int rc = c->d->bd.ops->flush(&c->d->bd);
	return rc < 0 ? fail(rc) : 0;
}

static int fb_trim(void *h, uint32_t count, uint64_t offset, uint32_t flags)
{
	struct conn *c = h;
	int rc =
	    c->d->bd.ops->trim(&c->d->bd, count, offset, (flags & NBDKIT_FLAG_FUA) ? FB_BD_FUA : 0);
	return rc < 0 ? fail(rc) : 0;
}

static int fb_zero(void *h, uint32_t count, uint64_t offset, uint32_t flags)
{
	struct conn *c = h;
	int rc =
	    c->d->bd.ops->zero(&c->d->bd, count, offset, (flags & NBDKIT_FLAG_FUA) ? FB_BD_FUA : 0);
	return rc < 0 ? fail(rc) : 0;
}

static int add_extent(void *arg, uint64_t off, uint64_t len, int type, int base_hole)
{
	uint32_t t = 0;
	/* DATA: allocated here. ZERO: metadata only. BASE: the overlay holds
	 * nothing there (a hole of the overlay), reading zeros only where the
	 * base itself is a hole. */
	if (type == COW_ZERO)
		t = NBDKIT_EXTENT_HOLE | NBDKIT_EXTENT_ZERO;
	else if (type == COW_BASE)
		t = NBDKIT_EXTENT_HOLE | (base_hole ? NBDKIT_EXTENT_ZERO : 0);
	return nbdkit_add_extent(arg, off, len, t) < 0 ? 1 : 0;
}

static int fb_extents(void *h, uint32_t count, uint64_t offset, uint32_t flags,
                      struct nbdkit_extents *extents)
{
	struct conn *c = h;
	int rc = sd_extents(c->d, count, offset, add_extent, extents);
	return rc < 0 ? fail(rc) : 0;
}

static struct nbdkit_plugin plugin = {
    .name = "fleetboot",
    .longname = "fleetboot per-machine copy-on-write disks",
    .version = "1",
    .description = "Serves each machine's copy-on-write root disk (export MACID.SECRET).",
    .config = fb_config,
    .config_help = "config=FILE   fleetboot.conf (default /etc/fleetboot/fleetboot.conf)",
    .config_complete = fb_config_complete,
    .get_ready = fb_get_ready,
    .after_fork = fb_after_fork,
    .unload = fb_unload,
    .open = fb_open,
    .close = fb_close,
    .get_size = fb_get_size,
    .block_size = fb_block_size,
    .can_write = fb_can_write,
    .can_flush = fb_can_flush,
    .can_fua = fb_can_fua,
    .can_trim = fb_can_trim,
    .can_zero = fb_can_zero,
    .can_fast_zero = fb_can_fast_zero,
    .can_extents = fb_can_extents,
    .can_multi_conn = fb_can_multi_conn,
    .can_cache = fb_can_cache,
    .pread = fb_pread,
    .pwrite = fb_pwrite,
    .flush = fb_flush,
    .trim = fb_trim,
    .zero = fb_zero,
    .extents = fb_extents,
    .errno_is_preserved = 0,
};

NBDKIT_REGISTER_PLUGIN(plugin)
