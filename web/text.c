/*
 * text.c - character-level checks of untrusted text: UTF-8 validity (of
 * URLs, headers and bodies) and metric-name-safe copies of status keys
 * (session ids and CSRF tokens are compared by lib/secret.c). No I/O; fuzzed
 * through tests/fuzz/fuzz_web_path.c and fuzz_web_query.c.
 */
#include <ctype.h>
#include <stddef.h>
#include <string.h>

#include "web.h"

int web_utf8_valid(const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;
	while (i < n) {
		unsigned c = s[i];
		size_t need;
		unsigned cp, min;
		if (c == 0)
			return 0;
		if (c < 0x80) {
			i++;
			continue;
		} else if ((c & 0xe0) == 0xc0) {
			need = 1, cp = c & 0x1f, min = 0x80;
		} else if ((c & 0xf0) == 0xe0) {
			need = 2, cp = c & 0x0f, min = 0x800;
		} else if ((c & 0xf8) == 0xf0) {
			need = 3, cp = c & 0x07, min = 0x10000;
		} else {
			return 0;
		}
		if (n - i <= need)
			return 0;
		for (size_t k = 1; k <= need; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		/* Overlong forms, UTF-16 surrogates and values past Unicode. */
		if (cp < min || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
			return 0;
		i += need + 1;
	}
	return 1;
}

void web_metric_name(const char *in, char *out, size_t len)
{
	size_t i = 0;
	for (; in[i] && i + 1 < len; i++)
		out[i] = isalnum((unsigned char)in[i]) ? in[i] : '_';
	if (len)
		out[i] = '\0';
}
