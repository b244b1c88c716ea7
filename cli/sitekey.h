/*
 * sitekey.h - the site key's files, made, checked and described with
 * OpenSSL's library (libcrypto): an RSA key and its X.509 certificate, PEM.
 */
#ifndef FB_CLI_SITEKEY_H
#define FB_CLI_SITEKEY_H

#include <stddef.h>

/* Make a new RSA key of bits (2048 or 4096) and a self-signed certificate
 * for subject CN=cn, valid for days, code signing; write key_path (0600)
 * and crt_path (0644). 0, or -1 with the reason in why. */
int sitekey_generate(const char *key_path, const char *crt_path, int bits, const char *cn, int days,
                     char *why, size_t whylen);

/* Check that key_in (an unencrypted PEM private key) and crt_in (a PEM
 * certificate) belong together, then copy them to key_path (0600) and
 * crt_path. 0, or -1 with the reason in why. */
int sitekey_import(const char *key_in, const char *crt_in, const char *key_path,
                   const char *crt_path, char *why, size_t whylen);

/* A certificate's subject, SHA-256 fingerprint (AA:BB:...), validity and
 * key, one "label: value" line each into out. 0, or -1 with why. */
int sitekey_describe(const char *crt_path, char *out, size_t outlen, char *why, size_t whylen);

#endif
