/*
 * fuzz_web_query.c - fleetboot-web's query parameters for the event list
 * (machine, stage, after, limit), split from the input at NUL bytes, plus
 * the integer parser and metric-name sanitiser.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "web/web.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1);
	const char *field[4] = {NULL, NULL, NULL, NULL};
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	/* Fields are separated by NUL; absent ones stay NULL. */
	size_t k = 0;
	for (char *p = buf; k < 4 && p <= buf + size; p += strlen(p) + 1)
		field[k++] = p;
	struct fb_event_filter f;
	char mac[FB_MACID_LEN], why[200];
	if (web_event_query(field[0], field[1], field[2], field[3], &f, mac, why, sizeof(why)) ==
	    0) {
		if (f.limit < 1 || f.limit > 1000 || f.after < 0)
			abort();
	}
	int64_t v;
	if (web_parse_i64(buf, -5, 5, &v) == 0 && (v < -5 || v > 5))
		abort();
	char metric[64];
	web_metric_name(buf, metric, sizeof(metric));
	for (char *p = metric; *p; p++)
		if (!(*p == '_' || (*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') ||
		      (*p >= 'A' && *p <= 'Z')))
			abort();
	free(buf);
	return 0;
}
