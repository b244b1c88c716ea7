/*
 * blockdev_file.h - a struct fb_blockdev over a plain file or block
 * device, for tests and the standalone iSCSI test target.
 */
#ifndef FB_BLOCKDEV_FILE_H
#define FB_BLOCKDEV_FILE_H

#include "blockdev.h"

/* Open path (read-only when readonly). NULL with errno on failure. The
 * returned device is freed by its ops->close. */
struct fb_blockdev *fb_blockdev_file_open(const char *path, int readonly);

#endif
