/*
 * dhcp.c - DHCPv4 codec; see dhcp.h.
 *
 * Every read goes through a bounded cursor, so a truncated or hostile
 * datagram can only produce an error, never a read outside the buffer.
 */
#include "proto/dhcp.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "byteorder.h"

static void copy_field(char *dst, const uint8_t *src, size_t n)
{
	/* Header strings are NUL-padded but not necessarily terminated. */
	size_t i;
	for (i = 0; i < n && src[i]; i++)
		dst[i] = (char)src[i];
	dst[i] = 0;
}

/* Walk one options area, appending each option to the table. */
static int parse_area(struct fb_dhcp_msg *m, const uint8_t *p, size_t len, int is_main,
                      const char **why)
{
	struct fb_rd r = fb_rd_init(p, len);
	while (fb_rd_left(&r)) {
		uint8_t code = fb_rd_u8(&r);
		if (code == FB_OPT_PAD)
			continue;
		if (code == FB_OPT_END)
			return 0;
		if (!fb_rd_left(&r)) {
			*why = "option without a length";
			return -EPROTO;
		}
		uint8_t olen = fb_rd_u8(&r);
		const uint8_t *val = fb_rd_ptr(&r, olen);
		if (!val) {
			*why = "option runs past the end of the packet";
			return -EPROTO;
		}
		if ((size_t)m->optbuf_len + olen > sizeof(m->optbuf)) {
			*why = "options too long";
			return -EMSGSIZE;
		}
		if (fb_dhcp_has(m, code)) {
			/* RFC 3396: concatenate. The earlier pieces must be the
			 * last thing in optbuf for the value to stay contiguous;
			 * otherwise move it to the end first. */
			uint16_t off = m->opt_off[code], ol = m->opt_len[code];
			if (off + ol != m->optbuf_len) {
				if ((size_t)m->optbuf_len + ol + olen > sizeof(m->optbuf)) {
					*why = "options too long";
					return -EMSGSIZE;
				}
				memmove(m->optbuf + m->optbuf_len, m->optbuf + off, ol);
				m->opt_off[code] = m->optbuf_len;
				m->optbuf_len += ol;
			}
		} else {
			m->present[code >> 3] |= (uint8_t)(1u << (code & 7));
			m->opt_off[code] = m->optbuf_len;
			m->opt_len[code] = 0;
		}
		memcpy(m->optbuf + m->optbuf_len, val, olen);
		m->optbuf_len += olen;
		m->opt_len[code] += olen;
	}
	/* A missing end option is tolerated in file/sname and in the main
	 * area (many clients pad instead). */
	(void)is_main;
	return 0;
}

int fb_dhcp_parse(struct fb_dhcp_msg *m, const void *pkt, size_t len, const char **why)
{
	const char *dummy;
	if (!why)
		why = &dummy;
	*why = NULL;
	memset(m, 0, offsetof(struct fb_dhcp_msg, optbuf));
	if (len < FB_DHCP_MIN_LEN) {
		*why = "shorter than a DHCP header";
		return -EMSGSIZE;
	}
	if (len > FB_DHCP_MAX_LEN) {
		*why = "longer than 4096 bytes";
		return -EMSGSIZE;
	}
	struct fb_rd r = fb_rd_init(pkt, len);
	m->op = fb_rd_u8(&r);
	m->htype = fb_rd_u8(&r);
	m->hlen = fb_rd_u8(&r);
	m->hops = fb_rd_u8(&r);
	m->xid = fb_rd_be32(&r);
	m->secs = fb_rd_be16(&r);
	m->flags = fb_rd_be16(&r);
	m->ciaddr.s_addr = htonl(fb_rd_be32(&r));
	m->yiaddr.s_addr = htonl(fb_rd_be32(&r));
	m->siaddr.s_addr = htonl(fb_rd_be32(&r));
	m->giaddr.s_addr = htonl(fb_rd_be32(&r));
	fb_rd_copy(&r, m->chaddr, 16);
	const uint8_t *sname = fb_rd_ptr(&r, 64);
	const uint8_t *file = fb_rd_ptr(&r, 128);
	uint32_t cookie = fb_rd_be32(&r);
	if (r.err || !sname || !file) {
		*why = "truncated header";
		return -EMSGSIZE;
	}
	if (m->op != 1 && m->op != 2) {
		*why = "bad op";
		return -EINVAL;
	}
	if (m->hlen > 16) {
		*why = "hardware address longer than 16 bytes";
		return -EINVAL;
	}
	if (cookie != FB_DHCP_COOKIE) {
		*why = "wrong magic cookie";
		return -EPROTO;
	}
	int rc = parse_area(m, (const uint8_t *)pkt + r.off, len - r.off, 1, why);
	if (rc)
		return rc;
	int overload = 0;
	size_t ol;
	const uint8_t *o = fb_dhcp_opt(m, FB_OPT_OVERLOAD, &ol);
	if (o) {
		if (ol != 1 || o[0] < 1 || o[0] > 3) {
			*why = "bad option overload";
			return -EPROTO;
		}
		overload = o[0];
	}
	if (overload & 1) {
		rc = parse_area(m, file, 128, 0, why);
		if (rc)
			return rc;
	} else {
		copy_field(m->file, file, 128);
	}
	if (overload & 2) {
		rc = parse_area(m, sname, 64, 0, why);
		if (rc)
			return rc;
	} else {
		copy_field(m->sname, sname, 64);
	}
	o = fb_dhcp_opt(m, FB_OPT_MSGTYPE, &ol);
	if (o) {
		if (ol != 1 || o[0] < 1 || o[0] > 18) {
			*why = "bad message type";
			return -EPROTO;
		}
		m->type = o[0];
	}
	return 0;
}

const uint8_t *fb_dhcp_opt(const struct fb_dhcp_msg *m, uint8_t code, size_t *len)
{
	if (!fb_dhcp_has(m, code))
		return NULL;
	if (len)
		*len = m->opt_len[code];
	return m->optbuf + m->opt_off[code];
}

int fb_dhcp_opt_ip(const struct fb_dhcp_msg *m, uint8_t code, struct in_addr *out)
{
	size_t n;
	const uint8_t *p = fb_dhcp_opt(m, code, &n);
	if (!p || n != 4)
		return -1;
	memcpy(&out->s_addr, p, 4);
	return 0;
}

int fb_dhcp_opt_str(const struct fb_dhcp_msg *m, uint8_t code, char *out, size_t cap)
{
	size_t n;
	const uint8_t *p = fb_dhcp_opt(m, code, &n);
	if (!p || !cap)
		return -1;
	size_t i, j = 0;
	for (i = 0; i < n && j + 1 < cap; i++) {
		if (!p[i] && i + 1 == n)
			break; /* a trailing NUL some clients add */
		out[j++] = (p[i] >= 0x20 && p[i] < 0x7f) ? (char)p[i] : '?';
	}
	out[j] = 0;
	return (int)j;
}

int fb_dhcp_client_arch(const struct fb_dhcp_msg *m)
{
	size_t n;
	const uint8_t *p = fb_dhcp_opt(m, FB_OPT_ARCH, &n);
	if (!p || n < 2)
		return -1;
	return fb_get_be16(p);
}

int fb_dhcp_is_ipxe(const struct fb_dhcp_msg *m)
{
	if (fb_dhcp_has(m, FB_OPT_IPXE))
		return 1;
	size_t n;
	const uint8_t *p = fb_dhcp_opt(m, FB_OPT_USER_CLASS, &n);
	if (!p)
		return 0;
	/* iPXE sends the bare string; RFC 3004 framing is a length byte per
	 * class. Accept both. */
	if (n >= 4 && !memcmp(p, "iPXE", 4))
		return 1;
	size_t i = 0;
	while (i < n) {
		size_t l = p[i++];
		if (l > n - i)
			break;
		if (l == 4 && !memcmp(p + i, "iPXE", 4))
			return 1;
		i += l;
	}
	return 0;
}

int fb_dhcp_vendor_is(const struct fb_dhcp_msg *m, const char *prefix)
{
	size_t n, pl = strlen(prefix);
	const uint8_t *p = fb_dhcp_opt(m, FB_OPT_VENDOR_CLASS, &n);
	return p && n >= pl && !memcmp(p, prefix, pl);
}

int fb_dhcp_has_ether(const struct fb_dhcp_msg *m)
{
	return m->htype == 1 && m->hlen == 6;
}

int fb_dhcp_build_start(struct fb_wr *w, const struct fb_dhcp_reply *r)
{
	const struct fb_dhcp_msg *q = r->req;
	size_t fl = r->file ? strlen(r->file) : 0, sl = r->sname ? strlen(r->sname) : 0;
	if (fl > 127 || sl > 63) {
		errno = ENAMETOOLONG;
		return -1;
	}
	fb_wr_u8(w, 2);
	fb_wr_u8(w, q->htype);
	fb_wr_u8(w, q->hlen);
	fb_wr_u8(w, 0);
	fb_wr_be32(w, q->xid);
	fb_wr_be16(w, 0);
	fb_wr_be16(w, q->flags & FB_DHCP_BROADCAST);
	/* ciaddr is echoed only in ACKs to a client that already has it. */
	fb_wr_be32(w, r->type == FB_DHCPACK ? ntohl(q->ciaddr.s_addr) : 0);
	fb_wr_be32(w, ntohl(r->yiaddr.s_addr));
	fb_wr_be32(w, ntohl(r->siaddr.s_addr));
	fb_wr_be32(w, ntohl(q->giaddr.s_addr));
	fb_wr_bytes(w, q->chaddr, 16);
	fb_wr_bytes(w, r->sname ? r->sname : "", sl);
	fb_wr_zero(w, 64 - sl);
	fb_wr_bytes(w, r->file ? r->file : "", fl);
	fb_wr_zero(w, 128 - fl);
	fb_wr_be32(w, FB_DHCP_COOKIE);
	fb_dhcp_put_u8(w, FB_OPT_MSGTYPE, r->type);
	return w->err ? -1 : 0;
}

void fb_dhcp_put(struct fb_wr *w, uint8_t code, const void *p, size_t len)
{
	const uint8_t *b = p;
	do {
		size_t n = len > 255 ? 255 : len;
		fb_wr_u8(w, code);
		fb_wr_u8(w, (uint8_t)n);
		fb_wr_bytes(w, b, n);
		b += n;
		len -= n;
	} while (len);
}

void fb_dhcp_put_u8(struct fb_wr *w, uint8_t code, uint8_t v)
{
	fb_dhcp_put(w, code, &v, 1);
}

void fb_dhcp_put_u32(struct fb_wr *w, uint8_t code, uint32_t v)
{
	uint8_t b[4];
	fb_put_be32(b, v);
	fb_dhcp_put(w, code, b, 4);
}

void fb_dhcp_put_ip(struct fb_wr *w, uint8_t code, struct in_addr a)
{
	fb_dhcp_put(w, code, &a.s_addr, 4);
}

void fb_dhcp_put_str(struct fb_wr *w, uint8_t code, const char *s)
{
	fb_dhcp_put(w, code, s, strlen(s));
}

int fb_dhcp_build_end(struct fb_wr *w)
{
	fb_wr_u8(w, FB_OPT_END);
	if (w->off < FB_DHCP_BOOTP_MIN)
		fb_wr_zero(w, FB_DHCP_BOOTP_MIN - w->off);
	return w->err ? -1 : (int)w->off;
}

const char *fb_dhcp_type_name(int type)
{
	static const char *const names[] = {"?",   "DISCOVER", "OFFER",   "REQUEST", "DECLINE",
	                                    "ACK", "NAK",      "RELEASE", "INFORM"};
	return type >= 1 && type <= 8 ? names[type] : "?";
}
