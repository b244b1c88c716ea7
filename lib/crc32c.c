/*
 * crc32c.c - see crc32c.h. The reflected polynomial is 0x82F63B78. The
 * hardware path does 8 bytes per instruction and is what runs on the
 * x86-64 machines fleetboot is deployed on; the table path is the portable
 * fallback and gives the same result.
 */
#include "crc32c.h"

#include <string.h>

#define CRC32C_POLY 0x82F63B78u

/* table[b]: the CRC register after shifting byte b through it. Filled
 * before main() so the function itself needs no locking. */
static uint32_t crc_table[256];

static void __attribute__((constructor)) crc_table_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = (c & 1) ? (c >> 1) ^ CRC32C_POLY : c >> 1;
		crc_table[i] = c;
	}
}

static uint32_t crc32c_table(uint32_t c, const uint8_t *b, size_t n)
{
	while (n--)
		c = crc_table[(c ^ *b++) & 0xff] ^ (c >> 8);
	return c;
}

#if defined(__x86_64__)
/* The SSE4.2 crc32 instruction computes this same CRC, 8 bytes at a time. */
__attribute__((target("sse4.2"))) static uint32_t crc32c_hw(uint32_t c, const uint8_t *b, size_t n)
{
	uint64_t c64 = c;
	while (n >= 8) {
		uint64_t v;
		memcpy(&v, b, 8);
		c64 = __builtin_ia32_crc32di(c64, v);
		b += 8;
		n -= 8;
	}
	c = (uint32_t)c64;
	while (n--)
		c = __builtin_ia32_crc32qi(c, *b++);
	return c;
}
#endif

uint32_t fb_crc32c(uint32_t crc, const void *p, size_t n)
{
	const uint8_t *b = p;
	uint32_t c = ~crc;
#if defined(__x86_64__)
	if (__builtin_cpu_supports("sse4.2"))
		return ~crc32c_hw(c, b, n);
#endif
	return ~crc32c_table(c, b, n);
}
