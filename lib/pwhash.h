/*
 * pwhash.h - salted, slow password hashes for the web login, made by
 * `fleetboot init` and `fleetboot user passwd`, checked by web.
 * Made: argon2id in libargon2's encoded form,
 * "$argon2id$v=19$m=65536,t=3,p=1$SALT$HASH" (base64).
 * Still verified: "pbkdf2-sha256$ITERATIONS$SALT_HEX$HASH_HEX" (PBKDF2-HMAC-
 * SHA256 from OpenSSL, made before), rehashed at the next login.
 */
#ifndef FB_PWHASH_H
#define FB_PWHASH_H

#include <stddef.h>

#define FB_PWHASH_LEN 160

/* Hash password into out (FB_PWHASH_LEN). 0 or -1. */
int fb_pwhash_make(const char *password, char *out, size_t len);
/* 1 when password matches the stored hash, 0 when not, -1 when the stored
 * text is malformed. Constant-time comparison. */
int fb_pwhash_check(const char *password, const char *stored);
/* 1 when stored is not what fb_pwhash_make makes today (an older format or
 * weaker parameters): after a successful check, store a new hash. */
int fb_pwhash_needs_rehash(const char *stored);
/* A random password of n letters and digits (n < 64). */
int fb_password_random(char *out, size_t n);

#endif
