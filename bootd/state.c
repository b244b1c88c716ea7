/*
 * state.c - bootd's in-memory tables: the machine/image cache (an immutable
 * snapshot rebuilt by the writer thread and swapped in whole) and the DHCP
 * clients (leases), hashed by MAC and by address.
 *
 * DHCP runs from memory only, so a slow disk or a locked database never
 * delays an answer; HTTP reads the same tables to decide who is asking.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bootd.h"
#include "clock.h"
#include "log.h"
#include "str.h"

#define MAX_CLIENTS (1u << 21) /* about 2 million DHCP clients remembered */

static size_t hash_mac(const uint8_t mac[6], size_t n)
{
	uint64_t h = 1469598103934665603ull;
	for (int i = 0; i < 6; i++)
		h = (h ^ mac[i]) * 1099511628211ull;
	return (size_t)(h % n);
}

static size_t hash_ip(struct in_addr ip, size_t n)
{
	uint64_t h = (uint64_t)ntohl(ip.s_addr) * 0x9e3779b97f4a7c15ull;
	return (size_t)((h >> 20) % n);
}

int state_init(struct bootd_state *s)
{
	memset(s, 0, sizeof(*s));
	if (pthread_rwlock_init(&s->lock, NULL))
		return -1;
	s->c_nbuckets = 1 << 16;
	s->c_by_mac = calloc(s->c_nbuckets, sizeof(*s->c_by_mac));
	s->c_by_ip = calloc(s->c_nbuckets, sizeof(*s->c_by_ip));
	return s->c_by_mac && s->c_by_ip ? 0 : -1;
}

void state_free(struct bootd_state *s)
{
	for (size_t i = 0; i < s->c_nbuckets; i++) {
		struct bootd_client *c = s->c_by_mac[i], *n;
		for (; c; c = n) {
			n = c->next_mac;
			free(c);
		}
	}
	free(s->c_by_mac);
	free(s->c_by_ip);
	free(s->declined);
	cache_free(s->cache);
	pthread_rwlock_destroy(&s->lock);
}

/* ---- machine and image cache ------------------------------------------- */

struct load_ctx {
	struct bootd_cache *c;
	size_t cap;
	int failed;
	struct fb_db *db;
};

/* Installed: the machine's newest install event is "installed", not an
 * admin's "install-pending" after it. Stages move on with every boot, so
 * the events, not the current stage, say it. */
static int install_done(struct fb_db *db, const char *mac)
{
	struct fb_event done, pending;
	if (fb_db_event_last(db, mac, "installed", &done) < 0)
		return 0;
	if (fb_db_event_last(db, mac, "install-pending", &pending) == 0 && pending.id > done.id)
		return 0;
	return 1;
}

static int load_machine(void *arg, const struct fb_machine *m)
{
	struct load_ctx *x = arg;
	struct bootd_cache *c = x->c;
	if (c->n_machines == x->cap) {
		size_t n = x->cap ? x->cap * 2 : 64;
		void *p = realloc(c->machines, n * sizeof(*c->machines));
		if (!p) {
			x->failed = 1;
			return 1;
		}
		c->machines = p;
		x->cap = n;
	}
	struct bootd_machine *bm = &c->machines[c->n_machines];
	memset(bm, 0, sizeof(*bm));
	if (mac_parse(m->mac, bm->mac))
		return 0;
	fb_strlcpy(bm->macid, m->mac, sizeof(bm->macid));
	bm->installed = m->mode == FB_MODE_INSTALL && install_done(x->db, m->mac);
	fb_strlcpy(bm->image, m->image, sizeof(bm->image));
	bm->mode = m->mode;
	bm->protocol = m->protocol;
	bm->registered = m->registered;
	fb_strlcpy(bm->next_boot, m->next_boot, sizeof(bm->next_boot));
	bm->secure_boot = !strcmp(m->secure_boot, "on");
	bm->pxelinux = !strcmp(m->loader, "pxelinux");
	fb_strlcpy(bm->menu_default, m->menu_default, sizeof(bm->menu_default));
	bm->menu_timeout = m->menu_timeout;
	c->n_registered += m->registered != 0;
	if (m->ip[0])
		ip4_parse(m->ip, &bm->ip);
	c->n_machines++;
	return 0;
}

static int load_image(void *arg, const struct fb_image *img)
{
	struct load_ctx *x = arg;
	struct bootd_cache *c = x->c;
	if (c->n_images == x->cap) {
		size_t n = x->cap ? x->cap * 2 : 16;
		void *p = realloc(c->images, n * sizeof(*c->images));
		if (!p) {
			x->failed = 1;
			return 1;
		}
		c->images = p;
		x->cap = n;
	}
	struct bootd_image *bi = &c->images[c->n_images++];
	fb_strlcpy(bi->name, img->name, sizeof(bi->name));
	bi->version = img->version;
	bi->ready = !strcmp(img->state, "ready");
	fb_strlcpy(bi->dir, img->dir, sizeof(bi->dir));
	fb_strlcpy(bi->cmdline, img->cmdline, sizeof(bi->cmdline));
	fb_strlcpy(bi->verity_root_hash, img->verity_root_hash, sizeof(bi->verity_root_hash));
	fb_strlcpy(bi->verity_salt, img->verity_salt, sizeof(bi->verity_salt));
	bi->has_uki = img->uki_sha256[0] != '\0';
	fb_strlcpy(bi->uki_sha256, img->uki_sha256, sizeof(bi->uki_sha256));
	bi->disk = fb_image_is_disk(img);
	return 0;
}

static int load_entry(void *arg, const struct fb_entry *e)
{
	struct load_ctx *x = arg;
	struct bootd_cache *c = x->c;
	if (c->n_entries == x->cap) {
		size_t n = x->cap ? x->cap * 2 : 16;
		void *p = realloc(c->entries, n * sizeof(*c->entries));
		if (!p) {
			x->failed = 1;
			return 1;
		}
		c->entries = p;
		x->cap = n;
	}
	struct bootd_entry *be = &c->entries[c->n_entries++];
	memset(be, 0, sizeof(*be));
	fb_strlcpy(be->name, e->name, sizeof(be->name));
	be->kind = e->kind;
	fb_strlcpy(be->title, e->title, sizeof(be->title));
	fb_strlcpy(be->boot_url, e->boot_url, sizeof(be->boot_url));
	fb_strlcpy(be->initrd_url, e->initrd_url, sizeof(be->initrd_url));
	be->has_initrd = e->has_initrd;
	fb_strlcpy(be->cmdline, e->cmdline, sizeof(be->cmdline));
	return 0;
}

int cache_index(struct bootd_cache *c)
{
	c->nbuckets = c->n_machines * 2 + 1;
	c->by_mac = calloc(c->nbuckets, sizeof(*c->by_mac));
	c->by_ip = calloc(c->nbuckets, sizeof(*c->by_ip));
	if (!c->by_mac || !c->by_ip)
		return -1;
	for (size_t i = 0; i < c->n_machines; i++) {
		struct bootd_machine *m = &c->machines[i];
		size_t h = hash_mac(m->mac, c->nbuckets);
		m->next_mac = c->by_mac[h];
		c->by_mac[h] = m;
		if (m->ip.s_addr) {
			h = hash_ip(m->ip, c->nbuckets);
			m->next_ip = c->by_ip[h];
			c->by_ip[h] = m;
		}
	}
	return 0;
}

struct bootd_cache *cache_load(struct fb_db *db)
{
	struct bootd_cache *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	struct load_ctx x = {c, 0, 0, db};
	int rc = fb_db_machine_list(db, load_machine, &x);
	if (rc < 0 || x.failed)
		goto fail;
	x.cap = 0;
	rc = fb_db_image_list(db, NULL, load_image, &x);
	if (rc < 0 || x.failed)
		goto fail;
	x.cap = 0;
	rc = fb_db_entry_list(db, load_entry, &x);
	if (rc < 0 || x.failed)
		goto fail;
	if (cache_index(c) < 0)
		goto fail;
	return c;
fail:
	if (rc < 0)
		log_warnx("cannot read machines, images and entries: %s", fb_db_errmsg(db));
	cache_free(c);
	return NULL;
}

void cache_free(struct bootd_cache *c)
{
	if (!c)
		return;
	free(c->machines);
	free(c->images);
	free(c->entries);
	free(c->by_mac);
	free(c->by_ip);
	free(c);
}

void state_set_cache(struct bootd_state *s, struct bootd_cache *c)
{
	pthread_rwlock_wrlock(&s->lock);
	struct bootd_cache *old = s->cache;
	s->cache = c;
	pthread_rwlock_unlock(&s->lock);
	cache_free(old);
}

const struct bootd_machine *cache_machine(const struct bootd_cache *c, const uint8_t mac[6])
{
	if (!c || !c->nbuckets)
		return NULL;
	for (const struct bootd_machine *m = c->by_mac[hash_mac(mac, c->nbuckets)]; m;
	     m = m->next_mac)
		if (!memcmp(m->mac, mac, 6))
			return m;
	return NULL;
}

const struct bootd_machine *cache_machine_by_ip(const struct bootd_cache *c, struct in_addr ip)
{
	if (!c || !c->nbuckets)
		return NULL;
	for (const struct bootd_machine *m = c->by_ip[hash_ip(ip, c->nbuckets)]; m; m = m->next_ip)
		if (m->ip.s_addr == ip.s_addr)
			return m;
	return NULL;
}

const struct bootd_image *cache_image(const struct bootd_cache *c, const char *name, int version)
{
	/* version 0: the newest ready version. */
	const struct bootd_image *best = NULL;
	if (!c)
		return NULL;
	for (size_t i = 0; i < c->n_images; i++) {
		const struct bootd_image *im = &c->images[i];
		if (strcmp(im->name, name))
			continue;
		if (version && im->version == version)
			return im;
		if (!version && im->ready && (!best || im->version > best->version))
			best = im;
	}
	return best;
}

const struct bootd_entry *cache_entry(const struct bootd_cache *c, const char *name)
{
	for (size_t i = 0; c && i < c->n_entries; i++)
		if (!strcmp(c->entries[i].name, name))
			return &c->entries[i];
	return NULL;
}

/* ---- clients (leases) -------------------------------------------------- */

struct bootd_client *client_get(struct bootd_state *s, const uint8_t mac[6], int create)
{
	size_t h = hash_mac(mac, s->c_nbuckets);
	for (struct bootd_client *c = s->c_by_mac[h]; c; c = c->next_mac)
		if (!memcmp(c->mac, mac, 6))
			return c;
	if (!create)
		return NULL;
	/* A flood of made-up MACs must not grow memory without bound. */
	if (s->n_clients >= MAX_CLIENTS)
		return NULL;
	struct bootd_client *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL; /* this request is dropped; the daemon goes on */
	memcpy(c->mac, mac, 6);
	c->next_mac = s->c_by_mac[h];
	s->c_by_mac[h] = c;
	s->n_clients++;
	return c;
}

struct bootd_client *client_by_ip(struct bootd_state *s, struct in_addr ip)
{
	if (!ip.s_addr)
		return NULL;
	for (struct bootd_client *c = s->c_by_ip[hash_ip(ip, s->c_nbuckets)]; c; c = c->next_ip)
		if (c->ip.s_addr == ip.s_addr)
			return c;
	return NULL;
}

void client_set_ip(struct bootd_state *s, struct bootd_client *cl, struct in_addr ip)
{
	if (cl->ip.s_addr == ip.s_addr)
		return;
	if (cl->ip.s_addr) {
		struct bootd_client **pp = &s->c_by_ip[hash_ip(cl->ip, s->c_nbuckets)];
		for (; *pp; pp = &(*pp)->next_ip)
			if (*pp == cl) {
				*pp = cl->next_ip;
				break;
			}
		cl->next_ip = NULL;
	}
	cl->ip = ip;
	if (ip.s_addr) {
		size_t h = hash_ip(ip, s->c_nbuckets);
		cl->next_ip = s->c_by_ip[h];
		s->c_by_ip[h] = cl;
	}
}

static int load_lease(void *arg, const struct fb_lease *l)
{
	struct bootd_state *s = arg;
	uint8_t mac[6];
	struct in_addr ip;
	if (mac_parse(l->mac, mac) || ip4_parse(l->ip, &ip))
		return 0;
	if (strcmp(l->state, "bound"))
		return 0; /* offers, releases and declines do not survive */
	struct bootd_client *prev = client_by_ip(s, ip);
	if (prev)
		return 0;
	struct bootd_client *c = client_get(s, mac, 1);
	if (!c)
		return 1;
	client_set_ip(s, c, ip);
	c->expires = l->expires;
	c->state = LEASE_BOUND;
	fb_strlcpy(c->hostname, l->hostname, sizeof(c->hostname));
	return 0;
}

int state_load_leases(struct bootd_state *s, struct fb_db *db)
{
	pthread_rwlock_wrlock(&s->lock);
	int rc = fb_db_lease_list(db, load_lease, s);
	pthread_rwlock_unlock(&s->lock);
	return rc < 0 ? -1 : 0;
}

void state_mark_script_served(struct bootd_state *s, const uint8_t mac[6])
{
	pthread_rwlock_wrlock(&s->lock);
	struct bootd_client *c = client_get(s, mac, 0);
	if (c)
		c->script_served = 1;
	pthread_rwlock_unlock(&s->lock);
}

int state_mac_of_ip(struct bootd_state *s, struct in_addr ip, uint8_t mac[6])
{
	int rc = -1;
	pthread_rwlock_rdlock(&s->lock);
	struct bootd_client *c = client_by_ip(s, ip);
	if (c && c->state == LEASE_BOUND && c->expires >= fb_now()) {
		memcpy(mac, c->mac, 6);
		rc = 0;
	} else {
		const struct bootd_machine *m = cache_machine_by_ip(s->cache, ip);
		if (m) {
			memcpy(mac, m->mac, 6);
			rc = 0;
		}
	}
	pthread_rwlock_unlock(&s->lock);
	return rc;
}

int state_ip_held_by(struct bootd_state *s, struct in_addr ip, const uint8_t mac[6])
{
	int held = 0;
	if (!ip.s_addr)
		return 0;
	pthread_rwlock_rdlock(&s->lock);
	const struct bootd_machine *m = cache_machine(s->cache, mac);
	if (m && m->ip.s_addr == ip.s_addr) {
		held = 1;
	} else {
		struct bootd_client *c = client_get(s, mac, 0);
		held = c && c->ip.s_addr == ip.s_addr && c->state == LEASE_BOUND &&
		       c->expires >= fb_now();
	}
	pthread_rwlock_unlock(&s->lock);
	return held;
}
