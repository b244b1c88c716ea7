/*
 * tftp.h - TFTP packet codec (RFC 1350, 2347, 2348, 2349, 7440).
 *
 * Pure code, no I/O. The server side parses requests (with their options)
 * and acknowledgements, and builds DATA, OACK and ERROR packets.
 */
#ifndef FB_PROTO_TFTP_H
#define FB_PROTO_TFTP_H

#include <stddef.h>
#include <stdint.h>

enum fb_tftp_op {
	FB_TFTP_RRQ = 1,
	FB_TFTP_WRQ = 2,
	FB_TFTP_DATA = 3,
	FB_TFTP_ACK = 4,
	FB_TFTP_ERROR = 5,
	FB_TFTP_OACK = 6,
};

enum fb_tftp_err {
	FB_TFTP_EUNDEF = 0,    /* not defined, see message */
	FB_TFTP_ENOTFOUND = 1, /* file not found */
	FB_TFTP_EACCESS = 2,   /* access violation */
	FB_TFTP_EFULL = 3,     /* disk full */
	FB_TFTP_EBADOP = 4,    /* illegal TFTP operation */
	FB_TFTP_EBADID = 5,    /* unknown transfer id */
	FB_TFTP_EEXISTS = 6,   /* file already exists */
	FB_TFTP_ENOUSER = 7,   /* no such user */
	FB_TFTP_EOPTNEG = 8,   /* option negotiation refused (RFC 2347) */
};

#define FB_TFTP_DEF_BLKSIZE 512
#define FB_TFTP_MIN_BLKSIZE 8
#define FB_TFTP_MAX_BLKSIZE 65464
#define FB_TFTP_MAX_WINDOW  65535
#define FB_TFTP_MAX_PKT     (4 + FB_TFTP_MAX_BLKSIZE)

/* A read or write request. Option values are only meaningful when the
 * matching has_ flag is set (the client asked for it and it was valid). */
struct fb_tftp_req {
	int op;             /* FB_TFTP_RRQ or FB_TFTP_WRQ */
	char filename[256]; /* as sent (not yet checked against the root) */
	char mode[16];      /* "octet" or "netascii", lower-cased */
	int has_blksize;
	unsigned blksize; /* 8..65464 */
	int has_tsize;    /* tsize asked (its value in an RRQ is 0) */
	int has_timeout;
	unsigned timeout; /* seconds, 1..255 */
	int has_windowsize;
	unsigned windowsize; /* 1..65535 */
};

/*
 * Parse an RRQ or WRQ. Returns 0, or a TFTP error code (>0) to answer
 * with and a reason in why: EBADOP for a malformed packet or mode. Invalid
 * option values are ignored (RFC 2347 lets the server drop options it does
 * not accept), unknown options too.
 */
int fb_tftp_parse_req(struct fb_tftp_req *r, const void *pkt, size_t len, const char **why);

/* Opcode of a packet, or 0 when shorter than two bytes. */
int fb_tftp_opcode(const void *pkt, size_t len);
/* Parse an ACK: 0 and the block number, or -1. */
int fb_tftp_parse_ack(const void *pkt, size_t len, uint16_t *block);
/* Parse an ERROR: 0, the code and a sanitised message copy, or -1. */
int fb_tftp_parse_error(const void *pkt, size_t len, uint16_t *code, char *msg, size_t cap);

/* Build packets into out (cap bytes). Each returns the length or -1 when
 * it does not fit. */
int fb_tftp_build_error(void *out, size_t cap, uint16_t code, const char *msg);
/* DATA header (4 bytes); the caller puts the payload right after it. */
int fb_tftp_build_data_hdr(void *out, size_t cap, uint16_t block);
int fb_tftp_build_ack(void *out, size_t cap, uint16_t block);
/* OACK with the options the server accepted: values of 0 are left out
 * (tsize 0 counts as present when has_tsize). */
struct fb_tftp_oack {
	unsigned blksize;
	int has_tsize;
	uint64_t tsize;
	unsigned timeout;
	unsigned windowsize;
};
int fb_tftp_build_oack(void *out, size_t cap, const struct fb_tftp_oack *o);
/* Build a request (for test clients and the fuzzer's seed corpus). */
int fb_tftp_build_rrq(void *out, size_t cap, const char *file, const char *mode,
                      const struct fb_tftp_oack *o);

#endif
