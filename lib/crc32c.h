/*
 * crc32c.h - CRC-32C (Castagnoli), the checksum of the overlay format's
 * header and map pages (cow/FORMAT.md) and of iSCSI header and data
 * digests (RFC 7143 11.1). One implementation serves both: the SSE4.2
 * crc32 instruction where the CPU has it, a byte-at-a-time table otherwise.
 */
#ifndef FB_CRC32C_H
#define FB_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/*
 * The CRC-32C of n bytes at p, continuing from crc: start with 0, and
 * fb_crc32c(fb_crc32c(0, a, na), b, nb) is the CRC of a followed by b.
 * The standard check value: fb_crc32c(0, "123456789", 9) == 0xE3069283.
 */
uint32_t fb_crc32c(uint32_t crc, const void *p, size_t n);

#endif
