/* bootd_version.c - see db/bootd.h. */
#include "db/bootd.h"
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
