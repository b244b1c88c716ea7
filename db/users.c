/* users.c - web users, API tokens, settings and daemon status rows. */
#include "clock.h"
#include "db_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int fb_db_user_set(struct fb_db *db, const char *name, const char *pwhash)
{
	sqlite3_stmt *st;
	int rc = db_prep(db,
	                 "INSERT INTO users(name, pwhash, created) VALUES(?,?,?)"
	                 " ON CONFLICT(name) DO UPDATE SET pwhash=excluded.pwhash",
	                 &st);
	if (rc)
		return rc;
	db_bind_text(st, 1, name);
	db_bind_text(st, 2, pwhash);
	sqlite3_bind_int64(st, 3, fb_now());
	return db_step_done(db, st);
}

int fb_db_user_rehash(struct fb_db *db, const char *name, const char *old_hash,
                      const char *new_hash)
{
	sqlite3_stmt *st;
	int rc = db_prep(db, "UPDATE users SET pwhash=? WHERE name=? AND pwhash=?", &st);
	if (rc)
		return rc;
	db_bind_text(st, 1, new_hash);
	db_bind_text(st, 2, name);
	db_bind_text(st, 3, old_hash);
	rc = db_step_done(db, st);
	if (rc == 0 && sqlite3_changes(db->h) == 0)
		rc = -ENOENT;
	return rc;
}

int fb_db_user_get(struct fb_db *db, const char *name, char *pwhash, size_t len)
{
	sqlite3_stmt *st;
	int rc = db_prep(db, "SELECT pwhash FROM users WHERE name=?", &st);
	if (rc)
		return rc;
	db_bind_text(st, 1, name);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		db_col_text(st, 0, pwhash, len);
		rc = 0;
	} else {
		rc = rc == SQLITE_DONE ? -ENOENT : db_rc(db, rc);
	}
	sqlite3_finalize(st);
	return rc;
}

int fb_db_user_exists_any(struct fb_db *db)
{
	sqlite3_stmt *st;
	int n = 0;
	if (db_prep(db, "SELECT count(*) FROM users", &st))
		return 0;
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return n > 0;
}

int fb_db_token_add(struct fb_db *db, struct fb_token *t)
{
	sqlite3_stmt *st;
	t->created = fb_now();
	int rc = db_prep(db, "INSERT INTO tokens(name, hash, created) VALUES(?,?,?)", &st);
	if (rc)
		return rc;
	db_bind_text(st, 1, t->name);
	db_bind_text(st, 2, t->hash);
	sqlite3_bind_int64(st, 3, t->created);
	rc = db_step_done(db, st);
	if (rc == -EEXIST)
		snprintf(db->err, sizeof(db->err), "a token named %s already exists", t->name);
	if (!rc)
		t->id = sqlite3_last_insert_rowid(db->h);
	return rc;
}

static void row_to_token(sqlite3_stmt *st, struct fb_token *t)
{
	memset(t, 0, sizeof(*t));
	t->id = sqlite3_column_int64(st, 0);
	db_col_text(st, 1, t->name, sizeof(t->name));
	db_col_text(st, 2, t->hash, sizeof(t->hash));
	t->created = sqlite3_column_int64(st, 3);
	t->last_used = sqlite3_column_int64(st, 4);
}

int fb_db_token_check(struct fb_db *db, const char *hash, struct fb_token *t)
{
	sqlite3_stmt *st;
	int rc =
	    db_prep(db, "SELECT id, name, hash, created, last_used FROM tokens WHERE hash=?", &st);
	if (rc)
		return rc;
	db_bind_text(st, 1, hash);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		row_to_token(st, t);
		rc = 0;
	} else {
		rc = rc == SQLITE_DONE ? -ENOENT : db_rc(db, rc);
	}
	sqlite3_finalize(st);
	if (rc)
		return rc;
	/* last_used is informational: a busy database must not fail the login. */
	if (!db_prep(db, "UPDATE tokens SET last_used=? WHERE id=?", &st)) {
		sqlite3_bind_int64(st, 1, fb_now());
		sqlite3_bind_int64(st, 2, t->id);
		db_step_done(db, st);
	}
	return 0;
}

int fb_db_token_revoke(struct fb_db *db, const char *name_or_id)
{
	return db_delete_key(db, "DELETE FROM tokens WHERE name=?1 OR CAST(id AS TEXT)=?1",
	                     name_or_id, "token");
}

int fb_db_token_list(struct fb_db *db, fb_token_cb cb, void *arg)
{
	sqlite3_stmt *st;
	int rc =
	    db_prep(db, "SELECT id, name, hash, created, last_used FROM tokens ORDER BY id", &st);
	if (rc)
		return rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct fb_token t;
		row_to_token(st, &t);
		if (cb(arg, &t))
			break;
	}
	rc = (rc == SQLITE_ROW || rc == SQLITE_DONE) ? 0 : db_rc(db, rc);
	sqlite3_finalize(st);
	return rc;
}

int fb_db_setting_get(struct fb_db *db, const char *key, char *val, size_t len)
{
	sqlite3_stmt *st;
	int rc = db_prep(db, "SELECT value FROM settings WHERE key=?", &st);
	if (rc)
		return rc;
	db_bind_text(st, 1, key);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		db_col_text(st, 0, val, len);
		rc = 0;
	} else {
		rc = rc == SQLITE_DONE ? -ENOENT : db_rc(db, rc);
	}
	sqlite3_finalize(st);
	return rc;
}

int fb_db_setting_set(struct fb_db *db, const char *key, const char *val)
{
	sqlite3_stmt *st;
	int rc = db_prep(db, "INSERT OR REPLACE INTO settings(key, value) VALUES(?,?)", &st);
	if (rc)
		return rc;
	db_bind_text(st, 1, key);
	db_bind_text(st, 2, val);
	return db_step_done(db, st);
}

int fb_db_status_set(struct fb_db *db, const char *key, const char *value)
{
	sqlite3_stmt *st;
	int rc =
	    db_prep(db, "INSERT OR REPLACE INTO status(key, value, updated) VALUES(?,?,?)", &st);
	if (rc)
		return rc;
	db_bind_text(st, 1, key);
	db_bind_text(st, 2, value);
	sqlite3_bind_int64(st, 3, fb_now());
	return db_step_done(db, st);
}

int fb_db_status_list(struct fb_db *db, fb_status_cb cb, void *arg)
{
	sqlite3_stmt *st;
	int rc = db_prep(db, "SELECT key, value, updated FROM status ORDER BY key", &st);
	if (rc)
		return rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *k = (const char *)sqlite3_column_text(st, 0);
		const char *v = (const char *)sqlite3_column_text(st, 1);
		if (cb(arg, k ? k : "", v ? v : "", sqlite3_column_int64(st, 2)))
			break;
	}
	rc = (rc == SQLITE_ROW || rc == SQLITE_DONE) ? 0 : db_rc(db, rc);
	sqlite3_finalize(st);
	return rc;
}
