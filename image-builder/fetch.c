/*
 * fetch.c - fleetboot-image-fetch: read a whole disk from an NBD server
 * (libnbd) or an iSCSI target (libiscsi) into a local raw file, with
 * progress, so `fleetboot-image build --from nbd://... | iscsi://...` can
 * treat it like a `disk:` source.
 *
 *   fleetboot-image-fetch [-q] URL OUTPUT
 *   URL: nbd://HOST[:PORT]/EXPORT
 *        iscsi://[USER%SECRET@]HOST[:PORT]/TARGET_IQN/LUN
 *
 * The protocols are the libraries' business; this file only loops over
 * the disk. Runs of zeros are not written, so the output stays sparse.
 * Exit 0 on success, 1 with one line on stderr otherwise (the secret of
 * an iSCSI URL is never printed).
 */
#include <errno.h>
#include <fcntl.h>
#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>
#include <libnbd.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fileio.h"
#include "progress.h"
#include "stateperm.h"
#include "str.h"

#define CHUNK (1024 * 1024) /* bytes per read request */

/* One source disk: either libnbd or libiscsi behind two calls. */
struct src {
	struct nbd_handle *nbd;      /* nbd:// */
	struct iscsi_context *iscsi; /* iscsi:// */
	int lun;                     /* iSCSI LUN */
	uint32_t block;              /* iSCSI block size */
	uint64_t size;               /* bytes */
};

static volatile sig_atomic_t interrupted;
static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

/* The URL with any password replaced, for messages. */
static void redact(const char *url, char *out, size_t len)
{
	const char *at = strchr(url, '@'), *scheme = strstr(url, "://");
	const char *pct = scheme ? strchr(scheme + 3, '%') : NULL;
	if (at && scheme && pct && pct < at)
		snprintf(out, len, "%.*s%%***%s", (int)(pct - url), url, at);
	else
		snprintf(out, len, "%s", url);
}

static int open_nbd(struct src *s, const char *url, const char *shown)
{
	s->nbd = nbd_create();
	if (!s->nbd) {
		fprintf(stderr, "fleetboot-image-fetch: %s\n", nbd_get_error());
		return -1;
	}
	if (nbd_connect_uri(s->nbd, url) < 0) {
		fprintf(stderr, "fleetboot-image-fetch: %s: %s\n", shown, nbd_get_error());
		return -1;
	}
	int64_t size = nbd_get_size(s->nbd);
	if (size < 0) {
		fprintf(stderr, "fleetboot-image-fetch: %s: %s\n", shown, nbd_get_error());
		return -1;
	}
	s->size = (uint64_t)size;
	return 0;
}

static int open_iscsi(struct src *s, const char *url, const char *shown)
{
	char iqn[128];
	char host[64] = "localhost";
	gethostname(host, sizeof(host) - 1);
	snprintf(iqn, sizeof(iqn), "iqn.2026-11.org.fleetboot.image-fetch:%s", host);
	s->iscsi = iscsi_create_context(iqn);
	if (!s->iscsi) {
		fprintf(stderr, "fleetboot-image-fetch: cannot create an iSCSI context\n");
		return -1;
	}
	struct iscsi_url *u = iscsi_parse_full_url(s->iscsi, url);
	if (!u) {
		fprintf(stderr, "fleetboot-image-fetch: %s: bad iSCSI URL (%s)\n", shown,
		        iscsi_get_error(s->iscsi));
		return -1;
	}
	iscsi_set_targetname(s->iscsi, u->target);
	iscsi_set_session_type(s->iscsi, ISCSI_SESSION_NORMAL);
	iscsi_set_header_digest(s->iscsi, ISCSI_HEADER_DIGEST_NONE_CRC32C);
	if (u->user[0] && iscsi_set_initiator_username_pwd(s->iscsi, u->user, u->passwd) != 0) {
		fprintf(stderr, "fleetboot-image-fetch: %s: cannot set CHAP credentials\n", shown);
		iscsi_destroy_url(u);
		return -1;
	}
	s->lun = u->lun;
	if (iscsi_full_connect_sync(s->iscsi, u->portal, u->lun) != 0) {
		fprintf(stderr, "fleetboot-image-fetch: %s: login failed: %s\n", shown,
		        iscsi_get_error(s->iscsi));
		iscsi_destroy_url(u);
		return -1;
	}
	iscsi_destroy_url(u);
	struct scsi_task *t = iscsi_readcapacity16_sync(s->iscsi, s->lun);
	struct scsi_readcapacity16 *rc = NULL;
	if (t && t->status == SCSI_STATUS_GOOD)
		rc = scsi_datain_unmarshall(t);
	if (!rc || rc->block_length == 0 || rc->block_length > CHUNK) {
		fprintf(stderr, "fleetboot-image-fetch: %s: READ CAPACITY failed: %s\n", shown,
		        iscsi_get_error(s->iscsi));
		if (t)
			scsi_free_scsi_task(t);
		return -1;
	}
	s->block = rc->block_length;
	s->size = (rc->returned_lba + 1) * (uint64_t)rc->block_length;
	scsi_free_scsi_task(t);
	return 0;
}

/* Read len bytes at off into buf. 0 or -1 after printing why. */
static int src_read(struct src *s, void *buf, size_t len, uint64_t off)
{
	if (s->nbd) {
		if (nbd_pread(s->nbd, buf, len, off, 0) < 0) {
			fprintf(stderr, "fleetboot-image-fetch: read at %llu: %s\n",
			        (unsigned long long)off, nbd_get_error());
			return -1;
		}
		return 0;
	}
	struct scsi_task *t = iscsi_read16_sync(s->iscsi, s->lun, off / s->block, (uint32_t)len,
	                                        (int)s->block, 0, 0, 0, 0, 0);
	if (!t || t->status != SCSI_STATUS_GOOD || t->datain.size < (int)len) {
		fprintf(stderr, "fleetboot-image-fetch: READ16 at block %llu failed: %s\n",
		        (unsigned long long)(off / s->block), iscsi_get_error(s->iscsi));
		if (t)
			scsi_free_scsi_task(t);
		return -1;
	}
	memcpy(buf, t->datain.data, len);
	scsi_free_scsi_task(t);
	return 0;
}

static void src_close(struct src *s)
{
	if (s->nbd) {
		nbd_shutdown(s->nbd, 0);
		nbd_close(s->nbd);
	}
	if (s->iscsi) {
		iscsi_logout_sync(s->iscsi);
		iscsi_destroy_context(s->iscsi);
	}
}

/* Copy the whole source into fd, sparse, with progress. */
static int copy_all(struct src *s, int fd, int quiet)
{
	unsigned char *buf = malloc(CHUNK);
	if (!buf) {
		fprintf(stderr, "fleetboot-image-fetch: out of memory\n");
		return -1;
	}
	int rc = -1;
	uint64_t off = 0;
	while (off < s->size) {
		if (interrupted) {
			fprintf(stderr, "fleetboot-image-fetch: interrupted\n");
			goto out;
		}
		size_t n = s->size - off < CHUNK ? (size_t)(s->size - off) : CHUNK;
		if (src_read(s, buf, n, off) < 0)
			goto out;
		if (!fb_all_zero(buf, n)) {
			int werr = fb_pwrite_full(fd, buf, n, off);
			if (werr < 0) {
				fprintf(stderr, "fleetboot-image-fetch: write: %s\n",
				        strerror(-werr));
				goto out;
			}
		}
		off += n;
		if (!quiet)
			fb_progress_stderr((void *)"fleetboot-image: reading the disk", off,
			                   s->size);
	}
	if (ftruncate(fd, (off_t)s->size) < 0 || fsync(fd) < 0) {
		fprintf(stderr, "fleetboot-image-fetch: %s\n", strerror(errno));
		goto out;
	}
	rc = 0;
out:
	free(buf);
	return rc;
}

int main(int argc, char **argv)
{
	int quiet = 0, argi = 1;
	fb_umask_private(); /* the fetched disk is the service's alone */
	if (argi < argc && !strcmp(argv[argi], "-q")) {
		quiet = 1;
		argi++;
	}
	if (argc - argi != 2) {
		fprintf(stderr, "usage: fleetboot-image-fetch [-q] nbd://HOST[:PORT]/EXPORT|"
		                "iscsi://[USER%%SECRET@]HOST[:PORT]/IQN/LUN OUTPUT\n");
		return 2;
	}
	const char *url = argv[argi], *out = argv[argi + 1];
	char shown[1024];
	redact(url, shown, sizeof(shown));

	struct sigaction sa = {.sa_handler = on_signal};
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	struct src s = {0};
	int rc;
	if (!strncmp(url, "nbd://", 6))
		rc = open_nbd(&s, url, shown);
	else if (!strncmp(url, "iscsi://", 8))
		rc = open_iscsi(&s, url, shown);
	else {
		fprintf(stderr, "fleetboot-image-fetch: %s: not an nbd:// or iscsi:// URL\n",
		        shown);
		return 1;
	}
	if (rc < 0) {
		src_close(&s);
		return 1;
	}
	if (s.size == 0 || s.size % 512) {
		fprintf(stderr, "fleetboot-image-fetch: %s: unusable disk size %llu\n", shown,
		        (unsigned long long)s.size);
		src_close(&s);
		return 1;
	}
	int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		fprintf(stderr, "fleetboot-image-fetch: %s: %s\n", out, strerror(errno));
		src_close(&s);
		return 1;
	}
	rc = copy_all(&s, fd, quiet);
	close(fd);
	src_close(&s);
	if (rc < 0) {
		unlink(out);
		return 1;
	}
	return 0;
}
