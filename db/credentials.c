/*
 * credentials.c - per-boot credentials (DESIGN.md, "Security model").
 *
 * The machine's long-lived secret never leaves the server. Each boot gets
 * a credential of its own: 32 random hex characters, handed out once (by
 * bootd to the machine's initramfs, or by `fleetboot machine credential`)
 * and valid while the machine's boot counter stays where it was when the
 * credential was issued. A new boot bumps the counter and so retires the
 * old credential for every new attach and stage report; within the boot
 * it stays valid, so an NBD reconnect or an iSCSI relogin still works.
 *
 * The credential is stored in clear text, like the machine secret beside
 * it: the iSCSI target must know the clear secret to check a CHAP response
 * (MD5 over identifier, secret and challenge), so a hash would not do. The
 * database is the service's alone (0600), and a leaked row is worth one
 * boot of one machine at most.
 */
#include "clock.h"
#include "db_internal.h"
#include "secret.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* The row of mac: its boot and credential. -ENOENT when none. */
static int cred_row(struct fb_db *db, const char *mac, int64_t *boot_seq, char cred[FB_SECRET_LEN])
{
	sqlite3_stmt *st;
	int rc = db_prep(db, "SELECT boot_seq, credential FROM credentials WHERE mac = ?", &st);
	if (rc)
		return rc;
	db_bind_text(st, 1, mac);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*boot_seq = sqlite3_column_int64(st, 0);
		db_col_text(st, 1, cred, FB_SECRET_LEN);
		rc = 0;
	} else {
		rc = rc == SQLITE_DONE ? -ENOENT : db_rc(db, rc);
	}
	sqlite3_finalize(st);
	return rc;
}

int fb_db_credential_issue(struct fb_db *db, const char *mac, int new_boot, const char *how,
                           char cred[FB_SECRET_LEN], int64_t *boot_seq)
{
	char id[FB_MACID_LEN], old[FB_SECRET_LEN];
	int64_t seq = 0, old_seq = 0;
	sqlite3_stmt *st;
	int rc;

	if ((rc = db_macid(db, mac, id)) < 0)
		return rc;
	if ((rc = db_tx_begin(db)))
		return rc;
	if (new_boot)
		rc = fb_db_machine_new_boot(db, id, &seq);
	else
		rc = fb_db_machine_boot_seq(db, id, &seq);
	if (rc == -ENOENT)
		snprintf(db->err, sizeof(db->err), "no machine %s", id);
	if (!rc) {
		rc = cred_row(db, id, &old_seq, old);
		if (rc == 0 && old_seq == seq) {
			snprintf(db->err, sizeof(db->err),
			         "the credential of %s's boot %lld was already handed out", id,
			         (long long)seq);
			rc = -EALREADY;
		} else if (rc == -ENOENT || rc == 0) {
			rc = fb_random_hex(cred, 16) < 0 ? -EIO : 0;
		}
	}
	if (!rc)
		rc = db_prep(db,
		             "INSERT OR REPLACE INTO credentials(mac, boot_seq, credential, issued,"
		             " how) VALUES(?,?,?,?,?)",
		             &st);
	if (!rc) {
		db_bind_text(st, 1, id);
		sqlite3_bind_int64(st, 2, seq);
		db_bind_text(st, 3, cred);
		sqlite3_bind_int64(st, 4, fb_now());
		db_bind_text(st, 5, how ? how : "");
		rc = db_step_done(db, st);
	}
	memset(old, 0, sizeof(old));
	if (!rc && boot_seq)
		*boot_seq = seq;
	rc = db_tx_end(db, rc);
	if (rc)
		memset(cred, 0, FB_SECRET_LEN);
	return rc;
}

int fb_db_credential_current(struct fb_db *db, const char *mac, char cred[FB_SECRET_LEN])
{
	char id[FB_MACID_LEN];
	int64_t seq = 0, row_seq = 0;
	int rc;
	if ((rc = db_macid(db, mac, id)) < 0)
		return rc;
	if ((rc = fb_db_machine_boot_seq(db, id, &seq)))
		return rc;
	if ((rc = cred_row(db, id, &row_seq, cred)))
		return rc;
	if (row_seq != seq) {
		/* Issued for an earlier boot: no longer valid. */
		memset(cred, 0, FB_SECRET_LEN);
		return -ENOENT;
	}
	return 0;
}
