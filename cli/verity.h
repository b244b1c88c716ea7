/*
 * verity.h - an image version's dm-verity hash tree (rootfs.verity beside
 * rootfs.img), made and checked with veritysetup (Debian's cryptsetup-bin):
 * 4096-byte data and hash blocks, sha256, a random salt, and the tree's
 * superblock at the start of rootfs.verity (so a client can open it with
 * `veritysetup open DATA NAME HASHDEV ROOTHASH`). The root hash is what
 * the signed UKI carries; the tree itself is public (useless without it).
 */
#ifndef FB_CLI_VERITY_H
#define FB_CLI_VERITY_H

#include <stddef.h>

#include "db/db.h"

/* Make hash_path from data_path; fill the root hash and salt (hex).
 * 0, or -1 with the reason in why (hash_path removed). */
int verity_format(const char *data_path, const char *hash_path, char root_hash[FB_SHA256_HEX],
                  char salt[FB_SHA256_HEX], char *why, size_t whylen);

/* Check every block of data_path against hash_path and root_hash.
 * 0, or -1 with the reason in why. */
int verity_verify(const char *data_path, const char *hash_path, const char *root_hash, char *why,
                  size_t whylen);

/* Make the tree of a registered version that has none (rootfs.verity
 * written in its folder and given to the state tree's owner, the DB updated, img updated). 0, or -1
 * with the reason in why. */
int verity_backfill(struct fb_db *db, const char *state_dir, struct fb_image *img, char *why,
                    size_t whylen);

#endif
