/*
 * pwhash.h - salted, slow password hashes (PBKDF2-HMAC-SHA256 from
 * OpenSSL) for the web login, made by `fleetboot init` and checked by web.
 * Format: "pbkdf2-sha256$ITERATIONS$SALT_HEX$HASH_HEX".
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
/* A random password of n letters and digits (n < 64). */
int fb_password_random(char *out, size_t n);

#endif
