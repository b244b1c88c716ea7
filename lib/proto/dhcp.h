/*
 * dhcp.h - DHCPv4 / BOOTP message codec (RFC 2131, 2132, 3396, 4578).
 *
 * Pure code, no I/O: bootd hands in a received datagram and gets a parsed
 * message back, or builds a reply into a caller-supplied buffer. Options are
 * collected into a per-message table indexed by code; a code that appears
 * several times is concatenated (RFC 3396), and the file and sname fields
 * are read for options when option 52 (overload) says so.
 */
#ifndef FB_PROTO_DHCP_H
#define FB_PROTO_DHCP_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define FB_DHCP_HDR_LEN   236  /* fixed BOOTP header, before the cookie */
#define FB_DHCP_MIN_LEN   240  /* header plus magic cookie */
#define FB_DHCP_MAX_LEN   4096 /* larger datagrams are refused */
#define FB_DHCP_COOKIE    0x63825363u
#define FB_DHCP_BOOTP_MIN 300 /* replies are padded to this (RFC 951 size) */

enum fb_dhcp_type {
	FB_DHCPDISCOVER = 1,
	FB_DHCPOFFER = 2,
	FB_DHCPREQUEST = 3,
	FB_DHCPDECLINE = 4,
	FB_DHCPACK = 5,
	FB_DHCPNAK = 6,
	FB_DHCPRELEASE = 7,
	FB_DHCPINFORM = 8,
};

enum fb_dhcp_opt_code {
	FB_OPT_PAD = 0,
	FB_OPT_SUBNET = 1,
	FB_OPT_ROUTER = 3,
	FB_OPT_DNS = 6,
	FB_OPT_HOSTNAME = 12,
	FB_OPT_REQ_IP = 50,
	FB_OPT_LEASE = 51,
	FB_OPT_OVERLOAD = 52,
	FB_OPT_MSGTYPE = 53,
	FB_OPT_SERVER_ID = 54,
	FB_OPT_PRL = 55,
	FB_OPT_MESSAGE = 56,
	FB_OPT_MAXSIZE = 57,
	FB_OPT_T1 = 58,
	FB_OPT_T2 = 59,
	FB_OPT_VENDOR_CLASS = 60,
	FB_OPT_CLIENT_ID = 61,
	FB_OPT_VENDOR = 43,
	FB_OPT_USER_CLASS = 77,
	FB_OPT_ARCH = 93,
	FB_OPT_NDI = 94,
	FB_OPT_UUID = 97,
	FB_OPT_IPXE = 175,
	FB_OPT_END = 255,
};

/* A parsed message. Option data lives in optbuf; opt_off/opt_len locate
 * each code's (concatenated) value. */
struct fb_dhcp_msg {
	uint8_t op;            /* 1 request, 2 reply */
	uint8_t htype;         /* 1 = Ethernet */
	uint8_t hlen;          /* hardware address length */
	uint8_t hops;          /* relay hops */
	uint32_t xid;          /* transaction id (host order) */
	uint16_t secs;         /* seconds since the client began */
	uint16_t flags;        /* bit 15 = broadcast */
	struct in_addr ciaddr; /* client's current address */
	struct in_addr yiaddr; /* "your" address */
	struct in_addr siaddr; /* next server */
	struct in_addr giaddr; /* relay agent */
	uint8_t chaddr[16];    /* client hardware address */
	char sname[65];        /* server name (NUL-terminated copy) */
	char file[129];        /* boot file (NUL-terminated copy) */
	uint8_t type;          /* option 53; 0 = plain BOOTP */
	uint8_t present[32];   /* bitmap of option codes seen */
	uint16_t opt_off[256]; /* offset into optbuf */
	uint16_t opt_len[256]; /* total length (after concatenation) */
	uint16_t optbuf_len;   /* bytes used in optbuf */
	uint8_t optbuf[FB_DHCP_MAX_LEN];
};

#define FB_DHCP_BROADCAST 0x8000

/*
 * Parse a datagram. Returns 0, or a negative errno with a reason in why:
 * -EMSGSIZE (too short/long), -EPROTO (bad cookie or option framing),
 * -EINVAL (bad field values).
 */
int fb_dhcp_parse(struct fb_dhcp_msg *m, const void *pkt, size_t len, const char **why);

static inline int fb_dhcp_has(const struct fb_dhcp_msg *m, uint8_t code)
{
	return (m->present[code >> 3] >> (code & 7)) & 1;
}
/* Option value and length; NULL when absent. */
const uint8_t *fb_dhcp_opt(const struct fb_dhcp_msg *m, uint8_t code, size_t *len);
/* An option holding one IPv4 address (4 bytes exactly). 0 or -1. */
int fb_dhcp_opt_ip(const struct fb_dhcp_msg *m, uint8_t code, struct in_addr *out);
/* Copy a textual option into out as a NUL-terminated string, with
 * unprintable bytes replaced by '?'. Returns its length, -1 when absent. */
int fb_dhcp_opt_str(const struct fb_dhcp_msg *m, uint8_t code, char *out, size_t cap);

/* Client architecture (option 93, first entry); -1 when absent. */
int fb_dhcp_client_arch(const struct fb_dhcp_msg *m);
/* iPXE: user-class "iPXE" (plain or RFC 3004 framed) or option 175. */
int fb_dhcp_is_ipxe(const struct fb_dhcp_msg *m);
/* Vendor class (60) starts with prefix. */
int fb_dhcp_vendor_is(const struct fb_dhcp_msg *m, const char *prefix);
/* A 6-byte Ethernet chaddr was given (htype 1, hlen 6). */
int fb_dhcp_has_ether(const struct fb_dhcp_msg *m);

/* ---- building replies --------------------------------------------------- */

/* Fields of a reply header; the rest is copied from the request. */
struct fb_dhcp_reply {
	const struct fb_dhcp_msg *req; /* the request answered */
	uint8_t type;                  /* OFFER, ACK, NAK */
	struct in_addr yiaddr;
	struct in_addr siaddr; /* next server */
	const char *sname;     /* may be NULL */
	const char *file;      /* may be NULL; longer than 127 bytes is an error */
};

/* Write the BOOTP header, cookie and option 53 into w. 0 or -1. */
int fb_dhcp_build_start(struct fb_wr *w, const struct fb_dhcp_reply *r);
/* Append one option, split into 255-byte pieces when longer (RFC 3396). */
void fb_dhcp_put(struct fb_wr *w, uint8_t code, const void *p, size_t len);
void fb_dhcp_put_u8(struct fb_wr *w, uint8_t code, uint8_t v);
void fb_dhcp_put_u32(struct fb_wr *w, uint8_t code, uint32_t v);
void fb_dhcp_put_ip(struct fb_wr *w, uint8_t code, struct in_addr a);
void fb_dhcp_put_str(struct fb_wr *w, uint8_t code, const char *s);
/* End marker and padding to the BOOTP minimum. Returns the length or -1
 * when anything did not fit. */
int fb_dhcp_build_end(struct fb_wr *w);

/* Human-readable message type ("DISCOVER"), "?" when unknown. */
const char *fb_dhcp_type_name(int type);

#endif
