/* images.c - image versions: immutable rows, numbers never reused. */
#include "clock.h"
#include "db_internal.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int fb_image_name_valid(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n >= FB_NAME_LEN || !isalnum((unsigned char)name[0]))
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];
		if (!(isalnum(c) || c == '.' || c == '_' || c == '-'))
			return 0;
	}
	return strcmp(name, "menu") != 0;
}

int fb_image_ref_parse(const char *ref, char name[FB_NAME_LEN], int *version)
{
	const char *at = strchr(ref, '@');
	size_t n = at ? (size_t)(at - ref) : strlen(ref);
	if (n == 0 || n >= FB_NAME_LEN)
		return -EINVAL;
	memcpy(name, ref, n);
	name[n] = 0;
	if (!fb_image_name_valid(name))
		return -EINVAL;
	*version = 0;
	if (at) {
		char *end;
		long v = strtol(at + 1, &end, 10);
		if (!isdigit((unsigned char)at[1]) || *end || v < 1 || v > 1000000000)
			return -EINVAL;
		*version = (int)v;
	}
	return 0;
}

#define IMAGE_COLS                                                                                 \
	"id, name, version, state, size, sha256, kernel_sha256, initrd_sha256, cmdline, dir, "     \
	"source, created, verity_root_hash, verity_salt, uki_sha256, kind"

static void row_to_image(sqlite3_stmt *st, struct fb_image *img)
{
	memset(img, 0, sizeof(*img));
	img->id = sqlite3_column_int64(st, 0);
	db_col_text(st, 1, img->name, sizeof(img->name));
	img->version = sqlite3_column_int(st, 2);
	db_col_text(st, 3, img->state, sizeof(img->state));
	img->size = sqlite3_column_int64(st, 4);
	db_col_text(st, 5, img->sha256, sizeof(img->sha256));
	db_col_text(st, 6, img->kernel_sha256, sizeof(img->kernel_sha256));
	db_col_text(st, 7, img->initrd_sha256, sizeof(img->initrd_sha256));
	db_col_text(st, 8, img->cmdline, sizeof(img->cmdline));
	db_col_text(st, 9, img->dir, sizeof(img->dir));
	db_col_text(st, 10, img->source, sizeof(img->source));
	img->created = sqlite3_column_int64(st, 11);
	db_col_text(st, 12, img->verity_root_hash, sizeof(img->verity_root_hash));
	db_col_text(st, 13, img->verity_salt, sizeof(img->verity_salt));
	db_col_text(st, 14, img->uki_sha256, sizeof(img->uki_sha256));
	db_col_text(st, 15, img->kind, sizeof(img->kind));
}

static int image_one(struct fb_db *db, sqlite3_stmt *st, struct fb_image *img, const char *what)
{
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		row_to_image(st, img);
		rc = 0;
	} else if (rc == SQLITE_DONE) {
		snprintf(db->err, sizeof(db->err), "no image %s", what);
		rc = -ENOENT;
	} else {
		rc = db_rc(db, rc);
	}
	sqlite3_finalize(st);
	return rc;
}

int fb_db_image_resolve(struct fb_db *db, const char *ref, struct fb_image *img)
{
	char name[FB_NAME_LEN];
	int version, rc;
	sqlite3_stmt *st;

	if (fb_image_ref_parse(ref, name, &version) < 0) {
		snprintf(db->err, sizeof(db->err),
		         "'%s' is not an image reference (NAME or NAME@VERSION)", ref);
		return -EINVAL;
	}
	if (version)
		rc = db_prep(db, "SELECT " IMAGE_COLS " FROM images WHERE name=? AND version=?",
		             &st);
	else
		rc = db_prep(db,
		             "SELECT " IMAGE_COLS " FROM images WHERE name=? AND state='ready'"
		             " ORDER BY version DESC LIMIT 1",
		             &st);
	if (rc)
		return rc;
	db_bind_text(st, 1, name);
	if (version)
		sqlite3_bind_int(st, 2, version);
	rc = image_one(db, st, img, ref);
	if (rc == -ENOENT && !version)
		snprintf(db->err, sizeof(db->err), "no ready version of image %s", name);
	return rc;
}

int fb_db_image_get_id(struct fb_db *db, int64_t id, struct fb_image *img)
{
	sqlite3_stmt *st;
	char what[32];
	int rc = db_prep(db, "SELECT " IMAGE_COLS " FROM images WHERE id=?", &st);
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	snprintf(what, sizeof(what), "#%lld", (long long)id);
	return image_one(db, st, img, what);
}

int fb_db_image_reserve_version(struct fb_db *db, const char *name, int *version)
{
	sqlite3_stmt *st;
	int rc;
	if (!fb_image_name_valid(name)) {
		snprintf(db->err, sizeof(db->err),
		         "'%s' is not a valid image name (letters, digits, '.', '_', '-')", name);
		return -EINVAL;
	}
	if ((rc = db_tx_begin(db)))
		return rc;
	/* The counter starts above any version already registered. */
	rc = db_prep(db,
	             "INSERT INTO image_versions(name, last) VALUES(?1,"
	             " 1 + coalesce((SELECT max(version) FROM images WHERE name=?1), 0))"
	             " ON CONFLICT(name) DO UPDATE SET last = last + 1",
	             &st);
	if (!rc) {
		db_bind_text(st, 1, name);
		rc = db_step_done(db, st);
	}
	if (!rc)
		rc = db_prep(db, "SELECT last FROM image_versions WHERE name=?", &st);
	if (!rc) {
		db_bind_text(st, 1, name);
		if (sqlite3_step(st) == SQLITE_ROW)
			*version = sqlite3_column_int(st, 0);
		else
			rc = -EIO;
		sqlite3_finalize(st);
	}
	return db_tx_end(db, rc);
}

int fb_db_image_add(struct fb_db *db, struct fb_image *img)
{
	sqlite3_stmt *st;
	int rc;
	if (!fb_image_name_valid(img->name) || img->version < 1) {
		snprintf(db->err, sizeof(db->err), "invalid image name or version");
		return -EINVAL;
	}
	if (!img->state[0])
		strcpy(img->state, "ready");
	if (!img->kind[0])
		strcpy(img->kind, "rootfs");
	img->created = fb_now();
	if ((rc = db_tx_begin(db)))
		return rc;
	rc = db_prep(db,
	             "INSERT INTO images(name, version, state, size, sha256, kernel_sha256,"
	             " initrd_sha256, cmdline, dir, source, created, verity_root_hash, verity_salt,"
	             " uki_sha256, kind) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
	             &st);
	if (!rc) {
		db_bind_text(st, 1, img->name);
		sqlite3_bind_int(st, 2, img->version);
		db_bind_text(st, 3, img->state);
		sqlite3_bind_int64(st, 4, img->size);
		db_bind_text(st, 5, img->sha256);
		db_bind_text(st, 6, img->kernel_sha256);
		db_bind_text(st, 7, img->initrd_sha256);
		db_bind_text(st, 8, img->cmdline);
		db_bind_text(st, 9, img->dir);
		db_bind_text(st, 10, img->source);
		sqlite3_bind_int64(st, 11, img->created);
		db_bind_text(st, 12, img->verity_root_hash);
		db_bind_text(st, 13, img->verity_salt);
		db_bind_text(st, 14, img->uki_sha256);
		db_bind_text(st, 15, img->kind);
		rc = db_step_done(db, st);
		if (rc == -EEXIST)
			snprintf(db->err, sizeof(db->err), "image %s@%d already exists", img->name,
			         img->version);
	}
	if (!rc)
		img->id = sqlite3_last_insert_rowid(db->h);
	return db_tx_end(db, rc);
}

/* One UPDATE of an image row: the texts bind to the statement's first
 * parameters (one or two), the row id to its last; -ENOENT for no row. */
static int image_update(struct fb_db *db, int64_t id, const char *sql, const char *t1,
                        const char *t2)
{
	sqlite3_stmt *st;
	int rc = db_prep(db, sql, &st);
	if (rc)
		return rc;
	int n = sqlite3_bind_parameter_count(st);
	db_bind_text(st, 1, t1);
	if (n == 3)
		db_bind_text(st, 2, t2);
	sqlite3_bind_int64(st, n, id);
	rc = db_step_done(db, st);
	if (!rc && sqlite3_changes(db->h) == 0)
		rc = -ENOENT;
	return rc;
}

int fb_db_image_set_state(struct fb_db *db, int64_t id, const char *state)
{
	return image_update(db, id, "UPDATE images SET state=? WHERE id=?", state, NULL);
}

int fb_db_image_set_verity(struct fb_db *db, int64_t id, const char *root_hash, const char *salt)
{
	return image_update(db, id,
	                    "UPDATE images SET verity_root_hash=?, verity_salt=? WHERE id=?",
	                    root_hash, salt);
}

int fb_db_image_set_uki(struct fb_db *db, int64_t id, const char *sha256)
{
	return image_update(db, id, "UPDATE images SET uki_sha256=? WHERE id=?", sha256, NULL);
}

int fb_db_image_list(struct fb_db *db, const char *name, fb_image_cb cb, void *arg)
{
	sqlite3_stmt *st;
	int rc = db_prep(db,
	                 "SELECT " IMAGE_COLS " FROM images WHERE ?1 IS NULL OR name = ?1"
	                 " ORDER BY name, version",
	                 &st);
	if (rc)
		return rc;
	db_bind_text(st, 1, name);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct fb_image img;
		row_to_image(st, &img);
		if (cb(arg, &img))
			break;
	}
	rc = (rc == SQLITE_ROW || rc == SQLITE_DONE) ? 0 : db_rc(db, rc);
	sqlite3_finalize(st);
	return rc;
}

int fb_db_image_users(struct fb_db *db, const char *name, int *count)
{
	sqlite3_stmt *st;
	int rc = db_prep(db,
	                 /* The effective image: the machine's own, else its group's. */
	                 "SELECT count(*) FROM (SELECT CASE WHEN m.image <> '' THEN m.image"
	                 " ELSE coalesce(g.image, '') END AS ref FROM machines m"
	                 " LEFT JOIN groups g ON g.name = m.grp)"
	                 " WHERE ref = ?1 OR substr(ref, 1, length(?1) + 1) = ?1 || '@'",
	                 &st);
	if (rc)
		return rc;
	db_bind_text(st, 1, name);
	*count = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
	sqlite3_finalize(st);
	return 0;
}

int fb_image_is_disk(const struct fb_image *img)
{
	return !strcmp(img->kind, "disk");
}

/* A whole disk boots its own loader, which writes where it likes: no RAM
 * overlay can be put under an arbitrary OS (readonly), and there is no
 * fleetboot initramfs to copy it to a local disk (install). */
int fb_db_machine_disk_check(struct fb_db *db, const struct fb_machine *m)
{
	struct fb_image img;
	if (m->mode != FB_MODE_READONLY && m->mode != FB_MODE_INSTALL)
		return 0;
	if (!m->image[0] || !strcmp(m->image, "menu") ||
	    fb_db_image_resolve(db, m->image, &img) < 0)
		return 0;
	if (!fb_image_is_disk(&img))
		return 0;
	snprintf(db->err, sizeof(db->err),
	         "mode %s: %s is a whole-disk image, served only as persistent or ephemeral "
	         "(its own OS writes to it; no RAM overlay or local install under it)",
	         fb_mode_name(m->mode), m->image);
	return -EINVAL;
}
