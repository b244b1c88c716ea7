/*
 * dhcpforge.c - the attacker of tests/bootd/test-identity.sh: sends DHCP
 * messages that say whatever it is told (any chaddr, ciaddr, requested
 * address, giaddr) from an ordinary UDP socket, as any unprivileged user
 * on a client can. It cannot change the Ethernet source of its frames:
 * that is the kernel's, and exactly what bootd must hold against chaddr.
 *
 *   dhcpforge -s SERVER -t discover|request|release|decline [-m CHADDR]
 *             [-c CIADDR] [-r REQUESTED_IP] [-S SERVER_ID] [-g GIADDR]
 *             [-a ARCH] [-l LOCAL_IP] [-p LOCAL_PORT] [-n COUNT]
 *
 * -a ARCH makes it a PXE client (option 93 and vendor class PXEClient).
 * -n COUNT sends COUNT messages, the last three bytes of chaddr counting
 * up from the one given (a flood of made-up machines). It sends to port
 * 67 of SERVER and does not wait for answers (they go to port 68 or to the
 * relay, where an unprivileged user cannot listen). Exit 0 when all went
 * out, 2 on usage or socket errors.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "byteorder.h"
#include "netaddr.h"
#include "proto/dhcp.h"

static void usage(void)
{
	fprintf(stderr, "usage: dhcpforge -s SERVER -t discover|request|release|decline "
	                "[-m CHADDR] [-c CIADDR] [-r REQ_IP] [-S SID] [-g GIADDR] [-a ARCH] "
	                "[-l LOCAL_IP] [-p LOCAL_PORT] [-n COUNT]\n");
	exit(2);
}

static int ip_arg(const char *s, struct in_addr *a)
{
	if (inet_pton(AF_INET, s, a) != 1)
		usage();
	return 0;
}

int main(int argc, char **argv)
{
	struct in_addr server = {0}, ciaddr = {0}, req = {0}, sid = {0}, giaddr = {0}, local = {0};
	uint8_t mac[6] = {0x52, 0x54, 0x00, 0xee, 0x00, 0x01};
	const char *type = "discover";
	int arch = -1, port = 0, count = 1, opt;
	while ((opt = getopt(argc, argv, "s:t:m:c:r:S:g:a:l:p:n:")) != -1) {
		switch (opt) {
		case 's':
			ip_arg(optarg, &server);
			break;
		case 't':
			type = optarg;
			break;
		case 'm':
			if (mac_parse(optarg, mac))
				usage();
			break;
		case 'c':
			ip_arg(optarg, &ciaddr);
			break;
		case 'r':
			ip_arg(optarg, &req);
			break;
		case 'S':
			ip_arg(optarg, &sid);
			break;
		case 'g':
			ip_arg(optarg, &giaddr);
			break;
		case 'a':
			arch = atoi(optarg);
			break;
		case 'l':
			ip_arg(optarg, &local);
			break;
		case 'p':
			port = atoi(optarg);
			break;
		case 'n':
			count = atoi(optarg);
			break;
		default:
			usage();
		}
	}
	int t = !strcmp(type, "discover")  ? FB_DHCPDISCOVER
	        : !strcmp(type, "request") ? FB_DHCPREQUEST
	        : !strcmp(type, "release") ? FB_DHCPRELEASE
	        : !strcmp(type, "decline") ? FB_DHCPDECLINE
	                                   : 0;
	if (!server.s_addr || !t || count < 1 || port < 0 || port > 65535)
		usage();
	int fd = socket(AF_INET, SOCK_DGRAM, 0), one = 1;
	if (fd < 0) {
		perror("socket");
		return 2;
	}
	setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &one, sizeof(one));
	struct sockaddr_in me = {
	    .sin_family = AF_INET, .sin_port = htons((uint16_t)port), .sin_addr = local};
	if (bind(fd, (struct sockaddr *)&me, sizeof(me)) < 0) {
		perror("bind");
		return 2;
	}
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	uint32_t xid = (uint32_t)(ts.tv_nsec ^ getpid());
	uint32_t low = (uint32_t)mac[3] << 16 | (uint32_t)mac[4] << 8 | mac[5];
	for (int i = 0; i < count; i++) {
		uint8_t pkt[600], m[6];
		uint32_t k = low + (uint32_t)i;
		memcpy(m, mac, 3);
		m[3] = (uint8_t)(k >> 16);
		m[4] = (uint8_t)(k >> 8);
		m[5] = (uint8_t)k;
		struct fb_wr w = fb_wr_init(pkt, sizeof(pkt));
		fb_wr_u8(&w, 1); /* BOOTREQUEST */
		fb_wr_u8(&w, 1); /* Ethernet */
		fb_wr_u8(&w, 6);
		fb_wr_u8(&w, giaddr.s_addr ? 1 : 0); /* hops */
		fb_wr_be32(&w, xid + (uint32_t)i);
		fb_wr_be16(&w, 0);
		fb_wr_be16(&w, 0);
		fb_wr_be32(&w, ntohl(ciaddr.s_addr));
		fb_wr_zero(&w, 8); /* yiaddr, siaddr */
		fb_wr_be32(&w, ntohl(giaddr.s_addr));
		fb_wr_bytes(&w, m, 6);
		fb_wr_zero(&w, 10 + 64 + 128);
		fb_wr_be32(&w, FB_DHCP_COOKIE);
		fb_dhcp_put_u8(&w, FB_OPT_MSGTYPE, (uint8_t)t);
		if (req.s_addr)
			fb_dhcp_put_ip(&w, FB_OPT_REQ_IP, req);
		if (sid.s_addr)
			fb_dhcp_put_ip(&w, FB_OPT_SERVER_ID, sid);
		if (arch >= 0) {
			uint8_t a[2];
			fb_put_be16(a, (uint16_t)arch);
			fb_dhcp_put(&w, FB_OPT_ARCH, a, 2);
			fb_dhcp_put_str(&w, FB_OPT_VENDOR_CLASS, "PXEClient");
		}
		int n = fb_dhcp_build_end(&w);
		if (n < 0) {
			fprintf(stderr, "dhcpforge: message does not fit\n");
			return 2;
		}
		struct sockaddr_in to = {
		    .sin_family = AF_INET, .sin_port = htons(67), .sin_addr = server};
		if (sendto(fd, pkt, (size_t)n, 0, (struct sockaddr *)&to, sizeof(to)) < 0) {
			perror("sendto");
			return 2;
		}
		if (count > 1 && i % 50 == 49)
			usleep(2000); /* do not overrun the socket buffers */
	}
	close(fd);
	return 0;
}
