/*
 * body.c - request bodies: a JSON object in valid UTF-8 with no duplicate
 * keys, or a message saying why not. No I/O; fuzzed
 * (tests/fuzz/fuzz_web_json.c).
 */
#include <stdio.h>

#include "web.h"

json_t *web_parse_body(const char *body, size_t len, char *why, size_t whylen)
{
	json_error_t err;
	if (!body || len == 0) {
		snprintf(why, whylen, "body: a JSON object is required");
		return NULL;
	}
	if (!web_utf8_valid(body, len)) {
		snprintf(why, whylen, "body: not valid UTF-8");
		return NULL;
	}
	json_t *j = json_loadb(body, len, JSON_REJECT_DUPLICATES, &err);
	if (!j) {
		snprintf(why, whylen, "body: invalid JSON at line %d column %d: %s", err.line,
		         err.column, err.text);
		return NULL;
	}
	if (!json_is_object(j)) {
		json_decref(j);
		snprintf(why, whylen, "body: must be a JSON object");
		return NULL;
	}
	return j;
}
