/*
 * powercut.c - build what a disk may hold after a power cut, from a file's
 * durable starting point and the record powercut_shim.c kept of the
 * changes made to it since (see there for the format).
 *
 *   powercut FILE LOG SEED
 *
 * FILE holds the starting point (durable: the test synced it) and is
 * changed in place. Every change recorded before the last completed
 * sync's start is applied, in order. Every later change is applied or
 * not, at random; a write that is applied may be torn: each of its
 * 512-byte sectors then lands or not on its own. Order is kept among
 * those applied, so an overlapping later write still wins.
 *
 * Prints what it did; exits 0, or 2 on a bad record.
 */
#include <fcntl.h>
#include <linux/falloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "byteorder.h"

struct rec {
	char op;
	uint64_t off, len;
	long data; /* offset of the data in the log ('W') */
};

static uint64_t rng;

static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static int apply(int fd, FILE *log, const struct rec *r, int torn, unsigned *sectors)
{
	if (r->op == 'T')
		return ftruncate(fd, (off_t)r->off);
	if (r->op == 'Z')
		return fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)r->off,
		                 (off_t)r->len);
	unsigned char *buf = malloc(r->len ? r->len : 1);
	if (!buf || fseek(log, r->data, SEEK_SET) || fread(buf, 1, r->len, log) != r->len) {
		free(buf);
		return -1;
	}
	int rc = 0;
	/* Sector pieces, aligned to the file's 512-byte sectors. */
	for (uint64_t at = r->off; at < r->off + r->len && rc == 0;) {
		uint64_t end = (at / 512 + 1) * 512;
		if (end > r->off + r->len)
			end = r->off + r->len;
		if (!torn || next() % 2) {
			if (pwrite(fd, buf + (at - r->off), end - at, (off_t)at) !=
			    (ssize_t)(end - at))
				rc = -1;
			(*sectors)++;
		}
		at = end;
	}
	free(buf);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: powercut FILE LOG SEED\n");
		return 2;
	}
	rng = strtoull(argv[3], NULL, 10) * 2654435761u + 88172645463325252ull;
	int fd = open(argv[1], O_RDWR);
	FILE *log = fopen(argv[2], "rb");
	if (fd < 0 || !log) {
		perror("powercut");
		return 2;
	}
	struct rec *recs = NULL;
	size_t n = 0, cap = 0;
	unsigned char h[17];
	while (fread(h, 1, sizeof(h), log) == sizeof(h)) {
		if (n == cap) {
			cap = cap ? cap * 2 : 1024;
			recs = realloc(recs, cap * sizeof(*recs));
			if (!recs)
				return 2;
		}
		struct rec *r = &recs[n++];
		r->op = (char)h[0];
		r->off = fb_get_le64(h + 1);
		r->len = fb_get_le64(h + 9);
		r->data = ftell(log);
		if (!strchr("WZTBS", r->op) ||
		    (r->op == 'W' && fseek(log, (long)r->len, SEEK_CUR))) {
			fprintf(stderr, "powercut: bad record %zu\n", n);
			return 2;
		}
	}
	/* The durable prefix ends where the last completed sync began. */
	size_t durable = 0;
	for (size_t i = n; i-- > 0;) {
		if (recs[i].op != 'S')
			continue;
		for (size_t j = i; j-- > 0;)
			if (recs[j].op == 'B' && recs[j].len == recs[i].len) {
				durable = j;
				break;
			}
		break;
	}
	unsigned kept = 0, later = 0, applied = 0, torn = 0, sectors = 0;
	for (size_t i = 0; i < n; i++) {
		const struct rec *r = &recs[i];
		if (r->op == 'B' || r->op == 'S')
			continue;
		int tear = 0;
		if (i < durable) {
			kept++;
		} else {
			later++;
			if (next() % 2)
				continue;
			applied++;
			tear = r->op == 'W' && next() % 3 == 0;
			torn += tear;
		}
		if (apply(fd, log, r, tear, &sectors) < 0) {
			perror("powercut: apply");
			return 2;
		}
	}
	fsync(fd);
	printf("%u durable changes; after the last sync %u of %u applied, %u torn\n", kept, applied,
	       later, torn);
	free(recs);
	fclose(log);
	close(fd);
	return 0;
}
