/*
 * entries.c - boot entries (installers, rescue and diagnostic tools) and a
 * machine's one-shot next boot.
 *
 * Entry names share the image names' rules and their name space: a menu
 * default or a next boot names an entry or an image by the same word, so
 * an entry may not take an image's name (and "local", "menu" and "none"
 * are words of their own).
 */
#include "clock.h"
#include "db_internal.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#define WHY(...) (snprintf(why, whylen, __VA_ARGS__), -EINVAL)

static const char *const kind_names[] = {"kernel", "iso", "efi"};
static const char *const boot_files[] = {"kernel", "image.iso", "program.efi"};
#define N_KINDS (sizeof(kind_names) / sizeof(kind_names[0]))

const char *fb_entry_kind_name(enum fb_entry_kind k)
{
	return (unsigned)k < N_KINDS ? kind_names[k] : NULL;
}

int fb_entry_kind_parse(const char *s, enum fb_entry_kind *out)
{
	for (size_t i = 0; s && i < N_KINDS; i++)
		if (!strcmp(s, kind_names[i])) {
			*out = (enum fb_entry_kind)i;
			return 0;
		}
	return -EINVAL;
}

const char *fb_entry_boot_file(enum fb_entry_kind k)
{
	return (unsigned)k < N_KINDS ? boot_files[k] : NULL;
}

/* Characters iPXE would treat specially, or that end a word or a line. */
static int char_ok(unsigned char c, int space_ok)
{
	if (c < 0x21 || c > 0x7e)
		return space_ok && c == ' ';
	return !strchr("$\"'\\`", c);
}

int fb_entry_text_valid(const char *s)
{
	for (; *s; s++)
		if (!char_ok((unsigned char)*s, 1))
			return 0;
	return 1;
}

int fb_entry_url_valid(const char *s)
{
	const char *host;
	if (!strncmp(s, "http://", 7))
		host = s + 7;
	else if (!strncmp(s, "https://", 8))
		host = s + 8;
	else
		return 0;
	if (!*host || *host == '/' || *host == ':' || strlen(s) >= FB_URL_LEN)
		return 0;
	for (; *s; s++)
		if (!char_ok((unsigned char)*s, 0))
			return 0;
	return 1;
}

static int reserved_name(const char *name)
{
	return !strcmp(name, "local") || !strcmp(name, "menu") || !strcmp(name, "none");
}

int fb_entry_validate(const struct fb_entry *e, char *why, size_t whylen)
{
	if (!fb_image_name_valid(e->name) || reserved_name(e->name))
		return WHY("name: '%s' is not a valid entry name (letters, digits, '.', '_', '-'; "
		           "not local, menu or none)",
		           e->name);
	if (!fb_entry_kind_name(e->kind))
		return WHY("kind: %d is not kernel, iso or efi", (int)e->kind);
	if (!fb_entry_text_valid(e->title))
		return WHY("title: only printable characters, without $, quotes or backslash");
	if (!fb_entry_text_valid(e->cmdline))
		return WHY("cmdline: only printable characters, without $, quotes or backslash");
	if (e->boot_url[0] && !fb_entry_url_valid(e->boot_url))
		return WHY("url: '%s' is not an http:// or https:// URL iPXE can fetch",
		           e->boot_url);
	if (e->initrd_url[0] && !fb_entry_url_valid(e->initrd_url))
		return WHY("initrd: '%s' is not an http:// or https:// URL iPXE can fetch",
		           e->initrd_url);
	if (e->kind != FB_ENTRY_KERNEL && (e->has_initrd || e->cmdline[0]))
		return WHY("%s entries take no initrd and no command line",
		           fb_entry_kind_name(e->kind));
	if (e->initrd_url[0] && !e->has_initrd)
		return WHY("initrd: a URL without has_initrd");
	return 0;
}

#define ENTRY_COLS                                                                                 \
	"name, kind, title, boot_url, initrd_url, has_initrd, cmdline, boot_sha256, "              \
	"initrd_sha256, source, created"

static void row_to_entry(sqlite3_stmt *st, struct fb_entry *e)
{
	memset(e, 0, sizeof(*e));
	db_col_text(st, 0, e->name, sizeof(e->name));
	fb_entry_kind_parse((const char *)sqlite3_column_text(st, 1), &e->kind);
	db_col_text(st, 2, e->title, sizeof(e->title));
	db_col_text(st, 3, e->boot_url, sizeof(e->boot_url));
	db_col_text(st, 4, e->initrd_url, sizeof(e->initrd_url));
	e->has_initrd = sqlite3_column_int(st, 5);
	db_col_text(st, 6, e->cmdline, sizeof(e->cmdline));
	db_col_text(st, 7, e->boot_sha256, sizeof(e->boot_sha256));
	db_col_text(st, 8, e->initrd_sha256, sizeof(e->initrd_sha256));
	db_col_text(st, 9, e->source, sizeof(e->source));
	e->created = sqlite3_column_int64(st, 10);
}

int fb_db_entry_get(struct fb_db *db, const char *name, struct fb_entry *e)
{
	sqlite3_stmt *st;
	int rc = db_prep(db, "SELECT " ENTRY_COLS " FROM entries WHERE name = ?", &st);
	if (rc)
		return rc;
	db_bind_text(st, 1, name);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		row_to_entry(st, e);
		rc = 0;
	} else if (rc == SQLITE_DONE) {
		snprintf(db->err, sizeof(db->err), "no entry %s", name);
		rc = -ENOENT;
	} else {
		rc = db_rc(db, rc);
	}
	sqlite3_finalize(st);
	return rc;
}

static int image_named(struct fb_db *db, const char *name)
{
	sqlite3_stmt *st;
	if (db_prep(db, "SELECT 1 FROM images WHERE name = ? LIMIT 1", &st))
		return 0;
	db_bind_text(st, 1, name);
	int found = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return found;
}

int fb_db_entry_add(struct fb_db *db, struct fb_entry *e)
{
	char why[256];
	sqlite3_stmt *st;
	int rc;
	if (fb_entry_validate(e, why, sizeof(why)) < 0) {
		snprintf(db->err, sizeof(db->err), "%s", why);
		return -EINVAL;
	}
	e->created = fb_now();
	if ((rc = db_tx_begin(db)))
		return rc;
	struct fb_entry old;
	if (fb_db_entry_get(db, e->name, &old) == 0) {
		snprintf(db->err, sizeof(db->err), "entry %s already exists", e->name);
		return db_tx_end(db, -EEXIST);
	}
	if (image_named(db, e->name)) {
		snprintf(db->err, sizeof(db->err),
		         "an image is named %s: entries and images share menu names", e->name);
		return db_tx_end(db, -EEXIST);
	}
	rc = db_prep(db, "INSERT INTO entries(" ENTRY_COLS ") VALUES(?,?,?,?,?,?,?,?,?,?,?)", &st);
	if (!rc) {
		db_bind_text(st, 1, e->name);
		db_bind_text(st, 2, fb_entry_kind_name(e->kind));
		db_bind_text(st, 3, e->title);
		db_bind_text(st, 4, e->boot_url);
		db_bind_text(st, 5, e->initrd_url);
		sqlite3_bind_int(st, 6, e->has_initrd);
		db_bind_text(st, 7, e->cmdline);
		db_bind_text(st, 8, e->boot_sha256);
		db_bind_text(st, 9, e->initrd_sha256);
		db_bind_text(st, 10, e->source);
		sqlite3_bind_int64(st, 11, e->created);
		rc = db_step_done(db, st);
	}
	return db_tx_end(db, rc);
}

int fb_db_entry_delete(struct fb_db *db, const char *name)
{
	sqlite3_stmt *st;
	int rc;
	if ((rc = db_tx_begin(db)))
		return rc;
	rc = db_prep(db, "SELECT mac FROM machines WHERE next_boot = ? ORDER BY mac LIMIT 1", &st);
	if (rc)
		return db_tx_end(db, rc);
	db_bind_text(st, 1, name);
	if (sqlite3_step(st) == SQLITE_ROW) {
		snprintf(db->err, sizeof(db->err), "entry %s is in use: the next boot of %s", name,
		         (const char *)sqlite3_column_text(st, 0));
		sqlite3_finalize(st);
		return db_tx_end(db, -ENOTEMPTY);
	}
	sqlite3_finalize(st);
	return db_tx_end(db,
	                 db_delete_key(db, "DELETE FROM entries WHERE name = ?", name, "entry"));
}

int fb_db_entry_list(struct fb_db *db, fb_entry_cb cb, void *arg)
{
	sqlite3_stmt *st;
	int rc = db_prep(db, "SELECT " ENTRY_COLS " FROM entries ORDER BY name", &st);
	if (rc)
		return rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct fb_entry e;
		row_to_entry(st, &e);
		if (cb(arg, &e))
			break;
	}
	rc = (rc == SQLITE_ROW || rc == SQLITE_DONE) ? 0 : db_rc(db, rc);
	sqlite3_finalize(st);
	return rc;
}

int fb_db_machine_set_next_boot(struct fb_db *db, const char *mac, const char *item)
{
	char id[FB_MACID_LEN];
	sqlite3_stmt *st;
	int rc;
	if ((rc = db_macid(db, mac, id)) < 0)
		return rc;
	if (strlen(item) >= FB_REF_LEN) {
		snprintf(db->err, sizeof(db->err), "next-boot: too long");
		return -EINVAL;
	}
	if ((rc = db_tx_begin(db)))
		return rc;
	rc = db_prep(db, "UPDATE machines SET next_boot = ?, next_boot_seq = 0 WHERE mac = ?", &st);
	if (!rc) {
		db_bind_text(st, 1, item);
		db_bind_text(st, 2, id);
		rc = db_step_done(db, st);
	}
	if (!rc && sqlite3_changes(db->h) == 0) {
		snprintf(db->err, sizeof(db->err), "no machine %s", id);
		rc = -ENOENT;
	}
	return db_tx_end(db, rc);
}

int fb_db_next_boot_take(struct fb_db *db, const char *mac, int new_boot, char item[FB_REF_LEN],
                         int *first)
{
	char id[FB_MACID_LEN];
	sqlite3_stmt *st;
	int rc;
	*first = 0;
	if ((rc = db_macid(db, mac, id)) < 0)
		return rc;
	if ((rc = db_tx_begin(db)))
		return rc;
	rc = db_prep(db, "SELECT next_boot, next_boot_seq, boot_seq FROM machines WHERE mac = ?",
	             &st);
	if (rc)
		return db_tx_end(db, rc);
	db_bind_text(st, 1, id);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		rc = rc == SQLITE_DONE ? -ENOENT : db_rc(db, rc);
		sqlite3_finalize(st);
		return db_tx_end(db, rc);
	}
	db_col_text(st, 0, item, FB_REF_LEN);
	int64_t used = sqlite3_column_int64(st, 1), seq = sqlite3_column_int64(st, 2);
	sqlite3_finalize(st);
	if (!item[0])
		return db_tx_end(db, -ENOENT);
	const char *sql = NULL;
	if (used && (seq + 1 > used || new_boot)) {
		/* Used by an earlier boot: the machine is back to normal. */
		sql = "UPDATE machines SET next_boot = '', next_boot_seq = 0 WHERE mac = ?";
		rc = -ENOENT;
	} else if (!used) {
		sql = "UPDATE machines SET next_boot_seq = boot_seq + 1 WHERE mac = ?";
		*first = 1;
	}
	if (sql) {
		int r2 = db_prep(db, sql, &st);
		if (!r2) {
			db_bind_text(st, 1, id);
			r2 = db_step_done(db, st);
		}
		if (r2)
			return db_tx_end(db, r2);
	}
	if (rc == -ENOENT) {
		/* Commit the clearing; the caller gets -ENOENT. */
		int r3 = db_tx_end(db, 0);
		item[0] = 0;
		return r3 ? r3 : -ENOENT;
	}
	return db_tx_end(db, 0);
}
