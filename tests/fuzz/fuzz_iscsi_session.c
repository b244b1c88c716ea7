/*
 * fuzz_iscsi_session.c - whole iSCSI sessions through the target's real
 * state machine: a login with real CHAP (the harness knows the machine's
 * secret and answers the target's challenge, or answers it wrongly), with
 * negotiated InitialR2T, ImmediateData and burst lengths chosen by the
 * input, sometimes mutual CHAP, another spelling of the MAC or a
 * TargetName switched in a later login PDU; then a full feature phase
 * driven by a list of operations: WRITE with immediate data, Data-Out
 * that follows the target's R2Ts, Data-Out with fuzzed TTT, DataSN,
 * offset and length, replays of the last Data-Out, READ, NOP, Text, task
 * management, logout, and raw PDUs. The harness reads the target's
 * output (R2Ts, login responses) to stay in step with it, so solicited,
 * unsolicited, overlapping and replayed data are all reached. Data-Out
 * goes through iscsi_data_out_dest as the network thread does, and write
 * commands get the buffer iscsi_cmd_buffer_size asks for. Tasks run
 * inline on a 64 KiB RAM disk that aborts on any access out of range.
 */
#include <errno.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "byteorder.h"
#include "cleanup.h"
#include "log.h"
#include "quiet_log.h"
#include "ram_bdev.h"
#include "iscsi/iscsi_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct fb_blockdev ram_bd = {.ops = &ram_ops, .size = RAM_SIZE, .block_size = 512};

#define MACID  "52-54-00-00-00-01"
#define SECRET "0123456789abcdef0123456789abcdef"

static int be_lookup(void *arg, const char *macid, const struct sockaddr_in *peer, char secret[33],
                     char mutual[33], char must_mutual[FB_ISCSI_REASON_LEN])
{
	if (strcmp(macid, MACID))
		return -ENOENT;
	memcpy(secret, SECRET, 33);
	memcpy(mutual, "fedcba9876543210fedcba9876543210", 33);
	return 0;
}
static struct fb_blockdev *be_open(void *arg, const char *macid, const struct sockaddr_in *peer)
{
	return &ram_bd;
}
static void be_release(void *arg, const char *macid, struct fb_blockdev *bd)
{
}

/* The input, taken a byte at a time (zeros once it runs out). */
struct in {
	const uint8_t *p;
	size_t n;
};
static uint8_t take(struct in *in)
{
	if (!in->n)
		return 0;
	in->n--;
	return *in->p++;
}
static uint32_t take16(struct in *in)
{
	return (uint32_t)take(in) << 8 | take(in);
}

/* What the harness learned from the target's output. */
struct seen {
	int r2t;                         /* an R2T came */
	uint32_t r2t_itt, ttt, off, len; /* the last one */
	uint32_t sent, datasn;           /* Data-Out the harness sent for it */
	uint8_t text[4096];              /* the last login response's text */
	size_t text_len;
	int login_failed;
	uint32_t statsn;
};

struct sess {
	struct fb_iscsi_target *t;
	struct iscsi_conn *c;
	int peer; /* our end of the socket pair */
	struct seen s;
	uint32_t cmdsn, itt, write_itt;
	uint8_t last_hdr[ISCSI_BHS_LEN]; /* the last Data-Out, for replays */
	uint32_t last_len;
	int have_last;
};

static uint8_t pattern[65536];

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

/* Read what the target sent and remember R2Ts and login responses. */
static void read_output(struct sess *x)
{
	static uint8_t b[1 << 20];
	size_t len = 0;
	ssize_t r;
	while (len < sizeof(b) && (r = read(x->peer, b + len, sizeof(b) - len)) > 0)
		len += (size_t)r;
	for (size_t at = 0; at + ISCSI_BHS_LEN <= len;) {
		struct iscsi_bhs h;
		iscsi_bhs_parse(b + at, ISCSI_BHS_LEN, &h);
		size_t body = (size_t)iscsi_pdu_body_len(&h);
		if (at + ISCSI_BHS_LEN + body > len)
			break;
		const uint8_t *d = b + at + ISCSI_BHS_LEN + (size_t)h.ahs_words * 4;
		if (h.opcode == ISCSI_OP_R2T) {
			x->s.r2t = 1;
			x->s.r2t_itt = h.itt;
			x->s.ttt = bhs_ttt(&h);
			x->s.off = bhs_buffer_offset(&h);
			x->s.len = bhs_desired_len(&h);
			x->s.sent = 0;
			x->s.datasn = 0;
		} else if (h.opcode == ISCSI_OP_LOGIN_RSP) {
			x->s.text_len = h.dlen < sizeof(x->s.text) ? h.dlen : sizeof(x->s.text);
			memcpy(x->s.text, d, x->s.text_len);
			x->s.login_failed = bhs_login_status(&h) != 0;
		}
		if (h.opcode != ISCSI_OP_DATA_IN && h.opcode != ISCSI_OP_R2T)
			x->s.statsn = h.w24 + 1;
		at += ISCSI_BHS_LEN + body;
	}
}

/* Hand one PDU (raw header, data) to the target as its network thread
 * would, run what it queued, and read its answer. */
static void feed(struct sess *x, const uint8_t raw[ISCSI_BHS_LEN], const uint8_t *data, size_t dlen)
{
	struct iscsi_conn *c = x->c;
	memcpy(c->hdr, raw, ISCSI_BHS_LEN);
	iscsi_bhs_parse(raw, ISCSI_BHS_LEN, &c->bhs);
	c->bhs.ahs_words = 0;
	c->bhs.dlen = (uint32_t)dlen;
	if (c->phase == PH_LOGIN) {
		if (c->bhs.opcode != ISCSI_OP_LOGIN_REQ) {
			c->phase = PH_CLOSING;
			return;
		}
		CLEANUP_FREE uint8_t *body = calloc(1, dlen + 1);
		if (dlen)
			memcpy(body, data, dlen);
		if (iscsi_login_pdu(c, &c->bhs, body, dlen) < 0)
			c->phase = PH_CLOSING;
		ACQUIRE_LOCK_FOR_CURRENT_SCOPE(&c->lock);
		iscsi_login_finish(c);
	} else if (c->phase == PH_FFP) {
		uint8_t *dest = iscsi_data_out_dest(c, &c->bhs);
		if (dest) {
			memcpy(dest, data, dlen); /* dest: dlen > 0 */
			iscsi_ffp_pdu(c, &c->bhs, dest, dlen);
		} else {
			size_t blen = iscsi_pad4(dlen);
			size_t cap = iscsi_cmd_buffer_size(c, &c->bhs, blen);
			c->body = calloc(1, cap + 1);
			if (c->body) {
				if (dlen)
					memcpy(c->body, data, dlen);
				iscsi_ffp_pdu(c, &c->bhs, c->body, blen);
			}
			free(c->body);
			c->body = NULL;
		}
	}
	run_queue(x->t);
	read_output(x);
}

static void login_pdu(struct sess *x, int csg, int nsg, int transit, struct fb_buf *text)
{
	struct iscsi_bhs h = {0};
	uint8_t raw[ISCSI_BHS_LEN];
	h.opcode = ISCSI_OP_LOGIN_REQ;
	h.immediate = 1;
	h.flags = (uint8_t)((transit ? ISCSI_FLAG_T : 0) | csg << 2 | nsg);
	h.lun = (uint64_t)0x400000001234ULL << 16;
	h.itt = x->itt;
	h.w24 = x->cmdsn;
	h.w28 = x->s.statsn;
	h.dlen = (uint32_t)text->len;
	iscsi_bhs_build(&h, raw);
	feed(x, raw, (const uint8_t *)text->data, text->failed ? 0 : text->len);
	fb_buf_reset(text);
}

static const char *key_of(struct sess *x, const char *key)
{
	size_t kl = strlen(key);
	for (size_t i = 0; i < x->s.text_len;) {
		const char *s = (const char *)x->s.text + i;
		size_t l = strnlen(s, x->s.text_len - i);
		if (l > kl && !strncmp(s, key, kl) && s[kl] == '=' && i + l < x->s.text_len)
			return s + kl + 1;
		i += l + 1;
	}
	return NULL;
}

/* A login as the input decides: flags in the first two bytes. */
static void do_login(struct sess *x, struct in *in)
{
	uint8_t f = take(in), g = take(in);
	struct fb_buf t = {0};
	char target[128];
	const char *mac = (f & 0x20)   ? "52:54:00:00:00:01"
	                  : (f & 0x80) ? "52-54-00-00-00-0X"
	                               : MACID;
	snprintf(target, sizeof(target), "%s%s", FB_ISCSI_IQN_PREFIX, mac);
	iscsi_text_add(&t, "InitiatorName", "iqn.2026-11.fuzz:i");
	if (f & 0x40) {
		iscsi_text_add(&t, "SessionType", "Discovery");
	} else {
		iscsi_text_add(&t, "TargetName", target);
		iscsi_text_add(&t, "SessionType", "Normal");
	}
	iscsi_text_add(&t, "AuthMethod", "CHAP,None");
	login_pdu(x, 0, 1, 0, &t);
	if (x->c->phase != PH_LOGIN || x->s.login_failed)
		goto out;
	iscsi_text_add(&t, "CHAP_A", "5");
	login_pdu(x, 0, 1, 0, &t);
	const char *ci = key_of(x, "CHAP_I"), *cc = key_of(x, "CHAP_C");
	uint8_t chal[64], buf[128], md[16];
	uint64_t id;
	int cl = cc ? iscsi_val_binary(cc, chal, sizeof(chal)) : -1;
	if (x->c->phase != PH_LOGIN || !ci || cl <= 0 || iscsi_val_number(ci, &id) < 0)
		goto out;
	const char *sec = (f & 4) ? "wrongwrongwrongwrongwrongwrong00" : SECRET;
	buf[0] = (uint8_t)id;
	memcpy(buf + 1, sec, 32);
	memcpy(buf + 33, chal, (size_t)cl);
	unsigned int mdl;
	EVP_Digest(buf, 33 + (size_t)cl, md, &mdl, EVP_md5(), NULL);
	char hex[40] = "0x";
	for (int i = 0; i < 16; i++)
		snprintf(hex + 2 + 2 * i, 3, "%02x", md[i]);
	iscsi_text_add(&t, "CHAP_N", (f & 0x20) ? "52-54-00-00-00-01" : mac);
	iscsi_text_add(&t, "CHAP_R", hex);
	if (f & 8) {
		iscsi_text_add(&t, "CHAP_I", "9");
		iscsi_text_add(&t, "CHAP_C", (g & 1) ? hex : "0x00112233445566778899aabbccddeeff");
	}
	login_pdu(x, 0, 1, 1, &t);
	if (x->c->phase != PH_LOGIN || x->s.login_failed)
		goto out;
	if (f & 0x10)
		iscsi_text_add(&t, "TargetName", FB_ISCSI_IQN_PREFIX "52-54-00-00-00-02");
	iscsi_text_add(&t, "HeaderDigest", "None");
	iscsi_text_add(&t, "DataDigest", "None");
	iscsi_text_add(&t, "InitialR2T", (f & 1) ? "Yes" : "No");
	iscsi_text_add(&t, "ImmediateData", (f & 2) ? "Yes" : "No");
	iscsi_text_addf(&t, "FirstBurstLength", "%u", 512u * (1 + (g >> 4)));
	iscsi_text_addf(&t, "MaxBurstLength", "%u", 512u * (1 + ((g >> 1) & 7) * 4));
	iscsi_text_add(&t, "MaxRecvDataSegmentLength", "8192");
	login_pdu(x, 1, 3, 1, &t);
out:
	fb_buf_free(&t);
}

/* A SCSI command PDU with the 16-byte CDB cdb. */
static void scsi_cmd_cdb(struct sess *x, const uint8_t *cdb, uint32_t edtl, uint8_t flags,
                         const uint8_t *imm, size_t ilen)
{
	uint8_t raw[ISCSI_BHS_LEN] = {0};
	struct iscsi_bhs h = {0};
	h.opcode = ISCSI_OP_SCSI_CMD;
	h.flags = flags;
	h.itt = ++x->itt;
	h.w20 = edtl;
	h.w24 = x->cmdsn++;
	h.w28 = x->s.statsn;
	h.dlen = (uint32_t)ilen;
	iscsi_bhs_build(&h, raw);
	memcpy(raw + 32, cdb, 16);
	if (flags & ISCSI_CMD_W)
		x->write_itt = h.itt;
	feed(x, raw, imm, ilen);
}

/* A SCSI command PDU. */
static void scsi_cmd(struct sess *x, uint8_t op, uint32_t lba, uint32_t blocks, uint32_t edtl,
                     uint8_t flags, const uint8_t *imm, size_t ilen)
{
	uint8_t raw[ISCSI_BHS_LEN] = {0};
	struct iscsi_bhs h = {0};
	h.opcode = ISCSI_OP_SCSI_CMD;
	h.flags = flags;
	h.itt = ++x->itt;
	h.w20 = edtl;
	h.w24 = x->cmdsn++;
	h.w28 = x->s.statsn;
	h.dlen = (uint32_t)ilen;
	iscsi_bhs_build(&h, raw);
	raw[32] = op; /* READ 10 / WRITE 10 */
	fb_put_be32(raw + 34, lba);
	raw[39] = (uint8_t)(blocks >> 8);
	raw[40] = (uint8_t)blocks;
	if (flags & ISCSI_CMD_W)
		x->write_itt = h.itt;
	feed(x, raw, imm, ilen);
}

static void data_out(struct sess *x, uint32_t itt, uint32_t ttt, uint32_t sn, uint32_t off,
                     uint32_t len, int final)
{
	uint8_t raw[ISCSI_BHS_LEN];
	struct iscsi_bhs h = {0};
	h.opcode = ISCSI_OP_DATA_OUT;
	h.flags = final ? ISCSI_FLAG_F : 0;
	h.itt = itt;
	h.w20 = ttt;
	h.w28 = x->s.statsn;
	h.w36 = sn;
	h.w40 = off;
	h.dlen = len;
	iscsi_bhs_build(&h, raw);
	memcpy(x->last_hdr, raw, sizeof(raw));
	x->last_len = len;
	x->have_last = 1;
	feed(x, raw, pattern, len);
}

/* One operation of the full feature phase. */
static void do_op(struct sess *x, struct in *in)
{
	uint8_t op = take(in) % 12;
	uint8_t raw[ISCSI_BHS_LEN];
	struct iscsi_bhs h = {0};
	switch (op) {
	case 0: { /* WRITE 10, maybe with immediate data, EDTL around the CDB's length */
		uint32_t blocks = 1 + take(in) % 24, lba = take(in) % 120;
		uint8_t v = take(in);
		uint32_t edtl = blocks * 512;
		if (v & 1)
			edtl += 512;
		else if (v & 2)
			edtl -= 512;
		uint32_t ilen = (v & 4) ? (uint32_t)take16(in) % (edtl + 1) : 0;
		if (ilen > 8192)
			ilen = 8192;
		scsi_cmd(x, 0x2a, lba, blocks, edtl, ISCSI_CMD_W | ((v & 8) ? 0 : ISCSI_FLAG_F),
		         pattern, ilen);
		break;
	}
	case 1: { /* the next Data-Out the last R2T asked for */
		if (!x->s.r2t || x->s.sent >= x->s.len)
			break;
		uint32_t n = 512u * (1 + take(in) % 16), left = x->s.len - x->s.sent;
		if (n > left)
			n = left;
		data_out(x, x->s.r2t_itt, x->s.ttt, x->s.datasn++, x->s.off + x->s.sent, n,
		         x->s.sent + n == x->s.len);
		x->s.sent += n;
		break;
	}
	case 2: { /* a Data-Out with fuzzed fields */
		uint8_t v = take(in);
		uint32_t ttt = (v & 3) == 0 ? x->s.ttt : (v & 3) == 1 ? ISCSI_RSVD_TAG : take16(in);
		uint32_t itt = (v & 4) ? x->write_itt : take16(in);
		uint32_t sn = (v & 8) ? x->s.datasn : take(in);
		uint32_t off = (v & 16) ? x->s.off + x->s.sent : take16(in) * 4;
		uint32_t len = (uint32_t)(take(in) % 17) * 512;
		data_out(x, itt, ttt, sn, off, len, v >> 7);
		break;
	}
	case 3: /* the last Data-Out once more */
		if (x->have_last) {
			uint8_t again[ISCSI_BHS_LEN];
			memcpy(again, x->last_hdr, sizeof(again));
			if (take(in) & 1) /* ... at the next DataSN */
				fb_put_be32(again + 36, fb_get_be32(again + 36) + 1);
			feed(x, again, pattern, x->last_len);
		}
		break;
	case 4: /* READ 10 */
		scsi_cmd(x, 0x28, take(in) % 128, take(in) % 16, 512u * (take(in) % 17),
		         ISCSI_FLAG_F | ISCSI_CMD_R, NULL, 0);
		break;
	case 11: { /* reservations: PR OUT with a fuzzed parameter list, PR IN,
		    * RESERVE/RELEASE(6), REPORT SUPPORTED OPERATION CODES */
		static const uint8_t ops[] = {0x5f, 0x5e, 0x16, 0x17, 0xa3};
		uint8_t cdb[16] = {0}, list[24];
		cdb[0] = ops[take(in) % sizeof(ops)];
		cdb[1] = take(in);
		cdb[2] = take(in);
		for (size_t i = 0; i < sizeof(list); i++)
			list[i] = take(in);
		uint32_t len = take(in) & 1 ? 24 : take(in);
		if (cdb[0] == 0x5f) {
			fb_put_be32(cdb + 5, len);
			scsi_cmd_cdb(x, cdb, len, ISCSI_FLAG_F | ISCSI_CMD_W, list,
			             len < sizeof(list) ? len : sizeof(list));
		} else {
			fb_put_be16(cdb + 7, (uint16_t)len);
			if (cdb[0] == 0xa3)
				fb_put_be32(cdb + 6, len);
			scsi_cmd_cdb(x, cdb, len, ISCSI_FLAG_F | ISCSI_CMD_R, NULL, 0);
		}
		break;
	}
	case 5: /* NOP-Out, pinging or not */
		h.opcode = ISCSI_OP_NOP_OUT;
		h.immediate = take(in) & 1;
		h.flags = ISCSI_FLAG_F;
		h.itt = (take(in) & 1) ? ISCSI_RSVD_TAG : ++x->itt;
		h.w20 = ISCSI_RSVD_TAG;
		h.w24 = h.immediate ? x->cmdsn : x->cmdsn++;
		h.w28 = x->s.statsn;
		h.dlen = 4;
		iscsi_bhs_build(&h, raw);
		feed(x, raw, pattern, 4);
		break;
	case 6: { /* Text: SendTargets */
		static const char st[] = "SendTargets=All";
		h.opcode = ISCSI_OP_TEXT_REQ;
		h.immediate = 1;
		h.flags = ISCSI_FLAG_F;
		h.itt = ++x->itt;
		h.w20 = ISCSI_RSVD_TAG;
		h.w24 = x->cmdsn;
		h.w28 = x->s.statsn;
		h.dlen = sizeof(st);
		iscsi_bhs_build(&h, raw);
		feed(x, raw, (const uint8_t *)st, sizeof(st));
		break;
	}
	case 7: /* task management: abort the last write, or a reset */
		h.opcode = ISCSI_OP_TMF_REQ;
		h.immediate = 1;
		h.flags = (uint8_t)(ISCSI_FLAG_F | (1 + take(in) % 7));
		h.itt = ++x->itt;
		h.w20 = x->write_itt;
		h.w24 = x->cmdsn;
		h.w28 = x->s.statsn;
		h.w32 = x->cmdsn - 1;
		iscsi_bhs_build(&h, raw);
		feed(x, raw, NULL, 0);
		break;
	case 8: /* logout */
		h.opcode = ISCSI_OP_LOGOUT;
		h.immediate = 1;
		h.flags = (uint8_t)(ISCSI_FLAG_F | take(in) % 3);
		h.itt = ++x->itt;
		h.w24 = x->cmdsn;
		h.w28 = x->s.statsn;
		iscsi_bhs_build(&h, raw);
		feed(x, raw, NULL, 0);
		break;
	case 9: { /* a raw header from the input, with a data segment of pattern */
		for (size_t i = 0; i < sizeof(raw); i++)
			raw[i] = take(in);
		raw[4] = 0; /* no AHS */
		uint32_t dlen = fb_get_be32(raw + 4) & 0xffffff;
		if (dlen > 8192)
			dlen = 8192;
		raw[5] = (uint8_t)(dlen >> 16);
		raw[6] = (uint8_t)(dlen >> 8);
		raw[7] = (uint8_t)dlen;
		feed(x, raw, pattern, dlen);
		break;
	}
	default: /* CmdSN jumps ahead or back */
		x->cmdsn += (uint32_t)(int8_t)take(in);
		break;
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
		memset(pattern, 0x5a, sizeof(pattern));
		init = 1;
	}
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
	struct sess x = {.t = &t, .c = c, .peer = sv[1], .cmdsn = 1, .itt = 0x10};
	struct in in = {data, size};
	do_login(&x, &in);
	for (int ops = 0; in.n && ops < 256 && c->phase == PH_FFP && !c->want_close; ops++)
		do_op(&x, &in);
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
