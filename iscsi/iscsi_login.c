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
 */
#include <arpa/inet.h>
#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "iscsi/iscsi_int.h"
#include "util.h"

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
		pthread_mutex_lock(&c->lock);
		c->want_close = 1;
		pthread_mutex_unlock(&c->lock);
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
	pthread_mutex_lock(&c->lock);
	iscsi_stamp(c, o->data, 1);
	iscsi_conn_send(c, o, 1);
	pthread_mutex_unlock(&c->lock);
}

static int login_fail(struct iscsi_conn *c, const struct iscsi_bhs *req, int status,
                      const char *why)
{
	log_warnx("iSCSI login from %s (%s, target %s) refused: %s", c->peer_str,
	          c->initiator_name[0] ? c->initiator_name : "?",
	          c->target_name[0] ? c->target_name : (c->discovery ? "discovery" : "?"), why);
	login_reply(c, req, 0, 0, status, NULL);
	c->login_next = PH_CLOSING;
	return 0;
}

static int num_in(const char *v, uint64_t lo, uint64_t hi, uint64_t *out)
{
	return iscsi_val_number(v, out) == 0 && *out >= lo && *out <= hi ? 0 : -1;
}

/*
 * Negotiate one operational key (RFC 7143 section 13), appending our
 * answer. Returns 0 when the key is known, -1 when it is not.
 */
static int negotiate(struct iscsi_conn *c, const char *k, const char *v, struct fb_buf *out)
{
	uint64_t n;
	int b;
	if ((!strcmp(k, "HeaderDigest") || !strcmp(k, "DataDigest")) && c->phase == PH_LOGIN) {
		/* The first of the initiator's choices we support. */
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
	} else if (!strcmp(k, "HeaderDigest") || !strcmp(k, "DataDigest")) {
		/* Digests cannot change in full feature phase. */
		iscsi_text_add(out, k, "Reject");
	} else if (!strcmp(k, "MaxRecvDataSegmentLength")) {
		if (num_in(v, 512, 16777215, &n) < 0)
			iscsi_text_add(out, k, "Reject");
		else
			c->p.max_send_dsl = (uint32_t)n;
	} else if (!strcmp(k, "MaxBurstLength")) {
		if (num_in(v, 512, 16777215, &n) < 0) {
			iscsi_text_add(out, k, "Reject");
		} else {
			c->p.max_burst =
			    n < ISCSI_OUR_MAX_BURST ? (uint32_t)n : ISCSI_OUR_MAX_BURST;
			iscsi_text_addf(out, k, "%u", c->p.max_burst);
		}
	} else if (!strcmp(k, "FirstBurstLength")) {
		if (num_in(v, 512, 16777215, &n) < 0) {
			iscsi_text_add(out, k, "Reject");
		} else {
			c->p.first_burst =
			    n < ISCSI_OUR_FIRST_BURST ? (uint32_t)n : ISCSI_OUR_FIRST_BURST;
			iscsi_text_addf(out, k, "%u", c->p.first_burst);
		}
	} else if (!strcmp(k, "InitialR2T")) {
		if (iscsi_val_bool(v, &b) < 0) {
			iscsi_text_add(out, k, "Reject");
		} else { /* OR with our No: the initiator decides */
			c->p.initial_r2t = b;
			iscsi_text_add(out, k, b ? "Yes" : "No");
		}
	} else if (!strcmp(k, "ImmediateData")) {
		if (iscsi_val_bool(v, &b) < 0) {
			iscsi_text_add(out, k, "Reject");
		} else { /* AND with our Yes */
			c->p.immediate_data = b;
			iscsi_text_add(out, k, b ? "Yes" : "No");
		}
	} else if (!strcmp(k, "MaxOutstandingR2T")) {
		iscsi_text_add(out, k, num_in(v, 1, 65535, &n) < 0 ? "Reject" : "1");
	} else if (!strcmp(k, "DataPDUInOrder") || !strcmp(k, "DataSequenceInOrder")) {
		/* OR with our Yes: always in order. */
		iscsi_text_add(out, k, iscsi_val_bool(v, &b) < 0 ? "Reject" : "Yes");
	} else if (!strcmp(k, "ErrorRecoveryLevel")) {
		iscsi_text_add(out, k, num_in(v, 0, 2, &n) < 0 ? "Reject" : "0");
	} else if (!strcmp(k, "DefaultTime2Wait")) {
		if (num_in(v, 0, 3600, &n) < 0)
			iscsi_text_add(out, k, "Reject");
		else /* max(theirs, our 0) */
			iscsi_text_addf(out, k, "%u", (unsigned)n);
	} else if (!strcmp(k, "DefaultTime2Retain")) {
		iscsi_text_add(out, k, num_in(v, 0, 3600, &n) < 0 ? "Reject" : "0");
	} else if (!strcmp(k, "MaxConnections")) {
		iscsi_text_add(out, k, num_in(v, 1, 65535, &n) < 0 ? "Reject" : "1");
	} else if (!strcmp(k, "OFMarker") || !strcmp(k, "IFMarker")) {
		iscsi_text_add(out, k, iscsi_val_bool(v, &b) < 0 ? "Reject" : "No");
	} else if (!strcmp(k, "OFMarkInt") || !strcmp(k, "IFMarkInt")) {
		iscsi_text_add(out, k, "Irrelevant");
	} else if (!strcmp(k, "InitiatorAlias") || !strcmp(k, "TargetAlias")) {
		/* declarative, nothing to answer */
	} else {
		return -1;
	}
	return 0;
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

/* Look the machine up; fills c->secret. Returns a login status or 0. */
static int lookup_machine(struct iscsi_conn *c, const char **why)
{
	const struct fb_iscsi_backend *be = &c->t->be;
	int rc = be->lookup ? be->lookup(be->arg, c->macid, &c->peer, c->secret) : -ENOENT;
	if (rc == -ENOENT) {
		*why = "unknown machine";
		return ST_NOT_FOUND;
	}
	if (rc == -EACCES) {
		*why = "peer address not allowed for this machine";
		return ST_FORBIDDEN;
	}
	if (rc < 0) {
		*why = "lookup failed";
		return ST_TARGET_ERR;
	}
	c->secret[32] = 0;
	return 0;
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
		if (scsi_lu_init(&c->lu, c->bd, c->target_name) < 0) {
			*why = "out of memory";
			return ST_OUT_OF_RES;
		}
		c->lu_ok = 1;
		c->login_reinstate = 1;
		c->counted = 1;
		atomic_fetch_add(&t->sessions, 1);
	}
	pthread_mutex_lock(&t->tsih_lock);
	c->tsih = t->next_tsih++;
	if (t->next_tsih == 0)
		t->next_tsih = 1;
	pthread_mutex_unlock(&t->tsih_lock);
	if (c->p.first_burst > c->p.max_burst)
		c->p.first_burst = c->p.max_burst;
	return 0;
}

int iscsi_login_pdu(struct iscsi_conn *c, const struct iscsi_bhs *h, uint8_t *data, size_t dlen)
{
	int transit = (h->flags & ISCSI_FLAG_T) != 0, cont = (h->flags & ISCSI_FLAG_C) != 0;
	int csg = (h->flags >> 2) & 3, nsg = h->flags & 3;
	const char *why = NULL;

	if (!c->login_started) {
		c->login_started = 1;
		c->isid = iscsi_login_isid(h);
		c->tsih = 0;
		c->cid = bhs_login_cid(h);
		c->statsn = bhs_exp_statsn(h); /* go on where the initiator expects */
		c->expcmdsn = bhs_cmdsn(h);
		c->csg = csg;
		/* Defaults of RFC 7143 section 13 until negotiated. */
		c->p.max_send_dsl = 8192;
		c->p.first_burst = 65536;
		c->p.max_burst = 262144;
		c->p.initial_r2t = 1;
		c->p.immediate_data = 1;
		if (iscsi_login_tsih(h) != 0)
			return login_fail(c, h, ST_NO_SESSION,
			                  "adding connections is not supported");
	}
	if (h->b3 > 0) /* Version-min */
		return login_fail(c, h, ST_BAD_VERSION, "unsupported version");
	if (iscsi_login_isid(h) != c->isid || csg != c->csg || csg == 2 || csg == 3)
		return login_fail(c, h, ST_INIT_ERR, "inconsistent login request");
	if (transit && (nsg == 2 || nsg <= csg))
		return login_fail(c, h, ST_INIT_ERR, "invalid stage transition");
	c->login_itt = h->itt;
	c->expcmdsn = bhs_cmdsn(h);

	if (dlen)
		fb_buf_append(&c->login_text, data, dlen);
	if (c->login_text.failed || c->login_text.len > ISCSI_LOGIN_MAX_DSL * 4)
		return login_fail(c, h, ST_OUT_OF_RES, "login text too long");
	if (cont) { /* more text follows: acknowledge with an empty response */
		login_reply(c, h, 0, 0, 0, NULL);
		return 0;
	}

	struct iscsi_kv kv[MAX_KEYS];
	int nkv = 0;
	char *text = NULL;
	size_t tlen = c->login_text.len;
	if (tlen) {
		text = (char *)fb_buf_steal(&c->login_text);
		nkv = iscsi_text_parse(text, tlen, kv, MAX_KEYS);
		if (nkv < 0) {
			free(text);
			return login_fail(c, h, ST_INIT_ERR, "malformed login text");
		}
	}
	fb_buf_reset(&c->login_text);

	struct fb_buf out = {0};
	const char *chap_a = NULL, *chap_n = NULL, *chap_r = NULL, *chap_i = NULL, *chap_c = NULL,
	           *auth = NULL;
	int status = 0;
	for (int i = 0; i < nkv && !status; i++) {
		const char *k = kv[i].key, *v = kv[i].value;
		if (!strcmp(k, "InitiatorName")) {
			fb_strlcpy(c->initiator_name, v, sizeof(c->initiator_name));
		} else if (!strcmp(k, "TargetName")) {
			fb_strlcpy(c->target_name, v, sizeof(c->target_name));
		} else if (!strcmp(k, "SessionType")) {
			if (!strcmp(v, "Discovery"))
				c->discovery = 1;
			else if (strcmp(v, "Normal"))
				iscsi_text_add(&out, k, "Reject");
		} else if (!strcmp(k, "AuthMethod")) {
			auth = v;
		} else if (!strcmp(k, "CHAP_A")) {
			chap_a = v;
		} else if (!strcmp(k, "CHAP_N")) {
			chap_n = v;
		} else if (!strcmp(k, "CHAP_R")) {
			chap_r = v;
		} else if (!strcmp(k, "CHAP_I")) {
			chap_i = v;
		} else if (!strcmp(k, "CHAP_C")) {
			chap_c = v;
		} else if (negotiate(c, k, v, &out) < 0) {
			iscsi_text_add(&out, k, "NotUnderstood");
		}
	}

	/* The first request names the initiator and, for a normal session,
	 * the target; from the target name follows the machine. */
	if (!c->initiator_name[0]) {
		status = ST_MISSING_PARAM;
		why = "no InitiatorName";
	} else if (!c->discovery && !c->macid[0]) {
		size_t pl = strlen(FB_ISCSI_IQN_PREFIX);
		if (!c->target_name[0]) {
			status = ST_MISSING_PARAM;
			why = "no TargetName";
		} else if (strncmp(c->target_name, FB_ISCSI_IQN_PREFIX, pl) ||
		           strlen(c->target_name + pl) >= sizeof(c->macid) || !c->target_name[pl]) {
			status = ST_NOT_FOUND;
			why = "not a fleetboot target name";
		} else {
			fb_strlcpy(c->macid, c->target_name + pl, sizeof(c->macid));
			status = lookup_machine(c, &why);
		}
		if (!status) /* the first response of a normal session carries it */
			iscsi_text_add(&out, "TargetPortalGroupTag", "1");
	}

	/* Security stage: CHAP is required. */
	if (!status && csg == 0) {
		if (auth && c->chap_step == 0) {
			if (iscsi_val_list_has(auth, "CHAP")) {
				iscsi_text_add(&out, "AuthMethod", "CHAP");
			} else {
				status = ST_AUTH_FAIL;
				why = "initiator does not offer CHAP";
			}
		}
		if (!status && chap_a && c->chap_step == 0) {
			if (!iscsi_val_list_has(chap_a, "5")) {
				status = ST_AUTH_FAIL;
				why = "CHAP algorithm other than MD5";
			} else {
				char hex[40];
				if (RAND_bytes(&c->chap_id, 1) != 1 ||
				    RAND_bytes(c->chap_chal, sizeof(c->chap_chal)) != 1) {
					status = ST_TARGET_ERR;
					why = "no randomness";
				} else {
					hex_of(c->chap_chal, sizeof(c->chap_chal), hex);
					iscsi_text_add(&out, "CHAP_A", "5");
					iscsi_text_addf(&out, "CHAP_I", "%u", c->chap_id);
					iscsi_text_add(&out, "CHAP_C", hex);
					c->chap_step = 1;
				}
			}
		}
		if (!status && (chap_n || chap_r)) {
			uint8_t resp[64], want[16];
			int rl = chap_r ? iscsi_val_binary(chap_r, resp, sizeof(resp)) : -1;
			if (c->chap_step != 1 || !chap_n || rl != 16) {
				status = ST_AUTH_FAIL;
				why = "CHAP exchange out of order or malformed";
			} else if (c->discovery) {
				if (strlen(chap_n) >= sizeof(c->macid)) {
					status = ST_AUTH_FAIL;
					why = "CHAP name too long";
				} else {
					fb_strlcpy(c->macid, chap_n, sizeof(c->macid));
					status = lookup_machine(c, &why);
				}
			} else if (strcmp(chap_n, c->macid)) {
				status = ST_AUTH_FAIL;
				why = "CHAP name is not this target's machine";
			}
			if (!status) {
				if (chap_response(c->chap_id, c->secret, c->chap_chal,
				                  sizeof(c->chap_chal), want) < 0) {
					status = ST_TARGET_ERR;
					why = "MD5 unavailable";
				} else if (CRYPTO_memcmp(want, resp, 16)) {
					status = ST_AUTH_FAIL;
					why = "wrong CHAP secret";
				} else {
					c->chap_step = 2;
				}
			}
			/* Mutual CHAP: answer the initiator's challenge too. */
			if (!status && chap_c) {
				uint8_t ic[1024], r[16];
				uint64_t iid;
				int cl = iscsi_val_binary(chap_c, ic, sizeof(ic));
				char hex[40];
				if (!chap_i || iscsi_val_number(chap_i, &iid) < 0 || iid > 255 ||
				    cl <= 0) {
					status = ST_AUTH_FAIL;
					why = "malformed mutual CHAP challenge";
				} else if ((size_t)cl == sizeof(c->chap_chal) &&
				           !memcmp(ic, c->chap_chal, (size_t)cl)) {
					status = ST_AUTH_FAIL;
					why = "mutual CHAP challenge reflects ours";
				} else if (chap_response((uint8_t)iid, c->secret, ic, (size_t)cl,
				                         r) < 0) {
					status = ST_TARGET_ERR;
					why = "MD5 unavailable";
				} else {
					hex_of(r, 16, hex);
					iscsi_text_add(&out, "CHAP_N", c->macid);
					iscsi_text_add(&out, "CHAP_R", hex);
				}
			}
		}
	}
	free(text);
	if (!status && csg == 1 && !c->mrdsl_sent) {
		iscsi_text_addf(&out, "MaxRecvDataSegmentLength", "%u", ISCSI_OUR_MAX_RECV_DSL);
		c->mrdsl_sent = 1;
	}
	if (!status && c->chap_step != 2 &&
	    (csg == 1 || (transit && csg == 0 && c->chap_step == 0 && !auth && !chap_a))) {
		status = ST_AUTH_FAIL;
		why = "CHAP authentication required";
	}
	if (!status && out.failed) {
		status = ST_OUT_OF_RES;
		why = "out of memory";
	}
	if (status) {
		fb_buf_free(&out);
		return login_fail(c, h, status, why);
	}

	/* May we move on? Out of security only once CHAP succeeded. */
	int go = transit && (csg != 0 || c->chap_step == 2);
	if (go && nsg == 3) {
		status = enter_ffp(c, &why);
		if (status) {
			fb_buf_free(&out);
			return login_fail(c, h, status, why);
		}
	}
	login_reply(c, h, go, nsg, 0, &out);
	fb_buf_free(&out);
	if (go) {
		c->csg = nsg;
		if (nsg == 3) {
			c->login_next = PH_FFP;
			/* Digests start with the first PDU after the final login
			 * response (which is already queued). */
			pthread_mutex_lock(&c->lock);
			c->hdigest = c->hdigest_neg;
			c->ddigest = c->ddigest_neg;
			pthread_mutex_unlock(&c->lock);
			log_info("iSCSI %s session: %s from %s as machine %s%s",
			         c->discovery ? "discovery" : "normal", c->initiator_name,
			         c->peer_str, c->macid,
			         c->hdigest ? " (header digest CRC32C)" : "");
		}
	}
	return 0;
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
	pthread_mutex_lock(&c->lock);
	iscsi_stamp(c, o->data, 1);
	iscsi_conn_send(c, o, 1);
	pthread_mutex_unlock(&c->lock);
	return 0;
}

void iscsi_login_job(struct iscsi_task *task)
{
	struct iscsi_conn *c = task->c;
	free(task);
	pthread_mutex_lock(&c->lock);
	int dead = c->dead;
	pthread_mutex_unlock(&c->lock);
	const struct iscsi_bhs *h = &c->bhs;
	int rc = dead ? -1
	              : iscsi_login_pdu(c, h, c->body ? c->body + (size_t)h->ahs_words * 4 : NULL,
	                                h->dlen);
	pthread_mutex_lock(&c->lock);
	c->login_busy = 0;
	c->login_done = 1;
	c->want_input = 1;
	if (rc < 0)
		c->want_close = 1;
	pthread_mutex_unlock(&c->lock);
	iscsi_wake(c->t); /* it applies the outcome and reads on */
}
