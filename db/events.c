/*
 * events.c - boot events: every stage a machine reaches, in order. The
 * event id is the cursor the web's live stream and `fleetboot events
 * --follow` use.
 */
#include "db_internal.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

int fb_stage_valid(const char *stage)
{
	size_t n = strlen(stage);
	if (n == 0 || n >= 24)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)stage[i];
		if (!(islower(c) || isdigit(c) || c == '-' || c == '_'))
			return 0;
	}
	return 1;
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A new boot: the firmware (not iPXE) asked for an address, or bootd says so. */
static int starts_boot(const char *stage, const char *detail)
{
	if (strcmp(stage, "dhcp"))
		return 0;
	return detail && (strstr(detail, "ipxe=0") || strstr(detail, "newboot=1"));
}

int fb_db_event_add(struct fb_db *db, const char *mac, const char *stage, const char *detail)
{
	char id[FB_MACID_LEN];
	sqlite3_stmt *st;
	int rc;

	if (macid_normalize(mac, id) < 0 || !fb_stage_valid(stage)) {
		snprintf(db->err, sizeof(db->err), "invalid machine or stage name");
		return -EINVAL;
	}
	int64_t t = now_ms();
	if ((rc = db_tx_begin(db)))
		return rc;
	rc = db_prep(db, "INSERT INTO events(time_ms, mac, stage, detail) VALUES(?,?,?,?)", &st);
	if (!rc) {
		sqlite3_bind_int64(st, 1, t);
		db_bind_text(st, 2, id);
		db_bind_text(st, 3, stage);
		db_bind_text(st, 4, detail ? detail : "");
		rc = db_step_done(db, st);
	}
	if (!rc)
		rc = db_prep(db,
		             "UPDATE machines SET stage=?, last_seen=?,"
		             " boot_seq = boot_seq + ? WHERE mac=?",
		             &st);
	if (!rc) {
		db_bind_text(st, 1, stage);
		sqlite3_bind_int64(st, 2, t / 1000);
		sqlite3_bind_int(st, 3, starts_boot(stage, detail));
		db_bind_text(st, 4, id);
		rc = db_step_done(db, st);
	}
	return db_tx_end(db, rc);
}

int fb_db_event_list(struct fb_db *db, const struct fb_event_filter *f, fb_event_cb cb, void *arg)
{
	sqlite3_stmt *st;
	char id[FB_MACID_LEN];
	const char *mac = NULL;
	int rc;

	if (f->mac) {
		if (macid_normalize(f->mac, id) < 0) {
			snprintf(db->err, sizeof(db->err), "'%s' is not a MAC address", f->mac);
			return -EINVAL;
		}
		mac = id;
	}
	rc = db_prep(db,
	             "SELECT id, time_ms, mac, stage, detail FROM events"
	             " WHERE id > ?1 AND (?2 IS NULL OR mac = ?2) AND (?3 IS NULL OR stage = ?3)"
	             " ORDER BY id LIMIT ?4",
	             &st);
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, f->after);
	db_bind_text(st, 2, mac);
	db_bind_text(st, 3, f->stage);
	sqlite3_bind_int(st, 4, f->limit > 0 ? f->limit : 1000);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct fb_event e;
		memset(&e, 0, sizeof(e));
		e.id = sqlite3_column_int64(st, 0);
		e.time_ms = sqlite3_column_int64(st, 1);
		db_col_text(st, 2, e.mac, sizeof(e.mac));
		db_col_text(st, 3, e.stage, sizeof(e.stage));
		db_col_text(st, 4, e.detail, sizeof(e.detail));
		if (cb(arg, &e))
			break;
	}
	rc = (rc == SQLITE_ROW || rc == SQLITE_DONE) ? 0 : db_rc(db, rc);
	sqlite3_finalize(st);
	return rc;
}

int fb_db_event_last(struct fb_db *db, const char *mac, const char *stage, struct fb_event *e)
{
	sqlite3_stmt *st;
	char id[FB_MACID_LEN];
	if (macid_normalize(mac, id) < 0)
		return -EINVAL;
	int rc = db_prep(db,
	                 "SELECT id, time_ms, mac, stage, detail FROM events"
	                 " WHERE mac = ?1 AND (?2 IS NULL OR stage = ?2) ORDER BY id DESC LIMIT 1",
	                 &st);
	if (rc)
		return rc;
	db_bind_text(st, 1, id);
	db_bind_text(st, 2, stage);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		memset(e, 0, sizeof(*e));
		e->id = sqlite3_column_int64(st, 0);
		e->time_ms = sqlite3_column_int64(st, 1);
		db_col_text(st, 2, e->mac, sizeof(e->mac));
		db_col_text(st, 3, e->stage, sizeof(e->stage));
		db_col_text(st, 4, e->detail, sizeof(e->detail));
		rc = 0;
	} else {
		rc = rc == SQLITE_DONE ? -ENOENT : db_rc(db, rc);
	}
	sqlite3_finalize(st);
	return rc;
}
