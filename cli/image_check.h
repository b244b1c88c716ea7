/* image_check.h - sanity checks on image files before import. Each returns
 * 0, or -1 with one line in why naming the option and the problem. */
#ifndef FB_IMAGE_CHECK_H
#define FB_IMAGE_CHECK_H

#include <stddef.h>

int image_check_rootfs(const char *path, char *why, size_t len);
int image_check_kernel(const char *path, char *why, size_t len);
int image_check_initrd(const char *path, char *why, size_t len);
/* A whole bootable disk: at least 1 MiB, whole 512-byte sectors, and a
 * partition table (the MBR's 0x55AA signature; a GPT's protective MBR has
 * it too, and a GPT header "EFI PART" at LBA 1 is checked when the MBR
 * says GPT). */
int image_check_disk(const char *path, char *why, size_t len);

#endif
