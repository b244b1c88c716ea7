/* wol.c - the Wake-on-LAN magic packet (see wol.h). */
#include <string.h>

#include "proto/wol.h"

void fb_wol_build(uint8_t out[FB_WOL_LEN], const uint8_t mac[6])
{
	memset(out, 0xff, 6);
	for (int i = 0; i < 16; i++)
		memcpy(out + 6 + 6 * i, mac, 6);
}

int fb_wol_match(const uint8_t *p, size_t n, const uint8_t mac[6])
{
	uint8_t want[FB_WOL_LEN];
	if (n < FB_WOL_LEN)
		return 0;
	fb_wol_build(want, mac);
	return !memcmp(p, want, FB_WOL_LEN);
}
