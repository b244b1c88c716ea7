/*
 * storm_dhcp.c - a machine's DHCP, three times per boot: the firmware's PXE
 * client (option 93 arch 0, 94, 97 UUID, vendor class PXEClient), iPXE
 * (the same plus user class "iPXE") and the initramfs's udhcpc (vendor
 * class udhcp, host name = machine id). DISCOVER, OFFER, REQUEST, ACK,
 * with the waits doubling on silence, as clients do.
 *
 * Requests go out of a UDP socket bound to 0.0.0.0:68 on the machine's
 * interface, so their frames carry the machine's MAC (which bootd holds
 * against chaddr). The broadcast flag is clear, as iPXE and udhcpc send it:
 * the server answers by unicast to the offered address at chaddr, which
 * only the machine's interface receives, read here from a packet socket
 * (the address is not configured yet, so the IP layer would drop it).
 */
#include <errno.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "buf.h"
#include "byteorder.h"
#include "proto/dhcp.h"
#include "storm.h"

/* A packet socket on the machine's interface that sees only UDP to port
 * 68: a classic BPF program over the IP header (SOCK_DGRAM: offset 0 is
 * the IP header). Bound after the filter is on, so nothing else queues. */
static int rx_socket(struct machine *m)
{
	static struct sock_filter code[] = {
	    BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 9), /* protocol */
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 17, 0, 5),
	    BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 6), /* fragment offset */
	    BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 0x1fff, 3, 0),
	    BPF_STMT(BPF_LDX | BPF_B | BPF_MSH, 0), /* x = header length */
	    BPF_STMT(BPF_LD | BPF_H | BPF_IND, 2),  /* UDP destination port */
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 68, 1, 0),
	    BPF_STMT(BPF_RET | BPF_K, 0),
	    BPF_STMT(BPF_RET | BPF_K, 0xffff),
	};
	struct sock_fprog prog = {.len = sizeof(code) / sizeof(code[0]), .filter = code};
	int fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return storm_fail(m, "packet socket: %s", strerror(errno));
	struct sockaddr_ll ll = {
	    .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_IP), .sll_ifindex = m->ifindex};
	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) < 0 ||
	    bind(fd, (struct sockaddr *)&ll, sizeof(ll)) < 0) {
		close(fd);
		return storm_fail(m, "packet socket on %s: %s", m->ifname, strerror(errno));
	}
	return fd;
}

static int tx_socket(struct machine *m)
{
	if (m->dhcp_fd >= 0)
		return m->dhcp_fd;
	/* Only sends: a filter that accepts nothing keeps its queue empty. */
	static struct sock_filter none[] = {BPF_STMT(BPF_RET | BPF_K, 0)};
	struct sock_fprog prog = {.len = 1, .filter = none};
	int fd = storm_socket(m, SOCK_DGRAM), one = 1;
	if (fd < 0)
		return -1;
	struct sockaddr_in me = {.sin_family = AF_INET, .sin_port = htons(68)};
	setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) < 0 ||
	    bind(fd, (struct sockaddr *)&me, sizeof(me)) < 0) {
		close(fd);
		return storm_fail(m, "bind 0.0.0.0:68 on %s: %s", m->ifname, strerror(errno));
	}
	return m->dhcp_fd = fd;
}

static int build(struct machine *m, enum dhcp_kind kind, int type, uint32_t xid, struct in_addr req,
                 struct in_addr sid, uint8_t *pkt, size_t cap)
{
	struct fb_wr w = fb_wr_init(pkt, cap);
	uint64_t secs = storm_now() / 1000000;
	fb_wr_u8(&w, 1); /* BOOTREQUEST */
	fb_wr_u8(&w, 1); /* Ethernet */
	fb_wr_u8(&w, 6);
	fb_wr_u8(&w, 0);
	fb_wr_be32(&w, xid);
	fb_wr_be16(&w, (uint16_t)(secs > 0xffff ? 0xffff : secs));
	fb_wr_be16(&w, 0);  /* no broadcast flag: unicast replies */
	fb_wr_zero(&w, 16); /* ciaddr, yiaddr, siaddr, giaddr */
	fb_wr_bytes(&w, m->mac, 6);
	fb_wr_zero(&w, 10 + 64 + 128);
	fb_wr_be32(&w, FB_DHCP_COOKIE);
	fb_dhcp_put_u8(&w, FB_OPT_MSGTYPE, (uint8_t)type);
	if (type == FB_DHCPREQUEST) {
		fb_dhcp_put_ip(&w, FB_OPT_REQ_IP, req);
		fb_dhcp_put_ip(&w, FB_OPT_SERVER_ID, sid);
	}
	if (kind == DHCP_OS) {
		static const uint8_t prl[] = {1, 3, 6, 12, 15, 28, 42};
		fb_dhcp_put(&w, FB_OPT_PRL, prl, sizeof(prl));
		fb_dhcp_put_str(&w, FB_OPT_VENDOR_CLASS, "udhcp 1.35.0");
		fb_dhcp_put_str(&w, FB_OPT_HOSTNAME, m->macid);
	} else {
		static const uint8_t prl[] = {1,  3,   6,   12,  15,  17,  43,  60,  66, 67,
		                              97, 128, 129, 130, 131, 132, 133, 134, 135};
		uint8_t max[2], arch[2] = {0, 0}, ndi[3] = {1, 2, 1}, uuid[17] = {0};
		fb_put_be16(max, 1260);
		memcpy(uuid + 11, m->mac, 6);
		fb_dhcp_put(&w, FB_OPT_MAXSIZE, max, 2);
		fb_dhcp_put(&w, FB_OPT_PRL, prl, sizeof(prl));
		fb_dhcp_put(&w, FB_OPT_ARCH, arch, 2);
		fb_dhcp_put(&w, FB_OPT_NDI, ndi, 3);
		fb_dhcp_put(&w, FB_OPT_UUID, uuid, sizeof(uuid));
		fb_dhcp_put_str(&w, FB_OPT_VENDOR_CLASS, "PXEClient:Arch:00000:UNDI:002001");
		if (kind == DHCP_IPXE)
			fb_dhcp_put_str(&w, FB_OPT_USER_CLASS, "iPXE");
	}
	return fb_dhcp_build_end(&w);
}

/* Wait up to ms for a reply of this xid to this machine. 1 got one, 0 none. */
static int wait_reply(struct machine *m, int rx, uint32_t xid, int ms, struct fb_dhcp_msg *r)
{
	uint64_t end = storm_now() + (uint64_t)ms * 1000;
	for (;;) {
		uint64_t now = storm_now();
		if (now >= end)
			return 0;
		struct pollfd p = {rx, POLLIN, 0};
		if (poll(&p, 1, (int)((end - now + 999) / 1000)) <= 0)
			continue;
		uint8_t in[2048];
		ssize_t k = recv(rx, in, sizeof(in), 0);
		if (k < 28)
			continue;
		size_t ihl = (size_t)(in[0] & 15) * 4;
		if ((size_t)k < ihl + 8 || fb_get_be16(in + ihl + 2) != 68)
			continue;
		m->bytes[PR_DHCP] += (uint64_t)k;
		if (fb_dhcp_parse(r, in + ihl + 8, (size_t)k - ihl - 8, NULL) < 0 || r->op != 2 ||
		    r->xid != xid || memcmp(r->chaddr, m->mac, 6))
			continue;
		return 1;
	}
}

/* Put the leased address on the machine's interface (what PXE, iPXE and
 * the kernel each do), so its TFTP, HTTP and NBD go out from it. */
static int configure(struct machine *m, int fd, struct in_addr ip, struct in_addr mask)
{
	if (m->ip_set && m->ip.s_addr == ip.s_addr)
		return 0;
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, m->ifname, sizeof(ifr.ifr_name));
	struct sockaddr_in *sa = (struct sockaddr_in *)&ifr.ifr_addr;
	sa->sin_family = AF_INET;
	sa->sin_addr = ip;
	if (ioctl(fd, SIOCSIFADDR, &ifr) < 0)
		return storm_fail(m, "set address on %s: %s", m->ifname, strerror(errno));
	sa->sin_addr = mask;
	if (ioctl(fd, SIOCSIFNETMASK, &ifr) < 0)
		return storm_fail(m, "set netmask on %s: %s", m->ifname, strerror(errno));
	m->ip = ip;
	m->mask = mask;
	m->ip_set = 1;
	return 0;
}

int storm_dhcp(struct machine *m, enum dhcp_kind kind)
{
	int tx = tx_socket(m), rx = -1, rc = -1;
	if (tx < 0)
		return -1;
	if ((rx = rx_socket(m)) < 0)
		return -1;
	static __thread struct fb_dhcp_msg r;
	uint32_t xid = (uint32_t)(m->idx * 7919u + (unsigned)kind * 104729u + 1u);
	struct in_addr yi = {0}, sid = {0};
	struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(67)};
	to.sin_addr.s_addr = INADDR_BROADCAST;
	int type = FB_DHCPDISCOVER, wait = m->cfg->timeout_ms;
	for (int attempt = 0;; attempt++) {
		if (attempt >= m->cfg->tries) {
			storm_fail(m, "no DHCP %s after %d tries",
			           type == FB_DHCPDISCOVER ? "OFFER" : "ACK", attempt);
			goto out;
		}
		if (attempt)
			m->retries++;
		uint8_t pkt[600];
		int n = build(m, kind, type, xid, yi, sid, pkt, sizeof(pkt));
		if (n < 0 ||
		    sendto(tx, pkt, (size_t)n, 0, (struct sockaddr *)&to, sizeof(to)) < 0) {
			storm_fail(m, "DHCP send: %s", n < 0 ? "too long" : strerror(errno));
			goto out;
		}
		m->bytes[PR_DHCP] += (uint64_t)n;
		if (!wait_reply(m, rx, xid, wait, &r)) {
			wait *= 2;
			continue;
		}
		if (r.type == FB_DHCPNAK) { /* start over, as a client does */
			type = FB_DHCPDISCOVER;
			continue;
		}
		if (type == FB_DHCPDISCOVER && r.type == FB_DHCPOFFER) {
			if (fb_dhcp_opt_ip(&r, FB_OPT_SERVER_ID, &sid) < 0 || !r.yiaddr.s_addr) {
				storm_fail(m, "OFFER without an address or server id");
				goto out;
			}
			yi = r.yiaddr;
			type = FB_DHCPREQUEST;
			attempt = -1; /* a fresh count for the REQUEST */
			wait = m->cfg->timeout_ms;
			xid++;
			continue;
		}
		if (type == FB_DHCPREQUEST && r.type == FB_DHCPACK)
			break;
	}
	struct in_addr mask = {htonl(0xffffff00u)};
	fb_dhcp_opt_ip(&r, FB_OPT_SUBNET, &mask);
	m->server = r.siaddr.s_addr ? r.siaddr : sid;
	/* The boot file is in the header, or in option 67 when the server put
	 * it there (dnsmasq does, for clients that list 67). */
	snprintf(m->boot_file, sizeof(m->boot_file), "%s", r.file);
	if (!m->boot_file[0])
		fb_dhcp_opt_str(&r, 67, m->boot_file, sizeof(m->boot_file));
	if (kind == DHCP_IPXE)
		snprintf(m->script_url, sizeof(m->script_url), "%s", m->boot_file);
	rc = configure(m, tx, r.yiaddr, mask);
out:
	close(rx);
	return rc;
}
