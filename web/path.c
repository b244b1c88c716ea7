/*
 * path.c - URL paths: the API's segments after /api/v1/ and the UI's file
 * names. Both refuse anything odd before a handler or the file system sees
 * it. No I/O; fuzzed (tests/fuzz/fuzz_web_path.c).
 */
#include <ctype.h>
#include <string.h>

#include "web.h"

int web_api_split(const char *url, char segs[WEB_MAX_SEGS][128])
{
	static const char prefix[] = "/api/v1/";
	size_t plen = sizeof(prefix) - 1;
	if (!url || strncmp(url, prefix, plen)) {
		if (url && !strcmp(url, "/api/v1"))
			return 0;
		return -1;
	}
	size_t total = strlen(url);
	if (!web_utf8_valid(url, total))
		return -1;
	const char *p = url + plen;
	int n = 0;
	while (*p) {
		const char *slash = strchr(p, '/');
		size_t l = slash ? (size_t)(slash - p) : strlen(p);
		if (l == 0) {
			/* Only a single trailing slash is tolerated. */
			if (!slash || slash[1])
				return -1;
			break;
		}
		if (n >= WEB_MAX_SEGS || l >= 128)
			return -1;
		for (size_t k = 0; k < l; k++)
			if ((unsigned char)p[k] < 0x20 || p[k] == 0x7f)
				return -1;
		memcpy(segs[n], p, l);
		segs[n][l] = '\0';
		n++;
		p += l;
		if (*p == '/')
			p++;
	}
	return n;
}

int web_static_name(const char *url, char *out, size_t len)
{
	if (!url || url[0] != '/')
		return -1;
	const char *p = url + 1;
	if (!*p)
		p = "index.html";
	size_t l = strlen(p);
	if (l >= len || l > 200)
		return -1;
	/* Segments of [A-Za-z0-9_-.], none empty, none starting with '.'
	 * (which also rules out "." and ".."). */
	int seg_start = 1;
	for (size_t i = 0; i < l; i++) {
		char ch = p[i];
		if (ch == '/') {
			if (seg_start)
				return -1;
			seg_start = 1;
			continue;
		}
		if (seg_start && ch == '.')
			return -1;
		if (!isalnum((unsigned char)ch) && ch != '-' && ch != '_' && ch != '.')
			return -1;
		seg_start = 0;
	}
	if (seg_start)
		return -1;
	memcpy(out, p, l + 1);
	return 0;
}
