/* sha256.c - see sha256.h. */
#include "sha256.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "hex.h"
#include "str.h"

void fb_sha256_mem(const void *p, size_t n, char hex[FB_SHA256_HEX])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	EVP_Digest(p, n, md, &mdlen, EVP_sha256(), NULL);
	fb_hex_encode(md, mdlen, hex);
}

/* Shared loop for sha256 and copy: read src, optionally write dst. */
static int stream_file(int in, int out, char *hex, fb_progress_fn progress, void *arg)
{
	struct stat st;
	EVP_MD_CTX *ctx = NULL;
	const size_t chunk = 1 << 20;
	char *b = NULL;
	uint64_t done = 0;
	int rc = -1, e = 0;

	if (fstat(in, &st) < 0)
		return -1;
	b = malloc(chunk);
	if (!b)
		return -1;
	if (hex) {
		ctx = EVP_MD_CTX_new();
		if (!ctx || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL)) {
			e = ENOMEM;
			goto out;
		}
	}
	posix_fadvise(in, 0, 0, POSIX_FADV_SEQUENTIAL);
	for (;;) {
		ssize_t r = read(in, b, chunk);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			e = errno;
			goto out;
		}
		if (r == 0)
			break;
		if (ctx)
			EVP_DigestUpdate(ctx, b, (size_t)r);
		if (out >= 0) {
			/* Keep holes: an all-zero chunk becomes a seek. */
			if (r == (ssize_t)chunk && fb_all_zero(b, chunk)) {
				if (lseek(out, r, SEEK_CUR) < 0) {
					e = errno;
					goto out;
				}
			} else if (fb_write_all(out, b, (size_t)r) < 0) {
				e = errno;
				goto out;
			}
		}
		done += (uint64_t)r;
		if (progress && progress(arg, done, (uint64_t)st.st_size)) {
			e = ECANCELED;
			goto out;
		}
	}
	if (out >= 0 && (ftruncate(out, (off_t)done) < 0 || fsync(out) < 0)) {
		e = errno;
		goto out;
	}
	if (ctx) {
		unsigned char md[EVP_MAX_MD_SIZE];
		unsigned mdlen = 0;
		EVP_DigestFinal_ex(ctx, md, &mdlen);
		fb_hex_encode(md, mdlen, hex);
	}
	rc = 0;
out:
	EVP_MD_CTX_free(ctx);
	free(b);
	if (rc < 0)
		errno = e;
	return rc;
}

int fb_sha256_file(const char *path, char hex[FB_SHA256_HEX], fb_progress_fn progress, void *arg)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int rc = stream_file(fd, -1, hex, progress, arg);
	int e = errno;
	close(fd);
	errno = e;
	return rc;
}

int fb_copy_file(const char *src, const char *dst, char hex[FB_SHA256_HEX], fb_progress_fn progress,
                 void *arg)
{
	int in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return -1;
	struct stat st;
	if (fstat(in, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(in);
		errno = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
		return -1;
	}
	int out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (out < 0) {
		int e = errno;
		close(in);
		errno = e;
		return -1;
	}
	int rc = stream_file(in, out, hex, progress, arg);
	int e = errno;
	close(in);
	close(out);
	if (rc < 0)
		unlink(dst);
	errno = e;
	return rc;
}
