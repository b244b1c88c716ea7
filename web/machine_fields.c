/*
 * machine_fields.c - the machine fields of POST and PATCH
 * /api/v1/machines: types, lengths and unknown fields here, values by the
 * DB's fb_machine_validate_text, each message naming its field. No I/O;
 * fuzzed (tests/fuzz/fuzz_web_json.c).
 */
#include <stdio.h>
#include <string.h>

#include "web.h"

/* Copy a JSON string field into a fixed buffer, naming the field on error. */
static int take_string(json_t *v, const char *field, char *dst, size_t dstlen, char *why,
                       size_t whylen)
{
	if (!json_is_string(v))
		return WEB_WHY("%s: must be a string", field);
	const char *s = json_string_value(v);
	size_t l = json_string_length(v);
	if (l != strlen(s))
		return WEB_WHY("%s: must not contain NUL", field);
	if (l >= dstlen)
		return WEB_WHY("%s: too long (at most %zu characters)", field, dstlen - 1);
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
		return WEB_WHY("body: must be a JSON object");
	if (create && !json_object_get(obj, "mac"))
		return WEB_WHY("mac: required");
	json_object_foreach(obj, key, v)
	{
		int rc = 0;
		if (!strcmp(key, "mac")) {
			char mac[64];
			if (!create)
				return WEB_WHY("mac: cannot be changed; add a new machine");
			if (take_string(v, "mac", mac, sizeof(mac), why, whylen) < 0)
				return -1;
			if (macid_normalize(mac, m->mac) < 0)
				return WEB_WHY("mac: not a MAC address (52:54:00:12:34:56)");
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
		} else if (!strcmp(key, "loader") || !strcmp(key, "secure_boot")) {
			/* "inherit" (or "") hands the setting back to the group. */
			int sb = key[0] == 's';
			char val[12];
			rc = take_string(v, key, val, sizeof(val), why, whylen);
			if (rc == 0) {
				int inherit = !val[0] || !strcmp(val, "inherit");
				char *field = sb ? m->secure_boot : m->loader;
				size_t len = sb ? sizeof(m->secure_boot) : sizeof(m->loader);
				if (!inherit && strlen(val) >= len)
					return WEB_WHY("%s: '%s' is not %s", key, val,
					               sb ? "on or off" : "ipxe or pxelinux");
				snprintf(field, len, "%s", inherit ? "" : val);
				*(sb ? &m->from.secure_boot : &m->from.loader) =
				    inherit ? FB_FROM_INHERIT : FB_FROM_MACHINE;
			}
		} else if (!strcmp(key, "next_boot") && !create) {
			/* Checked against entries and images by the caller. */
			rc = take_string(v, "next_boot", m->next_boot, sizeof(m->next_boot), why,
			                 whylen);
		} else if (!strcmp(key, "rotate_secret") && !create) {
			if (!json_is_boolean(v))
				return WEB_WHY("rotate_secret: must be true or false");
			*rotate = json_is_true(v);
		} else {
			char shown[40];
			snprintf(shown, sizeof(shown), "%s", key);
			for (char *p = shown; *p; p++)
				if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
					*p = '?';
			return WEB_WHY("%s: unknown field", shown);
		}
		if (rc < 0)
			return -1;
	}
	/* A setting given is the machine's own; an empty image, or an empty
	 * or "inherit" mode or protocol, is not set here: its group's, else
	 * the default (db/groups.c). */
	if (json_object_get(obj, "image"))
		m->from.image = m->image[0] ? FB_FROM_MACHINE : FB_FROM_INHERIT;
	if (mode_text) {
		int inherit = !mode_text[0] || !strcmp(mode_text, "inherit");
		m->from.mode = inherit ? FB_FROM_INHERIT : FB_FROM_MACHINE;
		if (inherit)
			mode_text = NULL;
	}
	if (protocol_text) {
		int inherit = !protocol_text[0] || !strcmp(protocol_text, "inherit");
		m->from.protocol = inherit ? FB_FROM_INHERIT : FB_FROM_MACHINE;
		if (inherit)
			protocol_text = NULL;
	}
	if (fb_machine_validate_text(m, mode_text, protocol_text, why, whylen) < 0) {
		/* The CLI's messages name options (secure-boot); the API's fields. */
		if (!strncmp(why, "secure-boot:", 12))
			why[6] = '_';
		return -1;
	}
	return 0;
}
