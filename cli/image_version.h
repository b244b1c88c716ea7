/*
 * image_version.h - a new version of an image, made the same way by
 * `image import` and `overlay commit`: its number is reserved, its files
 * are written into a temporary folder beside the versions (.tmp-V-PID),
 * and only once everything is there is the folder renamed into place and
 * the version registered. An interrupted or failed run leaves nothing
 * registered; `image import` sweeps the folders of runs whose process is
 * gone.
 */
#ifndef FB_CLI_IMAGE_VERSION_H
#define FB_CLI_IMAGE_VERSION_H

#include "cli.h"

struct image_version {
	char name_dir[FB_PATH_LEN];   /* state_dir/images/NAME */
	char tmp[FB_PATH_LEN + 32];   /* where the files are written */
	char final[FB_PATH_LEN + 32]; /* where they end up */
	struct fb_image img;          /* name and version set; the caller fills the rest */
};

/* Set when SIGINT or SIGTERM arrived since image_version_begin; progress
 * callbacks return 1 to stop a copy. */
int image_version_interrupted(void);

/* Make the image's folder (given to the service user when new), sweep
 * stale temporary folders when sweep is set, reserve the next version and
 * make its temporary folder; SIGINT and SIGTERM then only set the
 * interrupted flag. CLI_OK, or CLI_ERR (said). */
int image_version_begin(struct cli_ctx *ctx, const char *name, int sweep, struct image_version *v);

/* Once rootfs.img, vmlinuz and initrd.img are in v->tmp (and v->img has
 * their sizes and sums): the dm-verity tree (rootfs.verity, root hash and
 * salt into v->img), and with a site key the signed UKI (boot.efi, its
 * sha256 into v->img). A root file system whose size is not a multiple of
 * 4096 bytes gets neither (a warning). CLI_OK, or CLI_ERR (said) with the
 * temporary folder removed. */
int image_version_seal(struct cli_ctx *ctx, struct image_version *v);

/* Give the written folder to the service user, rename it into place and
 * register the version; what names the work in the message of an
 * interruption ("import of NAME", "commit"). The sha256 of rootfs.img is
 * also recorded as storaged's verification of it. CLI_OK, or CLI_ERR
 * (said) with the temporary folder removed. */
int image_version_publish(struct cli_ctx *ctx, struct image_version *v, const char *what);

#endif
