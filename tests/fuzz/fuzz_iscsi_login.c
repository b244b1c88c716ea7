/*
 * fuzz_iscsi_login.c - the target's PDU handling on one connection, fed a
 * sequence of PDUs (48-byte header, then as much of its data segment as
 * the input holds): login negotiation and CHAP, then, once in full
 * feature phase, text, NOP, task management, SCSI commands with their
 * Data-Out, all run against a 64 KiB RAM disk. The first input byte
 * selects whether CHAP counts as already passed (the fuzzer cannot
 * compute MD5 responses), so both the security stage and the phases
 * after it are reached, and whether the machine must log in with mutual
 * CHAP. Queued SCSI tasks run inline after each PDU.
 */
// clang-format off
// clang-format on
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cleanup.h"
#include "log.h"
#include "quiet_log.h"
#include "ram_bdev.h"
#include "iscsi/iscsi_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct fb_blockdev ram_bd = {.ops = &ram_ops, .size = RAM_SIZE, .block_size = 512};

#define MACID "52-54-00-00-00-01"

static int must_mutual_now; /* this input's machine wants mutual CHAP */

static int be_lookup(void *arg, const char *macid, const struct sockaddr_in *peer, char secret[33],
                     char mutual[33], char must_mutual[FB_ISCSI_REASON_LEN])
{
	if (strcmp(macid, MACID))
		return -ENOENT;
	memcpy(secret, "0123456789abcdef0123456789abcdef", 33);
	memcpy(mutual, "fedcba9876543210fedcba9876543210", 33);
	snprintf(must_mutual, FB_ISCSI_REASON_LEN, "%s", must_mutual_now ? "mutual required" : "");
	return 0;
}
static struct fb_blockdev *be_open(void *arg, const char *macid, const struct sockaddr_in *peer)
{
	return &ram_bd;
}
static void be_release(void *arg, const char *macid, struct fb_blockdev *bd)
{
}

static void drain(int fd)
{
	uint8_t b[65536];
	while (read(fd, b, sizeof(b)) > 0)
		;
}

/* Run the tasks the PDU queued, as an I/O thread would. */
static void run_queue(struct fb_iscsi_target *t)
{
	iscsi_dispatch(t);
	while (t->qh) {
		struct iscsi_task *task = t->qh;
		t->qh = task->qnext;
		if (!t->qh)
			t->qt = NULL;
		struct iscsi_conn *c = task->c;
		iscsi_task_run(task, 0, 0);
		iscsi_conn_unref(c);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fb_iscsi_target t;
	static int init;
	if (!init) {
		t.epfd = epoll_create1(EPOLL_CLOEXEC);
		t.evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		t.be.lookup = be_lookup;
		t.be.open = be_open;
		t.be.release = be_release;
		t.next_tsih = 1;
		pthread_mutex_init(&t.qlock, NULL);
		pthread_cond_init(&t.qcond, NULL);
		t.nio = 1;
		pthread_mutex_init(&t.tsih_lock, NULL);
		init = 1;
	}
	if (size < 1)
		return 0;
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) < 0)
		return 0;
	int sz = 1 << 20;
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	struct iscsi_conn *c = calloc(1, sizeof(*c));
	c->t = &t;
	c->fd = sv[0];
	c->refs = 1;
	c->next_ttt = 1;
	c->p.max_send_dsl = 8192;
	pthread_mutex_init(&c->lock, NULL);
	snprintf(c->peer_str, sizeof(c->peer_str), "fuzz");
	must_mutual_now = (data[0] & 4) != 0;
	if (data[0] & 1)
		c->chap_step = 2; /* as if CHAP had succeeded */
	if (data[0] & 2) {
		/* Start in the operational stage with the machine known. */
		snprintf(c->macid, sizeof(c->macid), MACID);
		be_lookup(NULL, MACID, NULL, c->secret, c->mutual, c->must_mutual);
	}
	data++;
	size--;
	while (size >= ISCSI_BHS_LEN && c->phase != PH_CLOSING && !c->want_close) {
		memcpy(c->hdr, data, ISCSI_BHS_LEN);
		iscsi_bhs_parse(data, ISCSI_BHS_LEN, &c->bhs);
		data += ISCSI_BHS_LEN;
		size -= ISCSI_BHS_LEN;
		/* Keep the declared lengths but cap them to what the input has,
		 * as the network code would have waited for the rest. */
		uint32_t limit =
		    c->phase == PH_LOGIN ? ISCSI_LOGIN_MAX_DSL : ISCSI_OUR_MAX_RECV_DSL;
		if (c->bhs.dlen > limit)
			break;
		size_t ahs = (size_t)c->bhs.ahs_words * 4;
		size_t body_len = (size_t)iscsi_pdu_body_len(&c->bhs);
		if (body_len > size) {
			if (c->bhs.dlen + ahs > size)
				break;
		}
		CLEANUP_FREE uint8_t *body = calloc(1, body_len + 1);
		memcpy(body, data, body_len < size ? body_len : size);
		size_t used = body_len < size ? body_len : size;
		data += used;
		size -= used;
		if (c->phase == PH_LOGIN) {
			if (c->bhs.opcode != ISCSI_OP_LOGIN_REQ ||
			    iscsi_login_pdu(c, &c->bhs, body + ahs, c->bhs.dlen) < 0)
				break;
			ACQUIRE_LOCK_FOR_CURRENT_SCOPE(&c->lock);
			iscsi_login_finish(c);
		} else if (iscsi_ffp_pdu(c, &c->bhs, body, body_len) < 0) {
			break;
		}
		run_queue(&t);
		drain(sv[1]);
	}
	{
		ACQUIRE_LOCK_FOR_CURRENT_SCOPE(&c->lock);
		c->dead = 1;
	}
	iscsi_session_cleanup(c);
	run_queue(&t);
	iscsi_conn_unref(c); /* closes sv[0], frees the connection */
	close(sv[1]);
	return 0;
}
