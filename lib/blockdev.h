/*
 * blockdev.h - the block device a front end (NBD plugin, iSCSI target)
 * serves. The copy-on-write engine provides one per connected machine; a
 * plain-file implementation exists for tests. Offsets and lengths are in
 * bytes; the front ends check bounds against size before calling.
 *
 * Every function returns 0 or a negative errno. Durability: after flush()
 * returns 0, every write that returned before flush() was called is durable.
 * A write with FB_BD_FUA is durable when it returns.
 */
#ifndef FB_BLOCKDEV_H
#define FB_BLOCKDEV_H

#include <stdint.h>

#define FB_BD_FUA 1 /* force unit access: durable before returning */

struct fb_blockdev;

struct fb_blockdev_ops {
	int (*read)(struct fb_blockdev *bd, void *buf, uint64_t len, uint64_t off);
	/* Optional: read, or -EAGAIN at once where that would wait for the
	 * disk (the data is not in memory), so an event loop can serve
	 * cached reads itself and hand the rest to a thread. */
	int (*read_nowait)(struct fb_blockdev *bd, void *buf, uint64_t len, uint64_t off);
	int (*write)(struct fb_blockdev *bd, const void *buf, uint64_t len, uint64_t off,
	             unsigned flags);
	/* Optional: write (never FUA), or -EAGAIN at once where that would
	 * wait for a lock another thread holds or for a disk read. The data
	 * still goes through the page cache, which the kernel may throttle;
	 * callers on an event loop watch how long it takes. */
	int (*write_nowait)(struct fb_blockdev *bd, const void *buf, uint64_t len, uint64_t off);
	int (*flush)(struct fb_blockdev *bd);
	/* Discard: later reads return zeros (the engine may keep it as metadata). */
	int (*trim)(struct fb_blockdev *bd, uint64_t len, uint64_t off, unsigned flags);
	/* Write zeros, cheaply where possible. */
	int (*zero)(struct fb_blockdev *bd, uint64_t len, uint64_t off, unsigned flags);
	void (*close)(struct fb_blockdev *bd);
};

struct fb_blockdev {
	const struct fb_blockdev_ops *ops;
	uint64_t size;       /* bytes */
	uint32_t block_size; /* logical block size the front end reports (512) */
	int readonly;        /* writes refused with -EROFS */
	void *priv;          /* implementation state */
};

#endif
