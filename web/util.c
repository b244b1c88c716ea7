/*
 * util.c - the pure parts of fleetboot-web's request handling: UTF-8
 * checks, path splitting, static file names, JSON field validation and
 * query parsing. Nothing here does I/O, so the fuzz targets call these
 * directly (tests/fuzz/fuzz_web_*.c).
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
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

static int why_set(char *why, size_t whylen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int why_set(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
	return -1;
}

/* Copy a JSON string field into a fixed buffer, naming the field on error. */
static int take_string(json_t *v, const char *field, char *dst, size_t dstlen, char *why,
                       size_t whylen)
{
	if (!json_is_string(v))
		return why_set(why, whylen, "%s: must be a string", field);
	const char *s = json_string_value(v);
	size_t l = json_string_length(v);
	if (l != strlen(s))
		return why_set(why, whylen, "%s: must not contain NUL", field);
	if (l >= dstlen)
		return why_set(why, whylen, "%s: too long (at most %zu characters)", field,
		               dstlen - 1);
	memcpy(dst, s, l + 1);
	return 0;
}

int web_machine_apply(json_t *obj, struct fb_machine *m, int create, int *rotate, char *why,
                      size_t whylen)
{
	const char *key;
	json_t *v;
	/* The mode and the protocol stay text until fb_machine_validate_text,
	 * so a bad one is reported in the same order as any other field. */
	char mode[FB_MODE_TEXT_LEN], protocol[FB_PROTOCOL_TEXT_LEN];
	const char *mode_text = NULL, *protocol_text = NULL;
	*rotate = 0;
	if (create) {
		m->mode = FB_MODE_PERSISTENT;
		m->protocol = FB_PROTOCOL_NBD;
	}
	if (!json_is_object(obj))
		return why_set(why, whylen, "body: must be a JSON object");
	if (create && !json_object_get(obj, "mac"))
		return why_set(why, whylen, "mac: required");
	json_object_foreach(obj, key, v)
	{
		int rc = 0;
		if (!strcmp(key, "mac")) {
			char mac[64];
			if (!create)
				return why_set(why, whylen,
				               "mac: cannot be changed; add a new machine");
			if (take_string(v, "mac", mac, sizeof(mac), why, whylen) < 0)
				return -1;
			if (macid_normalize(mac, m->mac) < 0)
				return why_set(why, whylen,
				               "mac: not a MAC address (52:54:00:12:34:56)");
		} else if (!strcmp(key, "name")) {
			rc = take_string(v, "name", m->name, sizeof(m->name), why, whylen);
		} else if (!strcmp(key, "image")) {
			rc = take_string(v, "image", m->image, sizeof(m->image), why, whylen);
		} else if (!strcmp(key, "mode")) {
			rc = take_string(v, "mode", mode, sizeof(mode), why, whylen);
			mode_text = mode;
		} else if (!strcmp(key, "protocol")) {
			rc = take_string(v, "protocol", protocol, sizeof(protocol), why, whylen);
			protocol_text = protocol;
		} else if (!strcmp(key, "ip")) {
			rc = take_string(v, "ip", m->ip, sizeof(m->ip), why, whylen);
		} else if (!strcmp(key, "group")) {
			rc = take_string(v, "group", m->group, sizeof(m->group), why, whylen);
		} else if (!strcmp(key, "rotate_secret") && !create) {
			if (!json_is_boolean(v))
				return why_set(why, whylen, "rotate_secret: must be true or false");
			*rotate = json_is_true(v);
		} else {
			char shown[40];
			snprintf(shown, sizeof(shown), "%s", key);
			for (char *p = shown; *p; p++)
				if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
					*p = '?';
			return why_set(why, whylen, "%s: unknown field", shown);
		}
		if (rc < 0)
			return -1;
	}
	/* An empty mode or protocol asks for the default. */
	if (mode_text && !mode_text[0])
		mode_text = "persistent";
	if (protocol_text && !protocol_text[0])
		protocol_text = "nbd";
	if (fb_machine_validate_text(m, mode_text, protocol_text, why, whylen) < 0)
		return -1;
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
			return why_set(why, whylen, "machine: not a MAC address");
		f->mac = macbuf;
	}
	if (stage && *stage) {
		if (strlen(stage) >= 24 || !fb_stage_valid(stage))
			return why_set(why, whylen, "stage: not a valid stage name");
		f->stage = stage;
	}
	if (after && *after) {
		if (web_parse_i64(after, 0, INT64_MAX, &v) < 0)
			return why_set(why, whylen, "after: must be a non-negative integer");
		f->after = v;
	}
	if (limit && *limit) {
		if (web_parse_i64(limit, 1, 1000, &v) < 0)
			return why_set(why, whylen, "limit: must be an integer from 1 to 1000");
		f->limit = (int)v;
	}
	return 0;
}

json_t *web_parse_body(const char *body, size_t len, char *why, size_t whylen)
{
	json_error_t err;
	if (!body || len == 0) {
		why_set(why, whylen, "body: a JSON object is required");
		return NULL;
	}
	if (!web_utf8_valid(body, len)) {
		why_set(why, whylen, "body: not valid UTF-8");
		return NULL;
	}
	json_t *j = json_loadb(body, len, JSON_REJECT_DUPLICATES, &err);
	if (!j) {
		why_set(why, whylen, "body: invalid JSON at line %d column %d: %s", err.line,
		        err.column, err.text);
		return NULL;
	}
	if (!json_is_object(j)) {
		json_decref(j);
		why_set(why, whylen, "body: must be a JSON object");
		return NULL;
	}
	return j;
}

void web_metric_name(const char *in, char *out, size_t len)
{
	size_t i = 0;
	for (; in[i] && i + 1 < len; i++)
		out[i] = isalnum((unsigned char)in[i]) ? in[i] : '_';
	if (len)
		out[i] = '\0';
}

int web_streq_ct(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned char d = la != lb;
	for (size_t i = 0; i < la && i < lb; i++)
		d |= (unsigned char)(a[i] ^ b[i]);
	return d == 0;
}
