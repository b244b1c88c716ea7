/*
 * log.h - logging for every fleetboot program.
 *
 * In the foreground (-f) messages go to stderr; otherwise to syslog through
 * a non-blocking datagram socket, so a stalled syslog daemon drops messages
 * instead of stalling DHCP. Messages start with the calling function's name.
 */
#ifndef FB_LOG_H
#define FB_LOG_H

#include <stdarg.h>

enum fb_log_level { FB_LOG_ERR = 0, FB_LOG_WARN, FB_LOG_INFO, FB_LOG_DEBUG };

/* Set the program name, destination and verbosity (0 = info, 1+ = debug). */
void log_init(const char *ident, int foreground, int verbose);
/* Current verbosity, so callers can skip building expensive debug text. */
int log_verbose(void);

void log_at(enum fb_log_level lvl, int with_errno, const char *func, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void log_fatal(int with_errno, const char *func, const char *fmt, ...)
    __attribute__((format(printf, 3, 4), noreturn));

/* log_warn adds strerror(errno); log_warnx does not. */
#define log_warn(...)  log_at(FB_LOG_WARN, 1, __func__, __VA_ARGS__)
#define log_warnx(...) log_at(FB_LOG_WARN, 0, __func__, __VA_ARGS__)
#define log_info(...)  log_at(FB_LOG_INFO, 0, __func__, __VA_ARGS__)
#define log_debug(...) log_at(FB_LOG_DEBUG, 0, __func__, __VA_ARGS__)
/* fatal/fatalx: for start-up only; they exit(1). */
#define fatal(...)  log_fatal(1, __func__, __VA_ARGS__)
#define fatalx(...) log_fatal(0, __func__, __VA_ARGS__)

#endif
