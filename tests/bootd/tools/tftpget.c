/*
 * tftpget.c - a TFTP read client for tests and benchmarks: blksize and
 * windowsize (RFC 7440, which curl and tftp-hpa lack), optional simulated
 * loss, and many transfers at once from one process (so a benchmark of
 * 1000 simultaneous transfers measures the server, not process start-up).
 *
 *   tftpget [-b BLKSIZE] [-w WINDOW] [-n COUNT] [-d DROP_EVERY] [-x] [-p] [-o OUT]
 *           SERVER FILE
 *
 * -p polls the sockets without ever sleeping, as PXE firmware polls its
 * NIC: a reply is then taken the moment it arrives, with no wake-up.
 *
 * -x sends every ACK twice and counts DATA blocks that arrive twice: a
 * server with the Sorcerer's Apprentice bug answers each duplicate ACK.
 *
 * Prints "ok COUNT transfers BYTES bytes SECONDS s MB/s" and exits 0 when
 * every transfer completed with the size the server announced (tsize).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/udp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "byteorder.h"
#include "clock.h"
#include "proto/tftp.h"

struct tx {
	int fd;
	int done, failed;
	unsigned blksize, window;
	uint64_t tsize, bytes;
	uint16_t last;     /* last in-order block received */
	unsigned inwin;    /* blocks received since the last ACK */
	uint64_t last_rx;  /* monotonic ms */
	uint64_t last_nag; /* when an ACK was last repeated after silence */
	uint64_t rrq_sent; /* when the request was last sent */
	int got_first;
	struct sockaddr_in peer; /* the server's transfer port once known */
	unsigned drops;
};

static unsigned drop_every;
static int dup_acks;           /* -x: send every ACK twice */
static int poll_only;          /* -p: never sleep in epoll_wait */
static unsigned long dup_data; /* DATA blocks received more than once */
static int outfd = -1;

static void send_ack(struct tx *t, uint16_t blk)
{
	uint8_t a[4];
	fb_tftp_build_ack(a, sizeof(a), blk);
	sendto(t->fd, a, 4, 0, (struct sockaddr *)&t->peer, sizeof(t->peer));
	if (dup_acks)
		sendto(t->fd, a, 4, 0, (struct sockaddr *)&t->peer, sizeof(t->peer));
	t->inwin = 0;
}

static void on_packet(struct tx *t, uint8_t *p, size_t n, struct sockaddr_in *from)
{
	int op = fb_tftp_opcode(p, n);
	t->peer = *from;
	t->last_rx = fb_mono_ms();
	if (op == FB_TFTP_ERROR) {
		uint16_t code;
		char msg[128];
		fb_tftp_parse_error(p, n, &code, msg, sizeof(msg));
		fprintf(stderr, "tftpget: error %u: %s\n", code, msg);
		t->failed = 1;
		return;
	}
	if (op == FB_TFTP_OACK) {
		/* Parse the accepted options: name\0value\0 pairs. */
		size_t i = 2;
		while (i < n) {
			const char *name = (const char *)p + i;
			size_t nl = strnlen(name, n - i);
			if (i + nl + 1 >= n)
				break;
			const char *val = name + nl + 1;
			size_t vl = strnlen(val, n - i - nl - 1);
			if (!strcasecmp(name, "blksize"))
				t->blksize = (unsigned)atoi(val);
			else if (!strcasecmp(name, "windowsize"))
				t->window = (unsigned)atoi(val);
			else if (!strcasecmp(name, "tsize"))
				t->tsize = strtoull(val, NULL, 10);
			i += nl + 1 + vl + 1;
		}
		send_ack(t, 0);
		return;
	}
	if (op != FB_TFTP_DATA || n < 4)
		return;
	uint16_t blk = fb_get_be16(p + 2);
	if (drop_every && ++t->drops % drop_every == 0)
		return; /* simulated loss */
	if (blk != (uint16_t)(t->last + 1)) {
		/* Out of order or duplicate: tell the server where we are
		 * (RFC 7440: ACK the last block received in order). */
		if (blk != t->last)
			send_ack(t, t->last);
		else
			dup_data++;
		return;
	}
	size_t len = n - 4;
	if (outfd >= 0 && len) {
		if (pwrite(outfd, p + 4, len, (off_t)t->bytes) != (ssize_t)len) {
			perror("tftpget: write");
			t->failed = 1;
			return;
		}
	}
	t->bytes += len;
	t->last = blk;
	t->inwin++;
	if (len < t->blksize) {
		send_ack(t, blk);
		t->done = 1;
		return;
	}
	if (t->inwin >= t->window)
		send_ack(t, blk);
}

int main(int argc, char **argv)
{
	unsigned blksize = 0, window = 0, count = 1;
	const char *out = NULL;
	int opt;
	while ((opt = getopt(argc, argv, "b:w:n:d:o:xp")) != -1) {
		switch (opt) {
		case 'b':
			blksize = (unsigned)atoi(optarg);
			break;
		case 'w':
			window = (unsigned)atoi(optarg);
			break;
		case 'n':
			count = (unsigned)atoi(optarg);
			break;
		case 'd':
			drop_every = (unsigned)atoi(optarg);
			break;
		case 'o':
			out = optarg;
			break;
		case 'x':
			dup_acks = 1;
			break;
		case 'p':
			poll_only = 1;
			break;
		default:
			goto usage;
		}
	}
	if (argc - optind != 2 || !count) {
	usage:
		fprintf(
		    stderr,
		    "usage: tftpget [-b BLKSIZE] [-w WINDOW] [-n COUNT] [-d N] [-x] [-p] [-o OUT] "
		    "SERVER FILE\n");
		return 2;
	}
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (out) {
		outfd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (outfd < 0) {
			perror(out);
			return 2;
		}
	}
	struct sockaddr_in srv = {.sin_family = AF_INET, .sin_port = htons(69)};
	if (inet_pton(AF_INET, argv[optind], &srv.sin_addr) != 1)
		goto usage;
	struct fb_tftp_oack o = {.blksize = blksize, .has_tsize = 1, .windowsize = window};
	uint8_t rrq[600];
	int rl_len = fb_tftp_build_rrq(rrq, sizeof(rrq), argv[optind + 1], "octet", &o);
	struct tx *tx = calloc(count, sizeof(*tx));
	int ep = epoll_create1(0);
	uint64_t t0 = fb_mono_ms(), t0_us = fb_mono_us();
	for (unsigned i = 0; i < count; i++) {
		tx[i].fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
		if (tx[i].fd < 0) {
			perror("socket");
			return 2;
		}
		int sz = 4 << 20;
		setsockopt(tx[i].fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
		int one = 1; /* take GSO bursts whole where the kernel can */
		setsockopt(tx[i].fd, SOL_UDP, UDP_GRO, &one, sizeof(one));
		tx[i].blksize = 512;
		tx[i].window = 1;
		tx[i].peer = srv;
		tx[i].last_rx = t0;
		tx[i].rrq_sent = t0;
		struct epoll_event ev = {.events = EPOLLIN, .data.u32 = i};
		epoll_ctl(ep, EPOLL_CTL_ADD, tx[i].fd, &ev);
		sendto(tx[i].fd, rrq, (size_t)rl_len, 0, (struct sockaddr *)&srv, sizeof(srv));
	}
	unsigned finished = 0;
	static uint8_t bufs[32][65536 + 4];
	while (finished < count) {
		struct epoll_event evs[256];
		int n = epoll_wait(ep, evs, 256, poll_only ? 0 : 200);
		for (int k = 0; k < n; k++) {
			struct tx *t = &tx[evs[k].data.u32];
			/* recvmmsg: one system call for a whole burst of a window;
			 * with UDP_GRO a message may hold several datagrams of
			 * the size the control message gives. */
			for (;;) {
				struct mmsghdr mm[32];
				struct iovec iov[32];
				struct sockaddr_in from[32];
				union {
					char buf[CMSG_SPACE(sizeof(int))];
					struct cmsghdr align;
				} cm[32];
				memset(mm, 0, sizeof(mm));
				for (int j = 0; j < 32; j++) {
					iov[j].iov_base = bufs[j];
					iov[j].iov_len = sizeof(bufs[j]);
					mm[j].msg_hdr.msg_iov = &iov[j];
					mm[j].msg_hdr.msg_iovlen = 1;
					mm[j].msg_hdr.msg_name = &from[j];
					mm[j].msg_hdr.msg_namelen = sizeof(from[j]);
					mm[j].msg_hdr.msg_control = cm[j].buf;
					mm[j].msg_hdr.msg_controllen = sizeof(cm[j].buf);
				}
				int got = recvmmsg(t->fd, mm, 32, MSG_DONTWAIT, NULL);
				if (got <= 0)
					break;
				for (int j = 0; j < got; j++) {
					size_t len = mm[j].msg_len, seg = len;
					struct cmsghdr *c = CMSG_FIRSTHDR(&mm[j].msg_hdr);
					if (c && c->cmsg_level == SOL_UDP &&
					    c->cmsg_type == UDP_GRO) {
						int gs;
						memcpy(&gs, CMSG_DATA(c), sizeof(gs));
						if (gs > 0)
							seg = (size_t)gs;
					}
					for (size_t at = 0; at < len; at += seg) {
						if (t->done || t->failed)
							break;
						size_t l = len - at < seg ? len - at : seg;
						on_packet(t, bufs[j] + at, l, &from[j]);
						if (t->done || t->failed)
							finished++;
					}
				}
			}
		}
		/* Re-ACK after silence (lost packets), give up after 15 s. */
		uint64_t now = fb_mono_ms();
		for (unsigned i = 0; i < count; i++) {
			struct tx *t = &tx[i];
			if (t->done || t->failed)
				continue;
			if (now - t->last_rx > 15000) {
				fprintf(stderr, "tftpget: transfer %u timed out\n", i);
				t->failed = 1;
				finished++;
			} else if (now - t->last_rx > 100 && now - t->last_nag > 50 &&
			           t->peer.sin_port != srv.sin_port) {
				send_ack(t, t->last);
				t->last_nag = now;
			} else if (now - t->rrq_sent > 1000 && t->peer.sin_port == srv.sin_port) {
				/* No answer to the request yet: ask again, as
				 * firmware does (a busy server may drop some). */
				sendto(t->fd, rrq, (size_t)rl_len, 0, (struct sockaddr *)&srv,
				       sizeof(srv));
				t->rrq_sent = now;
			}
		}
	}
	double secs = (double)(fb_mono_us() - t0_us) / 1e6;
	unsigned ok = 0;
	uint64_t total = 0;
	for (unsigned i = 0; i < count; i++) {
		total += tx[i].bytes;
		if (tx[i].done && !tx[i].failed && (!tx[i].tsize || tx[i].tsize == tx[i].bytes))
			ok++;
		else if (tx[i].done)
			fprintf(stderr, "tftpget: transfer %u: %llu bytes, tsize %llu\n", i,
			        (unsigned long long)tx[i].bytes, (unsigned long long)tx[i].tsize);
	}
	printf("%s %u/%u transfers %llu bytes %.4f s %.1f MB/s\n", ok == count ? "ok" : "FAILED",
	       ok, count, (unsigned long long)total, secs,
	       secs > 0 ? (double)total / secs / 1e6 : 0);
	if (dup_acks)
		printf("duplicate data blocks: %lu\n", dup_data);
	for (unsigned i = 0; i < count; i++)
		close(tx[i].fd);
	free(tx);
	close(ep);
	if (outfd >= 0)
		close(outfd);
	return ok == count ? 0 : 1;
}
