/*
 * fuzz_web_path.c - fleetboot-web's URL handling: the API path splitter,
 * the static file name check and the UTF-8 validator. Aborts when a name
 * the static check accepts could leave the UI directory.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "web/web.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *url = malloc(size + 1);
	char segs[WEB_MAX_SEGS][128];
	char name[256];
	if (!url)
		return 0;
	memcpy(url, data, size);
	url[size] = '\0';
	web_utf8_valid(url, size);
	int n = web_api_split(url, segs);
	if (n > WEB_MAX_SEGS)
		abort();
	for (int i = 0; i < n; i++)
		if (!segs[i][0] || strchr(segs[i], '/'))
			abort();
	if (web_static_name(url, name, sizeof(name)) == 0) {
		/* Accepted names are relative, with no "." or ".." segment. */
		if (name[0] == '/' || name[0] == '.' || strstr(name, "/.") || strstr(name, "//") ||
		    strchr(name, '\\'))
			abort();
	}
	free(url);
	return 0;
}
