/*
 * sd_newboot.c - test helper: record that a machine started a new boot
 * (what bootd does when the firmware asks for its boot), so the storaged
 * tests can exercise ephemeral discards without running DHCP.
 *
 *   sd-newboot STATE_DIR MACID
 */
#include <stdio.h>
#include <string.h>

#include "db/db.h"

int main(int argc, char **argv)
{
	struct fb_db *db;
	int64_t seq = 0;
	int rc;

	if (argc != 3) {
		fprintf(stderr, "usage: sd-newboot STATE_DIR MACID\n");
		return 2;
	}
	if ((rc = fb_db_open_state(&db, argv[1])) < 0) {
		fprintf(stderr, "sd-newboot: %s: %s\n", argv[1], strerror(-rc));
		return 1;
	}
	rc = fb_db_machine_new_boot(db, argv[2], &seq);
	fb_db_close(db);
	if (rc < 0) {
		fprintf(stderr, "sd-newboot: %s: %s\n", argv[2], strerror(-rc));
		return 1;
	}
	printf("%lld\n", (long long)seq);
	return 0;
}
