/*
 * str.h - bounded string copying. C11 has no strlcpy and glibc's arrived
 * late, so every program copies into fixed buffers through this one.
 */
#ifndef FB_STR_H
#define FB_STR_H

#include <stddef.h>

/* Copy src into dst (size bytes), always NUL-terminated when size > 0.
 * Returns strlen(src): a result >= size means the copy was cut short. */
size_t fb_strlcpy(char *dst, const char *src, size_t size);

#endif
