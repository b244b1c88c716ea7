/*
 * size.h - byte counts as people write them: parsed from the config file
 * and the command line ("64K", "10G"), formatted for status output.
 */
#ifndef FB_SIZE_H
#define FB_SIZE_H

#include <stddef.h>
#include <stdint.h>

/* Parse "512", "64K", "10M", "2G", "1T" (binary units; an optional "B" or
 * "iB" after the letter) into bytes. 0, or -1 when malformed or too big. */
int fb_parse_size(const char *s, uint64_t *out);
/* Format bytes as "1.5 GiB" (or "512 B") into buf; returns buf. */
char *fb_format_size(uint64_t n, char *buf, size_t len);

#endif
