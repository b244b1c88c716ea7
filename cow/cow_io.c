/*
 * cow_io.c - the overlay data path. Cluster c of the disk lives at the
 * same place in the overlay's data area (identity layout, a sparse file),
 * so a lookup is one byte of the in-memory map and there is no allocator,
 * free list or fragmentation to get wrong after a crash.
 *
 * Readers take no lock: they load each cluster's state and read the base,
 * the overlay or zeros. A writer holds the lock stripes of the clusters it
 * touches, writes the data first and only then publishes the new state
 * (release store), so a reader that sees COW_DATA finds the data there.
 * Read-modify-write is needed only when a write covers part of a cluster
 * the overlay does not hold yet.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "cow/cow_int.h"
#include "fileio.h"
#include "hex.h"
#include "str.h"

#define SHIFT COW_CLUSTER_SHIFT
#define MASK  ((uint64_t)COW_CLUSTER - 1)

/* ---- lock stripes ---- */

/*
 * Clusters are grouped 16 to a unit (64 KiB) and units hashed onto 256
 * mutexes, so a 1 MiB write takes 16 locks and writers of different
 * regions run in parallel. Locks are always taken in ascending index
 * order, so two writers never deadlock.
 */
struct stripe_range {
	unsigned a, b; /* first and last stripe index */
	int all;       /* every stripe */
};

static struct stripe_range stripe_range(uint64_t c0, uint64_t c1)
{
	uint64_t u0 = c0 >> COW_STRIPE_SHIFT, u1 = c1 >> COW_STRIPE_SHIFT;
	struct stripe_range r = {(unsigned)(u0 % COW_STRIPES), (unsigned)(u1 % COW_STRIPES), 0};
	r.all = u1 - u0 + 1 >= COW_STRIPES;
	return r;
}

static void lock_stripes(struct cow_ovl *o, struct stripe_range r)
{
	if (r.all || r.a > r.b) { /* everything, or a range that wraps */
		for (unsigned i = 0; i < COW_STRIPES; i++)
			if (r.all || i <= r.b || i >= r.a)
				pthread_mutex_lock(&o->stripes[i]);
		return;
	}
	for (unsigned i = r.a; i <= r.b; i++)
		pthread_mutex_lock(&o->stripes[i]);
}

/* lock_stripes without waiting: 0, or -EAGAIN holding none of them. */
static int trylock_stripes(struct cow_ovl *o, struct stripe_range r)
{
	for (unsigned i = 0; i < COW_STRIPES; i++) {
		if (!(r.all || (r.a <= r.b ? i >= r.a && i <= r.b : i <= r.b || i >= r.a)))
			continue;
		if (pthread_mutex_trylock(&o->stripes[i])) {
			while (i--)
				if (r.all ||
				    (r.a <= r.b ? i >= r.a && i <= r.b : i <= r.b || i >= r.a))
					pthread_mutex_unlock(&o->stripes[i]);
			return -EAGAIN;
		}
	}
	return 0;
}

static void unlock_stripes(struct cow_ovl *o, struct stripe_range r)
{
	for (unsigned i = 0; i < COW_STRIPES; i++)
		if (r.all || (r.a <= r.b ? i >= r.a && i <= r.b : i <= r.b || i >= r.a))
			pthread_mutex_unlock(&o->stripes[i]);
}

/* Publish a cluster's new state (caller holds its stripe). */
static void set_state(struct cow_ovl *o, uint64_t c, uint8_t s)
{
	uint8_t old = __atomic_exchange_n(&o->state[c], s, __ATOMIC_ACQ_REL);
	if (old == s)
		return;
	if (old == COW_DATA)
		__atomic_fetch_sub(&o->n_data, 1, __ATOMIC_RELAXED);
	if (s == COW_DATA)
		__atomic_fetch_add(&o->n_data, 1, __ATOMIC_RELAXED);
	/* Dirty after the state: a flush that clears dirty before copying
	 * either copies this state or leaves the chunk dirty for next time. */
	__atomic_store_n(&o->chunks[c / COW_PER_CHUNK].dirty, 1, __ATOMIC_RELEASE);
}

/*
 * A deliberately wrong order for tests only: with FB_COW_TEST_MAP_FIRST=1
 * (make COW_TEST_MAP_FIRST=1, refused in the normal build trees) a write
 * that makes clusters [c0, c1) DATA first publishes their state and makes
 * the map durable, and only then writes their data. A power cut between
 * the two leaves a durable map naming data that never reached the disk;
 * tests/storaged/test-powercut.sh must fail with it. Normal builds
 * compile this to nothing.
 */
static int map_first(struct cow_ovl *o, uint64_t c0, uint64_t c1)
{
#if defined(FB_COW_TEST_MAP_FIRST) && FB_COW_TEST_MAP_FIRST == 1
	int changed = 0;
	for (uint64_t c = c0; c < c1; c++) {
		changed |= cow_get(o, c) != COW_DATA;
		set_state(o, c, COW_DATA);
	}
	if (!changed)
		return 0;
	__atomic_fetch_add(&o->wgen, 1, __ATOMIC_RELEASE);
	return cow_ovl_flush(o);
#else
	(void)o;
	(void)c0;
	(void)c1;
	return 0;
#endif
}

/* ---- reads ---- */

static int read_run(struct cow_ovl *o, uint8_t s, uint8_t *p, uint64_t n, uint64_t pos,
                    unsigned nowait)
{
	switch (s) {
	case COW_DATA:
		return fb_pread_full(o->fd, p, n, o->h.data_off + pos, nowait);
	case COW_ZERO:
		memset(p, 0, n);
		return 0;
	default:
		return fb_pread_full(o->base->fd, p, n, pos, FB_PREAD_ZERO_FILL | nowait);
	}
}

int cow_ovl_read(struct cow_ovl *o, void *buf, uint64_t len, uint64_t off)
{
	return cow_ovl_read_flags(o, buf, len, off, 0);
}

/* The run of clusters in one state that starts at pos, cut at end: its
 * end, and the state in *state. */
static uint64_t run_from(struct cow_ovl *o, uint64_t pos, uint64_t end, uint8_t *state)
{
	uint64_t c = pos >> SHIFT;
	uint8_t s = cow_get(o, c);
	uint64_t c2 = c + 1;
	while ((c2 << SHIFT) < end && cow_get(o, c2) == s)
		c2++;
	*state = s;
	return (c2 << SHIFT) < end ? (c2 << SHIFT) : end;
}

int cow_ovl_read_flags(struct cow_ovl *o, void *buf, uint64_t len, uint64_t off, unsigned flags)
{
	unsigned nowait = flags & FB_PREAD_NOWAIT;
	uint8_t *p = buf;
	uint64_t pos = off, end = off + len;

	if (end < off || end > o->h.size)
		return -EINVAL;
	while (pos < end) {
		uint8_t s;
		uint64_t run_end = run_from(o, pos, end, &s);
		int rc = read_run(o, s, p, run_end - pos, pos, nowait);
		if (rc < 0)
			return rc;
		p += run_end - pos;
		pos = run_end;
	}
	__atomic_fetch_add(&o->bytes_read, len, __ATOMIC_RELAXED);
	return 0;
}

/* ---- writes ---- */

/*
 * Write into the data area in pieces of at most 64 KiB. The page cache
 * sizes a new folio after the write that creates it, and a later 4 KiB
 * write into a 1 MiB folio walks all 256 of its buffer heads (measured:
 * 4 KiB random overwrites ran ~35% slower after 1 MiB sequential writes).
 * Small folios keep the common case, a booted machine's small writes,
 * fast; a large write pays a few more system calls.
 */
#define DATA_CHUNK (64u << 10)

static int data_write(struct cow_ovl *o, const uint8_t *src, uint64_t len, uint64_t pos)
{
	while (len) {
		uint64_t n = len < DATA_CHUNK ? len : DATA_CHUNK;
		int rc = fb_pwrite_full(o->fd, src, n, o->h.data_off + pos);
		if (rc < 0)
			return rc;
		src += n;
		pos += n;
		len -= n;
	}
	return 0;
}

/*
 * Write [from, to) of cluster c with bytes src (NULL = zeros), holding the
 * stripe. A cluster the overlay holds is patched in place; otherwise its
 * current content (base or zeros) is merged and the whole cluster written,
 * so the slot never holds a mix of stale and new data.
 */
static int write_partial(struct cow_ovl *o, uint64_t c, uint64_t from, uint64_t to,
                         const uint8_t *src, unsigned nowait)
{
	uint8_t tmp[COW_CLUSTER];
	uint64_t cstart = c << SHIFT;
	uint8_t s = cow_get(o, c);
	int rc;

	if (s == COW_DATA) {
		if (src)
			return fb_pwrite_full(o->fd, src, to - from, o->h.data_off + from);
		memset(tmp, 0, to - from);
		return fb_pwrite_full(o->fd, tmp, to - from, o->h.data_off + from);
	}
	if (s == COW_ZERO && !src)
		return 0;
	if ((rc = read_run(o, s, tmp, COW_CLUSTER, cstart, nowait)) < 0)
		return rc;
	if (src)
		memcpy(tmp + (from - cstart), src, to - from);
	else
		memset(tmp + (from - cstart), 0, to - from);
	if ((rc = map_first(o, c, c + 1)) < 0)
		return rc;
	if ((rc = fb_pwrite_full(o->fd, tmp, COW_CLUSTER, o->h.data_off + cstart)) < 0)
		return rc;
	set_state(o, c, COW_DATA);
	return 0;
}

int cow_ovl_write(struct cow_ovl *o, const void *buf, uint64_t len, uint64_t off, unsigned flags)
{
	const uint8_t *src = buf;
	unsigned nowait = flags & COW_NOWAIT ? FB_PREAD_NOWAIT : 0;
	uint64_t end = off + len, c0, c1, hc, tc;
	struct stripe_range m;
	int rc = 0;

	if (o->rdonly)
		return -EROFS;
	if (end < off || end > o->h.size)
		return -EINVAL;
	if (!len)
		return 0;
	if (nowait && (flags & FB_BD_FUA))
		return -EAGAIN;
	c0 = off >> SHIFT;
	c1 = (end - 1) >> SHIFT;
	m = stripe_range(c0, c1);
	if (!nowait)
		lock_stripes(o, m);
	else if (trylock_stripes(o, m) < 0)
		return -EAGAIN;
	hc = c0;
	tc = c1 + 1;
	/* With nowait, a partial cluster whose rest is not in memory gives
	 * -EAGAIN; a part already written is simply written again later. */
	if ((off & MASK) || end < ((c0 + 1) << SHIFT)) {
		uint64_t to = end < ((c0 + 1) << SHIFT) ? end : (c0 + 1) << SHIFT;
		if ((rc = write_partial(o, c0, off, to, src, nowait)) < 0)
			goto out;
		hc = c0 + 1;
	}
	if (c1 >= hc && (end & MASK)) {
		uint64_t from = c1 << SHIFT;
		if ((rc = write_partial(o, c1, from, end, src + (from - off), nowait)) < 0)
			goto out;
		tc = c1;
	}
	if (tc > hc) {
		uint64_t from = hc << SHIFT;
		if ((rc = map_first(o, hc, tc)) < 0)
			goto out;
		rc = data_write(o, src + (from - off), (tc - hc) << SHIFT, from);
		if (rc < 0)
			goto out;
		for (uint64_t c = hc; c < tc; c++)
			set_state(o, c, COW_DATA);
	}
out:
	__atomic_fetch_add(&o->wgen, 1, __ATOMIC_RELEASE);
	unlock_stripes(o, m);
	if (rc < 0)
		return rc;
	__atomic_fetch_add(&o->bytes_written, len, __ATOMIC_RELAXED);
	/* FUA: durable before the reply. Flushing everything is the simple
	 * way, and with nothing else pending it costs the same. */
	if (flags & FB_BD_FUA)
		rc = cow_ovl_flush(o);
	return rc;
}

int cow_ovl_zero(struct cow_ovl *o, uint64_t len, uint64_t off, unsigned flags)
{
	uint64_t end = off + len, c0, c1, hc, tc;
	struct stripe_range m;
	int rc = 0;

	if (o->rdonly)
		return -EROFS;
	if (end < off || end > o->h.size)
		return -EINVAL;
	if (!len)
		return 0;
	c0 = off >> SHIFT;
	c1 = (end - 1) >> SHIFT;
	m = stripe_range(c0, c1);
	lock_stripes(o, m);
	hc = c0;
	tc = c1 + 1;
	/* The last cluster of a disk whose size is not cluster-aligned counts
	 * as whole when the range runs to the end of the disk. */
	uint64_t cend = end == o->h.size ? (c1 + 1) << SHIFT : end;
	if ((off & MASK) || cend < ((c0 + 1) << SHIFT)) {
		uint64_t to = end < ((c0 + 1) << SHIFT) ? end : (c0 + 1) << SHIFT;
		if ((rc = write_partial(o, c0, off, to, NULL, 0)) < 0)
			goto out;
		hc = c0 + 1;
	}
	if (c1 >= hc && (cend & MASK)) {
		if ((rc = write_partial(o, c1, c1 << SHIFT, end, NULL, 0)) < 0)
			goto out;
		tc = c1;
	}
	if (tc > hc) {
		int had_data = 0;
		for (uint64_t c = hc; c < tc; c++) {
			had_data |= cow_get(o, c) == COW_DATA;
			set_state(o, c, COW_ZERO);
		}
		/* Give the space back. Readers already see COW_ZERO, and a crash
		 * before the next flush may show zeros where the durable map
		 * still says COW_DATA: that is the trim itself, not yet flushed. */
		if (had_data)
			fallocate(o->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			          (off_t)(o->h.data_off + (hc << SHIFT)),
			          (off_t)((tc - hc) << SHIFT));
	}
out:
	__atomic_fetch_add(&o->wgen, 1, __ATOMIC_RELEASE);
	unlock_stripes(o, m);
	if (rc == 0 && (flags & FB_BD_FUA))
		rc = cow_ovl_flush(o);
	return rc;
}

/* ---- extents ---- */

/* Is [pos, pos+n) of the base entirely a hole (reads zeros without data)? */
static int base_hole(const struct cow_base *b, uint64_t pos, uint64_t n, uint64_t *hole_len,
                     uint64_t *data_len)
{
	off_t d = lseek(b->fd, (off_t)pos, SEEK_DATA);
	if (d < 0 || (uint64_t)d >= pos + n) {
		*hole_len = n; /* ENXIO: no data after pos */
		return 1;
	}
	if ((uint64_t)d > pos) {
		*hole_len = (uint64_t)d - pos;
		return 1;
	}
	off_t h = lseek(b->fd, (off_t)pos, SEEK_HOLE);
	*data_len = (h < 0 || (uint64_t)h >= pos + n) ? n : (uint64_t)h - pos;
	return 0;
}

int cow_ovl_extents(struct cow_ovl *o, uint64_t len, uint64_t off, cow_extent_fn fn, void *arg)
{
	uint64_t pos = off, end = off + len;

	if (end < off || end > o->h.size)
		return -EINVAL;
	while (pos < end) {
		uint8_t s;
		uint64_t run_end = run_from(o, pos, end, &s);
		if (s != COW_BASE) {
			if (fn(arg, pos, run_end - pos, s, 0))
				return 0;
		} else {
			uint64_t p = pos;
			while (p < run_end) {
				uint64_t hl = 0, dl = 0;
				int hole = base_hole(o->base, p, run_end - p, &hl, &dl);
				uint64_t n = hole ? hl : dl;
				if (fn(arg, p, n, COW_BASE, hole))
					return 0;
				p += n;
			}
		}
		pos = run_end;
	}
	return 0;
}

/* ---- export (commit) ---- */

int cow_ovl_export(struct cow_ovl *o, int fd, char sha256[65],
                   int (*progress)(void *, uint64_t, uint64_t), void *arg)
{
	const uint64_t step = 1u << 20;
	uint8_t *buf = malloc(step);
	unsigned char md[32];
	unsigned int mdlen = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int rc = 0;

	if (!buf || !ctx || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL)) {
		rc = -ENOMEM;
		goto out;
	}
	for (uint64_t pos = 0; pos < o->h.size; pos += step) {
		uint64_t n = o->h.size - pos < step ? o->h.size - pos : step;
		if ((rc = cow_ovl_read(o, buf, n, pos)) < 0)
			goto out;
		EVP_DigestUpdate(ctx, buf, n);
		/* All-zero megabytes stay holes in the new image. */
		if (!fb_all_zero(buf, n) && (rc = fb_pwrite_full(fd, buf, n, pos)) < 0)
			goto out;
		if (progress && progress(arg, pos + n, o->h.size)) {
			rc = -ECANCELED;
			goto out;
		}
	}
	if (ftruncate(fd, (off_t)o->h.size) < 0 || fsync(fd) < 0) {
		rc = -errno;
		goto out;
	}
	EVP_DigestFinal_ex(ctx, md, &mdlen);
	fb_hex_encode(md, 32, sha256);
out:
	EVP_MD_CTX_free(ctx);
	free(buf);
	return rc;
}
