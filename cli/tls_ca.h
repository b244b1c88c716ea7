/*
 * tls_ca.h - the site TLS CA and server certificate (see tls_ca.c).
 */
#ifndef FB_CLI_TLS_CA_H
#define FB_CLI_TLS_CA_H

/* Make STATE/tls/{ca-cert,server-cert,server-key}.pem and the CA key if
 * missing. 0, or -1 after printing why. */
int fb_tls_ca_ensure(const char *state_dir);

#endif
