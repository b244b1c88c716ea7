/*
 * groups.c - groups: shared settings for many machines, and the effective
 * settings of a machine.
 *
 * Every group setting is optional ('' or -1 in the table = not set). A
 * machine's effective image, mode, protocol, loader and Secure Boot
 * setting is its own when it has one, else its group's, else the default
 * (unassigned, persistent, nbd, ipxe, off). fb_db_machine_get, _by_ip and
 * _list return the effective values with where each came from, so the
 * daemons and the web read one struct and know nothing of groups. A
 * group's menu default and timeout ride along in the machine's struct for
 * bootd's menu.
 */
#include "clock.h"
#include "db_internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define WHY(...) (snprintf(why, whylen, __VA_ARGS__), -EINVAL)

static const char *const origin_names[] = {"default", "group", "machine", "inherit"};

const char *fb_origin_name(enum fb_origin o)
{
	return (unsigned)o < sizeof(origin_names) / sizeof(origin_names[0]) ? origin_names[o]
	                                                                    : NULL;
}

int fb_group_validate(const struct fb_group *g, char *why, size_t whylen)
{
	char name[FB_NAME_LEN];
	int ver;
	enum fb_mode mode;
	enum fb_protocol proto;

	if (!db_name_ok(g->name))
		return WHY("name: '%s' is not a valid group name (letters, digits, '-', '_', '.')",
		           g->name);
	if (g->image[0] && strcmp(g->image, "menu") && fb_image_ref_parse(g->image, name, &ver) < 0)
		return WHY("image: '%s' is not NAME, NAME@VERSION or menu", g->image);
	if (g->mode[0] && fb_mode_parse(g->mode, &mode) < 0)
		return WHY("mode: '%s' is not one of persistent, ephemeral, readonly, install",
		           g->mode);
	if (g->protocol[0] && fb_protocol_parse(g->protocol, &proto) < 0)
		return WHY("protocol: '%s' is not nbd or iscsi", g->protocol);
	if (g->loader[0] && strcmp(g->loader, "ipxe") && strcmp(g->loader, "pxelinux"))
		return WHY("loader: '%s' is not ipxe or pxelinux", g->loader);
	if (g->secure_boot[0] && strcmp(g->secure_boot, "on") && strcmp(g->secure_boot, "off"))
		return WHY("secure-boot: '%s' is not on or off", g->secure_boot);
	/* As for a machine (cli/cmd_machine.c): a verified root runs only
	 * readonly, under a RAM overlay on the client. */
	if (!strcmp(g->secure_boot, "on") && g->mode[0] && strcmp(g->mode, "readonly"))
		return WHY("secure-boot: on needs mode readonly (a verified dm-verity root takes "
		           "no writes), not %s",
		           g->mode);
	if (g->menu_default[0] && strcmp(g->menu_default, "local") &&
	    fb_image_ref_parse(g->menu_default, name, &ver) < 0)
		return WHY("menu-default: '%s' is not local, an image or an entry",
		           g->menu_default);
	if (g->menu_timeout < -1 || g->menu_timeout > 3600)
		return WHY("menu-timeout: %d is not a number of seconds from 0 to 3600",
		           g->menu_timeout);
	return 0;
}

/* The image and menu default a group names must be there now (a group
 * pointing at nothing would only fail later, at boot). */
static int refs_exist(struct fb_db *db, const struct fb_group *g)
{
	struct fb_image img;
	struct fb_entry e;
	if (g->image[0] && strcmp(g->image, "menu")) {
		if (fb_db_image_resolve(db, g->image, &img) < 0) {
			snprintf(db->err, sizeof(db->err), "image: no image %s", g->image);
			return -EINVAL;
		}
		if (strcmp(img.state, "ready")) {
			snprintf(db->err, sizeof(db->err), "image: %s@%d is retired", img.name,
			         img.version);
			return -EINVAL;
		}
	}
	if (g->menu_default[0] && strcmp(g->menu_default, "local") &&
	    fb_db_entry_get(db, g->menu_default, &e) < 0 &&
	    fb_db_image_resolve(db, g->menu_default, &img) < 0) {
		snprintf(db->err, sizeof(db->err), "menu-default: no image or entry named %s",
		         g->menu_default);
		return -EINVAL;
	}
	return 0;
}

static int check(struct fb_db *db, const struct fb_group *g)
{
	char why[256];
	if (fb_group_validate(g, why, sizeof(why)) < 0) {
		snprintf(db->err, sizeof(db->err), "%s", why);
		return -EINVAL;
	}
	return refs_exist(db, g);
}

#define GROUP_COLS                                                                                 \
	"name, image, mode, protocol, loader, secure_boot, menu_default, menu_timeout, created, "  \
	"(SELECT count(*) FROM machines WHERE grp = groups.name)"

static void row_to_group(sqlite3_stmt *st, struct fb_group *g)
{
	memset(g, 0, sizeof(*g));
	db_col_text(st, 0, g->name, sizeof(g->name));
	db_col_text(st, 1, g->image, sizeof(g->image));
	db_col_text(st, 2, g->mode, sizeof(g->mode));
	db_col_text(st, 3, g->protocol, sizeof(g->protocol));
	db_col_text(st, 4, g->loader, sizeof(g->loader));
	db_col_text(st, 5, g->secure_boot, sizeof(g->secure_boot));
	db_col_text(st, 6, g->menu_default, sizeof(g->menu_default));
	g->menu_timeout = sqlite3_column_int(st, 7);
	g->created = sqlite3_column_int64(st, 8);
	g->machines = sqlite3_column_int(st, 9);
}

static void bind_settings(sqlite3_stmt *st, const struct fb_group *g)
{
	db_bind_text(st, 1, g->image);
	db_bind_text(st, 2, g->mode);
	db_bind_text(st, 3, g->protocol);
	db_bind_text(st, 4, g->loader);
	db_bind_text(st, 5, g->secure_boot);
	db_bind_text(st, 6, g->menu_default);
	sqlite3_bind_int(st, 7, g->menu_timeout);
	db_bind_text(st, 8, g->name);
}

int fb_db_group_get(struct fb_db *db, const char *name, struct fb_group *g)
{
	sqlite3_stmt *st;
	int rc = db_prep(db, "SELECT " GROUP_COLS " FROM groups WHERE name = ?", &st);
	if (rc)
		return rc;
	db_bind_text(st, 1, name);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		row_to_group(st, g);
		rc = 0;
	} else if (rc == SQLITE_DONE) {
		snprintf(db->err, sizeof(db->err), "no group %s", name);
		rc = -ENOENT;
	} else {
		rc = db_rc(db, rc);
	}
	sqlite3_finalize(st);
	return rc;
}

int fb_db_group_add(struct fb_db *db, struct fb_group *g)
{
	sqlite3_stmt *st;
	struct fb_group old;
	int rc;
	if ((rc = db_tx_begin(db)))
		return rc;
	if ((rc = check(db, g)))
		return db_tx_end(db, rc);
	if (fb_db_group_get(db, g->name, &old) == 0) {
		snprintf(db->err, sizeof(db->err), "group %s already exists", g->name);
		return db_tx_end(db, -EEXIST);
	}
	g->created = fb_now();
	rc = db_prep(db,
	             "INSERT INTO groups(image, mode, protocol, loader, secure_boot, menu_default,"
	             " menu_timeout, name, created) VALUES(?,?,?,?,?,?,?,?,?)",
	             &st);
	if (!rc) {
		bind_settings(st, g);
		sqlite3_bind_int64(st, 9, g->created);
		rc = db_step_done(db, st);
	}
	return db_tx_end(db, rc);
}

int fb_db_group_update(struct fb_db *db, const struct fb_group *g)
{
	sqlite3_stmt *st;
	int rc;
	if ((rc = db_tx_begin(db)))
		return rc;
	if ((rc = check(db, g)))
		return db_tx_end(db, rc);
	rc = db_prep(db,
	             "UPDATE groups SET image=?, mode=?, protocol=?, loader=?, secure_boot=?,"
	             " menu_default=?, menu_timeout=? WHERE name=?",
	             &st);
	if (!rc) {
		bind_settings(st, g);
		rc = db_step_done(db, st);
	}
	if (!rc && sqlite3_changes(db->h) == 0) {
		snprintf(db->err, sizeof(db->err), "no group %s", g->name);
		rc = -ENOENT;
	}
	if (!rc)
		rc = db_secure_boot_check(db, NULL, g->name, 0);
	return db_tx_end(db, rc);
}

int fb_db_group_delete(struct fb_db *db, const char *name, int force, int *machines)
{
	struct fb_group g;
	sqlite3_stmt *st;
	int rc;
	*machines = 0;
	if ((rc = db_tx_begin(db)))
		return rc;
	if ((rc = fb_db_group_get(db, name, &g)))
		return db_tx_end(db, rc);
	*machines = g.machines;
	if (g.machines && !force) {
		snprintf(db->err, sizeof(db->err),
		         "group %s is in use by %d machine%s; move them out first, or remove it "
		         "with force (rm --force, ?force=1) to take them out of it",
		         name, g.machines, g.machines == 1 ? "" : "s");
		return db_tx_end(db, -ENOTEMPTY);
	}
	/* Machines taken out keep their own settings and lose the group's. */
	if ((rc = db_secure_boot_check(db, NULL, name, 1)))
		return db_tx_end(db, rc);
	rc = db_prep(db, "UPDATE machines SET grp = NULL WHERE grp = ?", &st);
	if (!rc) {
		db_bind_text(st, 1, name);
		rc = db_step_done(db, st);
	}
	if (!rc)
		rc = db_delete_key(db, "DELETE FROM groups WHERE name = ?", name, "group");
	return db_tx_end(db, rc);
}

int fb_db_group_list(struct fb_db *db, fb_group_cb cb, void *arg)
{
	sqlite3_stmt *st;
	int rc = db_prep(db, "SELECT " GROUP_COLS " FROM groups ORDER BY name", &st);
	if (rc)
		return rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct fb_group g;
		row_to_group(st, &g);
		if (cb(arg, &g))
			break;
	}
	rc = (rc == SQLITE_ROW || rc == SQLITE_DONE) ? 0 : db_rc(db, rc);
	sqlite3_finalize(st);
	return rc;
}

/* One text setting: the machine's own (non-empty), else the group's, else
 * the default. */
static void pick_text(char *val, size_t len, const char *grp, const char *def, enum fb_origin *from)
{
	if (val[0]) {
		*from = FB_FROM_MACHINE;
	} else if (grp && grp[0]) {
		snprintf(val, len, "%s", grp);
		*from = FB_FROM_GROUP;
	} else {
		snprintf(val, len, "%s", def);
		*from = FB_FROM_DEFAULT;
	}
}

void db_machine_effective(struct fb_machine *m, int mode_own, int protocol_own,
                          const struct fb_group *g)
{
	pick_text(m->image, sizeof(m->image), g ? g->image : NULL, "", &m->from.image);
	if (!m->image[0])
		m->from.image = FB_FROM_DEFAULT;
	pick_text(m->loader, sizeof(m->loader), g ? g->loader : NULL, "ipxe", &m->from.loader);
	pick_text(m->secure_boot, sizeof(m->secure_boot), g ? g->secure_boot : NULL, "off",
	          &m->from.secure_boot);
	m->from.mode = FB_FROM_MACHINE;
	if (!mode_own) {
		m->from.mode =
		    g && fb_mode_parse(g->mode, &m->mode) == 0 ? FB_FROM_GROUP : FB_FROM_DEFAULT;
		if (m->from.mode == FB_FROM_DEFAULT)
			m->mode = FB_MODE_PERSISTENT;
	}
	m->from.protocol = FB_FROM_MACHINE;
	if (!protocol_own) {
		m->from.protocol = g && fb_protocol_parse(g->protocol, &m->protocol) == 0
		                       ? FB_FROM_GROUP
		                       : FB_FROM_DEFAULT;
		if (m->from.protocol == FB_FROM_DEFAULT)
			m->protocol = FB_PROTOCOL_NBD;
	}
	m->menu_default[0] = 0;
	m->menu_timeout = -1;
	if (g) {
		snprintf(m->menu_default, sizeof(m->menu_default), "%s", g->menu_default);
		m->menu_timeout = g->menu_timeout;
	}
}

/* Is a text setting the machine's own: pinned, or changed from what it
 * inherited (cur), and not asked to inherit. */
static int own_text(const char *val, const char *cur, enum fb_origin from)
{
	if (from == FB_FROM_INHERIT || !val[0])
		return 0;
	return from == FB_FROM_MACHINE || strcmp(val, cur);
}

void db_machine_own(const struct fb_machine *m, const struct fb_machine *cur,
                    struct db_machine_own *o)
{
	o->image = own_text(m->image, cur->image, m->from.image) ? m->image : "";
	o->loader = own_text(m->loader, cur->loader, m->from.loader) ? m->loader : "";
	o->secure_boot =
	    own_text(m->secure_boot, cur->secure_boot, m->from.secure_boot) ? m->secure_boot : "";
	o->mode_own = m->from.mode != FB_FROM_INHERIT &&
	              (m->from.mode == FB_FROM_MACHINE || m->mode != cur->mode);
	o->protocol_own = m->from.protocol != FB_FROM_INHERIT &&
	                  (m->from.protocol == FB_FROM_MACHINE || m->protocol != cur->protocol);
}

void db_machine_defaults(struct fb_machine *m)
{
	memset(m, 0, sizeof(*m));
	db_machine_effective(m, 0, 0, NULL);
}
