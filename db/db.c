/*
 * db.c - opening the database, error mapping, transactions.
 *
 * Several processes (bootd, storaged's plugin, web, the CLI) share one file.
 * WAL lets readers run beside the one writer; writers take the lock up front
 * with BEGIN IMMEDIATE, so two writers never deadlock upgrading a read lock,
 * and the busy timeout makes a writer wait its turn instead of failing.
 *
 * The file holds every machine secret, password hash and token hash: it is
 * created 0600, and an older one (0644) is made 0600 when opened, with its
 * WAL and shared-memory files (SQLite gives those the database's mode).
 */
#include "db_internal.h"
#include "str.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define BUSY_TIMEOUT_MS 15000

int db_rc(struct fb_db *db, int rc)
{
	switch (rc) {
	case SQLITE_OK:
	case SQLITE_DONE:
	case SQLITE_ROW:
		return 0;
	}
	snprintf(db->err, sizeof(db->err), "%s", sqlite3_errmsg(db->h));
	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return -EBUSY;
	case SQLITE_CONSTRAINT:
		if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY)
			return -EEXIST;
		return -EINVAL;
	case SQLITE_READONLY:
	case SQLITE_PERM:
	case SQLITE_AUTH:
		return -EACCES;
	case SQLITE_FULL:
		return -ENOSPC;
	case SQLITE_CANTOPEN:
		return -ENOENT;
	case SQLITE_NOMEM:
		return -ENOMEM;
	default:
		return -EIO;
	}
}

int db_prep(struct fb_db *db, const char *sql, sqlite3_stmt **st)
{
	return db_rc(db, sqlite3_prepare_v2(db->h, sql, -1, st, NULL));
}

int db_exec(struct fb_db *db, const char *sql)
{
	char *msg = NULL;
	int rc = sqlite3_exec(db->h, sql, NULL, NULL, &msg);
	if (rc != SQLITE_OK && msg)
		snprintf(db->err, sizeof(db->err), "%s", msg);
	sqlite3_free(msg);
	if (rc == SQLITE_OK)
		return 0;
	int e = db_rc(db, rc);
	if (msg)
		return e;
	return e;
}

int db_step_done(struct fb_db *db, sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);
	int e =
	    rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : db_rc(db, sqlite3_extended_errcode(db->h));
	sqlite3_finalize(st);
	return e;
}

int db_delete_key(struct fb_db *db, const char *sql, const char *key, const char *what)
{
	sqlite3_stmt *st;
	int rc = db_prep(db, sql, &st);
	if (rc)
		return rc;
	db_bind_text(st, 1, key);
	rc = db_step_done(db, st);
	if (!rc && sqlite3_changes(db->h) == 0) {
		snprintf(db->err, sizeof(db->err), "no %s %s", what, key);
		rc = -ENOENT;
	}
	return rc;
}

void db_bind_text(sqlite3_stmt *st, int i, const char *s)
{
	if (s)
		sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, i);
}

void db_col_text(sqlite3_stmt *st, int i, char *out, size_t len)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	fb_strlcpy(out, t ? (const char *)t : "", len);
}

int db_tx_begin(struct fb_db *db)
{
	if (db->in_tx)
		return 0;
	return db_exec(db, "BEGIN IMMEDIATE");
}

int db_tx_end(struct fb_db *db, int rc)
{
	if (db->in_tx)
		return rc;
	if (rc == 0) {
		int c = db_exec(db, "COMMIT");
		if (c == 0)
			return 0;
		rc = c;
	}
	char saved[sizeof(db->err)];
	memcpy(saved, db->err, sizeof(saved));
	sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
	memcpy(db->err, saved, sizeof(saved));
	return rc;
}

int fb_db_begin(struct fb_db *db)
{
	int rc = db_exec(db, "BEGIN IMMEDIATE");
	if (rc == 0)
		db->in_tx = 1;
	return rc;
}

int fb_db_commit(struct fb_db *db)
{
	db->in_tx = 0;
	int rc = db_exec(db, "COMMIT");
	if (rc < 0)
		sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

int fb_db_rollback(struct fb_db *db)
{
	db->in_tx = 0;
	return db_exec(db, "ROLLBACK");
}

/* Take group and other permissions away from the database and its WAL and
 * shared-memory files. Only their owner (or root) may; for anyone else the
 * open fails anyway on a 0600 file. */
static void db_files_private(const char *path)
{
	static const char *const suffix[] = {"", "-wal", "-shm"};
	for (size_t i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++) {
		char p[FB_PATH_LEN + 8];
		struct stat st;
		snprintf(p, sizeof(p), "%s%s", path, suffix[i]);
		if (stat(p, &st) == 0 && (st.st_mode & 077))
			chmod(p, st.st_mode & 0700);
	}
}

int fb_db_open(struct fb_db **out, const char *path)
{
	struct fb_db *db = calloc(1, sizeof(*db));
	int rc;
	*out = NULL;
	if (!db)
		return -ENOMEM;
	/* SQLite would create the file 0644 less the umask; an empty file is an
	 * empty database to it. */
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd >= 0)
		close(fd);
	db_files_private(path);
	rc = sqlite3_open_v2(
	    path, &db->h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		rc = db->h ? db_rc(db, rc) : -ENOMEM;
		sqlite3_close(db->h);
		free(db);
		return rc;
	}
	sqlite3_busy_timeout(db->h, BUSY_TIMEOUT_MS);
	sqlite3_extended_result_codes(db->h, 1);
	rc = db_exec(db, "PRAGMA journal_mode=WAL");
	if (!rc)
		rc = db_exec(db, "PRAGMA foreign_keys=ON; PRAGMA synchronous=NORMAL;");
	if (!rc)
		rc = db_migrate(db);
	if (rc) {
		sqlite3_close(db->h);
		free(db);
		return rc;
	}
	*out = db;
	return 0;
}

int fb_db_open_state(struct fb_db **out, const char *state_dir)
{
	char path[FB_PATH_LEN];
	if (snprintf(path, sizeof(path), "%s/fleetboot.db", state_dir) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	return fb_db_open(out, path);
}

void fb_db_close(struct fb_db *db)
{
	if (!db)
		return;
	sqlite3_close(db->h);
	free(db);
}

const char *fb_db_errmsg(struct fb_db *db)
{
	return db ? db->err : "no database";
}

int fb_db_schema_version(struct fb_db *db)
{
	sqlite3_stmt *st;
	int v = -1;
	if (db_prep(db, "PRAGMA user_version", &st))
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return v;
}

int db_macid(struct fb_db *db, const char *mac, char id[FB_MACID_LEN])
{
	if (macid_normalize(mac, id) < 0) {
		snprintf(db->err, sizeof(db->err), "'%s' is not a MAC address", mac);
		return -EINVAL;
	}
	return 0;
}
