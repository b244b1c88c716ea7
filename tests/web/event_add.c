/*
 * event_add.c - test helper: record a boot event through the DB API, as
 * bootd does when a machine reaches a stage.
 *   web_event_add STATE_DIR MAC STAGE [DETAIL]
 *   web_event_add STATE_DIR --register MAC
 *   web_event_add STATE_DIR --overlay MAC IMAGE_REF
 * --overlay records an overlay row for MAC on IMAGE_REF whose file does not
 * exist (storaged has not made it), to drive the overlay actions' paths.
 * --register adds MAC as bootd does for an unknown machine that asks to
 * boot (registered = 1, no image) and records its first DHCP event.
 */
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "db/db.h"
#include "str.h"

int main(int argc, char **argv)
{
	struct fb_db *db;
	if (argc < 4 || argc > 5) {
		fprintf(stderr, "usage: web_event_add STATE_DIR MAC STAGE [DETAIL]\n"
		                "       web_event_add STATE_DIR --register MAC\n");
		return 2;
	}
	int rc = fb_db_open_state(&db, argv[1]);
	if (rc < 0) {
		fprintf(stderr, "web_event_add: %s: %s\n", argv[1], strerror(-rc));
		return 1;
	}
	if (!strcmp(argv[2], "--overlay") && argc == 5) {
		struct fb_overlay o;
		struct fb_image img;
		memset(&o, 0, sizeof(o));
		rc = fb_db_image_resolve(db, argv[4], &img);
		if (rc == 0) {
			macid_normalize(argv[3], o.mac);
			o.image_id = img.id;
			snprintf(o.path, sizeof(o.path), "%s/overlays/%s.missing", argv[1], o.mac);
			o.created = fb_now();
			rc = fb_db_overlay_put(db, &o);
		}
		if (rc < 0)
			fprintf(stderr, "web_event_add: %s\n", fb_db_errmsg(db));
		fb_db_close(db);
		return rc < 0;
	}
	if (!strcmp(argv[2], "--register")) {
		struct fb_machine m;
		memset(&m, 0, sizeof(m));
		fb_strlcpy(m.mac, argv[3], sizeof(m.mac));
		m.mode = FB_MODE_PERSISTENT;
		m.protocol = FB_PROTOCOL_NBD;
		m.registered = 1;
		rc = fb_db_machine_add(db, &m);
		if (rc == 0)
			rc = fb_db_event_add(db, argv[3], "dhcp", "arch=0 ipxe=0 unknown");
		if (rc < 0)
			fprintf(stderr, "web_event_add: %s\n", fb_db_errmsg(db));
		fb_db_close(db);
		return rc < 0;
	}
	rc = fb_db_event_add(db, argv[2], argv[3], argc > 4 ? argv[4] : "");
	if (rc < 0)
		fprintf(stderr, "web_event_add: %s\n", fb_db_errmsg(db));
	fb_db_close(db);
	return rc < 0;
}
