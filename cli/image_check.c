/*
 * image_check.c - cheap sanity checks on files handed to `image import`, so
 * a wrong argument (a kernel given as the rootfs, a truncated download) is
 * refused with a clear message before anything is copied.
 */
#include "image_check.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int read_at(int fd, off_t off, void *buf, size_t n)
{
	return pread(fd, buf, n, off) == (ssize_t)n ? 0 : -1;
}

static int open_regular(const char *path, const char *what, char *why, size_t len, struct stat *st)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(why, len, "--%s %s: %s", what, path, strerror(errno));
		return -1;
	}
	if (fstat(fd, st) < 0 || !S_ISREG(st->st_mode)) {
		snprintf(why, len, "--%s %s: not a regular file", what, path);
		close(fd);
		return -1;
	}
	if (st->st_size == 0) {
		snprintf(why, len, "--%s %s: file is empty", what, path);
		close(fd);
		return -1;
	}
	return fd;
}

int image_check_rootfs(const char *path, char *why, size_t len)
{
	struct stat st;
	unsigned char b[4];
	int fd = open_regular(path, "rootfs", why, len, &st);
	if (fd < 0)
		return -1;
	int ok = 0;
	if (st.st_size % 512)
		snprintf(why, len, "--rootfs %s: size %lld is not a multiple of 512 bytes", path,
		         (long long)st.st_size);
	else if (read_at(fd, 1080, b, 2) == 0 && b[0] == 0x53 && b[1] == 0xef)
		ok = 1; /* ext2/3/4 superblock magic */
	else if (read_at(fd, 0, b, 4) == 0 && (!memcmp(b, "hsqs", 4) || !memcmp(b, "XFSB", 4)))
		ok = 1; /* squashfs, xfs */
	else if (read_at(fd, 510, b, 2) == 0 && b[0] == 0x55 && b[1] == 0xaa)
		ok = 1; /* a partitioned disk (MBR or protective MBR of GPT) */
	else
		snprintf(why, len,
		         "--rootfs %s: not a filesystem or disk image (no ext4, xfs, squashfs or "
		         "partition table signature)",
		         path);
	close(fd);
	return ok ? 0 : -1;
}

int image_check_kernel(const char *path, char *why, size_t len)
{
	struct stat st;
	unsigned char b[4];
	int fd = open_regular(path, "kernel", why, len, &st);
	if (fd < 0)
		return -1;
	/* x86 bzImage: "HdrS" at 0x202; arm64 Image: "ARMd" at 0x38; EFI PE: "MZ". */
	int ok = (read_at(fd, 0x202, b, 4) == 0 && !memcmp(b, "HdrS", 4)) ||
	         (read_at(fd, 0x38, b, 4) == 0 && !memcmp(b, "ARM\x64", 4)) ||
	         (read_at(fd, 0, b, 2) == 0 && b[0] == 'M' && b[1] == 'Z');
	if (!ok)
		snprintf(why, len, "--kernel %s: not a Linux kernel image", path);
	close(fd);
	return ok ? 0 : -1;
}

int image_check_initrd(const char *path, char *why, size_t len)
{
	struct stat st;
	unsigned char b[6];
	int fd = open_regular(path, "initrd", why, len, &st);
	if (fd < 0)
		return -1;
	int ok = read_at(fd, 0, b, 6) == 0 &&
	         (!memcmp(b, "070701", 6) || !memcmp(b, "070702", 6) || /* cpio newc */
	          (b[0] == 0x1f && b[1] == 0x8b) ||                     /* gzip */
	          (b[0] == 0x28 && b[1] == 0xb5 && b[2] == 0x2f) ||     /* zstd */
	          (b[0] == 0xfd && !memcmp(b + 1, "7zXZ", 4)) ||        /* xz */
	          (b[0] == 0x02 && b[1] == 0x21) ||                     /* lz4 legacy */
	          (b[0] == 0x04 && b[1] == 0x22) ||                     /* lz4 */
	          (b[0] == 'B' && b[1] == 'Z' && b[2] == 'h') ||        /* bzip2 */
	          (b[0] == 0x5d && b[1] == 0x00));                      /* lzma */
	if (!ok)
		snprintf(why, len, "--initrd %s: not an initramfs (cpio, gzip, zstd, xz, lz4)",
		         path);
	close(fd);
	return ok ? 0 : -1;
}

#define DISK_MIN (1u << 20) /* a partition table, a boot loader and something to boot */

int image_check_disk(const char *path, char *why, size_t len)
{
	struct stat st;
	unsigned char mbr[512], hdr[8];
	int fd = open_regular(path, "disk", why, len, &st);
	if (fd < 0)
		return -1;
	int ok = 0;
	if (st.st_size < DISK_MIN)
		snprintf(why, len,
		         "--disk %s: too small for a bootable disk (%lld bytes; at least 1 MiB)",
		         path, (long long)st.st_size);
	else if (st.st_size % 512)
		snprintf(why, len, "--disk %s: size %lld is not a multiple of 512 bytes", path,
		         (long long)st.st_size);
	else if (read_at(fd, 0, mbr, sizeof(mbr)) < 0 || mbr[510] != 0x55 || mbr[511] != 0xaa)
		snprintf(why, len,
		         "--disk %s: not a disk image (no MBR boot signature 55 AA at byte 510, so "
		         "no MBR or GPT partition table)",
		         path);
	else if (mbr[446 + 4] == 0xee &&
	         (read_at(fd, 512, hdr, sizeof(hdr)) < 0 || memcmp(hdr, "EFI PART", 8)))
		snprintf(why, len,
		         "--disk %s: its MBR announces a GPT (type EE) but there is no GPT header "
		         "(\"EFI PART\") at LBA 1",
		         path);
	else
		ok = 1;
	close(fd);
	return ok ? 0 : -1;
}
