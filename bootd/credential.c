/*
 * credential.c - this boot's credential, handed out once per boot: to the
 * initramfs (GET /boot/MAC/credential) or inside a whole disk's sanboot
 * script. The database decides in one transaction (db/credentials.c), so
 * two requests at once still get one answer between them.
 */
#include "bootd.h"

#include <errno.h>
#include <stdio.h>

#include "log.h"

int boot_credential_issue(struct bootd *b, const char *macid, const char *peer, const char *what,
                          char cred[FB_SECRET_LEN])
{
	char how[80], detail[160];
	int64_t seq = 0;
	/* The boot a credential belongs to starts with the firmware's DHCP,
	 * whose event the writer commits in batches: under a storm it can
	 * still be queued when the initramfs asks. Issued before it lands, the
	 * credential would belong to the previous boot and storaged would
	 * refuse it ("not this boot's"). */
	if (writer_sync(b->wr, 2000) < 0)
		log_warnx("%s: boot events not committed within 2 s; its credential may belong "
		          "to the previous boot",
		          macid);
	snprintf(how, sizeof(how), "%s to %s", what, peer);
	pthread_mutex_lock(&b->cred_lock);
	int rc = fb_db_credential_issue(b->cred_db, macid, 0, how, cred, &seq);
	if (rc < 0 && rc != -EALREADY)
		log_warnx("cannot issue a credential for %s: %s", macid, fb_db_errmsg(b->cred_db));
	pthread_mutex_unlock(&b->cred_lock);
	if (rc == -EALREADY) {
		log_warnx("refused a second %s for %s's boot %lld to %s: its credential was "
		          "already handed out (takeover suspected)",
		          what, macid, (long long)seq, peer);
		snprintf(detail, sizeof(detail), "second %s in one boot, from %s: refused", what,
		         peer);
		writer_event(b->wr, macid, "takeover-suspected", detail);
	}
	return rc;
}
