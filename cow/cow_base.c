/*
 * cow_base.c - base image versions: opened read-only once per process and
 * shared by every overlay over them, and verified against the sha256 the
 * database recorded at import before anything is served from them.
 *
 * Hashing a 1 GiB image takes seconds, and 200 machines booting one image
 * must not each pay it, so a successful hash leaves a small sidecar file
 * (verify_dir/IMAGEID) naming the file's path, size, inode, mtime and ctime
 * with the digest. A later process that finds the same identity trusts the
 * digest; any change to the file (even a touch, which moves ctime) makes it
 * hash again. See FORMAT.md.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "fileio.h"
#include "log.h"
#include "sha256.h"
#include "str.h"
#include "cow/cow.h"

#define MAX_BASES 256

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct cow_base *reg[MAX_BASES];

/* Where the sidecar of image_id lives. */
static void side_path(const char *verify_dir, int64_t image_id, char *out, size_t len)
{
	snprintf(out, len, "%s/%" PRId64, verify_dir, image_id);
}

/* The identity line a sidecar holds for a file. */
static void identity(const struct stat *st, const char *path, const char *sha, char *out,
                     size_t len)
{
	snprintf(out, len, "v1 %s %" PRIu64 " %" PRIu64 " %" PRIu64 " %ld.%09ld %ld.%09ld %s\n",
	         sha, (uint64_t)st->st_size, (uint64_t)st->st_dev, (uint64_t)st->st_ino,
	         (long)st->st_mtim.tv_sec, st->st_mtim.tv_nsec, (long)st->st_ctim.tv_sec,
	         st->st_ctim.tv_nsec, path);
}

void cow_verify_dir(const char *state_dir, char *out, size_t len)
{
	snprintf(out, len, "%s/overlays/.verified", state_dir);
}

int cow_base_record(int64_t image_id, const char *path, const char *sha256, const char *verify_dir)
{
	struct stat st;
	char want[4096 + 256], side[4096];
	if (stat(path, &st) < 0 || fb_mkdir_p(verify_dir, 0700) < 0)
		return -errno;
	identity(&st, path, sha256, want, sizeof(want));
	side_path(verify_dir, image_id, side, sizeof(side));
	if (fb_write_file_atomic(side, want, strlen(want), 0600) < 0)
		return -errno;
	/* Readable by storaged, which runs as the owner of the state dir
	 * (overlays/, the directory above). */
	char up[4096 + 4];
	snprintf(up, sizeof(up), "%s/..", verify_dir);
	if (stat(up, &st) == 0 &&
	    (chown(verify_dir, st.st_uid, st.st_gid) < 0 || chown(side, st.st_uid, st.st_gid) < 0))
		return -errno;
	return 0;
}

/* Does the sidecar for image_id hold exactly want? */
static int record_matches(int64_t image_id, const char *verify_dir, const char *want)
{
	char side[4096], *got = NULL;
	size_t n;
	side_path(verify_dir, image_id, side, sizeof(side));
	if (fb_read_file(side, &got, &n, strlen(want) + 1) < 0)
		return 0;
	int same = !strcmp(got, want);
	free(got);
	return same;
}

int cow_base_record_ok(int64_t image_id, const char *path, const char *sha256,
                       const char *verify_dir)
{
	struct stat st;
	char want[4096 + 256];
	if (stat(path, &st) < 0)
		return 0;
	identity(&st, path, sha256, want, sizeof(want));
	return record_matches(image_id, verify_dir, want);
}

static int verify(int fd, const char *path, const char *sha256, const char *verify_dir,
                  int64_t image_id, char *why, size_t whylen)
{
	struct stat st;
	char want[4096 + 256];
	char hex[FB_SHA256_HEX];

	if (fstat(fd, &st) < 0) {
		snprintf(why, whylen, "%s: %s", path, strerror(errno));
		return -errno;
	}
	identity(&st, path, sha256, want, sizeof(want));
	if (verify_dir && record_matches(image_id, verify_dir, want))
		return 0;
	/* Logged with its size and time: an admin whose first boot is slow sees why. */
	uint64_t t0 = fb_mono_ms();
	log_info("%s: checking its sha256 (%.2f GiB, no record of an earlier check)", path,
	         (double)st.st_size / (1 << 30));
	/* Hash through the path, not fd, so the shared fd's offset is untouched. */
	if (fb_sha256_file(path, hex, NULL, NULL) < 0) {
		snprintf(why, whylen, "%s: cannot hash: %s", path, strerror(errno));
		return -EIO;
	}
	if (strcmp(hex, sha256)) {
		snprintf(why, whylen,
		         "%s: sha256 %s does not match the recorded %s; refusing to serve it", path,
		         hex, sha256);
		return -EBADMSG;
	}
	log_info("%s: sha256 matches (checked in %.1f s)", path,
	         (double)(fb_mono_ms() - t0) / 1000);
	if (verify_dir && cow_base_record(image_id, path, sha256, verify_dir) < 0)
		log_warn("%s: cannot record the verification of image %" PRId64, verify_dir,
		         image_id);
	return 0;
}

int cow_base_get(int64_t image_id, const char *path, const char *sha256, const char *verify_dir,
                 struct cow_base **out, char *why, size_t whylen)
{
	int rc = 0, fd = -1, slot = -1;
	struct stat st;
	struct cow_base *b;

	pthread_mutex_lock(&reg_lock);
	for (int i = 0; i < MAX_BASES; i++) {
		if (reg[i] && reg[i]->image_id == image_id && !strcmp(reg[i]->path, path)) {
			reg[i]->refs++;
			*out = reg[i];
			goto out;
		}
		if (!reg[i] && slot < 0)
			slot = i;
	}
	if (slot < 0) {
		snprintf(why, whylen, "too many base images open");
		rc = -EMFILE;
		goto out;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		rc = -errno;
		snprintf(why, whylen, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode) || st.st_size <= 0 || st.st_size % 512) {
		snprintf(why, whylen, "%s: not a regular image of whole 512-byte sectors", path);
		rc = -EINVAL;
		goto out;
	}
	/* Verification happens under the registry lock on purpose: a second
	 * opener of the same image waits for the first hash instead of
	 * starting its own. */
	rc = verify(fd, path, sha256, verify_dir, image_id, why, whylen);
	if (rc < 0)
		goto out;
	b = calloc(1, sizeof(*b));
	if (!b) {
		rc = -ENOMEM;
		snprintf(why, whylen, "out of memory");
		goto out;
	}
	b->fd = fd;
	fd = -1;
	b->size = (uint64_t)st.st_size;
	b->image_id = image_id;
	b->refs = 1;
	fb_strlcpy(b->sha256, sha256, sizeof(b->sha256));
	fb_strlcpy(b->path, path, sizeof(b->path));
	/* No fadvise: machines boot by reading files front to back, and the
	 * kernel's adaptive readahead serves that better than RANDOM would. */
	reg[slot] = b;
	*out = b;
out:
	pthread_mutex_unlock(&reg_lock);
	if (fd >= 0)
		close(fd);
	return rc;
}

void cow_base_put(struct cow_base *b)
{
	if (!b)
		return;
	pthread_mutex_lock(&reg_lock);
	if (--b->refs == 0) {
		for (int i = 0; i < MAX_BASES; i++)
			if (reg[i] == b)
				reg[i] = NULL;
		close(b->fd);
		free(b);
	}
	pthread_mutex_unlock(&reg_lock);
}
