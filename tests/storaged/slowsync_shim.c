/*
 * slowsync_shim.c - an LD_PRELOAD library for tests/storaged/test-attach-storm.sh:
 * it makes fsync() and fdatasync() of some files slow, as on a busy disk,
 * so that a test can tell whether machines' first attaches wait for each
 * other's syncs.
 *
 *   FB_SLOW_MATCH=TEXT  the files to slow down: any whose path (as
 *                       /proc/self/fd shows it) contains TEXT
 *   FB_SLOW_MS=N        the delay added before each of their syncs
 *
 * The delay is a sleep in the calling thread: a sync of one thread does not
 * hold up another's, as on a real disk that takes syncs in parallel.
 */
#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int (*real_fsync)(int);
static int (*real_fdatasync)(int);
static const char *match;
static long delay_ms;

__attribute__((constructor)) static void slowsync_init(void)
{
	real_fsync = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
	real_fdatasync = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
	match = getenv("FB_SLOW_MATCH");
	const char *ms = getenv("FB_SLOW_MS");
	delay_ms = ms ? strtol(ms, NULL, 10) : 0;
}

static void maybe_wait(int fd)
{
	char link[64], path[PATH_MAX];
	if (!match || !*match || delay_ms <= 0)
		return;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	ssize_t n = readlink(link, path, sizeof(path) - 1);
	if (n <= 0)
		return;
	path[n] = 0;
	if (!strstr(path, match))
		return;
	struct timespec ts = {delay_ms / 1000, (delay_ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) < 0)
		;
}

int fsync(int fd)
{
	maybe_wait(fd);
	return real_fsync(fd);
}

int fdatasync(int fd)
{
	maybe_wait(fd);
	return real_fdatasync(fd);
}
