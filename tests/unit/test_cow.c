/*
 * test_cow.c - the copy-on-write engine against an in-memory model:
 * random writes, zeroes and reads of every alignment, reopen, torn map
 * slots, locking, read-only opens, extents, export, and concurrent writers.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "cow/cow.h"
#include "fileio.h"
#include "sha256.h"

/* Not a multiple of the cluster size, to hit the short last cluster. */
#define BASE_SIZE (8u * 1024 * 1024 + 1536)

static char dir[256], base_path[300], ovl_path[300], vdir[300];
static char base_sha[65];
static uint8_t *model, *base_copy;

static uint64_t rnd_state = 88172645463325252ull;
static uint64_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return rnd_state;
}

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/test_cow.XXXXXX");
	if (!mkdtemp(dir))
		abort();
	snprintf(base_path, sizeof(base_path), "%s/rootfs.img", dir);
	snprintf(ovl_path, sizeof(ovl_path), "%s/ovl", dir);
	snprintf(vdir, sizeof(vdir), "%s/verified", dir);
	base_copy = malloc(BASE_SIZE);
	model = malloc(BASE_SIZE);
	for (size_t i = 0; i < BASE_SIZE; i++)
		base_copy[i] = (uint8_t)(rnd() >> 24);
	/* A zero megabyte in the middle, written as a hole. */
	memset(base_copy + 2 * 1048576, 0, 1048576);
	int fd = open(base_path, O_CREAT | O_WRONLY | O_TRUNC, 0644);
	if (fd < 0 || pwrite(fd, base_copy, 2 * 1048576, 0) != 2 * 1048576 ||
	    pwrite(fd, base_copy + 3 * 1048576, BASE_SIZE - 3 * 1048576, 3 * 1048576) !=
	        BASE_SIZE - 3 * 1048576)
		abort();
	close(fd);
	memcpy(model, base_copy, BASE_SIZE);
	if (fb_sha256_file(base_path, base_sha, NULL, NULL) < 0)
		abort();
}

static struct cow_base *get_base(void)
{
	struct cow_base *b = NULL;
	char why[256];
	int rc = cow_base_get(7, base_path, base_sha, vdir, &b, why, sizeof(why));
	CHECK_INT(rc, 0);
	return b;
}

static int compare_all(struct cow_ovl *o)
{
	uint8_t *buf = malloc(BASE_SIZE);
	int rc = cow_ovl_read(o, buf, BASE_SIZE, 0);
	int same = rc == 0 && !memcmp(buf, model, BASE_SIZE);
	if (!same)
		for (size_t i = 0; i < BASE_SIZE; i++)
			if (buf[i] != model[i]) {
				fprintf(stderr, "first difference at %zu\n", i);
				break;
			}
	free(buf);
	return same;
}

static void random_ops(struct cow_ovl *o, int n)
{
	uint8_t *buf = malloc(64 * COW_CLUSTER);
	for (int i = 0; i < n; i++) {
		uint64_t len, off;
		int kind = (int)(rnd() % 10);
		/* Mix 512-aligned, cluster-aligned and odd ranges. */
		switch (rnd() % 3) {
		case 0:
			len = (rnd() % 64 + 1) * 512;
			off = (rnd() % (BASE_SIZE / 512)) * 512;
			break;
		case 1:
			len = (rnd() % 40 + 1) * COW_CLUSTER;
			off = (rnd() % (BASE_SIZE / COW_CLUSTER)) * COW_CLUSTER;
			break;
		default:
			len = rnd() % 70000 + 1;
			off = rnd() % BASE_SIZE;
		}
		if (off + len > BASE_SIZE)
			len = BASE_SIZE - off;
		if (kind < 6) {
			for (uint64_t k = 0; k < len; k++)
				buf[k] = (uint8_t)rnd();
			CHECK_INT(cow_ovl_write(o, buf, len, off, kind == 0 ? FB_BD_FUA : 0), 0);
			memcpy(model + off, buf, len);
		} else if (kind < 8) {
			CHECK_INT(cow_ovl_zero(o, len, off, 0), 0);
			memset(model + off, 0, len);
		} else {
			CHECK_INT(cow_ovl_read(o, buf, len, off), 0);
			CHECK(!memcmp(buf, model + off, len));
		}
		if (rnd() % 50 == 0)
			CHECK_INT(cow_ovl_flush(o), 0);
	}
	free(buf);
}

static void test_basic(void)
{
	struct cow_base *b = get_base();
	struct cow_ovl *o = NULL, *o2 = NULL;
	char why[256];

	CHECK_INT(cow_ovl_create(ovl_path, b->size, 7, base_sha, 3, "52-54-00-00-00-01"), 0);
	CHECK_INT(cow_ovl_create(ovl_path, b->size, 7, base_sha, 3, "x"), -EEXIST);
	CHECK_INT(cow_ovl_open(ovl_path, b, 0, &o, why, sizeof(why)), 0);
	CHECK(compare_all(o));
	CHECK_INT(cow_ovl_bytes(o), 0);
	/* One writer: a second open (same process, other description) is refused. */
	CHECK_INT(cow_ovl_open(ovl_path, b, 0, &o2, why, sizeof(why)), -EBUSY);
	CHECK_INT(cow_ovl_open(ovl_path, b, COW_OPEN_RDONLY, &o2, why, sizeof(why)), -EBUSY);
	CHECK_INT(cow_ovl_lock(ovl_path), -EBUSY);
	random_ops(o, 3000);
	CHECK(compare_all(o));
	CHECK(cow_ovl_bytes(o) > 0);
	CHECK_INT(cow_ovl_close(o), 0);

	CHECK_INT(cow_ovl_check(ovl_path, NULL), 0);
	CHECK_INT(cow_ovl_open(ovl_path, b, 0, &o, why, sizeof(why)), 0);
	CHECK(compare_all(o));
	random_ops(o, 1000);
	CHECK_INT(cow_ovl_close(o), 0);

	/* The base file itself is never written. */
	char sha[65];
	CHECK_INT(fb_sha256_file(base_path, sha, NULL, NULL), 0);
	CHECK_STR(sha, base_sha);

	/* Read-only: reads fine, writes refused. */
	CHECK_INT(cow_ovl_open(ovl_path, b, COW_OPEN_RDONLY, &o, why, sizeof(why)), 0);
	CHECK(compare_all(o));
	uint8_t one[512] = {1};
	CHECK_INT(cow_ovl_write(o, one, 512, 0, 0), -EROFS);
	CHECK_INT(cow_ovl_zero(o, 512, 0, 0), -EROFS);
	/* Shared locks coexist; a writer does not. */
	CHECK_INT(cow_ovl_open(ovl_path, b, COW_OPEN_RDONLY, &o2, why, sizeof(why)), 0);
	cow_ovl_close(o2);
	CHECK_INT(cow_ovl_lock(ovl_path), -EBUSY);
	cow_ovl_close(o);
	cow_base_put(b);
}

/* Unflushed changes may be lost; flushed ones never. A torn slot (an
 * interrupted map write) falls back to the other copy. */
static void test_torn_slot(void)
{
	struct cow_base *b = get_base();
	struct cow_ovl *o = NULL;
	struct cow_header h;
	char why[256];
	uint8_t buf[COW_CLUSTER];

	CHECK_INT(cow_ovl_open(ovl_path, b, 0, &o, why, sizeof(why)), 0);
	memset(buf, 0xab, sizeof(buf));
	CHECK_INT(cow_ovl_write(o, buf, sizeof(buf), 0, 0), 0);
	memcpy(model, buf, sizeof(buf));
	CHECK_INT(cow_ovl_flush(o), 0);
	h = *cow_ovl_header(o);
	cow_ovl_close(o);
	/* Scribble over the slot that does not hold the newest copy, and
	 * then over the other one: each time the check and open agree. */
	int fd = open(ovl_path, O_RDWR);
	uint8_t junk[100];
	memset(junk, 0x5a, sizeof(junk));
	uint8_t pair[2 * 4096];
	CHECK(pread(fd, pair, sizeof(pair), (off_t)h.map_off) == (ssize_t)sizeof(pair));
	uint64_t s0, s1;
	memcpy(&s0, pair + 8, 8);
	memcpy(&s1, pair + 4096 + 8, 8);
	int older = s0 > s1 ? 1 : 0;
	CHECK(pwrite(fd, junk, sizeof(junk), (off_t)(h.map_off + (uint64_t)older * 4096 + 2000)) ==
	      (ssize_t)sizeof(junk));
	close(fd);
	CHECK_INT(cow_ovl_check(ovl_path, NULL), 0);
	CHECK_INT(cow_ovl_open(ovl_path, b, 0, &o, why, sizeof(why)), 0);
	CHECK(compare_all(o));
	cow_ovl_close(o);

	/* Now the other slot, the one holding the flushed copy: no valid copy
	 * is left, and no crash can leave a chunk so (a flush writes one slot
	 * at a time). The cluster written above is lost, so check and open
	 * both refuse the overlay rather than read it as base. */
	fd = open(ovl_path, O_RDWR);
	CHECK(pwrite(fd, junk, sizeof(junk),
	             (off_t)(h.map_off + (uint64_t)(1 - older) * 4096 + 2000)) ==
	      (ssize_t)sizeof(junk));
	CHECK(pread(fd, pair, sizeof(pair), (off_t)h.map_off) == (ssize_t)sizeof(pair));
	close(fd);
	CHECK(memcmp(pair + 2000, junk, sizeof(junk)) == 0);
	CHECK(memcmp(pair + 4096 + 2000, junk, sizeof(junk)) == 0);
	CHECK_INT(cow_ovl_check(ovl_path, NULL), -EUCLEAN);
	CHECK_INT(cow_ovl_open(ovl_path, b, 0, &o, why, sizeof(why)), -EUCLEAN);

	/* A header that does not checksum is refused. */
	fd = open(ovl_path, O_RDWR);
	CHECK(pwrite(fd, junk, 4, 20) == 4);
	close(fd);
	CHECK_INT(cow_ovl_check(ovl_path, NULL), -EUCLEAN);
	CHECK_INT(cow_ovl_open(ovl_path, b, 0, &o, why, sizeof(why)), -EUCLEAN);
	cow_base_put(b);
}

static void test_discard_and_pin(void)
{
	struct cow_base *b = get_base();
	struct cow_ovl *o = NULL;
	char why[256];
	int fd = cow_ovl_lock(ovl_path);
	CHECK(fd >= 0);
	CHECK_INT(cow_ovl_discard(ovl_path, fd), 0);
	CHECK_INT(access(ovl_path, F_OK), -1);
	memcpy(model, base_copy, BASE_SIZE);
	CHECK_INT(cow_ovl_lock(ovl_path), -ENOENT);
	/* An overlay pinned to another image id is refused over this base. */
	CHECK_INT(cow_ovl_create(ovl_path, b->size, 8, base_sha, 1, NULL), 0);
	CHECK_INT(cow_ovl_open(ovl_path, b, 0, &o, why, sizeof(why)), -ESTALE);
	CHECK(strstr(why, "pinned") != NULL);
	unlink(ovl_path);
	CHECK_INT(cow_ovl_create(ovl_path, b->size, 7, base_sha, 1, NULL), 0);
	CHECK_INT(cow_ovl_open(ovl_path, b, 0, &o, why, sizeof(why)), 0);
	CHECK(compare_all(o));
	cow_ovl_close(o);
	cow_base_put(b);
}

static void test_base_verify(void)
{
	struct cow_base *b = NULL;
	char why[256], bad[65];
	memset(bad, 'a', 64);
	bad[64] = 0;
	CHECK_INT(cow_base_get(9, base_path, bad, vdir, &b, why, sizeof(why)), -EBADMSG);
	CHECK(strstr(why, "does not match") != NULL);
	/* The sidecar of image 7 exists after its first verification. */
	char side[400];
	snprintf(side, sizeof(side), "%s/7", vdir);
	CHECK_INT(access(side, R_OK), 0);
}

struct extent_sum {
	uint64_t total, data, zero, base, hole, next;
	int contiguous;
};

static int extent_cb(void *arg, uint64_t off, uint64_t len, int type, int hole)
{
	struct extent_sum *s = arg;
	if (off != s->next)
		s->contiguous = 0;
	s->next = off + len;
	s->total += len;
	if (type == COW_DATA)
		s->data += len;
	else if (type == COW_ZERO)
		s->zero += len;
	else if (hole)
		s->hole += len;
	else
		s->base += len;
	return 0;
}

static void test_extents_export(void)
{
	struct cow_base *b = get_base();
	struct cow_ovl *o = NULL;
	char why[256], sha[65], sha2[65], out[400];
	uint8_t buf[3 * COW_CLUSTER];

	CHECK_INT(cow_ovl_open(ovl_path, b, 0, &o, why, sizeof(why)), 0);
	memset(buf, 0x11, sizeof(buf));
	CHECK_INT(cow_ovl_write(o, buf, sizeof(buf), 5 * 1048576, 0), 0);
	memcpy(model + 5 * 1048576, buf, sizeof(buf));
	CHECK_INT(cow_ovl_zero(o, 1048576, 6 * 1048576, 0), 0);
	memset(model + 6 * 1048576, 0, 1048576);
	struct extent_sum s = {.contiguous = 1};
	CHECK_INT(cow_ovl_extents(o, BASE_SIZE, 0, extent_cb, &s), 0);
	CHECK(s.contiguous);
	CHECK_INT(s.total, BASE_SIZE);
	CHECK_INT(s.data, 3 * COW_CLUSTER);
	CHECK_INT(s.zero, 1048576);
	CHECK_INT(s.hole, 1048576);

	snprintf(out, sizeof(out), "%s/export.img", dir);
	int fd = open(out, O_CREAT | O_RDWR | O_EXCL, 0644);
	CHECK(fd >= 0);
	CHECK_INT(cow_ovl_export(o, fd, sha, NULL, NULL), 0);
	close(fd);
	CHECK_INT(fb_sha256_file(out, sha2, NULL, NULL), 0);
	CHECK_STR(sha, sha2);
	fb_sha256_mem(model, BASE_SIZE, sha2);
	CHECK_STR(sha, sha2);
	cow_ovl_close(o);
	cow_base_put(b);
}

struct worker {
	struct cow_ovl *o;
	int id;
};

/* Each thread owns every 4th 64 KiB stripe; 512-byte writes inside a
 * cluster shared with no one, plus cross-thread reads. */
static void *worker_main(void *arg)
{
	struct worker *w = arg;
	uint8_t buf[8192];
	uint64_t st = 0x9e3779b97f4a7c15ull * (uint64_t)(w->id + 1);
	for (int i = 0; i < 4000; i++) {
		st ^= st << 13;
		st ^= st >> 7;
		st ^= st << 17;
		uint64_t region = (st % (BASE_SIZE / 65536 / 4)) * 4 + (uint64_t)w->id;
		uint64_t off = region * 65536 + (st >> 20) % 112 * 512;
		uint64_t len = ((st >> 40) % 16 + 1) * 512;
		if ((st >> 60) & 1) {
			memset(buf, (int)(st & 0xff), len);
			if (cow_ovl_write(w->o, buf, len, off, 0) < 0)
				return (void *)1;
			memcpy(model + off, buf, len);
		} else if (cow_ovl_read(w->o, buf, len, off) < 0 || memcmp(buf, model + off, len))
			return (void *)1;
	}
	return NULL;
}

static void test_threads(void)
{
	struct cow_base *b = get_base();
	struct cow_ovl *o = NULL;
	char why[256];
	pthread_t t[4];
	struct worker w[4];

	CHECK_INT(cow_ovl_open(ovl_path, b, 0, &o, why, sizeof(why)), 0);
	for (int i = 0; i < 4; i++) {
		w[i] = (struct worker){o, i};
		pthread_create(&t[i], NULL, worker_main, &w[i]);
	}
	for (int i = 0; i < 4; i++) {
		void *r;
		pthread_join(t[i], &r);
		CHECK(r == NULL);
	}
	CHECK(compare_all(o));
	CHECK_INT(cow_ovl_close(o), 0);
	CHECK_INT(cow_ovl_open(ovl_path, b, 0, &o, why, sizeof(why)), 0);
	CHECK(compare_all(o));
	cow_ovl_close(o);
	CHECK_INT(cow_ovl_check(ovl_path, NULL), 0);
	cow_base_put(b);
}

/* Writes whose lock-stripe range wraps (units 255 -> 0 at 16 MiB) and
 * one that takes every stripe, on a sparse 40 MiB base. */
static void test_big_ranges(void)
{
	char bp[400], op[400], sha[65], why[256];
	const uint64_t size = 40ull << 20;
	struct cow_base *b = NULL;
	struct cow_ovl *o = NULL;
	snprintf(bp, sizeof(bp), "%s/big.img", dir);
	snprintf(op, sizeof(op), "%s/big.ovl", dir);
	int fd = open(bp, O_CREAT | O_RDWR | O_TRUNC, 0644);
	CHECK(fd >= 0 && ftruncate(fd, (off_t)size) == 0);
	close(fd);
	CHECK_INT(fb_sha256_file(bp, sha, NULL, NULL), 0);
	CHECK_INT(cow_base_get(11, bp, sha, NULL, &b, why, sizeof(why)), 0);
	CHECK_INT(cow_ovl_create(op, size, 11, sha, 0, NULL), 0);
	CHECK_INT(cow_ovl_open(op, b, 0, &o, why, sizeof(why)), 0);
	uint64_t len = 18ull << 20;
	uint8_t *buf = malloc(len), *back = malloc(len);
	for (uint64_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(i * 7 + 3);
	/* Wrapping range: 15.5 MiB .. 16.5 MiB (+ 1000 bytes, unaligned). */
	CHECK_INT(cow_ovl_write(o, buf, (1u << 20) + 1000, (31ull << 19), 0), 0);
	CHECK_INT(cow_ovl_read(o, back, (1u << 20) + 1000, (31ull << 19)), 0);
	CHECK(!memcmp(buf, back, (1u << 20) + 1000));
	/* Every stripe: 18 MiB starting unaligned. */
	CHECK_INT(cow_ovl_write(o, buf, len, 4096 * 3 + 512, FB_BD_FUA), 0);
	CHECK_INT(cow_ovl_read(o, back, len, 4096 * 3 + 512), 0);
	CHECK(!memcmp(buf, back, len));
	CHECK_INT(cow_ovl_zero(o, len, 4096 * 3 + 512, 0), 0);
	CHECK_INT(cow_ovl_read(o, back, len, 4096 * 3 + 512), 0);
	int allzero = 1;
	for (uint64_t i = 0; i < len; i++)
		allzero &= back[i] == 0;
	CHECK(allzero);
	CHECK_INT(cow_ovl_close(o), 0);
	CHECK_INT(cow_ovl_check(op, NULL), 0);
	cow_base_put(b);
	free(buf);
	free(back);
}

int main(void)
{
	setup();
	RUN(test_basic);
	RUN(test_torn_slot);
	RUN(test_discard_and_pin);
	RUN(test_base_verify);
	RUN(test_extents_export);
	RUN(test_threads);
	RUN(test_big_ranges);
	fb_rm_rf(dir);
	free(model);
	free(base_copy);
	return HARNESS_EXIT();
}
