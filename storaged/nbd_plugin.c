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
 * what makes advertising multi-conn honest. A machine may hold at most
 * [storaged] nbd_conns_per_machine connections; one more is refused at
 * open, with a log line at most every 10 s.
 *
 * Logs never hold the export name (it carries the credential): the
 * machine is named by its MACID, and the text of a name that is no
 * MACID.CREDENTIAL is not logged at all. verbose=1 (storaged -vv) logs
 * each connection, by MACID.
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
static int verbose;

struct conn {
	struct sd_disk *d;
	char mac[FB_MACID_LEN]; /* counted in conns_of */
};

/* Open connections per machine, for nbd_conns_per_machine. A short list:
 * machines with a connection open now. */
struct mac_count {
	char mac[FB_MACID_LEN];
	unsigned n;
	struct mac_count *next;
};
static struct mac_count *conns_of;
static pthread_mutex_t conns_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t conns_refused;
static time_t conns_logged;

/* Count one more connection of mac unless it has cap already. 0, or
 * -EMFILE over the cap (logged, rate-limited), -ENOMEM. */
static int conn_count_take(const char *mac, const char *peer, unsigned cap)
{
	pthread_mutex_lock(&conns_lock);
	struct mac_count *m = conns_of;
	while (m && strcmp(m->mac, mac))
		m = m->next;
	int rc = 0;
	if (m && m->n >= cap) {
		time_t now = time(NULL);
		conns_refused++;
		if (!conns_logged || now - conns_logged >= 10) {
			nbdkit_error("refused export for %s from %s: %u connections open, the cap "
			             "(nbd_conns_per_machine); %llu refused over caps so far",
			             mac, peer, m->n, (unsigned long long)conns_refused);
			conns_logged = now;
		}
		rc = -EMFILE;
	} else if (!m) {
		m = calloc(1, sizeof(*m));
		if (!m) {
			rc = -ENOMEM;
		} else {
			fb_strlcpy(m->mac, mac, sizeof(m->mac));
			m->n = 1;
			m->next = conns_of;
			conns_of = m;
		}
	} else {
		m->n++;
	}
	pthread_mutex_unlock(&conns_lock);
	return rc;
}

static void conn_count_drop(const char *mac)
{
	pthread_mutex_lock(&conns_lock);
	for (struct mac_count **pp = &conns_of; *pp; pp = &(*pp)->next) {
		struct mac_count *m = *pp;
		if (strcmp(m->mac, mac))
			continue;
		if (--m->n == 0) {
			*pp = m->next;
			free(m);
		}
		break;
	}
	pthread_mutex_unlock(&conns_lock);
}

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
	if (!strcmp(key, "verbose")) {
		verbose = !strcmp(value, "1");
		return 0;
	}
	nbdkit_error("unknown parameter '%s' (only config=FILE, verbose=1)", key);
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
	log_init("nbdkit-fleetboot", 1, verbose);
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
	/* A verified machine's initramfs asks for TLS; a plain connection
	 * for it is someone else (or a downgrade) and gets nothing. */
	if (sd_machine_secure_boot(ctx, macid) && nbdkit_is_tls() != 1) {
		nbdkit_error("refused export for %s from %s: a Secure Boot machine's root is "
		             "served over TLS only",
		             macid, peer);
		nbdkit_set_error(EACCES);
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		nbdkit_error("out of memory");
		return NULL;
	}
	rc = conn_count_take(macid, peer, cfg.nbd_conns_per_machine);
	if (rc < 0) {
		nbdkit_set_error(rc == -EMFILE ? EAGAIN : ENOMEM);
		free(c);
		return NULL;
	}
	fb_strlcpy(c->mac, macid, sizeof(c->mac));
	c->d = sd_open(ctx, macid, peer, why, sizeof(why));
	if (!c->d) {
		int e = errno;
		nbdkit_error("refused export for %s from %s: %s", macid, peer, why);
		nbdkit_set_error(e);
		conn_count_drop(c->mac);
		free(c);
		return NULL;
	}
	log_debug("NBD: %s connected from %s (%s)", macid, peer, fb_mode_name(c->d->mode));
	return c;
}

static void fb_close(void *h)
{
	struct conn *c = h;
	sd_release(ctx, c->d);
	conn_count_drop(c->mac);
	log_debug("NBD: %s disconnected", c->mac);
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
    .config_help = "config=FILE   fleetboot.conf (default /etc/fleetboot/fleetboot.conf)\n"
                   "verbose=1     log each connection (by MACID only)",
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

/* What NBDKIT_REGISTER_PLUGIN defines (declared for -Wmissing-prototypes;
 * tests/fuzz/fuzz_nbd_open.c calls it too). */
struct nbdkit_plugin *plugin_init(void);
NBDKIT_REGISTER_PLUGIN(plugin)
