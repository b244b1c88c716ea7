/* overlays.c - which overlay file each machine has and what base it is on. */
#include "clock.h"
#include "db_internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define OVERLAY_COLS "mac, image_id, path, bytes, reset_pending, created, boot_seq"

static void row_to_overlay(sqlite3_stmt *st, struct fb_overlay *o)
{
	memset(o, 0, sizeof(*o));
	db_col_text(st, 0, o->mac, sizeof(o->mac));
	o->image_id = sqlite3_column_int64(st, 1);
	db_col_text(st, 2, o->path, sizeof(o->path));
	o->bytes = sqlite3_column_int64(st, 3);
	o->reset_pending = sqlite3_column_int(st, 4);
	o->created = sqlite3_column_int64(st, 5);
	o->boot_seq = sqlite3_column_int64(st, 6);
}

int fb_db_overlay_get(struct fb_db *db, const char *mac, struct fb_overlay *o)
{
	sqlite3_stmt *st;
	int rc = db_prep(db, "SELECT " OVERLAY_COLS " FROM overlays WHERE mac=?", &st);
	if (rc)
		return rc;
	db_bind_text(st, 1, mac);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		row_to_overlay(st, o);
		rc = 0;
	} else if (rc == SQLITE_DONE) {
		snprintf(db->err, sizeof(db->err), "machine %s has no overlay", mac);
		rc = -ENOENT;
	} else {
		rc = db_rc(db, rc);
	}
	sqlite3_finalize(st);
	return rc;
}

int fb_db_overlay_put(struct fb_db *db, const struct fb_overlay *o)
{
	sqlite3_stmt *st;
	int rc = db_prep(
	    db, "INSERT OR REPLACE INTO overlays(" OVERLAY_COLS ") VALUES(?,?,?,?,?,?,?)", &st);
	if (rc)
		return rc;
	db_bind_text(st, 1, o->mac);
	sqlite3_bind_int64(st, 2, o->image_id);
	db_bind_text(st, 3, o->path);
	sqlite3_bind_int64(st, 4, o->bytes);
	sqlite3_bind_int(st, 5, o->reset_pending);
	sqlite3_bind_int64(st, 6, o->created ? o->created : fb_now());
	sqlite3_bind_int64(st, 7, o->boot_seq);
	return db_step_done(db, st);
}

static int overlay_update(struct fb_db *db, const char *sql, const char *mac, int64_t v, int bind_v)
{
	sqlite3_stmt *st;
	int rc = db_prep(db, sql, &st);
	if (rc)
		return rc;
	if (bind_v) {
		sqlite3_bind_int64(st, 1, v);
		db_bind_text(st, 2, mac);
	} else {
		db_bind_text(st, 1, mac);
	}
	rc = db_step_done(db, st);
	if (!rc && sqlite3_changes(db->h) == 0) {
		snprintf(db->err, sizeof(db->err), "machine %s has no overlay", mac);
		rc = -ENOENT;
	}
	return rc;
}

int fb_db_overlay_delete(struct fb_db *db, const char *mac)
{
	return overlay_update(db, "DELETE FROM overlays WHERE mac=?", mac, 0, 0);
}

int fb_db_overlay_set_reset_pending(struct fb_db *db, const char *mac, int pending)
{
	return overlay_update(db, "UPDATE overlays SET reset_pending=? WHERE mac=?", mac, pending,
	                      1);
}

int fb_db_overlay_set_bytes(struct fb_db *db, const char *mac, int64_t bytes)
{
	return overlay_update(db, "UPDATE overlays SET bytes=? WHERE mac=?", mac, bytes, 1);
}

int fb_db_overlay_list(struct fb_db *db, fb_overlay_cb cb, void *arg)
{
	sqlite3_stmt *st;
	int rc = db_prep(db, "SELECT " OVERLAY_COLS " FROM overlays ORDER BY mac", &st);
	if (rc)
		return rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct fb_overlay o;
		row_to_overlay(st, &o);
		if (cb(arg, &o))
			break;
	}
	rc = (rc == SQLITE_ROW || rc == SQLITE_DONE) ? 0 : db_rc(db, rc);
	sqlite3_finalize(st);
	return rc;
}
