/* leases.c - DHCP leases, written in batches by bootd's writer thread. */
#include "db_internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int fb_db_lease_put_batch(struct fb_db *db, const struct fb_lease *l, size_t n)
{
	sqlite3_stmt *st = NULL;
	int rc;
	if ((rc = db_tx_begin(db)))
		return rc;
	rc = db_prep(db,
	             "INSERT OR REPLACE INTO leases(mac, ip, expires, hostname, state)"
	             " VALUES(?,?,?,?,?)",
	             &st);
	for (size_t i = 0; !rc && i < n; i++) {
		db_bind_text(st, 1, l[i].mac);
		db_bind_text(st, 2, l[i].ip);
		sqlite3_bind_int64(st, 3, l[i].expires);
		db_bind_text(st, 4, l[i].hostname);
		db_bind_text(st, 5, l[i].state[0] ? l[i].state : "bound");
		int s = sqlite3_step(st);
		if (s != SQLITE_DONE)
			rc = db_rc(db, sqlite3_extended_errcode(db->h));
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	return db_tx_end(db, rc);
}

static void row_to_lease(sqlite3_stmt *st, struct fb_lease *l)
{
	memset(l, 0, sizeof(*l));
	db_col_text(st, 0, l->mac, sizeof(l->mac));
	db_col_text(st, 1, l->ip, sizeof(l->ip));
	l->expires = sqlite3_column_int64(st, 2);
	db_col_text(st, 3, l->hostname, sizeof(l->hostname));
	db_col_text(st, 4, l->state, sizeof(l->state));
}

static int lease_by(struct fb_db *db, const char *sql, const char *key, struct fb_lease *l)
{
	sqlite3_stmt *st;
	int rc = db_prep(db, sql, &st);
	if (rc)
		return rc;
	db_bind_text(st, 1, key);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		row_to_lease(st, l);
		rc = 0;
	} else {
		rc = rc == SQLITE_DONE ? -ENOENT : db_rc(db, rc);
	}
	sqlite3_finalize(st);
	return rc;
}

#define LEASE_COLS "mac, ip, expires, hostname, state"

int fb_db_lease_get(struct fb_db *db, const char *mac, struct fb_lease *l)
{
	return lease_by(db, "SELECT " LEASE_COLS " FROM leases WHERE mac=?", mac, l);
}

int fb_db_lease_by_ip(struct fb_db *db, const char *ip, struct fb_lease *l)
{
	return lease_by(
	    db, "SELECT " LEASE_COLS " FROM leases WHERE ip=? ORDER BY expires DESC LIMIT 1", ip,
	    l);
}

int fb_db_lease_delete(struct fb_db *db, const char *mac)
{
	sqlite3_stmt *st;
	int rc = db_prep(db, "DELETE FROM leases WHERE mac=?", &st);
	if (rc)
		return rc;
	db_bind_text(st, 1, mac);
	return db_step_done(db, st);
}

int fb_db_lease_list(struct fb_db *db, fb_lease_cb cb, void *arg)
{
	sqlite3_stmt *st;
	int rc = db_prep(db, "SELECT " LEASE_COLS " FROM leases ORDER BY mac", &st);
	if (rc)
		return rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct fb_lease l;
		row_to_lease(st, &l);
		if (cb(arg, &l))
			break;
	}
	rc = (rc == SQLITE_ROW || rc == SQLITE_DONE) ? 0 : db_rc(db, rc);
	sqlite3_finalize(st);
	return rc;
}
