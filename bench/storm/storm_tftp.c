/*
 * storm_tftp.c - the PXE ROM's TFTP read of the iPXE binary: an RRQ with
 * blksize (the ROM's size) and tsize, then lockstep DATA/ACK (PXE ROMs do
 * not ask for windowsize). On silence the client sends its last packet
 * again, as ROMs do; each resend counts as a retry. A duplicate DATA block
 * is acknowledged again and not counted twice.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "byteorder.h"
#include "proto/tftp.h"
#include "storm.h"

/* The blksize an OACK grants, or 512 when it names none. */
static unsigned oack_blksize(const uint8_t *p, size_t n)
{
	size_t i = 2;
	while (i < n) {
		const char *k = (const char *)p + i;
		size_t kl = strnlen(k, n - i);
		if (i + kl + 1 >= n)
			break;
		const char *v = k + kl + 1;
		size_t vl = strnlen(v, n - i - kl - 1);
		if (!strcasecmp(k, "blksize") && vl < n - i - kl - 1)
			return (unsigned)strtoul(v, NULL, 10);
		i += kl + 1 + vl + 1;
	}
	return FB_TFTP_DEF_BLKSIZE;
}

int storm_tftp(struct machine *m, const char *file)
{
	int fd = storm_socket(m, SOCK_DGRAM), rc = -1;
	if (fd < 0)
		return -1;
	uint8_t out[600], *in = malloc(FB_TFTP_MAX_PKT);
	if (!in) {
		close(fd);
		return storm_fail(m, "out of memory");
	}
	struct fb_tftp_oack o = {.blksize = m->cfg->blksize, .has_tsize = 1};
	int outlen = fb_tftp_build_rrq(out, sizeof(out), file, "octet", &o);
	struct sockaddr_in srv = {
	    .sin_family = AF_INET, .sin_port = htons(69), .sin_addr = m->server};
	struct sockaddr_in peer = srv; /* the transfer's port, once the server answers */
	int have_peer = 0, tries = 0;
	unsigned blksize = FB_TFTP_DEF_BLKSIZE;
	uint16_t expect = 1;
	if (outlen < 0) {
		storm_fail(m, "TFTP request does not fit");
		goto out;
	}
	for (;;) {
		if (tries) {
			if (tries >= m->cfg->tries) {
				storm_fail(m, "TFTP %s: no answer after %d sends (block %u)", file,
				           tries, expect);
				goto out;
			}
			m->retries++;
		}
		if (sendto(fd, out, (size_t)outlen, 0, (struct sockaddr *)&peer, sizeof(peer)) <
		    0) {
			storm_fail(m, "TFTP send: %s", strerror(errno));
			goto out;
		}
		m->bytes[PR_TFTP] += (uint64_t)outlen;
		tries++;
		struct pollfd p = {fd, POLLIN, 0};
		if (poll(&p, 1, m->cfg->timeout_ms) <= 0)
			continue;
		struct sockaddr_in from;
		socklen_t fl = sizeof(from);
		ssize_t k = recvfrom(fd, in, FB_TFTP_MAX_PKT, 0, (struct sockaddr *)&from, &fl);
		if (k < 4 || from.sin_addr.s_addr != srv.sin_addr.s_addr)
			continue;
		if (have_peer && from.sin_port != peer.sin_port)
			continue; /* another transfer's packet */
		m->bytes[PR_TFTP] += (uint64_t)k;
		int op = fb_tftp_opcode(in, (size_t)k);
		if (op == FB_TFTP_ERROR) {
			uint16_t code;
			char msg[128] = "";
			fb_tftp_parse_error(in, (size_t)k, &code, msg, sizeof(msg));
			storm_fail(m, "TFTP %s: error %u %s", file, code, msg);
			goto out;
		}
		if (!have_peer) {
			peer = from;
			have_peer = 1;
		}
		if (op == FB_TFTP_OACK && expect == 1) {
			blksize = oack_blksize(in, (size_t)k);
			outlen = fb_tftp_build_ack(out, sizeof(out), 0);
			tries = 0;
			continue;
		}
		if (op != FB_TFTP_DATA)
			continue;
		uint16_t block = fb_get_be16(in + 2);
		if (block != expect) {
			/* A resend of one already acknowledged: say so again. */
			outlen = fb_tftp_build_ack(out, sizeof(out), block);
			tries = 0;
			continue;
		}
		outlen = fb_tftp_build_ack(out, sizeof(out), block);
		tries = 0;
		expect++;
		if ((size_t)k - 4 < blksize) { /* the last block */
			if (sendto(fd, out, (size_t)outlen, 0, (struct sockaddr *)&peer,
			           sizeof(peer)) >= 0)
				m->bytes[PR_TFTP] += (uint64_t)outlen;
			rc = 0;
			goto out;
		}
	}
out:
	free(in);
	close(fd);
	return rc;
}
