/*
 * tftp.c - TFTP codec; see tftp.h.
 */
#include "proto/tftp.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "byteorder.h"

/* Next NUL-terminated string in [p, end): returns it and advances *p, or
 * NULL when no terminator is found before end. */
static const char *next_str(const uint8_t **p, const uint8_t *end)
{
	const uint8_t *s = *p, *z = memchr(s, 0, (size_t)(end - s));
	if (!z)
		return NULL;
	*p = z + 1;
	return (const char *)s;
}

/* Strict unsigned decimal within [lo, hi]; -1 when not. */
static long parse_num(const char *s, long lo, long hi)
{
	if (!*s || strlen(s) > 10)
		return -1;
	long v = 0;
	for (; *s; s++) {
		if (!isdigit((unsigned char)*s))
			return -1;
		v = v * 10 + (*s - '0');
	}
	return v < lo || v > hi ? -1 : v;
}

int fb_tftp_opcode(const void *pkt, size_t len)
{
	const uint8_t *b = pkt;
	return len < 2 ? 0 : fb_get_be16(b);
}

int fb_tftp_parse_req(struct fb_tftp_req *r, const void *pkt, size_t len, const char **why)
{
	const char *dummy;
	if (!why)
		why = &dummy;
	memset(r, 0, sizeof(*r));
	r->op = fb_tftp_opcode(pkt, len);
	if (r->op != FB_TFTP_RRQ && r->op != FB_TFTP_WRQ) {
		*why = "not a request";
		return FB_TFTP_EBADOP;
	}
	const uint8_t *p = (const uint8_t *)pkt + 2, *end = (const uint8_t *)pkt + len;
	const char *file = next_str(&p, end);
	const char *mode = file ? next_str(&p, end) : NULL;
	if (!file || !mode) {
		*why = "unterminated file name or mode";
		return FB_TFTP_EBADOP;
	}
	if (!*file) {
		*why = "empty file name";
		return FB_TFTP_EBADOP;
	}
	if (strlen(file) >= sizeof(r->filename)) {
		*why = "file name too long";
		return FB_TFTP_EBADOP;
	}
	strcpy(r->filename, file);
	if (!strcasecmp(mode, "octet"))
		strcpy(r->mode, "octet");
	else if (!strcasecmp(mode, "netascii"))
		strcpy(r->mode, "netascii");
	else {
		*why = "unsupported transfer mode";
		return FB_TFTP_EBADOP;
	}
	while (p < end) {
		const char *name = next_str(&p, end);
		const char *val = name ? next_str(&p, end) : NULL;
		if (!name || !val) {
			/* A truncated option list: keep what was complete
			 * (RFC 2347 allows dropping options). */
			break;
		}
		long v;
		if (!strcasecmp(name, "blksize")) {
			v = parse_num(val, FB_TFTP_MIN_BLKSIZE, 65535);
			if (v > 0) {
				r->has_blksize = 1;
				r->blksize =
				    v > FB_TFTP_MAX_BLKSIZE ? FB_TFTP_MAX_BLKSIZE : (unsigned)v;
			}
		} else if (!strcasecmp(name, "tsize")) {
			if (parse_num(val, 0, 0x7fffffffL) >= 0)
				r->has_tsize = 1;
		} else if (!strcasecmp(name, "timeout")) {
			v = parse_num(val, 1, 255);
			if (v > 0) {
				r->has_timeout = 1;
				r->timeout = (unsigned)v;
			}
		} else if (!strcasecmp(name, "windowsize")) {
			v = parse_num(val, 1, FB_TFTP_MAX_WINDOW);
			if (v > 0) {
				r->has_windowsize = 1;
				r->windowsize = (unsigned)v;
			}
		}
	}
	*why = NULL;
	return 0;
}

int fb_tftp_parse_ack(const void *pkt, size_t len, uint16_t *block)
{
	const uint8_t *b = pkt;
	if (len < 4 || fb_tftp_opcode(pkt, len) != FB_TFTP_ACK)
		return -1;
	*block = fb_get_be16(b + 2);
	return 0;
}

int fb_tftp_parse_error(const void *pkt, size_t len, uint16_t *code, char *msg, size_t cap)
{
	const uint8_t *b = pkt;
	if (len < 4 || fb_tftp_opcode(pkt, len) != FB_TFTP_ERROR || !cap)
		return -1;
	*code = fb_get_be16(b + 2);
	size_t j = 0;
	for (size_t i = 4; i < len && b[i] && j + 1 < cap; i++)
		msg[j++] = (b[i] >= 0x20 && b[i] < 0x7f) ? (char)b[i] : '?';
	msg[j] = 0;
	return 0;
}

int fb_tftp_build_error(void *out, size_t cap, uint16_t code, const char *msg)
{
	size_t n = strlen(msg);
	if (cap < 5 + n)
		return -1;
	uint8_t *b = out;
	b[0] = 0;
	b[1] = FB_TFTP_ERROR;
	fb_put_be16(b + 2, code);
	memcpy(b + 4, msg, n + 1);
	return (int)(5 + n);
}

static int build_hdr(void *out, size_t cap, int op, uint16_t block)
{
	if (cap < 4)
		return -1;
	uint8_t *b = out;
	b[0] = 0;
	b[1] = (uint8_t)op;
	fb_put_be16(b + 2, block);
	return 4;
}

int fb_tftp_build_data_hdr(void *out, size_t cap, uint16_t block)
{
	return build_hdr(out, cap, FB_TFTP_DATA, block);
}

int fb_tftp_build_ack(void *out, size_t cap, uint16_t block)
{
	return build_hdr(out, cap, FB_TFTP_ACK, block);
}

/* Append "name\0value\0". */
static int put_opt(uint8_t *b, size_t cap, size_t *off, const char *name, uint64_t v)
{
	char val[24];
	int vl = snprintf(val, sizeof(val), "%" PRIu64, v);
	size_t nl = strlen(name);
	if (*off + nl + 1 + (size_t)vl + 1 > cap)
		return -1;
	memcpy(b + *off, name, nl + 1);
	*off += nl + 1;
	memcpy(b + *off, val, (size_t)vl + 1);
	*off += (size_t)vl + 1;
	return 0;
}

static int put_opts(uint8_t *b, size_t cap, size_t *off, const struct fb_tftp_oack *o)
{
	if (o->blksize && put_opt(b, cap, off, "blksize", o->blksize))
		return -1;
	if (o->has_tsize && put_opt(b, cap, off, "tsize", o->tsize))
		return -1;
	if (o->timeout && put_opt(b, cap, off, "timeout", o->timeout))
		return -1;
	if (o->windowsize && put_opt(b, cap, off, "windowsize", o->windowsize))
		return -1;
	return 0;
}

int fb_tftp_build_oack(void *out, size_t cap, const struct fb_tftp_oack *o)
{
	uint8_t *b = out;
	if (cap < 2)
		return -1;
	b[0] = 0;
	b[1] = FB_TFTP_OACK;
	size_t off = 2;
	if (put_opts(b, cap, &off, o))
		return -1;
	return (int)off;
}

int fb_tftp_build_rrq(void *out, size_t cap, const char *file, const char *mode,
                      const struct fb_tftp_oack *o)
{
	uint8_t *b = out;
	size_t fl = strlen(file), ml = strlen(mode);
	if (cap < 2 + fl + 1 + ml + 1)
		return -1;
	b[0] = 0;
	b[1] = FB_TFTP_RRQ;
	size_t off = 2;
	memcpy(b + off, file, fl + 1);
	off += fl + 1;
	memcpy(b + off, mode, ml + 1);
	off += ml + 1;
	if (o && put_opts(b, cap, &off, o))
		return -1;
	return (int)off;
}
