/*
 * event_add.c - test helper: record a boot event through the DB API, as
 * bootd does when a machine reaches a stage.
 *   web_event_add STATE_DIR MAC STAGE [DETAIL]
 */
#include <stdio.h>
#include <string.h>

#include "db/db.h"

int main(int argc, char **argv)
{
	struct fb_db *db;
	if (argc < 4 || argc > 5) {
		fprintf(stderr, "usage: web_event_add STATE_DIR MAC STAGE [DETAIL]\n");
		return 2;
	}
	int rc = fb_db_open_state(&db, argv[1]);
	if (rc < 0) {
		fprintf(stderr, "web_event_add: %s: %s\n", argv[1], strerror(-rc));
		return 1;
	}
	rc = fb_db_event_add(db, argv[2], argv[3], argc > 4 ? argv[4] : "");
	if (rc < 0)
		fprintf(stderr, "web_event_add: %s\n", fb_db_errmsg(db));
	fb_db_close(db);
	return rc < 0;
}
