/*
 * blockdev_file.c - see blockdev_file.h. pread/pwrite at any offset,
 * fdatasync for flush and FUA, hole punching for trim and zero ranges where
 * the file system supports them (falling back to writing zeros).
 */
#include "iscsi/blockdev_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "linux/falloc.h"

struct bdf {
	struct fb_blockdev bd; /* first: the public part */
	int fd;
};

static int bdf_fd(struct fb_blockdev *bd)
{
	return ((struct bdf *)bd)->fd;
}

/* Past the end of a short file: zeros. */
static int bdf_read(struct fb_blockdev *bd, void *buf, uint64_t len, uint64_t off)
{
	return fb_pread_full(bdf_fd(bd), buf, len, off, FB_PREAD_ZERO_FILL);
}

static int bdf_read_nowait(struct fb_blockdev *bd, void *buf, uint64_t len, uint64_t off)
{
	return fb_pread_full(bdf_fd(bd), buf, len, off, FB_PREAD_ZERO_FILL | FB_PREAD_NOWAIT);
}

static int bdf_flush(struct fb_blockdev *bd)
{
	return fdatasync(bdf_fd(bd)) < 0 ? -errno : 0;
}

static int bdf_write(struct fb_blockdev *bd, const void *buf, uint64_t len, uint64_t off,
                     unsigned flags)
{
	if (bd->readonly)
		return -EROFS;
	int rc = fb_pwrite_full(bdf_fd(bd), buf, len, off);
	if (rc < 0)
		return rc;
	return (flags & FB_BD_FUA) ? bdf_flush(bd) : 0;
}

static int bdf_write_nowait(struct fb_blockdev *bd, const void *buf, uint64_t len, uint64_t off)
{
	return bdf_write(bd, buf, len, off, 0);
}

static int write_zeros(struct fb_blockdev *bd, uint64_t len, uint64_t off, unsigned flags)
{
	static const uint8_t zeros[65536];
	while (len) {
		uint64_t n = len < sizeof(zeros) ? len : sizeof(zeros);
		int rc = bdf_write(bd, zeros, n, off, 0);
		if (rc < 0)
			return rc;
		len -= n;
		off += n;
	}
	return (flags & FB_BD_FUA) ? bdf_flush(bd) : 0;
}

static int bdf_trim(struct fb_blockdev *bd, uint64_t len, uint64_t off, unsigned flags)
{
	if (bd->readonly)
		return -EROFS;
	if (fallocate(bdf_fd(bd), FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off,
	              (off_t)len) == 0)
		return (flags & FB_BD_FUA) ? bdf_flush(bd) : 0;
	/* Reads after a trim must return zeros (we report LBPRZ). */
	return write_zeros(bd, len, off, flags);
}

static int bdf_zero(struct fb_blockdev *bd, uint64_t len, uint64_t off, unsigned flags)
{
	if (bd->readonly)
		return -EROFS;
	if (fallocate(bdf_fd(bd), FALLOC_FL_ZERO_RANGE, (off_t)off, (off_t)len) == 0)
		return (flags & FB_BD_FUA) ? bdf_flush(bd) : 0;
	return write_zeros(bd, len, off, flags);
}

static void bdf_close(struct fb_blockdev *bd)
{
	close(bdf_fd(bd));
	free(bd);
}

static const struct fb_blockdev_ops bdf_ops = {
    .read = bdf_read,
    .read_nowait = bdf_read_nowait,
    .write = bdf_write,
    .write_nowait = bdf_write_nowait,
    .flush = bdf_flush,
    .trim = bdf_trim,
    .zero = bdf_zero,
    .close = bdf_close,
};

struct fb_blockdev *fb_blockdev_file_open(const char *path, int readonly)
{
	int fd = open(path, (readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	struct stat st;
	off_t size;
	if (fstat(fd, &st) < 0)
		goto fail;
	size = S_ISBLK(st.st_mode) ? lseek(fd, 0, SEEK_END) : st.st_size;
	if (size < 0)
		goto fail;
	struct bdf *f = calloc(1, sizeof(*f));
	if (!f)
		goto fail;
	f->fd = fd;
	f->bd.ops = &bdf_ops;
	f->bd.size = (uint64_t)size;
	f->bd.block_size = 512;
	f->bd.readonly = readonly;
	f->bd.priv = f;
	return &f->bd;
fail:;
	int e = errno;
	close(fd);
	errno = e;
	return NULL;
}
