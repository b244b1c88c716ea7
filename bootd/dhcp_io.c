/*
 * dhcp_io.c - bootd's DHCP sockets.
 *
 * Requests are read from one packet socket (AF_PACKET, SOCK_DGRAM, IPv4),
 * as ISC dhcpd's LPF interface does, because only the link layer says who
 * sent a frame: a classic BPF program in the kernel lets through nothing
 * but unfragmented UDP to port 67 or 4011, and each frame arrives with the
 * interface it came in on and its Ethernet source address, which dhcp.c
 * holds against the message's chaddr. The socket is not bound to one
 * interface: an interface that appears after start-up is served as soon as
 * iface.c sees it, and frames on interfaces not configured are dropped.
 *
 * The UDP sockets on 67 and 4011 stay: they hold the ports (no ICMP "port
 * unreachable" to clients) and send every reply, with IP_PKTINFO choosing
 * the interface and source address. What they would receive is dropped in
 * the kernel by a filter that accepts nothing, so nothing queues there.
 */
#include <errno.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <stdarg.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bootd.h"
#include "byteorder.h"
#include "clock.h"
#include "log.h"
#include "proto/dhcp.h"

#define PXE_PORT 4011

static int attach(int fd, struct sock_filter *code, unsigned short n)
{
	struct sock_fprog prog = {.len = n, .filter = code};
	return setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog));
}

/* Send-only UDP socket on port: a filter that accepts nothing goes on
 * before the bind, so not one datagram ever waits in it. */
static int open_udp(int port)
{
	struct sock_filter none[] = {BPF_STMT(BPF_RET | BPF_K, 0)};
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &one, sizeof(one));
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	if (attach(fd, none, 1) < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/* The packet socket. Offsets in the filter count from the IP header
 * (SOCK_DGRAM strips the link-layer header). */
static int open_packet(void)
{
	struct sock_filter code[] = {
	    BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 9), /* IP protocol */
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, IPPROTO_UDP, 0, 7),
	    BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 6),              /* flags and fragment offset */
	    BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 0x3fff, 5, 0), /* a fragment */
	    BPF_STMT(BPF_LDX | BPF_B | BPF_MSH, 0),             /* X = IP header length */
	    BPF_STMT(BPF_LD | BPF_H | BPF_IND, 2),              /* UDP destination port */
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 67, 1, 0),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PXE_PORT, 0, 1),
	    BPF_STMT(BPF_RET | BPF_K, 0xffff),
	    BPF_STMT(BPF_RET | BPF_K, 0),
	};
	/* Protocol 0 receives nothing until the bind below, by which time the
	 * filter is in place. */
	int fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	int sz = 4 << 20, one = 1;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	setsockopt(fd, SOL_PACKET, PACKET_AUXDATA, &one, sizeof(one));
	struct sockaddr_ll sl = {.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_IP)};
	if (attach(fd, code, sizeof(code) / sizeof(code[0])) < 0 ||
	    bind(fd, (struct sockaddr *)&sl, sizeof(sl)) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

static uint32_t sum16(const uint8_t *p, size_t n, uint32_t sum)
{
	for (; n > 1; p += 2, n -= 2)
		sum += fb_get_be16(p);
	if (n)
		sum += (uint32_t)p[0] << 8;
	return sum;
}

static uint16_t fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* Check an IPv4+UDP datagram and find its DHCP payload (csum_ok: the
 * kernel vouches for the UDP checksum). 0, or -1 with why. */
static int parse_ip_udp(const uint8_t *p, size_t n, int csum_ok, struct dhcp_frame *f,
                        const char **why)
{
	if (n < 20 || (p[0] >> 4) != 4) {
		*why = "not IPv4";
		return -1;
	}
	size_t ihl = (size_t)(p[0] & 15) * 4, tot = fb_get_be16(p + 2);
	if (ihl < 20 || tot < ihl + 8 || tot > n) {
		*why = "bad IP lengths";
		return -1;
	}
	if (p[9] != IPPROTO_UDP || (fb_get_be16(p + 6) & 0x3fff)) {
		*why = "not an unfragmented UDP datagram";
		return -1;
	}
	if (fold(sum16(p, ihl, 0)) != 0xffff) {
		*why = "bad IP header checksum";
		return -1;
	}
	const uint8_t *u = p + ihl;
	size_t ulen = fb_get_be16(u + 4);
	if (ulen < 8 || ulen > tot - ihl) {
		*why = "bad UDP length";
		return -1;
	}
	if (!csum_ok && fb_get_be16(u + 6)) {
		/* Pseudo header: source, destination, protocol, UDP length. */
		uint32_t sum = sum16(p + 12, 8, 0) + IPPROTO_UDP + (uint32_t)ulen;
		if (fold(sum16(u, ulen, sum)) != 0xffff) {
			*why = "bad UDP checksum";
			return -1;
		}
	}
	memcpy(&f->src.sin_addr.s_addr, p + 12, 4);
	f->src.sin_family = AF_INET;
	f->src.sin_port = htons(fb_get_be16(u));
	f->pxe_port = fb_get_be16(u + 2) == PXE_PORT;
	f->data = u + 8;
	f->len = ulen - 8;
	return 0;
}

static void on_frames(struct fb_loop *l, int fd, uint32_t events, void *arg)
{
	struct bootd *b = arg;
	for (int i = 0; i < 64; i++) {
		uint8_t buf[FB_DHCP_MAX_LEN + 64];
		struct sockaddr_ll sl;
		union {
			char buf[CMSG_SPACE(sizeof(struct tpacket_auxdata))];
			struct cmsghdr align;
		} cm;
		struct iovec iov = {buf, sizeof(buf)};
		struct msghdr mh = {.msg_name = &sl,
		                    .msg_namelen = sizeof(sl),
		                    .msg_iov = &iov,
		                    .msg_iovlen = 1,
		                    .msg_control = cm.buf,
		                    .msg_controllen = sizeof(cm.buf)};
		ssize_t n = recvmsg(fd, &mh, MSG_DONTWAIT | MSG_TRUNC);
		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR)
				log_warn("recvfrom");
			return;
		}
		/* Our own replies (outgoing) and frames for other hosts seen
		 * by a promiscuous interface are not requests to us. */
		if (sl.sll_pkttype == PACKET_OUTGOING || sl.sll_pkttype == PACKET_OTHERHOST)
			continue;
		struct bootd_iface *ifc = iface_by_index(b, sl.sll_ifindex);
		if (!ifc || !ifc->addr.s_addr) {
			log_debug("ignoring DHCP on interface %d (not served)", sl.sll_ifindex);
			continue;
		}
		if ((size_t)n > sizeof(buf)) {
			log_debug("oversized DHCP frame on %s", ifc->name);
			continue;
		}
		if (sl.sll_halen != 6) {
			log_debug("DHCP frame without an Ethernet source on %s", ifc->name);
			continue;
		}
		/* A frame from this host's own stack (a veth peer, a tap) may
		 * carry a UDP checksum still to be filled in by offload. */
		int csum_ok = 0;
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
			if (c->cmsg_level == SOL_PACKET && c->cmsg_type == PACKET_AUXDATA) {
				struct tpacket_auxdata ax;
				memcpy(&ax, CMSG_DATA(c), sizeof(ax));
				csum_ok = !!(ax.tp_status &
				             (TP_STATUS_CSUMNOTREADY | TP_STATUS_CSUM_VALID));
			}
		struct dhcp_frame f;
		memset(&f, 0, sizeof(f));
		const char *why;
		if (parse_ip_udp(buf, (size_t)n, csum_ok, &f, &why) < 0) {
			log_debug("dropped a frame on %s: %s", ifc->name, why);
			continue;
		}
		memcpy(f.src_mac, sl.sll_addr, 6);
		dhcp_frame_in(b, ifc, &f);
	}
}

int udp_send_via(int fd, const void *pkt, size_t len, const struct sockaddr_in *dst, int ifindex,
                 struct in_addr src)
{
	union {
		char buf[CMSG_SPACE(sizeof(struct in_pktinfo))];
		struct cmsghdr align;
	} cm;
	memset(&cm, 0, sizeof(cm));
	struct iovec iov = {(void *)pkt, len};
	struct msghdr mh = {.msg_name = (void *)dst,
	                    .msg_namelen = sizeof(*dst),
	                    .msg_iov = &iov,
	                    .msg_iovlen = 1,
	                    .msg_control = cm.buf,
	                    .msg_controllen = sizeof(cm.buf)};
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = IPPROTO_IP;
	c->cmsg_type = IP_PKTINFO;
	c->cmsg_len = CMSG_LEN(sizeof(struct in_pktinfo));
	struct in_pktinfo *pi = (struct in_pktinfo *)CMSG_DATA(c);
	pi->ipi_ifindex = ifindex;
	pi->ipi_spec_dst = src;
	return sendmsg(fd, &mh, 0) < 0 ? -1 : 0;
}

int dhcp_send(struct bootd *b, int pxe_port, const void *pkt, size_t len,
              const struct sockaddr_in *dst, int ifindex, struct in_addr src)
{
	return udp_send_via(pxe_port ? b->pxe_fd : b->dhcp_fd, pkt, len, dst, ifindex, src);
}

static void on_iface_timer(struct fb_loop *l, void *arg)
{
	struct bootd *b = arg;
	iface_refresh(b);
	fb_timer_arm(l, &b->iface_timer, 5000);
}

int dhcp_open(struct bootd *b)
{
	b->dhcp_fd = b->pxe_fd = b->pkt_fd = -1;
	fb_timer_init(&b->iface_timer, on_iface_timer, b);
	fb_timer_arm(b->loop, &b->iface_timer, 5000);
	if (b->cfg.dhcp == FB_DHCP_OFF)
		return 0;
	b->dhcp_fd = open_udp(67);
	if (b->dhcp_fd < 0) {
		log_warn("cannot bind UDP port 67");
		return -1;
	}
	b->pxe_fd = open_udp(PXE_PORT);
	if (b->pxe_fd < 0) {
		log_warn("cannot bind UDP port %d", PXE_PORT);
		return -1;
	}
	b->pkt_fd = open_packet();
	if (b->pkt_fd < 0) {
		log_warn("cannot open a packet socket for DHCP (needs CAP_NET_RAW)");
		return -1;
	}
	if (fb_loop_add_fd(b->loop, b->pkt_fd, EPOLLIN, on_frames, b) < 0)
		return -1;
	return 0;
}
