/*
 * secret.h - the secrets fleetboot hands out (machine secrets, session ids,
 * CSRF and API tokens): random hex strings from the kernel's generator.
 */
#ifndef FB_SECRET_H
#define FB_SECRET_H

#include <stddef.h>

/* Fill out with 2*nbytes lower-case hex chars from getrandom(2) plus NUL
 * (nbytes at most 64). 0, or -1 with errno. */
int fb_random_hex(char *out, size_t nbytes);

#endif
