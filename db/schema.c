/*
 * schema.c - the schema and its migrations. PRAGMA user_version holds the
 * number of migrations applied; each runs in its own transaction, so a crash
 * mid-migration leaves the previous version intact. Never edit a released
 * migration: append a new one.
 */
#include "db_internal.h"

#include <errno.h>
#include <stdio.h>

static const char *const migrations[] = {
    /* 1: the first schema. */
    "CREATE TABLE groups(\n"
    "  name TEXT PRIMARY KEY,\n"
    "  created INTEGER NOT NULL);\n"
    "CREATE TABLE images(\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  name TEXT NOT NULL,\n"
    "  version INTEGER NOT NULL CHECK(version > 0),\n"
    "  state TEXT NOT NULL CHECK(state IN ('ready','retired')),\n"
    "  size INTEGER NOT NULL,\n"
    "  sha256 TEXT NOT NULL,\n"
    "  kernel_sha256 TEXT NOT NULL,\n"
    "  initrd_sha256 TEXT NOT NULL,\n"
    "  cmdline TEXT NOT NULL DEFAULT '',\n"
    "  dir TEXT NOT NULL,\n"
    "  source TEXT NOT NULL DEFAULT '',\n"
    "  created INTEGER NOT NULL,\n"
    "  UNIQUE(name, version));\n"
    /* Version numbers are reserved here before an import starts, so a
     * number is never handed out twice, even when an import fails. */
    "CREATE TABLE image_versions(\n"
    "  name TEXT PRIMARY KEY,\n"
    "  last INTEGER NOT NULL);\n"
    "CREATE TABLE machines(\n"
    "  mac TEXT PRIMARY KEY,\n"
    "  name TEXT NOT NULL DEFAULT '',\n"
    "  image TEXT NOT NULL DEFAULT '',\n"
    "  mode TEXT NOT NULL CHECK(mode IN ('persistent','ephemeral','readonly','install')),\n"
    "  protocol TEXT NOT NULL CHECK(protocol IN ('nbd','iscsi')),\n"
    "  ip TEXT UNIQUE,\n"
    "  grp TEXT REFERENCES groups(name) ON UPDATE CASCADE,\n"
    "  secret TEXT NOT NULL,\n"
    "  stage TEXT NOT NULL DEFAULT '',\n"
    "  last_seen INTEGER NOT NULL DEFAULT 0,\n"
    "  created INTEGER NOT NULL,\n"
    "  registered INTEGER NOT NULL DEFAULT 0,\n"
    "  boot_seq INTEGER NOT NULL DEFAULT 0);\n"
    "CREATE TABLE overlays(\n"
    "  mac TEXT PRIMARY KEY REFERENCES machines(mac) ON DELETE CASCADE,\n"
    "  image_id INTEGER NOT NULL REFERENCES images(id),\n"
    "  path TEXT NOT NULL,\n"
    "  bytes INTEGER NOT NULL DEFAULT 0,\n"
    "  reset_pending INTEGER NOT NULL DEFAULT 0,\n"
    "  created INTEGER NOT NULL,\n"
    "  boot_seq INTEGER NOT NULL DEFAULT 0);\n"
    "CREATE TABLE leases(\n"
    "  mac TEXT PRIMARY KEY,\n"
    "  ip TEXT NOT NULL,\n"
    "  expires INTEGER NOT NULL,\n"
    "  hostname TEXT NOT NULL DEFAULT '',\n"
    "  state TEXT NOT NULL DEFAULT 'bound');\n"
    "CREATE INDEX leases_ip ON leases(ip);\n"
    "CREATE TABLE events(\n"
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,\n"
    "  time_ms INTEGER NOT NULL,\n"
    "  mac TEXT NOT NULL,\n"
    "  stage TEXT NOT NULL,\n"
    "  detail TEXT NOT NULL DEFAULT '');\n"
    "CREATE INDEX events_mac ON events(mac, id);\n"
    "CREATE TABLE users(\n"
    "  name TEXT PRIMARY KEY,\n"
    "  pwhash TEXT NOT NULL,\n"
    "  created INTEGER NOT NULL);\n"
    "CREATE TABLE tokens(\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  name TEXT NOT NULL UNIQUE,\n"
    "  hash TEXT NOT NULL UNIQUE,\n"
    "  created INTEGER NOT NULL,\n"
    "  last_used INTEGER NOT NULL DEFAULT 0);\n"
    "CREATE TABLE settings(\n"
    "  key TEXT PRIMARY KEY,\n"
    "  value TEXT NOT NULL);\n"
    "CREATE TABLE status(\n"
    "  key TEXT PRIMARY KEY,\n"
    "  value TEXT NOT NULL,\n"
    "  updated INTEGER NOT NULL);\n",
    /* 2: per-boot credentials (credentials.c): one row per machine, the
     * credential of the boot numbered boot_seq. Kept in clear text because
     * the iSCSI target needs the clear secret to check a CHAP response. */
    "CREATE TABLE credentials(\n"
    "  mac TEXT PRIMARY KEY REFERENCES machines(mac) ON DELETE CASCADE,\n"
    "  boot_seq INTEGER NOT NULL,\n"
    "  credential TEXT NOT NULL,\n"
    "  issued INTEGER NOT NULL,\n"
    "  how TEXT NOT NULL DEFAULT '');\n",
    /* 3: boot entries (entries.c): installers and tools booted from a
     * menu or once as a machine's next boot. A file given as an http(s)
     * URL is fetched by the client from that URL (boot_url, initrd_url);
     * an empty URL means bootd serves the file from
     * state_dir/entries/NAME/ (its sha256 beside it). A machine's next
     * boot: next_boot names the item ("" = none), next_boot_seq 1 + the boot
     * (machines.boot_seq) whose script used it (0 = not used yet). */
    "CREATE TABLE entries(\n"
    "  name TEXT PRIMARY KEY,\n"
    "  kind TEXT NOT NULL CHECK(kind IN ('kernel','iso','efi')),\n"
    "  title TEXT NOT NULL DEFAULT '',\n"
    "  boot_url TEXT NOT NULL DEFAULT '',\n"
    "  initrd_url TEXT NOT NULL DEFAULT '',\n"
    "  has_initrd INTEGER NOT NULL DEFAULT 0,\n"
    "  cmdline TEXT NOT NULL DEFAULT '',\n"
    "  boot_sha256 TEXT NOT NULL DEFAULT '',\n"
    "  initrd_sha256 TEXT NOT NULL DEFAULT '',\n"
    "  source TEXT NOT NULL DEFAULT '',\n"
    "  created INTEGER NOT NULL);\n"
    "ALTER TABLE machines ADD COLUMN next_boot TEXT NOT NULL DEFAULT '';\n"
    "ALTER TABLE machines ADD COLUMN next_boot_seq INTEGER NOT NULL DEFAULT 0;\n",
    /* 4: a machine's boot loader (ipxe, pxelinux) and Secure Boot setting
     * (on, off); '' = not set here (its group's, else ipxe and off). */
    "ALTER TABLE machines ADD COLUMN loader TEXT NOT NULL DEFAULT ''"
    " CHECK(loader IN ('','ipxe','pxelinux'));\n"
    "ALTER TABLE machines ADD COLUMN secure_boot TEXT NOT NULL DEFAULT ''"
    " CHECK(secure_boot IN ('','on','off'));\n",
    /* 5: an image version's dm-verity root hash and salt (rootfs.verity,
     * the hash tree, lies beside rootfs.img), and the sha256 of its signed
     * UKI (boot.efi, re-signed when the site key changes); '' = none (made
     * before verified boot, a size the tree cannot cover, no site key). */
    "ALTER TABLE images ADD COLUMN verity_root_hash TEXT NOT NULL DEFAULT '';\n"
    "ALTER TABLE images ADD COLUMN verity_salt TEXT NOT NULL DEFAULT '';\n"
    "ALTER TABLE images ADD COLUMN uki_sha256 TEXT NOT NULL DEFAULT '';\n",
    /* 6: Wake-on-LAN requests (wake.c). The CLI and web queue one row per
     * machine; bootd, which owns the interfaces and the raw socket, takes
     * the queued rows (state taken), sends the magic packets and records
     * what it did (sent or failed, with a result text). A row nobody took
     * within a short while is expired by bootd instead of sent late;
     * cancelled is the asker's own withdrawal. Times in milliseconds. */
    "CREATE TABLE wake_requests(\n"
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,\n"
    "  mac TEXT NOT NULL REFERENCES machines(mac) ON DELETE CASCADE,\n"
    "  requested_ms INTEGER NOT NULL,\n"
    "  asked_by TEXT NOT NULL DEFAULT '',\n"
    "  state TEXT NOT NULL DEFAULT 'queued'"
    " CHECK(state IN ('queued','taken','sent','failed','expired','cancelled')),\n"
    "  done_ms INTEGER NOT NULL DEFAULT 0,\n"
    "  result TEXT NOT NULL DEFAULT '');\n"
    "CREATE INDEX wake_requests_state ON wake_requests(state, id);\n",
    /* 7: group settings (groups.c), each '' (or -1) = not set. A machine's
     * image, loader and secure_boot were already '' when not set; its mode
     * and protocol are always stored, so mode_own and protocol_own say
     * whether they are the machine's own (1) or its group's, else the
     * default (0). Every machine made before this migration keeps its own
     * mode and protocol, so it boots exactly as before. */
    "ALTER TABLE groups ADD COLUMN image TEXT NOT NULL DEFAULT '';\n"
    "ALTER TABLE groups ADD COLUMN mode TEXT NOT NULL DEFAULT ''"
    " CHECK(mode IN ('','persistent','ephemeral','readonly','install'));\n"
    "ALTER TABLE groups ADD COLUMN protocol TEXT NOT NULL DEFAULT ''"
    " CHECK(protocol IN ('','nbd','iscsi'));\n"
    "ALTER TABLE groups ADD COLUMN loader TEXT NOT NULL DEFAULT ''"
    " CHECK(loader IN ('','ipxe','pxelinux'));\n"
    "ALTER TABLE groups ADD COLUMN secure_boot TEXT NOT NULL DEFAULT ''"
    " CHECK(secure_boot IN ('','on','off'));\n"
    "ALTER TABLE groups ADD COLUMN menu_default TEXT NOT NULL DEFAULT '';\n"
    "ALTER TABLE groups ADD COLUMN menu_timeout INTEGER NOT NULL DEFAULT -1"
    " CHECK(menu_timeout BETWEEN -1 AND 3600);\n"
    "ALTER TABLE machines ADD COLUMN mode_own INTEGER NOT NULL DEFAULT 1;\n"
    "ALTER TABLE machines ADD COLUMN protocol_own INTEGER NOT NULL DEFAULT 1;\n",
    /* 8: an image version's kind. 'rootfs': a file system (or disk) the
     * initramfs mounts as root, with the version's own kernel and initrd.
     * 'disk': a whole bootable disk with its own boot loader (any OS),
     * SAN-booted by iPXE over iSCSI; no kernel or initrd (their sha256
     * columns stay empty). Either way the block image is rootfs.img. */
    ("ALTER TABLE images ADD COLUMN kind TEXT NOT NULL DEFAULT 'rootfs'"
     " CHECK(kind IN ('rootfs','disk'));\n"),
};

int db_migrate(struct fb_db *db)
{
	int n = (int)(sizeof(migrations) / sizeof(migrations[0]));
	for (;;) {
		int rc = db_exec(db, "BEGIN IMMEDIATE");
		if (rc)
			return rc;
		int v = fb_db_schema_version(db);
		if (v < 0 || v > n) {
			db_exec(db, "ROLLBACK");
			snprintf(db->err, sizeof(db->err),
			         "database schema version %d is newer than this program (%d)", v,
			         n);
			return -EPROTO;
		}
		if (v == n)
			return db_exec(db, "COMMIT");
		rc = db_exec(db, migrations[v]);
		if (!rc) {
			char sql[64];
			snprintf(sql, sizeof(sql), "PRAGMA user_version=%d", v + 1);
			rc = db_exec(db, sql);
		}
		if (rc) {
			db_exec(db, "ROLLBACK");
			return rc;
		}
		rc = db_exec(db, "COMMIT");
		if (rc)
			return rc;
	}
}
