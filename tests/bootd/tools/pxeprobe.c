/*
 * pxeprobe.c - a DHCP test client that says exactly what a test asks:
 * a PXE DISCOVER with a given architecture, vendor class and user class,
 * a REQUEST to the PXE port 4011, or deliberately broken packets. It
 * prints every reply it gets within the wait time, one line each:
 *
 *   reply type=OFFER yiaddr=A siaddr=A file=F sid=A vendor=V from=A:P
 *
 *   pxeprobe -i IFACE [-m MAC] [-a ARCH] [-u USERCLASS] [-V VENDOR]
 *            [-t discover|request] [-s SERVER -p 4011] [-w MS]
 *            [-g short|cookie|overrun|nolen|huge|badtype|zero] [-q] [-M]
 *            [-r REQUESTED_IP] [-S SERVER_ID] (-t also: decline, release)
 * It stops at the first reply unless -M (print all within the wait time).
 * Exit status: 0 when at least one reply came (or -q: when none came).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "byteorder.h"
#include "clock.h"
#include "netaddr.h"
#include "proto/dhcp.h"

static void usage(void)
{
	fprintf(stderr, "usage: pxeprobe -i IFACE [-m MAC] [-a ARCH] [-u UC] [-V VENDOR] "
	                "[-t discover|request] [-s SERVER] [-p PORT] [-w MS] [-g KIND] [-q]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *ifname = NULL, *uc = NULL, *vendor = NULL, *type = "discover",
	           *server = "255.255.255.255", *garbage = NULL, *reqip = NULL, *sidopt = NULL;
	uint8_t mac[6] = {0x52, 0x54, 0x00, 0xaa, 0xbb, 0x01};
	int arch = -1, port = 67, wait_ms = 1500, expect_none = 0, all = 0, opt;
	while ((opt = getopt(argc, argv, "i:m:a:u:V:t:s:p:w:g:qMr:S:")) != -1) {
		switch (opt) {
		case 'i':
			ifname = optarg;
			break;
		case 'm':
			if (mac_parse(optarg, mac))
				usage();
			break;
		case 'a':
			arch = atoi(optarg);
			break;
		case 'u':
			uc = optarg;
			break;
		case 'V':
			vendor = optarg;
			break;
		case 't':
			type = optarg;
			break;
		case 's':
			server = optarg;
			break;
		case 'p':
			port = atoi(optarg);
			break;
		case 'w':
			wait_ms = atoi(optarg);
			break;
		case 'g':
			garbage = optarg;
			break;
		case 'q':
			expect_none = 1;
			break;
		case 'M':
			all = 1;
			break;
		case 'r':
			reqip = optarg;
			break;
		case 'S':
			sidopt = optarg;
			break;
		default:
			usage();
		}
	}
	if (!ifname)
		usage();
	int fd = socket(AF_INET, SOCK_DGRAM, 0), one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &one, sizeof(one));
	if (setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, ifname, (socklen_t)strlen(ifname) + 1)) {
		perror("SO_BINDTODEVICE");
		return 2;
	}
	struct sockaddr_in me = {.sin_family = AF_INET, .sin_port = htons(68)};
	if (bind(fd, (struct sockaddr *)&me, sizeof(me)) < 0) {
		perror("bind 68");
		return 2;
	}

	/* Build the request with the library's writer, as a client would. */
	static struct fb_dhcp_msg fake;
	memset(&fake, 0, sizeof(fake));
	fake.htype = 1;
	fake.hlen = 6;
	fake.flags = FB_DHCP_BROADCAST;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	fake.xid = (uint32_t)(ts.tv_nsec ^ getpid());
	memcpy(fake.chaddr, mac, 6);
	uint8_t pkt[5000];
	struct fb_wr w = fb_wr_init(pkt, sizeof(pkt));
	int t = !strcmp(type, "request")   ? FB_DHCPREQUEST
	        : !strcmp(type, "decline") ? FB_DHCPDECLINE
	        : !strcmp(type, "release") ? FB_DHCPRELEASE
	                                   : FB_DHCPDISCOVER;
	struct fb_dhcp_reply r = {.req = &fake, .type = (uint8_t)t};
	fb_dhcp_build_start(&w, &r);
	pkt[0] = 1; /* BOOTREQUEST */
	if (arch >= 0) {
		uint8_t a[2];
		fb_put_be16(a, (uint16_t)arch);
		fb_dhcp_put(&w, FB_OPT_ARCH, a, 2);
		const uint8_t ndi[3] = {1, 3, 16};
		fb_dhcp_put(&w, FB_OPT_NDI, ndi, 3);
		uint8_t guid[17] = {0};
		guid[1] = 0x42;
		fb_dhcp_put(&w, FB_OPT_UUID, guid, 17);
	}
	if (vendor)
		fb_dhcp_put_str(&w, FB_OPT_VENDOR_CLASS, vendor);
	struct in_addr a4;
	if (reqip && inet_pton(AF_INET, reqip, &a4) == 1)
		fb_dhcp_put_ip(&w, FB_OPT_REQ_IP, a4);
	if (sidopt && inet_pton(AF_INET, sidopt, &a4) == 1)
		fb_dhcp_put_ip(&w, FB_OPT_SERVER_ID, a4);
	if (uc)
		fb_dhcp_put_str(&w, FB_OPT_USER_CLASS, uc);
	int n = fb_dhcp_build_end(&w);
	if (garbage) {
		if (!strcmp(garbage, "short"))
			n = 100;
		else if (!strcmp(garbage, "cookie"))
			pkt[236] ^= 0xff;
		else if (!strcmp(garbage, "overrun")) {
			pkt[243] = 12; /* after option 53: hostname claiming 200 bytes */
			pkt[244] = 200;
			n = 260;
		} else if (!strcmp(garbage, "nolen")) {
			pkt[243] = 12;
			n = 244;
		} else if (!strcmp(garbage, "huge")) {
			memset(pkt + n, 0, 4600 - (size_t)n);
			n = 4600;
		} else if (!strcmp(garbage, "badtype"))
			pkt[242] = 77;
		else if (!strcmp(garbage, "zero"))
			memset(pkt, 0, (size_t)(n = 300));
		else
			usage();
	}
	struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	inet_pton(AF_INET, server, &to.sin_addr);
	if (sendto(fd, pkt, (size_t)n, 0, (struct sockaddr *)&to, sizeof(to)) < 0) {
		perror("sendto");
		return 2;
	}
	int replies = 0;
	uint64_t end = fb_mono_ms() + (uint64_t)wait_ms;
	for (;;) {
		uint64_t now = fb_mono_ms();
		if (now >= end)
			break;
		struct pollfd p = {fd, POLLIN, 0};
		if (poll(&p, 1, (int)(end - now)) <= 0)
			continue;
		uint8_t in[5000];
		struct sockaddr_in from;
		socklen_t fl = sizeof(from);
		ssize_t k = recvfrom(fd, in, sizeof(in), 0, (struct sockaddr *)&from, &fl);
		if (k <= 0)
			continue;
		static struct fb_dhcp_msg m;
		if (fb_dhcp_parse(&m, in, (size_t)k, NULL) < 0 || m.op != 2 || m.xid != fake.xid)
			continue;
		char y[FB_IP_LEN], s[FB_IP_LEN], sid[FB_IP_LEN] = "-", f[FB_IP_LEN], v[64] = "-";
		struct in_addr a;
		if (fb_dhcp_opt_ip(&m, FB_OPT_SERVER_ID, &a) == 0)
			ip4_format(a, sid);
		fb_dhcp_opt_str(&m, FB_OPT_VENDOR_CLASS, v, sizeof(v));
		printf("reply type=%s yiaddr=%s siaddr=%s file=%s sid=%s vendor=%s from=%s:%d "
		       "guid=%d\n",
		       fb_dhcp_type_name(m.type), ip4_format(m.yiaddr, y), ip4_format(m.siaddr, s),
		       m.file[0] ? m.file : "-", sid, v, ip4_format(from.sin_addr, f),
		       ntohs(from.sin_port), fb_dhcp_has(&m, FB_OPT_UUID));
		fflush(stdout);
		replies++;
		if (!all && !expect_none)
			break; /* one answer is what the test waits for */
	}
	close(fd);
	return expect_none ? (replies ? 1 : 0) : (replies ? 0 : 1);
}
