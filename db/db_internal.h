/*
 * db_internal.h - what the files in db/ share: the handle, error mapping,
 * and small statement helpers. Only db/ includes this (and sqlite3.h).
 */
#ifndef FB_DB_INTERNAL_H
#define FB_DB_INTERNAL_H

#include <sqlite3.h>

#include "db.h"

struct fb_db {
	sqlite3 *h;    /* the connection */
	char err[512]; /* last error text */
	int in_tx;     /* inside fb_db_begin() */
};

/* Map an SQLite result to 0 or a negative errno and remember the message. */
int db_rc(struct fb_db *db, int rc);
/* Prepare sql; 0 or negative errno. */
int db_prep(struct fb_db *db, const char *sql, sqlite3_stmt **st);
/* Run sql with no results. */
int db_exec(struct fb_db *db, const char *sql);
/* Step a statement that returns no rows, then finalize it. */
int db_step_done(struct fb_db *db, sqlite3_stmt *st);
/* Run a DELETE whose one parameter is key; -ENOENT with "no WHAT KEY" set
 * when it removed nothing. */
int db_delete_key(struct fb_db *db, const char *sql, const char *key, const char *what);
/* Bind text (NULL binds NULL). */
void db_bind_text(sqlite3_stmt *st, int i, const char *s);
/* Copy a text column into a fixed buffer ("" for NULL). */
void db_col_text(sqlite3_stmt *st, int i, char *out, size_t len);

/* Write transactions: BEGIN IMMEDIATE unless the caller already holds one
 * (fb_db_begin). tx_end commits on rc == 0, else rolls back; returns rc or
 * the commit's error. */
int db_tx_begin(struct fb_db *db);
/* The canonical MACID of mac into id, or -EINVAL with the error set. */
int db_macid(struct fb_db *db, const char *mac, char id[FB_MACID_LEN]);
int db_tx_end(struct fb_db *db, int rc);

/* Names of machines' hosts and of groups: [A-Za-z0-9][A-Za-z0-9._-]*,
 * shorter than FB_NAME_LEN (machines.c). */
int db_name_ok(const char *s);

/* Effective settings (groups.c). Fill m's image, mode, protocol, loader,
 * secure_boot, their origins and the group's menu settings from the
 * machine's own (as read from its row: "" or *_own = 0 when not set) and
 * its group g (NULL = none). */
void db_machine_effective(struct fb_machine *m, int mode_own, int protocol_own,
                          const struct fb_group *g);
/* What add and update store: the machine's own settings of m, given cur,
 * the effective settings it had (db_machine_defaults for a new one). */
struct db_machine_own {
	const char *image, *loader, *secure_boot; /* "" = not set */
	int mode_own, protocol_own;
};
void db_machine_own(const struct fb_machine *m, const struct fb_machine *cur,
                    struct db_machine_own *o);
/* A machine with nothing set and no group: the defaults. */
void db_machine_defaults(struct fb_machine *m);
/* Refuse Secure Boot with a mode other than readonly on the effective
 * settings of one machine (mac) or a group's machines (group), as they are
 * now or, with ungrouped, as they would be out of their group. */
int db_secure_boot_check(struct fb_db *db, const char *mac, const char *group, int ungrouped);

/* Schema (schema.c). */
int db_migrate(struct fb_db *db);

#endif
