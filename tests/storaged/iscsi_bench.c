/*
 * iscsi_bench.c - a small libiscsi load generator for bench/storaged-iscsi.sh
 * and the storaged tests (fio has no libiscsi engine in Debian, and
 * iscsi-perf only reads): keeps QD READ16/WRITE16 commands in flight on one
 * session for a fixed time and prints "IOPS MBps ERRORS MAX_MS", MAX_MS
 * being the longest any command took.
 *
 *   iscsi-bench URL randread|randwrite|read|write|idle BLOCK_BYTES QD SECONDS
 *
 * idle logs in, stays logged in for SECONDS without I/O, and logs out.
 */
#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct bench {
	struct iscsi_context *iscsi;
	int lun, write, random;
	uint32_t bs, blocks_per_io;
	uint64_t nblocks, next_lba, done, errors;
	int inflight, stop;
	unsigned char *buf;
	uint64_t rng;
	double max_lat; /* seconds */
};

/* One command slot: which run it belongs to and when it was sent. */
struct slot {
	struct bench *b;
	double sent;
};

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void issue(struct slot *s);

static void done_cb(struct iscsi_context *iscsi __attribute__((unused)), int status,
                    void *command_data, void *priv)
{
	struct slot *s = priv;
	struct bench *b = s->b;
	struct scsi_task *task = command_data;
	double lat = now() - s->sent;
	if (lat > b->max_lat)
		b->max_lat = lat;
	b->inflight--;
	if (status != SCSI_STATUS_GOOD)
		b->errors++;
	else
		b->done++;
	if (task)
		scsi_free_scsi_task(task);
	if (!b->stop)
		issue(s);
}

static void issue(struct slot *s)
{
	struct bench *b = s->b;
	uint64_t span = b->nblocks / b->blocks_per_io, lba;
	if (b->random) {
		lba = (xorshift(&b->rng) % span) * b->blocks_per_io;
	} else {
		lba = b->next_lba;
		b->next_lba += b->blocks_per_io;
		if (b->next_lba + b->blocks_per_io > b->nblocks)
			b->next_lba = 0;
	}
	uint32_t len = b->blocks_per_io * b->bs;
	struct scsi_task *t = b->write ? iscsi_write16_task(b->iscsi, b->lun, lba, b->buf, len,
	                                                    (int)b->bs, 0, 0, 0, 0, 0, done_cb, s)
	                               : iscsi_read16_task(b->iscsi, b->lun, lba, len, (int)b->bs,
	                                                   0, 0, 0, 0, 0, done_cb, s);
	if (!t) {
		fprintf(stderr, "iscsi-bench: cannot queue: %s\n", iscsi_get_error(b->iscsi));
		b->stop = 1;
		return;
	}
	s->sent = now();
	b->inflight++;
}

int main(int argc, char **argv)
{
	if (argc != 6) {
		fprintf(stderr,
		        "usage: iscsi-bench URL randread|randwrite|read|write BYTES QD SECS\n");
		return 2;
	}
	struct bench b;
	memset(&b, 0, sizeof(b));
	const char *mode = argv[2];
	uint32_t iosize = (uint32_t)atoi(argv[3]);
	int qd = atoi(argv[4]);
	double secs = atof(argv[5]);
	b.write = strstr(mode, "write") != NULL;
	b.random = !strncmp(mode, "rand", 4);
	b.rng = 0x9e3779b97f4a7c15ULL;

	b.iscsi = iscsi_create_context("iqn.2026-11.org.fleetboot:bench");
	struct iscsi_url *url = iscsi_parse_full_url(b.iscsi, argv[1]);
	if (!url) {
		fprintf(stderr, "iscsi-bench: %s\n", iscsi_get_error(b.iscsi));
		return 1;
	}
	iscsi_set_targetname(b.iscsi, url->target);
	iscsi_set_session_type(b.iscsi, ISCSI_SESSION_NORMAL);
	/* ISCSI_BENCH_HDIGEST=1 asks for CRC32C header digests. */
	const char *hd = getenv("ISCSI_BENCH_HDIGEST");
	iscsi_set_header_digest(b.iscsi, hd && *hd == '1' ? ISCSI_HEADER_DIGEST_CRC32C
	                                                  : ISCSI_HEADER_DIGEST_NONE);
	if (url->user[0])
		iscsi_set_initiator_username_pwd(b.iscsi, url->user, url->passwd);
	b.lun = url->lun;
	if (iscsi_full_connect_sync(b.iscsi, url->portal, url->lun) != 0) {
		fprintf(stderr, "iscsi-bench: login: %s\n", iscsi_get_error(b.iscsi));
		return 1;
	}
	struct scsi_task *cap = iscsi_readcapacity16_sync(b.iscsi, b.lun);
	struct scsi_readcapacity16 *rc16 = cap ? scsi_datain_unmarshall(cap) : NULL;
	if (!rc16) {
		fprintf(stderr, "iscsi-bench: READ CAPACITY 16 failed\n");
		return 1;
	}
	b.bs = rc16->block_length;
	b.nblocks = rc16->returned_lba + 1;
	scsi_free_scsi_task(cap);
	b.blocks_per_io = iosize / b.bs;
	b.buf = malloc(iosize);
	memset(b.buf, 0xa5, iosize);

	if (!strcmp(mode, "idle")) {
		double until = now() + secs;
		while (now() < until) {
			struct pollfd pfd = {iscsi_get_fd(b.iscsi),
			                     (short)iscsi_which_events(b.iscsi), 0};
			if (poll(&pfd, 1, 500) > 0 && iscsi_service(b.iscsi, pfd.revents) < 0)
				break;
		}
		iscsi_logout_sync(b.iscsi);
		return 0;
	}
	struct slot *slots = calloc((size_t)(qd > 0 ? qd : 1), sizeof(*slots));
	if (!slots)
		return 1;
	double t0 = now(), end = t0 + secs;
	for (int i = 0; i < qd; i++) {
		slots[i].b = &b;
		issue(&slots[i]);
	}
	while (b.inflight > 0) {
		if (!b.stop && now() >= end)
			b.stop = 1;
		if (now() >= end + 30) { /* the target went away: give up */
			fprintf(stderr, "iscsi-bench: %d commands never completed\n", b.inflight);
			return 1;
		}
		struct pollfd pfd = {iscsi_get_fd(b.iscsi), (short)iscsi_which_events(b.iscsi), 0};
		if (poll(&pfd, 1, 1000) < 0)
			break;
		if (iscsi_service(b.iscsi, pfd.revents) < 0) {
			fprintf(stderr, "iscsi-bench: %s\n", iscsi_get_error(b.iscsi));
			return 1;
		}
	}
	double el = now() - t0;
	printf("%.0f %.1f %llu %.1f\n", (double)b.done / el, (double)b.done * iosize / el / 1e6,
	       (unsigned long long)b.errors, b.max_lat * 1000);
	iscsi_logout_sync(b.iscsi);
	iscsi_destroy_url(url);
	iscsi_destroy_context(b.iscsi);
	free(b.buf);
	free(slots);
	return b.errors ? 1 : 0;
}
