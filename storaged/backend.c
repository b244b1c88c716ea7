/*
 * backend.c - what the iSCSI target asks of the daemon: may this
 * initiator log in as that machine (and with which CHAP secrets), and the
 * machine's disk once it has. Everything is delegated to disk.c, which is
 * thread-safe, and every refusal is logged here.
 *
 * CHAP secrets. The initiator proves the secret sd_authorize gives out
 * (the machine's credential). In mutual CHAP the target proves a secret of
 * its own, derived from that one: the first 32 hex digits of
 * HMAC-SHA256(credential, "fleetboot iscsi mutual chap"). The initiator
 * is told both; knowing the initiator's secret never lets anyone answer
 * as the target without also knowing the derivation and the credential it
 * starts from, and the two are never the same string. Whatever
 * credential sd_authorize hands out (the machine secret, or a per-boot
 * credential), the mutual secret follows from it the same way.
 *
 * A Secure Boot machine must log in with mutual CHAP (DESIGN.md): the
 * lookup says so, and the target refuses its one-way logins.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "storaged/storaged.h"

static void peer_ip(const struct sockaddr_in *peer, char out[FB_IP_LEN])
{
	out[0] = 0;
	if (peer)
		inet_ntop(AF_INET, &peer->sin_addr, out, FB_IP_LEN);
}

int sd_mutual_secret(const char *secret, char out[33])
{
	static const char label[] = "fleetboot iscsi mutual chap", d[] = "0123456789abcdef";
	uint8_t mac[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	if (!HMAC(EVP_sha256(), secret, (int)strlen(secret), (const uint8_t *)label,
	          sizeof(label) - 1, mac, &len) ||
	    len < 16)
		return -1;
	for (int i = 0; i < 16; i++) {
		out[2 * i] = d[mac[i] >> 4];
		out[2 * i + 1] = d[mac[i] & 15];
	}
	out[32] = 0;
	OPENSSL_cleanse(mac, sizeof(mac));
	return 0;
}

static int be_lookup(void *arg, const char *macid, const struct sockaddr_in *peer, char secret[33],
                     char mutual[33], char must_mutual[FB_ISCSI_REASON_LEN])
{
	char ip[FB_IP_LEN], why[512];
	peer_ip(peer, ip);
	int rc = sd_authorize(arg, macid, NULL, ip[0] ? ip : NULL, secret, why, sizeof(why));
	if (rc == 0 && sd_mutual_secret(secret, mutual) < 0) {
		snprintf(why, sizeof(why), "cannot derive the mutual CHAP secret");
		rc = -EIO;
	}
	/* A verified machine's initramfs challenges the target; a login that
	 * does not is someone else (or a downgrade) and gets nothing, as a
	 * plain NBD connection for it does not (nbd_plugin.c). */
	if (rc == 0 && sd_machine_secure_boot(arg, macid))
		snprintf(must_mutual, FB_ISCSI_REASON_LEN,
		         "secure boot machine %s: the initiator must authenticate the target "
		         "(mutual CHAP)",
		         macid);
	if (rc < 0)
		log_warnx("iSCSI login refused for %s from %s: %s", macid, ip, why);
	return rc == -ENOENT || rc == -EACCES ? rc : rc < 0 ? -EACCES : 0;
}

static struct fb_blockdev *be_open(void *arg, const char *macid, const struct sockaddr_in *peer)
{
	char ip[FB_IP_LEN], why[512];
	peer_ip(peer, ip);
	struct sd_disk *d = sd_open(arg, macid, ip, why, sizeof(why));
	if (!d) {
		int e = errno;
		log_warnx("iSCSI disk for %s from %s refused: %s", macid, ip, why);
		errno = e;
		return NULL;
	}
	char detail[64];
	snprintf(detail, sizeof(detail), "from %s", ip);
	sd_event(arg, macid, "iscsi-login", detail);
	return &d->bd;
}

static void be_release(void *arg, const char *macid, struct fb_blockdev *bd)
{
	/* bd is the first member of struct sd_disk. */
	sd_release(arg, (struct sd_disk *)bd);
}

static int be_pr_file(void *arg, const char *macid, struct fb_blockdev *bd, char *path, size_t len)
{
	/* bd is the first member of struct sd_disk. */
	return sd_pr_path(arg, (const struct sd_disk *)bd, path, len);
}

void sd_iscsi_backend(struct sd_ctx *ctx, struct fb_iscsi_backend *be)
{
	be->pr_file = be_pr_file;
	be->lookup = be_lookup;
	be->open = be_open;
	be->release = be_release;
	be->arg = ctx;
}
