/*
 * query.c - query-string values: decimal integers in a range, and the
 * event list's parameters (machine, stage, after, limit). No I/O; fuzzed
 * (tests/fuzz/fuzz_web_query.c).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "web.h"

int web_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out)
{
	if (!s || !*s || strlen(s) > 20)
		return -1;
	for (const char *p = s; *p; p++)
		if (!isdigit((unsigned char)*p) && !(p == s && *p == '-' && p[1]))
			return -1;
	errno = 0;
	char *end;
	long long v = strtoll(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int web_event_query(const char *machine, const char *stage, const char *after, const char *limit,
                    struct fb_event_filter *f, char macbuf[FB_MACID_LEN], char *why, size_t whylen)
{
	int64_t v;
	memset(f, 0, sizeof(*f));
	f->limit = 100;
	if (machine && *machine) {
		if (macid_normalize(machine, macbuf) < 0)
			return WEB_WHY("machine: not a MAC address");
		f->mac = macbuf;
	}
	if (stage && *stage) {
		if (strlen(stage) >= 24 || !fb_stage_valid(stage))
			return WEB_WHY("stage: not a valid stage name");
		f->stage = stage;
	}
	if (after && *after) {
		if (web_parse_i64(after, 0, INT64_MAX, &v) < 0)
			return WEB_WHY("after: must be a non-negative integer");
		f->after = v;
	}
	if (limit && *limit) {
		if (web_parse_i64(limit, 1, 1000, &v) < 0)
			return WEB_WHY("limit: must be an integer from 1 to 1000");
		f->limit = (int)v;
	}
	return 0;
}
