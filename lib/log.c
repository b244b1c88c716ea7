/*
 * log.c - see log.h. Writes never block: stderr gets one write(2) per
 * message (a full pipe loses the message rather than the daemon's time),
 * syslog gets a MSG_DONTWAIT datagram to /dev/log.
 */
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static char log_ident[32] = "fleetboot";
static int log_fg = 1;
static int log_verbosity;
static int log_sock = -1;

void log_init(const char *ident, int foreground, int verbose)
{
	snprintf(log_ident, sizeof(log_ident), "%s", ident);
	log_fg = foreground;
	log_verbosity = verbose;
	if (!foreground && log_sock < 0) {
		struct sockaddr_un sun = {.sun_family = AF_UNIX};
		snprintf(sun.sun_path, sizeof(sun.sun_path), "/dev/log");
		log_sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (log_sock >= 0 && connect(log_sock, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
			close(log_sock);
			log_sock = -1;
			log_fg = 1; /* no syslog: fall back to stderr */
		}
	}
}

int log_verbose(void)
{
	return log_verbosity;
}

__attribute__((format(printf, 4, 0))) static void
log_emit(enum fb_log_level lvl, int err, const char *func, const char *fmt, va_list ap)
{
	static const char *names[] = {"error", "warning", "info", "debug"};
	static const int prio[] = {3, 4, 6, 7};
	char msg[1024];
	int n = 0;

	if (lvl == FB_LOG_DEBUG && log_verbosity < 1)
		return;
	if (log_fg) {
		struct timespec ts;
		struct tm tm;
		clock_gettime(CLOCK_REALTIME, &ts);
		localtime_r(&ts.tv_sec, &tm);
		n = snprintf(msg, sizeof(msg), "%02d:%02d:%02d.%03ld %s %s: ", tm.tm_hour,
		             tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000, log_ident, names[lvl]);
	} else {
		/* RFC 3164 framing, facility daemon (3). */
		n = snprintf(msg, sizeof(msg), "<%d>%s[%d]: ", 3 * 8 + prio[lvl], log_ident,
		             (int)getpid());
	}
	if (n < 0 || (size_t)n >= sizeof(msg))
		n = 0;
	if (func && log_verbosity > 0 && (size_t)n < sizeof(msg)) {
		int m = snprintf(msg + n, sizeof(msg) - n, "%s: ", func);
		if (m > 0)
			n += m;
	}
	if ((size_t)n < sizeof(msg)) {
		int m = vsnprintf(msg + n, sizeof(msg) - n, fmt, ap);
		if (m > 0)
			n += m;
	}
	if ((size_t)n >= sizeof(msg) - 2)
		n = sizeof(msg) - 2;
	if (err) {
		int m = snprintf(msg + n, sizeof(msg) - n, ": %s", strerror(err));
		if (m > 0)
			n += m;
		if ((size_t)n >= sizeof(msg) - 2)
			n = sizeof(msg) - 2;
	}
	if (log_fg) {
		msg[n++] = '\n';
		ssize_t r = write(STDERR_FILENO, msg, n);
		(void)r;
	} else {
		ssize_t r = send(log_sock, msg, n, MSG_DONTWAIT | MSG_NOSIGNAL);
		(void)r;
	}
}

void log_at(enum fb_log_level lvl, int with_errno, const char *func, const char *fmt, ...)
{
	int saved = errno;
	va_list ap;
	va_start(ap, fmt);
	log_emit(lvl, with_errno ? saved : 0, func, fmt, ap);
	va_end(ap);
	errno = saved;
}

void log_fatal(int with_errno, const char *func, const char *fmt, ...)
{
	int saved = errno;
	va_list ap;
	va_start(ap, fmt);
	log_emit(FB_LOG_ERR, with_errno ? saved : 0, func, fmt, ap);
	va_end(ap);
	exit(1);
}
