/* secret.c - see secret.h. */
#include "secret.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <stdint.h>
#include <string.h>
#include <sys/random.h>
#include <sys/types.h>

#include "hex.h"

int fb_random_hex(char *out, size_t nbytes)
{
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
	fb_hex_encode(b, nbytes, out);
	return 0;
}

int fb_secret_equal(const char *a, const char *b)
{
	if (!a || !b)
		return 0;
	size_t la = strlen(a), lb = strlen(b);
	if (la != lb || la == 0)
		return 0;
	return CRYPTO_memcmp(a, b, la) == 0;
}
