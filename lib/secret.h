/*
 * secret.h - the secrets fleetboot hands out (machine secrets, session ids,
 * CSRF and API tokens): random hex strings from the kernel's generator, and
 * the one way a presented secret is checked against the stored one.
 */
#ifndef FB_SECRET_H
#define FB_SECRET_H

#include <stddef.h>

/* Fill out with 2*nbytes lower-case hex chars from getrandom(2) plus NUL
 * (nbytes at most 64). 0, or -1 with errno. */
int fb_random_hex(char *out, size_t nbytes);

/*
 * Does the presented secret a match the known secret b? 1 or 0. The time
 * taken does not depend on where the strings differ, only on their length
 * (lengths are not secret: every secret fleetboot makes has a fixed length).
 *
 * An empty or NULL secret on either side never matches, not even another
 * empty one: an unset secret ("" in the database) must not let in a client
 * that sends no secret.
 */
int fb_secret_equal(const char *a, const char *b);

#endif
