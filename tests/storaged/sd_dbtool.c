/*
 * sd_dbtool.c - test helper for tests/storaged: the database changes bootd
 * makes while machines boot, without running DHCP.
 *
 *   sd-dbtool STATE_DIR newboot MACID         a new boot began (ephemeral)
 *   sd-dbtool STATE_DIR lease MACID IP SECS   a bound lease for SECS seconds
 *   sd-dbtool STATE_DIR credential MACID      print the current boot's credential
 *                                             (what bootd handed out), exit 1 if none
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "db/db.h"
#include "str.h"

int main(int argc, char **argv)
{
	struct fb_db *db;
	int64_t seq = 0;
	int rc;

	if (argc < 4) {
		fprintf(stderr, "usage: sd-dbtool STATE_DIR newboot MACID | lease MACID IP SECS | "
		                "credential MACID\n");
		return 2;
	}
	if ((rc = fb_db_open_state(&db, argv[1])) < 0) {
		fprintf(stderr, "sd-dbtool: %s: %s\n", argv[1], strerror(-rc));
		return 1;
	}
	if (!strcmp(argv[2], "newboot") && argc == 4) {
		rc = fb_db_machine_new_boot(db, argv[3], &seq);
		if (!rc)
			printf("%lld\n", (long long)seq);
	} else if (!strcmp(argv[2], "credential") && argc == 4) {
		char cred[FB_SECRET_LEN];
		rc = fb_db_credential_current(db, argv[3], cred);
		if (!rc)
			printf("%s\n", cred);
	} else if (!strcmp(argv[2], "lease") && argc == 6) {
		struct fb_lease l = {0};
		fb_strlcpy(l.mac, argv[3], sizeof(l.mac));
		fb_strlcpy(l.ip, argv[4], sizeof(l.ip));
		fb_strlcpy(l.state, "bound", sizeof(l.state));
		l.expires = fb_now() + atoi(argv[5]);
		rc = fb_db_lease_put_batch(db, &l, 1);
	} else {
		fprintf(stderr, "sd-dbtool: bad arguments\n");
		fb_db_close(db);
		return 2;
	}
	fb_db_close(db);
	if (rc < 0) {
		fprintf(stderr, "sd-dbtool: %s: %s\n", argv[3], strerror(-rc));
		return 1;
	}
	return 0;
}
