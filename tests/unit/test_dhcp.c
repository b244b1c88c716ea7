/* Unit tests for lib/proto/dhcp: parsing, options, overload, building. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "proto/dhcp.h"
#include "harness.h"

static struct fb_dhcp_msg msg;

/* A DISCOVER from 52:54:00:12:34:56 with the given options area. */
static size_t make_pkt(uint8_t *b, const uint8_t *opts, size_t optlen)
{
	memset(b, 0, 240);
	b[0] = 1;
	b[1] = 1;
	b[2] = 6;
	b[4] = 0xde;
	b[5] = 0xad;
	b[6] = 0xbe;
	b[7] = 0xef;
	b[10] = 0x80; /* broadcast flag */
	const uint8_t mac[6] = {0x52, 0x54, 0, 0x12, 0x34, 0x56};
	memcpy(b + 28, mac, 6);
	b[236] = 0x63;
	b[237] = 0x82;
	b[238] = 0x53;
	b[239] = 0x63;
	memcpy(b + 240, opts, optlen);
	return 240 + optlen;
}

static void test_parse_pxe(void)
{
	uint8_t pkt[600];
	const uint8_t opts[] = {53,  1,   1,   93,  2,  0, 7,   60,  9,   'P', 'X', 'E', 'C', 'l',
	                        'i', 'e', 'n', 't', 77, 4, 'i', 'P', 'X', 'E', 0,   0,   255};
	size_t n = make_pkt(pkt, opts, sizeof(opts));
	const char *why;
	CHECK_INT(fb_dhcp_parse(&msg, pkt, n, &why), 0);
	CHECK_INT(msg.type, FB_DHCPDISCOVER);
	CHECK_INT(msg.xid, 0xdeadbeef);
	CHECK_INT(msg.flags, 0x8000);
	CHECK_INT(fb_dhcp_client_arch(&msg), 7);
	CHECK(fb_dhcp_is_ipxe(&msg));
	CHECK(fb_dhcp_vendor_is(&msg, "PXEClient"));
	CHECK(!fb_dhcp_vendor_is(&msg, "HTTPClient"));
	CHECK(fb_dhcp_has_ether(&msg));
	char s[64];
	CHECK_INT(fb_dhcp_opt_str(&msg, FB_OPT_VENDOR_CLASS, s, sizeof(s)), 9);
	CHECK_STR(s, "PXEClient");
	CHECK_STR(fb_dhcp_type_name(msg.type), "DISCOVER");
}

static void test_ipxe_detection(void)
{
	uint8_t pkt[600];
	/* RFC 3004 framed user class. */
	const uint8_t o1[] = {53, 1, 1, 77, 5, 4, 'i', 'P', 'X', 'E', 255};
	CHECK_INT(fb_dhcp_parse(&msg, pkt, make_pkt(pkt, o1, sizeof(o1)), NULL), 0);
	CHECK(fb_dhcp_is_ipxe(&msg));
	/* Option 175 alone. */
	const uint8_t o2[] = {53, 1, 1, 175, 3, 19, 1, 1, 255};
	CHECK_INT(fb_dhcp_parse(&msg, pkt, make_pkt(pkt, o2, sizeof(o2)), NULL), 0);
	CHECK(fb_dhcp_is_ipxe(&msg));
	/* Neither. */
	const uint8_t o3[] = {53, 1, 1, 77, 4, 'g', 'P', 'X', 'E', 255};
	CHECK_INT(fb_dhcp_parse(&msg, pkt, make_pkt(pkt, o3, sizeof(o3)), NULL), 0);
	CHECK(!fb_dhcp_is_ipxe(&msg));
	CHECK_INT(fb_dhcp_client_arch(&msg), -1);
}

static void test_concat_and_overload(void)
{
	uint8_t pkt[600];
	/* Hostname split in two pieces (RFC 3396), another option between,
	 * and overload = 1 with the message type inside 'file'. */
	const uint8_t opts[] = {12, 3,  'a', 'b', 'c', 50, 4, 10, 0,  0,
	                        5,  12, 2,   'd', 'e', 52, 1, 1,  255};
	size_t n = make_pkt(pkt, opts, sizeof(opts));
	pkt[108] = 53;
	pkt[109] = 1;
	pkt[110] = 3;
	pkt[111] = 255;
	CHECK_INT(fb_dhcp_parse(&msg, pkt, n, NULL), 0);
	char s[64];
	CHECK_INT(fb_dhcp_opt_str(&msg, FB_OPT_HOSTNAME, s, sizeof(s)), 5);
	CHECK_STR(s, "abcde");
	struct in_addr a;
	CHECK_INT(fb_dhcp_opt_ip(&msg, FB_OPT_REQ_IP, &a), 0);
	CHECK_INT(a.s_addr, inet_addr("10.0.0.5"));
	CHECK_INT(msg.type, FB_DHCPREQUEST);
	CHECK_STR(msg.file, "");
}

static void test_bad(void)
{
	uint8_t pkt[600];
	const uint8_t ok[] = {53, 1, 1, 255};
	const char *why;
	size_t n = make_pkt(pkt, ok, sizeof(ok));
	CHECK_INT(fb_dhcp_parse(&msg, pkt, 239, &why), -EMSGSIZE);
	CHECK(why != NULL);
	pkt[236] = 0x64;
	CHECK_INT(fb_dhcp_parse(&msg, pkt, n, &why), -EPROTO);
	CHECK_STR(why, "wrong magic cookie");
	/* Option running past the end. */
	const uint8_t o1[] = {53, 1, 1, 12, 40, 'x'};
	CHECK_INT(fb_dhcp_parse(&msg, pkt, make_pkt(pkt, o1, sizeof(o1)), &why), -EPROTO);
	/* Option code without length. */
	const uint8_t o2[] = {53, 1, 1, 12};
	CHECK_INT(fb_dhcp_parse(&msg, pkt, make_pkt(pkt, o2, sizeof(o2)), &why), -EPROTO);
	/* Bad message type value and length. */
	const uint8_t o3[] = {53, 2, 1, 1, 255};
	CHECK_INT(fb_dhcp_parse(&msg, pkt, make_pkt(pkt, o3, sizeof(o3)), &why), -EPROTO);
	const uint8_t o4[] = {53, 1, 0, 255};
	CHECK_INT(fb_dhcp_parse(&msg, pkt, make_pkt(pkt, o4, sizeof(o4)), &why), -EPROTO);
	/* Bad overload value. */
	const uint8_t o5[] = {53, 1, 1, 52, 1, 9, 255};
	CHECK_INT(fb_dhcp_parse(&msg, pkt, make_pkt(pkt, o5, sizeof(o5)), &why), -EPROTO);
	/* hlen > 16 */
	n = make_pkt(pkt, ok, sizeof(ok));
	pkt[2] = 17;
	CHECK_INT(fb_dhcp_parse(&msg, pkt, n, &why), -EINVAL);
	/* Oversized datagram. */
	uint8_t *big = calloc(1, 5000);
	make_pkt(big, ok, sizeof(ok));
	CHECK_INT(fb_dhcp_parse(&msg, big, 5000, &why), -EMSGSIZE);
	/* Many repeated options overflow the option store gracefully. */
	memset(big + 240, 0, 4096 - 240);
	for (size_t i = 240; i + 257 < 4096; i += 257) {
		big[i] = 12;
		big[i + 1] = 255;
		memset(big + i + 2, 'a', 255);
	}
	CHECK_INT(fb_dhcp_parse(&msg, big, 4096, &why), 0);
	size_t l;
	CHECK(fb_dhcp_opt(&msg, 12, &l) != NULL && l > 3000);
	free(big);
}

static void test_build(void)
{
	uint8_t pkt[600], out[1500];
	const uint8_t opts[] = {53, 1, 1, 255};
	CHECK_INT(fb_dhcp_parse(&msg, pkt, make_pkt(pkt, opts, sizeof(opts)), NULL), 0);
	struct fb_dhcp_reply r = {.req = &msg, .type = FB_DHCPOFFER};
	inet_aton("10.0.0.100", &r.yiaddr);
	inet_aton("10.0.0.1", &r.siaddr);
	r.file = "undionly.kpxe";
	struct fb_wr w = fb_wr_init(out, sizeof(out));
	CHECK_INT(fb_dhcp_build_start(&w, &r), 0);
	fb_dhcp_put_ip(&w, FB_OPT_SERVER_ID, r.siaddr);
	fb_dhcp_put_u32(&w, FB_OPT_LEASE, 3600);
	char longtext[600];
	memset(longtext, 'x', sizeof(longtext) - 1);
	longtext[599] = 0;
	fb_dhcp_put_str(&w, FB_OPT_MESSAGE, longtext);
	int n = fb_dhcp_build_end(&w);
	CHECK(n >= 300);
	static struct fb_dhcp_msg back;
	CHECK_INT(fb_dhcp_parse(&back, out, (size_t)n, NULL), 0);
	CHECK_INT(back.op, 2);
	CHECK_INT(back.type, FB_DHCPOFFER);
	CHECK_INT(back.xid, 0xdeadbeef);
	CHECK_INT(back.flags, 0x8000);
	CHECK_STR(back.file, "undionly.kpxe");
	CHECK_INT(back.yiaddr.s_addr, r.yiaddr.s_addr);
	CHECK_INT(back.siaddr.s_addr, r.siaddr.s_addr);
	CHECK(!memcmp(back.chaddr, msg.chaddr, 16));
	size_t l;
	const uint8_t *p = fb_dhcp_opt(&back, FB_OPT_MESSAGE, &l);
	CHECK(p && l == 599);
	struct in_addr a;
	CHECK_INT(fb_dhcp_opt_ip(&back, FB_OPT_SERVER_ID, &a), 0);
	CHECK_INT(a.s_addr, r.siaddr.s_addr);
	/* Too small a buffer fails cleanly. */
	struct fb_wr small = fb_wr_init(out, 100);
	fb_dhcp_build_start(&small, &r);
	CHECK_INT(fb_dhcp_build_end(&small), -1);
	/* An over-long file name is refused. */
	char lf[200];
	memset(lf, 'f', sizeof(lf) - 1);
	lf[199] = 0;
	r.file = lf;
	w = fb_wr_init(out, sizeof(out));
	CHECK_INT(fb_dhcp_build_start(&w, &r), -1);
}

int main(void)
{
	RUN(test_parse_pxe);
	RUN(test_ipxe_detection);
	RUN(test_concat_and_overload);
	RUN(test_bad);
	RUN(test_build);
	return HARNESS_EXIT();
}
