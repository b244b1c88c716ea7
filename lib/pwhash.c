/* pwhash.c - see pwhash.h. */
#include "pwhash.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "hex.h"

#define ITERATIONS 120000
#define SALT_BYTES 16
#define HASH_BYTES 32

static int unhex(const char *s, size_t slen, unsigned char *out, size_t n)
{
	if (slen != 2 * n)
		return -1;
	for (size_t i = 0; i < n; i++) {
		unsigned v;
		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = (unsigned char)v;
	}
	return 0;
}

static int derive(const char *pw, const unsigned char *salt, int iter, unsigned char *out)
{
	return PKCS5_PBKDF2_HMAC(pw, (int)strlen(pw), salt, SALT_BYTES, iter, EVP_sha256(),
	                         HASH_BYTES, out) == 1
	           ? 0
	           : -1;
}

int fb_pwhash_make(const char *password, char *out, size_t len)
{
	unsigned char salt[SALT_BYTES], h[HASH_BYTES];
	char sx[2 * SALT_BYTES + 1], hx[2 * HASH_BYTES + 1];
	if (getrandom(salt, sizeof(salt), 0) != (ssize_t)sizeof(salt))
		return -1;
	if (derive(password, salt, ITERATIONS, h) < 0)
		return -1;
	fb_hex_encode(salt, sizeof(salt), sx);
	fb_hex_encode(h, sizeof(h), hx);
	return snprintf(out, len, "pbkdf2-sha256$%d$%s$%s", ITERATIONS, sx, hx) < (int)len ? 0 : -1;
}

int fb_pwhash_check(const char *password, const char *stored)
{
	unsigned char salt[SALT_BYTES], want[HASH_BYTES], got[HASH_BYTES];
	const char *p = stored;
	if (strncmp(p, "pbkdf2-sha256$", 14))
		return -1;
	p += 14;
	char *end;
	long iter = strtol(p, &end, 10);
	if (*end != '$' || iter < 1000 || iter > 10000000)
		return -1;
	p = end + 1;
	const char *d = strchr(p, '$');
	if (!d || unhex(p, (size_t)(d - p), salt, SALT_BYTES) < 0 ||
	    unhex(d + 1, strlen(d + 1), want, HASH_BYTES) < 0)
		return -1;
	if (derive(password, salt, (int)iter, got) < 0)
		return -1;
	return CRYPTO_memcmp(got, want, HASH_BYTES) == 0;
}

int fb_password_random(char *out, size_t n)
{
	static const char set[] = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
	unsigned char r[64];
	if (n >= sizeof(r) || getrandom(r, n, 0) != (ssize_t)n)
		return -1;
	for (size_t i = 0; i < n; i++)
		out[i] = set[r[i] % (sizeof(set) - 1)];
	out[n] = 0;
	return 0;
}
