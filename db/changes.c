/*
 * changes.c - noticing what other connections did. SQLite bumps PRAGMA
 * data_version whenever another connection commits to the file, so a
 * process that caches rows (bootd's machine and image cache) can ask
 * cheaply whether to reload, instead of re-reading every table on a timer.
 */
#include "db_internal.h"

int fb_db_data_version(struct fb_db *db, int64_t *version)
{
	sqlite3_stmt *st;
	int rc = db_prep(db, "PRAGMA data_version", &st);
	if (rc)
		return rc;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*version = sqlite3_column_int64(st, 0);
		rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	return db_rc(db, rc);
}
