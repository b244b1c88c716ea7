/*
 * evidence.c - what the server can honestly say about a machine's current
 * boot under verified boot (issue 16): the image version whose signed UKI
 * bootd handed it this boot, that version's rootfs sha256 and dm-verity
 * root hash, the UKI's sha256 and when, and what the initramfs reported
 * after setting up dm-verity. Read from the boot events only:
 *
 *   this boot     the last "dhcp" event that starts a boot (firmware PXE,
 *                 ipxe=0, or newboot=1), as events.c counts boots
 *   uki-served    recorded by bootd alone when it handed the machine a
 *                 whole boot.efi (TFTP or HTTP): "image=NAME@V sha256=HEX
 *                 via=..."; a client cannot post this stage, and a client's
 *                 stage report has the detail "from=ADDR ..." instead
 *   verified      posted by the initramfs (identity-checked by bootd) right
 *                 after veritysetup opened the root: "from=ADDR
 *                 root_hash=HEX"
 *   verity-failed posted by the initramfs when the check failed
 *
 * "verified" needs all of: Secure Boot on, a UKI served this boot, and a
 * later `verified` report (the last report of this boot) whose root hash
 * is the served version's. Anything less says which part is missing.
 */
#include <jansson.h>

#include "db_internal.h"
#include "str.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* The last event of mac with id > after whose stage is one of stages
 * (SQL list) and, when like is not NULL, whose detail matches it. */
static int last_event(struct fb_db *db, const char *mac, int64_t after, const char *where,
                      struct fb_event *e)
{
	char sql[400];
	sqlite3_stmt *st;
	snprintf(sql, sizeof(sql),
	         "SELECT id, time_ms, stage, detail FROM events WHERE mac = ?1 AND id > ?2 AND (%s)"
	         " ORDER BY id DESC LIMIT 1",
	         where);
	int rc = db_prep(db, sql, &st);
	if (rc)
		return rc;
	db_bind_text(st, 1, mac);
	sqlite3_bind_int64(st, 2, after);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		memset(e, 0, sizeof(*e));
		e->id = sqlite3_column_int64(st, 0);
		e->time_ms = sqlite3_column_int64(st, 1);
		fb_strlcpy(e->mac, mac, sizeof(e->mac));
		db_col_text(st, 2, e->stage, sizeof(e->stage));
		db_col_text(st, 3, e->detail, sizeof(e->detail));
		rc = 0;
	} else {
		rc = rc == SQLITE_DONE ? -ENOENT : db_rc(db, rc);
	}
	sqlite3_finalize(st);
	return rc;
}

/* The value of KEY=VALUE (space-separated words) in detail; 0 or -1. */
static int detail_word(const char *detail, const char *key, char *out, size_t len)
{
	size_t kl = strlen(key);
	for (const char *p = detail; *p;) {
		const char *end = strchr(p, ' ');
		size_t wl = end ? (size_t)(end - p) : strlen(p);
		if (wl > kl && !strncmp(p, key, kl) && p[kl] == '=') {
			size_t vl = wl - kl - 1;
			if (vl >= len)
				return -1;
			memcpy(out, p + kl + 1, vl);
			out[vl] = '\0';
			return 0;
		}
		p += wl;
		while (*p == ' ')
			p++;
	}
	return -1;
}

static int hex64(const char *s)
{
	if (strlen(s) != 64)
		return 0;
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return 0;
	return 1;
}

void fb_evidence_time(int64_t ms, char *out, size_t len)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	if (!ms || !gmtime_r(&t, &tm) || !strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(out, len, "-");
}

#define EV_WHY(...) snprintf(ev->why, sizeof(ev->why), __VA_ARGS__)

int fb_db_evidence_get(struct fb_db *db, const struct fb_machine *m, struct fb_evidence *ev)
{
	struct fb_event boot, uki, rep;
	char t1[32], t2[32];
	int64_t boot_id = 0;
	memset(ev, 0, sizeof(*ev));
	int sb = !strcmp(m->secure_boot, "on");
	int rc = last_event(
	    db, m->mac, 0,
	    "stage = 'dhcp' AND (detail LIKE '%ipxe=0%' OR detail LIKE '%newboot=1%')", &boot);
	if (rc == 0) {
		boot_id = boot.id;
		ev->boot_ms = boot.time_ms;
	} else if (rc != -ENOENT) {
		return rc;
	}
	rc =
	    last_event(db, m->mac, boot_id, "stage = 'uki-served' AND detail LIKE 'image=%'", &uki);
	if (rc && rc != -ENOENT)
		return rc;
	int served = rc == 0;
	char ref[FB_REF_LEN] = "", sha[80] = "";
	struct fb_image img;
	if (served && (detail_word(uki.detail, "image", ref, sizeof(ref)) < 0 ||
	               detail_word(uki.detail, "sha256", sha, sizeof(sha)) < 0 || !hex64(sha)))
		served = 0;
	if (served) {
		fb_strlcpy(ev->image, ref, sizeof(ev->image));
		fb_strlcpy(ev->uki_sha256, sha, sizeof(ev->uki_sha256));
		ev->uki_served_ms = uki.time_ms;
		rc = fb_db_image_resolve(db, ref, &img);
		if (rc == 0) {
			fb_strlcpy(ev->rootfs_sha256, img.sha256, sizeof(ev->rootfs_sha256));
			fb_strlcpy(ev->verity_root_hash, img.verity_root_hash,
			           sizeof(ev->verity_root_hash));
		} else if (rc != -ENOENT && rc != -EINVAL) {
			return rc;
		}
		rc = last_event(db, m->mac, uki.id, "stage IN ('verified', 'verity-failed')", &rep);
		if (rc && rc != -ENOENT)
			return rc;
		if (rc == 0) {
			fb_strlcpy(ev->report, rep.stage, sizeof(ev->report));
			ev->report_ms = rep.time_ms;
			if (!strcmp(rep.stage, "verified") &&
			    (detail_word(rep.detail, "root_hash", sha, sizeof(sha)) < 0 ||
			     !hex64(sha)))
				sha[0] = '\0';
			else if (strcmp(rep.stage, "verified"))
				sha[0] = '\0';
			fb_strlcpy(ev->reported_root_hash, sha, sizeof(ev->reported_root_hash));
		}
	}
	fb_evidence_time(ev->uki_served_ms, t1, sizeof(t1));
	fb_evidence_time(ev->report_ms, t2, sizeof(t2));
	if (!sb) {
		fb_strlcpy(ev->state, "not-secure-boot", sizeof(ev->state));
		EV_WHY("not Secure Boot (the machine's secure_boot is off)");
	} else if (!served) {
		fb_strlcpy(ev->state, "no-uki", sizeof(ev->state));
		EV_WHY(boot_id ? "no signed UKI served this boot" : "never booted");
	} else if (!ev->verity_root_hash[0]) {
		fb_strlcpy(ev->state, "no-uki", sizeof(ev->state));
		EV_WHY("UKI of %s served at %s, but that version has no root hash in the database",
		       ev->image, t1);
	} else if (!ev->report[0]) {
		fb_strlcpy(ev->state, "unreported", sizeof(ev->state));
		EV_WHY("UKI of %s served at %s, no verification report yet", ev->image, t1);
	} else if (!strcmp(ev->report, "verity-failed")) {
		fb_strlcpy(ev->state, "verity-failed", sizeof(ev->state));
		EV_WHY("verity-failed at %s", t2);
	} else if (!ev->reported_root_hash[0]) {
		fb_strlcpy(ev->state, "mismatch", sizeof(ev->state));
		EV_WHY("verified reported at %s without a root hash, expected %s", t2,
		       ev->verity_root_hash);
	} else if (strcmp(ev->reported_root_hash, ev->verity_root_hash)) {
		fb_strlcpy(ev->state, "mismatch", sizeof(ev->state));
		EV_WHY("root hash reported %s, expected %s", ev->reported_root_hash,
		       ev->verity_root_hash);
	} else {
		fb_strlcpy(ev->state, "verified", sizeof(ev->state));
		ev->verified_ms = ev->report_ms;
		EV_WHY("booted %s, rootfs sha256 %s, root hash %s; signed UKI sha256 %s served at "
		       "%s, dm-verity opened at %s",
		       ev->image, ev->rootfs_sha256, ev->verity_root_hash, ev->uki_sha256, t1, t2);
	}
	return 0;
}

static json_t *ms_or_null(int64_t ms)
{
	return ms ? json_integer(ms / 1000) : json_null();
}

json_t *fb_evidence_json(const struct fb_evidence *ev)
{
	json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "state", ev->state, "image",
	                      ev->image, "rootfs_sha256", ev->rootfs_sha256, "verity_root_hash",
	                      ev->verity_root_hash, "uki_sha256", ev->uki_sha256,
	                      "reported_root_hash", ev->reported_root_hash, "why", ev->why);
	if (j) {
		json_object_set_new(j, "boot_started", ms_or_null(ev->boot_ms));
		json_object_set_new(j, "uki_served", ms_or_null(ev->uki_served_ms));
		json_object_set_new(j, "report", json_string(ev->report));
		json_object_set_new(j, "reported", ms_or_null(ev->report_ms));
		json_object_set_new(j, "verified_at", ms_or_null(ev->verified_ms));
	}
	return j;
}
