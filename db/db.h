/*
 * db.h - fleetboot's state in SQLite. Only db/ includes sqlite3.h; every
 * program (daemons, CLI, web) uses this API.
 *
 * The database is state_dir/fleetboot.db, in WAL mode with foreign keys
 * and a busy timeout, so several processes use it at once. Every function
 * that changes data runs in one transaction: it either happens whole or not
 * at all. Functions return 0 on success or a negative errno:
 *   -ENOENT  no such row           -EEXIST  a unique name/key already exists
 *   -EINVAL  a field is invalid    -EBUSY   the database stayed locked
 *   -EIO     any other SQLite error (fb_db_errmsg says which)
 * A struct fb_db handle belongs to one thread at a time.
 */
#ifndef FB_DB_H
#define FB_DB_H

#include <stddef.h>
#include <stdint.h>

#include "netaddr.h"
#include "sha256.h"

struct fb_db;

#define FB_NAME_LEN   64 /* machine names, image names, groups, users */
#define FB_REF_LEN    80 /* "NAME@VERSION", "menu" or "" */
#define FB_SECRET_LEN 33 /* 32 hex chars plus NUL */
#define FB_PATH_LEN   4096

/* Open (creating and migrating as needed) the database at path. */
int fb_db_open(struct fb_db **out, const char *path);
/* Open state_dir/fleetboot.db. */
int fb_db_open_state(struct fb_db **out, const char *state_dir);
void fb_db_close(struct fb_db *db);
/* Text of the last error on this handle. */
const char *fb_db_errmsg(struct fb_db *db);
/* Schema version (PRAGMA user_version) after migrations. */
int fb_db_schema_version(struct fb_db *db);
/* PRAGMA data_version (changes.c): changes whenever another connection
 * commits, so a cache of rows is rebuilt only when something changed. */
int fb_db_data_version(struct fb_db *db, int64_t *version);

/* Explicit transactions for callers that batch (bootd's lease writer). */
int fb_db_begin(struct fb_db *db);
int fb_db_commit(struct fb_db *db);
int fb_db_rollback(struct fb_db *db);

/* ---- machines ---------------------------------------------------------- */

/* What a machine's root disk is across boots (DESIGN.md, "Modes"). The
 * database, the API, the CLI and the kernel command line carry the names
 * fb_mode_name gives. */
enum fb_mode {
	FB_MODE_PERSISTENT, /* "persistent": the overlay is kept across boots */
	FB_MODE_EPHEMERAL,  /* "ephemeral": the overlay is discarded at every boot */
	FB_MODE_READONLY,   /* "readonly": the base, read-only; a RAM overlay on the machine */
	FB_MODE_INSTALL,    /* "install": the image is written to the machine's own disk */
};

/* How the machine reaches its root disk. */
enum fb_protocol {
	FB_PROTOCOL_NBD,   /* "nbd" */
	FB_PROTOCOL_ISCSI, /* "iscsi" */
};

/* The longest texts the CLI and the API take for a mode and a protocol,
 * NUL included; longer ones are refused as too long before they are
 * parsed (these were the sizes of the struct's text fields). */
#define FB_MODE_TEXT_LEN     16
#define FB_PROTOCOL_TEXT_LEN 8

/* Parse a mode's or a protocol's name (exact, lower case). Returns 0 and
 * sets *out, or -EINVAL for any other text (NULL included). */
int fb_mode_parse(const char *s, enum fb_mode *out);
int fb_protocol_parse(const char *s, enum fb_protocol *out);
/* The name of a mode or protocol; NULL for a value outside the enum. */
const char *fb_mode_name(enum fb_mode mode);
const char *fb_protocol_name(enum fb_protocol protocol);

/* Where a machine's effective setting came from: its own, its group's, or
 * the default (image unassigned, persistent, nbd, ipxe, Secure Boot off). */
enum fb_origin {
	FB_FROM_DEFAULT, /* "default" */
	FB_FROM_GROUP,   /* "group" */
	FB_FROM_MACHINE, /* "machine" */
	FB_FROM_INHERIT, /* on add/update only: not set on the machine (take the group's) */
};
/* "default", "group", "machine" ("inherit" for FB_FROM_INHERIT). */
const char *fb_origin_name(enum fb_origin o);

struct fb_machine_from {
	enum fb_origin image, mode, protocol, loader, secure_boot;
};

struct fb_machine {
	char mac[FB_MACID_LEN];     /* machine id, "52-54-00-12-34-56" */
	char name[FB_NAME_LEN];     /* host name; "" = none */
	char image[FB_REF_LEN];     /* "NAME", "NAME@V", "menu", or "" (unassigned) */
	enum fb_mode mode;          /* what the root disk is across boots */
	enum fb_protocol protocol;  /* NBD or iSCSI */
	char ip[FB_IP_LEN];         /* reserved address; "" = from the pool */
	char group[FB_NAME_LEN];    /* group name; "" = none */
	char secret[FB_SECRET_LEN]; /* per-machine secret */
	char stage[24];             /* last boot stage seen; "" = never booted */
	int64_t last_seen;          /* unix time of that stage; 0 = never */
	int64_t created;            /* unix time added */
	int registered;             /* 1 = added automatically as an unknown machine */
	char next_boot[FB_REF_LEN]; /* once: an entry, an image ref or "local"; "" = none */
	int64_t next_boot_seq;      /* 1 + the boot whose script used next_boot; 0 = not yet */
	char loader[12];            /* "ipxe", "pxelinux"; "" = not set (group's, else ipxe) */
	char secure_boot[4];        /* "on", "off"; "" = not set (group's, else off) */
	/* Read by get, by_ip and list: where each of image, mode, protocol,
	 * loader and secure_boot above came from (groups.c). On add and
	 * update, FB_FROM_MACHINE pins a field as the machine's own even when
	 * it equals the inherited value, FB_FROM_INHERIT clears the machine's
	 * own; any other origin keeps a value the caller left unchanged
	 * inherited, and a changed one becomes the machine's own. */
	struct fb_machine_from from;
	char menu_default[FB_REF_LEN]; /* the group's menu default; "" = [bootd] menu_default */
	int menu_timeout;              /* the group's menu timeout, seconds; -1 = [bootd]'s */
};

/* Validate the fields a user sets (mode, protocol, ip, name, group,
 * image ref syntax). Returns 0 or -EINVAL with a message naming the field
 * in why. */
int fb_machine_validate(const struct fb_machine *m, char *why, size_t whylen);
/* The same, with the mode and the protocol given as the texts a user typed
 * (NULL keeps m's own): on success m takes their values. The first bad
 * field is reported in the order mac, name, image, mode, protocol, ip,
 * group, secret, whether or not its value came as text; m is left
 * unchanged on failure. */
int fb_machine_validate_text(struct fb_machine *m, const char *mode, const char *protocol,
                             char *why, size_t whylen);
/* Add: m->secret is generated when empty, m->created set. -EEXIST when the
 * MAC exists, -EEXIST when the reserved ip belongs to another machine. */
int fb_db_machine_add(struct fb_db *db, struct fb_machine *m);
int fb_db_machine_get(struct fb_db *db, const char *mac, struct fb_machine *m);
/* Replace the user-set fields (name, image, mode, protocol, ip, group,
 * secret) of an existing machine. */
int fb_db_machine_update(struct fb_db *db, const struct fb_machine *m);
int fb_db_machine_delete(struct fb_db *db, const char *mac);
/* The machine holding a reserved ip, if any. */
int fb_db_machine_by_ip(struct fb_db *db, const char *ip, struct fb_machine *m);
typedef int (*fb_machine_cb)(void *arg, const struct fb_machine *m);
/* Every machine ordered by MAC; a callback returning non-zero stops. */
int fb_db_machine_list(struct fb_db *db, fb_machine_cb cb, void *arg);

/* ---- groups (groups.c) -------------------------------------------------- */

/* Shared settings for many machines; every one is optional ("" or -1 =
 * not set). A machine's own setting wins over its group's, which wins over
 * the default. */
struct fb_group {
	char name[FB_NAME_LEN];              /* letters, digits, '-', '_', '.' */
	char image[FB_REF_LEN];              /* "NAME", "NAME@V", "menu"; "" = not set */
	char mode[FB_MODE_TEXT_LEN];         /* a mode's name; "" = not set */
	char protocol[FB_PROTOCOL_TEXT_LEN]; /* "nbd", "iscsi"; "" = not set */
	char loader[12];                     /* "ipxe", "pxelinux"; "" = not set */
	char secure_boot[4];                 /* "on", "off"; "" = not set */
	char menu_default[FB_REF_LEN];       /* "local", an image ref or an entry; "" = not set */
	int menu_timeout;                    /* seconds, 0..3600; -1 = not set */
	int64_t created;                     /* unix time */
	int machines;                        /* read only: machines in the group */
};

/* Validate every field; 0 or -EINVAL with the field named in why. */
int fb_group_validate(const struct fb_group *g, char *why, size_t whylen);
/* Add (sets created): -EEXIST when the name exists. */
/* The group as JSON, as the CLI and the REST API give it (group_json.c):
 * its settings ("" = not set; menu_timeout null when not set), its number
 * of machines and when it was made. NULL when out of memory. */
struct json_t;
struct json_t *fb_group_json(const struct fb_group *g);
int fb_db_group_add(struct fb_db *db, struct fb_group *g);
int fb_db_group_get(struct fb_db *db, const char *name, struct fb_group *g);
/* Replace every setting of an existing group. */
int fb_db_group_update(struct fb_db *db, const struct fb_group *g);
/* Delete: -ENOTEMPTY when machines are in it (g->machines of them), unless
 * force, which takes them out of the group first (their own settings stay). */
int fb_db_group_delete(struct fb_db *db, const char *name, int force, int *machines);
typedef int (*fb_group_cb)(void *arg, const struct fb_group *g);
int fb_db_group_list(struct fb_db *db, fb_group_cb cb, void *arg);

/* ---- images ------------------------------------------------------------ */

struct fb_image {
	int64_t id;                 /* row id */
	char name[FB_NAME_LEN];     /* image name */
	int version;                /* 1, 2, ... never reused */
	char state[16];             /* ready | retired */
	int64_t size;               /* rootfs bytes */
	char sha256[FB_SHA256_HEX]; /* of rootfs.img */
	char kernel_sha256[FB_SHA256_HEX];
	char initrd_sha256[FB_SHA256_HEX];
	char cmdline[512];                    /* extra kernel command line */
	char dir[FB_PATH_LEN];                /* state_dir/images/NAME/VERSION */
	char source[256];                     /* where it came from (import, build spec, commit) */
	int64_t created;                      /* unix time */
	char verity_root_hash[FB_SHA256_HEX]; /* dm-verity root hash of rootfs.img; "" = none */
	char verity_salt[FB_SHA256_HEX];      /* its salt (hex); also in rootfs.verity's header */
	char uki_sha256[FB_SHA256_HEX];       /* of boot.efi, the signed UKI; "" = none */
	char kind[8]; /* "rootfs" (kernel + initrd + root), "disk" (whole disk, sanboot) */
};

/* Is this version a whole bootable disk (iPXE sanboot, no kernel)? */
int fb_image_is_disk(const struct fb_image *img);

/* Image names: [A-Za-z0-9][A-Za-z0-9._-]{0,62}. */
int fb_image_name_valid(const char *name);
/* Parse "NAME" or "NAME@VERSION" (version 0 = newest ready). */
int fb_image_ref_parse(const char *ref, char name[FB_NAME_LEN], int *version);
/* Resolve a ref to a version row: NAME -> newest ready, NAME@V -> that
 * version (ready or retired; callers decide). -ENOENT when none. */
int fb_db_image_resolve(struct fb_db *db, const char *ref, struct fb_image *img);
int fb_db_image_get_id(struct fb_db *db, int64_t id, struct fb_image *img);
/* Reserve the next version number for name (never reused, even when a
 * reserved number is never registered). */
int fb_db_image_reserve_version(struct fb_db *db, const char *name, int *version);
/* Register a complete version (state ready). Sets img->id and created. */
int fb_db_image_add(struct fb_db *db, struct fb_image *img);
int fb_db_image_set_state(struct fb_db *db, int64_t id, const char *state);
/* Record the dm-verity root hash and salt of a version made without them. */
int fb_db_image_set_verity(struct fb_db *db, int64_t id, const char *root_hash, const char *salt);
/* Record the sha256 of a version's (re)built signed UKI. */
int fb_db_image_set_uki(struct fb_db *db, int64_t id, const char *sha256);
typedef int (*fb_image_cb)(void *arg, const struct fb_image *img);
/* All versions, by name then version. name NULL = every image. */
int fb_db_image_list(struct fb_db *db, const char *name, fb_image_cb cb, void *arg);
/* -EINVAL (message in the db's error) when m's mode cannot serve its
 * image: readonly or install with a whole-disk image. 0 otherwise. */
int fb_db_machine_disk_check(struct fb_db *db, const struct fb_machine *m);
/* Machines whose image ref names this image (any version or this one). */
int fb_db_image_users(struct fb_db *db, const char *name, int *count);

/* ---- boot entries (entries.c) ------------------------------------------ */

/* What an entry boots: a kernel (and initrd), an ISO (iPXE sanboot over
 * HTTP) or a UEFI program (iPXE chain). */
enum fb_entry_kind {
	FB_ENTRY_KERNEL, /* "kernel" */
	FB_ENTRY_ISO,    /* "iso" */
	FB_ENTRY_EFI,    /* "efi" */
};

#define FB_URL_LEN   512
#define FB_TITLE_LEN 128

struct fb_entry {
	char name[FB_NAME_LEN];            /* same rules as image names */
	enum fb_entry_kind kind;           /* kernel, iso or efi */
	char title[FB_TITLE_LEN];          /* menu text; "" = the name */
	char boot_url[FB_URL_LEN];         /* kernel/ISO/EFI URL; "" = served by bootd */
	char initrd_url[FB_URL_LEN];       /* initrd URL; "" = served by bootd (or none) */
	int has_initrd;                    /* kernel entries: an initrd goes with it */
	char cmdline[512];                 /* kernel entries: the command line */
	char boot_sha256[FB_SHA256_HEX];   /* of the served kernel/ISO/EFI file */
	char initrd_sha256[FB_SHA256_HEX]; /* of the served initrd */
	char source[2 * FB_PATH_LEN + 16]; /* where the files came from */
	int64_t created;                   /* unix time */
};

/* "kernel", "iso", "efi"; NULL outside the enum. */
const char *fb_entry_kind_name(enum fb_entry_kind k);
int fb_entry_kind_parse(const char *s, enum fb_entry_kind *out);
/* The file bootd serves for the entry's boot file: "kernel", "image.iso"
 * or "program.efi" (the initrd is "initrd"); under state_dir/entries/NAME. */
const char *fb_entry_boot_file(enum fb_entry_kind k);
/* Is s a URL an entry may name: http:// or https://, a host, and no
 * white space, control characters, quotes, backslash or '$' (iPXE expands
 * ${...} in scripts)? */
int fb_entry_url_valid(const char *s);
/* Is s text an iPXE script may carry (a title, a command line): printable,
 * no '$', no quotes or backslash. */
int fb_entry_text_valid(const char *s);
/* Validate every field; 0 or -EINVAL with the field named in why. */
int fb_entry_validate(const struct fb_entry *e, char *why, size_t whylen);
/* Add (sets created): -EEXIST when an entry or an image has that name. */
int fb_db_entry_add(struct fb_db *db, struct fb_entry *e);
int fb_db_entry_get(struct fb_db *db, const char *name, struct fb_entry *e);
/* Delete: -ENOTEMPTY when a machine's next boot names it (in use). */
int fb_db_entry_delete(struct fb_db *db, const char *name);
typedef int (*fb_entry_cb)(void *arg, const struct fb_entry *e);
int fb_db_entry_list(struct fb_db *db, fb_entry_cb cb, void *arg);

/* ---- next boot, once (entries.c) ---------------------------------------- */

/* Set (item "" clears) a machine's next boot; it starts unused. The item is
 * checked by the caller (an entry, a ready image ref, or "local"). */
int fb_db_machine_set_next_boot(struct fb_db *db, const char *mac, const char *item);
/*
 * bootd, when it makes the machine's script: does its next boot apply now?
 * In one transaction: none set -> -ENOENT. Set and used by an earlier boot
 * (machines.boot_seq moved past next_boot_seq, or new_boot says the script
 * of the boot that used it was served and a new boot began since) ->
 * cleared, -ENOENT. Otherwise 0 with the item, and *first = 1 when this is
 * the first script to use it (next_boot_seq is then set to this boot).
 */
int fb_db_next_boot_take(struct fb_db *db, const char *mac, int new_boot, char item[FB_REF_LEN],
                         int *first);

/* ---- Wake-on-LAN requests (wake.c) ------------------------------------- */

/* The CLI and web ask; bootd sends (it owns the interfaces and the raw
 * socket) and says what it did. */
struct fb_wake {
	int64_t id;             /* request number */
	char mac[FB_MACID_LEN]; /* the machine to wake */
	int64_t requested_ms;   /* unix time in ms */
	char asked_by[80];      /* "cli (uid 0)", "web user admin", ... */
	char state[12];         /* queued | taken | sent | failed | expired | cancelled */
	int64_t done_ms;        /* when it was sent, failed or expired; 0 = not yet */
	char result[256];       /* bootd's words: the interfaces and frames sent, or why not */
};
typedef int (*fb_wake_cb)(void *arg, const struct fb_wake *w);

/* Queue one request per MAC, in one transaction: -ENOENT (naming the MAC)
 * when any is not a machine, and then nothing is queued. ids[i] gets each
 * request's number. Requests finished more than a day ago are pruned. */
int fb_db_wake_request(struct fb_db *db, const char *const *macs, size_t n, const char *asked_by,
                       int64_t *ids);
/* bootd: in one transaction, expire the queued requests asked before
 * oldest_ms, then mark every other queued one taken and pass it to cb. */
int fb_db_wake_take(struct fb_db *db, int64_t oldest_ms, fb_wake_cb cb, void *arg);
/* bootd: a taken request was sent (ok) or could not be (failed). */
int fb_db_wake_done(struct fb_db *db, int64_t id, int ok, const char *result);
int fb_db_wake_get(struct fb_db *db, int64_t id, struct fb_wake *w);
/* Withdraw a request bootd has not taken: 0, or -EALREADY when it has. */
int fb_db_wake_cancel(struct fb_db *db, int64_t id);
/* Is bootd running: its heartbeat (the status row bootd.daemon, written
 * every 5 s) says so and is at most FB_WAKE_BOOTD_STALE seconds old? 1, 0,
 * or a negative errno. Askers check it first, so a request is not queued
 * for nobody. */
#define FB_WAKE_BOOTD_STALE 15
int fb_db_wake_bootd_alive(struct fb_db *db);
/* bootd expires requests older than this (ms) instead of sending them. */
#define FB_WAKE_MAX_AGE_MS 30000

/* ---- overlays (storaged) ------------------------------------------------ */

struct fb_overlay {
	char mac[FB_MACID_LEN]; /* owner */
	int64_t image_id;       /* base version the overlay is pinned to */
	char path[FB_PATH_LEN]; /* overlay file */
	int64_t bytes;          /* bytes held by the overlay (last reported) */
	int reset_pending;      /* discard when the current boot ends */
	int64_t created;        /* unix time */
	int64_t boot_seq;       /* machine's boot counter when it was created */
};

int fb_db_overlay_get(struct fb_db *db, const char *mac, struct fb_overlay *o);
/* Insert or replace the machine's overlay row. */
int fb_db_overlay_put(struct fb_db *db, const struct fb_overlay *o);
int fb_db_overlay_delete(struct fb_db *db, const char *mac);
int fb_db_overlay_set_reset_pending(struct fb_db *db, const char *mac, int pending);
int fb_db_overlay_set_bytes(struct fb_db *db, const char *mac, int64_t bytes);
typedef int (*fb_overlay_cb)(void *arg, const struct fb_overlay *o);
int fb_db_overlay_list(struct fb_db *db, fb_overlay_cb cb, void *arg);

/* ---- leases (bootd) ---------------------------------------------------- */

struct fb_lease {
	char mac[FB_MACID_LEN];
	char ip[FB_IP_LEN];
	int64_t expires; /* unix time */
	char hostname[FB_NAME_LEN];
	char state[12]; /* offered | bound | released | declined */
};

/* Write many leases in one transaction (insert or replace by mac). */
int fb_db_lease_put_batch(struct fb_db *db, const struct fb_lease *l, size_t n);
int fb_db_lease_get(struct fb_db *db, const char *mac, struct fb_lease *l);
int fb_db_lease_by_ip(struct fb_db *db, const char *ip, struct fb_lease *l);
int fb_db_lease_delete(struct fb_db *db, const char *mac);
typedef int (*fb_lease_cb)(void *arg, const struct fb_lease *l);
int fb_db_lease_list(struct fb_db *db, fb_lease_cb cb, void *arg);

/* ---- boot events ------------------------------------------------------- */

/* Stages: dhcp, tftp, ipxe-script, kernel, initrd, root-attached,
 * userspace, and free-form others (e.g. "failed"). */
int fb_stage_valid(const char *stage);

struct fb_event {
	int64_t id;      /* increasing; use as the "after" cursor */
	int64_t time_ms; /* unix time in milliseconds */
	char mac[FB_MACID_LEN];
	char stage[24];
	char detail[256]; /* e.g. "arch=7 ipxe=0", "file=undionly.kpxe" */
};

/* Record an event and update the machine's stage and last_seen (when the
 * machine exists). "dhcp" from firmware (not iPXE) bumps the machine's boot
 * counter, which is what storaged uses to know a new boot started. */
int fb_db_event_add(struct fb_db *db, const char *mac, const char *stage, const char *detail);
/* Bump a machine's boot counter explicitly (a new boot began). */
int fb_db_machine_new_boot(struct fb_db *db, const char *mac, int64_t *boot_seq);
int fb_db_machine_boot_seq(struct fb_db *db, const char *mac, int64_t *boot_seq);

/* ---- verified-boot evidence (evidence.c) -------------------------------- */

/* What the server can say about a machine's current boot under verified
 * boot, from its events: the version whose signed UKI bootd handed it this
 * boot (a "uki-served" event), that version's hashes, and the initramfs's
 * last report after it ("verified" with the root hash it used, or
 * "verity-failed"). state is one of
 *   verified         Secure Boot on, UKI served this boot, "verified" with
 *                    the version's root hash
 *   not-secure-boot  the machine's effective secure_boot is not on
 *   no-uki           no signed UKI served this boot (or never booted)
 *   unreported       UKI served, no report yet
 *   verity-failed    the last report of this boot was verity-failed
 *   mismatch         "verified" with another root hash (or none)
 * and why says it in words. Times are unix ms; 0 = none. */
struct fb_evidence {
	char state[20];
	char image[FB_REF_LEN];                 /* "NAME@V" whose UKI was served; "" */
	char rootfs_sha256[FB_SHA256_HEX];      /* that version's rootfs.img */
	char verity_root_hash[FB_SHA256_HEX];   /* that version's dm-verity root hash */
	char uki_sha256[FB_SHA256_HEX];         /* of the boot.efi bootd handed out */
	char reported_root_hash[FB_SHA256_HEX]; /* in the "verified" report; "" */
	char report[24];                        /* "verified", "verity-failed" or "" */
	int64_t boot_ms, uki_served_ms, report_ms, verified_ms;
	char why[400];
};
/* m as fb_db_machine_get reads it (effective secure_boot). */
int fb_db_evidence_get(struct fb_db *db, const struct fb_machine *m, struct fb_evidence *ev);
/* The object "verified_boot" of the CLI's and the API's machine JSON
 * (times in unix seconds or null). NULL when out of memory. */
struct json_t *fb_evidence_json(const struct fb_evidence *ev);
/* ms as "2026-12-03T22:40:01Z" (UTC), "-" for 0. */
void fb_evidence_time(int64_t ms, char *out, size_t len);

/* ---- per-boot credentials (credentials.c) ------------------------------ */

/*
 * Issue the credential of the machine's current boot (new_boot: start a
 * new boot first, as `fleetboot machine credential` does). how says who
 * asked ("bootd from 10.0.0.5", "cli"). Returns 0 with cred (32 hex + NUL)
 * and the boot number, -EALREADY when this boot's credential was already
 * handed out (it is handed out once), -ENOENT for an unknown machine.
 */
int fb_db_credential_issue(struct fb_db *db, const char *mac, int new_boot, const char *how,
                           char cred[FB_SECRET_LEN], int64_t *boot_seq);
/* The credential of the machine's current boot into cred; -ENOENT when none
 * was issued for this boot (an earlier boot's credential is not valid). */
int fb_db_credential_current(struct fb_db *db, const char *mac, char cred[FB_SECRET_LEN]);

struct fb_event_filter {
	const char *mac;   /* NULL = all */
	const char *stage; /* NULL = all */
	int64_t after;     /* only id > after */
	int limit;         /* 0 = 1000 */
};
typedef int (*fb_event_cb)(void *arg, const struct fb_event *e);
/* The newest event of mac (and of stage, when not NULL). -ENOENT if none. */
int fb_db_event_last(struct fb_db *db, const char *mac, const char *stage, struct fb_event *e);
int fb_db_event_list(struct fb_db *db, const struct fb_event_filter *f, fb_event_cb cb, void *arg);

/* ---- users and API tokens (web) ---------------------------------------- */

/* Password hashes are opaque strings made by web/ (salted, slow). */
int fb_db_user_set(struct fb_db *db, const char *name, const char *pwhash);
int fb_db_user_get(struct fb_db *db, const char *name, char *pwhash, size_t len);
/* Replace the hash of name by new_hash only if it is still old_hash (a new
 * hash of the same password after a login; a password changed meanwhile
 * wins). -ENOENT when it was not old_hash. */
int fb_db_user_rehash(struct fb_db *db, const char *name, const char *old_hash,
                      const char *new_hash);
int fb_db_user_exists_any(struct fb_db *db);

struct fb_token {
	int64_t id;
	char name[FB_NAME_LEN];   /* label given at creation */
	char hash[FB_SHA256_HEX]; /* sha256 of the token; the token itself is never stored */
	int64_t created;
	int64_t last_used;
};
int fb_db_token_add(struct fb_db *db, struct fb_token *t);
/* Look a token up by its hash (and touch last_used). */
int fb_db_token_check(struct fb_db *db, const char *hash, struct fb_token *t);
int fb_db_token_revoke(struct fb_db *db, const char *name_or_id);
typedef int (*fb_token_cb)(void *arg, const struct fb_token *t);
int fb_db_token_list(struct fb_db *db, fb_token_cb cb, void *arg);

/* ---- settings (small key/value state) ---------------------------------- */

int fb_db_setting_get(struct fb_db *db, const char *key, char *val, size_t len);
int fb_db_setting_set(struct fb_db *db, const char *key, const char *val);

/* ---- status, shared by fleetboot status and web -------------------------- */

/* Daemons report liveness and counters here (storaged: connections, bytes;
 * bootd: leases, transfers). key is "DAEMON.NAME"; value is text. */
int fb_db_status_set(struct fb_db *db, const char *key, const char *value);
typedef int (*fb_status_cb)(void *arg, const char *key, const char *value, int64_t updated);
int fb_db_status_list(struct fb_db *db, fb_status_cb cb, void *arg);

#endif
