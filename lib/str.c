/* str.c - see str.h. */
#include "str.h"

#include <string.h>

size_t fb_strlcpy(char *dst, const char *src, size_t size)
{
	size_t n = strlen(src);
	if (size) {
		size_t c = n < size - 1 ? n : size - 1;
		memcpy(dst, src, c);
		dst[c] = 0;
	}
	return n;
}

int fb_all_zero(const void *p, size_t n)
{
	const unsigned char *b = p;
	/* Check a 16-byte head by hand; then the buffer is all zero exactly
	 * when it equals itself shifted by 16, which the C library's memcmp
	 * checks many bytes at a time. */
	size_t head = n < 16 ? n : 16;
	for (size_t i = 0; i < head; i++)
		if (b[i])
			return 0;
	return n <= 16 || memcmp(b, b + 16, n - 16) == 0;
}
