/*
 * util.h - small helpers every fleetboot program shares: random secrets,
 * files written atomically and durably, sha256 of files with progress,
 * directory creation, clocks, sizes, and where the installed tree lives.
 */
#ifndef FB_UTIL_H
#define FB_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define FB_SHA256_HEX 65 /* 64 hex digits plus NUL */

/* Bounded copy that always terminates; returns strlen(src). */
size_t fb_strlcpy(char *dst, const char *src, size_t size);
/* Fill out with 2*nbytes lower-case hex chars from getrandom(2) plus NUL. */
int fb_random_hex(char *out, size_t nbytes);
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

/* Progress callback: done and total bytes; return non-zero to abort. */
typedef int (*fb_progress_fn)(void *arg, uint64_t done, uint64_t total);
/* sha256 of a file as lower-case hex. 0, or -1 with errno (ECANCELED when
 * progress aborted). */
int fb_sha256_file(const char *path, char hex[FB_SHA256_HEX], fb_progress_fn progress, void *arg);
/* sha256 of memory as hex. */
void fb_sha256_mem(const void *p, size_t n, char hex[FB_SHA256_HEX]);
/* Copy a file (sparse-aware), fsync the copy; optional sha256 of the data
 * and progress. dst must not exist. 0 or -1 with errno. */
int fb_copy_file(const char *src, const char *dst, char hex[FB_SHA256_HEX], fb_progress_fn progress,
                 void *arg);
/* A terminal-aware progress printer for fb_progress_fn: a bar on a tty,
 * a line every 10% otherwise. arg is the label (const char *). */
int fb_progress_stderr(void *label, uint64_t done, uint64_t total);

/* Read exactly len bytes at off (retrying short reads and EINTR). Past
 * the end of the file: zeros with FB_PREAD_ZERO_FILL, else -EIO. With
 * FB_PREAD_NOWAIT, -EAGAIN instead of waiting for the disk (the data is
 * not all in the page cache). 0 or a negative errno. */
#define FB_PREAD_ZERO_FILL 1
#define FB_PREAD_NOWAIT    2
int fb_pread_full(int fd, void *buf, uint64_t len, uint64_t off, unsigned flags);

/* Wall clock seconds and monotonic milliseconds and microseconds. */
int64_t fb_now(void);
uint64_t fb_mono_ms(void);
uint64_t fb_mono_us(void);

/* Parse "512", "64K", "10M", "2G", "1T" (binary units) into bytes. */
int fb_parse_size(const char *s, uint64_t *out);
/* Format bytes as "1.5 GiB". */
char *fb_format_size(uint64_t n, char *buf, size_t len);

/*
 * Where this program's shared files are: PREFIX/share/fleetboot when run
 * from an installed tree (found from /proc/self/exe, so any PREFIX works),
 * or the source tree when run from build/ or build-san/. FLEETBOOT_SHARE
 * overrides. Returns a static string.
 */
const char *fb_share_dir(void);
/* Directory holding this program's own binary (static string). */
const char *fb_self_dir(void);
/* Find a sibling program: PREFIX/{bin,sbin,lib/fleetboot}/NAME or the
 * build dir. Returns 0 and fills out, or -1. */
int fb_find_program(const char *name, char *out, size_t len);

/* Default configuration file, honouring FLEETBOOT_CONF. */
const char *fb_default_conf(void);

#endif
