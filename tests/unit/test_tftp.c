/* Unit tests for lib/proto/tftp: requests, options, acks, errors. */
#include <string.h>

#include "proto/tftp.h"
#include "harness.h"

static size_t pkt_of(uint8_t *b, const char *parts[], int n)
{
	size_t off = 0;
	b[off++] = 0;
	b[off++] = 1;
	for (int i = 0; i < n; i++) {
		size_t l = strlen(parts[i]) + 1;
		memcpy(b + off, parts[i], l);
		off += l;
	}
	return off;
}

static void test_rrq(void)
{
	uint8_t b[512];
	struct fb_tftp_req r;
	const char *p1[] = {"undionly.kpxe", "OCTET", "blksize", "1468", "tsize", "0",
	                    "windowsize",    "16",    "timeout", "3",    "foo",   "bar"};
	size_t n = pkt_of(b, p1, 12);
	CHECK_INT(fb_tftp_parse_req(&r, b, n, NULL), 0);
	CHECK_INT(r.op, FB_TFTP_RRQ);
	CHECK_STR(r.filename, "undionly.kpxe");
	CHECK_STR(r.mode, "octet");
	CHECK(r.has_blksize && r.blksize == 1468);
	CHECK(r.has_tsize);
	CHECK(r.has_windowsize && r.windowsize == 16);
	CHECK(r.has_timeout && r.timeout == 3);

	/* Invalid option values are dropped, not fatal. */
	const char *p2[] = {"a", "netascii", "blksize", "7", "timeout", "0", "windowsize", "x"};
	n = pkt_of(b, p2, 8);
	CHECK_INT(fb_tftp_parse_req(&r, b, n, NULL), 0);
	CHECK(!r.has_blksize && !r.has_timeout && !r.has_windowsize);
	/* Huge blksize is clamped. */
	const char *p3[] = {"a", "octet", "blksize", "65535"};
	n = pkt_of(b, p3, 4);
	CHECK_INT(fb_tftp_parse_req(&r, b, n, NULL), 0);
	CHECK_INT(r.blksize, FB_TFTP_MAX_BLKSIZE);
	/* Trailing option without a value is ignored. */
	const char *p4[] = {"a", "octet", "blksize"};
	n = pkt_of(b, p4, 3);
	CHECK_INT(fb_tftp_parse_req(&r, b, n, NULL), 0);
	CHECK(!r.has_blksize);
}

static void test_bad_req(void)
{
	uint8_t b[600];
	struct fb_tftp_req r;
	const char *why;
	const char *p1[] = {"file", "mail"};
	size_t n = pkt_of(b, p1, 2);
	CHECK_INT(fb_tftp_parse_req(&r, b, n, &why), FB_TFTP_EBADOP);
	CHECK_STR(why, "unsupported transfer mode");
	/* Unterminated. */
	memcpy(b, "\0\1file", 6);
	CHECK_INT(fb_tftp_parse_req(&r, b, 6, &why), FB_TFTP_EBADOP);
	/* Empty name. */
	const char *p2[] = {"", "octet"};
	n = pkt_of(b, p2, 2);
	CHECK_INT(fb_tftp_parse_req(&r, b, n, &why), FB_TFTP_EBADOP);
	/* Wrong opcode. */
	b[1] = 9;
	CHECK_INT(fb_tftp_parse_req(&r, b, n, &why), FB_TFTP_EBADOP);
	CHECK_INT(fb_tftp_parse_req(&r, b, 1, &why), FB_TFTP_EBADOP);
	/* Name too long. */
	char longname[400];
	memset(longname, 'a', sizeof(longname) - 1);
	longname[399] = 0;
	const char *p3[] = {longname, "octet"};
	n = pkt_of(b, p3, 2);
	CHECK_INT(fb_tftp_parse_req(&r, b, n, &why), FB_TFTP_EBADOP);
}

static void test_build(void)
{
	uint8_t b[256];
	struct fb_tftp_oack o = {.blksize = 1432, .has_tsize = 1, .tsize = 123456, .windowsize = 8};
	int n = fb_tftp_build_oack(b, sizeof(b), &o);
	const uint8_t want[] = "\0\6blksize\0"
	                       "1432\0tsize\0"
	                       "123456\0windowsize\0"
	                       "8";
	CHECK_INT(n, (int)sizeof(want));
	CHECK(!memcmp(b, want, sizeof(want)));
	CHECK_INT(fb_tftp_build_oack(b, 10, &o), -1);
	n = fb_tftp_build_error(b, sizeof(b), FB_TFTP_ENOTFOUND, "File not found");
	uint16_t code;
	char msg[64];
	CHECK_INT(fb_tftp_parse_error(b, (size_t)n, &code, msg, sizeof(msg)), 0);
	CHECK_INT(code, 1);
	CHECK_STR(msg, "File not found");
	CHECK_INT(fb_tftp_build_ack(b, sizeof(b), 65535), 4);
	uint16_t blk;
	CHECK_INT(fb_tftp_parse_ack(b, 4, &blk), 0);
	CHECK_INT(blk, 65535);
	CHECK_INT(fb_tftp_parse_ack(b, 3, &blk), -1);
	CHECK_INT(fb_tftp_build_data_hdr(b, 3, 1), -1);
	/* A built RRQ parses back. */
	n = fb_tftp_build_rrq(b, sizeof(b), "x/y.bin", "octet", &o);
	struct fb_tftp_req r;
	CHECK_INT(fb_tftp_parse_req(&r, b, (size_t)n, NULL), 0);
	CHECK_STR(r.filename, "x/y.bin");
	CHECK_INT(r.blksize, 1432);
	CHECK_INT(r.windowsize, 8);
}

int main(void)
{
	RUN(test_rrq);
	RUN(test_bad_req);
	RUN(test_build);
	return HARNESS_EXIT();
}
