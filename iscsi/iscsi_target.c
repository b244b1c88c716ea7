/*
 * iscsi_target.c - the target's sockets and threads: a listening socket
 * and every connection in one epoll loop on a network thread, and a fixed
 * pool of I/O threads that run SCSI commands (see iscsi_int.h for who owns
 * what). Output is sent by whichever thread produced it, straight away when
 * the socket takes it; what is left waits for EPOLLOUT.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "byteorder.h"
#include "cleanup.h"
#include "clock.h"
#include "log.h"
#include "logsafe.h"
#include "iscsi/iscsi_int.h"

#define TAG_LISTEN ((void *)1)
#define TAG_EVENT  ((void *)2)

struct iscsi_out *iscsi_out_new(size_t len)
{
	/* Zeroed: pad bytes go out as zeros. Payloads are not copied in
	 * here (see iov), so this stays small. */
	struct iscsi_out *o = calloc(1, sizeof(*o) + len);
	if (o)
		o->len = len;
	return o;
}

void iscsi_out_free(struct iscsi_out *o)
{
	free(o->ext);
	free(o);
}

static void conn_free(struct iscsi_conn *c)
{
	struct fb_iscsi_target *t = c->t;
	while (c->oh) {
		struct iscsi_out *o = c->oh;
		c->oh = o->next;
		iscsi_out_free(o);
	}
	if (c->lu_ok)
		scsi_lu_destroy(&c->lu);
	if (c->bd && t->be.release)
		t->be.release(t->be.arg, c->macid, c->bd);
	if (c->counted)
		atomic_fetch_sub(&t->sessions, 1);
	close(c->fd);
	fb_buf_free(&c->login_text);
	free(c->rb);
	free(c->body);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

/* Queue work for the login thread (LOGIN_PDU or LOGIN_FREE): 0, or -1
 * without memory. */
static int login_post(struct iscsi_conn *c, int kind)
{
	struct fb_iscsi_target *t = c->t;
	struct iscsi_task *task = calloc(1, sizeof(*task));
	if (!task)
		return -1;
	task->c = c;
	task->login = kind;
	ACQUIRE_LOCK_FOR_CURRENT_SCOPE(&t->qlock);
	if (t->lt)
		t->lt->qnext = task;
	else
		t->lh = task;
	t->lt = task;
	pthread_cond_signal(&t->lcond);
	return 0;
}

/* A connection holding a disk is freed on the login thread, so neither the
 * network thread nor an I/O thread waits for the disk registry. 0 if it
 * must be freed here instead. */
static int free_on_login_thread(struct iscsi_conn *c)
{
	struct fb_iscsi_target *t = c->t;
	if (!c->bd)
		return 0;
	int run;
	{
		ACQUIRE_LOCK_FOR_CURRENT_SCOPE(&t->qlock);
		run = t->login_running && !pthread_equal(pthread_self(), t->login);
	}
	return run && login_post(c, LOGIN_FREE) == 0;
}

int iscsi_conn_dead(struct iscsi_conn *c)
{
	ACQUIRE_LOCK_FOR_CURRENT_SCOPE(&c->lock);
	return c->dead;
}

void iscsi_conn_unref(struct iscsi_conn *c)
{
	int last;
	{
		/* Let go before freeing: conn_free destroys the lock. */
		ACQUIRE_LOCK_FOR_CURRENT_SCOPE(&c->lock);
		last = --c->refs == 0;
	}
	if (last && !free_on_login_thread(c))
		conn_free(c);
}

/*
 * Write as much queued output as the socket takes; conn->lock held on
 * entry and return, but not during the writev itself, so the I/O threads
 * can queue replies meanwhile instead of sleeping on the lock. One thread
 * writes at a time (c->sending): a flush asked for while another thread
 * writes is left to that thread, which loops until the queue is empty or
 * the socket full. Queued output is only ever freed by the writer.
 */
static void flush_locked(struct iscsi_conn *c)
{
	if (c->sending)
		return; /* the writer picks this output up before it stops */
	c->sending = 1;
	while (c->oh && !c->dead) {
		struct iovec iov[64];
		int n = 0;
		for (struct iscsi_out *o = c->oh; o && n < 64; o = o->next) {
			if (!o->niov) {
				iov[n].iov_base = o->data + o->off;
				iov[n].iov_len = o->len - o->off;
				n++;
			} else {
				/* Resume inside the pieces where the last write
				 * stopped. */
				size_t skip = o->off;
				for (int i = 0; i < o->niov && n < 64; i++) {
					if (skip >= o->iov[i].iov_len) {
						skip -= o->iov[i].iov_len;
						continue;
					}
					iov[n].iov_base = (uint8_t *)o->iov[i].iov_base + skip;
					iov[n].iov_len = o->iov[i].iov_len - skip;
					skip = 0;
					n++;
				}
			}
			if (o->close_after)
				break;
		}
		pthread_mutex_unlock(&c->lock);
		ssize_t w = writev(c->fd, iov, n);
		int err = errno;
		pthread_mutex_lock(&c->lock);
		errno = err;
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (w < 0) {
			c->want_close = 1;
			c->dead = 1; /* peer gone: later output is dropped */
			break;
		}
		size_t left = (size_t)w;
		while (left && c->oh) {
			struct iscsi_out *o = c->oh;
			size_t rest = o->len - o->off;
			if (left < rest) {
				o->off += left;
				left = 0;
				break;
			}
			left -= rest;
			c->out_bytes -= o->len;
			c->oh = o->next;
			if (!c->oh)
				c->ot = NULL;
			if (o->close_after)
				c->want_close = 1;
			iscsi_out_free(o);
		}
	}
	c->sending = 0;
	int wake = c->want_close;
	if (c->rx_paused && c->out_bytes + c->task_bytes < ISCSI_OUT_LIMIT / 2) {
		/* The initiator caught up: read again. Data may already sit in
		 * the staging buffer, so the network thread is told directly. */
		c->rx_paused = 0;
		c->want_input = 1;
		wake = 1;
	}
	uint32_t ev = (c->rx_paused || c->login_busy ? 0 : EPOLLIN) | (c->oh ? EPOLLOUT : 0);
	if (ev != c->ev_mask && !c->dead) {
		struct epoll_event e = {.events = ev, .data.ptr = c};
		if (epoll_ctl(c->t->epfd, EPOLL_CTL_MOD, c->fd, &e) == 0)
			c->ev_mask = ev;
	}
	if (wake)
		iscsi_wake(c->t);
}

void iscsi_wake(struct fb_iscsi_target *t)
{
	uint64_t one = 1;
	ssize_t r = write(t->evfd, &one, sizeof(one));
	(void)r;
}

void iscsi_conn_kick(struct iscsi_conn *c)
{
	if (c->rx_paused && !c->dead)
		flush_locked(c);
}

void iscsi_conn_enqueue(struct iscsi_conn *c, struct iscsi_out *o)
{
	if (c->dead) {
		iscsi_out_free(o);
		return;
	}
	if ((c->hdigest || c->ddigest) && !o->niov && o->len >= ISCSI_BHS_LEN) {
		/* A single PDU (header, padded data): insert its digests.
		 * PDUs sent as pieces carry them already. */
		const uint8_t *src = o->data;
		size_t dl = fb_get_be24(src + 5);
		size_t body = o->len - ISCSI_BHS_LEN, hd = c->hdigest ? 4 : 0;
		size_t dd = c->ddigest && dl ? 4 : 0;
		struct iscsi_out *d = iscsi_out_new(o->len + hd + dd);
		if (!d) {
			iscsi_out_free(o);
			c->want_close = 1; /* cannot send it: the session is lost */
			return;
		}
		memcpy(d->data, src, ISCSI_BHS_LEN);
		if (hd)
			iscsi_put_digest(d->data + ISCSI_BHS_LEN, iscsi_crc32c(src, ISCSI_BHS_LEN));
		memcpy(d->data + ISCSI_BHS_LEN + hd, src + ISCSI_BHS_LEN, body);
		if (dd)
			iscsi_put_digest(d->data + ISCSI_BHS_LEN + hd + body,
			                 iscsi_crc32c(src + ISCSI_BHS_LEN, body));
		d->close_after = o->close_after;
		iscsi_out_free(o);
		o = d;
	}
	o->next = NULL;
	if (c->ot)
		c->ot->next = o;
	else
		c->oh = o;
	c->ot = o;
	c->out_bytes += o->len;
}

void iscsi_conn_flush(struct iscsi_conn *c)
{
	ACQUIRE_LOCK_FOR_CURRENT_SCOPE(&c->lock);
	flush_locked(c);
}

void iscsi_conn_send(struct iscsi_conn *c, struct iscsi_out *o, int locked)
{
	if (!locked)
		pthread_mutex_lock(&c->lock);
	iscsi_conn_enqueue(c, o);
	flush_locked(c);
	if (!locked)
		pthread_mutex_unlock(&c->lock);
}

/* The connection left the login phase (or closed): it no longer counts
 * against the pre-login caps. Network thread. */
static void prelogin_done(struct iscsi_conn *c)
{
	if (c->prelogin) {
		c->prelogin = 0;
		c->t->prelogin--;
	}
}

/* Close a connection (network thread). Tasks still running keep the
 * memory alive through their references; their output is dropped. */
static void conn_close(struct iscsi_conn *c)
{
	struct fb_iscsi_target *t = c->t;
	if (c->closed)
		return;
	c->closed = 1;
	prelogin_done(c);
	epoll_ctl(t->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	shutdown(c->fd, SHUT_RDWR);
	{
		ACQUIRE_LOCK_FOR_CURRENT_SCOPE(&c->lock);
		c->dead = 1;
		/* A login job still running reads the phase: leave it be. */
		if (!c->login_busy)
			c->phase = PH_CLOSING;
	}
	iscsi_session_cleanup(c);
	if (c->prev)
		c->prev->next = c->next;
	else
		t->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->next = c->prev = NULL;
	log_debug("iSCSI connection from %s closed", c->peer_str);
	iscsi_conn_unref(c);
}

/*
 * A new session of the same initiator (InitiatorName and ISID, RFC 7143
 * 6.3.5) replaces the old one. It only ever ends a session of the same
 * authenticated machine: the machine id is canonical and fixed by the
 * first login PDU, and CHAP proved it, so no initiator can end another
 * machine's session by naming its target.
 */
void iscsi_conn_reinstate(struct iscsi_conn *c)
{
	char ini[FB_LOG_ESCAPE_LEN];
	if (c->discovery || c->chap_step != 2 || !c->macid[0])
		return;
	for (struct iscsi_conn *o = c->t->conns; o; o = o->next) {
		if (o == c || o->phase != PH_FFP || o->discovery || o->chap_step != 2 ||
		    o->isid != c->isid || strcmp(o->initiator_name, c->initiator_name) ||
		    strcmp(o->macid, c->macid))
			continue;
		log_info("iSCSI session of %s (machine %s) reinstated; closing the old one",
		         fb_log_escape(c->initiator_name, ini, sizeof(ini)), c->macid);
		{
			ACQUIRE_LOCK_FOR_CURRENT_SCOPE(&o->lock);
			o->want_close = 1;
		}
		iscsi_wake(c->t); /* it closes the old one on its next turn */
	}
}

/* May one more connection from peer wait for its login? Over a cap it is
 * closed at once; a log line says so at most every 10 s, with how many
 * went since the last one. Network thread. */
static int prelogin_admit(struct fb_iscsi_target *t, const struct sockaddr_in *peer)
{
	unsigned same = 0;
	if (t->prelogin < t->prelogin_max) {
		for (struct iscsi_conn *o = t->conns; o; o = o->next)
			if (o->prelogin && o->peer.sin_addr.s_addr == peer->sin_addr.s_addr)
				same++;
		if (same < t->prelogin_per_address)
			return 1;
	}
	t->over_cap++;
	uint64_t now = fb_mono_ms();
	if (!t->over_cap_logged_ms || now - t->over_cap_logged_ms >= 10000) {
		char ip[INET_ADDRSTRLEN];
		inet_ntop(AF_INET, &peer->sin_addr, ip, sizeof(ip));
		log_warnx("iSCSI: connection from %s closed: %s (%u not logged in; cap %u per "
		          "address, %u in all); %llu refused over the caps so far",
		          ip,
		          t->prelogin >= t->prelogin_max
		              ? "too many connections not logged in"
		              : "too many from this address not logged in",
		          t->prelogin, t->prelogin_per_address, t->prelogin_max,
		          (unsigned long long)t->over_cap);
		t->over_cap_logged_ms = now;
	}
	return 0;
}

static void accept_all(struct fb_iscsi_target *t)
{
	for (;;) {
		struct sockaddr_in peer;
		socklen_t pl = sizeof(peer);
		int fd =
		    accept4(t->lfd, (struct sockaddr *)&peer, &pl, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				log_warn("accept");
			return;
		}
		if (!prelogin_admit(t, &peer)) {
			close(fd);
			continue;
		}
		struct iscsi_conn *c = calloc(1, sizeof(*c));
		uint8_t *rb = malloc(ISCSI_RX_BUF);
		if (!c || !rb) {
			free(c);
			free(rb);
			close(fd);
			continue;
		}
		/* Replies go out at once; a machine that vanished (power cut)
		 * is noticed by keepalive within about half a minute, so its
		 * session does not hold the disk. */
		int one = 1, idle = 15, intvl = 5, cnt = 3;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
		setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
		setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
		setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
		c->t = t;
		c->fd = fd;
		c->rb = rb;
		c->peer = peer;
		socklen_t ll = sizeof(c->local);
		getsockname(fd, (struct sockaddr *)&c->local, &ll);
		snprintf(c->peer_str, sizeof(c->peer_str), "%s:%u", inet_ntoa(peer.sin_addr),
		         ntohs(peer.sin_port));
		pthread_mutex_init(&c->lock, NULL);
		c->refs = 1;
		c->next_ttt = 1;
		c->ev_mask = EPOLLIN;
		c->born_ms = fb_mono_ms();
		c->p.max_send_dsl = 8192;
		struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
		if (epoll_ctl(t->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
			log_warn("epoll_ctl");
			pthread_mutex_destroy(&c->lock);
			free(rb);
			free(c);
			close(fd);
			continue;
		}
		c->next = t->conns;
		if (t->conns)
			t->conns->prev = c;
		t->conns = c;
		c->prelogin = 1;
		t->prelogin++;
		log_debug("iSCSI connection from %s", c->peer_str);
	}
}

/* Hand the login PDU just received to the login thread and stop reading
 * until it is done. */
static int login_queue(struct iscsi_conn *c)
{
	{
		ACQUIRE_LOCK_FOR_CURRENT_SCOPE(&c->lock);
		c->refs++;
		c->login_busy = 1;
		flush_locked(c); /* drops EPOLLIN */
	}
	if (login_post(c, LOGIN_PDU) == 0)
		return 0;
	ACQUIRE_LOCK_FOR_CURRENT_SCOPE(&c->lock);
	c->refs--; /* the network thread still holds one */
	c->login_busy = 0;
	return -1;
}

/* The login thread's next task, waiting for one; NULL once the target
 * stops. */
static struct iscsi_task *login_next_task(struct fb_iscsi_target *t)
{
	ACQUIRE_LOCK_FOR_CURRENT_SCOPE(&t->qlock);
	while (!t->lh && !t->stopping)
		pthread_cond_wait(&t->lcond, &t->qlock);
	struct iscsi_task *task = t->lh;
	if (task) {
		t->lh = task->qnext;
		if (!t->lh)
			t->lt = NULL;
	} else {
		t->login_running = 0; /* what comes later, stop frees */
	}
	return task;
}

/* The login thread: one login PDU at a time, in arrival order. */
static void *login_main(void *arg)
{
	struct fb_iscsi_target *t = arg;
	for (;;) {
		struct iscsi_task *task = login_next_task(t);
		if (!task)
			return NULL;
		struct iscsi_conn *c = task->c;
		if (task->login == LOGIN_FREE) {
			free(task);
			conn_free(c);
			continue;
		}
		iscsi_login_job(task);
		iscsi_conn_flush(c);
		iscsi_conn_unref(c);
	}
}

void iscsi_login_finish(struct iscsi_conn *c)
{
	c->login_done = 0;
	if (c->login_next != PH_LOGIN)
		c->phase = c->login_next;
	if (c->phase == PH_FFP)
		prelogin_done(c);
	if (c->login_reinstate) {
		c->login_reinstate = 0;
		pthread_mutex_unlock(&c->lock);
		iscsi_conn_reinstate(c);
		pthread_mutex_lock(&c->lock);
	}
}

/* One complete PDU arrived. Returns -1 to close the connection. */
static int dispatch(struct iscsi_conn *c)
{
	const struct iscsi_bhs *h = &c->bhs;
	if (c->phase == PH_LOGIN) {
		if (h->opcode != ISCSI_OP_LOGIN_REQ) {
			log_warnx("%s: opcode 0x%02x before login completed", c->peer_str,
			          h->opcode);
			return -1;
		}
		return login_queue(c);
	}
	if (c->phase == PH_FFP && c->direct)
		return iscsi_ffp_pdu(c, h, c->direct, h->dlen);
	if (c->phase == PH_FFP)
		return iscsi_ffp_pdu(c, h, c->body, c->body_len);
	return -1;
}

/* Stop reading while too much output waits for the initiator (one that
 * sends commands but never reads replies must not grow our memory), and
 * while a login job runs. */
static int input_paused(struct iscsi_conn *c)
{
	ACQUIRE_LOCK_FOR_CURRENT_SCOPE(&c->lock);
	if (c->login_done)
		iscsi_login_finish(c);
	if (c->out_bytes + c->task_bytes > ISCSI_OUT_LIMIT && !c->dead) {
		c->rx_paused = 1;
		flush_locked(c);
	}
	return c->rx_paused || c->login_busy;
}

/* What a step of reading a PDU tells conn_input: stop reading for now
 * (nothing more to read, input paused, or the connection closed), go
 * round again, or go on to the next step. */
enum rx_step { RX_STOP, RX_AGAIN, RX_DONE };

/* Refill the staging buffer once it is used up. */
static enum rx_step rx_fill(struct iscsi_conn *c)
{
	if (c->rb_start != c->rb_end)
		return RX_DONE;
	c->rb_start = c->rb_end = 0;
	ssize_t n = read(c->fd, c->rb, ISCSI_RX_BUF);
	if (n < 0 && errno == EINTR)
		return RX_AGAIN;
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return RX_STOP;
	if (n <= 0) {
		conn_close(c);
		return RX_STOP;
	}
	c->rb_end = (size_t)n;
	return RX_DONE;
}

/* A whole header is in c->hdr: decode and check it, and get the body's
 * buffer ready. 0, or -1 when the connection was closed. */
static int rx_header_done(struct iscsi_conn *c)
{
	iscsi_bhs_parse(c->hdr, ISCSI_BHS_LEN, &c->bhs);
	if (c->hdigest && (c->bhs.ahs_words || iscsi_crc32c(c->hdr, ISCSI_BHS_LEN) !=
	                                           iscsi_get_digest(c->hdr + ISCSI_BHS_LEN))) {
		/* ERL 0: a header that fails its digest cannot be trusted, not
		 * even its length. */
		log_warnx("%s: header digest error; closing", c->peer_str);
		conn_close(c);
		return -1;
	}
	uint32_t limit = c->phase == PH_LOGIN ? ISCSI_LOGIN_MAX_DSL : ISCSI_OUR_MAX_RECV_DSL;
	if (c->bhs.dlen > limit) {
		log_warnx("%s: data segment of %u bytes exceeds %u", c->peer_str, c->bhs.dlen,
		          limit);
		if (c->phase == PH_FFP)
			iscsi_send_reject(c, ISCSI_REJECT_PROTOCOL, c->hdr);
		conn_close(c);
		return -1;
	}
	c->body_len = (size_t)iscsi_pdu_body_len(&c->bhs) + (c->ddigest && c->bhs.dlen ? 4 : 0);
	c->body_got = 0;
	free(c->body);
	c->body = NULL;
	/* Write data is received straight into the task's buffer when it
	 * can be: a Data-Out whose place is known now, or a write command
	 * whose buffer the task will adopt. */
	c->direct = c->phase == PH_FFP ? iscsi_data_out_dest(c, &c->bhs) : NULL;
	size_t alloc = c->body_len;
	if (c->phase == PH_FFP && !c->direct)
		alloc = iscsi_cmd_buffer_size(c, &c->bhs, alloc);
	if (c->body_len && !c->direct) {
		c->body = malloc(alloc + 1);
		if (!c->body) {
			log_warnx("%s: out of memory", c->peer_str);
			conn_close(c);
			return -1;
		}
	}
	return 0;
}

/* Take the header (and its digest) from the staging buffer. */
static enum rx_step rx_header(struct iscsi_conn *c)
{
	size_t hlen = ISCSI_BHS_LEN + (c->hdigest ? 4 : 0);
	if (c->hdr_got >= hlen)
		return RX_DONE;
	size_t k = hlen - c->hdr_got, avail = c->rb_end - c->rb_start;
	if (k > avail)
		k = avail;
	memcpy(c->hdr + c->hdr_got, c->rb + c->rb_start, k);
	c->hdr_got += k;
	c->rb_start += k;
	if (c->hdr_got < hlen)
		return RX_AGAIN;
	return rx_header_done(c) < 0 ? RX_STOP : RX_DONE;
}

/* Take the body: from the staging buffer while it holds some, else
 * straight from the socket into place (large segments). A direct body
 * puts the data segment in the task's buffer and the padding and digest
 * in c->pad. */
static enum rx_step rx_body(struct iscsi_conn *c)
{
	if (c->body_got >= c->body_len)
		return RX_DONE;
	size_t avail = c->rb_end - c->rb_start;
	size_t k = c->body_len - c->body_got;
	uint8_t *dst = c->body + c->body_got;
	if (c->direct && c->body_got < c->bhs.dlen) {
		dst = c->direct + c->body_got;
		k = c->bhs.dlen - c->body_got;
	} else if (c->direct) {
		dst = c->pad + (c->body_got - c->bhs.dlen);
	}
	if (avail) {
		if (k > avail)
			k = avail;
		memcpy(dst, c->rb + c->rb_start, k);
		c->rb_start += k;
	} else {
		ssize_t n = read(c->fd, dst, k);
		if (n < 0 && errno == EINTR)
			return RX_AGAIN;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return RX_STOP;
		if (n <= 0) {
			conn_close(c);
			return RX_STOP;
		}
		k = (size_t)n;
	}
	c->body_got += k;
	return c->body_got < c->body_len ? RX_AGAIN : RX_DONE;
}

/* A whole PDU is in: check its data digest and handle it. */
static enum rx_step rx_complete(struct iscsi_conn *c)
{
	if (c->body)
		c->body[c->body_len] = 0;
	c->hdr_got = 0;
	if (c->ddigest && c->bhs.dlen) {
		/* The data digest follows the padded data segment. */
		size_t at = (size_t)c->bhs.ahs_words * 4, pl = iscsi_pad4(c->bhs.dlen);
		if (!c->body ||
		    iscsi_crc32c(c->body + at, pl) != iscsi_get_digest(c->body + at + pl)) {
			log_warnx("%s: data digest error; closing", c->peer_str);
			iscsi_send_reject(c, ISCSI_REJECT_DIGEST, c->hdr);
			conn_close(c);
			return RX_STOP;
		}
	}
	int rc = dispatch(c);
	if (rc < 0 || c->want_close) {
		conn_close(c);
		return RX_STOP;
	}
	return c->phase == PH_CLOSING ? RX_STOP : RX_AGAIN;
}

/* Read and process whatever the socket holds (network thread): PDU by
 * PDU, each a header, then its body, then its handling. */
static void conn_input(struct iscsi_conn *c)
{
	for (;;) {
		if (c->hdr_got == 0 && input_paused(c))
			return;
		enum rx_step s = rx_fill(c);
		if (s == RX_DONE)
			s = rx_header(c);
		if (s == RX_DONE)
			s = rx_body(c);
		if (s == RX_DONE)
			s = rx_complete(c);
		if (s == RX_STOP)
			return;
	}
}

/* Connections that asked for the network thread's attention: to be
 * closed, to resume input, or stuck in login too long. */
static void sweep(struct fb_iscsi_target *t, int timeouts)
{
	uint64_t now = timeouts ? fb_mono_ms() : 0;
	struct iscsi_conn *c = t->conns;
	while (c) {
		struct iscsi_conn *next = c->next;
		int w, in, busy;
		{
			ACQUIRE_LOCK_FOR_CURRENT_SCOPE(&c->lock);
			w = c->want_close;
			in = c->want_input;
			busy = c->login_busy;
			c->want_input = 0;
		}
		/* A login job that takes long (a base image being verified)
		 * is our delay, not the initiator's. */
		if (!w && !busy && timeouts && c->phase == PH_LOGIN &&
		    now - c->born_ms > ISCSI_LOGIN_TIMEOUT_MS) {
			log_warnx("%s: login not completed in %u s; closing", c->peer_str,
			          ISCSI_LOGIN_TIMEOUT_MS / 1000);
			w = 1;
		}
		if (w)
			conn_close(c);
		else if (in)
			conn_input(c);
		c = next;
	}
}

static void *net_main(void *arg)
{
	struct fb_iscsi_target *t = arg;
	struct epoll_event evs[64];
	uint64_t last_sweep = fb_mono_ms();
	while (!t->stopping) {
		int n = epoll_wait(t->epfd, evs, 64, 1000);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			log_warn("epoll_wait");
			break;
		}
		int wake = 0;
		for (int i = 0; i < n; i++) {
			void *p = evs[i].data.ptr;
			if (p == TAG_LISTEN) {
				accept_all(t);
				continue;
			}
			if (p == TAG_EVENT) {
				uint64_t v;
				ssize_t r = read(t->evfd, &v, sizeof(v));
				(void)r;
				wake = 1;
				continue;
			}
			struct iscsi_conn *c = p;
			if (evs[i].events & EPOLLOUT)
				iscsi_conn_flush(c);
			/* A socket that hung up while its input is paused would
			 * be reported again at once, forever: close it now. */
			if ((evs[i].events & (EPOLLHUP | EPOLLERR)) && input_paused(c))
				conn_close(c);
			else if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
				conn_input(c);
		}
		uint64_t now = fb_mono_ms();
		int timeouts = now - last_sweep >= 1000;
		if (timeouts)
			last_sweep = now;
		if (wake || timeouts)
			sweep(t, timeouts);
		iscsi_dispatch(t);
	}
	while (t->conns)
		conn_close(t->conns);
	iscsi_dispatch(t);
	return NULL;
}

void iscsi_queue_task(struct iscsi_task *task)
{
	struct fb_iscsi_target *t = task->c->t;
	struct iscsi_conn *c = task->c;
	/* Its write buffer is complete (network thread only: no lock). */
	c->collect_bytes -= task->collecting;
	task->collecting = 0;
	/* Memory the task holds while queued and running, so the network
	 * thread stops reading when too much is outstanding. */
	uint32_t cap = (task->flags & ISCSI_CMD_W) ? ISCSI_MAX_EDTL : SCSI_MAX_XFER_BYTES;
	task->acct = task->edtl < cap ? task->edtl : cap;
	{
		ACQUIRE_LOCK_FOR_CURRENT_SCOPE(&c->lock);
		c->refs++;
		c->task_bytes += task->acct;
		task->state = TASK_QUEUED;
	}
	/* A read whose data is all in memory, or a small write into the page
	 * cache, runs here and now: handing it to an I/O thread and its reply
	 * back would cost two thread wake-ups, several times the copy itself.
	 * Its reply goes out with the others of this loop turn
	 * (iscsi_inline_flush); the task's reference to the connection
	 * becomes the list's, or is dropped if it has one. The kernel may
	 * still make a buffered write wait (dirty page throttling): one that
	 * took long sends writes to the I/O threads for a while, so the
	 * network thread is not held up. */
	int writing = (task->flags & ISCSI_CMD_W) != 0;
	if (task->edtl <= ISCSI_INLINE_MAX && !task->early_status &&
	    (!writing || fb_mono_ms() >= t->inl_writes_off_until) &&
	    scsi_lu_nowait_ok(&c->lu, task->cdb)) {
		uint64_t t0 = writing ? fb_mono_us() : 0;
		int ran = iscsi_task_run(task, 1, 1);
		if (writing && ran && fb_mono_us() - t0 > ISCSI_INLINE_SLOW_US) {
			t->inl_writes_off_until = fb_mono_ms() + 1000;
			log_debug(
			    "a write on the network thread took %llu us: writes go to the I/O "
			    "threads for a second",
			    (unsigned long long)(fb_mono_us() - t0));
		}
		if (ran) {
			if (c->inl_mark) {
				iscsi_conn_unref(c);
			} else {
				c->inl_mark = 1;
				c->inl_next = t->inl;
				t->inl = c;
			}
			return;
		}
	}
	/* Collected here and handed to the I/O threads once per network
	 * loop turn (iscsi_dispatch): one lock and few wake-ups per batch
	 * instead of per command. */
	task->qnext = NULL;
	if (t->bt)
		t->bt->qnext = task;
	else
		t->bh = task;
	t->bt = task;
	t->bn++;
}

void iscsi_inline_flush(struct fb_iscsi_target *t)
{
	while (t->inl) {
		struct iscsi_conn *c = t->inl;
		t->inl = c->inl_next;
		c->inl_mark = 0;
		iscsi_conn_flush(c);
		iscsi_conn_unref(c);
	}
}

void iscsi_dispatch(struct fb_iscsi_target *t)
{
	iscsi_inline_flush(t);
	if (!t->bn)
		return;
	{
		ACQUIRE_LOCK_FOR_CURRENT_SCOPE(&t->qlock);
		if (t->qt)
			t->qt->qnext = t->bh;
		else
			t->qh = t->bh;
		t->qt = t->bt;
		t->qlen += t->bn;
		if (t->bn >= (unsigned)t->nio)
			pthread_cond_broadcast(&t->qcond);
		else
			for (unsigned i = 0; i < t->bn; i++)
				pthread_cond_signal(&t->qcond);
	}
	t->bh = t->bt = NULL;
	t->bn = 0;
}

/* An I/O thread's next batch of tasks (a list linked by qnext), waiting
 * for work; NULL once the target stops and the queue is empty. Takes a
 * fair share of the queue (up to 8) so busy periods cost fewer lock round
 * trips and wake-ups. */
static struct iscsi_task *io_take_batch(struct fb_iscsi_target *t)
{
	ACQUIRE_LOCK_FOR_CURRENT_SCOPE(&t->qlock);
	while (!t->qh && !t->stopping)
		pthread_cond_wait(&t->qcond, &t->qlock);
	if (!t->qh)
		return NULL;
	unsigned take = t->qlen / (unsigned)t->nio;
	take = take < 1 ? 1 : take > 8 ? 8 : take;
	struct iscsi_task *list = t->qh, *last = list;
	unsigned n = 1;
	while (n < take && last->qnext) {
		last = last->qnext;
		n++;
	}
	t->qh = last->qnext;
	if (!t->qh)
		t->qt = NULL;
	t->qlen -= n;
	last->qnext = NULL;
	return list;
}

static void *io_main(void *arg)
{
	struct fb_iscsi_target *t = arg;
	sigset_t all;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	for (;;) {
		struct iscsi_task *list = io_take_batch(t);
		if (!list)
			return NULL;
		/* Run the batch, then send each connection's replies with one
		 * write (the tasks' references keep the connections alive). */
		struct iscsi_conn *conns[8];
		unsigned nc = 0;
		while (list) {
			struct iscsi_task *task = list;
			list = task->qnext;
			struct iscsi_conn *c = task->c;
			iscsi_task_run(task, 1, 0);
			conns[nc++] = c;
		}
		for (unsigned i = 0; i < nc; i++) {
			int seen = 0;
			for (unsigned j = 0; j < i; j++)
				seen |= conns[j] == conns[i];
			if (!seen)
				iscsi_conn_flush(conns[i]);
		}
		for (unsigned i = 0; i < nc; i++)
			iscsi_conn_unref(conns[i]);
	}
}

struct fb_iscsi_target *fb_iscsi_target_start(const char *addr, int port,
                                              const struct fb_iscsi_backend *be, int io_threads)
{
	struct fb_iscsi_target *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->lfd = t->epfd = t->evfd = -1;
	t->be = *be;
	t->port = port;
	t->next_tsih = 1;
	t->prelogin_per_address =
	    be->prelogin_per_address ? be->prelogin_per_address : FB_ISCSI_PRELOGIN_PER_ADDRESS;
	t->prelogin_max = be->prelogin_max ? be->prelogin_max : FB_ISCSI_PRELOGIN_MAX;
	pthread_mutex_init(&t->qlock, NULL);
	pthread_cond_init(&t->qcond, NULL);
	pthread_cond_init(&t->lcond, NULL);
	pthread_mutex_init(&t->tsih_lock, NULL);
	if (io_threads < 1)
		io_threads = 4;
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	if (addr && *addr && inet_pton(AF_INET, addr, &sin.sin_addr) != 1) {
		errno = EINVAL;
		goto fail;
	}
	t->lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (t->lfd < 0)
		goto fail;
	int one = 1;
	setsockopt(t->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(t->lfd, (struct sockaddr *)&sin, sizeof(sin)) < 0 || listen(t->lfd, 128) < 0)
		goto fail;
	t->epfd = epoll_create1(EPOLL_CLOEXEC);
	t->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (t->epfd < 0 || t->evfd < 0)
		goto fail;
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = TAG_LISTEN};
	struct epoll_event ev2 = {.events = EPOLLIN, .data.ptr = TAG_EVENT};
	if (epoll_ctl(t->epfd, EPOLL_CTL_ADD, t->lfd, &ev) < 0 ||
	    epoll_ctl(t->epfd, EPOLL_CTL_ADD, t->evfd, &ev2) < 0)
		goto fail;
	t->io = calloc((size_t)io_threads, sizeof(pthread_t));
	if (!t->io)
		goto fail;
	/* Threads inherit a mask with every signal blocked: signals belong to
	 * the daemon's own loop. */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	for (t->nio = 0; t->nio < io_threads; t->nio++)
		if (pthread_create(&t->io[t->nio], NULL, io_main, t))
			break;
	t->login_running = 1;
	t->login_started =
	    t->nio == io_threads && pthread_create(&t->login, NULL, login_main, t) == 0;
	t->login_running = t->login_started;
	int ok = t->login_started && pthread_create(&t->net, NULL, net_main, t) == 0;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!ok) {
		fb_iscsi_target_stop(t);
		errno = EAGAIN;
		return NULL;
	}
	log_info("iSCSI target listening on %s:%d", addr && *addr ? addr : "*", port);
	return t;
fail:;
	int e = errno;
	if (t->lfd >= 0)
		close(t->lfd);
	if (t->epfd >= 0)
		close(t->epfd);
	if (t->evfd >= 0)
		close(t->evfd);
	free(t);
	errno = e;
	return NULL;
}

void fb_iscsi_target_stop(struct fb_iscsi_target *t)
{
	if (!t)
		return;
	{
		ACQUIRE_LOCK_FOR_CURRENT_SCOPE(&t->qlock);
		t->stopping = 1;
		pthread_cond_broadcast(&t->qcond);
		pthread_cond_broadcast(&t->lcond);
	}
	iscsi_wake(t);
	if (t->net)
		pthread_join(t->net, NULL);
	for (int i = 0; i < t->nio; i++)
		pthread_join(t->io[i], NULL);
	if (t->login_started)
		pthread_join(t->login, NULL);
	/* Tasks left in the queues still hold their connections. */
	while (t->qh || t->lh) {
		struct iscsi_task **q = t->qh ? &t->qh : &t->lh;
		struct iscsi_task *task = *q;
		*q = task->qnext;
		struct iscsi_conn *c = task->c;
		int unref = task->login != LOGIN_FREE; /* LOGIN_FREE: no references left */
		free(task->data);
		free(task);
		if (unref)
			iscsi_conn_unref(c);
		else
			conn_free(c);
	}
	close(t->lfd);
	close(t->epfd);
	close(t->evfd);
	free(t->io);
	pthread_mutex_destroy(&t->qlock);
	pthread_cond_destroy(&t->qcond);
	pthread_cond_destroy(&t->lcond);
	pthread_mutex_destroy(&t->tsih_lock);
	free(t);
}

void fb_iscsi_target_stats(struct fb_iscsi_target *t, struct fb_iscsi_stats *st)
{
	st->sessions = atomic_load(&t->sessions);
	st->bytes_read = atomic_load(&t->bytes_read);
	st->bytes_written = atomic_load(&t->bytes_written);
}
