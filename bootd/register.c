/*
 * register.c - registrations of unknown machines (unknown_machines =
 * register or boot:IMAGE), capped.
 *
 * Each registration adds a row to the database and makes the writer reload
 * the machine cache, so a flood of made-up MACs (through a relay, or from
 * root on any client) would otherwise grow the database and keep the
 * writer busy without end. Two caps bound it: register_per_minute (a fixed
 * one-minute window) and register_max (machines bootd registered, as the
 * cache counts them, plus those queued since the cache was read). A
 * refused registration is logged (at most once a second, with a count)
 * and the machine gets no boot information; known machines are never
 * affected.
 */
#include <stdio.h>
#include <string.h>

#include "bootd.h"
#include "clock.h"
#include "log.h"

#define RECENT_S 10 /* a MAC queued this recently is not queued again */

static int recently_queued(struct bootd_reg *r, const uint8_t mac[6], int64_t now)
{
	for (size_t i = 0; i < sizeof(r->recent) / sizeof(r->recent[0]); i++)
		if (r->recent_at[i] && now - r->recent_at[i] < RECENT_S &&
		    !memcmp(r->recent[i], mac, 6))
			return 1;
	return 0;
}

static void refused(struct bootd_reg *r, const char *macid, const char *why)
{
	r->refused++;
	uint64_t ms = fb_mono_ms();
	if (ms - r->last_log_ms >= 1000) {
		r->last_log_ms = ms;
		log_warnx("registration of unknown machine %s refused: %s (%llu refused since "
		          "start-up)",
		          macid, why, (unsigned long long)r->refused);
	} else {
		log_debug("registration of unknown machine %s refused: %s", macid, why);
	}
}

int register_unknown(struct bootd *b, const uint8_t mac[6], const char *image, int64_t now)
{
	struct bootd_reg *r = &b->reg;
	const struct bootd_cache *c = b->st.cache;
	char macid[FB_MACID_LEN], why[160];
	int ok = 0;
	mac_format(mac, macid);
	pthread_mutex_lock(&r->lock);
	if (recently_queued(r, mac, now)) {
		ok = 1;
		goto out;
	}
	if (now - r->window_start >= 60 || now < r->window_start) {
		r->window_start = now;
		r->window_count = 0;
	}
	if (r->window_count >= b->cfg.register_per_minute) {
		snprintf(why, sizeof(why),
		         "%d registrations in the last minute (register_per_minute)",
		         r->window_count);
		refused(r, macid, why);
		goto out;
	}
	/* Queued but not yet in the cache: issued minus what the writer had
	 * done when the cache was read. */
	uint64_t done_then = c ? c->reg_done_at_load : 0;
	uint64_t pending = r->issued > done_then ? r->issued - done_then : 0;
	uint64_t total = (c ? c->n_registered : 0) + pending;
	if (total >= (uint64_t)b->cfg.register_max) {
		snprintf(why, sizeof(why), "%llu machines registered already (register_max = %d)",
		         (unsigned long long)total, b->cfg.register_max);
		refused(r, macid, why);
		goto out;
	}
	if (writer_register(b->wr, macid, image) < 0) {
		refused(r, macid, "the database queue is full");
		goto out;
	}
	r->window_count++;
	r->issued++;
	memcpy(r->recent[r->recent_next], mac, 6);
	r->recent_at[r->recent_next] = now;
	r->recent_next = (r->recent_next + 1) % (sizeof(r->recent) / sizeof(r->recent[0]));
	ok = 1;
out:
	pthread_mutex_unlock(&r->lock);
	return ok;
}
