/*
 * quiet_log.h - log.c's two entry points for fuzz targets that run code
 * which logs on every bad input: the message is still formatted (so a bad
 * format argument is still caught by the sanitizers) but never written,
 * and a fatal error aborts, which libFuzzer reports as a crash. Include it
 * in one file of a fuzz target; its program then links no log.o.
 */
#ifndef FB_FUZZ_QUIET_LOG_H
#define FB_FUZZ_QUIET_LOG_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "log.h"

void log_at(enum fb_log_level lvl, int with_errno, const char *func, const char *fmt, ...)
{
	char b[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(b, sizeof(b), fmt, ap);
	va_end(ap);
}

void log_fatal(int with_errno, const char *func, const char *fmt, ...)
{
	abort();
}

#endif
