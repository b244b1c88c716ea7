/*
 * fuzz_tftp.c - the TFTP codec on arbitrary packets (requests with
 * options, ACKs, errors) and bootd's file-name resolution under a scratch
 * TFTP root holding one file, a symlink out of it and a directory: a name
 * must never open anything outside the root.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bootd/bootd.h"
#include "proto/tftp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int rootfd = -1;
static char root[64];
static ino_t outside_ino;

static void setup(void)
{
	char dir[] = "/tmp/fuzz-tftp.XXXXXX", p[128];
	if (!mkdtemp(dir))
		abort();
	snprintf(root, sizeof(root), "%s/root", dir);
	mkdir(root, 0755);
	snprintf(p, sizeof(p), "%s/outside", dir);
	int fd = open(p, O_CREAT | O_WRONLY, 0644);
	struct stat st;
	fstat(fd, &st);
	outside_ino = st.st_ino;
	close(fd);
	snprintf(p, sizeof(p), "%s/file", root);
	close(open(p, O_CREAT | O_WRONLY, 0644));
	snprintf(p, sizeof(p), "%s/sub", root);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/esc", root);
	if (symlink("../outside", p) < 0)
		abort();
	rootfd = open(root, O_PATH | O_DIRECTORY);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (rootfd < 0)
		setup();
	struct fb_tftp_req r;
	const char *why;
	int code = fb_tftp_parse_req(&r, data, size, &why);
	if (code == 0) {
		if (!r.filename[0] || (r.has_blksize && (r.blksize < 8 || r.blksize > 65464)))
			abort();
		int fd = tftp_open_file(rootfd, root, r.filename, &why);
		if (fd >= 0) {
			struct stat st;
			fstat(fd, &st);
			if (st.st_ino == outside_ino)
				abort(); /* escaped the root */
			close(fd);
		}
	}
	uint16_t blk, ecode;
	char msg[64];
	fb_tftp_parse_ack(data, size, &blk);
	fb_tftp_parse_error(data, size, &ecode, msg, sizeof(msg));
	uint8_t out[600];
	struct fb_tftp_oack o = {
	    .blksize = blk, .has_tsize = 1, .tsize = size, .windowsize = ecode};
	fb_tftp_build_oack(out, sizeof(out), &o);
	return 0;
}
