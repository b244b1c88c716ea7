/*
 * backend.c - what the iSCSI target asks of the daemon: may this
 * initiator log in as that machine (and with which CHAP secret), and the
 * machine's disk once it has. Everything is delegated to disk.c, which is
 * thread-safe, and every refusal is logged here.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "log.h"
#include "storaged/storaged.h"

static void peer_ip(const struct sockaddr_in *peer, char out[FB_IP_LEN])
{
	out[0] = 0;
	if (peer)
		inet_ntop(AF_INET, &peer->sin_addr, out, FB_IP_LEN);
}

static int be_lookup(void *arg, const char *macid, const struct sockaddr_in *peer, char secret[33])
{
	char ip[FB_IP_LEN], why[512];
	peer_ip(peer, ip);
	int rc = sd_authorize(arg, macid, NULL, ip[0] ? ip : NULL, secret, why, sizeof(why));
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
	return &d->bd;
}

static void be_release(void *arg, const char *macid, struct fb_blockdev *bd)
{
	/* bd is the first member of struct sd_disk. */
	sd_release(arg, (struct sd_disk *)bd);
}

void sd_iscsi_backend(struct sd_ctx *ctx, struct fb_iscsi_backend *be)
{
	be->lookup = be_lookup;
	be->open = be_open;
	be->release = be_release;
	be->arg = ctx;
}
