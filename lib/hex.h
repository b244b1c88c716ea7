/*
 * hex.h - hexadecimal text for binary values: digests, random secrets and
 * password hashes are written as lower-case hex, and MAC addresses and
 * iSCSI numeric values are read from hex digits of either case.
 */
#ifndef FB_HEX_H
#define FB_HEX_H

#include <stddef.h>

/* Write n bytes at p as 2*n lower-case hex digits plus a NUL into out
 * (which holds 2*n + 1 chars). */
void fb_hex_encode(const void *p, size_t n, char *out);
/* The value (0-15) of one hex digit, either case; -1 for anything else. */
int fb_hex_digit(int c);

#endif
