/*
 * cow.h - the copy-on-write engine: immutable base images shared by every
 * machine that boots them, and one overlay file per machine that holds what
 * the machine wrote. Both front ends (the nbdkit plugin and the iSCSI target)
 * serve a struct fb_blockdev made from an overlay (or from a bare base in
 * readonly mode). The on-disk format and its crash-safety argument are in
 * cow/FORMAT.md.
 *
 * Thread safety: every I/O function may be called from many threads at once
 * on the same overlay; there is no global lock on the data path (per-cluster
 * lock stripes for writes, lock-free reads of the in-memory cluster map).
 * Functions return 0 or a negative errno; the ones taking why/whylen put a
 * one-line reason there on failure.
 */
#ifndef FB_COW_H
#define FB_COW_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "blockdev.h"

#define COW_CLUSTER       4096u /* bytes per overlay cluster */
#define COW_CLUSTER_SHIFT 12

/* Cluster states, one byte each in memory and on disk. */
enum cow_state {
	COW_BASE = 0, /* never written: read the base image */
	COW_DATA = 1, /* the overlay holds it at its identity slot */
	COW_ZERO = 2, /* trimmed or zeroed: reads return zeros */
};

/* ---- base images (cow_base.c) ---- */

struct cow_base {
	int fd;           /* read-only descriptor, shared */
	uint64_t size;    /* bytes */
	int64_t image_id; /* DB row id */
	char sha256[65];  /* verified digest */
	char path[4096];  /* rootfs.img */
	int refs;         /* users in this process (registry lock) */
};

/*
 * Open a base image once per process (later calls with the same image id
 * share it). The file's sha256 must equal sha256; the result of a full
 * hash is remembered in verify_dir (one small file per image id, keyed by
 * path, size, mtime, ctime and inode) so the next process does not rehash.
 * verify_dir NULL: always hash.
 */
int cow_base_get(int64_t image_id, const char *path, const char *sha256, const char *verify_dir,
                 struct cow_base **out, char *why, size_t whylen);
/* Drop a reference from cow_base_get; the last one closes the file. NULL
 * is ignored. */
void cow_base_put(struct cow_base *b);
/* Where cow_base_get's verification records live under state_dir. */
void cow_verify_dir(const char *state_dir, char *out, size_t len);
/* Record that path (image_id) was just hashed to sha256 by whoever made
 * it (import, commit), so the first open does not hash it again. */
int cow_base_record(int64_t image_id, const char *path, const char *sha256, const char *verify_dir);
/* 1 when verify_dir holds a record of path (image_id) hashing to sha256 that
 * still matches the file as it is now; else 0. */
int cow_base_record_ok(int64_t image_id, const char *path, const char *sha256,
                       const char *verify_dir);

/* ---- overlays (cow_ovl.c, cow_io.c) ---- */

/* The fixed header of an overlay, as the engine reads it back. */
struct cow_header {
	uint32_t version;
	uint32_t cluster_size;
	uint64_t size;        /* virtual disk size = base size */
	int64_t image_id;     /* base version the overlay is pinned to */
	int64_t boot_seq;     /* machine boot counter at creation */
	int64_t created;      /* unix time */
	uint64_t map_off;     /* first map page */
	uint64_t nchunks;     /* map chunks (each has two page slots) */
	uint64_t data_off;    /* cluster i lives at data_off + i * cluster_size */
	char base_sha256[65]; /* digest of the base it was made over */
	char mac[24];         /* owner machine id (informational) */
};

struct cow_ovl;

/* Create an empty overlay at path atomically (temp file, fsync, rename).
 * Fails with -EEXIST when path exists. */
int cow_ovl_create(const char *path, uint64_t size, int64_t image_id, const char *base_sha256,
                   int64_t boot_seq, const char *mac);
/* Read and validate the header only (no lock). */
int cow_ovl_read_header(const char *path, struct cow_header *h, char *why, size_t whylen);

#define COW_OPEN_RDONLY 1 /* shared lock, writes refused (commit, check) */

/*
 * Open an overlay over base: takes an OFD lock on the file (exclusive, or
 * shared with COW_OPEN_RDONLY) so one writer holds it across every process
 * and protocol; -EBUSY when another holder exists. Loads the cluster map.
 */
int cow_ovl_open(const char *path, struct cow_base *base, int flags, struct cow_ovl **out,
                 char *why, size_t whylen);
/* Flush and release (the lock goes with the descriptor). */
int cow_ovl_close(struct cow_ovl *o);
const struct cow_header *cow_ovl_header(const struct cow_ovl *o);

int cow_ovl_read(struct cow_ovl *o, void *buf, uint64_t len, uint64_t off);
/* flags: FB_PREAD_NOWAIT (fileio.h): -EAGAIN rather than wait for the disk. */
int cow_ovl_read_flags(struct cow_ovl *o, void *buf, uint64_t len, uint64_t off, unsigned flags);
/* flags: FB_BD_FUA (durable on return); COW_NOWAIT: -EAGAIN rather than
 * wait for another writer's lock or a disk read (never with FUA). */
#define COW_NOWAIT 0x100
int cow_ovl_write(struct cow_ovl *o, const void *buf, uint64_t len, uint64_t off, unsigned flags);
/* Zero (and trim: the same thing here) the range; whole clusters become
 * COW_ZERO metadata and their space is released. */
int cow_ovl_zero(struct cow_ovl *o, uint64_t len, uint64_t off, unsigned flags);
/* Make every write that completed before the call durable. */
int cow_ovl_flush(struct cow_ovl *o);

/* Extents: callback per run of (offset, length, type) where type is
 * COW_BASE / COW_DATA / COW_ZERO, plus base_hole (1 when a COW_BASE run is
 * a hole of a sparse base, i.e. reads zeros). Return non-zero to stop. */
typedef int (*cow_extent_fn)(void *arg, uint64_t off, uint64_t len, int type, int base_hole);
int cow_ovl_extents(struct cow_ovl *o, uint64_t len, uint64_t off, cow_extent_fn fn, void *arg);

/* Bytes the overlay holds (COW_DATA clusters times the cluster size). */
uint64_t cow_ovl_bytes(const struct cow_ovl *o);
/* Counters since open. */
void cow_ovl_counters(const struct cow_ovl *o, uint64_t *rd, uint64_t *wr);

/* Take the overlay's exclusive lock without loading it (reset, ephemeral
 * discard). Returns an fd holding the lock, -ENOENT, or -EBUSY. */
int cow_ovl_lock(const char *path);
/* 1 when some process holds a lock on the overlay (without taking one),
 * 0 when not, negative errno (-ENOENT) otherwise. */
int cow_ovl_in_use(const char *path);
/* Remove an overlay whose lock fd the caller holds (from cow_ovl_lock). */
int cow_ovl_discard(const char *path, int lockfd);

/*
 * Consistency check: header, both slots of every map page, states, and
 * that every COW_DATA cluster lies inside the file. Prints findings to out
 * (NULL: silent). Returns 0 when consistent, -EUCLEAN when not, or another
 * negative errno when the file cannot be read. Takes a shared lock.
 */
int cow_ovl_check(const char *path, FILE *out);

/* Write base + overlay as a raw image to fd (sparse where zero), with its
 * sha256. progress may be NULL. */
int cow_ovl_export(struct cow_ovl *o, int fd, char sha256[65],
                   int (*progress)(void *, uint64_t, uint64_t), void *arg);

/* ---- block devices for the front ends (cow_bdev.c) ---- */

/* A blockdev over an overlay (takes ownership: close() closes the overlay
 * and drops the base reference the caller passed to cow_ovl_open). */
struct fb_blockdev *cow_bdev_overlay(struct cow_ovl *o);
/* A read-only blockdev over a bare base (readonly and install modes);
 * holds a reference on b. */
struct fb_blockdev *cow_bdev_base(struct cow_base *b);

#endif
