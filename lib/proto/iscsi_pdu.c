/* iscsi_pdu.c - see iscsi_pdu.h. */
#include "proto/iscsi_pdu.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "byteorder.h"
#include "crc32c.h"
#include "hex.h"

int iscsi_bhs_parse(const uint8_t *p, size_t len, struct iscsi_bhs *h)
{
	if (len < ISCSI_BHS_LEN)
		return -1;
	memset(h, 0, sizeof(*h));
	h->immediate = (p[0] & 0x40) ? 1 : 0;
	h->opcode = p[0] & 0x3f;
	h->flags = p[1];
	h->b2 = p[2];
	h->b3 = p[3];
	h->ahs_words = p[4];
	h->dlen = fb_get_be24(p + 5);
	h->lun = fb_get_be64(p + 8);
	h->itt = fb_get_be32(p + 16);
	h->w20 = fb_get_be32(p + 20);
	h->w24 = fb_get_be32(p + 24);
	h->w28 = fb_get_be32(p + 28);
	h->w32 = fb_get_be32(p + 32);
	h->w36 = fb_get_be32(p + 36);
	h->w40 = fb_get_be32(p + 40);
	h->w44 = fb_get_be32(p + 44);
	memcpy(h->cdb, p + 32, 16);
	return 0;
}

void iscsi_bhs_build(const struct iscsi_bhs *h, uint8_t out[ISCSI_BHS_LEN])
{
	out[0] = (uint8_t)((h->opcode & 0x3f) | (h->immediate ? 0x40 : 0));
	out[1] = h->flags;
	out[2] = h->b2;
	out[3] = h->b3;
	out[4] = h->ahs_words;
	fb_put_be24(out + 5, h->dlen);
	fb_put_be64(out + 8, h->lun);
	fb_put_be32(out + 16, h->itt);
	fb_put_be32(out + 20, h->w20);
	fb_put_be32(out + 24, h->w24);
	fb_put_be32(out + 28, h->w28);
	fb_put_be32(out + 32, h->w32);
	fb_put_be32(out + 36, h->w36);
	fb_put_be32(out + 40, h->w40);
	fb_put_be32(out + 44, h->w44);
}

uint64_t iscsi_pdu_body_len(const struct iscsi_bhs *h)
{
	return (uint64_t)h->ahs_words * 4 + iscsi_pad4(h->dlen);
}

uint32_t iscsi_lun_number(uint64_t lun)
{
	/* Only the first level matters; deeper levels must be zero. */
	if (lun & 0x0000ffffffffffffULL)
		return 0xffff;
	unsigned top = (unsigned)(lun >> 48);
	switch (top >> 14) {
	case 0: /* peripheral device addressing, bus 0 */
		return (top >> 8) == 0 ? top & 0xff : 0xffff;
	case 1: /* flat space addressing */
		return top & 0x3fff;
	default:
		return 0xffff;
	}
}

int iscsi_ahs_next(const uint8_t *p, size_t len, uint8_t *type, const uint8_t **body, size_t *blen)
{
	if (len == 0)
		return 0;
	if (len < 4)
		return -1;
	size_t alen = fb_get_be16(p);
	size_t total = iscsi_pad4(alen + 3);
	if (total > len)
		return -1;
	*type = p[2];
	*body = p + 3;
	*blen = alen;
	return (int)total;
}

static int key_char_ok(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '-' || c == '+' || c == '@' || c == '_' || c == '#';
}

int iscsi_text_parse(char *seg, size_t len, struct iscsi_kv *kv, size_t max)
{
	size_t n = 0, i = 0;
	seg[len] = 0; /* the caller's buffer has room for it */
	while (i < len) {
		char *start = seg + i;
		size_t plen = 0;
		while (i + plen < len && start[plen] != 0)
			plen++;
		size_t next = i + plen + 1; /* past the NUL (or the end) */
		if (plen == 0) {            /* an empty pair, e.g. trailing NULs */
			i = next;
			continue;
		}
		char *eq = memchr(start, '=', plen);
		if (!eq || eq == start || (size_t)(eq - start) > ISCSI_KEY_MAX)
			return -1;
		for (char *c = start; c < eq; c++)
			if (!key_char_ok(*c))
				return -1;
		if (plen - (size_t)(eq - start) - 1 > ISCSI_VALUE_MAX)
			return -1;
		if (n >= max)
			return -1;
		*eq = 0;
		kv[n].key = start;
		kv[n].value = eq + 1;
		n++;
		i = next;
	}
	return (int)n;
}

int iscsi_text_add(struct fb_buf *b, const char *key, const char *value)
{
	fb_buf_puts(b, key);
	fb_buf_append(b, "=", 1);
	fb_buf_puts(b, value);
	return fb_buf_append(b, "", 1);
}

int iscsi_text_addf(struct fb_buf *b, const char *key, const char *fmt, ...)
{
	char v[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(v, sizeof(v), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(v))
		return -1;
	return iscsi_text_add(b, key, v);
}

int iscsi_val_number(const char *v, uint64_t *out)
{
	uint64_t n = 0;
	if (!*v)
		return -1;
	if (v[0] == '0' && (v[1] == 'x' || v[1] == 'X')) {
		v += 2;
		if (!*v)
			return -1;
		for (; *v; v++) {
			int d = fb_hex_digit(*v);
			if (d < 0 || n >> 60)
				return -1;
			n = n << 4 | (uint64_t)d;
		}
	} else {
		for (; *v; v++) {
			if (*v < '0' || *v > '9')
				return -1;
			uint64_t d = (uint64_t)(*v - '0');
			if (n > (UINT64_MAX - d) / 10)
				return -1;
			n = n * 10 + d;
		}
	}
	*out = n;
	return 0;
}

int iscsi_val_bool(const char *v, int *out)
{
	if (!strcmp(v, "Yes"))
		*out = 1;
	else if (!strcmp(v, "No"))
		*out = 0;
	else
		return -1;
	return 0;
}

static int b64val(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int iscsi_val_binary(const char *v, uint8_t *out, size_t max)
{
	size_t n = 0;
	if (v[0] != '0' || (v[1] != 'x' && v[1] != 'X' && v[1] != 'b' && v[1] != 'B'))
		return -1;
	int hex = v[1] == 'x' || v[1] == 'X';
	v += 2;
	if (hex) {
		size_t len = strlen(v);
		if (len == 0)
			return -1;
		/* An odd digit count means a leading zero nibble. */
		int hi = (len & 1) ? 0 : -1;
		for (; *v; v++) {
			int d = fb_hex_digit(*v);
			if (d < 0)
				return -1;
			if (hi < 0) {
				hi = d;
				continue;
			}
			if (n >= max)
				return -1;
			out[n++] = (uint8_t)(hi << 4 | d);
			hi = -1;
		}
		return (int)n;
	}
	uint32_t acc = 0;
	int bits = 0, pad = 0;
	for (; *v; v++) {
		if (*v == '=') {
			pad++;
			continue;
		}
		int d = b64val(*v);
		if (d < 0 || pad)
			return -1;
		acc = acc << 6 | (uint32_t)d;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (n >= max)
				return -1;
			out[n++] = (uint8_t)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	return n ? (int)n : -1;
}

int iscsi_val_list_has(const char *list, const char *item)
{
	size_t il = strlen(item);
	const char *p = list;
	while (*p) {
		const char *e = strchr(p, ',');
		size_t l = e ? (size_t)(e - p) : strlen(p);
		if (l == il && !memcmp(p, item, il))
			return 1;
		if (!e)
			break;
		p = e + 1;
	}
	return 0;
}

uint32_t iscsi_crc32c(const void *p, size_t n)
{
	return fb_crc32c(0, p, n);
}

void iscsi_put_digest(uint8_t *p, uint32_t crc)
{
	fb_put_le32(p, crc);
}

uint32_t iscsi_get_digest(const uint8_t *p)
{
	return fb_get_le32(p);
}
