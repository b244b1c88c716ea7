/*
 * str.h - small string and memory helpers C11 lacks: a bounded string copy
 * (glibc's strlcpy arrived late, so every program copies into fixed buffers
 * through this one), and the all-zero test that keeps holes in copies.
 */
#ifndef FB_STR_H
#define FB_STR_H

#include <stddef.h>

/* Copy src into dst (size bytes), always NUL-terminated when size > 0.
 * Returns strlen(src): a result >= size means the copy was cut short. */
size_t fb_strlcpy(char *dst, const char *src, size_t size);
/* Are all n bytes at p zero? (n == 0: yes.) */
int fb_all_zero(const void *p, size_t n);

#endif
