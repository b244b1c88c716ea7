/* buf.c - see buf.h. */
#include "buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "byteorder.h"

int fb_buf_reserve(struct fb_buf *b, size_t extra)
{
	if (b->failed)
		return -1;
	if (b->len + extra + 1 <= b->cap)
		return 0;
	if (extra > SIZE_MAX / 2 - b->len) {
		b->failed = 1;
		return -1;
	}
	size_t ncap = b->cap ? b->cap : 64;
	while (ncap < b->len + extra + 1)
		ncap *= 2;
	uint8_t *n = realloc(b->data, ncap);
	if (!n) {
		b->failed = 1;
		return -1;
	}
	b->data = n;
	b->cap = ncap;
	return 0;
}

int fb_buf_append(struct fb_buf *b, const void *p, size_t n)
{
	if (fb_buf_reserve(b, n) < 0)
		return -1;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = 0;
	return 0;
}

int fb_buf_puts(struct fb_buf *b, const char *s)
{
	return fb_buf_append(b, s, strlen(s));
}

int fb_buf_printf(struct fb_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || fb_buf_reserve(b, (size_t)n) < 0)
		return -1;
	va_start(ap, fmt);
	vsnprintf((char *)b->data + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

void fb_buf_reset(struct fb_buf *b)
{
	b->len = 0;
	b->failed = 0;
	if (b->data)
		b->data[0] = 0;
}

void fb_buf_free(struct fb_buf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

char *fb_buf_steal(struct fb_buf *b)
{
	char *s;
	if (b->failed || fb_buf_reserve(b, 0) < 0) {
		fb_buf_free(b);
		return NULL;
	}
	s = (char *)b->data;
	memset(b, 0, sizeof(*b));
	return s;
}

static int rd_need(struct fb_rd *r, size_t n)
{
	if (r->err || n > r->len - r->off) {
		r->err = 1;
		return -1;
	}
	return 0;
}

uint8_t fb_rd_u8(struct fb_rd *r)
{
	if (rd_need(r, 1) < 0)
		return 0;
	return r->p[r->off++];
}

uint16_t fb_rd_be16(struct fb_rd *r)
{
	if (rd_need(r, 2) < 0)
		return 0;
	uint16_t v = fb_get_be16(r->p + r->off);
	r->off += 2;
	return v;
}

uint32_t fb_rd_be32(struct fb_rd *r)
{
	if (rd_need(r, 4) < 0)
		return 0;
	const uint8_t *p = r->p + r->off;
	r->off += 4;
	return fb_get_be32(p);
}

uint64_t fb_rd_be64(struct fb_rd *r)
{
	uint64_t hi = fb_rd_be32(r);
	return hi << 32 | fb_rd_be32(r);
}

int fb_rd_copy(struct fb_rd *r, void *out, size_t n)
{
	if (rd_need(r, n) < 0) {
		memset(out, 0, n);
		return -1;
	}
	memcpy(out, r->p + r->off, n);
	r->off += n;
	return 0;
}

const uint8_t *fb_rd_ptr(struct fb_rd *r, size_t n)
{
	if (rd_need(r, n) < 0)
		return NULL;
	const uint8_t *p = r->p + r->off;
	r->off += n;
	return p;
}

static uint8_t *wr_need(struct fb_wr *w, size_t n)
{
	if (w->err || n > w->cap - w->off) {
		w->err = 1;
		return NULL;
	}
	uint8_t *p = w->p + w->off;
	w->off += n;
	return p;
}

void fb_wr_u8(struct fb_wr *w, uint8_t v)
{
	uint8_t *p = wr_need(w, 1);
	if (p)
		p[0] = v;
}

void fb_wr_be16(struct fb_wr *w, uint16_t v)
{
	uint8_t *p = wr_need(w, 2);
	if (p)
		fb_put_be16(p, v);
}

void fb_wr_be32(struct fb_wr *w, uint32_t v)
{
	uint8_t *p = wr_need(w, 4);
	if (p)
		fb_put_be32(p, v);
}

void fb_wr_be64(struct fb_wr *w, uint64_t v)
{
	fb_wr_be32(w, (uint32_t)(v >> 32));
	fb_wr_be32(w, (uint32_t)v);
}

void fb_wr_bytes(struct fb_wr *w, const void *src, size_t n)
{
	uint8_t *p = wr_need(w, n);
	if (p && n)
		memcpy(p, src, n);
}

void fb_wr_zero(struct fb_wr *w, size_t n)
{
	uint8_t *p = wr_need(w, n);
	if (p)
		memset(p, 0, n);
}
