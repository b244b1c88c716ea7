/*
 * powercut_shim.c - an LD_PRELOAD library for tests/storaged/test-powercut.sh:
 * it records every change a process makes to one file, so that the test can
 * later build what a disk might hold after a power cut at the moment the
 * process was killed.
 *
 *   FB_PC_MATCH=NAME   the file to watch: any path ending in NAME
 *   FB_PC_LOG=PATH     the record, appended to
 *   FB_PC_CUT=N        optional: the power goes right after the N-th change
 *                      (the process kills itself with SIGKILL, holding the
 *                      record's lock, so nothing later is made or recorded)
 *   FB_PC_CUT_BELOW=OFF  optional: count only changes that begin below
 *                      file offset OFF toward FB_PC_CUT (e.g. the
 *                      overlay's map area, to cut the power mid-flush)
 *
 * Records (little-endian): op (1 byte), offset (8), length (8), then for
 * 'W' the data. Ops: 'W' pwrite, 'Z' hole punched (reads as zeros), 'T'
 * truncate to offset, 'B' a sync began, 'S' a sync ended (length = the
 * sync's number, as in its 'B'). What was recorded before a 'B' whose 'S'
 * follows is durable; anything later may or may not be on the disk.
 *
 * Writes are recorded and performed under one lock, so the record's order
 * is the order the page cache saw them in. They are performed for real
 * (the process reads its own writes back), so the file the process leaves
 * behind holds all of them: the power cut is built by powercut.c from a
 * copy of the file taken before the record began plus the record.
 *
 * A change this library cannot record (write(), writev(), pwritev() on the
 * watched file) aborts the process: a record that misses changes would
 * make the test's verdict meaningless.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#define MAX_FDS 4096

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned char watched[MAX_FDS];
static int logfd = -1;
static uint64_t syncs;
static uint64_t changes, cut_at, cut_below; /* cut_at 0: no power cut */

/* The next definition of each function (libc's), looked up once when the
 * library loads (resolve_all below): dlsym on every call, or under our
 * lock, is slow and can deadlock with the loader. */
#define REAL(name) real_##name
static __typeof__(&open) real_open;
static __typeof__(&open64) real_open64;
static int (*real___open_2)(const char *, int);
static int (*real___open64_2)(const char *, int);
static __typeof__(&openat) real_openat;
static __typeof__(&close) real_close;
static __typeof__(&pwrite) real_pwrite;
static __typeof__(&fallocate) real_fallocate;
static __typeof__(&ftruncate) real_ftruncate;
static __typeof__(&fdatasync) real_fdatasync;
static __typeof__(&fsync) real_fsync;
static __typeof__(&writev) real_writev;
static __typeof__(&write) real_write;
static __typeof__(&pwritev) real_pwritev;

static int matches(const char *path)
{
	const char *m = getenv("FB_PC_MATCH");
	size_t lp = path ? strlen(path) : 0, lm = m ? strlen(m) : 0;
	return lm && lp >= lm && !strcmp(path + lp - lm, m);
}

static void log_open(void)
{
	const char *p = getenv("FB_PC_LOG");
	if (logfd < 0 && p)
		logfd = REAL(open)(p, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
}

/* Append one record; the lock is held. A record that cannot be written
 * makes the test's result meaningless: stop at once. */
static void put(char op, uint64_t off, uint64_t len, const void *data, size_t dlen)
{
	unsigned char h[17];
	h[0] = (unsigned char)op;
	for (int i = 0; i < 8; i++) {
		h[1 + i] = (unsigned char)(off >> (8 * i));
		h[9 + i] = (unsigned char)(len >> (8 * i));
	}
	struct iovec iov[2] = {{h, sizeof(h)}, {(void *)data, dlen}};
	ssize_t want = (ssize_t)(sizeof(h) + dlen);
	ssize_t w = logfd < 0 ? -1 : REAL(writev)(logfd, iov, data ? 2 : 1);
	if (w != want) {
		char msg[160];
		int n = snprintf(msg, sizeof(msg),
		                 "powercut_shim: cannot record (fd %d, %zd of %zd): %s\n", logfd, w,
		                 want, strerror(errno));
		if (n > 0)
			(void)!REAL(write)(2, msg, (size_t)n);
		abort();
	}
	if (op == 'B' || op == 'S' || !cut_at || (cut_below && off >= cut_below) ||
	    ++changes < cut_at)
		return;
	/* The power goes now: nothing after this change reaches the file
	 * or the record (other threads wait for the lock we hold). */
	char msg[80];
	int n = snprintf(msg, sizeof(msg), "powercut_shim: power cut after change %llu\n",
	                 (unsigned long long)changes);
	if (n > 0)
		(void)!REAL(write)(2, msg, (size_t)n);
	kill(getpid(), SIGKILL);
	abort();
}

/* A change to the watched file that the record cannot describe. */
static void unrecorded(const char *fn)
{
	char msg[120];
	int n = snprintf(msg, sizeof(msg),
	                 "powercut_shim: %s() on the watched file is not recorded\n", fn);
	if (n > 0)
		(void)!REAL(write)(2, msg, (size_t)n);
	abort();
}

static int is_watched(int fd)
{
	return fd >= 0 && fd < MAX_FDS && watched[fd];
}

static int track(int fd, const char *path)
{
	if (fd >= 0 && fd < MAX_FDS && matches(path)) {
		pthread_mutex_lock(&lock);
		log_open();
		watched[fd] = 1;
		pthread_mutex_unlock(&lock);
	}
	return fd;
}

int open(const char *path, int flags, ...)
{
	va_list ap;
	va_start(ap, flags);
	mode_t mode = (flags & (O_CREAT | O_TMPFILE)) ? va_arg(ap, mode_t) : 0;
	va_end(ap);
	return track(REAL(open)(path, flags, mode), path);
}

int open64(const char *path, int flags, ...)
{
	va_list ap;
	va_start(ap, flags);
	mode_t mode = (flags & (O_CREAT | O_TMPFILE)) ? va_arg(ap, mode_t) : 0;
	va_end(ap);
	return track(REAL(open64)(path, flags, mode), path);
}

/* What fortified callers reach when the flags are not a constant. */
int __open_2(const char *path, int flags);
int __open_2(const char *path, int flags)
{
	return track(REAL(__open_2)(path, flags), path);
}

int __open64_2(const char *path, int flags);
int __open64_2(const char *path, int flags)
{
	return track(REAL(__open64_2)(path, flags), path);
}

int openat(int dirfd, const char *path, int flags, ...)
{
	va_list ap;
	va_start(ap, flags);
	mode_t mode = (flags & (O_CREAT | O_TMPFILE)) ? va_arg(ap, mode_t) : 0;
	va_end(ap);
	return track(REAL(openat)(dirfd, path, flags, mode), path);
}

int close(int fd)
{
	if (fd >= 0 && fd < MAX_FDS)
		watched[fd] = 0;
	return REAL(close)(fd);
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
	if (!is_watched(fd))
		return REAL(pwrite)(fd, buf, n, off);
	pthread_mutex_lock(&lock);
	ssize_t r = REAL(pwrite)(fd, buf, n, off);
	if (r > 0)
		put('W', (uint64_t)off, (uint64_t)r, buf, (size_t)r);
	pthread_mutex_unlock(&lock);
	return r;
}

ssize_t pwrite64(int fd, const void *buf, size_t n, off_t off)
{
	return pwrite(fd, buf, n, off);
}

int fallocate(int fd, int mode, off_t off, off_t len)
{
	if (!is_watched(fd))
		return REAL(fallocate)(fd, mode, off, len);
	pthread_mutex_lock(&lock);
	int r = REAL(fallocate)(fd, mode, off, len);
	if (r == 0 && (mode & (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE)))
		put('Z', (uint64_t)off, (uint64_t)len, NULL, 0);
	pthread_mutex_unlock(&lock);
	return r;
}

int fallocate64(int fd, int mode, off_t off, off_t len)
{
	return fallocate(fd, mode, off, len);
}

int ftruncate(int fd, off_t len)
{
	if (!is_watched(fd))
		return REAL(ftruncate)(fd, len);
	pthread_mutex_lock(&lock);
	int r = REAL(ftruncate)(fd, len);
	if (r == 0)
		put('T', (uint64_t)len, 0, NULL, 0);
	pthread_mutex_unlock(&lock);
	return r;
}

int ftruncate64(int fd, off_t len)
{
	return ftruncate(fd, len);
}

/* The sync itself runs unlocked (it is slow, and writes go on meanwhile):
 * only what was recorded before its 'B' is covered by it. */
static int synced(int fd, int (*fn)(int))
{
	if (!is_watched(fd))
		return fn(fd);
	pthread_mutex_lock(&lock);
	uint64_t id = ++syncs;
	put('B', 0, id, NULL, 0);
	pthread_mutex_unlock(&lock);
	int r = fn(fd);
	if (r == 0) {
		pthread_mutex_lock(&lock);
		put('S', 0, id, NULL, 0);
		pthread_mutex_unlock(&lock);
	}
	return r;
}

ssize_t write(int fd, const void *buf, size_t n)
{
	if (is_watched(fd))
		unrecorded("write");
	return REAL(write)(fd, buf, n);
}

ssize_t writev(int fd, const struct iovec *iov, int cnt)
{
	if (is_watched(fd))
		unrecorded("writev");
	return REAL(writev)(fd, iov, cnt);
}

ssize_t pwritev(int fd, const struct iovec *iov, int cnt, off_t off)
{
	if (is_watched(fd))
		unrecorded("pwritev");
	return REAL(pwritev)(fd, iov, cnt, off);
}

int fdatasync(int fd)
{
	return synced(fd, REAL(fdatasync));
}

int fsync(int fd)
{
	return synced(fd, REAL(fsync));
}

#define RESOLVE(name) (real_##name = (__typeof__(real_##name))dlsym(RTLD_NEXT, #name))
__attribute__((constructor)) static void resolve_all(void)
{
	if (!RESOLVE(open) || !RESOLVE(open64) || !RESOLVE(__open_2) || !RESOLVE(__open64_2) ||
	    !RESOLVE(openat) || !RESOLVE(close) || !RESOLVE(pwrite) || !RESOLVE(fallocate) ||
	    !RESOLVE(ftruncate) || !RESOLVE(fdatasync) || !RESOLVE(fsync) || !RESOLVE(writev) ||
	    !RESOLVE(write) || !RESOLVE(pwritev))
		abort();
	const char *cut = getenv("FB_PC_CUT");
	if (cut)
		cut_at = strtoull(cut, NULL, 10);
	const char *below = getenv("FB_PC_CUT_BELOW");
	if (below)
		cut_below = strtoull(below, NULL, 10);
}
