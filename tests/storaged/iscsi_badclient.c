/*
 * iscsi_badclient.c - a deliberately misbehaving iSCSI initiator for
 * tests/storaged/test-iscsi-badinput.sh. Each case opens its own
 * connection, sends something malformed or out of order, and checks that
 * the target answers the way RFC 7143 / SPC-4 say (reject, login failure,
 * CHECK CONDITION, silence, or a closed connection) within a time limit.
 *
 *   iscsi-badclient HOST PORT MACID SECRET [CASE [ARGS]]
 *
 * Prints one line per case and exits non-zero if any case failed. With
 * CASE, only that attack (issue 13) runs:
 *   dataout                 solicited Data-Out replayed and overlapping
 *   switch MAC2 SECRET2     MAC2 logs in; then MACID, with the same
 *                           InitiatorName and ISID, names MAC2's target
 *                           in a later login PDU
 *   loginbytes              log in, print the login response that
 *                           failed as hex ("RESP ...") or "LOGGED-IN"
 *   spell TARGETMAC CHAPN   log in with these spellings of the MAC
 *                           (exit 0 when logged in)
 *   mutual [SERVER]         mutual CHAP: the target's answer must not be
 *                           made with the initiator's secret; with
 *                           SERVER, it must prove that server secret
 * BADCLIENT_SRC=ADDR binds the client's source address.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "byteorder.h"
#include "crc32c.h"
#include "proto/iscsi_pdu.h"

static const char *host, *macid, *secret;
/* Header digests in effect (after a login that negotiated them), and
 * whether the last received header's digest was right. */
static int use_hd, hd_bad;
/* The same for data digests. */
static int use_dd, dd_bad;
static int port, failures;
static uint32_t cmdsn, expstatsn, itt = 0x100;

static void result(const char *name, int ok, const char *fmt, ...)
{
	char msg[256] = "";
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	printf("%s %s%s%s\n", ok ? "ok" : "FAIL", name, *msg ? ": " : "", msg);
	if (!ok)
		failures++;
}

static int conn_open(int timeout_ms)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	const char *src = getenv("BADCLIENT_SRC");
	if (src && *src) {
		struct sockaddr_in me = {.sin_family = AF_INET};
		inet_pton(AF_INET, src, &me.sin_addr);
		if (bind(fd, (struct sockaddr *)&me, sizeof(me)) < 0) {
			close(fd);
			return -1;
		}
	}
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	inet_pton(AF_INET, host, &sin.sin_addr);
	struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void set_timeout(int fd, int ms)
{
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

static int send_all(int fd, const void *p, size_t n)
{
	const uint8_t *b = p;
	while (n) {
		ssize_t w = send(fd, b, n, MSG_NOSIGNAL);
		if (w <= 0)
			return -1;
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Send a PDU: header h, data segment padded. */
static int send_pdu(int fd, struct iscsi_bhs *h, const void *data, size_t dlen)
{
	uint8_t buf[ISCSI_BHS_LEN + 4 + 8192 + 4];
	size_t hl = ISCSI_BHS_LEN + (use_hd ? 4 : 0);
	if (dlen > 8192)
		return -1;
	h->dlen = (uint32_t)dlen;
	iscsi_bhs_build(h, buf);
	if (use_hd)
		iscsi_put_digest(buf + ISCSI_BHS_LEN, iscsi_crc32c(buf, ISCSI_BHS_LEN));
	memset(buf + hl, 0, iscsi_pad4(dlen));
	if (dlen)
		memcpy(buf + hl, data, dlen);
	size_t dd = use_dd && dlen ? 4 : 0;
	if (dd)
		iscsi_put_digest(buf + hl + iscsi_pad4(dlen),
		                 iscsi_crc32c(buf + hl, iscsi_pad4(dlen)));
	return send_all(fd, buf, hl + iscsi_pad4(dlen) + dd);
}

/* Receive one PDU. 0, -1 closed/error, -2 timeout. */
static int recv_pdu(int fd, struct iscsi_bhs *h, uint8_t *data, size_t max)
{
	uint8_t hdr[ISCSI_BHS_LEN + 4];
	size_t got = 0, hl = ISCSI_BHS_LEN + (use_hd ? 4 : 0);
	while (got < hl) {
		ssize_t n = recv(fd, hdr + got, hl - got, 0);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return -2;
		if (n <= 0)
			return -1;
		got += (size_t)n;
	}
	iscsi_bhs_parse(hdr, ISCSI_BHS_LEN, h);
	if (use_hd && iscsi_crc32c(hdr, ISCSI_BHS_LEN) != iscsi_get_digest(hdr + ISCSI_BHS_LEN))
		hd_bad = 1;
	size_t body = (size_t)iscsi_pdu_body_len(h), dd = use_dd && h->dlen ? 4 : 0;
	if (body + dd > max)
		return -1;
	got = 0;
	while (got < body + dd) {
		ssize_t n = recv(fd, data + got, body + dd - got, 0);
		if (n <= 0)
			return -1;
		got += (size_t)n;
	}
	if (dd && iscsi_crc32c(data, body) != iscsi_get_digest(data + body))
		dd_bad = 1;
	if (h->opcode != ISCSI_OP_DATA_IN || (h->flags & ISCSI_DATA_S))
		expstatsn = h->w24 + 1;
	return 0;
}

/* Did the target close the connection (rather than leave it hanging)? */
static int closed_soon(int fd)
{
	uint8_t b[4096];
	set_timeout(fd, 5000);
	for (;;) {
		ssize_t n = recv(fd, b, sizeof(b), 0);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
			return 1;
		if (n < 0)
			return 0; /* timed out: still open */
	}
}

static void login_hdr(struct iscsi_bhs *h, int csg, int nsg, int transit)
{
	memset(h, 0, sizeof(*h));
	h->opcode = ISCSI_OP_LOGIN_REQ;
	h->immediate = 1;
	h->flags = (uint8_t)((transit ? ISCSI_FLAG_T : 0) | csg << 2 | nsg);
	h->lun = (uint64_t)0x400000001234ULL << 16;
	h->itt = itt;
	h->w24 = cmdsn;
	h->w28 = expstatsn;
}

static const char *find_key(uint8_t *data, size_t len, const char *key)
{
	size_t kl = strlen(key);
	for (size_t i = 0; i < len;) {
		const char *s = (const char *)data + i;
		size_t l = strnlen(s, len - i);
		if (l > kl && !strncmp(s, key, kl) && s[kl] == '=')
			return s + kl + 1;
		i += l + 1;
	}
	return NULL;
}

static int hexbytes(const char *v, uint8_t *out, size_t max)
{
	return iscsi_val_binary(v, out, max);
}

/* The last login response's text, for checks. */
static uint8_t last_text[8192];
static size_t last_text_len;
/* Negotiate as iPXE does (InitialR2T=Yes, ImmediateData=No, 8 KiB PDUs)
 * instead of like open-iscsi. */
static int ipxe_keys;
/* Ask for CRC32C header digests. */
static int want_hd;
/* Log in for a discovery session instead of a normal one. */
static int discovery;
/* Spellings for the attacks: the target's MAC (default: user), the CHAP
 * name (default: user), a TargetName sent again in the operational stage
 * (NULL: none), and a mutual CHAP challenge to send. */
static const char *target_mac, *chap_name, *op_target;
static int ask_mutual;
/* The failed login response, header and text, for loginbytes. */
static uint8_t fail_pdu[ISCSI_BHS_LEN + 1024];
static size_t fail_len;
/* The target's mutual CHAP response (hex), if one came. */
static char mutual_resp[64];
static uint8_t mutual_id = 7, mutual_chal[16] = "fleetboot-mutual";

/* Receive a login response; keep it in fail_pdu when its status is not
 * success. 0 when it is a success, -1 otherwise. */
static int login_rsp(int fd, struct iscsi_bhs *h, uint8_t *data, size_t max)
{
	if (recv_pdu(fd, h, data, max))
		return -1;
	if (!(h->w36 >> 16))
		return 0;
	fail_len = ISCSI_BHS_LEN + (h->dlen < 1024 ? h->dlen : 1024);
	iscsi_bhs_build(h, fail_pdu);
	memcpy(fail_pdu + ISCSI_BHS_LEN, data, fail_len - ISCSI_BHS_LEN);
	return -1;
}

/* Full login with CHAP. Returns 0 when in full feature phase. */
static int login(int fd, const char *user, const char *pass)
{
	struct iscsi_bhs h;
	uint8_t data[8192];
	static struct fb_buf t; /* reused: early returns leak nothing */
	char target[128];
	fb_buf_reset(&t);
	snprintf(target, sizeof(target), "iqn.2026-11.org.fleetboot:%s",
	         target_mac ? target_mac : user);
	cmdsn = 1;
	expstatsn = 0;
	iscsi_text_add(&t, "InitiatorName", "iqn.2026-11.test:badclient");
	if (discovery) {
		iscsi_text_add(&t, "SessionType", "Discovery");
	} else {
		iscsi_text_add(&t, "TargetName", target);
		iscsi_text_add(&t, "SessionType", "Normal");
	}
	iscsi_text_add(&t, "AuthMethod", "CHAP,None");
	login_hdr(&h, 0, 1, ipxe_keys); /* iPXE always asks to transit */
	send_pdu(fd, &h, t.data, t.len);
	fb_buf_reset(&t);
	if (login_rsp(fd, &h, data, sizeof(data)))
		return -1;
	iscsi_text_add(&t, "CHAP_A", "5");
	login_hdr(&h, 0, 1, ipxe_keys);
	send_pdu(fd, &h, t.data, t.len);
	fb_buf_reset(&t);
	if (login_rsp(fd, &h, data, sizeof(data)))
		return -1;
	const char *ci = find_key(data, h.dlen, "CHAP_I"), *cc = find_key(data, h.dlen, "CHAP_C");
	uint8_t chal[64], buf[256], md[16];
	int cl = cc ? hexbytes(cc, chal, sizeof(chal)) : -1;
	if (!ci || cl <= 0)
		return -1;
	size_t pl = strlen(pass);
	buf[0] = (uint8_t)atoi(ci);
	memcpy(buf + 1, pass, pl);
	memcpy(buf + 1 + pl, chal, (size_t)cl);
	unsigned int mdl;
	EVP_Digest(buf, 1 + pl + (size_t)cl, md, &mdl, EVP_md5(), NULL);
	char hex[40] = "0x";
	for (int i = 0; i < 16; i++)
		sprintf(hex + 2 + 2 * i, "%02x", md[i]);
	iscsi_text_add(&t, "CHAP_N", chap_name ? chap_name : user);
	iscsi_text_add(&t, "CHAP_R", hex);
	if (ask_mutual) {
		char mc[40] = "0x";
		for (int i = 0; i < 16; i++)
			sprintf(mc + 2 + 2 * i, "%02x", mutual_chal[i]);
		iscsi_text_addf(&t, "CHAP_I", "%u", mutual_id);
		iscsi_text_add(&t, "CHAP_C", mc);
	}
	login_hdr(&h, 0, 1, 1);
	send_pdu(fd, &h, t.data, t.len);
	fb_buf_reset(&t);
	if (login_rsp(fd, &h, data, sizeof(data)) || !(h.flags & ISCSI_FLAG_T))
		return -1;
	const char *mr = find_key(data, h.dlen, "CHAP_R");
	snprintf(mutual_resp, sizeof(mutual_resp), "%s", mr ? mr : "");
	if (op_target)
		iscsi_text_add(&t, "TargetName", op_target);
	iscsi_text_add(&t, "HeaderDigest", want_hd ? "CRC32C,None" : "None");
	iscsi_text_add(&t, "DataDigest", want_hd ? "CRC32C,None" : "None");
	if (ipxe_keys) { /* what iPXE sends */
		iscsi_text_add(&t, "MaxConnections", "1");
		iscsi_text_add(&t, "InitialR2T", "Yes");
		iscsi_text_add(&t, "ImmediateData", "No");
		iscsi_text_add(&t, "MaxRecvDataSegmentLength", "8192");
		iscsi_text_add(&t, "MaxBurstLength", "262144");
		iscsi_text_add(&t, "FirstBurstLength", "65536");
		iscsi_text_add(&t, "DefaultTime2Wait", "0");
		iscsi_text_add(&t, "DefaultTime2Retain", "0");
		iscsi_text_add(&t, "MaxOutstandingR2T", "1");
		iscsi_text_add(&t, "DataPDUInOrder", "Yes");
		iscsi_text_add(&t, "DataSequenceInOrder", "Yes");
		iscsi_text_add(&t, "ErrorRecoveryLevel", "0");
	} else {
		iscsi_text_add(&t, "ImmediateData", "Yes");
		iscsi_text_add(&t, "InitialR2T", "No");
		iscsi_text_add(&t, "MaxRecvDataSegmentLength", "65536");
		iscsi_text_add(&t, "FirstBurstLength", "65536");
		iscsi_text_add(&t, "MaxBurstLength", "262144");
	}
	login_hdr(&h, 1, 3, 1);
	send_pdu(fd, &h, t.data, t.len);
	fb_buf_reset(&t);
	if (login_rsp(fd, &h, data, sizeof(data)) || !(h.flags & ISCSI_FLAG_T))
		return -1;
	last_text_len = h.dlen < sizeof(last_text) ? h.dlen : sizeof(last_text);
	memcpy(last_text, data, last_text_len);
	return 0;
}

/* A SCSI command with optional immediate data; returns the final status
 * PDU (SCSI Response or the Data-In with S) in *rsp, data-in into buf. */
static int scsi(int fd, const uint8_t cdb[16], uint8_t flags, uint32_t edtl, const void *imm,
                size_t ilen, struct iscsi_bhs *rsp, uint8_t *buf, size_t max, uint32_t *din,
                uint32_t use_cmdsn)
{
	struct iscsi_bhs h = {0};
	h.opcode = ISCSI_OP_SCSI_CMD;
	h.flags = ISCSI_FLAG_F | flags;
	h.itt = ++itt;
	h.w20 = edtl;
	h.w24 = use_cmdsn ? use_cmdsn : cmdsn++;
	h.w28 = expstatsn;
	uint8_t raw[ISCSI_BHS_LEN + 4];
	h.dlen = (uint32_t)ilen;
	iscsi_bhs_build(&h, raw);
	memcpy(raw + 32, cdb, 16);
	if (use_hd)
		iscsi_put_digest(raw + ISCSI_BHS_LEN, iscsi_crc32c(raw, ISCSI_BHS_LEN));
	if (send_all(fd, raw, ISCSI_BHS_LEN + (use_hd ? 4 : 0)) < 0)
		return -1;
	if (ilen) {
		uint8_t pad[4] = {0}, dg[4];
		send_all(fd, imm, ilen);
		send_all(fd, pad, iscsi_pad4(ilen) - ilen);
		if (use_dd) {
			uint32_t crc = iscsi_crc32c(imm, ilen);
			iscsi_put_digest(dg, fb_crc32c(crc, pad, iscsi_pad4(ilen) - ilen));
			send_all(fd, dg, 4);
		}
	}
	*din = 0;
	for (;;) {
		uint8_t seg[65536 + 4];
		int rc = recv_pdu(fd, rsp, seg, sizeof(seg));
		if (rc)
			return rc;
		if (rsp->opcode == ISCSI_OP_DATA_IN) {
			if (rsp->w40 + rsp->dlen <= max)
				memcpy(buf + rsp->w40, seg, rsp->dlen);
			*din += rsp->dlen;
			if (rsp->flags & ISCSI_DATA_S)
				return 0;
			continue;
		}
		if (rsp->opcode == ISCSI_OP_SCSI_RSP) {
			if (rsp->dlen >= 16 && max >= rsp->dlen)
				memcpy(buf, seg, rsp->dlen); /* sense: 2-byte length first */
			return 0;
		}
		if (rsp->opcode == ISCSI_OP_R2T)
			return 1;
		return -1;
	}
}

static int nop_ok(int fd)
{
	struct iscsi_bhs h = {0}, r;
	uint8_t data[256];
	h.opcode = ISCSI_OP_NOP_OUT;
	h.immediate = 1;
	h.flags = ISCSI_FLAG_F;
	h.itt = ++itt;
	h.w20 = ISCSI_RSVD_TAG;
	h.w24 = cmdsn;
	h.w28 = expstatsn;
	if (send_pdu(fd, &h, "ping", 4) < 0)
		return 0;
	return recv_pdu(fd, &r, data, sizeof(data)) == 0 && r.opcode == ISCSI_OP_NOP_IN &&
	       r.itt == h.itt && r.dlen == 4 && !memcmp(data, "ping", 4);
}

static void case_login_ok(void)
{
	int fd = conn_open(5000);
	result("login and NOP-In", fd >= 0 && login(fd, macid, secret) == 0 && nop_ok(fd), "");
	close(fd);
}

static void case_wrong_secret(void)
{
	int fd = conn_open(5000);
	result("wrong CHAP secret refused",
	       fd >= 0 && login(fd, macid, "00000000000000000000000000000000") < 0 &&
	           closed_soon(fd),
	       "");
	close(fd);
}

static void case_truncated(void)
{
	int fd = conn_open(5000);
	uint8_t part[20] = {0x43, 0x87};
	send_all(fd, part, sizeof(part));
	close(fd); /* the target must just drop it */
	fd = conn_open(5000);
	result("truncated BHS then close", fd >= 0 && login(fd, macid, secret) == 0,
	       "target still serves");
	close(fd);
}

static void case_garbage(void)
{
	int fd = conn_open(5000);
	uint8_t junk[4096];
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)(i * 131 + 7);
	junk[0] = 0x42; /* not a login */
	send_all(fd, junk, sizeof(junk));
	result("garbage before login closes", closed_soon(fd), "");
	close(fd);
}

static void case_bad_text(void)
{
	int fd = conn_open(5000);
	struct iscsi_bhs h, r;
	uint8_t data[8192];
	static const char t[] = "InitiatorName=iqn.x\0NoEqualsSign\0";
	login_hdr(&h, 0, 1, 0);
	send_pdu(fd, &h, t, sizeof(t) - 1);
	int rc = recv_pdu(fd, &r, data, sizeof(data));
	result("malformed login text rejected",
	       rc == 0 && r.opcode == ISCSI_OP_LOGIN_RSP && (r.w36 >> 24) == 2 && closed_soon(fd),
	       "status 0x%04x", rc == 0 ? r.w36 >> 16 : 0);
	close(fd);
}

static void case_unknown_key(void)
{
	int fd = conn_open(5000);
	struct iscsi_bhs h, r;
	uint8_t data[8192];
	struct fb_buf t = {0};
	char target[128];
	snprintf(target, sizeof(target), "iqn.2026-11.org.fleetboot:%s", macid);
	iscsi_text_add(&t, "InitiatorName", "iqn.x");
	iscsi_text_add(&t, "TargetName", target);
	iscsi_text_add(&t, "AuthMethod", "CHAP");
	iscsi_text_add(&t, "X-org.example.Frobnicate", "Yes");
	login_hdr(&h, 0, 1, 0);
	send_pdu(fd, &h, t.data, t.len);
	fb_buf_free(&t);
	int rc = recv_pdu(fd, &r, data, sizeof(data));
	const char *v = rc == 0 ? find_key(data, r.dlen, "X-org.example.Frobnicate") : NULL;
	result("unknown key answered NotUnderstood", v && !strcmp(v, "NotUnderstood"), "");
	close(fd);
}

static void case_huge_login_segment(void)
{
	int fd = conn_open(5000);
	struct iscsi_bhs h;
	uint8_t raw[ISCSI_BHS_LEN];
	login_hdr(&h, 0, 1, 0);
	h.dlen = 0xffffff;
	iscsi_bhs_build(&h, raw);
	send_all(fd, raw, sizeof(raw));
	result("16 MiB login segment refused", closed_soon(fd), "");
	close(fd);
}

static void case_scsi_before_login(void)
{
	int fd = conn_open(5000);
	struct iscsi_bhs h = {0};
	h.opcode = ISCSI_OP_SCSI_CMD;
	h.flags = ISCSI_FLAG_F;
	send_pdu(fd, &h, NULL, 0);
	result("SCSI command before login closes", closed_soon(fd), "");
	close(fd);
}

static void case_ffp(void)
{
	int fd = conn_open(5000);
	if (fd < 0 || login(fd, macid, secret) < 0) {
		result("full feature phase login", 0, "");
		return;
	}
	struct iscsi_bhs r;
	static uint8_t buf[65536];
	uint32_t din;

	/* READ CAPACITY 16 for the size. */
	uint8_t rc16[16] = {0x9e, 0x10};
	rc16[13] = 32;
	int rc = scsi(fd, rc16, ISCSI_CMD_R, 32, NULL, 0, &r, buf, sizeof(buf), &din, 0);
	uint64_t last = fb_get_be64(buf);
	result("READ CAPACITY 16", rc == 0 && r.b3 == 0 && din == 32, "last LBA %llu",
	       (unsigned long long)last);

	/* READ 16 beyond the end: LBA OUT OF RANGE. */
	uint8_t r16[16] = {0x88};
	fb_put_be64(r16 + 2, last + 1);
	r16[13] = 1;
	rc = scsi(fd, r16, ISCSI_CMD_R, 512, NULL, 0, &r, buf, sizeof(buf), &din, 0);
	result("READ 16 beyond the end",
	       rc == 0 && r.b3 == 2 && (buf[4] & 0xf) == 5 && buf[14] == 0x21,
	       "status %u key %u asc 0x%02x", r.b3, buf[4] & 0xf, buf[14]);

	/* WRITE 10 straddling the end, with immediate data. */
	uint8_t w10[16] = {0x2a};
	uint32_t lba = (uint32_t)last;
	fb_put_be32(w10 + 2, lba);
	w10[8] = 2;
	static uint8_t wdata[1024];
	rc = scsi(fd, w10, ISCSI_CMD_W, 1024, wdata, 1024, &r, buf, sizeof(buf), &din, 0);
	result("WRITE 10 beyond the end", rc == 0 && r.b3 == 2 && buf[14] == 0x21, "status %u",
	       r.b3);

	/* Residual underflow: 1 block read, EDTL 4096. */
	uint8_t r10[16] = {0x28};
	r10[8] = 1;
	rc = scsi(fd, r10, ISCSI_CMD_R, 4096, NULL, 0, &r, buf, sizeof(buf), &din, 0);
	result("residual underflow exact",
	       rc == 0 && din == 512 && (r.flags & ISCSI_RES_U) && r.w44 == 3584,
	       "flags 0x%02x residual %u data %u", r.flags, r.w44, din);
	/* Residual overflow: 2 blocks, EDTL 512. */
	r10[8] = 2;
	rc = scsi(fd, r10, ISCSI_CMD_R, 512, NULL, 0, &r, buf, sizeof(buf), &din, 0);
	result("residual overflow exact",
	       rc == 0 && din == 512 && (r.flags & ISCSI_RES_O) && r.w44 == 512,
	       "flags 0x%02x residual %u data %u", r.flags, r.w44, din);

	/* Unknown SCSI opcode. */
	uint8_t unk[16] = {0xd9};
	rc = scsi(fd, unk, 0, 0, NULL, 0, &r, buf, sizeof(buf), &din, 0);
	result("unknown SCSI opcode",
	       rc == 0 && r.b3 == 2 && (buf[4] & 0xf) == 5 && buf[14] == 0x20, "asc 0x%02x",
	       buf[14]);

	/* CmdSN outside the window: silently ignored. */
	uint8_t tur[16] = {0};
	set_timeout(fd, 1000);
	rc = scsi(fd, tur, 0, 0, NULL, 0, &r, buf, sizeof(buf), &din, cmdsn + 100000);
	result("out-of-window CmdSN ignored", rc == -2, "rc %d", rc);
	rc = scsi(fd, tur, 0, 0, NULL, 0, &r, buf, sizeof(buf), &din, cmdsn - 5);
	result("stale CmdSN ignored", rc == -2, "rc %d", rc);
	set_timeout(fd, 5000);
	rc = scsi(fd, tur, 0, 0, NULL, 0, &r, buf, sizeof(buf), &din, 0);
	result("in-window CmdSN answered", rc == 0 && r.b3 == 0, "rc %d", rc);

	/* Data-Out for a task that does not exist: dropped. */
	struct iscsi_bhs d = {0};
	d.opcode = ISCSI_OP_DATA_OUT;
	d.flags = ISCSI_FLAG_F;
	d.itt = 0x7777;
	d.w20 = ISCSI_RSVD_TAG;
	send_pdu(fd, &d, wdata, 512);
	result("stray Data-Out ignored", nop_ok(fd), "");

	/* Write with a bad DataSN: CHECK CONDITION, not a hang. */
	w10[2] = w10[3] = w10[4] = 0;
	w10[5] = 8;
	w10[8] = 2;
	struct iscsi_bhs h = {0};
	h.opcode = ISCSI_OP_SCSI_CMD;
	h.flags = ISCSI_CMD_W; /* F clear: unsolicited data follows */
	h.itt = ++itt;
	h.w20 = 1024;
	h.w24 = cmdsn++;
	h.w28 = expstatsn;
	uint8_t raw[ISCSI_BHS_LEN];
	iscsi_bhs_build(&h, raw);
	memcpy(raw + 32, w10, 16);
	send_all(fd, raw, sizeof(raw));
	d.itt = h.itt;
	d.flags = 0;
	d.w36 = 5; /* DataSN should be 0 */
	send_pdu(fd, &d, wdata, 512);
	rc = recv_pdu(fd, &r, buf, sizeof(buf));
	result("bad DataSN fails the command",
	       rc == 0 && r.opcode == ISCSI_OP_SCSI_RSP && r.b3 == 2, "rc %d opcode 0x%02x", rc,
	       r.opcode);
	d.w36 = 1;
	d.flags = ISCSI_FLAG_F;
	d.w40 = 512;
	send_pdu(fd, &d, wdata, 512); /* the rest of it: ignored */

	/* Unknown initiator opcode: Reject. */
	struct iscsi_bhs u = {0};
	u.opcode = 0x1c;
	u.immediate = 1;
	u.flags = ISCSI_FLAG_F;
	u.itt = ++itt;
	send_pdu(fd, &u, NULL, 0);
	rc = recv_pdu(fd, &r, buf, sizeof(buf));
	result("unknown opcode rejected", rc == 0 && r.opcode == ISCSI_OP_REJECT && r.b2 == 0x05,
	       "opcode 0x%02x reason 0x%02x", r.opcode, r.b2);

	/* SNACK at ErrorRecoveryLevel 0: Reject. */
	u.opcode = ISCSI_OP_SNACK;
	u.immediate = 0;
	send_pdu(fd, &u, NULL, 0);
	rc = recv_pdu(fd, &r, buf, sizeof(buf));
	result("SNACK rejected", rc == 0 && r.opcode == ISCSI_OP_REJECT, "");

	/* Malformed text request: Reject, session goes on. */
	struct iscsi_bhs tx = {0};
	tx.opcode = ISCSI_OP_TEXT_REQ;
	tx.immediate = 1;
	tx.flags = ISCSI_FLAG_F;
	tx.itt = ++itt;
	tx.w20 = ISCSI_RSVD_TAG;
	tx.w24 = cmdsn;
	send_pdu(fd, &tx, "garbage-without-equals", 23);
	rc = recv_pdu(fd, &r, buf, sizeof(buf));
	result("bad text key rejected", rc == 0 && r.opcode == ISCSI_OP_REJECT && nop_ok(fd), "");

	/* Oversized data segment: Reject and the connection is closed. */
	struct iscsi_bhs n = {0};
	n.opcode = ISCSI_OP_NOP_OUT;
	n.immediate = 1;
	n.flags = ISCSI_FLAG_F;
	n.itt = ++itt;
	n.w20 = ISCSI_RSVD_TAG;
	n.dlen = 1u << 20;
	iscsi_bhs_build(&n, raw);
	send_all(fd, raw, sizeof(raw));
	rc = recv_pdu(fd, &r, buf, sizeof(buf));
	result("oversized segment rejected",
	       rc == 0 && r.opcode == ISCSI_OP_REJECT && closed_soon(fd), "rc %d", rc);
	close(fd);
}

static void case_logout(void)
{
	int fd = conn_open(5000);
	if (fd < 0 || login(fd, macid, secret) < 0) {
		result("logout", 0, "login failed");
		return;
	}
	struct iscsi_bhs h = {0}, r;
	uint8_t data[256];
	h.opcode = ISCSI_OP_LOGOUT;
	h.immediate = 1;
	h.flags = ISCSI_FLAG_F;
	h.itt = ++itt;
	h.w24 = cmdsn;
	h.w28 = expstatsn;
	send_pdu(fd, &h, NULL, 0);
	int rc = recv_pdu(fd, &r, data, sizeof(data));
	result("logout", rc == 0 && r.opcode == ISCSI_OP_LOGOUT_RSP && r.b2 == 0 && closed_soon(fd),
	       "");
	close(fd);
}

/* iPXE's way: no immediate or unsolicited data, every write by R2T,
 * 8 KiB data segments both ways. */
static void case_ipxe(void)
{
	int fd = conn_open(5000);
	ipxe_keys = 1;
	int ok = fd >= 0 && login(fd, macid, secret) == 0;
	ipxe_keys = 0;
	if (!ok) {
		result("iPXE-style login", 0, "");
		close(fd);
		return;
	}
	const char *ir = find_key(last_text, last_text_len, "InitialR2T");
	const char *id = find_key(last_text, last_text_len, "ImmediateData");
	const char *mr = find_key(last_text, last_text_len, "MaxRecvDataSegmentLength");
	const char *ob = find_key(last_text, last_text_len, "MaxOutstandingR2T");
	result("iPXE keys negotiated",
	       ir && !strcmp(ir, "Yes") && id && !strcmp(id, "No") && mr && ob && !strcmp(ob, "1"),
	       "InitialR2T=%s ImmediateData=%s", ir ? ir : "?", id ? id : "?");

	/* WRITE 16 of 512 KiB at LBA 64: two R2Ts of at most 256 KiB. */
	enum { LEN = 512 * 1024, LBA = 64 };
	static uint8_t pat[LEN], back[LEN];
	for (size_t i = 0; i < LEN; i++)
		pat[i] = (uint8_t)(i * 7 + i / 4096);
	uint8_t cdb[16] = {0x8a};
	cdb[9] = LBA;
	fb_put_be32(cdb + 10, LEN / 512);
	struct iscsi_bhs h = {0}, r;
	h.opcode = ISCSI_OP_SCSI_CMD;
	h.flags = ISCSI_FLAG_F | ISCSI_CMD_W;
	h.itt = ++itt;
	h.w20 = LEN;
	h.w24 = cmdsn++;
	h.w28 = expstatsn;
	uint8_t raw[ISCSI_BHS_LEN], seg[9000];
	iscsi_bhs_build(&h, raw);
	memcpy(raw + 32, cdb, 16);
	send_all(fd, raw, sizeof(raw));
	int r2ts = 0, bad = 0, rc;
	for (;;) {
		rc = recv_pdu(fd, &r, seg, sizeof(seg));
		if (rc || r.opcode != ISCSI_OP_R2T)
			break;
		uint32_t off = r.w40, len = r.w44;
		if (r.w36 != (uint32_t)r2ts || len > 262144 || off + len > LEN)
			bad = 1;
		r2ts++;
		uint32_t sn = 0;
		for (uint32_t o = 0; o < len && !bad; o += 8192, sn++) {
			uint32_t n = len - o < 8192 ? len - o : 8192;
			struct iscsi_bhs d = {0};
			d.opcode = ISCSI_OP_DATA_OUT;
			d.flags = o + n == len ? ISCSI_FLAG_F : 0;
			d.itt = h.itt;
			d.w20 = r.w20; /* the R2T's TTT */
			d.w28 = expstatsn;
			d.w36 = sn;
			d.w40 = off + o;
			send_pdu(fd, &d, pat + off + o, n);
		}
	}
	result("write by R2T only",
	       rc == 0 && r.opcode == ISCSI_OP_SCSI_RSP && r.b3 == 0 && r2ts == 2 && !bad,
	       "%d R2Ts, status %u", r2ts, r.b3);

	/* READ 16 of the same: Data-In in segments of at most 8 KiB. */
	cdb[0] = 0x88;
	uint32_t din;
	int pdus = 0;
	h.opcode = ISCSI_OP_SCSI_CMD;
	h.flags = ISCSI_FLAG_F | ISCSI_CMD_R;
	h.itt = ++itt;
	h.w24 = cmdsn++;
	iscsi_bhs_build(&h, raw);
	memcpy(raw + 32, cdb, 16);
	send_all(fd, raw, sizeof(raw));
	din = 0;
	for (;;) {
		rc = recv_pdu(fd, &r, seg, sizeof(seg));
		if (rc || r.opcode != ISCSI_OP_DATA_IN)
			break;
		if (r.dlen > 8192 || r.w36 != (uint32_t)pdus || r.w40 + r.dlen > LEN)
			bad = 1;
		else
			memcpy(back + r.w40, seg, r.dlen);
		pdus++;
		din += r.dlen;
		if (r.flags & ISCSI_DATA_S)
			break;
	}
	result("read in 8 KiB Data-In PDUs",
	       rc == 0 && !bad && din == LEN && pdus == LEN / 8192 && !memcmp(pat, back, LEN),
	       "%d PDUs, %u bytes", pdus, din);
	close(fd);
}

/* Discovery: SendTargets lists this machine only; SCSI is refused. */
static void case_discovery(void)
{
	int fd = conn_open(5000);
	discovery = 1;
	int ok = fd >= 0 && login(fd, macid, secret) == 0;
	discovery = 0;
	if (!ok) {
		result("discovery login", 0, "");
		close(fd);
		return;
	}
	struct iscsi_bhs tx = {0}, r;
	uint8_t data[8192];
	tx.opcode = ISCSI_OP_TEXT_REQ;
	tx.flags = ISCSI_FLAG_F;
	tx.itt = ++itt;
	tx.w20 = ISCSI_RSVD_TAG;
	tx.w24 = cmdsn++;
	tx.w28 = expstatsn;
	send_pdu(fd, &tx, "SendTargets=All", 16);
	int rc = recv_pdu(fd, &r, data, sizeof(data));
	char want[128];
	snprintf(want, sizeof(want), "iqn.2026-11.org.fleetboot:%s", macid);
	const char *name = rc == 0 ? find_key(data, r.dlen, "TargetName") : NULL;
	int names = 0;
	for (size_t i = 0; rc == 0 && i < r.dlen; i += strlen((char *)data + i) + 1)
		names += !strncmp((char *)data + i, "TargetName=", 11);
	result("SendTargets lists only the asker", name && !strcmp(name, want) && names == 1, "%s",
	       name ? name : "none");
	uint8_t cdb[16] = {0x28};
	cdb[8] = 1;
	struct iscsi_bhs h = {0};
	h.opcode = ISCSI_OP_SCSI_CMD;
	h.flags = ISCSI_FLAG_F | ISCSI_CMD_R;
	h.itt = ++itt;
	h.w20 = 512;
	h.w24 = cmdsn;
	uint8_t raw[ISCSI_BHS_LEN];
	iscsi_bhs_build(&h, raw);
	memcpy(raw + 32, cdb, 16);
	send_all(fd, raw, sizeof(raw));
	rc = recv_pdu(fd, &r, data, sizeof(data));
	result("SCSI in a discovery session rejected",
	       rc == 0 && r.opcode == ISCSI_OP_REJECT && nop_ok(fd), "opcode 0x%02x", r.opcode);
	close(fd);
}

/* CRC32C header digests: negotiated, sent and checked both ways; a
 * header with a wrong digest ends the connection (ErrorRecoveryLevel 0). */
static void case_header_digest(void)
{
	int fd = conn_open(5000);
	want_hd = 1;
	int ok = fd >= 0 && login(fd, macid, secret) == 0;
	want_hd = 0;
	const char *hd = ok ? find_key(last_text, last_text_len, "HeaderDigest") : NULL;
	result("HeaderDigest=CRC32C negotiated", hd && !strcmp(hd, "CRC32C"), "%s", hd ? hd : "?");
	if (!hd || strcmp(hd, "CRC32C")) {
		close(fd);
		return;
	}
	const char *dd = find_key(last_text, last_text_len, "DataDigest");
	result("DataDigest=CRC32C negotiated", dd && !strcmp(dd, "CRC32C"), "%s", dd ? dd : "?");
	use_hd = use_dd = 1;
	hd_bad = dd_bad = 0;
	/* A write with immediate data, digested, read back. */
	static uint8_t wbuf[4096];
	for (size_t i = 0; i < sizeof(wbuf); i++)
		wbuf[i] = (uint8_t)(i * 13 + 5);
	uint8_t w10[16] = {0x2a};
	w10[5] = 200;
	w10[8] = 8;
	struct iscsi_bhs wr;
	uint32_t wdin;
	static uint8_t wsense[256];
	int wrc =
	    scsi(fd, w10, ISCSI_CMD_W, 4096, wbuf, 4096, &wr, wsense, sizeof(wsense), &wdin, 0);
	result("digested WRITE with immediate data", wrc == 0 && wr.b3 == 0 && !dd_bad && !hd_bad,
	       "rc %d status %u", wrc, wr.b3);
	static uint8_t buf[256 * 1024];
	struct iscsi_bhs r;
	uint32_t din;
	uint8_t r10[16] = {0x28};
	r10[5] = 200;
	r10[7] = 1; /* 256 blocks: several Data-In PDUs of 64 KiB */
	int rc = scsi(fd, r10, ISCSI_CMD_R, 131072, NULL, 0, &r, buf, sizeof(buf), &din, 0);
	int nop = nop_ok(fd);
	result("digested READ and NOP",
	       rc == 0 && r.b3 == 0 && din == 131072 && nop && !hd_bad && !dd_bad &&
	           !memcmp(buf, wbuf, sizeof(wbuf)),
	       "rc %d header digests %s, data digests %s", rc, hd_bad ? "bad" : "ok",
	       dd_bad ? "bad" : "ok");
	/* CHECK CONDITION: the sense data carries a data digest too. */
	uint8_t r16[16] = {0x88};
	r16[2] = 0x7f;
	r16[13] = 1;
	rc = scsi(fd, r16, ISCSI_CMD_R, 512, NULL, 0, &r, buf, sizeof(buf), &din, 0);
	result("digested sense data", rc == 0 && r.b3 == 2 && buf[14] == 0x21 && !dd_bad && !hd_bad,
	       "rc %d status %u", rc, r.b3);
	/* A NOP-Out whose data digest is wrong: rejected, connection closed. */
	struct iscsi_bhs nd = {0};
	uint8_t nraw[ISCSI_BHS_LEN + 4 + 4 + 4];
	nd.opcode = ISCSI_OP_NOP_OUT;
	nd.immediate = 1;
	nd.flags = ISCSI_FLAG_F;
	nd.itt = ++itt;
	nd.w20 = ISCSI_RSVD_TAG;
	nd.dlen = 4;
	iscsi_bhs_build(&nd, nraw);
	iscsi_put_digest(nraw + ISCSI_BHS_LEN, iscsi_crc32c(nraw, ISCSI_BHS_LEN));
	memcpy(nraw + ISCSI_BHS_LEN + 4, "ping", 4);
	iscsi_put_digest(nraw + ISCSI_BHS_LEN + 8, iscsi_crc32c("pong", 4));
	send_all(fd, nraw, sizeof(nraw));
	rc = recv_pdu(fd, &r, buf, sizeof(buf));
	result("bad data digest rejected",
	       rc == 0 && r.opcode == ISCSI_OP_REJECT && r.b2 == 0x02 && closed_soon(fd),
	       "rc %d opcode 0x%02x", rc, r.opcode);
	close(fd);
	use_hd = use_dd = 0;
	fd = conn_open(5000);
	want_hd = 1;
	ok = fd >= 0 && login(fd, macid, secret) == 0;
	want_hd = 0;
	use_hd = use_dd = 1;
	/* A NOP-Out whose digest is wrong: the target hangs up. */
	struct iscsi_bhs h = {0};
	uint8_t raw[ISCSI_BHS_LEN + 4];
	h.opcode = ISCSI_OP_NOP_OUT;
	h.immediate = 1;
	h.flags = ISCSI_FLAG_F;
	h.itt = ++itt;
	h.w20 = ISCSI_RSVD_TAG;
	iscsi_bhs_build(&h, raw);
	iscsi_put_digest(raw + ISCSI_BHS_LEN, iscsi_crc32c(raw, ISCSI_BHS_LEN) ^ 1);
	send_all(fd, raw, sizeof(raw));
	result("bad header digest closes", closed_soon(fd), "");
	use_hd = use_dd = 0;
	close(fd);
}

/* MD5(id || secret || challenge) as 0x-hex. */
static void chap_hex(uint8_t id, const char *sec, const uint8_t *chal, size_t cl, char hex[40])
{
	uint8_t buf[256], md[16];
	unsigned int mdl;
	size_t sl = strlen(sec);
	buf[0] = id;
	memcpy(buf + 1, sec, sl);
	memcpy(buf + 1 + sl, chal, cl);
	EVP_Digest(buf, 1 + sl + cl, md, &mdl, EVP_md5(), NULL);
	strcpy(hex, "0x");
	for (int i = 0; i < 16; i++)
		sprintf(hex + 2 + 2 * i, "%02x", md[i]);
}

/* Send one Data-Out of a write: n bytes of pattern at off. */
static void data_out_pdu(int fd, uint32_t task_itt, uint32_t ttt, uint32_t sn, uint32_t off,
                         uint32_t n, int final, const uint8_t *pat)
{
	struct iscsi_bhs d = {0};
	d.opcode = ISCSI_OP_DATA_OUT;
	d.flags = final ? ISCSI_FLAG_F : 0;
	d.itt = task_itt;
	d.w20 = ttt;
	d.w28 = expstatsn;
	d.w36 = sn;
	d.w40 = off;
	send_pdu(fd, &d, pat + off, n);
}

/*
 * Solicited Data-Out replayed and overlapping (issue 13 item 3): a WRITE
 * of 40 blocks with EDTL 16 KiB gets one R2T for 16 KiB. Data-Out at 0
 * (8 KiB), again at 0 (4 KiB), again at 0 (8 KiB) stay inside the R2T's
 * window but add up to 20 KiB: a target that checks only the window runs
 * the write with 20 KiB of data from a 16 KiB buffer. The right answer is
 * CHECK CONDITION (ABORTED COMMAND) at the first replay, and a session
 * that goes on working.
 */
static void case_dataout_replay(void)
{
	int fd = conn_open(5000);
	ipxe_keys = 1; /* InitialR2T=Yes: every byte solicited */
	int ok = fd >= 0 && login(fd, macid, secret) == 0;
	ipxe_keys = 0;
	if (!ok) {
		result("login for the Data-Out replay", 0, "");
		close(fd);
		return;
	}
	enum { EDTL = 16384, BLOCKS = 40, LBA = 2048 };
	static uint8_t pat[EDTL];
	memset(pat, 0xa5, sizeof(pat));
	uint8_t cdb[16] = {0x2a}; /* WRITE 10 */
	fb_put_be32(cdb + 2, LBA);
	cdb[8] = BLOCKS;
	struct iscsi_bhs h = {0}, r;
	h.opcode = ISCSI_OP_SCSI_CMD;
	h.flags = ISCSI_FLAG_F | ISCSI_CMD_W;
	h.itt = ++itt;
	h.w20 = EDTL;
	h.w24 = cmdsn++;
	h.w28 = expstatsn;
	uint8_t raw[ISCSI_BHS_LEN], seg[9000];
	iscsi_bhs_build(&h, raw);
	memcpy(raw + 32, cdb, 16);
	send_all(fd, raw, sizeof(raw));
	int rc = recv_pdu(fd, &r, seg, sizeof(seg));
	if (rc || r.opcode != ISCSI_OP_R2T || r.w40 != 0 || r.w44 != EDTL) {
		result("R2T for the whole write", 0, "rc %d opcode 0x%02x", rc, r.opcode);
		close(fd);
		return;
	}
	uint32_t ttt = r.w20;
	data_out_pdu(fd, h.itt, ttt, 0, 0, 8192, 0, pat);
	data_out_pdu(fd, h.itt, ttt, 1, 0, 4096, 0, pat); /* replay of bytes 0..4K */
	data_out_pdu(fd, h.itt, ttt, 2, 0, 8192, 0, pat); /* and 0..8K once more */
	rc = recv_pdu(fd, &r, seg, sizeof(seg));
	int key = rc == 0 && r.opcode == ISCSI_OP_SCSI_RSP && r.dlen >= 4 ? seg[2 + 2] & 0x0f : -1;
	result("replayed solicited Data-Out: CHECK CONDITION, ABORTED COMMAND",
	       rc == 0 && r.opcode == ISCSI_OP_SCSI_RSP && r.b3 == 0x02 && key == 0x0b,
	       "rc %d opcode 0x%02x status 0x%02x sense key %d", rc, r.opcode, r.b3, key);
	result("session still answers after the replay", nop_ok(fd), "");
	close(fd);
}

/*
 * TargetName switch (issue 13 item 4): the victim logs in; the attacker,
 * logged in as itself with the victim's InitiatorName and ISID, names the
 * victim's target in its operational-stage login PDU. Its login must
 * fail and the victim's session must live on.
 */
static void case_target_switch(const char *vmac, const char *vsecret)
{
	int vfd = conn_open(5000);
	int ok = vfd >= 0 && login(vfd, vmac, vsecret) == 0;
	result("victim logs in", ok, "");
	if (!ok) {
		close(vfd);
		return;
	}
	char vt[128];
	snprintf(vt, sizeof(vt), "iqn.2026-11.org.fleetboot:%s", vmac);
	int afd = conn_open(5000);
	op_target = vt;
	int arc = afd >= 0 ? login(afd, macid, secret) : -1;
	op_target = NULL;
	result("login that switches TargetName fails", arc < 0, "");
	usleep(500 * 1000); /* a reinstatement would close the victim by now */
	result("victim's session survives", nop_ok(vfd), "");
	close(afd);
	close(vfd);
}

/* server: the target's secret an initiator expects (as the initramfs
 * derives it from the boot's credential), or NULL. With it, this client
 * checks the target's answer as iscsistart -U/-W does: a target that
 * cannot prove that secret is refused. */
static void case_mutual(const char *server)
{
	int fd = conn_open(5000);
	ask_mutual = 1;
	int ok = fd >= 0 && login(fd, macid, secret) == 0;
	ask_mutual = 0;
	char own[40];
	chap_hex(mutual_id, secret, mutual_chal, sizeof(mutual_chal), own);
	result("mutual CHAP login", ok && mutual_resp[0], "");
	result("mutual CHAP answer not made with the initiator's secret",
	       mutual_resp[0] && strcasecmp(mutual_resp, own), "%s", mutual_resp);
	if (server) {
		char want[40];
		chap_hex(mutual_id, server, mutual_chal, sizeof(mutual_chal), want);
		result("the target proves the server secret the initiator expects",
		       mutual_resp[0] && !strcasecmp(mutual_resp, want), "answer %s, expected %s%s",
		       mutual_resp, want,
		       strcasecmp(mutual_resp, want) ? ": the initiator rejects the target" : "");
	}
	close(fd);
}

int main(int argc, char **argv)
{
	if (argc < 5) {
		fprintf(stderr, "usage: iscsi-badclient HOST PORT MACID SECRET [CASE [ARGS]]\n");
		return 2;
	}
	host = argv[1];
	port = atoi(argv[2]);
	macid = argv[3];
	secret = argv[4];
	const char *only = argc > 5 ? argv[5] : NULL;
	if (only && !strcmp(only, "dataout")) {
		case_dataout_replay();
		return failures ? 1 : 0;
	}
	if (only && !strcmp(only, "switch") && argc == 8) {
		case_target_switch(argv[6], argv[7]);
		return failures ? 1 : 0;
	}
	if (only && !strcmp(only, "mutual")) {
		case_mutual(argc > 6 ? argv[6] : NULL);
		return failures ? 1 : 0;
	}
	if (only && !strcmp(only, "loginbytes")) {
		int fd = conn_open(5000);
		if (fd >= 0 && login(fd, macid, secret) == 0) {
			printf("LOGGED-IN\n");
		} else {
			printf("RESP ");
			for (size_t i = 0; i < fail_len; i++)
				printf("%02x", fail_pdu[i]);
			printf("\n");
		}
		close(fd);
		return 0;
	}
	if (only && !strcmp(only, "spell") && argc == 8) {
		target_mac = argv[6];
		chap_name = argv[7];
		int fd = conn_open(5000);
		int ok = fd >= 0 && login(fd, macid, secret) == 0 && nop_ok(fd);
		printf("%s target %s, CHAP_N %s\n", ok ? "logged in" : "refused", target_mac,
		       chap_name);
		close(fd);
		return ok ? 0 : 1;
	}
	if (only) {
		fprintf(stderr, "iscsi-badclient: unknown case %s\n", only);
		return 2;
	}
	case_login_ok();
	case_wrong_secret();
	case_truncated();
	case_garbage();
	case_bad_text();
	case_unknown_key();
	case_huge_login_segment();
	case_scsi_before_login();
	case_ffp();
	case_ipxe();
	case_discovery();
	case_header_digest();
	case_logout();
	case_login_ok();
	printf("%d failures\n", failures);
	return failures ? 1 : 0;
}
