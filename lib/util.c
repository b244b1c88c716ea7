/* util.c - see util.h. */
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <sys/uio.h>
#include <unistd.h>

size_t fb_strlcpy(char *dst, const char *src, size_t size)
{
	size_t n = strlen(src);
	if (size) {
		size_t c = n < size - 1 ? n : size - 1;
		memcpy(dst, src, c);
		dst[c] = 0;
	}
	return n;
}

int fb_random_hex(char *out, size_t nbytes)
{
	static const char hx[] = "0123456789abcdef";
	uint8_t b[64];
	if (nbytes > sizeof(b)) {
		errno = EINVAL;
		return -1;
	}
	size_t got = 0;
	while (got < nbytes) {
		ssize_t r = getrandom(b + got, nbytes - got, 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		got += (size_t)r;
	}
	for (size_t i = 0; i < nbytes; i++) {
		out[2 * i] = hx[b[i] >> 4];
		out[2 * i + 1] = hx[b[i] & 15];
	}
	out[2 * nbytes] = 0;
	return 0;
}

int fb_mkdir_p(const char *path, mode_t mode)
{
	char tmp[PATH_MAX];
	if (fb_strlcpy(tmp, path, sizeof(tmp)) >= sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(tmp, mode) < 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(tmp, mode) < 0 && errno != EEXIST)
		return -1;
	struct stat st;
	if (stat(tmp, &st) < 0)
		return -1;
	if (!S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		return -1;
	}
	return 0;
}

int fb_rm_rf(const char *path)
{
	struct stat st;
	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISDIR(st.st_mode))
		return unlink(path);
	DIR *d = opendir(path);
	if (!d)
		return -1;
	struct dirent *e;
	int rc = 0;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		char sub[PATH_MAX];
		if (snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name) >= (int)sizeof(sub)) {
			rc = -1;
			continue;
		}
		if (fb_rm_rf(sub) < 0)
			rc = -1;
	}
	closedir(d);
	if (rmdir(path) < 0)
		rc = -1;
	return rc;
}

int fb_read_file(const char *path, char **out, size_t *len, size_t max)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	size_t cap = 4096, n = 0;
	char *b = malloc(cap);
	if (!b)
		goto fail;
	for (;;) {
		if (n + 1 >= cap) {
			if (cap > max) {
				errno = EFBIG;
				goto fail;
			}
			char *nb = realloc(b, cap * 2);
			if (!nb)
				goto fail;
			b = nb;
			cap *= 2;
		}
		ssize_t r = read(fd, b + n, cap - n - 1);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n > max) {
			errno = EFBIG;
			goto fail;
		}
	}
	close(fd);
	b[n] = 0;
	*out = b;
	if (len)
		*len = n;
	return 0;
fail : {
	int e = errno;
	free(b);
	close(fd);
	errno = e;
	return -1;
}
}

int fb_fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int rc = fsync(fd);
	close(fd);
	return rc;
}

static int write_all(int fd, const void *p, size_t n)
{
	const char *c = p;
	while (n) {
		ssize_t w = write(fd, c, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

static void dir_of(const char *path, char *dir, size_t len)
{
	fb_strlcpy(dir, path, len);
	char *s = strrchr(dir, '/');
	if (!s)
		fb_strlcpy(dir, ".", len);
	else if (s == dir)
		s[1] = 0;
	else
		*s = 0;
}

int fb_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode)
{
	char tmp[PATH_MAX], dir[PATH_MAX];
	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid()) >= (int)sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return -1;
	if (write_all(fd, data, len) < 0 || fsync(fd) < 0) {
		int e = errno;
		close(fd);
		unlink(tmp);
		errno = e;
		return -1;
	}
	close(fd);
	if (rename(tmp, path) < 0) {
		int e = errno;
		unlink(tmp);
		errno = e;
		return -1;
	}
	dir_of(path, dir, sizeof(dir));
	return fb_fsync_dir(dir);
}

static void to_hex(const unsigned char *md, unsigned n, char *hex)
{
	static const char hx[] = "0123456789abcdef";
	for (unsigned i = 0; i < n; i++) {
		hex[2 * i] = hx[md[i] >> 4];
		hex[2 * i + 1] = hx[md[i] & 15];
	}
	hex[2 * n] = 0;
}

void fb_sha256_mem(const void *p, size_t n, char hex[FB_SHA256_HEX])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	EVP_Digest(p, n, md, &mdlen, EVP_sha256(), NULL);
	to_hex(md, mdlen, hex);
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
			int zero = 1;
			for (ssize_t i = 0; i < r && zero; i += 8)
				zero = (r - i >= 8) ? *(uint64_t *)(void *)(b + i) == 0 : b[i] == 0;
			if (zero && r == (ssize_t)chunk) {
				if (lseek(out, r, SEEK_CUR) < 0) {
					e = errno;
					goto out;
				}
			} else if (write_all(out, b, (size_t)r) < 0) {
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
		to_hex(md, mdlen, hex);
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

int fb_progress_stderr(void *label, uint64_t done, uint64_t total)
{
	static int last = -1;
	static const void *last_label;
	int pct = total ? (int)(done * 100 / total) : 100;
	if (label != last_label) {
		last = -1;
		last_label = label;
	}
	if (isatty(STDERR_FILENO)) {
		if (pct == last)
			return 0;
		char bar[41];
		int fill = pct * 40 / 100;
		memset(bar, '#', (size_t)fill);
		memset(bar + fill, '.', (size_t)(40 - fill));
		bar[40] = 0;
		fprintf(stderr, "\r%s [%s] %3d%%", (const char *)label, bar, pct);
		if (done >= total)
			fputc('\n', stderr);
	} else {
		if (pct / 10 == last / 10 && done < total)
			return 0;
		fprintf(stderr, "%s: %d%%\n", (const char *)label, pct);
	}
	last = pct;
	return 0;
}

int64_t fb_now(void)
{
	return (int64_t)time(NULL);
}

uint64_t fb_mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int fb_pread_full(int fd, void *buf, uint64_t len, uint64_t off, unsigned flags)
{
	uint8_t *p = buf;
	int rwf = flags & FB_PREAD_NOWAIT ? RWF_NOWAIT : 0;
	while (len) {
		struct iovec iov = {p, len};
		ssize_t n = preadv2(fd, &iov, 1, (off_t)off, rwf);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno == EOPNOTSUPP && rwf ? -EAGAIN : -errno;
		}
		if (n == 0) {
			if (!(flags & FB_PREAD_ZERO_FILL))
				return -EIO;
			memset(p, 0, len);
			return 0;
		}
		p += n;
		off += (uint64_t)n;
		len -= (uint64_t)n;
	}
	return 0;
}

uint64_t fb_mono_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

int fb_parse_size(const char *s, uint64_t *out)
{
	char *end;
	if (!s || !*s || *s == '-')
		return -1;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -1;
	unsigned shift = 0;
	switch (*end) {
	case 0:
		break;
	case 'k':
	case 'K':
		shift = 10;
		break;
	case 'm':
	case 'M':
		shift = 20;
		break;
	case 'g':
	case 'G':
		shift = 30;
		break;
	case 't':
	case 'T':
		shift = 40;
		break;
	default:
		return -1;
	}
	if (*end && end[1] && strcmp(end + 1, "iB") && strcmp(end + 1, "B"))
		return -1;
	if (shift && v > (UINT64_MAX >> shift))
		return -1;
	*out = (uint64_t)v << shift;
	return 0;
}

char *fb_format_size(uint64_t n, char *buf, size_t len)
{
	static const char *u[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	double v = (double)n;
	int i = 0;
	while (v >= 1024 && i < 4) {
		v /= 1024;
		i++;
	}
	if (i == 0)
		snprintf(buf, len, "%llu B", (unsigned long long)n);
	else
		snprintf(buf, len, "%.1f %s", v, u[i]);
	return buf;
}

const char *fb_self_dir(void)
{
	static char dir[PATH_MAX];
	if (!dir[0]) {
		ssize_t n = readlink("/proc/self/exe", dir, sizeof(dir) - 1);
		if (n <= 0) {
			strcpy(dir, ".");
		} else {
			dir[n] = 0;
			char *s = strrchr(dir, '/');
			if (s)
				*s = 0;
		}
	}
	return dir;
}

static int is_dir(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

const char *fb_share_dir(void)
{
	static char share[PATH_MAX];
	const char *env = getenv("FLEETBOOT_SHARE");
	if (env && *env)
		return env;
	if (share[0])
		return share;
	const char *self = fb_self_dir();
	char cand[PATH_MAX];
	/* Installed: PREFIX/{bin,sbin,lib/fleetboot}/prog. */
	const char *rel[] = {"/../share/fleetboot", "/../../share/fleetboot",
	                     /* build tree: TOP/build/bin/prog */
	                     "/../.."};
	for (size_t i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
		snprintf(cand, sizeof(cand), "%s%s", self, rel[i]);
		char probe[PATH_MAX + 16];
		snprintf(probe, sizeof(probe), "%s/initramfs", cand);
		if (is_dir(probe) && realpath(cand, share))
			return share;
	}
	snprintf(share, sizeof(share), "%s", self);
	return share;
}

int fb_find_program(const char *name, char *out, size_t len)
{
	const char *self = fb_self_dir();
	const char *rel[] = {"", "/../bin", "/../sbin", "/../lib/fleetboot", "/../lib"};
	for (size_t i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
		if (snprintf(out, len, "%s%s/%s", self, rel[i], name) >= (int)len)
			continue;
		if (access(out, X_OK) == 0 || (strstr(name, ".so") && access(out, R_OK) == 0))
			return 0;
	}
	return -1;
}

const char *fb_default_conf(void)
{
	const char *env = getenv("FLEETBOOT_CONF");
	return env && *env ? env : "/etc/fleetboot/fleetboot.conf";
}
