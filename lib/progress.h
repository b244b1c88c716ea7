/*
 * progress.h - how long copies, hashes and downloads report how far they
 * are: a callback the caller passes in, and the one printer the command
 * line tools use for it.
 */
#ifndef FB_PROGRESS_H
#define FB_PROGRESS_H

#include <stdint.h>

/* Progress callback: done and total bytes; return non-zero to abort. */
typedef int (*fb_progress_fn)(void *arg, uint64_t done, uint64_t total);

/* A terminal-aware progress printer for fb_progress_fn: a bar on a tty,
 * a line every 10% otherwise. arg is the label (const char *). */
int fb_progress_stderr(void *label, uint64_t done, uint64_t total);

#endif
