/*
 * cow_int.h - the engine's private state, shared by cow_ovl.c (format,
 * open, flush) and cow_io.c (the data path). Nothing outside cow/
 * includes it.
 */
#ifndef FB_COW_INT_H
#define FB_COW_INT_H

#include <pthread.h>
#include <stdint.h>

#include "cow/cow.h"

#define COW_MAGIC        "FBCOWOV1"
#define COW_VERSION      1
#define COW_HDR_SIZE     4096u
#define COW_HDR_CRC_OFF  160u  /* crc32c of bytes [0, 160) lives here */
#define COW_PAGE         4096u /* one map page slot */
#define COW_PAGE_HDR     32u
#define COW_PAGE_MAGIC   0x504d4246u               /* "FBMP" little-endian */
#define COW_PER_CHUNK    (COW_PAGE - COW_PAGE_HDR) /* clusters per map chunk: 4064 */
#define COW_DATA_ALIGN   (1u << 20)
#define COW_STRIPES      256
#define COW_STRIPE_SHIFT 4 /* 16 clusters (64 KiB) share a lock stripe */

struct cow_chunk {
	uint64_t seq;  /* seq of the current on-disk copy (0 = none) */
	int8_t slot;   /* which slot holds it: 0, 1 or -1 (never written) */
	uint8_t dirty; /* changed since the last snapshot (atomic) */
};

struct cow_ovl {
	int fd;                               /* the overlay file; holds the OFD lock */
	int rdonly;                           /* opened with COW_OPEN_RDONLY */
	struct cow_base *base;                /* shared base (reference held) */
	struct cow_header h;                  /* validated header */
	uint64_t nclusters;                   /* ceil(size / cluster) */
	uint8_t *state;                       /* enum cow_state per cluster (atomic bytes) */
	struct cow_chunk *chunks;             /* h.nchunks of them */
	uint64_t seq;                         /* highest map page seq written or seen */
	pthread_mutex_t stripes[COW_STRIPES]; /* writers of cluster c hold (c >> 4) % 256 */
	pthread_mutex_t flush_lock;           /* one flush at a time */
	uint64_t n_data;                      /* COW_DATA clusters (atomic) */
	uint64_t wgen;                        /* bumped by every change (atomic) */
	uint64_t flushed_gen;                 /* wgen covered by the last flush (flush_lock) */
	uint64_t bytes_read, bytes_written;   /* counters (atomic) */
};

/* Geometry shared by create, open and check. */
void cow_geometry(uint64_t size, uint64_t *nclusters, uint64_t *nchunks, uint64_t *map_off,
                  uint64_t *data_off);
/* Encode/decode the header page. decode validates magic, version, crc and
 * geometry; returns 0 or -EUCLEAN with why. */
void cow_header_encode(const struct cow_header *h, uint8_t page[COW_HDR_SIZE]);
int cow_header_decode(const uint8_t *page, size_t len, struct cow_header *h, char *why,
                      size_t whylen);
/* Decode a map page slot: 1 valid (seq set), 0 empty (all zero), -1 torn
 * or foreign. */
int cow_page_decode(const uint8_t *page, uint64_t index, uint64_t *seq);

static inline uint8_t cow_get(const struct cow_ovl *o, uint64_t c)
{
	return __atomic_load_n(&o->state[c], __ATOMIC_ACQUIRE);
}

#endif
