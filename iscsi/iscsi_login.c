/*
 * iscsi_login.c - the login phase (RFC 7143 section 6 and 11.12-11.13):
 * operational key negotiation, CHAP (RFC 1994, algorithm 5 = MD5), and
 * SendTargets for discovery.
 *
 * Access rule. Every session, discovery included, must authenticate with
 * CHAP as a machine: CHAP_N is the machine id (MACID) and the secret is
 * that machine's secret; the backend's lookup also applies the
 * require_lease_ip check to the peer address. A normal session's
 * TargetName must be iqn.2026-11.org.fleetboot:MACID for that same MACID.
 * A discovery session's SendTargets lists only the target of the machine
 * that authenticated, because the initiator's own IQN says nothing
 * trustworthy about which machine is asking.
 *
 * Machine ids are taken in the canonical form only (macid_normalize: the
 * initiator may spell the MAC with colons or in capitals, and still means
 * one machine, one overlay); what does not parse is no machine. The target
 * name and initiator name are fixed by the first login PDU that carries
 * them, and the machine with them: a later PDU that names another is a
 * login error, never a way to act on another machine's session.
 *
 * Mutual CHAP. The initiator may challenge the target too (CHAP_I and
 * CHAP_C with its response); the target answers with the machine's other
 * secret. Where the backend's lookup says a machine must log in that way
 * (must_mutual), a login whose right response comes without a challenge
 * fails with Authentication failure and the backend's reason in the log:
 * one-way CHAP lets anyone who answers on the target's address serve
 * that machine a disk.
 *
 * Failures do not tell an unknown machine, a refused address and a wrong
 * CHAP response apart: the first two run CHAP on against a random secret
 * and fail at the response with the same status (Authentication failure)
 * as a wrong answer does. Only the log says which it was.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "log.h"
#include "logsafe.h"
#include "netaddr.h"
#include "iscsi/iscsi_int.h"
#include "str.h"

#define MAX_KEYS 64

/* Login status classes and details (RFC 7143 11.13.5). */
#define ST_INIT_ERR      0x0200
#define ST_AUTH_FAIL     0x0201
#define ST_FORBIDDEN     0x0202
#define ST_NOT_FOUND     0x0203
#define ST_BAD_VERSION   0x0205
#define ST_MISSING_PARAM 0x0207
#define ST_NO_SESSION    0x020a
#define ST_TARGET_ERR    0x0300
#define ST_OUT_OF_RES    0x0302

static int md5(const uint8_t *p, size_t n, uint8_t out[16])
{
	unsigned int len = 0;
	return EVP_Digest(p, n, out, &len, EVP_md5(), NULL) == 1 && len == 16 ? 0 : -1;
}

/* CHAP response: MD5(identifier || secret || challenge). */
static int chap_response(uint8_t id, const char *secret, const uint8_t *chal, size_t clen,
                         uint8_t out[16])
{
	size_t sl = strlen(secret);
	uint8_t *buf = malloc(1 + sl + clen);
	if (!buf)
		return -1;
	buf[0] = id;
	memcpy(buf + 1, secret, sl);
	memcpy(buf + 1 + sl, chal, clen);
	int rc = md5(buf, 1 + sl + clen, out);
	OPENSSL_cleanse(buf, 1 + sl + clen);
	free(buf);
	return rc;
}

static void hex_of(const uint8_t *p, size_t n, char *out)
{
	static const char d[] = "0123456789abcdef";
	out[0] = '0';
	out[1] = 'x';
	for (size_t i = 0; i < n; i++) {
		out[2 + 2 * i] = d[p[i] >> 4];
		out[3 + 2 * i] = d[p[i] & 15];
	}
	out[2 + 2 * n] = 0;
}

/* Send a login response; class_detail 0 = success. */
static void login_reply(struct iscsi_conn *c, const struct iscsi_bhs *req, int transit, int nsg,
                        int status, struct fb_buf *text)
{
	size_t dlen = text && !text->failed ? text->len : 0;
	struct iscsi_out *o = iscsi_out_new(ISCSI_BHS_LEN + iscsi_pad4(dlen));
	if (!o) {
		ACQUIRE_LOCK_FOR_CURRENT_SCOPE(&c->lock);
		c->want_close = 1;
		return;
	}
	struct iscsi_bhs h = {0};
	h.opcode = ISCSI_OP_LOGIN_RSP;
	h.flags = (uint8_t)(((req->flags >> 2) & 3) << 2);
	if (transit && !status)
		h.flags |= (uint8_t)(ISCSI_FLAG_T | (nsg & 3));
	h.dlen = (uint32_t)dlen;
	h.lun = c->isid << 16 | c->tsih;
	h.itt = req->itt;
	bhs_set_login_status(&h, (uint16_t)status);
	iscsi_bhs_build(&h, o->data);
	if (dlen)
		memcpy(o->data + ISCSI_BHS_LEN, text->data, dlen);
	if (status)
		o->close_after = 1;
	iscsi_send_stamped(c, o, 1);
}

static int login_fail(struct iscsi_conn *c, const struct iscsi_bhs *req, int status,
                      const char *why)
{
	char ini[FB_LOG_ESCAPE_LEN], tgt[FB_LOG_ESCAPE_LEN];
	log_warnx("iSCSI login from %s (%s, target %s) refused: %s", c->peer_str,
	          c->initiator_name[0] ? fb_log_escape(c->initiator_name, ini, sizeof(ini)) : "?",
	          c->target_name[0] ? fb_log_escape(c->target_name, tgt, sizeof(tgt))
	                            : (c->discovery ? "discovery" : "?"),
	          why);
	login_reply(c, req, 0, 0, status, NULL);
	c->login_next = PH_CLOSING;
	return 0;
}

static int num_in(const char *v, uint64_t lo, uint64_t hi, uint64_t *out)
{
	return iscsi_val_number(v, out) == 0 && *out >= lo && *out <= hi ? 0 : -1;
}

/*
 * Operational keys (RFC 7143 section 13), one handler each. A handler
 * takes the initiator's value, records what was agreed and appends our
 * answer (a declarative key gets none).
 */

/* HeaderDigest, DataDigest: the first of the initiator's choices we
 * support. Digests cannot change in full feature phase. */
static void op_digest(struct iscsi_conn *c, const char *k, const char *v, struct fb_buf *out)
{
	if (c->phase != PH_LOGIN) {
		iscsi_text_add(out, k, "Reject");
		return;
	}
	const char *pick = "Reject";
	for (const char *p = v; *p;) {
		const char *e = strchr(p, ',');
		size_t l = e ? (size_t)(e - p) : strlen(p);
		if (l == 6 && !strncmp(p, "CRC32C", 6)) {
			pick = "CRC32C";
			break;
		}
		if (l == 4 && !strncmp(p, "None", 4)) {
			pick = "None";
			break;
		}
		if (!e)
			break;
		p = e + 1;
	}
	if (k[0] == 'H')
		c->hdigest_neg = !strcmp(pick, "CRC32C");
	else
		c->ddigest_neg = !strcmp(pick, "CRC32C");
	iscsi_text_add(out, k, pick);
}

/* MaxRecvDataSegmentLength: declarative, what we may send per PDU. */
static void op_max_recv_dsl(struct iscsi_conn *c, const char *k, const char *v, struct fb_buf *out)
{
	uint64_t n;
	if (num_in(v, 512, 16777215, &n) < 0)
		iscsi_text_add(out, k, "Reject");
	else
		c->p.max_send_dsl = (uint32_t)n;
}

/* MaxBurstLength: the smaller of theirs and ours. */
static void op_max_burst(struct iscsi_conn *c, const char *k, const char *v, struct fb_buf *out)
{
	uint64_t n;
	if (num_in(v, 512, 16777215, &n) < 0) {
		iscsi_text_add(out, k, "Reject");
		return;
	}
	c->p.max_burst = n < ISCSI_OUR_MAX_BURST ? (uint32_t)n : ISCSI_OUR_MAX_BURST;
	iscsi_text_addf(out, k, "%u", c->p.max_burst);
}

/* FirstBurstLength: the smaller of theirs and ours. */
static void op_first_burst(struct iscsi_conn *c, const char *k, const char *v, struct fb_buf *out)
{
	uint64_t n;
	if (num_in(v, 512, 16777215, &n) < 0) {
		iscsi_text_add(out, k, "Reject");
		return;
	}
	c->p.first_burst = n < ISCSI_OUR_FIRST_BURST ? (uint32_t)n : ISCSI_OUR_FIRST_BURST;
	iscsi_text_addf(out, k, "%u", c->p.first_burst);
}

/* InitialR2T: OR with our No, so the initiator decides. */
static void op_initial_r2t(struct iscsi_conn *c, const char *k, const char *v, struct fb_buf *out)
{
	int b;
	if (iscsi_val_bool(v, &b) < 0) {
		iscsi_text_add(out, k, "Reject");
		return;
	}
	c->p.initial_r2t = b;
	iscsi_text_add(out, k, b ? "Yes" : "No");
}

/* ImmediateData: AND with our Yes, so the initiator decides. */
static void op_immediate_data(struct iscsi_conn *c, const char *k, const char *v,
                              struct fb_buf *out)
{
	int b;
	if (iscsi_val_bool(v, &b) < 0) {
		iscsi_text_add(out, k, "Reject");
		return;
	}
	c->p.immediate_data = b;
	iscsi_text_add(out, k, b ? "Yes" : "No");
}

/* MaxOutstandingR2T, MaxConnections: we take one at a time. */
static void op_one(struct iscsi_conn *c, const char *k, const char *v, struct fb_buf *out)
{
	uint64_t n;
	iscsi_text_add(out, k, num_in(v, 1, 65535, &n) < 0 ? "Reject" : "1");
}

/* DataPDUInOrder, DataSequenceInOrder: OR with our Yes, always in order. */
static void op_in_order(struct iscsi_conn *c, const char *k, const char *v, struct fb_buf *out)
{
	int b;
	iscsi_text_add(out, k, iscsi_val_bool(v, &b) < 0 ? "Reject" : "Yes");
}

/* ErrorRecoveryLevel: the minimum, and ours is 0. */
static void op_erl(struct iscsi_conn *c, const char *k, const char *v, struct fb_buf *out)
{
	uint64_t n;
	iscsi_text_add(out, k, num_in(v, 0, 2, &n) < 0 ? "Reject" : "0");
}

/* DefaultTime2Wait: max(theirs, our 0). */
static void op_time2wait(struct iscsi_conn *c, const char *k, const char *v, struct fb_buf *out)
{
	uint64_t n;
	if (num_in(v, 0, 3600, &n) < 0)
		iscsi_text_add(out, k, "Reject");
	else
		iscsi_text_addf(out, k, "%u", (unsigned)n);
}

/* DefaultTime2Retain: min(theirs, our 0). */
static void op_time2retain(struct iscsi_conn *c, const char *k, const char *v, struct fb_buf *out)
{
	uint64_t n;
	iscsi_text_add(out, k, num_in(v, 0, 3600, &n) < 0 ? "Reject" : "0");
}

/* OFMarker, IFMarker: no markers. */
static void op_marker(struct iscsi_conn *c, const char *k, const char *v, struct fb_buf *out)
{
	int b;
	iscsi_text_add(out, k, iscsi_val_bool(v, &b) < 0 ? "Reject" : "No");
}

/* OFMarkInt, IFMarkInt: without markers they do not matter. */
static void op_mark_int(struct iscsi_conn *c, const char *k, const char *v, struct fb_buf *out)
{
	iscsi_text_add(out, k, "Irrelevant");
}

/* InitiatorAlias, TargetAlias: declarative, nothing to answer. */
static void op_alias(struct iscsi_conn *c, const char *k, const char *v, struct fb_buf *out)
{
}

static const struct op_key {
	const char *key;
	void (*handle)(struct iscsi_conn *c, const char *k, const char *v, struct fb_buf *out);
} op_keys[] = {
    {"HeaderDigest", op_digest},
    {"DataDigest", op_digest},
    {"MaxRecvDataSegmentLength", op_max_recv_dsl},
    {"MaxBurstLength", op_max_burst},
    {"FirstBurstLength", op_first_burst},
    {"InitialR2T", op_initial_r2t},
    {"ImmediateData", op_immediate_data},
    {"MaxOutstandingR2T", op_one},
    {"DataPDUInOrder", op_in_order},
    {"DataSequenceInOrder", op_in_order},
    {"ErrorRecoveryLevel", op_erl},
    {"DefaultTime2Wait", op_time2wait},
    {"DefaultTime2Retain", op_time2retain},
    {"MaxConnections", op_one},
    {"OFMarker", op_marker},
    {"IFMarker", op_marker},
    {"OFMarkInt", op_mark_int},
    {"IFMarkInt", op_mark_int},
    {"InitiatorAlias", op_alias},
    {"TargetAlias", op_alias},
};

/*
 * Negotiate one operational key, appending our answer. Returns 0 when the
 * key is known, -1 when it is not.
 */
static int negotiate(struct iscsi_conn *c, const char *k, const char *v, struct fb_buf *out)
{
	for (size_t i = 0; i < sizeof(op_keys) / sizeof(op_keys[0]); i++) {
		if (!strcmp(k, op_keys[i].key)) {
			op_keys[i].handle(c, k, v, out);
			return 0;
		}
	}
	return -1;
}

/* The listing for SendTargets: only this session's machine. */
static void send_targets(struct iscsi_conn *c, const char *v, struct fb_buf *out)
{
	char name[256];
	snprintf(name, sizeof(name), "%s%s", FB_ISCSI_IQN_PREFIX, c->macid);
	if (!c->macid[0])
		return;
	if (strcmp(v, "All") && *v && strcmp(v, name))
		return;
	/* An empty value (normal sessions) means the session's own target. */
	char addr[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &c->local.sin_addr, addr, sizeof(addr));
	iscsi_text_add(out, "TargetName", name);
	iscsi_text_addf(out, "TargetAddress", "%s:%u,1", addr, ntohs(c->local.sin_port));
}

/* A random secret nobody knows, for a login that is to fail: CHAP runs
 * on against it so the answer and its timing say nothing about why. */
static void random_secret(char out[33])
{
	uint8_t r[16];
	if (RAND_bytes(r, sizeof(r)) != 1)
		memset(r, 0x5a, sizeof(r)); /* still never matches: refused is set */
	static const char d[] = "0123456789abcdef";
	for (int i = 0; i < 16; i++) {
		out[2 * i] = d[r[i] >> 4];
		out[2 * i + 1] = d[r[i] & 15];
	}
	out[32] = 0;
}

/* This machine may not log in (why: for the log). The login goes on to
 * fail at the CHAP response, as a wrong response does. */
static void refuse_later(struct iscsi_conn *c, const char *why)
{
	if (!c->refused)
		c->refused = why;
	random_secret(c->secret);
	random_secret(c->mutual);
	c->must_mutual[0] = 0;
}

/* Look the machine up; fills c->secret and c->mutual. An unknown machine
 * or a refused address is not answered here (refuse_later). A login status
 * for a lookup that could not be made, or 0. */
static int lookup_machine(struct iscsi_conn *c, const char **why)
{
	const struct fb_iscsi_backend *be = &c->t->be;
	c->must_mutual[0] = 0;
	int rc = be->lookup
	             ? be->lookup(be->arg, c->macid, &c->peer, c->secret, c->mutual, c->must_mutual)
	             : -ENOENT;
	if (rc == -ENOENT) {
		refuse_later(c, "unknown machine");
		return 0;
	}
	if (rc == -EACCES) {
		refuse_later(c, "peer address not allowed for this machine");
		return 0;
	}
	if (rc < 0) {
		*why = "lookup failed";
		return ST_TARGET_ERR;
	}
	c->secret[32] = 0;
	c->mutual[32] = 0;
	c->must_mutual[sizeof(c->must_mutual) - 1] = 0;
	if (!strcmp(c->secret, c->mutual)) {
		/* A backend that hands out one secret for both ways would let
		 * the initiator answer as the target: no mutual CHAP then. */
		random_secret(c->mutual);
	}
	return 0;
}

/* A new session's TSIH: never 0, which means "new session" (any thread). */
static uint16_t take_tsih(struct fb_iscsi_target *t)
{
	ACQUIRE_LOCK_FOR_CURRENT_SCOPE(&t->tsih_lock);
	uint16_t tsih = t->next_tsih++;
	if (t->next_tsih == 0)
		t->next_tsih = 1;
	return tsih;
}

/* Full feature phase begins: the disk is opened for normal sessions. */
static int enter_ffp(struct iscsi_conn *c, const char **why)
{
	struct fb_iscsi_target *t = c->t;
	if (!c->discovery) {
		const struct fb_iscsi_backend *be = &t->be;
		c->bd = be->open ? be->open(be->arg, c->macid, &c->peer) : NULL;
		if (!c->bd) {
			*why = errno == EBUSY ? "disk busy (another writer)" : "cannot open disk";
			return errno == EBUSY ? ST_OUT_OF_RES : ST_TARGET_ERR;
		}
		char prpath[4096];
		int have_pr = be->pr_file &&
		              be->pr_file(be->arg, c->macid, c->bd, prpath, sizeof(prpath)) == 0;
		if (scsi_lu_init(&c->lu, c->bd, c->target_name) < 0) {
			*why = "out of memory";
			return ST_OUT_OF_RES;
		}
		c->lu_ok = 1;
		if (scsi_lu_attach(&c->lu, c->initiator_name, c->isid, have_pr ? prpath : NULL) <
		    0) {
			*why = "out of memory";
			return ST_OUT_OF_RES;
		}
		c->login_reinstate = 1;
		c->counted = 1;
		atomic_fetch_add(&t->sessions, 1);
	}
	c->tsih = take_tsih(t);
	if (c->p.first_burst > c->p.max_burst)
		c->p.first_burst = c->p.max_burst;
	return 0;
}

/* One Login Request as it is handled: its header's stage fields, the keys
 * that must be seen together before they are acted on, the answer being
 * built, and why the login failed if it did. */
struct login_req {
	const struct iscsi_bhs *h;
	int transit, cont; /* T and C bits */
	int csg, nsg;      /* current and next stage */
	/* Security keys, kept until all of the request's keys are read:
	 * CHAP steps depend on several of them, not on their order. */
	const char *auth, *chap_a, *chap_n, *chap_r, *chap_i, *chap_c;
	struct fb_buf out; /* the response's text */
	int status;        /* a key handler's login status (0: none) */
	const char *why;   /* reason for a failed status (logged) */
};

/* Set a login name from the request: the first PDU that carries it fixes
 * it; a different value later is a login error (the machine and session
 * reinstatement follow from these names). */
static void set_login_name(struct login_req *rq, char *dst, size_t size, const char *v,
                           const char *what)
{
	if (strlen(v) >= size) {
		rq->status = ST_INIT_ERR;
		rq->why = what[0] == 'T' ? "TargetName too long" : "InitiatorName too long";
	} else if (dst[0] && strcmp(dst, v)) {
		rq->status = ST_INIT_ERR;
		rq->why = what[0] == 'T' ? "TargetName changed during login"
		                         : "InitiatorName changed during login";
	} else {
		fb_strlcpy(dst, v, size);
	}
}

/*
 * Login keys with a handler of their own; the rest are operational keys
 * (negotiate). Handlers run as the keys are read, in the request's order.
 */
static void key_initiator_name(struct iscsi_conn *c, struct login_req *rq, const char *v)
{
	set_login_name(rq, c->initiator_name, sizeof(c->initiator_name), v, "InitiatorName");
}

static void key_target_name(struct iscsi_conn *c, struct login_req *rq, const char *v)
{
	set_login_name(rq, c->target_name, sizeof(c->target_name), v, "TargetName");
}

static void key_session_type(struct iscsi_conn *c, struct login_req *rq, const char *v)
{
	if (!strcmp(v, "Discovery"))
		c->discovery = 1;
	else if (strcmp(v, "Normal"))
		iscsi_text_add(&rq->out, "SessionType", "Reject");
}

static void key_auth_method(struct iscsi_conn *c, struct login_req *rq, const char *v)
{
	rq->auth = v;
}

static void key_chap_a(struct iscsi_conn *c, struct login_req *rq, const char *v)
{
	rq->chap_a = v;
}

static void key_chap_n(struct iscsi_conn *c, struct login_req *rq, const char *v)
{
	rq->chap_n = v;
}

static void key_chap_r(struct iscsi_conn *c, struct login_req *rq, const char *v)
{
	rq->chap_r = v;
}

static void key_chap_i(struct iscsi_conn *c, struct login_req *rq, const char *v)
{
	rq->chap_i = v;
}

static void key_chap_c(struct iscsi_conn *c, struct login_req *rq, const char *v)
{
	rq->chap_c = v;
}

static const struct login_key {
	const char *key;
	void (*handle)(struct iscsi_conn *c, struct login_req *rq, const char *value);
} login_keys[] = {
    {"InitiatorName", key_initiator_name},
    {"TargetName", key_target_name},
    {"SessionType", key_session_type},
    {"AuthMethod", key_auth_method},
    {"CHAP_A", key_chap_a},
    {"CHAP_N", key_chap_n},
    {"CHAP_R", key_chap_r},
    {"CHAP_I", key_chap_i},
    {"CHAP_C", key_chap_c},
};

/* One key of a login request: its handler, else operational negotiation,
 * else NotUnderstood. */
static void login_take_key(struct iscsi_conn *c, struct login_req *rq, const char *k, const char *v)
{
	for (size_t i = 0; i < sizeof(login_keys) / sizeof(login_keys[0]); i++) {
		if (!strcmp(k, login_keys[i].key)) {
			login_keys[i].handle(c, rq, v);
			return;
		}
	}
	if (negotiate(c, k, v, &rq->out) < 0)
		iscsi_text_add(&rq->out, k, "NotUnderstood");
}

/* The first Login Request of a connection sets up the login state. Returns
 * a login status, 0 to go on. */
static int login_begin(struct iscsi_conn *c, struct login_req *rq)
{
	const struct iscsi_bhs *h = rq->h;
	c->login_started = 1;
	c->isid = iscsi_login_isid(h);
	c->tsih = 0;
	c->cid = bhs_login_cid(h);
	c->statsn = bhs_exp_statsn(h); /* go on where the initiator expects */
	c->expcmdsn = bhs_cmdsn(h);
	c->csg = rq->csg;
	/* Defaults of RFC 7143 section 13 until negotiated. */
	c->p.max_send_dsl = 8192;
	c->p.first_burst = 65536;
	c->p.max_burst = 262144;
	c->p.initial_r2t = 1;
	c->p.immediate_data = 1;
	if (iscsi_login_tsih(h) != 0) {
		rq->why = "adding connections is not supported";
		return ST_NO_SESSION;
	}
	return 0;
}

/* Is the request's header consistent with the login so far? A login
 * status, or 0. */
static int login_check_header(struct iscsi_conn *c, struct login_req *rq)
{
	const struct iscsi_bhs *h = rq->h;
	if (h->b3 > 0) { /* Version-min */
		rq->why = "unsupported version";
		return ST_BAD_VERSION;
	}
	if (iscsi_login_isid(h) != c->isid || rq->csg != c->csg || rq->csg == 2 || rq->csg == 3) {
		rq->why = "inconsistent login request";
		return ST_INIT_ERR;
	}
	if (rq->transit && (rq->nsg == 2 || rq->nsg <= rq->csg)) {
		rq->why = "invalid stage transition";
		return ST_INIT_ERR;
	}
	return 0;
}

/* Split the text gathered over the request's PDUs and hand each key to
 * its handler. *text receives the buffer the values point into (the
 * caller frees it). A login status, or 0. */
static int login_read_keys(struct iscsi_conn *c, struct login_req *rq, char **text)
{
	struct iscsi_kv kv[MAX_KEYS];
	int nkv = 0;
	size_t tlen = c->login_text.len;
	if (tlen) {
		*text = (char *)fb_buf_steal(&c->login_text);
		nkv = iscsi_text_parse(*text, tlen, kv, MAX_KEYS);
		if (nkv < 0) {
			rq->why = "malformed login text";
			return ST_INIT_ERR;
		}
	}
	fb_buf_reset(&c->login_text);
	for (int i = 0; i < nkv && !rq->status; i++)
		login_take_key(c, rq, kv[i].key, kv[i].value);
	return rq->status;
}

/* The first request names the initiator and, for a normal session, the
 * target; from the target name follows the machine, in the canonical form.
 * A name that is no machine of ours is refused like an unknown machine
 * (refuse_later). A login status, or 0. */
static int login_identify(struct iscsi_conn *c, struct login_req *rq)
{
	if (!c->initiator_name[0]) {
		rq->why = "no InitiatorName";
		return ST_MISSING_PARAM;
	}
	if (c->discovery || c->macid[0] || c->refused)
		return 0;
	size_t pl = strlen(FB_ISCSI_IQN_PREFIX);
	char mac[FB_MACID_LEN];
	int status = 0;
	if (!c->target_name[0]) {
		rq->why = "no TargetName";
		return ST_MISSING_PARAM;
	}
	if (strncmp(c->target_name, FB_ISCSI_IQN_PREFIX, pl) ||
	    macid_normalize(c->target_name + pl, mac) < 0) {
		refuse_later(c, "not a fleetboot target name");
	} else {
		fb_strlcpy(c->macid, mac, sizeof(c->macid));
		status = lookup_machine(c, &rq->why);
	}
	if (!status) /* the first response of a normal session carries it */
		iscsi_text_add(&rq->out, "TargetPortalGroupTag", "1");
	return status;
}

/* AuthMethod: the initiator must offer CHAP. */
static int chap_method(struct iscsi_conn *c, struct login_req *rq)
{
	if (!rq->auth || c->chap_step != 0)
		return 0;
	if (!iscsi_val_list_has(rq->auth, "CHAP")) {
		rq->why = "initiator does not offer CHAP";
		return ST_AUTH_FAIL;
	}
	iscsi_text_add(&rq->out, "AuthMethod", "CHAP");
	return 0;
}

/* CHAP_A: answer with MD5 and our challenge. */
static int chap_challenge(struct iscsi_conn *c, struct login_req *rq)
{
	if (!rq->chap_a || c->chap_step != 0)
		return 0;
	if (!iscsi_val_list_has(rq->chap_a, "5")) {
		rq->why = "CHAP algorithm other than MD5";
		return ST_AUTH_FAIL;
	}
	if (RAND_bytes(&c->chap_id, 1) != 1 ||
	    RAND_bytes(c->chap_chal, sizeof(c->chap_chal)) != 1) {
		rq->why = "no randomness";
		return ST_TARGET_ERR;
	}
	char hex[40];
	hex_of(c->chap_chal, sizeof(c->chap_chal), hex);
	iscsi_text_add(&rq->out, "CHAP_A", "5");
	iscsi_text_addf(&rq->out, "CHAP_I", "%u", c->chap_id);
	iscsi_text_add(&rq->out, "CHAP_C", hex);
	c->chap_step = 1;
	return 0;
}

/* CHAP_N and CHAP_R: the name must be the machine's (a discovery session
 * learns the machine from it) and the response must prove its secret. The
 * response is checked in every case, the refused ones included, and every
 * failure gets the same status, so neither answer nor timing tells an
 * unknown machine, a refused address or a wrong name from a wrong
 * secret. */
static int chap_check_response(struct iscsi_conn *c, struct login_req *rq)
{
	uint8_t resp[64], want[16];
	char name[FB_MACID_LEN];
	int rl = rq->chap_r ? iscsi_val_binary(rq->chap_r, resp, sizeof(resp)) : -1;
	if (c->chap_step != 1 || !rq->chap_n || rl != 16) {
		rq->why = "CHAP exchange out of order or malformed";
		return ST_AUTH_FAIL;
	}
	int named = macid_normalize(rq->chap_n, name) == 0;
	if (c->discovery && !c->macid[0] && !c->refused) {
		if (!named) {
			refuse_later(c, "CHAP name is not a machine id");
		} else {
			fb_strlcpy(c->macid, name, sizeof(c->macid));
			int status = lookup_machine(c, &rq->why);
			if (status)
				return status;
		}
	}
	if (chap_response(c->chap_id, c->secret, c->chap_chal, sizeof(c->chap_chal), want) < 0) {
		rq->why = "MD5 unavailable";
		return ST_TARGET_ERR;
	}
	int right = !CRYPTO_memcmp(want, resp, 16);
	if (c->refused) {
		rq->why = c->refused;
		return ST_AUTH_FAIL;
	}
	if (!named || strcmp(name, c->macid)) {
		rq->why = "CHAP name is not this target's machine";
		return ST_AUTH_FAIL;
	}
	if (!right) {
		rq->why = "wrong CHAP secret";
		return ST_AUTH_FAIL;
	}
	c->chap_step = 2;
	return 0;
}

/* Mutual CHAP (CHAP_I and CHAP_C): answer the initiator's challenge too. */
static int chap_mutual(struct iscsi_conn *c, struct login_req *rq)
{
	uint8_t ic[1024], r[16];
	uint64_t iid;
	char hex[40];
	if (!rq->chap_c) { /* one-way CHAP */
		if (c->must_mutual[0]) {
			rq->why = c->must_mutual;
			return ST_AUTH_FAIL;
		}
		return 0;
	}
	int cl = iscsi_val_binary(rq->chap_c, ic, sizeof(ic));
	if (!rq->chap_i || iscsi_val_number(rq->chap_i, &iid) < 0 || iid > 255 || cl <= 0) {
		rq->why = "malformed mutual CHAP challenge";
		return ST_AUTH_FAIL;
	}
	if ((size_t)cl == sizeof(c->chap_chal) && !memcmp(ic, c->chap_chal, (size_t)cl)) {
		rq->why = "mutual CHAP challenge reflects ours";
		return ST_AUTH_FAIL;
	}
	/* The target's own secret, never the initiator's (see lookup). */
	if (chap_response((uint8_t)iid, c->mutual, ic, (size_t)cl, r) < 0) {
		rq->why = "MD5 unavailable";
		return ST_TARGET_ERR;
	}
	hex_of(r, 16, hex);
	iscsi_text_add(&rq->out, "CHAP_N", c->macid);
	iscsi_text_add(&rq->out, "CHAP_R", hex);
	c->chap_mutual = 1;
	return 0;
}

/* Security stage: CHAP is required. A login status, or 0. */
static int login_security(struct iscsi_conn *c, struct login_req *rq)
{
	int status = chap_method(c, rq);
	if (!status)
		status = chap_challenge(c, rq);
	if (!status && (rq->chap_n || rq->chap_r)) {
		status = chap_check_response(c, rq);
		if (!status)
			status = chap_mutual(c, rq);
		if (status) /* never past security after a failed exchange */
			c->chap_step = 0;
	}
	return status;
}

/* What every request ends with: our MaxRecvDataSegmentLength once in the
 * operational stage, and no way past security without CHAP. */
static int login_conclude(struct iscsi_conn *c, struct login_req *rq)
{
	if (rq->csg == 1 && !c->mrdsl_sent) {
		iscsi_text_addf(&rq->out, "MaxRecvDataSegmentLength", "%u", ISCSI_OUR_MAX_RECV_DSL);
		c->mrdsl_sent = 1;
	}
	if (c->chap_step != 2 &&
	    (rq->csg == 1 ||
	     (rq->transit && rq->csg == 0 && c->chap_step == 0 && !rq->auth && !rq->chap_a))) {
		rq->why = "CHAP authentication required";
		return ST_AUTH_FAIL;
	}
	if (rq->out.failed) {
		rq->why = "out of memory";
		return ST_OUT_OF_RES;
	}
	return 0;
}

/* Answer the request and move to the next stage if it asked to and may:
 * out of security only once CHAP succeeded. Entering full feature phase
 * opens the disk. */
static int login_advance(struct iscsi_conn *c, struct login_req *rq)
{
	int go = rq->transit && (rq->csg != 0 || c->chap_step == 2);
	if (go && rq->nsg == 3) {
		int status = enter_ffp(c, &rq->why);
		if (status)
			return login_fail(c, rq->h, status, rq->why);
	}
	login_reply(c, rq->h, go, rq->nsg, 0, &rq->out);
	if (!go)
		return 0;
	c->csg = rq->nsg;
	if (rq->nsg != 3)
		return 0;
	c->login_next = PH_FFP;
	/* Digests start with the first PDU after the final login response
	 * (which is already queued). */
	{
		ACQUIRE_LOCK_FOR_CURRENT_SCOPE(&c->lock);
		c->hdigest = c->hdigest_neg;
		c->ddigest = c->ddigest_neg;
	}
	char ini[FB_LOG_ESCAPE_LEN];
	log_info("iSCSI %s session: %s from %s as machine %s, %s CHAP%s",
	         c->discovery ? "discovery" : "normal",
	         fb_log_escape(c->initiator_name, ini, sizeof(ini)), c->peer_str, c->macid,
	         c->chap_mutual ? "mutual" : "one-way",
	         c->hdigest ? " (header digest CRC32C)" : "");
	return 0;
}

int iscsi_login_pdu(struct iscsi_conn *c, const struct iscsi_bhs *h, uint8_t *data, size_t dlen)
{
	struct login_req rq = {
	    .h = h,
	    .transit = (h->flags & ISCSI_FLAG_T) != 0,
	    .cont = (h->flags & ISCSI_FLAG_C) != 0,
	    .csg = (h->flags >> 2) & 3,
	    .nsg = h->flags & 3,
	};
	int status = 0;
	if (!c->login_started)
		status = login_begin(c, &rq);
	if (!status)
		status = login_check_header(c, &rq);
	if (status)
		return login_fail(c, h, status, rq.why);
	c->login_itt = h->itt;
	c->expcmdsn = bhs_cmdsn(h);

	if (dlen)
		fb_buf_append(&c->login_text, data, dlen);
	if (c->login_text.failed || c->login_text.len > ISCSI_LOGIN_MAX_DSL * 4)
		return login_fail(c, h, ST_OUT_OF_RES, "login text too long");
	if (rq.cont) { /* more text follows: acknowledge with an empty response */
		login_reply(c, h, 0, 0, 0, NULL);
		return 0;
	}

	/* The values of rq's keys point into text until the function ends. */
	CLEANUP_FREE char *text = NULL;
	status = login_read_keys(c, &rq, &text);
	if (!status)
		status = login_identify(c, &rq);
	if (!status && rq.csg == 0)
		status = login_security(c, &rq);
	if (!status)
		status = login_conclude(c, &rq);
	int rc = status ? login_fail(c, h, status, rq.why) : login_advance(c, &rq);
	fb_buf_free(&rq.out);
	return rc;
}

int iscsi_text_pdu(struct iscsi_conn *c, const struct iscsi_bhs *h, uint8_t *data, size_t dlen)
{
	struct iscsi_kv kv[MAX_KEYS];
	struct fb_buf out = {0};
	int nkv = 0;
	if (dlen) {
		nkv = iscsi_text_parse((char *)data, dlen, kv, MAX_KEYS);
		if (nkv < 0) {
			iscsi_send_reject(c, ISCSI_REJECT_PROTOCOL, c->hdr);
			return 0;
		}
	}
	for (int i = 0; i < nkv; i++) {
		if (!strcmp(kv[i].key, "SendTargets"))
			send_targets(c, kv[i].value, &out);
		else if (!strcmp(kv[i].key, "MaxRecvDataSegmentLength") ||
		         !strcmp(kv[i].key, "HeaderDigest") || !strcmp(kv[i].key, "DataDigest"))
			negotiate(c, kv[i].key, kv[i].value, &out);
		else
			iscsi_text_add(&out, kv[i].key, "NotUnderstood");
	}
	size_t len = out.failed ? 0 : out.len;
	if (len > c->p.max_send_dsl)
		len = 0; /* never more than the initiator takes in one PDU */
	struct iscsi_out *o = iscsi_out_new(ISCSI_BHS_LEN + iscsi_pad4(len));
	if (!o) {
		fb_buf_free(&out);
		return -1;
	}
	struct iscsi_bhs r = {0};
	r.opcode = ISCSI_OP_TEXT_RSP;
	r.flags = ISCSI_FLAG_F;
	r.dlen = (uint32_t)len;
	r.lun = h->lun;
	r.itt = h->itt;
	bhs_set_ttt(&r, ISCSI_RSVD_TAG);
	iscsi_bhs_build(&r, o->data);
	if (len)
		memcpy(o->data + ISCSI_BHS_LEN, out.data, len);
	fb_buf_free(&out);
	iscsi_send_stamped(c, o, 1);
	return 0;
}

void iscsi_login_job(struct iscsi_task *task)
{
	struct iscsi_conn *c = task->c;
	free(task);
	const struct iscsi_bhs *h = &c->bhs;
	int rc = iscsi_conn_dead(c)
	             ? -1
	             : iscsi_login_pdu(c, h, c->body ? c->body + (size_t)h->ahs_words * 4 : NULL,
	                               h->dlen);
	{
		ACQUIRE_LOCK_FOR_CURRENT_SCOPE(&c->lock);
		c->login_busy = 0;
		c->login_done = 1;
		c->want_input = 1;
		if (rc < 0)
			c->want_close = 1;
	}
	iscsi_wake(c->t); /* it applies the outcome and reads on */
}
