/* machines.c - the machines table: one row per MAC. */
#include "clock.h"
#include "db_internal.h"
#include "secret.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

int db_name_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n >= FB_NAME_LEN)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!(isalnum(c) || c == '-' || c == '_' || c == '.'))
			return 0;
	}
	return isalnum((unsigned char)s[0]);
}

#define WHY(...) (snprintf(why, whylen, __VA_ARGS__), -EINVAL)

/* Indexed by enum fb_mode and enum fb_protocol: the names the database's
 * CHECK constraints allow (db/schema.c). */
static const char *const mode_names[] = {"persistent", "ephemeral", "readonly", "install"};
static const char *const protocol_names[] = {"nbd", "iscsi"};
#define N_MODES     (sizeof(mode_names) / sizeof(mode_names[0]))
#define N_PROTOCOLS (sizeof(protocol_names) / sizeof(protocol_names[0]))

static int name_index(const char *const *names, size_t n, const char *s)
{
	for (size_t i = 0; s && i < n; i++)
		if (!strcmp(s, names[i]))
			return (int)i;
	return -EINVAL;
}

int fb_mode_parse(const char *s, enum fb_mode *out)
{
	int i = name_index(mode_names, N_MODES, s);
	if (i < 0)
		return i;
	*out = (enum fb_mode)i;
	return 0;
}

int fb_protocol_parse(const char *s, enum fb_protocol *out)
{
	int i = name_index(protocol_names, N_PROTOCOLS, s);
	if (i < 0)
		return i;
	*out = (enum fb_protocol)i;
	return 0;
}

const char *fb_mode_name(enum fb_mode mode)
{
	return (unsigned)mode < N_MODES ? mode_names[mode] : NULL;
}

const char *fb_protocol_name(enum fb_protocol protocol)
{
	return (unsigned)protocol < N_PROTOCOLS ? protocol_names[protocol] : NULL;
}

/* Both validations in one: mode_text and proto_text, when not NULL, stand
 * for m's own fields and their parsed values go to *mode and *proto. */
static int validate(const struct fb_machine *m, const char *mode_text, const char *proto_text,
                    enum fb_mode *mode, enum fb_protocol *proto, char *why, size_t whylen)
{
	char id[FB_MACID_LEN], name[FB_NAME_LEN];
	int ver;
	struct in_addr a;

	if (macid_normalize(m->mac, id) < 0)
		return WHY("mac: '%s' is not a MAC address (52:54:00:12:34:56)", m->mac);
	if (m->name[0] && !db_name_ok(m->name))
		return WHY("name: '%s' is not a valid host name (letters, digits, '-', '_', '.')",
		           m->name);
	if (m->image[0] && strcmp(m->image, "menu") && fb_image_ref_parse(m->image, name, &ver) < 0)
		return WHY("image: '%s' is not NAME, NAME@VERSION or menu", m->image);
	*mode = m->mode;
	if (mode_text && fb_mode_parse(mode_text, mode) < 0)
		return WHY("mode: '%s' is not one of persistent, ephemeral, readonly, install",
		           mode_text);
	if (!fb_mode_name(*mode))
		return WHY("mode: %d is not one of persistent, ephemeral, readonly, install",
		           (int)*mode);
	*proto = m->protocol;
	if (proto_text && fb_protocol_parse(proto_text, proto) < 0)
		return WHY("protocol: '%s' is not nbd or iscsi", proto_text);
	if (!fb_protocol_name(*proto))
		return WHY("protocol: %d is not nbd or iscsi", (int)*proto);
	if (m->ip[0] && ip4_parse(m->ip, &a) < 0)
		return WHY("ip: '%s' is not an IPv4 address", m->ip);
	if (m->group[0] && !db_name_ok(m->group))
		return WHY("group: '%s' is not a valid group name", m->group);
	if (m->loader[0] && strcmp(m->loader, "ipxe") && strcmp(m->loader, "pxelinux"))
		return WHY("loader: '%s' is not ipxe or pxelinux", m->loader);
	if (m->secure_boot[0] && strcmp(m->secure_boot, "on") && strcmp(m->secure_boot, "off"))
		return WHY("secure-boot: '%s' is not on or off", m->secure_boot);
	if (m->secret[0]) {
		if (strlen(m->secret) != 32)
			return WHY("secret: must be 32 hex characters");
		for (int i = 0; i < 32; i++)
			if (!isxdigit((unsigned char)m->secret[i]) ||
			    isupper((unsigned char)m->secret[i]))
				return WHY("secret: must be 32 lower-case hex characters");
	}
	return 0;
}

int fb_machine_validate(const struct fb_machine *m, char *why, size_t whylen)
{
	enum fb_mode mode;
	enum fb_protocol proto;
	return validate(m, NULL, NULL, &mode, &proto, why, whylen);
}

int fb_machine_validate_text(struct fb_machine *m, const char *mode, const char *protocol,
                             char *why, size_t whylen)
{
	enum fb_mode md;
	enum fb_protocol pr;
	int rc = validate(m, mode, protocol, &md, &pr, why, whylen);
	if (rc < 0)
		return rc;
	m->mode = md;
	m->protocol = pr;
	return 0;
}

struct sb_scan {
	struct fb_db *db;
	const char *mac;   /* one machine, or */
	const char *group; /* every machine of a group */
	int ungrouped;     /* judged as if taken out of its group */
	int bad;
};

static int sb_scan_cb(void *arg, const struct fb_machine *m)
{
	struct sb_scan *s = arg;
	if (s->mac ? strcmp(m->mac, s->mac) : strcmp(m->group, s->group))
		return 0;
	enum fb_mode mode = m->mode;
	enum fb_origin mode_from = m->from.mode, sb_from = m->from.secure_boot;
	int sb = !strcmp(m->secure_boot, "on");
	if (s->ungrouped && mode_from != FB_FROM_MACHINE) {
		mode = FB_MODE_PERSISTENT;
		mode_from = FB_FROM_DEFAULT;
	}
	if (s->ungrouped && sb_from != FB_FROM_MACHINE)
		sb = 0;
	if (!sb || mode == FB_MODE_READONLY)
		return 0;
	snprintf(s->db->err, sizeof(s->db->err),
	         "secure-boot on: a Secure Boot machine boots a verified (dm-verity) root, which "
	         "only --mode readonly can run on; mode %s would write blocks the root hash covers "
	         "(machine %s: secure-boot from %s, mode from %s)",
	         fb_mode_name(mode), m->mac, fb_origin_name(sb_from), fb_origin_name(mode_from));
	s->bad = 1;
	return 1;
}

/* A Secure Boot machine's root is checked block by block against the
 * version's dm-verity root hash; the server's copy-on-write (persistent,
 * ephemeral) and install mode's writes would change blocks under it. Only
 * readonly (a RAM overlay on the client) runs on a verified root. Checked
 * on the effective settings, inside the transaction that changed them, so a
 * machine's own setting, its group's and "inherit" are all judged the same
 * way (CLI and REST alike); -EINVAL with the reason when one breaks it. */
int db_secure_boot_check(struct fb_db *db, const char *mac, const char *group, int ungrouped)
{
	struct sb_scan s = {db, mac, group, ungrouped, 0};
	int rc = fb_db_machine_list(db, sb_scan_cb, &s);
	return rc ? rc : s.bad ? -EINVAL : 0;
}

static int ensure_group(struct fb_db *db, const char *group)
{
	sqlite3_stmt *st;
	if (!group[0])
		return 0;
	int rc = db_prep(db, "INSERT OR IGNORE INTO groups(name, created) VALUES(?, ?)", &st);
	if (rc)
		return rc;
	db_bind_text(st, 1, group);
	sqlite3_bind_int64(st, 2, fb_now());
	return db_step_done(db, st);
}

static int ip_taken(struct fb_db *db, const char *ip, const char *mac)
{
	struct fb_machine other;
	if (!ip[0])
		return 0;
	if (fb_db_machine_by_ip(db, ip, &other) == 0 && strcmp(other.mac, mac)) {
		snprintf(db->err, sizeof(db->err), "ip: %s is already reserved for %s", ip,
		         other.mac);
		return 1;
	}
	return 0;
}

int fb_db_machine_add(struct fb_db *db, struct fb_machine *m)
{
	char why[256];
	sqlite3_stmt *st;
	int rc;

	if (macid_normalize(m->mac, m->mac) < 0 || fb_machine_validate(m, why, sizeof(why))) {
		fb_machine_validate(m, why, sizeof(why));
		snprintf(db->err, sizeof(db->err), "%s", why);
		return -EINVAL;
	}
	if (!m->secret[0] && fb_random_hex(m->secret, 16) < 0)
		return -errno;
	m->created = fb_now();
	if ((rc = db_tx_begin(db)))
		return rc;
	struct fb_machine old;
	if (fb_db_machine_get(db, m->mac, &old) == 0) {
		snprintf(db->err, sizeof(db->err), "machine %s already exists", m->mac);
		return db_tx_end(db, -EEXIST);
	}
	if (ip_taken(db, m->ip, m->mac))
		return db_tx_end(db, -EEXIST);
	if ((rc = fb_db_machine_disk_check(db, m)))
		return db_tx_end(db, rc);
	/* What the caller left at the default is not set here: the group's
	 * setting, if any, applies (groups.c). */
	struct fb_machine def;
	struct db_machine_own own;
	db_machine_defaults(&def);
	db_machine_own(m, &def, &own);
	rc = ensure_group(db, m->group);
	if (!rc)
		rc = db_prep(
		    db,
		    "INSERT INTO machines(mac, name, image, mode, protocol, ip, grp, secret,"
		    " created, registered, loader, secure_boot, mode_own, protocol_own)"
		    " VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
		    &st);
	if (!rc) {
		db_bind_text(st, 1, m->mac);
		db_bind_text(st, 2, m->name);
		db_bind_text(st, 3, own.image);
		db_bind_text(st, 4, fb_mode_name(m->mode));
		db_bind_text(st, 5, fb_protocol_name(m->protocol));
		db_bind_text(st, 6, m->ip[0] ? m->ip : NULL);
		db_bind_text(st, 7, m->group[0] ? m->group : NULL);
		db_bind_text(st, 8, m->secret);
		sqlite3_bind_int64(st, 9, m->created);
		sqlite3_bind_int(st, 10, m->registered);
		db_bind_text(st, 11, own.loader);
		db_bind_text(st, 12, own.secure_boot);
		sqlite3_bind_int(st, 13, own.mode_own);
		sqlite3_bind_int(st, 14, own.protocol_own);
		rc = db_step_done(db, st);
	}
	if (!rc)
		rc = db_secure_boot_check(db, m->mac, NULL, 0);
	return db_tx_end(db, rc);
}

/* A machine's row with its group's settings (NULL without a group). */
#define MACHINE_SELECT                                                                             \
	"SELECT m.mac, m.name, m.image, m.mode, m.protocol, m.ip, m.grp, m.secret, m.stage,"       \
	" m.last_seen, m.created, m.registered, m.next_boot, m.next_boot_seq, m.loader,"           \
	" m.secure_boot, m.mode_own, m.protocol_own, g.name, g.image, g.mode, g.protocol,"         \
	" g.loader, g.secure_boot, g.menu_default, g.menu_timeout"                                 \
	" FROM machines m LEFT JOIN groups g ON g.name = m.grp"

static void row_to_machine(sqlite3_stmt *st, struct fb_machine *m)
{
	memset(m, 0, sizeof(*m));
	db_col_text(st, 0, m->mac, sizeof(m->mac));
	db_col_text(st, 1, m->name, sizeof(m->name));
	db_col_text(st, 2, m->image, sizeof(m->image));
	/* The schema's CHECK constraints admit only the names these parse. */
	fb_mode_parse((const char *)sqlite3_column_text(st, 3), &m->mode);
	fb_protocol_parse((const char *)sqlite3_column_text(st, 4), &m->protocol);
	db_col_text(st, 5, m->ip, sizeof(m->ip));
	db_col_text(st, 6, m->group, sizeof(m->group));
	db_col_text(st, 7, m->secret, sizeof(m->secret));
	db_col_text(st, 8, m->stage, sizeof(m->stage));
	m->last_seen = sqlite3_column_int64(st, 9);
	m->created = sqlite3_column_int64(st, 10);
	m->registered = sqlite3_column_int(st, 11);
	db_col_text(st, 12, m->next_boot, sizeof(m->next_boot));
	m->next_boot_seq = sqlite3_column_int64(st, 13);
	db_col_text(st, 14, m->loader, sizeof(m->loader));
	db_col_text(st, 15, m->secure_boot, sizeof(m->secure_boot));
	struct fb_group g;
	memset(&g, 0, sizeof(g));
	int has_group = sqlite3_column_type(st, 18) != SQLITE_NULL;
	if (has_group) {
		db_col_text(st, 18, g.name, sizeof(g.name));
		db_col_text(st, 19, g.image, sizeof(g.image));
		db_col_text(st, 20, g.mode, sizeof(g.mode));
		db_col_text(st, 21, g.protocol, sizeof(g.protocol));
		db_col_text(st, 22, g.loader, sizeof(g.loader));
		db_col_text(st, 23, g.secure_boot, sizeof(g.secure_boot));
		db_col_text(st, 24, g.menu_default, sizeof(g.menu_default));
		g.menu_timeout = sqlite3_column_int(st, 25);
	}
	db_machine_effective(m, sqlite3_column_int(st, 16), sqlite3_column_int(st, 17),
	                     has_group ? &g : NULL);
}

static int machine_get_by(struct fb_db *db, const char *sql, const char *key, struct fb_machine *m)
{
	sqlite3_stmt *st;
	int rc = db_prep(db, sql, &st);
	if (rc)
		return rc;
	db_bind_text(st, 1, key);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		row_to_machine(st, m);
		rc = 0;
	} else if (rc == SQLITE_DONE) {
		snprintf(db->err, sizeof(db->err), "no machine %s", key);
		rc = -ENOENT;
	} else {
		rc = db_rc(db, rc);
	}
	sqlite3_finalize(st);
	return rc;
}

int fb_db_machine_get(struct fb_db *db, const char *mac, struct fb_machine *m)
{
	char id[FB_MACID_LEN];
	int rc = db_macid(db, mac, id);
	if (rc < 0)
		return rc;
	return machine_get_by(db, MACHINE_SELECT " WHERE m.mac = ?", id, m);
}

int fb_db_machine_by_ip(struct fb_db *db, const char *ip, struct fb_machine *m)
{
	return machine_get_by(db, MACHINE_SELECT " WHERE m.ip = ?", ip, m);
}

int fb_db_machine_update(struct fb_db *db, const struct fb_machine *m)
{
	char why[256], id[FB_MACID_LEN];
	sqlite3_stmt *st;
	int rc;

	if (fb_machine_validate(m, why, sizeof(why))) {
		snprintf(db->err, sizeof(db->err), "%s", why);
		return -EINVAL;
	}
	macid_normalize(m->mac, id);
	if ((rc = db_tx_begin(db)))
		return rc;
	struct fb_machine old;
	if ((rc = fb_db_machine_get(db, id, &old)))
		return db_tx_end(db, rc);
	if (ip_taken(db, m->ip, id))
		return db_tx_end(db, -EEXIST);
	if ((rc = fb_db_machine_disk_check(db, m)))
		return db_tx_end(db, rc);
	/* A setting left as it was stays inherited; a changed one becomes the
	 * machine's own (groups.c). */
	struct db_machine_own own;
	db_machine_own(m, &old, &own);
	rc = ensure_group(db, m->group);
	if (!rc)
		rc = db_prep(db,
		             "UPDATE machines SET name=?, image=?, mode=?, protocol=?, ip=?, grp=?,"
		             " secret=?, registered=?, loader=?, secure_boot=?, mode_own=?,"
		             " protocol_own=? WHERE mac=?",
		             &st);
	if (!rc) {
		db_bind_text(st, 1, m->name);
		db_bind_text(st, 2, own.image);
		db_bind_text(st, 3, fb_mode_name(m->mode));
		db_bind_text(st, 4, fb_protocol_name(m->protocol));
		db_bind_text(st, 5, m->ip[0] ? m->ip : NULL);
		db_bind_text(st, 6, m->group[0] ? m->group : NULL);
		db_bind_text(st, 7, m->secret[0] ? m->secret : old.secret);
		/* Assigning an image makes a registered unknown machine a known one. */
		sqlite3_bind_int(st, 8,
		                 m->image[0] && strcmp(m->image, "menu") ? 0 : m->registered);
		db_bind_text(st, 9, own.loader);
		db_bind_text(st, 10, own.secure_boot);
		sqlite3_bind_int(st, 11, own.mode_own);
		sqlite3_bind_int(st, 12, own.protocol_own);
		db_bind_text(st, 13, id);
		rc = db_step_done(db, st);
	}
	if (!rc)
		rc = db_secure_boot_check(db, id, NULL, 0);
	return db_tx_end(db, rc);
}

int fb_db_machine_delete(struct fb_db *db, const char *mac)
{
	char id[FB_MACID_LEN];
	int rc;
	if ((rc = db_macid(db, mac, id)) < 0)
		return rc;
	if ((rc = db_tx_begin(db)))
		return rc;
	return db_tx_end(db,
	                 db_delete_key(db, "DELETE FROM machines WHERE mac = ?", id, "machine"));
}

int fb_db_machine_list(struct fb_db *db, fb_machine_cb cb, void *arg)
{
	sqlite3_stmt *st;
	int rc = db_prep(db, MACHINE_SELECT " ORDER BY m.mac", &st);
	if (rc)
		return rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct fb_machine m;
		row_to_machine(st, &m);
		if (cb(arg, &m))
			break;
	}
	rc = (rc == SQLITE_ROW || rc == SQLITE_DONE) ? 0 : db_rc(db, rc);
	sqlite3_finalize(st);
	return rc;
}

int fb_db_machine_new_boot(struct fb_db *db, const char *mac, int64_t *boot_seq)
{
	sqlite3_stmt *st;
	int rc = db_prep(db, "UPDATE machines SET boot_seq = boot_seq + 1 WHERE mac = ?", &st);
	if (rc)
		return rc;
	db_bind_text(st, 1, mac);
	rc = db_step_done(db, st);
	if (!rc && sqlite3_changes(db->h) == 0)
		rc = -ENOENT;
	if (!rc && boot_seq)
		rc = fb_db_machine_boot_seq(db, mac, boot_seq);
	return rc;
}

int fb_db_machine_boot_seq(struct fb_db *db, const char *mac, int64_t *boot_seq)
{
	sqlite3_stmt *st;
	int rc = db_prep(db, "SELECT boot_seq FROM machines WHERE mac = ?", &st);
	if (rc)
		return rc;
	db_bind_text(st, 1, mac);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*boot_seq = sqlite3_column_int64(st, 0);
		rc = 0;
	} else {
		rc = rc == SQLITE_DONE ? -ENOENT : db_rc(db, rc);
	}
	sqlite3_finalize(st);
	return rc;
}
