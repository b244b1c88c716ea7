/*
 * powercut.c - build what a disk may hold after a power cut, from a file's
 * durable starting point and the record powercut_shim.c kept of the
 * changes made to it since (see there for the format).
 *
 *   powercut FILE LOG SEED
 *
 * FILE must hold the starting point: the file as it was, durably, when
 * the record began (the test restores it from a copy before every round;
 * the process that made the changes has written them all to the page
 * cache, so the file it left behind is no starting point). It is changed
 * in place:
 *
 * - every change recorded before the start of the latest sync that
 *   completed is applied, in order: that sync made it durable;
 * - every later change may or may not have reached the disk: each is,
 *   at random, dropped, applied whole or torn. A torn write lands as a
 *   prefix of its 512-byte sectors or as any subset of them (a disk
 *   writes sectors, not requests). Order is kept among those applied, so
 *   an overlapping later write still wins where it landed.
 *
 * The same SEED gives the same disk. Prints one line of counts; exits 0,
 * or 2 on a bad record or an I/O error.
 */
#include <fcntl.h>
#include <linux/falloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "byteorder.h"

#define SECTOR 512u

struct rec {
	char op;
	uint64_t off, len;
	long data; /* offset of the data in the log ('W') */
};

static uint64_t rng;

/* splitmix64: every seed, even 0, gives a well-mixed sequence. */
static uint64_t next(void)
{
	uint64_t z = (rng += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

enum fate { DROP, WHOLE, PREFIX, SECTORS };

/* Apply r as fate says; *landed counts the sectors written. */
static int apply(int fd, FILE *log, const struct rec *r, enum fate fate, uint64_t *landed)
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
	/* Sector pieces, cut at the file's 512-byte boundaries. */
	uint64_t first = r->off / SECTOR, nsect = (r->off + r->len + SECTOR - 1) / SECTOR - first;
	uint64_t keep = fate == PREFIX ? 1 + next() % (nsect - 1) : nsect;
	int rc = 0;
	for (uint64_t s = 0; s < nsect && rc == 0; s++) {
		uint64_t at = (first + s) * SECTOR, end = at + SECTOR;
		if (at < r->off)
			at = r->off;
		if (end > r->off + r->len)
			end = r->off + r->len;
		if (s >= keep || (fate == SECTORS && next() % 2))
			continue;
		if (pwrite(fd, buf + (at - r->off), end - at, (off_t)at) != (ssize_t)(end - at))
			rc = -1;
		(*landed)++;
	}
	free(buf);
	return rc;
}

/* A later change's fate: half are dropped; a write of more than one
 * sector is torn one time in three of the rest. */
static enum fate pick(const struct rec *r)
{
	if (next() % 2)
		return DROP;
	int multi = r->op == 'W' && (r->off % SECTOR + r->len + SECTOR - 1) / SECTOR > 1;
	if (!multi || next() % 3)
		return WHOLE;
	return next() % 2 ? PREFIX : SECTORS;
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: powercut FILE LOG SEED\n");
		return 2;
	}
	rng = strtoull(argv[3], NULL, 10);
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
		if (!r->op || !strchr("WZTBS", r->op) || (r->op == 'W' && r->len == 0) ||
		    (r->op == 'W' && fseek(log, (long)r->len, SEEK_CUR))) {
			fprintf(stderr, "powercut: bad record %zu\n", n);
			return 2;
		}
	}
	/* The durable prefix ends where the latest-starting completed sync
	 * began (syncs may overlap: one that began later and ended earlier
	 * still covers everything before its start). */
	size_t durable = 0;
	unsigned changes = 0, writes = 0, syncs = 0;
	for (size_t i = 0; i < n; i++) {
		changes += recs[i].op == 'W' || recs[i].op == 'Z' || recs[i].op == 'T';
		writes += recs[i].op == 'W';
		if (recs[i].op != 'S')
			continue;
		syncs++;
		for (size_t j = i; j-- > 0;)
			if (recs[j].op == 'B' && recs[j].len == recs[i].len) {
				if (j > durable)
					durable = j;
				break;
			}
	}
	unsigned kept = 0, later = 0, whole = 0, torn = 0, dropped = 0;
	uint64_t sectors = 0;
	for (size_t i = 0; i < n; i++) {
		const struct rec *r = &recs[i];
		if (r->op == 'B' || r->op == 'S')
			continue;
		enum fate fate = WHOLE;
		if (i < durable) {
			kept++;
		} else {
			later++;
			fate = pick(r);
			dropped += fate == DROP;
			whole += fate == WHOLE;
			torn += fate == PREFIX || fate == SECTORS;
		}
		if (fate != DROP && apply(fd, log, r, fate, &sectors) < 0) {
			perror("powercut: apply");
			return 2;
		}
	}
	if (fsync(fd) < 0) {
		perror("powercut: fsync");
		return 2;
	}
	printf("seed %s: %u changes recorded (%u writes), %u syncs completed; %u durable; "
	       "after the last sync %u: %u applied whole, %u torn, %u dropped\n",
	       argv[3], changes, writes, syncs, kept, later, whole, torn, dropped);
	free(recs);
	fclose(log);
	close(fd);
	return 0;
}
