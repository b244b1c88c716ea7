/*
 * fileio.h - file and directory helpers: whole-file reads, writes that are
 * atomic and durable (a crash leaves the old file or the new one, never a
 * mix), directory trees made and removed, and reads and writes that finish
 * the whole request despite short transfers and signals.
 */
#ifndef FB_FILEIO_H
#define FB_FILEIO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Like mkdir -p. 0 or -1 with errno. */
int fb_mkdir_p(const char *path, mode_t mode);
/* Remove a tree (like rm -rf); missing is not an error. 0 or -1. */
int fb_rm_rf(const char *path);
/* Read a whole file (at most max bytes) into a NUL-terminated heap buffer. */
int fb_read_file(const char *path, char **out, size_t *len, size_t max);
/* Write via a temp file, fsync, rename, fsync of the directory. */
int fb_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode);
/* fsync a directory (after a rename or create inside it). */
int fb_fsync_dir(const char *dir);
/* Write all n bytes at the file position, retrying short writes and EINTR.
 * 0 or -1 with errno. */
int fb_write_all(int fd, const void *p, size_t n);

/* Read exactly len bytes at off (retrying short reads and EINTR). Past
 * the end of the file: zeros with FB_PREAD_ZERO_FILL, else -EIO. With
 * FB_PREAD_NOWAIT, -EAGAIN instead of waiting for the disk (the data is
 * not all in the page cache). 0 or a negative errno. */
#define FB_PREAD_ZERO_FILL 1
#define FB_PREAD_NOWAIT    2
int fb_pread_full(int fd, void *buf, uint64_t len, uint64_t off, unsigned flags);
/* Write exactly len bytes at off (retrying short writes and EINTR).
 * 0 or a negative errno. */
int fb_pwrite_full(int fd, const void *buf, uint64_t len, uint64_t off);

#endif
