/*
 * cow_ovl.c - the overlay file: header, the double-buffered map pages,
 * create/open/close, the OFD lock that makes one writer per overlay across
 * processes and protocols, flush, and the consistency check. The data path
 * is in cow_io.c; the format and the crash-safety argument in FORMAT.md.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "byteorder.h"
#include "cow/cow_int.h"
#include "crc32c.h"
#include "fileio.h"
#include "str.h"

/* ---- header and map pages ---- */

void cow_geometry(uint64_t size, uint64_t *nclusters, uint64_t *nchunks, uint64_t *map_off,
                  uint64_t *data_off)
{
	*nclusters = (size + COW_CLUSTER - 1) / COW_CLUSTER;
	*nchunks = (*nclusters + COW_PER_CHUNK - 1) / COW_PER_CHUNK;
	*map_off = COW_HDR_SIZE;
	uint64_t end = *map_off + *nchunks * 2 * COW_PAGE;
	*data_off = (end + COW_DATA_ALIGN - 1) / COW_DATA_ALIGN * COW_DATA_ALIGN;
}

void cow_header_encode(const struct cow_header *h, uint8_t page[COW_HDR_SIZE])
{
	memset(page, 0, COW_HDR_SIZE);
	memcpy(page, COW_MAGIC, 8);
	fb_put_le32(page + 8, h->version);
	fb_put_le32(page + 12, h->cluster_size);
	fb_put_le64(page + 16, h->size);
	fb_put_le64(page + 24, (uint64_t)h->image_id);
	fb_put_le64(page + 32, (uint64_t)h->boot_seq);
	fb_put_le64(page + 40, (uint64_t)h->created);
	fb_put_le64(page + 48, h->map_off);
	fb_put_le64(page + 56, h->nchunks);
	fb_put_le64(page + 64, h->data_off);
	memcpy(page + 72, h->base_sha256, strnlen(h->base_sha256, 64));
	memcpy(page + 136, h->mac, strnlen(h->mac, 23));
	fb_put_le32(page + COW_HDR_CRC_OFF, fb_crc32c(0, page, COW_HDR_CRC_OFF));
}

int cow_header_decode(const uint8_t *page, size_t len, struct cow_header *h, char *why,
                      size_t whylen)
{
	uint64_t ncl, nch, moff, doff;

	if (len < COW_HDR_SIZE || memcmp(page, COW_MAGIC, 8)) {
		snprintf(why, whylen, "not a fleetboot overlay (bad magic)");
		return -EUCLEAN;
	}
	if (fb_get_le32(page + COW_HDR_CRC_OFF) != fb_crc32c(0, page, COW_HDR_CRC_OFF)) {
		snprintf(why, whylen, "overlay header checksum mismatch");
		return -EUCLEAN;
	}
	memset(h, 0, sizeof(*h));
	h->version = fb_get_le32(page + 8);
	h->cluster_size = fb_get_le32(page + 12);
	h->size = fb_get_le64(page + 16);
	h->image_id = (int64_t)fb_get_le64(page + 24);
	h->boot_seq = (int64_t)fb_get_le64(page + 32);
	h->created = (int64_t)fb_get_le64(page + 40);
	h->map_off = fb_get_le64(page + 48);
	h->nchunks = fb_get_le64(page + 56);
	h->data_off = fb_get_le64(page + 64);
	memcpy(h->base_sha256, page + 72, 64);
	memcpy(h->mac, page + 136, 23);
	if (h->version != COW_VERSION || h->cluster_size != COW_CLUSTER) {
		snprintf(why, whylen, "unsupported overlay version %u / cluster size %u",
		         h->version, h->cluster_size);
		return -EUCLEAN;
	}
	/* 2^50 bytes is far beyond any image; it keeps the arithmetic safe. */
	if (h->size == 0 || h->size % 512 || h->size > (1ull << 50)) {
		snprintf(why, whylen, "overlay size %" PRIu64 " is invalid", h->size);
		return -EUCLEAN;
	}
	cow_geometry(h->size, &ncl, &nch, &moff, &doff);
	if (h->nchunks != nch || h->map_off != moff || h->data_off != doff) {
		snprintf(why, whylen, "overlay geometry does not match its size");
		return -EUCLEAN;
	}
	return 0;
}

int cow_page_decode(const uint8_t *page, uint64_t index, uint64_t *seq)
{
	if (fb_get_le32(page) != COW_PAGE_MAGIC || fb_get_le64(page + 16) != index ||
	    fb_get_le32(page + 4) != fb_crc32c(0, page + 8, COW_PAGE - 8)) {
		for (size_t i = 0; i < COW_PAGE; i++)
			if (page[i])
				return -1;
		return 0;
	}
	for (size_t i = COW_PAGE_HDR; i < COW_PAGE; i++)
		if (page[i] > COW_ZERO)
			return -1;
	*seq = fb_get_le64(page + 8);
	return *seq ? 1 : -1;
}

static void page_encode(uint8_t *page, uint64_t index, uint64_t seq)
{
	fb_put_le32(page, COW_PAGE_MAGIC);
	fb_put_le64(page + 8, seq);
	fb_put_le64(page + 16, index);
	memset(page + 24, 0, COW_PAGE_HDR - 24);
	fb_put_le32(page + 4, fb_crc32c(0, page + 8, COW_PAGE - 8));
}

/* ---- create ---- */

int cow_ovl_create(const char *path, uint64_t size, int64_t image_id, const char *base_sha256,
                   int64_t boot_seq, const char *mac)
{
	struct cow_header h = {0};
	uint8_t page[COW_HDR_SIZE];
	char tmp[PATH_MAX], dir[PATH_MAX];
	uint64_t ncl;
	int fd, rc = 0;

	if (size == 0 || size % 512)
		return -EINVAL;
	if (access(path, F_OK) == 0)
		return -EEXIST;
	h.version = COW_VERSION;
	h.cluster_size = COW_CLUSTER;
	h.size = size;
	h.image_id = image_id;
	h.boot_seq = boot_seq;
	h.created = (int64_t)time(NULL);
	cow_geometry(size, &ncl, &h.nchunks, &h.map_off, &h.data_off);
	fb_strlcpy(h.base_sha256, base_sha256 ? base_sha256 : "", sizeof(h.base_sha256));
	fb_strlcpy(h.mac, mac ? mac : "", sizeof(h.mac));
	cow_header_encode(&h, page);

	if (snprintf(tmp, sizeof(tmp), "%s.new.XXXXXX", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	/* The map area stays a hole: an all-zero slot means "never written",
	 * so a fresh overlay reads entirely from the base. */
	if ((rc = fb_pwrite_full(fd, page, sizeof(page), 0)) < 0)
		goto fail;
	if (ftruncate(fd, (off_t)(h.data_off + ncl * COW_CLUSTER)) < 0 || fsync(fd) < 0) {
		rc = -errno;
		goto fail;
	}
	if (fchmod(fd, 0600) < 0 || link(tmp, path) < 0) {
		/* link() rather than rename(): never replace an existing overlay. */
		rc = -errno;
		goto fail;
	}
	unlink(tmp);
	close(fd);
	fb_strlcpy(dir, path, sizeof(dir));
	fb_fsync_dir(dirname(dir));
	return 0;
fail:
	close(fd);
	unlink(tmp);
	return rc;
}

int cow_ovl_read_header(const char *path, struct cow_header *h, char *why, size_t whylen)
{
	uint8_t page[COW_HDR_SIZE];
	int rc, fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		snprintf(why, whylen, "%s: %s", path, strerror(errno));
		return rc;
	}
	rc = fb_pread_full(fd, page, sizeof(page), 0, 0);
	close(fd);
	if (rc < 0) {
		snprintf(why, whylen, "%s: cannot read the header: %s", path, strerror(-rc));
		return rc;
	}
	return cow_header_decode(page, sizeof(page), h, why, whylen);
}

/* ---- locking ---- */

/*
 * Open path and take an OFD lock on the whole file. OFD locks belong to the
 * open file description, so two opens in one process conflict just like two
 * processes do (classic POSIX locks would not), and the lock dies with the
 * descriptor when a process is killed. After locking, the path must still
 * name the locked inode: a reset may have replaced or removed it meanwhile.
 */
static int lock_open(const char *path, int rdonly)
{
	for (int attempt = 0; attempt < 8; attempt++) {
		struct stat a, b;
		struct flock fl = {.l_type = rdonly ? F_RDLCK : F_WRLCK, .l_whence = SEEK_SET};
		int fd = open(path, (rdonly ? O_RDONLY : O_RDWR) | O_CLOEXEC);
		if (fd < 0)
			return -errno;
		if (fcntl(fd, F_OFD_SETLK, &fl) < 0) {
			int e = errno;
			close(fd);
			return (e == EAGAIN || e == EACCES) ? -EBUSY : -e;
		}
		if (fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_ino == b.st_ino &&
		    a.st_dev == b.st_dev)
			return fd;
		close(fd);
	}
	return -EAGAIN;
}

int cow_ovl_lock(const char *path)
{
	return lock_open(path, 0);
}

int cow_ovl_in_use(const char *path)
{
	/* F_OFD_GETLK only asks: it never makes a connecting machine fail. */
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc;
	if (fd < 0)
		return -errno;
	rc = fcntl(fd, F_OFD_GETLK, &fl) < 0 ? -errno : fl.l_type != F_UNLCK;
	close(fd);
	return rc;
}

int cow_ovl_discard(const char *path, int lockfd)
{
	char dir[PATH_MAX];
	int rc = 0;
	/* Unlink while still holding the lock, so nobody can open the old
	 * file in between; openers that raced us re-check the path. */
	if (unlink(path) < 0 && errno != ENOENT)
		rc = -errno;
	/* What is kept beside the disk goes with it (PATH.pr: its SCSI
	 * persistent reservations): a fresh disk starts with none. */
	char side[PATH_MAX];
	if ((size_t)snprintf(side, sizeof(side), "%s.pr", path) < sizeof(side))
		unlink(side);
	fb_strlcpy(dir, path, sizeof(dir));
	fb_fsync_dir(dirname(dir));
	if (lockfd >= 0)
		close(lockfd);
	return rc;
}

/* ---- open ---- */

static int load_map(struct cow_ovl *o, char *why, size_t whylen)
{
	uint8_t *pair = malloc(2 * COW_PAGE);
	int rc = 0;
	if (!pair)
		return -ENOMEM;
	for (uint64_t i = 0; i < o->h.nchunks; i++) {
		uint64_t seq[2] = {0, 0};
		int v[2];
		rc = fb_pread_full(o->fd, pair, 2 * COW_PAGE, o->h.map_off + i * 2 * COW_PAGE, 0);
		if (rc < 0) {
			snprintf(why, whylen, "cannot read map chunk %" PRIu64 ": %s", i,
			         strerror(-rc));
			break;
		}
		v[0] = cow_page_decode(pair, i, &seq[0]);
		v[1] = cow_page_decode(pair + COW_PAGE, i, &seq[1]);
		/* A flush tears at most the one slot it writes, and writes slot 1
		 * only while slot 0 holds a valid copy: two torn slots are
		 * damage, not a crash, and the chunk's flushed state is lost. */
		if (v[0] < 0 && v[1] < 0) {
			snprintf(why, whylen, "map chunk %" PRIu64 " has both copies damaged", i);
			rc = -EUCLEAN;
			break;
		}
		int pick = -1;
		if (v[0] == 1 && (v[1] != 1 || seq[0] > seq[1]))
			pick = 0;
		else if (v[1] == 1)
			pick = 1;
		if (v[0] == 1 && v[1] == 1 && seq[0] == seq[1]) {
			snprintf(why, whylen, "map chunk %" PRIu64 " has two copies with one seq",
			         i);
			rc = -EUCLEAN;
			break;
		}
		o->chunks[i].slot = (int8_t)pick;
		if (pick < 0)
			continue;
		o->chunks[i].seq = seq[pick];
		if (seq[pick] > o->seq)
			o->seq = seq[pick];
		uint64_t first = i * COW_PER_CHUNK;
		uint64_t n =
		    o->nclusters - first < COW_PER_CHUNK ? o->nclusters - first : COW_PER_CHUNK;
		const uint8_t *st = pair + pick * COW_PAGE + COW_PAGE_HDR;
		for (uint64_t k = n; k < COW_PER_CHUNK; k++)
			if (st[k]) {
				snprintf(why, whylen, "map chunk %" PRIu64 " maps beyond the disk",
				         i);
				rc = -EUCLEAN;
				goto out;
			}
		for (uint64_t k = 0; k < n; k++) {
			if (st[k] == COW_DATA)
				o->n_data++;
		}
		/* Only touch memory for chunks that hold something, so an idle
		 * machine's map stays untouched (unbacked) calloc pages. */
		for (uint64_t k = 0; k < n; k++)
			if (st[k]) {
				memcpy(o->state + first, st, n);
				break;
			}
	}
out:
	free(pair);
	return rc;
}

int cow_ovl_open(const char *path, struct cow_base *base, int flags, struct cow_ovl **out,
                 char *why, size_t whylen)
{
	uint8_t page[COW_HDR_SIZE];
	struct stat st;
	struct cow_ovl *o;
	int rc, fd;

	fd = lock_open(path, flags & COW_OPEN_RDONLY);
	if (fd < 0) {
		if (fd == -EBUSY)
			snprintf(why, whylen, "%s: another writer holds the overlay", path);
		else
			snprintf(why, whylen, "%s: %s", path, strerror(-fd));
		return fd;
	}
	o = calloc(1, sizeof(*o));
	if (!o) {
		close(fd);
		snprintf(why, whylen, "out of memory");
		return -ENOMEM;
	}
	o->fd = fd;
	o->rdonly = flags & COW_OPEN_RDONLY;
	for (int i = 0; i < COW_STRIPES; i++)
		pthread_mutex_init(&o->stripes[i], NULL);
	pthread_mutex_init(&o->flush_lock, NULL);

	if ((rc = fb_pread_full(fd, page, sizeof(page), 0, 0)) < 0) {
		snprintf(why, whylen, "%s: cannot read the header: %s", path, strerror(-rc));
		goto fail;
	}
	if ((rc = cow_header_decode(page, sizeof(page), &o->h, why, whylen)) < 0)
		goto fail;
	if (base && (o->h.image_id != base->image_id || o->h.size != base->size ||
	             strcmp(o->h.base_sha256, base->sha256))) {
		snprintf(why, whylen,
		         "%s: pinned to image id %" PRId64 " (%" PRIu64 " bytes), not to %s", path,
		         o->h.image_id, o->h.size, base->path);
		rc = -ESTALE;
		goto fail;
	}
	uint64_t ncl, nch, moff, doff;
	cow_geometry(o->h.size, &ncl, &nch, &moff, &doff);
	o->nclusters = ncl;
	if (fstat(fd, &st) < 0 || (uint64_t)st.st_size < o->h.data_off + ncl * COW_CLUSTER) {
		snprintf(why, whylen, "%s: file is truncated", path);
		rc = -EUCLEAN;
		goto fail;
	}
	o->state = calloc(ncl, 1);
	o->chunks = calloc(nch, sizeof(*o->chunks));
	if (!o->state || !o->chunks) {
		snprintf(why, whylen, "out of memory");
		rc = -ENOMEM;
		goto fail;
	}
	if ((rc = load_map(o, why, whylen)) < 0)
		goto fail;
	o->base = base;
	*out = o;
	return 0;
fail:
	free(o->state);
	free(o->chunks);
	close(fd);
	free(o);
	return rc;
}

const struct cow_header *cow_ovl_header(const struct cow_ovl *o)
{
	return &o->h;
}

uint64_t cow_ovl_bytes(const struct cow_ovl *o)
{
	return __atomic_load_n(&o->n_data, __ATOMIC_RELAXED) * COW_CLUSTER;
}

void cow_ovl_counters(const struct cow_ovl *o, uint64_t *rd, uint64_t *wr)
{
	*rd = __atomic_load_n(&o->bytes_read, __ATOMIC_RELAXED);
	*wr = __atomic_load_n(&o->bytes_written, __ATOMIC_RELAXED);
}

/* ---- flush ---- */

/*
 * Order matters (FORMAT.md): first snapshot the dirty map chunks, then
 * fdatasync the data, then write each snapshot into the slot that does NOT
 * hold the chunk's current copy, then fdatasync again. A state is only set
 * after its data was written, so every state in the snapshot points at data
 * the first fdatasync made durable; a torn map write damages only the
 * non-current slot, and the previous copy still decodes.
 */
int cow_ovl_flush(struct cow_ovl *o)
{
	uint8_t *pages = NULL;
	uint64_t *idx = NULL, n = 0, gen;
	int rc = 0;

	if (o->rdonly)
		return 0;
	pthread_mutex_lock(&o->flush_lock);
	gen = __atomic_load_n(&o->wgen, __ATOMIC_ACQUIRE);
	if (gen == o->flushed_gen)
		goto out;
	for (uint64_t i = 0; i < o->h.nchunks; i++)
		if (__atomic_load_n(&o->chunks[i].dirty, __ATOMIC_ACQUIRE))
			n++;
	if (n) {
		pages = malloc(n * COW_PAGE);
		idx = malloc(n * sizeof(*idx));
		if (!pages || !idx) {
			rc = -ENOMEM;
			goto out;
		}
		uint64_t k = 0;
		for (uint64_t i = 0; i < o->h.nchunks && k < n; i++) {
			if (!__atomic_exchange_n(&o->chunks[i].dirty, 0, __ATOMIC_ACQ_REL))
				continue;
			uint64_t first = i * COW_PER_CHUNK;
			uint64_t cnt = o->nclusters - first < COW_PER_CHUNK ? o->nclusters - first
			                                                    : COW_PER_CHUNK;
			uint8_t *p = pages + k * COW_PAGE;
			memset(p, 0, COW_PAGE);
			for (uint64_t c = 0; c < cnt; c++)
				p[COW_PAGE_HDR + c] = cow_get(o, first + c);
			idx[k++] = i;
		}
		n = k;
	}
#if defined(FB_COW_TEST_MAP_FIRST) && FB_COW_TEST_MAP_FIRST == 2
	/* Deliberately wrong, for tests only (make COW_TEST_MAP_FIRST=2 in a
	 * private tree): no data sync before the map pages, so a power cut
	 * during the one sync below may keep a map page without its data. A
	 * kill -9 cannot show it (the page cache has both); a power cut can. */
#else
	if (fdatasync(o->fd) < 0) {
		rc = -errno;
		goto redirty;
	}
#endif
	for (uint64_t k = 0; k < n; k++) {
		struct cow_chunk *ch = &o->chunks[idx[k]];
		int slot = ch->slot == 0 ? 1 : 0;
		uint8_t *p = pages + k * COW_PAGE;
		page_encode(p, idx[k], ++o->seq);
		rc = fb_pwrite_full(o->fd, p, COW_PAGE,
		                    o->h.map_off + (idx[k] * 2 + (uint64_t)slot) * COW_PAGE);
		if (rc < 0)
			goto redirty;
		ch->slot = (int8_t)slot;
		ch->seq = o->seq;
	}
	if (n && fdatasync(o->fd) < 0) {
		rc = -errno;
		goto redirty;
	}
	o->flushed_gen = gen;
	goto out;
redirty:
	/* The snapshot did not reach the disk: write those chunks next time. */
	for (uint64_t k = 0; k < n; k++)
		__atomic_store_n(&o->chunks[idx[k]].dirty, 1, __ATOMIC_RELEASE);
out:
	pthread_mutex_unlock(&o->flush_lock);
	free(pages);
	free(idx);
	return rc;
}

int cow_ovl_close(struct cow_ovl *o)
{
	int rc;
	if (!o)
		return 0;
	rc = cow_ovl_flush(o);
	close(o->fd);
	for (int i = 0; i < COW_STRIPES; i++)
		pthread_mutex_destroy(&o->stripes[i]);
	pthread_mutex_destroy(&o->flush_lock);
	free(o->state);
	free(o->chunks);
	free(o);
	return rc;
}

/* ---- consistency check ---- */

int cow_ovl_check(const char *path, FILE *out)
{
	uint8_t page[COW_HDR_SIZE], pair[2 * COW_PAGE];
	struct cow_header h;
	struct stat st;
	char why[512];
	uint64_t ncl, nch, moff, doff, ndata = 0, nzero = 0, torn = 0;
	int rc, bad = 0;
	int fd = lock_open(path, 1);

	if (fd < 0) {
		if (out)
			fprintf(out, "%s: %s\n", path,
			        fd == -EBUSY ? "in use by a writer" : strerror(-fd));
		return fd;
	}
	if ((rc = fb_pread_full(fd, page, sizeof(page), 0, 0)) < 0 ||
	    (rc = cow_header_decode(page, sizeof(page), &h, why, sizeof(why))) < 0) {
		if (out)
			fprintf(out, "%s: %s\n", path, rc == -EUCLEAN ? why : strerror(-rc));
		close(fd);
		return rc == -EIO ? -EUCLEAN : rc;
	}
	cow_geometry(h.size, &ncl, &nch, &moff, &doff);
	if (fstat(fd, &st) < 0 || (uint64_t)st.st_size < doff + ncl * COW_CLUSTER) {
		if (out)
			fprintf(out, "%s: file is shorter than its data area\n", path);
		bad++;
	}
	for (uint64_t i = 0; i < nch && !bad; i++) {
		uint64_t seq[2] = {0, 0};
		int v[2];
		if (fb_pread_full(fd, pair, sizeof(pair), moff + i * 2 * COW_PAGE, 0) < 0) {
			if (out)
				fprintf(out, "%s: map chunk %" PRIu64 " unreadable\n", path, i);
			bad++;
			break;
		}
		v[0] = cow_page_decode(pair, i, &seq[0]);
		v[1] = cow_page_decode(pair + COW_PAGE, i, &seq[1]);
		/* A torn slot is what an interrupted flush leaves; it is harmless
		 * as long as the other slot holds a valid copy (or none was ever
		 * written, which reads as "all base"). */
		torn += (v[0] < 0) + (v[1] < 0);
		if (v[0] < 0 && v[1] < 0) {
			if (out)
				fprintf(out, "%s: map chunk %" PRIu64 ": both copies damaged\n",
				        path, i);
			bad++;
		}
		if (v[0] == 1 && v[1] == 1 && seq[0] == seq[1]) {
			if (out)
				fprintf(out, "%s: map chunk %" PRIu64 ": two copies, same seq\n",
				        path, i);
			bad++;
		}
		int pick = v[0] == 1 && (v[1] != 1 || seq[0] > seq[1]) ? 0 : v[1] == 1 ? 1 : -1;
		if (pick < 0)
			continue;
		const uint8_t *s = pair + pick * COW_PAGE + COW_PAGE_HDR;
		uint64_t first = i * COW_PER_CHUNK;
		for (uint64_t k = 0; k < COW_PER_CHUNK; k++) {
			if (first + k >= ncl && s[k]) {
				if (out)
					fprintf(out,
					        "%s: map chunk %" PRIu64 " maps beyond the disk\n",
					        path, i);
				bad++;
				break;
			}
			ndata += s[k] == COW_DATA;
			nzero += s[k] == COW_ZERO;
		}
	}
	close(fd);
	if (out)
		fprintf(out,
		        "%s: %s; size %" PRIu64 ", image id %" PRId64 ", boot %" PRId64 ", %" PRIu64
		        " data clusters, %" PRIu64 " zero clusters, %" PRIu64
		        " torn map slots (recoverable)\n",
		        path, bad ? "INCONSISTENT" : "consistent", h.size, h.image_id, h.boot_seq,
		        ndata, nzero, torn);
	return bad ? -EUCLEAN : 0;
}
