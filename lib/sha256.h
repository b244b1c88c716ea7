/*
 * sha256.h - sha256 digests as lower-case hex: of memory, of a file, and of
 * a file while it is copied (images are imported and verified in one pass
 * over the data). The file functions read in large chunks and report
 * progress through an fb_progress_fn.
 */
#ifndef FB_SHA256_H
#define FB_SHA256_H

#include <stddef.h>

#include "progress.h"

#define FB_SHA256_HEX 65 /* 64 hex digits plus NUL */

/* sha256 of memory as hex. */
void fb_sha256_mem(const void *p, size_t n, char hex[FB_SHA256_HEX]);
/* sha256 of a file as lower-case hex. 0, or -1 with errno (ECANCELED when
 * progress aborted). */
int fb_sha256_file(const char *path, char hex[FB_SHA256_HEX], fb_progress_fn progress, void *arg);
/* Copy a file (sparse-aware), fsync the copy; optional sha256 of the data
 * and progress. dst must not exist. 0 or -1 with errno. */
int fb_copy_file(const char *src, const char *dst, char hex[FB_SHA256_HEX], fb_progress_fn progress,
                 void *arg);

#endif
