/*
 * writer.c - the one thread that writes bootd's state to the database.
 *
 * DHCP and HTTP queue lease changes, boot events and registrations here and
 * go on at once. The thread commits whatever is queued in one transaction
 * every 100 ms (so an acknowledged lease is on disk well within a second),
 * and rebuilds the machine/image cache every second so changes made with
 * the CLI or the web UI reach DHCP and HTTP without a restart.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bootd.h"
#include "clock.h"
#include "log.h"
#include "str.h"

#define QUEUE_MAX 200000 /* beyond this, events are dropped (leases never) */

enum wop_kind { W_LEASE, W_EVENT, W_REGISTER, W_WAKE_DONE };

struct wop {
	enum wop_kind kind;
	union {
		struct fb_lease lease;
		struct {
			char mac[FB_MACID_LEN];
			char stage[24];
			char detail[256];
		} ev;
		struct {
			char mac[FB_MACID_LEN];
			char image[FB_REF_LEN];
		} reg;
		struct {
			int64_t id;
			int ok;
			char result[256];
		} wake;
	} u;
};

struct writer {
	struct bootd *b;
	struct fb_db *db;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_cond_t done_cv; /* signalled after each commit */
	uint64_t pushed;        /* operations queued, ever */
	uint64_t committed;     /* of those, committed (or given up on) */
	struct wop *q;
	size_t n, cap;
	int stop, poke;
	int sync; /* writer_sync waits: commit now (without a cache refresh) */
	size_t dropped;
	int64_t started;
};

static int push(struct writer *w, const struct wop *op)
{
	pthread_mutex_lock(&w->mu);
	if (w->n == w->cap) {
		size_t n = w->cap ? w->cap * 2 : 256;
		if (op->kind == W_EVENT && w->n >= QUEUE_MAX) {
			w->dropped++;
			pthread_mutex_unlock(&w->mu);
			return -1;
		}
		struct wop *q = realloc(w->q, n * sizeof(*q));
		if (!q) {
			w->dropped++;
			pthread_mutex_unlock(&w->mu);
			return -1;
		}
		w->q = q;
		w->cap = n;
	}
	w->q[w->n++] = *op;
	w->pushed++;
	pthread_mutex_unlock(&w->mu);
	return 0;
}

static const char *const lease_state_name[] = {"released", "offered", "bound", "released",
                                               "declined"};

void writer_lease(struct writer *w, const struct bootd_client *cl)
{
	struct wop op = {.kind = W_LEASE};
	mac_format(cl->mac, op.u.lease.mac);
	ip4_format(cl->ip, op.u.lease.ip);
	op.u.lease.expires = cl->expires;
	fb_strlcpy(op.u.lease.hostname, cl->hostname, sizeof(op.u.lease.hostname));
	fb_strlcpy(op.u.lease.state, lease_state_name[cl->state], sizeof(op.u.lease.state));
	push(w, &op);
}

void writer_event(struct writer *w, const char *macid, const char *stage, const char *detail)
{
	struct wop op = {.kind = W_EVENT};
	fb_strlcpy(op.u.ev.mac, macid, sizeof(op.u.ev.mac));
	fb_strlcpy(op.u.ev.stage, stage, sizeof(op.u.ev.stage));
	fb_strlcpy(op.u.ev.detail, detail ? detail : "", sizeof(op.u.ev.detail));
	push(w, &op);
}

int writer_register(struct writer *w, const char *macid, const char *image)
{
	struct wop op = {.kind = W_REGISTER};
	fb_strlcpy(op.u.reg.mac, macid, sizeof(op.u.reg.mac));
	fb_strlcpy(op.u.reg.image, image ? image : "", sizeof(op.u.reg.image));
	if (push(w, &op) < 0)
		return -1;
	writer_poke(w);
	return 0;
}

void writer_wake_done(struct writer *w, int64_t id, int ok, const char *result)
{
	struct wop op = {.kind = W_WAKE_DONE};
	op.u.wake.id = id;
	op.u.wake.ok = ok;
	fb_strlcpy(op.u.wake.result, result, sizeof(op.u.wake.result));
	push(w, &op);
}

/* Wait (at most timeout_ms) until everything queued before the call is
 * committed. 0, or -1 on timeout. */
int writer_sync(struct writer *w, int timeout_ms)
{
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += timeout_ms / 1000;
	until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&w->mu);
	uint64_t want = w->pushed;
	w->sync = 1;
	pthread_cond_signal(&w->cv);
	int rc = 0;
	while (w->committed < want && rc == 0)
		rc = pthread_cond_timedwait(&w->done_cv, &w->mu, &until);
	int ok = w->committed >= want;
	pthread_mutex_unlock(&w->mu);
	return ok ? 0 : -1;
}

void writer_poke(struct writer *w)
{
	pthread_mutex_lock(&w->mu);
	w->poke = 1;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

static void do_register(struct writer *w, const char *mac, const char *image)
{
	struct fb_machine m;
	if (fb_db_machine_get(w->db, mac, &m) == 0)
		return; /* registered meanwhile (or by the CLI) */
	memset(&m, 0, sizeof(m));
	fb_strlcpy(m.mac, mac, sizeof(m.mac));
	fb_strlcpy(m.image, image, sizeof(m.image));
	m.mode = FB_MODE_EPHEMERAL;
	m.protocol = FB_PROTOCOL_NBD;
	m.registered = 1;
	int rc = fb_db_machine_add(w->db, &m);
	if (rc < 0 && rc != -EEXIST)
		log_warnx("cannot register %s: %s", mac, fb_db_errmsg(w->db));
	else if (rc == 0)
		log_info("registered unknown machine %s", mac);
}

/* Commit a batch: leases together, then events and registrations, all in
 * one transaction so a batch costs one fsync. */
static int commit_batch(struct writer *w, struct wop *ops, size_t n)
{
	struct fb_lease *leases = malloc(n * sizeof(*leases));
	size_t nl = 0;
	int regs = 0;
	int rc = fb_db_begin(w->db);
	if (rc < 0) {
		log_warnx("cannot begin a transaction (will retry): %s", fb_db_errmsg(w->db));
		free(leases);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		struct wop *op = &ops[i];
		switch (op->kind) {
		case W_LEASE:
			if (leases)
				leases[nl++] = op->u.lease;
			break;
		case W_EVENT:
			if (fb_db_event_add(w->db, op->u.ev.mac, op->u.ev.stage, op->u.ev.detail) <
			    0)
				log_debug("event %s %s: %s", op->u.ev.mac, op->u.ev.stage,
				          fb_db_errmsg(w->db));
			break;
		case W_REGISTER:
			do_register(w, op->u.reg.mac, op->u.reg.image);
			regs++;
			break;
		case W_WAKE_DONE:
			if (fb_db_wake_done(w->db, op->u.wake.id, op->u.wake.ok,
			                    op->u.wake.result) < 0)
				log_warnx("wake request %lld: %s", (long long)op->u.wake.id,
				          fb_db_errmsg(w->db));
			break;
		}
	}
	if (nl && fb_db_lease_put_batch(w->db, leases, nl) < 0)
		log_warnx("cannot write %zu leases: %s", nl, fb_db_errmsg(w->db));
	free(leases);
	if (fb_db_commit(w->db) < 0)
		log_warnx("commit failed: %s", fb_db_errmsg(w->db));
	if (regs) {
		w->poke = 1;
		/* After the commit: a cache read from now on holds them. */
		__atomic_fetch_add(&w->b->reg.done, (uint64_t)regs, __ATOMIC_RELEASE);
	}
	return 0;
}

/* Liveness and counters for `fleetboot status` and the web UI. */
static void report_status(struct writer *w, int stopping)
{
	struct bootd *b = w->b;
	char val[200];
	if (stopping) {
		fb_db_status_set(w->db, "bootd.daemon", "stopped");
		return;
	}
	snprintf(val, sizeof(val), "pid=%d started=%lld dhcp=%s tftp=%s http_port=%d",
	         (int)getpid(), (long long)w->started,
	         b->cfg.dhcp == FB_DHCP_AUTHORITATIVE ? "authoritative"
	         : b->cfg.dhcp == FB_DHCP_PROXY       ? "proxy"
	                                              : "off",
	         b->cfg.tftp ? "on" : "off", b->cfg.http_port);
	fb_db_status_set(w->db, "bootd.daemon", val);
	snprintf(val, sizeof(val), "%llu",
	         (unsigned long long)__atomic_load_n(&b->stats_dhcp, __ATOMIC_RELAXED));
	fb_db_status_set(w->db, "bootd.dhcp.requests", val);
	snprintf(val, sizeof(val), "%llu",
	         (unsigned long long)__atomic_load_n(&b->stats_tftp, __ATOMIC_RELAXED));
	fb_db_status_set(w->db, "bootd.tftp.transfers", val);
	snprintf(val, sizeof(val), "%d", __atomic_load_n(&b->tftp_active, __ATOMIC_RELAXED));
	fb_db_status_set(w->db, "bootd.tftp.active", val);
}

static void requeue(struct writer *w, struct wop *ops, size_t n)
{
	pthread_mutex_lock(&w->mu);
	struct wop *q = realloc(ops, (n + w->n) * sizeof(*q));
	if (q) {
		if (w->n)
			memcpy(q + n, w->q, w->n * sizeof(*q));
		free(w->q);
		w->q = q;
		w->n += n;
		w->cap = w->n;
	} else {
		w->dropped += n;
		free(ops);
	}
	pthread_mutex_unlock(&w->mu);
}

static void refresh(struct writer *w)
{
	uint64_t done = __atomic_load_n(&w->b->reg.done, __ATOMIC_ACQUIRE);
	struct bootd_cache *c = cache_load(w->db);
	if (c) {
		c->reg_done_at_load = done;
		state_set_cache(&w->b->st, c);
	}
}

static int take_wake(void *arg, const struct fb_wake *wk)
{
	struct writer *w = arg;
	if (wake_submit(w->b, wk) < 0) {
		/* Not handed over (out of memory): say so rather than leave it
		 * taken for ever. */
		if (fb_db_wake_done(w->db, wk->id, 0, "not sent: bootd could not queue it") < 0)
			log_warnx("wake request %lld: %s", (long long)wk->id, fb_db_errmsg(w->db));
	}
	return 0;
}

/* Wake-on-LAN requests queued by the CLI or web (db/wake.c): taken when
 * another process changed the database, sent by the main loop. */
static void take_wakes(struct writer *w)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	int64_t now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	if (fb_db_wake_take(w->db, now - FB_WAKE_MAX_AGE_MS, take_wake, w) < 0)
		log_warnx("cannot read wake requests: %s", fb_db_errmsg(w->db));
}

static void *writer_main(void *arg)
{
	struct writer *w = arg;
	uint64_t last_refresh = fb_mono_ms(), last_status = 0, last_check = 0;
	int64_t last_dv = -1;
	pthread_mutex_lock(&w->mu);
	for (;;) {
		if (!w->stop && !w->poke && !w->sync) {
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += 100 * 1000000L;
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&w->cv, &w->mu, &ts);
		}
		struct wop *ops = w->q;
		size_t n = w->n;
		int stop = w->stop, poke = w->poke;
		w->q = NULL;
		w->n = w->cap = 0;
		w->poke = 0;
		w->sync = 0;
		pthread_mutex_unlock(&w->mu);

		if (n && commit_batch(w, ops, n) < 0 && !stop) {
			/* The database stayed locked: keep the batch, in order,
			 * ahead of whatever was queued meanwhile. */
			requeue(w, ops, n);
			ops = NULL;
		} else if (n) {
			pthread_mutex_lock(&w->mu);
			w->committed += n;
			pthread_cond_broadcast(&w->done_cv);
			pthread_mutex_unlock(&w->mu);
		}
		free(ops);
		uint64_t now = fb_mono_ms();
		/* Rebuild the cache when another process changed the database
		 * (data_version, checked every 250 ms), when asked, and every
		 * 10 s in any case. */
		int64_t dv = 0;
		if (now - last_check >= 250) {
			last_check = now;
			if (fb_db_data_version(w->db, &dv) == 0 && dv != last_dv) {
				last_dv = dv;
				poke = 1;
				take_wakes(w);
			}
		}
		if (poke || w->poke || now - last_refresh >= 10000) {
			w->poke = 0;
			refresh(w);
			last_refresh = now;
		}
		if (now - last_status >= 5000) {
			report_status(w, 0);
			last_status = now;
		}
		pthread_mutex_lock(&w->mu);
		if (stop && !w->n)
			break;
	}
	pthread_mutex_unlock(&w->mu);
	report_status(w, 1);
	return NULL;
}

struct writer *writer_start(struct bootd *b, struct fb_db *db)
{
	struct writer *w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	w->b = b;
	w->db = db;
	w->started = fb_now();
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	pthread_cond_init(&w->done_cv, NULL);
	if (pthread_create(&w->thread, NULL, writer_main, w)) {
		free(w);
		return NULL;
	}
	return w;
}

/* Flush everything queued, then stop. */
void writer_stop(struct writer *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->mu);
	w->stop = 1;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->thread, NULL);
	if (w->dropped)
		log_warnx("%zu queued writes were dropped (queue full or out of memory)",
		          w->dropped);
	free(w->q);
	fb_db_close(w->db);
	free(w);
}
