/*
 * pwhash.c - see pwhash.h.
 *
 * New hashes are argon2id (Debian's libargon2), in its own encoded form,
 * which carries the parameters and the salt. Hashes made before
 * (PBKDF2-SHA256, 120000 iterations) still verify; the web login makes a
 * new hash of the password when fb_pwhash_needs_rehash says so.
 */
#include "pwhash.h"

#include <argon2.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

/* argon2id at RFC 9106's second recommended memory and passes (64 MiB,
 * t = 3), on one lane: about 0.1 to 0.3 s a login on one core. */
#define A2_T_COST 3
#define A2_M_COST (64 * 1024) /* KiB */
#define A2_LANES  1
#define A2_PREFIX "$argon2id$"
/* The encoded form of a hash made with the parameters above starts so. */
#define A2_CURRENT "$argon2id$v=19$m=65536,t=3,p=1$"

/* The older PBKDF2-SHA256 hashes: verified, never made. */
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
	unsigned char salt[SALT_BYTES];
	if (getrandom(salt, sizeof(salt), 0) != (ssize_t)sizeof(salt))
		return -1;
	if (argon2_encodedlen(A2_T_COST, A2_M_COST, A2_LANES, SALT_BYTES, HASH_BYTES, Argon2_id) >
	    len)
		return -1;
	return argon2id_hash_encoded(A2_T_COST, A2_M_COST, A2_LANES, password, strlen(password),
	                             salt, sizeof(salt), HASH_BYTES, out, len) == ARGON2_OK
	           ? 0
	           : -1;
}

int fb_pwhash_needs_rehash(const char *stored)
{
	return strncmp(stored, A2_CURRENT, strlen(A2_CURRENT)) != 0;
}

static int check_pbkdf2(const char *password, const char *stored);

int fb_pwhash_check(const char *password, const char *stored)
{
	if (strncmp(stored, A2_PREFIX, strlen(A2_PREFIX)))
		return check_pbkdf2(password, stored);
	/* argon2id_verify compares in constant time. */
	switch (argon2id_verify(stored, password, strlen(password))) {
	case ARGON2_OK:
		return 1;
	case ARGON2_VERIFY_MISMATCH:
		return 0;
	default:
		return -1;
	}
}

static int check_pbkdf2(const char *password, const char *stored)
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
