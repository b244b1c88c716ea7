/*
 * wake.c - Wake-on-LAN requests: the queue between those who ask (the CLI,
 * web) and bootd, which sends.
 *
 * Only bootd can send: it owns the boot interfaces, and the raw frame
 * (EtherType 0x0842) needs a packet socket, which only a process with
 * CAP_NET_RAW can open; bootd opens it before it drops its privileges. The
 * database is the channel every fleetboot program already shares, and
 * bootd's writer thread already watches it for changes (PRAGMA
 * data_version), so a queued request is taken within a fraction of a
 * second. A request that waited too long (bootd not running) is expired,
 * never sent late: a machine must not power on hours after it was asked.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "db_internal.h"

#define PRUNE_MS (24 * 3600 * 1000LL) /* finished requests kept this long */

static int64_t wake_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int machine_exists(struct fb_db *db, const char *id)
{
	sqlite3_stmt *st;
	int rc = db_prep(db, "SELECT 1 FROM machines WHERE mac = ?", &st);
	if (rc)
		return rc;
	db_bind_text(st, 1, id);
	rc = sqlite3_step(st);
	rc = rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? -ENOENT : db_rc(db, rc);
	sqlite3_finalize(st);
	return rc;
}

int fb_db_wake_request(struct fb_db *db, const char *const *macs, size_t n, const char *asked_by,
                       int64_t *ids)
{
	char id[FB_MACID_LEN];
	sqlite3_stmt *st;
	int64_t now = wake_now_ms();
	int rc;

	if ((rc = db_tx_begin(db)))
		return rc;
	rc = db_prep(db,
	             "DELETE FROM wake_requests WHERE state NOT IN ('queued','taken')"
	             " AND requested_ms < ?",
	             &st);
	if (!rc) {
		sqlite3_bind_int64(st, 1, now - PRUNE_MS);
		rc = db_step_done(db, st);
	}
	for (size_t i = 0; !rc && i < n; i++) {
		if ((rc = db_macid(db, macs[i], id)) < 0)
			break;
		if ((rc = machine_exists(db, id)) == -ENOENT)
			snprintf(db->err, sizeof(db->err), "no machine %s", id);
		if (rc)
			break;
		rc = db_prep(db,
		             "INSERT INTO wake_requests(mac, requested_ms, asked_by) VALUES(?,?,?)",
		             &st);
		if (rc)
			break;
		db_bind_text(st, 1, id);
		sqlite3_bind_int64(st, 2, now);
		db_bind_text(st, 3, asked_by ? asked_by : "");
		rc = db_step_done(db, st);
		if (!rc && ids)
			ids[i] = sqlite3_last_insert_rowid(db->h);
	}
	return db_tx_end(db, rc);
}

static void wake_row(sqlite3_stmt *st, struct fb_wake *w)
{
	memset(w, 0, sizeof(*w));
	w->id = sqlite3_column_int64(st, 0);
	db_col_text(st, 1, w->mac, sizeof(w->mac));
	w->requested_ms = sqlite3_column_int64(st, 2);
	db_col_text(st, 3, w->asked_by, sizeof(w->asked_by));
	db_col_text(st, 4, w->state, sizeof(w->state));
	w->done_ms = sqlite3_column_int64(st, 5);
	db_col_text(st, 6, w->result, sizeof(w->result));
}

#define WAKE_COLS "id, mac, requested_ms, asked_by, state, done_ms, result"

/* Take up to max queued requests (state taken) into w; the count or a
 * negative errno. All of them change at the first step of the statement,
 * so the LIMIT, not the loop, bounds what is taken. */
static int take_some(struct fb_db *db, struct fb_wake *w, int max)
{
	sqlite3_stmt *st;
	int rc = db_prep(db,
	                 "UPDATE wake_requests SET state = 'taken' WHERE id IN (SELECT id FROM"
	                 " wake_requests WHERE state = 'queued' ORDER BY id LIMIT ?)"
	                 " RETURNING " WAKE_COLS,
	                 &st);
	if (rc)
		return rc;
	sqlite3_bind_int(st, 1, max);
	int n = 0, step;
	while ((step = sqlite3_step(st)) == SQLITE_ROW)
		if (n < max)
			wake_row(st, &w[n++]);
	rc = step == SQLITE_DONE ? n : db_rc(db, step);
	sqlite3_finalize(st);
	return rc;
}

int fb_db_wake_take(struct fb_db *db, int64_t oldest_ms, fb_wake_cb cb, void *arg)
{
	sqlite3_stmt *st;
	struct fb_wake w[32];
	const int max = (int)(sizeof(w) / sizeof(w[0]));
	int rc, n;

	if ((rc = db_tx_begin(db)))
		return rc;
	rc = db_prep(db,
	             "UPDATE wake_requests SET state = 'expired', done_ms = ?1,"
	             " result = 'not sent: bootd did not take it in time'"
	             " WHERE state = 'queued' AND requested_ms < ?2",
	             &st);
	if (!rc) {
		sqlite3_bind_int64(st, 1, wake_now_ms());
		sqlite3_bind_int64(st, 2, oldest_ms);
		rc = db_step_done(db, st);
	}
	if ((rc = db_tx_end(db, rc)))
		return rc;
	/* In batches, each taken in its own transaction and handed over
	 * after its commit (a callback may write to the database). */
	do {
		if ((rc = db_tx_begin(db)))
			return rc;
		n = take_some(db, w, max);
		if ((rc = db_tx_end(db, n < 0 ? n : 0)))
			return rc;
		for (int i = 0; i < n; i++)
			if (cb(arg, &w[i]))
				return 0;
	} while (n == max);
	return 0;
}

int fb_db_wake_done(struct fb_db *db, int64_t id, int ok, const char *result)
{
	sqlite3_stmt *st;
	int rc;
	if ((rc = db_tx_begin(db)))
		return rc;
	rc = db_prep(db, "UPDATE wake_requests SET state = ?, done_ms = ?, result = ? WHERE id = ?",
	             &st);
	if (!rc) {
		db_bind_text(st, 1, ok ? "sent" : "failed");
		sqlite3_bind_int64(st, 2, wake_now_ms());
		db_bind_text(st, 3, result ? result : "");
		sqlite3_bind_int64(st, 4, id);
		rc = db_step_done(db, st);
	}
	return db_tx_end(db, rc);
}

int fb_db_wake_get(struct fb_db *db, int64_t id, struct fb_wake *w)
{
	sqlite3_stmt *st;
	int rc = db_prep(db, "SELECT " WAKE_COLS " FROM wake_requests WHERE id = ?", &st);
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		wake_row(st, w);
		rc = 0;
	} else if (rc == SQLITE_DONE) {
		snprintf(db->err, sizeof(db->err), "no wake request %lld", (long long)id);
		rc = -ENOENT;
	} else {
		rc = db_rc(db, rc);
	}
	sqlite3_finalize(st);
	return rc;
}

int fb_db_wake_cancel(struct fb_db *db, int64_t id)
{
	sqlite3_stmt *st;
	int rc;
	if ((rc = db_tx_begin(db)))
		return rc;
	rc = db_prep(
	    db,
	    "UPDATE wake_requests SET state = 'cancelled', done_ms = ?,"
	    " result = 'not sent: withdrawn by the asker' WHERE id = ? AND state = 'queued'",
	    &st);
	if (!rc) {
		sqlite3_bind_int64(st, 1, wake_now_ms());
		sqlite3_bind_int64(st, 2, id);
		rc = db_step_done(db, st);
	}
	if (!rc && sqlite3_changes(db->h) == 0) {
		snprintf(db->err, sizeof(db->err), "wake request %lld was already taken by bootd",
		         (long long)id);
		rc = -EALREADY;
	}
	return db_tx_end(db, rc);
}

int fb_db_wake_bootd_alive(struct fb_db *db)
{
	sqlite3_stmt *st;
	int rc = db_prep(db, "SELECT value, updated FROM status WHERE key = 'bootd.daemon'", &st);
	if (rc)
		return rc;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const char *v = (const char *)sqlite3_column_text(st, 0);
		int64_t age = wake_now_ms() / 1000 - sqlite3_column_int64(st, 1);
		rc = v && !strncmp(v, "pid=", 4) && age <= FB_WAKE_BOOTD_STALE;
	} else {
		rc = rc == SQLITE_DONE ? 0 : db_rc(db, rc);
	}
	sqlite3_finalize(st);
	return rc;
}
