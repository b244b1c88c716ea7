/*
 * cow_bdev.c - struct fb_blockdev over the engine, for the front ends: an
 * overlay (persistent and ephemeral modes) or a bare base served read-only
 * (readonly and install modes).
 */
#include <errno.h>
#include <stdlib.h>

#include "cow/cow_int.h"
#include "fileio.h"

static int ovl_read(struct fb_blockdev *bd, void *buf, uint64_t len, uint64_t off)
{
	return cow_ovl_read(bd->priv, buf, len, off);
}

static int ovl_read_nowait(struct fb_blockdev *bd, void *buf, uint64_t len, uint64_t off)
{
	return cow_ovl_read_flags(bd->priv, buf, len, off, FB_PREAD_NOWAIT);
}

static int ovl_write(struct fb_blockdev *bd, const void *buf, uint64_t len, uint64_t off,
                     unsigned flags)
{
	return cow_ovl_write(bd->priv, buf, len, off, flags);
}

static int ovl_flush(struct fb_blockdev *bd)
{
	return cow_ovl_flush(bd->priv);
}

static int ovl_zero(struct fb_blockdev *bd, uint64_t len, uint64_t off, unsigned flags)
{
	return cow_ovl_zero(bd->priv, len, off, flags);
}

static int ovl_write_nowait(struct fb_blockdev *bd, const void *buf, uint64_t len, uint64_t off)
{
	return cow_ovl_write(bd->priv, buf, len, off, COW_NOWAIT);
}

static void ovl_close(struct fb_blockdev *bd)
{
	struct cow_ovl *o = bd->priv;
	struct cow_base *b = o->base;
	cow_ovl_close(o);
	cow_base_put(b);
	free(bd);
}

static const struct fb_blockdev_ops ovl_ops = {
    .read = ovl_read,
    .read_nowait = ovl_read_nowait,
    .write = ovl_write,
    .write_nowait = ovl_write_nowait,
    .flush = ovl_flush,
    .trim = ovl_zero,
    .zero = ovl_zero,
    .close = ovl_close,
};

struct fb_blockdev *cow_bdev_overlay(struct cow_ovl *o)
{
	struct fb_blockdev *bd = calloc(1, sizeof(*bd));
	if (!bd)
		return NULL;
	bd->ops = &ovl_ops;
	bd->size = o->h.size;
	bd->block_size = 512;
	bd->readonly = o->rdonly;
	bd->priv = o;
	return bd;
}

static int base_read(struct fb_blockdev *bd, void *buf, uint64_t len, uint64_t off)
{
	struct cow_base *b = bd->priv;
	if (off + len < off || off + len > b->size)
		return -EINVAL;
	return fb_pread_full(b->fd, buf, len, off, FB_PREAD_ZERO_FILL);
}

static int base_read_nowait(struct fb_blockdev *bd, void *buf, uint64_t len, uint64_t off)
{
	struct cow_base *b = bd->priv;
	if (off + len < off || off + len > b->size)
		return -EINVAL;
	return fb_pread_full(b->fd, buf, len, off, FB_PREAD_ZERO_FILL | FB_PREAD_NOWAIT);
}

static int base_write(struct fb_blockdev *bd, const void *buf, uint64_t len, uint64_t off,
                      unsigned flags)
{
	return -EROFS;
}

static int base_flush(struct fb_blockdev *bd)
{
	return 0;
}

static int base_zero(struct fb_blockdev *bd, uint64_t len, uint64_t off, unsigned flags)
{
	return -EROFS;
}

static void base_close(struct fb_blockdev *bd)
{
	cow_base_put(bd->priv);
	free(bd);
}

static const struct fb_blockdev_ops base_ops = {
    .read = base_read,
    .read_nowait = base_read_nowait,
    .write = base_write,
    .flush = base_flush,
    .trim = base_zero,
    .zero = base_zero,
    .close = base_close,
};

struct fb_blockdev *cow_bdev_base(struct cow_base *b)
{
	struct fb_blockdev *bd = calloc(1, sizeof(*bd));
	if (!bd)
		return NULL;
	bd->ops = &base_ops;
	bd->size = b->size;
	bd->block_size = 512;
	bd->readonly = 1;
	bd->priv = b;
	return bd;
}
