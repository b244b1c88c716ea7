/*
 * entryfile.h - a boot entry's file put into the state tree: checked to be
 * what its option says (a bzImage, an ISO 9660 image, a PE program; an
 * initrd is anything not empty), then copied with its sha256. Shared by
 * `fleetboot entry add` and POST /api/v1/entries.
 */
#ifndef FB_ENTRYFILE_H
#define FB_ENTRYFILE_H

#include <stddef.h>

#include "sha256.h"

/* Is path what kind ("kernel", "initrd", "iso", "efi") needs? 0, or -1 with
 * "LABEL SHOWN: reason" in why (label: "--kernel" for the CLI, "kernel"
 * for the API; shown: what the user gave, a path or a URL). */
int fb_entry_file_check(const char *kind, const char *label, const char *shown, const char *path,
                        char *why, size_t len);
/* Check src, then copy it to dst (which must not exist) with its sha256. */
int fb_entry_file_copy(const char *kind, const char *label, const char *src, const char *dst,
                       char sha[FB_SHA256_HEX], char *why, size_t len);

#endif
