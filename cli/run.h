/*
 * run.h - run a helper program (veritysetup, objcopy, sbsign, openssl)
 * and collect what it printed, so a caller can parse its output or say
 * why it failed in one line.
 */
#ifndef FB_CLI_RUN_H
#define FB_CLI_RUN_H

#include <stddef.h>

/* Run argv (argv[0] looked up in PATH, then /usr/sbin and /sbin, where
 * Debian keeps veritysetup), stdin from /dev/null. Its stdout goes to out
 * (NUL-terminated, cut at outlen - 1; out may be NULL); the last line of
 * its stderr (or "exit N" / "not found") to err. Returns its exit status,
 * 127 when it could not be run, -1 when it could not be started. */
int run_prog(char *const argv[], char *out, size_t outlen, char *err, size_t errlen);

#endif
