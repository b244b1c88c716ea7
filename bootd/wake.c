/*
 * wake.c - Wake-on-LAN: bootd sends the magic packets the CLI and web ask
 * for (db/wake.c holds the queue between them).
 *
 * Out of every configured interface that exists, each request goes twice:
 * as a UDP datagram to 255.255.255.255 port 9 (IP_PKTINFO picks the
 * interface) and as a raw Ethernet frame, EtherType 0x0842, to
 * ff:ff:ff:ff:ff:ff (a packet socket; the kernel fills in the source
 * address). Firmware that listens for either wakes. The packet socket
 * needs CAP_NET_RAW, so wake_open runs before the privilege drop; without
 * it (bootd not started as root) only the UDP datagrams go, and each
 * request's result says so.
 *
 * Threads: the writer thread takes queued requests from the database and
 * hands them over here (wake_submit); the main thread, which owns the
 * interface table, sends them from its event loop (an eventfd wakes it)
 * and queues the outcome and a `wake` event back to the writer.
 */
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bootd.h"
#include "log.h"
#include "proto/wol.h"
#include "str.h"

struct wake_job {
	int64_t id;
	char mac[FB_MACID_LEN];
	char asked_by[80];
};

static int send_raw(struct bootd *b, int ifindex, const uint8_t *p)
{
	struct sockaddr_ll sl = {.sll_family = AF_PACKET,
	                         .sll_protocol = htons(FB_WOL_ETHERTYPE),
	                         .sll_ifindex = ifindex,
	                         .sll_halen = 6};
	memset(sl.sll_addr, 0xff, 6);
	return sendto(b->wake_pkt_fd, p, FB_WOL_LEN, 0, (struct sockaddr *)&sl, sizeof(sl)) < 0 ? -1
	                                                                                        : 0;
}

static int send_udp(struct bootd *b, const struct bootd_iface *ifc, const uint8_t *p)
{
	struct sockaddr_in dst = {.sin_family = AF_INET,
	                          .sin_port = htons(FB_WOL_UDP_PORT),
	                          .sin_addr.s_addr = htonl(INADDR_BROADCAST)};
	return udp_send_via(b->wake_udp_fd, p, FB_WOL_LEN, &dst, ifc->ifindex, ifc->addr);
}

/* Send one request out of every interface; the result text says what went
 * where. 1 when at least one frame went out. */
static int wake_one(struct bootd *b, const struct wake_job *j, char *res, size_t len)
{
	uint8_t mac[6], pkt[FB_WOL_LEN];
	size_t off = 0;
	int sent = 0;
	res[0] = 0;
	if (mac_parse(j->mac, mac) < 0) {
		snprintf(res, len, "not sent: bad MAC %s", j->mac);
		return 0;
	}
	fb_wol_build(pkt, mac);
	for (int i = 0; i < b->n_ifaces && off < len; i++) {
		const struct bootd_iface *ifc = &b->ifaces[i];
		char u[64], r[64];
		if (!ifc->ifindex) {
			off += (size_t)snprintf(res + off, len - off, "%s%s: not present",
			                        off ? "; " : "", ifc->name);
			continue;
		}
		if (!ifc->addr.s_addr)
			snprintf(u, sizeof(u), "udp not sent (no IPv4 address)");
		else if (send_udp(b, ifc, pkt) < 0)
			snprintf(u, sizeof(u), "udp failed (%s)", strerror(errno));
		else {
			snprintf(u, sizeof(u), "udp 255.255.255.255:9");
			sent = 1;
		}
		if (b->wake_pkt_fd < 0)
			snprintf(r, sizeof(r), "raw not sent (no CAP_NET_RAW at start)");
		else if (send_raw(b, ifc->ifindex, pkt) < 0)
			snprintf(r, sizeof(r), "raw failed (%s)", strerror(errno));
		else {
			snprintf(r, sizeof(r), "raw ethertype 0x0842");
			sent = 1;
		}
		off += (size_t)snprintf(res + off, len - off, "%s%s: %s, %s", off ? "; " : "",
		                        ifc->name, u, r);
	}
	if (!b->n_ifaces)
		snprintf(res, len, "not sent: no [bootd] interface configured");
	return sent;
}

static void on_wake(struct fb_loop *l, int fd, uint32_t events, void *arg)
{
	struct bootd *b = arg;
	uint64_t v;
	if (read(fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		log_warn("wake eventfd");
	pthread_mutex_lock(&b->wake_lock);
	struct wake_job *q = b->wake_q;
	size_t n = b->wake_n;
	b->wake_q = NULL;
	b->wake_n = b->wake_cap = 0;
	pthread_mutex_unlock(&b->wake_lock);
	for (size_t i = 0; i < n; i++) {
		char res[256], detail[256];
		int ok = wake_one(b, &q[i], res, sizeof(res));
		log_info("wake %s (request %lld, asked by %s): %s", q[i].mac, (long long)q[i].id,
		         q[i].asked_by, res);
		writer_wake_done(b->wr, q[i].id, ok, res);
		if (ok) {
			snprintf(detail, sizeof(detail), "magic packet, asked by %s: %s",
			         q[i].asked_by, res);
			writer_event(b->wr, q[i].mac, "wake", detail);
		}
	}
	free(q);
}

int wake_submit(struct bootd *b, const struct fb_wake *w)
{
	if (b->wake_evfd < 0)
		return -1;
	pthread_mutex_lock(&b->wake_lock);
	if (b->wake_n == b->wake_cap) {
		size_t cap = b->wake_cap ? b->wake_cap * 2 : 16;
		struct wake_job *q = realloc(b->wake_q, cap * sizeof(*q));
		if (!q) {
			pthread_mutex_unlock(&b->wake_lock);
			return -1;
		}
		b->wake_q = q;
		b->wake_cap = cap;
	}
	struct wake_job *j = &b->wake_q[b->wake_n++];
	j->id = w->id;
	fb_strlcpy(j->mac, w->mac, sizeof(j->mac));
	fb_strlcpy(j->asked_by, w->asked_by, sizeof(j->asked_by));
	pthread_mutex_unlock(&b->wake_lock);
	uint64_t one = 1;
	if (write(b->wake_evfd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		return -1;
	return 0;
}

int wake_open(struct bootd *b)
{
	b->wake_pkt_fd = b->wake_udp_fd = -1;
	b->wake_evfd = -1;
	if (pthread_mutex_init(&b->wake_lock, NULL))
		return -1;
	/* Protocol 0: this socket only sends; nothing is ever queued to it. */
	b->wake_pkt_fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (b->wake_pkt_fd < 0)
		log_warn("Wake-on-LAN: no packet socket (needs CAP_NET_RAW): only UDP "
		         "magic packets will go out");
	b->wake_udp_fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int one = 1;
	if (b->wake_udp_fd < 0 ||
	    setsockopt(b->wake_udp_fd, SOL_SOCKET, SO_BROADCAST, &one, sizeof(one)) < 0) {
		log_warn("Wake-on-LAN: UDP socket");
		return -1;
	}
	/* It only sends: shrink what it could receive to nothing. */
	shutdown(b->wake_udp_fd, SHUT_RD);
	b->wake_evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (b->wake_evfd < 0 || fb_loop_add_fd(b->loop, b->wake_evfd, EPOLLIN, on_wake, b) < 0) {
		log_warn("Wake-on-LAN: eventfd");
		return -1;
	}
	return 0;
}

void wake_close(struct bootd *b)
{
	if (b->wake_evfd >= 0) {
		fb_loop_del_fd(b->loop, b->wake_evfd);
		close(b->wake_evfd);
	}
	if (b->wake_pkt_fd >= 0)
		close(b->wake_pkt_fd);
	if (b->wake_udp_fd >= 0)
		close(b->wake_udp_fd);
	b->wake_evfd = b->wake_pkt_fd = b->wake_udp_fd = -1;
	free(b->wake_q);
	b->wake_q = NULL;
	b->wake_n = b->wake_cap = 0;
}
