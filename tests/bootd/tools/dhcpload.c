/*
 * dhcpload.c - a closed-loop DHCP load generator for make bench. It acts as
 * a relay agent (giaddr = its own address, port 67) for many clients and
 * keeps a fixed number of four-way exchanges (DISCOVER, OFFER, REQUEST,
 * ACK) in flight: each ACK starts the next exchange at once. It measures
 * how many exchanges per second a server completes when the client is not
 * what limits it, which perfdhcp on a 2-core machine cannot show (it needs
 * a whole core for far fewer exchanges). Each exchange uses the next of N
 * client MACs, so a run touches N leases and then cycles through them.
 *
 *   dhcpload -l LOCAL_IP [-c IN_FLIGHT] [-n CLIENTS] [-t SECONDS] SERVER_IP
 *
 * It polls its socket without sleeping for the length of the run. Output:
 *   ok exchanges N seconds S rate R/s timeouts T naks K
 * Exit status: 0 when at least one exchange completed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "buf.h"
#include "clock.h"
#include "proto/dhcp.h"

#define BATCH      64
#define PKT_LEN    300     /* BOOTP's minimum; what most clients send */
#define TIMEOUT_US 1000000 /* an exchange unanswered this long starts over */

enum { IDLE, DISCOVERING, REQUESTING };

struct slot {
	int state;
	uint32_t xid; /* (generation << 16) | slot index */
	uint64_t sent_us;
	uint8_t mac[6];
};

static struct in_addr relay;
static uint64_t next_client, n_clients = 100000;

struct out_q {
	struct mmsghdr mm[BATCH * 2];
	struct iovec iov[BATCH * 2];
	uint8_t pkt[BATCH * 2][PKT_LEN];
	unsigned n;
};

static void usage(void)
{
	fprintf(stderr, "usage: dhcpload -l LOCAL_IP [-c IN_FLIGHT] [-n CLIENTS] [-t SECONDS] "
	                "SERVER_IP\n");
	exit(2);
}

/* A relayed request from the slot's client; REQUEST names the offer. */
static size_t build(uint8_t *pkt, const struct slot *s, int type, struct in_addr yiaddr,
                    struct in_addr sid)
{
	struct fb_wr w = fb_wr_init(pkt, PKT_LEN);
	fb_wr_u8(&w, 1); /* BOOTREQUEST */
	fb_wr_u8(&w, 1); /* Ethernet */
	fb_wr_u8(&w, 6);
	fb_wr_u8(&w, 1); /* hops: one relay */
	fb_wr_be32(&w, s->xid);
	fb_wr_be16(&w, 0);
	fb_wr_be16(&w, 0);
	fb_wr_zero(&w, 12); /* ciaddr, yiaddr, siaddr */
	fb_wr_be32(&w, ntohl(relay.s_addr));
	fb_wr_bytes(&w, s->mac, 6);
	fb_wr_zero(&w, 10 + 64 + 128);
	fb_wr_be32(&w, FB_DHCP_COOKIE);
	fb_dhcp_put_u8(&w, FB_OPT_MSGTYPE, (uint8_t)type);
	if (type == FB_DHCPREQUEST) {
		fb_dhcp_put_ip(&w, FB_OPT_REQ_IP, yiaddr);
		fb_dhcp_put_ip(&w, FB_OPT_SERVER_ID, sid);
	}
	const uint8_t prl[] = {1, 3, 6, 51, 54};
	fb_dhcp_put(&w, FB_OPT_PRL, prl, sizeof(prl));
	fb_wr_u8(&w, FB_OPT_END);
	if (w.off < PKT_LEN)
		fb_wr_zero(&w, PKT_LEN - w.off);
	return w.off;
}

static void queue(struct out_q *q, struct slot *s, int type, struct in_addr yiaddr,
                  struct in_addr sid)
{
	if (q->n == BATCH * 2)
		return; /* cannot happen: at most two per reply in a batch of BATCH */
	q->iov[q->n].iov_base = q->pkt[q->n];
	q->iov[q->n].iov_len = build(q->pkt[q->n], s, type, yiaddr, sid);
	q->n++;
	s->state = type == FB_DHCPDISCOVER ? DISCOVERING : REQUESTING;
	s->sent_us = fb_mono_us();
}

/* The slot's next exchange: a new xid and the next client's MAC. */
static void start(struct out_q *q, struct slot *s, unsigned idx)
{
	uint64_t c = next_client++ % n_clients;
	s->xid = (((s->xid >> 16) + 1) << 16) | idx;
	const uint8_t mac[6] = {
	    0x02, 0x4c, (uint8_t)(c >> 24), (uint8_t)(c >> 16), (uint8_t)(c >> 8), (uint8_t)c};
	memcpy(s->mac, mac, 6);
	struct in_addr none = {0};
	queue(q, s, FB_DHCPDISCOVER, none, none);
}

static void flush(int fd, struct out_q *q, const struct sockaddr_in *to)
{
	for (unsigned i = 0; i < q->n; i++) {
		memset(&q->mm[i].msg_hdr, 0, sizeof(q->mm[i].msg_hdr));
		q->mm[i].msg_hdr.msg_name = (void *)to;
		q->mm[i].msg_hdr.msg_namelen = sizeof(*to);
		q->mm[i].msg_hdr.msg_iov = &q->iov[i];
		q->mm[i].msg_hdr.msg_iovlen = 1;
	}
	unsigned done = 0;
	while (done < q->n) {
		int k = sendmmsg(fd, q->mm + done, q->n - done, 0);
		if (k <= 0) {
			if (k < 0 && errno != EINTR && errno != EAGAIN && errno != ENOBUFS)
				perror("sendmmsg");
			break; /* the lost ones time out and start over */
		}
		done += (unsigned)k;
	}
	q->n = 0;
}

int main(int argc, char **argv)
{
	unsigned conc = 64, secs = 10;
	const char *local = NULL;
	int opt;
	while ((opt = getopt(argc, argv, "l:c:n:t:")) != -1) {
		switch (opt) {
		case 'l':
			local = optarg;
			break;
		case 'c':
			conc = (unsigned)atoi(optarg);
			break;
		case 'n':
			n_clients = (uint64_t)atoll(optarg);
			break;
		case 't':
			secs = (unsigned)atoi(optarg);
			break;
		default:
			usage();
		}
	}
	if (!local || optind != argc - 1 || conc < 1 || conc > 65535 || !n_clients || !secs ||
	    n_clients > 1u << 24)
		usage();
	struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(67)};
	if (inet_pton(AF_INET, local, &relay) != 1 ||
	    inet_pton(AF_INET, argv[optind], &to.sin_addr) != 1)
		usage();

	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0), one = 1, rcv = 4 << 20;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
	struct sockaddr_in me = {.sin_family = AF_INET, .sin_port = htons(67), .sin_addr = relay};
	if (fd < 0 || bind(fd, (struct sockaddr *)&me, sizeof(me)) < 0) {
		perror("dhcpload: bind to port 67");
		return 2;
	}

	struct slot *slots = calloc(conc, sizeof(*slots));
	static struct out_q q;
	static uint8_t in[BATCH][FB_DHCP_MAX_LEN];
	static struct fb_dhcp_msg m;
	struct mmsghdr mm[BATCH];
	struct iovec iov[BATCH];
	if (!slots)
		return 2;
	uint64_t exchanges = 0, timeouts = 0, naks = 0;
	uint64_t t0 = fb_mono_us(), end = t0 + (uint64_t)secs * 1000000, last_scan = t0;
	for (unsigned i = 0; i < conc; i++) {
		start(&q, &slots[i], i);
		if (q.n == BATCH)
			flush(fd, &q, &to);
	}
	flush(fd, &q, &to);

	for (;;) {
		for (unsigned i = 0; i < BATCH; i++) {
			iov[i] = (struct iovec){in[i], sizeof(in[i])};
			memset(&mm[i].msg_hdr, 0, sizeof(mm[i].msg_hdr));
			mm[i].msg_hdr.msg_iov = &iov[i];
			mm[i].msg_hdr.msg_iovlen = 1;
		}
		int n = recvmmsg(fd, mm, BATCH, 0, NULL);
		uint64_t now = fb_mono_us();
		if (now >= end)
			break;
		for (int i = 0; i < n; i++) {
			if (fb_dhcp_parse(&m, in[i], mm[i].msg_len, NULL) < 0 || m.op != 2)
				continue;
			unsigned idx = m.xid & 0xffff;
			if (idx >= conc || slots[idx].xid != m.xid)
				continue; /* late answer to an exchange that timed out */
			struct slot *s = &slots[idx];
			struct in_addr sid = {0};
			if (m.type == FB_DHCPOFFER && s->state == DISCOVERING) {
				fb_dhcp_opt_ip(&m, FB_OPT_SERVER_ID, &sid);
				queue(&q, s, FB_DHCPREQUEST, m.yiaddr, sid);
			} else if (m.type == FB_DHCPACK && s->state == REQUESTING) {
				exchanges++;
				start(&q, s, idx);
			} else if (m.type == FB_DHCPNAK && s->state == REQUESTING) {
				naks++;
				start(&q, s, idx);
			}
		}
		if (now - last_scan > 10000) {
			last_scan = now;
			for (unsigned i = 0; i < conc; i++)
				if (slots[i].sent_us + TIMEOUT_US < now) {
					timeouts++;
					start(&q, &slots[i], i);
					if (q.n == BATCH)
						flush(fd, &q, &to);
				}
		}
		if (q.n)
			flush(fd, &q, &to);
	}
	double s = (double)(fb_mono_us() - t0) / 1e6;
	printf("ok exchanges %llu seconds %.2f rate %.0f/s timeouts %llu naks %llu\n",
	       (unsigned long long)exchanges, s, (double)exchanges / s,
	       (unsigned long long)timeouts, (unsigned long long)naks);
	free(slots);
	close(fd);
	return exchanges ? 0 : 1;
}
