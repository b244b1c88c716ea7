/*
 * logsafe.h - strings from the network, made fit for a log line. A name an
 * initiator or a TFTP client chose may hold newlines (a forged log line),
 * terminal escapes or megabytes: fb_log_escape gives back printable ASCII
 * only, with every other byte (and the backslash itself) as \xNN, cut at a
 * bounded length with "..." so the cut shows.
 */
#ifndef FB_LOGSAFE_H
#define FB_LOGSAFE_H

#include <stddef.h>

/* Room for an escaped string of up to FB_LOG_ESCAPE_MAX input bytes. */
#define FB_LOG_ESCAPE_MAX 128
#define FB_LOG_ESCAPE_LEN (FB_LOG_ESCAPE_MAX * 4 + 4)

/* Escape the first len bytes of in (a NUL ends it earlier) into out
 * (outlen bytes, always NUL-terminated when outlen > 0); returns out, so
 * it can stand in a log call's arguments. in NULL gives "(null)". */
const char *fb_log_escape_n(const char *in, size_t len, char *out, size_t outlen);
/* The same for a NUL-terminated string. */
const char *fb_log_escape(const char *in, char *out, size_t outlen);

#endif
