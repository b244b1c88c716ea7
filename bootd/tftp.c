/*
 * tftp.c - bootd's read-only TFTP server (RFC 1350, 2347, 2348, 2349, 7440)
 * on the main event loop.
 *
 * Each transfer has its own connected UDP socket (its own TID, as the RFC
 * asks) and an embedded retransmission timer, so thousands run at once
 * without threads. Blocks are counted in 64 bits internally, so the 16-bit
 * block number on the wire simply wraps for large files. A block is sent
 * again only when the timer fires, never because of a duplicate ACK (the
 * Sorcerer's Apprentice bug); with a window (RFC 7440) an ACK inside the
 * window resumes from the block after it.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/udp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "bootd.h"
#include "log.h"
#include "logsafe.h"
#include "proto/tftp.h"
#include "str.h"

#define MAX_RETRIES    6
#define MAX_TIMEOUT_MS 8000
#define MAX_WINDOW     256 /* larger windows are clamped */
#define MAX_TRANSFERS  4000
#define UKI_DETAIL_LEN (FB_NAME_LEN + FB_SHA256_HEX + 48)

struct xfer {
	struct bootd *b;
	struct xfer *next, **pprev; /* b->tftp_xfers */
	int fd;                     /* connected to the client */
	int filefd;
	uint64_t size;
	unsigned blksize, window;
	uint64_t acked;   /* highest block acknowledged (0 = none) */
	uint64_t sent;    /* highest block sent */
	uint64_t last;    /* number of the final (short) block */
	int oack_pending; /* waiting for ACK 0 */
	int oack_len;
	uint8_t oack[128];
	unsigned timeout_ms, base_timeout_ms, retries;
	int event_done;
	char uki[UKI_DETAIL_LEN]; /* a signed UKI: its uki-served event at the end */
	int dup_ok;               /* a repeated ACK may restart this window once */
	int no_gso;               /* UDP GSO failed on this transfer's path */
	struct fb_timer timer;
	struct sockaddr_in peer;
	char name[FB_LOG_ESCAPE_LEN]; /* the file asked for, escaped for logs and events */
	uint8_t *buf;                 /* blksize + 4 */
	uint8_t *wbuf; /* window data, or lockstep read-ahead; allocated on first use */
	size_t wbuf_cap;
	uint64_t ra_off; /* file offset of the read-ahead in wbuf (lockstep) */
	size_t ra_len;
	uint64_t wb_first; /* windows: the first block laid out in wbuf */
	uint64_t wb_n;     /* and how many (0: none) */
};

static void xfer_end(struct xfer *x, const char *why)
{
	struct bootd *b = x->b;
	if (why)
		log_debug("%s to %s: %s", x->name, inet_ntoa(x->peer.sin_addr), why);
	fb_timer_disarm(b->loop, &x->timer);
	fb_loop_del_fd(b->loop, x->fd);
	close(x->fd);
	close(x->filefd);
	free(x->buf);
	free(x->wbuf);
	if (x->next)
		x->next->pprev = x->pprev;
	*x->pprev = x->next;
	free(x);
	__atomic_fetch_sub(&b->tftp_active, 1, __ATOMIC_RELAXED);
}

/*
 * Lockstep (window 1): blocks come from a read-ahead buffer filled by one
 * pread of up to 64 blocks, so a block costs one recv and one send, not a
 * pread as well; a lockstep transfer is bound by its round trips, and each
 * system call lengthens every one of them.
 */
#define READAHEAD  64
#define SHORT_READ (-100000) /* send_block and send_range: the file shrank */
static int send_block(struct xfer *x, uint64_t blk)
{
	uint64_t off = (blk - 1) * x->blksize;
	size_t len =
	    off >= x->size ? 0 : (size_t)(x->size - off < x->blksize ? x->size - off : x->blksize);
	fb_tftp_build_data_hdr(x->buf, 4, (uint16_t)blk);
	if (len) {
		if (off < x->ra_off || off + len > x->ra_off + x->ra_len) {
			/* Start at 4 blocks and double on each refill: small
			 * files (most of what PXE fetches, often a thousand at
			 * once) never hold a large buffer. */
			size_t cap = x->wbuf_cap ? x->wbuf_cap * 2 : (size_t)x->blksize * 4;
			if (cap > (size_t)x->blksize * READAHEAD)
				cap = (size_t)x->blksize * READAHEAD;
			if (cap != x->wbuf_cap) {
				free(x->wbuf);
				x->wbuf = malloc(cap);
				x->wbuf_cap = x->wbuf ? cap : 0;
			}
			if (!x->wbuf)
				return -ENOMEM;
			ssize_t r = pread(x->filefd, x->wbuf, cap, (off_t)off);
			if (r < (ssize_t)len)
				return SHORT_READ;
			x->ra_off = off;
			x->ra_len = (size_t)r;
		}
		memcpy(x->buf + 4, x->wbuf + (off - x->ra_off), len);
	}
	if (send(x->fd, x->buf, 4 + len, 0) < 0 && errno != EAGAIN && errno != ENOBUFS &&
	    errno != ECONNREFUSED)
		return -errno;
	return 0;
}

/*
 * Windows (RFC 7440). fill() reads blocks with one preadv that puts each
 * block's data just after a 4-byte gap for its header, so a window lies in
 * memory exactly as the datagrams go on the wire; then one sendmsg with
 * UDP_SEGMENT (UDP GSO) hands the kernel up to 64 KiB of them at a time to
 * cut into datagrams of blksize + 4, which costs one trip through the
 * stack instead of one per block. Where the kernel or the path refuses
 * GSO, sendmmsg sends the same datagrams one by one (and GSO is not tried
 * again there). The next window is read as soon as one is sent.
 */
#define BATCH 64
static int gso_broken; /* the kernel cannot do UDP GSO at all */

static int send_gso(struct xfer *x, const uint8_t *p, size_t len, size_t seg)
{
	union {
		char buf[CMSG_SPACE(sizeof(uint16_t))];
		struct cmsghdr align;
	} cm;
	struct iovec iov = {(void *)p, len};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	if (len > seg) {
		mh.msg_control = cm.buf;
		mh.msg_controllen = sizeof(cm.buf);
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_UDP;
		c->cmsg_type = UDP_SEGMENT;
		c->cmsg_len = CMSG_LEN(sizeof(uint16_t));
		uint16_t gs = (uint16_t)seg;
		memcpy(CMSG_DATA(c), &gs, sizeof(gs));
	}
	return sendmsg(x->fd, &mh, 0) < 0 ? -errno : 0;
}

/* Bytes of data in block blk (the last block is short, perhaps empty). */
static size_t block_len(const struct xfer *x, uint64_t blk)
{
	uint64_t off = (blk - 1) * x->blksize;
	return off >= x->size               ? 0
	       : x->size - off < x->blksize ? (size_t)(x->size - off)
	                                    : x->blksize;
}

/* Lay blocks [from, from + n) out in wbuf as they go on the wire: each
 * block's header, then its data, at a stride of blksize + 4. One preadv. */
static int fill(struct xfer *x, uint64_t from, uint64_t n)
{
	size_t seg = x->blksize + 4, need = (size_t)n * seg;
	x->wb_n = 0;
	if (!x->wbuf || x->wbuf_cap < need) {
		free(x->wbuf);
		x->wbuf = malloc(need);
		x->wbuf_cap = x->wbuf ? need : 0;
	}
	if (!x->wbuf)
		return -ENOMEM;
	struct iovec rv[BATCH];
	size_t want = 0;
	for (uint64_t i = 0; i < n; i++) {
		uint8_t *d = x->wbuf + i * seg;
		fb_tftp_build_data_hdr(d, 4, (uint16_t)(from + i));
		rv[i].iov_base = d + 4;
		rv[i].iov_len = block_len(x, from + i);
		want += rv[i].iov_len;
	}
	off_t off = (off_t)((from - 1) * x->blksize);
	if (want && preadv(x->filefd, rv, (int)n, off) != (ssize_t)want)
		return SHORT_READ;
	x->wb_first = from;
	x->wb_n = n;
	return 0;
}

/*
 * Send blocks [from, to], at most BATCH at a time, from wbuf (filled first
 * unless it already holds them). With GSO the blocks lie in wbuf exactly as
 * the datagrams go on the wire, so one sendmsg hands the kernel up to
 * 64 KiB of them; where GSO is refused, sendmmsg sends them one by one.
 */
static int send_range(struct xfer *x, uint64_t from, uint64_t to)
{
	size_t seg = x->blksize + 4;
	while (from <= to) {
		uint64_t n = to - from + 1;
		if (n > BATCH)
			n = BATCH;
		if (!x->wb_n || from < x->wb_first || from + n > x->wb_first + x->wb_n) {
			int rc = fill(x, from, n);
			if (rc < 0)
				return rc;
		}
		uint8_t *p = x->wbuf + (from - x->wb_first) * seg;
		size_t tail = block_len(x, from + n - 1) + 4; /* the last datagram */
		size_t total = (size_t)(n - 1) * seg + tail;
		int err = 0;
		if (!gso_broken && !x->no_gso) {
			/* At most 64 segments and 64 KiB of UDP payload a call. */
			size_t per = 65507 / seg * seg, at = 0;
			while (at < total && !err) {
				size_t len = total - at < per ? total - at : per;
				err = send_gso(x, p + at, len, seg);
				at += len;
			}
			if (err && err != -EAGAIN && err != -ENOBUFS && err != -ECONNREFUSED) {
				/* The kernel or route cannot do GSO at all, or this
				 * transfer's path can not (its MTU fell below the
				 * block size): datagrams one by one from now on. */
				if (err == -EIO || err == -EOPNOTSUPP || err == -ENOPROTOOPT)
					gso_broken = 1;
				x->no_gso = 1;
				log_info(
				    "%s to %s: UDP GSO refused (%s): sending datagrams one by one",
				    x->name, inet_ntoa(x->peer.sin_addr), strerror(-err));
				err = 0;
			}
		}
		if (gso_broken || x->no_gso) {
			struct mmsghdr mm[BATCH];
			struct iovec rv[BATCH];
			memset(mm, 0, sizeof(mm));
			for (uint64_t i = 0; i < n; i++) {
				rv[i].iov_base = p + i * seg;
				rv[i].iov_len = i + 1 == n ? tail : seg;
				mm[i].msg_hdr.msg_iov = &rv[i];
				mm[i].msg_hdr.msg_iovlen = 1;
			}
			err = sendmmsg(x->fd, mm, (unsigned)n, 0) < 0 ? -errno : 0;
		}
		if (err && err != -EAGAIN && err != -ENOBUFS && err != -ECONNREFUSED)
			return err;
		from += n; /* unsent ones (full buffers) count as lost: the timer resends */
	}
	return 0;
}

/* Send the window that starts after the last ACK. */
static void send_window(struct xfer *x)
{
	uint64_t end = x->acked + x->window;
	if (end > x->last)
		end = x->last;
	int rc = x->window == 1 ? send_block(x, x->acked + 1) : send_range(x, x->acked + 1, end);
	/* Read the next window now, while the client works through this one:
	 * its ACK is then answered at once, with no read in the round trip.
	 * (A failed read here is reported when that window is sent.) */
	if (rc == 0 && x->window > 1 && x->window <= BATCH && end < x->last) {
		uint64_t next = x->last - end < x->window ? x->last - end : x->window;
		fill(x, end + 1, next);
	}
	if (rc < 0) {
		const char *why = rc == SHORT_READ
		                      ? "the file is shorter than when the transfer began"
		                      : strerror(-rc);
		log_info("%s to %s: %s", x->name, inet_ntoa(x->peer.sin_addr), why);
		/* Tell the client, so it does not wait out its timeouts. */
		uint8_t e[128];
		int el = fb_tftp_build_error(e, sizeof(e), FB_TFTP_EUNDEF, why);
		if (el > 0)
			send(x->fd, e, (size_t)el, 0);
		xfer_end(x, NULL);
		return;
	}
	x->sent = end;
	fb_timer_arm(x->b->loop, &x->timer, x->timeout_ms);
}

static void on_timeout(struct fb_loop *l, void *arg)
{
	struct xfer *x = arg;
	if (++x->retries > MAX_RETRIES) {
		xfer_end(x, "client stopped answering");
		return;
	}
	x->timeout_ms = x->timeout_ms * 2 > MAX_TIMEOUT_MS ? MAX_TIMEOUT_MS : x->timeout_ms * 2;
	if (x->oack_pending) {
		send(x->fd, x->oack, (size_t)x->oack_len, 0);
		fb_timer_arm(l, &x->timer, x->timeout_ms);
		return;
	}
	send_window(x);
}

static void record_event(struct xfer *x)
{
	uint8_t mac[6];
	char macid[FB_MACID_LEN], detail[300];
	x->event_done = 1;
	if (state_mac_of_ip(&x->b->st, x->peer.sin_addr, mac) < 0 &&
	    neigh_lookup(x->peer.sin_addr, mac) < 0)
		return;
	snprintf(detail, sizeof(detail), "file=%s size=%llu", x->name, (unsigned long long)x->size);
	writer_event(x->b->wr, mac_format(mac, macid), "tftp", detail);
}

/* The whole signed UKI reached the machine at this address: evidence
 * (db/evidence.c) that it was handed its boot.efi this boot. */
static void record_uki(struct xfer *x)
{
	uint8_t mac[6];
	char macid[FB_MACID_LEN];
	if (state_mac_of_ip(&x->b->st, x->peer.sin_addr, mac) < 0 &&
	    neigh_lookup(x->peer.sin_addr, mac) < 0)
		return;
	writer_event(x->b->wr, mac_format(mac, macid), "uki-served", x->uki);
}

static void on_xfer(struct fb_loop *l, int fd, uint32_t events, void *arg)
{
	struct xfer *x = arg;
	for (;;) {
		uint8_t pkt[516];
		ssize_t n = recv(fd, pkt, sizeof(pkt), MSG_DONTWAIT);
		if (n < 0) {
			if (errno == ECONNREFUSED) {
				xfer_end(x, "client port closed");
				return;
			}
			return;
		}
		int op = fb_tftp_opcode(pkt, (size_t)n);
		uint16_t blk;
		if (op == FB_TFTP_ERROR) {
			/* Error 8 after an OACK is a tsize probe: not a failure. */
			xfer_end(x, "client sent an error");
			return;
		}
		if (fb_tftp_parse_ack(pkt, (size_t)n, &blk) < 0) {
			uint8_t e[64];
			int el =
			    fb_tftp_build_error(e, sizeof(e), FB_TFTP_EBADOP, "expected an ACK");
			send(fd, e, (size_t)el, 0);
			xfer_end(x, "unexpected packet");
			return;
		}
		if (x->oack_pending) {
			if (blk != 0)
				continue;
			x->oack_pending = 0;
		} else {
			/* Map the 16-bit number into [acked, sent]. */
			uint64_t a = x->acked + (uint16_t)(blk - (uint16_t)x->acked);
			if (a == x->acked && x->window > 1 && x->sent > x->acked && x->dup_ok) {
				/* With a window, a repeat of the last ACK means the
				 * first block of the window was lost: resend the
				 * window once (not on every repeat, which would be
				 * the Sorcerer's Apprentice again). */
				x->dup_ok = 0;
				send_window(x);
				return;
			}
			if (a <= x->acked || a > x->sent)
				continue; /* duplicate or stale: wait for the timer */
			x->acked = a;
			if (!x->event_done)
				record_event(x);
			if (x->acked == x->last) {
				__atomic_fetch_add(&x->b->stats_tftp, 1, __ATOMIC_RELAXED);
				if (x->uki[0])
					record_uki(x);
				xfer_end(x, NULL);
				return;
			}
			/* An ACK inside the window (RFC 7440) means the rest of
			 * it was lost: the next window starts after it. */
		}
		x->retries = 0;
		x->timeout_ms = x->base_timeout_ms;
		x->dup_ok = 1;
		send_window(x);
		return; /* x may be gone */
	}
}

static void send_error_to(struct bootd *b, const struct sockaddr_in *to, int code, const char *msg)
{
	uint8_t e[300];
	int n = fb_tftp_build_error(e, sizeof(e), (uint16_t)code, msg);
	if (n > 0)
		sendto(b->tftp_fd, e, (size_t)n, 0, (const struct sockaddr *)to, sizeof(*to));
}

/* Take the options the client asked for (RFC 2347-2349, 7440) into x and
 * into the OACK o that acknowledges them. */
static void negotiate(struct xfer *x, const struct fb_tftp_req *r, struct fb_tftp_oack *o)
{
	if (r->has_blksize) {
		/* Never more than the path MTU allows without fragments. */
		int mtu = 0;
		socklen_t ml = sizeof(mtu);
		unsigned bs = r->blksize;
		if (getsockopt(x->fd, IPPROTO_IP, IP_MTU, &mtu, &ml) == 0 && mtu > 100 &&
		    bs > (unsigned)mtu - 32)
			bs = (unsigned)mtu - 32;
		x->blksize = o->blksize = bs;
	}
	if (r->has_tsize) {
		o->has_tsize = 1;
		o->tsize = x->size;
	}
	if (r->has_timeout) {
		x->base_timeout_ms = r->timeout * 1000;
		o->timeout = r->timeout;
	}
	if (r->has_windowsize) {
		x->window = r->windowsize > MAX_WINDOW ? MAX_WINDOW : r->windowsize;
		o->windowsize = x->window;
	}
}

/* images/NAME/VERSION/boot.efi: an image version's signed UKI, which PXE
 * firmware fetches by TFTP (a Secure Boot machine's boot file). Outside the
 * TFTP root, so looked up in the cache, never as a path. 0 when name is
 * not of that shape; else 1 with an open fd, or a negative TFTP error, in
 * *fdp, and the detail of the uki-served event (evidence.c) in detail. */
static int open_uki(struct bootd *b, const char *name, const char **why, int *fdp, char *detail,
                    size_t dlen)
{
	char iname[FB_NAME_LEN], path[FB_PATH_LEN + 16];
	int version = 0, n = 0;
	if (strncmp(name, "images/", 7))
		return 0;
	const char *p = name + 7, *s1 = strchr(p, '/');
	/* Only images/NAME/V/boot.efi: the kernel and initrd there are
	 * tftp_virtual_open's. */
	if (!s1 || (size_t)(s1 - p) >= FB_NAME_LEN ||
	    sscanf(s1 + 1, "%9d/boot.efi%n", &version, &n) != 1 || s1[1 + n])
		return 0;
	*fdp = -FB_TFTP_ENOTFOUND;
	*why = "file not found";
	if (version < 1 || !isdigit((unsigned char)s1[1]))
		return 1;
	memcpy(iname, p, (size_t)(s1 - p));
	iname[s1 - p] = 0;
	int found = 0;
	pthread_rwlock_rdlock(&b->st.lock);
	const struct bootd_image *im =
	    fb_image_name_valid(iname) ? cache_image(b->st.cache, iname, version) : NULL;
	if (im && im->has_uki) {
		snprintf(path, sizeof(path), "%s/boot.efi", im->dir);
		snprintf(detail, dlen, "image=%s@%d sha256=%s via=tftp", im->name, im->version,
		         im->uki_sha256);
		found = 1;
	}
	pthread_rwlock_unlock(&b->st.lock);
	if (!found)
		return 1;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		log_warn("%s", path);
		if (errno == EACCES) {
			*why = "access violation";
			*fdp = -FB_TFTP_EACCESS;
		}
		return 1;
	}
	*fdp = fd;
	return 1;
}

static void start(struct bootd *b, const uint8_t *pkt, size_t len, const struct sockaddr_in *peer,
                  struct in_addr local)
{
	struct fb_tftp_req r;
	const char *why;
	int code = fb_tftp_parse_req(&r, pkt, len, &why);
	if (code) {
		log_info("bad TFTP request from %s: %s", inet_ntoa(peer->sin_addr), why);
		send_error_to(b, peer, code, why);
		return;
	}
	if (r.op == FB_TFTP_WRQ) {
		log_info("write request from %s refused", inet_ntoa(peer->sin_addr));
		send_error_to(b, peer, FB_TFTP_EACCESS, "read-only server");
		return;
	}
	if (b->tftp_active >= MAX_TRANSFERS) {
		send_error_to(b, peer, FB_TFTP_EUNDEF, "server busy");
		return;
	}
	int ffd;
	char uki[UKI_DETAIL_LEN] = "";
	if (!open_uki(b, r.filename, &why, &ffd, uki, sizeof(uki))) {
		ffd = tftp_virtual_open(b, r.filename, peer->sin_addr, local, &why);
		if (ffd == TFTP_NOT_VIRTUAL)
			ffd = tftp_open_file(b->tftp_rootfd, b->tftp_root, r.filename, &why);
	}
	if (ffd < 0) {
		char esc[FB_LOG_ESCAPE_LEN];
		/* PXELINUX's lookups of configs that are not its own (UUID,
		 * address, default) are expected: debug only. */
		if (ffd == -FB_TFTP_ENOTFOUND && !strncmp(r.filename, "pxelinux.cfg/", 13))
			log_debug("%s asked for '%s': %s", inet_ntoa(peer->sin_addr),
			          fb_log_escape(r.filename, esc, sizeof(esc)), why);
		else
			log_info("%s asked for '%s': %s", inet_ntoa(peer->sin_addr),
			         fb_log_escape(r.filename, esc, sizeof(esc)), why);
		send_error_to(b, peer, -ffd, why);
		return;
	}
	struct stat st;
	fstat(ffd, &st);
	struct xfer *x = calloc(1, sizeof(*x));
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr = local};
	if (!x || fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    connect(fd, (const struct sockaddr *)peer, sizeof(*peer)) < 0) {
		log_warn("cannot start a transfer to %s", inet_ntoa(peer->sin_addr));
		send_error_to(b, peer, FB_TFTP_EUNDEF, "server out of resources");
		if (fd >= 0)
			close(fd);
		close(ffd);
		free(x);
		return;
	}
	x->b = b;
	x->fd = fd;
	x->filefd = ffd;
	x->size = (uint64_t)st.st_size;
	x->peer = *peer;
	fb_log_escape(r.filename, x->name, sizeof(x->name));
	fb_strlcpy(x->uki, uki, sizeof(x->uki));
	fb_timer_init(&x->timer, on_timeout, x);
	x->blksize = FB_TFTP_DEF_BLKSIZE;
	x->window = 1;
	x->base_timeout_ms = 1000;

	struct fb_tftp_oack o = {0};
	negotiate(x, &r, &o);
	x->timeout_ms = x->base_timeout_ms;
	x->last = x->size / x->blksize + 1;
	x->buf = malloc(x->blksize + 4);
	if (!x->buf) {
		close(fd);
		close(ffd);
		free(x);
		return;
	}
	if (fb_loop_add_fd(b->loop, fd, EPOLLIN, on_xfer, x) < 0) {
		close(fd);
		close(ffd);
		free(x->buf);
		free(x);
		return;
	}
	__atomic_fetch_add(&b->tftp_active, 1, __ATOMIC_RELAXED);
	x->next = b->tftp_xfers;
	if (x->next)
		x->next->pprev = &x->next;
	x->pprev = &b->tftp_xfers;
	b->tftp_xfers = x;
	log_debug("%s to %s: %llu bytes, blksize %u, window %u", x->name, inet_ntoa(peer->sin_addr),
	          (unsigned long long)x->size, x->blksize, x->window);
	if (r.has_blksize || r.has_tsize || r.has_timeout || r.has_windowsize) {
		x->oack_len = fb_tftp_build_oack(x->oack, sizeof(x->oack), &o);
		x->oack_pending = 1;
		send(fd, x->oack, (size_t)x->oack_len, 0);
		fb_timer_arm(b->loop, &x->timer, x->timeout_ms);
		return;
	}
	send_window(x);
}

static void on_request(struct fb_loop *l, int fd, uint32_t events, void *arg)
{
	struct bootd *b = arg;
	for (int i = 0; i < 64; i++) {
		uint8_t buf[600];
		struct sockaddr_in src;
		union {
			char buf[CMSG_SPACE(sizeof(struct in_pktinfo))];
			struct cmsghdr align;
		} cm;
		struct iovec iov = {buf, sizeof(buf)};
		struct msghdr mh = {.msg_name = &src,
		                    .msg_namelen = sizeof(src),
		                    .msg_iov = &iov,
		                    .msg_iovlen = 1,
		                    .msg_control = cm.buf,
		                    .msg_controllen = sizeof(cm.buf)};
		ssize_t n = recvmsg(fd, &mh, MSG_DONTWAIT);
		if (n < 0)
			return;
		if (mh.msg_flags & MSG_TRUNC) {
			send_error_to(b, &src, FB_TFTP_EBADOP, "request too long");
			continue;
		}
		struct in_addr local = {0};
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
			if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO)
				local = ((struct in_pktinfo *)CMSG_DATA(c))->ipi_addr;
		if (local.s_addr == INADDR_BROADCAST)
			local.s_addr = 0;
		start(b, buf, (size_t)n, &src, local);
	}
}

int tftp_open(struct bootd *b)
{
	b->tftp_fd = -1;
	if (!b->cfg.tftp)
		return 0;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1;
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one));
	int sz = 4 << 20;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(69)};
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		log_warn("cannot bind UDP port 69");
		close(fd);
		return -1;
	}
	b->tftp_fd = fd;
	return fb_loop_add_fd(b->loop, fd, EPOLLIN, on_request, b);
}

void tftp_close(struct bootd *b)
{
	while (b->tftp_xfers)
		xfer_end(b->tftp_xfers, "server stopping");
	if (b->tftp_fd >= 0) {
		fb_loop_del_fd(b->loop, b->tftp_fd);
		close(b->tftp_fd);
		b->tftp_fd = -1;
	}
}
