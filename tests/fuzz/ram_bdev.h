/*
 * ram_bdev.h - a 64 KiB RAM block device for the fuzz targets that drive
 * the SCSI unit (fuzz_scsi_cdb.c, fuzz_iscsi_login.c). Every access must
 * already be bounds-checked by the caller: one out of range aborts, which
 * the fuzzer reports. Its nowait reads and writes always succeed, so the
 * network-thread paths of the iSCSI target run too.
 */
#ifndef FB_FUZZ_RAM_BDEV_H
#define FB_FUZZ_RAM_BDEV_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "blockdev.h"

#define RAM_SIZE 65536
static uint8_t ram[RAM_SIZE];

static void ram_check(uint64_t len, uint64_t off)
{
	if (off > RAM_SIZE || len > RAM_SIZE - off)
		abort(); /* the unit must bounds-check before calling */
}
static int ram_read(struct fb_blockdev *bd, void *buf, uint64_t len, uint64_t off)
{
	ram_check(len, off);
	memcpy(buf, ram + off, len);
	return 0;
}
static int ram_write(struct fb_blockdev *bd, const void *buf, uint64_t len, uint64_t off,
                     unsigned flags)
{
	ram_check(len, off);
	memcpy(ram + off, buf, len);
	return 0;
}
static int ram_write_nowait(struct fb_blockdev *bd, const void *buf, uint64_t len, uint64_t off)
{
	return ram_write(bd, buf, len, off, 0);
}
static int ram_flush(struct fb_blockdev *bd)
{
	return 0;
}
static int ram_zero(struct fb_blockdev *bd, uint64_t len, uint64_t off, unsigned flags)
{
	ram_check(len, off);
	memset(ram + off, 0, len);
	return 0;
}
static void ram_close(struct fb_blockdev *bd)
{
}
static const struct fb_blockdev_ops ram_ops = {
    .read = ram_read,
    .read_nowait = ram_read,
    .write = ram_write,
    .write_nowait = ram_write_nowait,
    .flush = ram_flush,
    .trim = ram_zero,
    .zero = ram_zero,
    .close = ram_close,
};

#endif
