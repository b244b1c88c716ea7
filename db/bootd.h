/*
 * db/bootd.h - database helpers only bootd needs.
 */
#ifndef FB_DB_BOOTD_H
#define FB_DB_BOOTD_H

#include <stdint.h>

#include "db/db.h"

/* PRAGMA data_version: changes whenever another connection commits, so
 * bootd rebuilds its machine/image cache only when something changed. */
int fb_db_data_version(struct fb_db *db, int64_t *version);

#endif
