/*
 * buf.h - byte buffers for codecs and daemons.
 *
 * struct fb_buf is a growable heap buffer; an allocation failure sets
 * `failed` and later appends do nothing, so a caller checks once at the end.
 * struct fb_rd and struct fb_wr are bounded cursors over fixed memory for
 * the pure codecs in lib/proto: a read or write past the end sets `err` and
 * yields zeros instead of touching memory outside the buffer.
 */
#ifndef FB_BUF_H
#define FB_BUF_H

#include <stddef.h>
#include <stdint.h>

struct fb_buf {
	uint8_t *data; /* heap memory, NUL-terminated when len < cap */
	size_t len;    /* bytes in use */
	size_t cap;    /* bytes allocated */
	int failed;    /* an allocation failed; contents are incomplete */
};

int fb_buf_reserve(struct fb_buf *b, size_t extra);
int fb_buf_append(struct fb_buf *b, const void *p, size_t n);
int fb_buf_puts(struct fb_buf *b, const char *s);
int fb_buf_printf(struct fb_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void fb_buf_reset(struct fb_buf *b);
void fb_buf_free(struct fb_buf *b);
/* Hand the memory to the caller (NUL-terminated); the buffer is emptied. */
char *fb_buf_steal(struct fb_buf *b);

struct fb_rd {
	const uint8_t *p; /* start of the input */
	size_t len;       /* its length */
	size_t off;       /* next byte to read */
	int err;          /* a read went past the end */
};

static inline struct fb_rd fb_rd_init(const void *p, size_t len)
{
	struct fb_rd r = {(const uint8_t *)p, len, 0, 0};
	return r;
}
static inline size_t fb_rd_left(const struct fb_rd *r)
{
	return r->err ? 0 : r->len - r->off;
}
uint8_t fb_rd_u8(struct fb_rd *r);
uint16_t fb_rd_be16(struct fb_rd *r);
uint32_t fb_rd_be32(struct fb_rd *r);
uint64_t fb_rd_be64(struct fb_rd *r);
/* Copy n bytes out (zeros on error); returns 0 or -1. */
int fb_rd_copy(struct fb_rd *r, void *out, size_t n);
/* Point at n bytes inside the input without copying; NULL on error. */
const uint8_t *fb_rd_ptr(struct fb_rd *r, size_t n);

struct fb_wr {
	uint8_t *p; /* output memory */
	size_t cap; /* its size */
	size_t off; /* bytes written */
	int err;    /* a write did not fit */
};

static inline struct fb_wr fb_wr_init(void *p, size_t cap)
{
	struct fb_wr w = {(uint8_t *)p, cap, 0, 0};
	return w;
}
void fb_wr_u8(struct fb_wr *w, uint8_t v);
void fb_wr_be16(struct fb_wr *w, uint16_t v);
void fb_wr_be32(struct fb_wr *w, uint32_t v);
void fb_wr_be64(struct fb_wr *w, uint64_t v);
void fb_wr_bytes(struct fb_wr *w, const void *p, size_t n);
void fb_wr_zero(struct fb_wr *w, size_t n);

#endif
